"""Big elementwise ops split over threads, as PyTorch's ``parallel_for`` splits them.

numpy releases the GIL inside a ufunc's inner loop, so slices of one result computed on several
threads run at once.  An elementwise result does not depend on how it was split, so the values
are exactly those of one call.  Only results of at least ``GRAIN`` elements per thread are
split (handing work to a thread costs tens of microseconds), along their first axis; the
thread count is ``engine.set_num_threads``'s (one per core by default, as torch's).
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import blas as _blas

GRAIN = 1 << 16  # elements per thread, at least (torch's grain is 32768)
MIN_SIZE = 2 * GRAIN

_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def unary(ufunc, data: np.ndarray):
    """``ufunc(data)``; split when ``data`` is big.  The engine splits only unary ufuncs:
    transcendental ones (exp, tanh ...) are compute-bound and gain, while a big add or mul
    is bound by memory bandwidth and measured slower split than whole."""
    if data.size < MIN_SIZE:
        return ufunc(data)
    return elementwise(ufunc, data)


def elementwise(ufunc, *operands):
    """``ufunc(*operands)`` (arrays and Python scalars), split over threads when big enough."""
    shape = np.broadcast_shapes(*(np.shape(op) for op in operands))
    size = int(np.prod(shape)) if shape else 1
    parts = min(_blas.get_num_threads(), size // GRAIN, shape[0] if shape else 1)
    if parts < 2:
        return ufunc(*operands)
    probe = ufunc(*(_first(op) for op in operands))  # the result's dtype
    first = operands[0]
    if len(operands) == 1 and isinstance(first, np.ndarray) and not first.flags.c_contiguous:
        out = np.empty_like(first, probe.dtype)  # the input's layout, as numpy's own call
    else:
        out = np.empty(shape, probe.dtype)
    bounds = [shape[0] * i // parts for i in range(parts + 1)]
    pool = _executor(parts - 1)
    # numpy's error state lives in a context variable: each task runs in a copy of ours (one
    # copy each: a context cannot be entered by two threads at once)
    pending = [
        pool.submit(contextvars.copy_context().run, _slice_call, ufunc, operands, out, lo, hi,
                    len(shape))
        for lo, hi in zip(bounds[1:-1], bounds[2:], strict=True)
    ]
    _slice_call(ufunc, operands, out, bounds[0], bounds[1], len(shape))
    for done in pending:
        done.result()  # re-raises a worker's exception
    return out


def _slice_call(ufunc, operands, out, lo, hi, ndim):
    ufunc(*(_rows(op, lo, hi, ndim) for op in operands), out=out[lo:hi])


def _rows(op, lo, hi, ndim):
    """Rows lo:hi of an operand, or the operand itself where it broadcasts along axis 0."""
    if isinstance(op, np.ndarray) and op.ndim == ndim and op.shape[0] != 1:
        return op[lo:hi]
    return op


def _first(op):
    """A one-element view of an operand (for the result's dtype)."""
    if isinstance(op, np.ndarray) and op.ndim:
        return op[(slice(0, 1),) * op.ndim]
    return op


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size < workers:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine")
        _pool_size = workers
    return _pool
