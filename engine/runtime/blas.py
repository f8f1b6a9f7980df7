"""Run numpy's OpenBLAS on as many threads as PyTorch uses (``ENGINE_BLAS_THREADS`` overrides).

PyTorch runs its intra-op work on one thread per core; numpy's bundled OpenBLAS picks its own
count.  Matching torch keeps the comparison fair on big products (the MLP benchmark), and
OpenBLAS keeps small products single-threaded by itself.  Best effort: a numpy without a
bundled OpenBLAS is left alone.
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

_threads = 1


def set_num_threads(n: int) -> None:
    """``torch.set_num_threads``: the threads numpy's BLAS and ``parallel``'s split unary
    ops may use."""
    global _threads
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    limit_threads(n)
    _threads = n


def get_num_threads() -> int:
    """``torch.get_num_threads``."""
    return _threads


def limit_threads(n: int) -> bool:
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in glob.glob(os.path.join(libs, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:  # pragma: no cover
            continue
        for symbol in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                       "openblas_set_num_threads64_", "openblas_set_num_threads"):
            setter = getattr(lib, symbol, None)
            if setter is not None:
                setter(ctypes.c_int(n))
                return True
    return False


def default_threads() -> int:
    """One per core this process may run on, as torch's default intra-op thread count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


set_num_threads(int(os.environ.get("ENGINE_BLAS_THREADS", default_threads())))
