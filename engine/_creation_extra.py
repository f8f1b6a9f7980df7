"""More factories: linspace, eye, randint, the random and empty ``*_like`` forms,
as_tensor and from_numpy (which shares memory with the array, as torch's does)."""

from __future__ import annotations

import operator

import numpy as np

from ._dtype import FROM_NUMPY, get_default_dtype, int64
from ._tensor import Tensor, make
from .ops.creation import _finish, _size, default_generator, empty, rand, randn, tensor


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None):
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    steps = operator.index(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or get_default_dtype()
    if dtype.is_floating_point:
        t = dtype.np.type
        s, e = t(start), t(end)
        if steps == 1:
            values = np.full(1, s, dtype.np)
        else:
            step = (e - s) / t(steps - 1)
            i = np.arange(steps)
            half = steps // 2
            values = np.where(i < half, s + step * i.astype(dtype.np),
                              e - step * (steps - i - 1).astype(dtype.np)).astype(dtype.np)
    else:
        values = np.linspace(float(start), float(end), steps).astype(dtype.np)
    return _finish(values, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None):
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    return _finish(np.eye(n, n if m is None else m, dtype=(dtype or get_default_dtype()).np),
                   requires_grad)


def randint(*args, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    if size is None:
        *bounds, size = args
    else:
        bounds = list(args)
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
    if not isinstance(size, (tuple, list)):
        raise TypeError(
            f"randint(): argument 'size' (position {len(bounds) + 1}) must be tuple of ints, "
            f"not {type(size).__name__}"
        )
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    shape = _size("randint", (tuple(size),), None)
    dtype = dtype or int64
    rng = (generator or default_generator).numpy
    return _finish(rng.integers(low, high, shape).astype(dtype.np), requires_grad)


def _like_dtype(input, dtype):
    return FROM_NUMPY[input._data.dtype] if dtype is None else dtype


def rand_like(input, *, dtype=None, device=None, requires_grad=False, **kwargs):
    return rand(input._data.shape, dtype=_like_dtype(input, dtype), requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, **kwargs):
    return randn(input._data.shape, dtype=_like_dtype(input, dtype), requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False,
                 **kwargs):
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, dtype=_like_dtype(input, dtype),
                   requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, **kwargs):
    return empty(input._data.shape, dtype=_like_dtype(input, dtype), requires_grad=requires_grad)


def from_numpy(array):
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if array.dtype not in FROM_NUMPY:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{array.dtype}. The only supported types "
            "are: float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
            "uint64, uint32, uint16, uint8, and bool."
        )
    return make(array)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        if dtype is None or data._data.dtype == dtype.np:
            return data
        from .ops.operands import to

        return to(data, dtype)
    if isinstance(data, np.ndarray) and data.dtype in FROM_NUMPY:
        if dtype is None or data.dtype == dtype.np:
            return make(data)
        return make(data.astype(dtype.np))
    return tensor(data, dtype=dtype)


__all__ = ["as_tensor", "empty_like", "eye", "from_numpy", "linspace", "rand_like",
           "randint", "randint_like", "randn_like"]
