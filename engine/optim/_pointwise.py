"""Fused pointwise updates rounded as PyTorch's CPU kernels round them.

The optimizers' updates (``add_(x, alpha=a)``, ``addcmul_``, ``addcdiv_``, ``lerp_``) are
single kernels in PyTorch, and on CPUs with FMA its vectorised loops fuse the last multiply
and add into one rounding: ``add_(x, alpha=a)`` is ``fma(x, a, self)``, ``addcmul_`` is
``fma(value * t1, t2, self)``, ``lerp_`` is ``fma(w, end - self, self)`` (or the mirrored form
for weights of at least 0.5); ``addcdiv_`` is ``self + (value * t1) / t2`` (no fusion through
a division).  Scalars are first rounded to the tensor's dtype, as the kernels do.  Two
roundings (numpy's ``a + x * alpha``) differ from PyTorch in about 2 % of the elements, so
these helpers compute the fused result exactly: float32 through float64 with rounding to
odd, float64 through error-free transformations.

These belong in the engine's op table (``Tensor.add_``'s alpha, ``addcmul_``, ``addcdiv_``,
``lerp_``); they live here until the integrator moves them.  With grad mode on and an operand
that requires grad they fall back to differentiable composites of public ops.
"""

from __future__ import annotations

import numpy as np

import engine

_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's splitting constant for float64


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fma32(x, y, z):
    """x * y + z rounded once to float32 (x, y, z float32 arrays)."""
    p = x.astype(np.float64) * y  # exact: 24 + 24 bits fit in 53
    s, err = _two_sum(p, z.astype(np.float64))
    # round to odd: a float64 result with a sticky last bit rounds correctly to float32
    even = (s.view(np.int64) & 1) == 0
    inexact = (err != 0) & even & np.isfinite(s)
    if inexact.any():
        s = np.where(inexact, np.nextafter(s, np.where(err > 0, np.inf, -np.inf)), s)
    return s.astype(np.float32)


def _fma64(x, y, z):
    """x * y + z in float64 with the product kept exact (Dekker) and one final rounding of the
    compensated sum: equal to a hardware fma except in rare double-rounding ties."""
    p = x * y
    cx = _SPLIT * x
    xh = cx - (cx - x)
    xl = x - xh
    cy = _SPLIT * y
    yh = cy - (cy - y)
    yl = y - yh
    e = ((xh * yh - p) + xh * yl + xl * yh) + xl * yl
    s, t = _two_sum(p, z)
    out = s + (t + e)
    return np.where(np.isfinite(out), out, p + z)


def _fma(x, y, z):
    if x.dtype == np.float32:
        return _fma32(x, y, z)
    if x.dtype == np.float64:
        return _fma64(x, y, z)
    return (x * y + z).astype(x.dtype)  # half precision: no fused kernel to mirror


def _arrays(self, *others):
    """``self``'s array and the others broadcast to it in its dtype (scalars become 0-d)."""
    a = self.detach().numpy()
    out = []
    for o in others:
        arr = o.detach().numpy() if isinstance(o, engine.Tensor) else np.asarray(o)
        out.append(np.broadcast_to(arr.astype(a.dtype, copy=False), a.shape))
    return a, out


def _number(value):
    """A 0-d tensor scalar as the Python number torch's Scalar conversion takes from it."""
    return value.item() if isinstance(value, engine.Tensor) else value


def _scalar(value, dtype):
    return np.asarray(_number(value), dtype=dtype)[()]


def _differentiable(*tensors) -> bool:
    return engine.is_grad_enabled() and any(
        isinstance(t, engine.Tensor) and t.requires_grad for t in tensors)


def _write(self, values):
    self.copy_(engine.from_numpy(np.ascontiguousarray(values)))
    return self


def _new(values):
    return engine.from_numpy(np.ascontiguousarray(values))


# ----------------------------------------------------------------- add with alpha
def _add_values(self, other, alpha):
    a, (b,) = _arrays(self, other)
    alpha = _scalar(alpha, a.dtype)
    return _fma(b, np.broadcast_to(alpha, a.shape), a)


def add(self, other, alpha=1):
    """``self.add(other, alpha=alpha)`` as torch rounds it (out of place)."""
    alpha = _number(alpha)
    if alpha == 1 or _differentiable(self, other):
        return self.add(other, alpha=alpha)
    return _new(_add_values(self, other, alpha))


def add_(self, other, alpha=1):
    """``self.add_(other, alpha=alpha)`` as torch rounds it."""
    alpha = _number(alpha)
    if alpha == 1 or _differentiable(self, other):
        return self.add_(other, alpha=alpha)
    return _write(self, _add_values(self, other, alpha))


# ----------------------------------------------------------------- addcmul / addcdiv
def _addcmul_values(self, t1, t2, value):
    a, (b, c) = _arrays(self, t1, t2)
    return _fma(_scalar(value, a.dtype) * b, c, a)


def addcmul(self, tensor1, tensor2, value=1):
    """``self + value * tensor1 * tensor2`` as torch's addcmul kernel rounds it."""
    if _differentiable(self, tensor1, tensor2):
        return self + value * tensor1 * tensor2
    return _new(_addcmul_values(self, tensor1, tensor2, value))


def addcmul_(self, tensor1, tensor2, value=1):
    if _differentiable(self, tensor1, tensor2):
        return self.add_(value * tensor1 * tensor2)
    return _write(self, _addcmul_values(self, tensor1, tensor2, value))


def addcdiv_(self, tensor1, tensor2, value=1):
    """``self + (value * tensor1) / tensor2`` (torch's addcdiv kernel)."""
    if _differentiable(self, tensor1, tensor2):
        return self.add_(value * tensor1 / tensor2)
    a, (b, c) = _arrays(self, tensor1, tensor2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _write(self, a + (_scalar(value, a.dtype) * b) / c)


# ----------------------------------------------------------------- lerp with a scalar weight
def lerp_(self, end, weight):
    """``self + weight * (end - self)`` for ``|weight| < 0.5``, else
    ``end - (end - self) * (1 - weight)``, each with its multiply-add fused (torch's lerp)."""
    if _differentiable(self, end):
        return self.add_(weight * (end - self))
    a, (b,) = _arrays(self, end)
    w = _scalar(weight, a.dtype)
    diff = b - a
    if abs(w) < 0.5:
        out = _fma(np.broadcast_to(w, a.shape), diff, a)
    else:
        out = _fma(-diff, np.broadcast_to(a.dtype.type(1) - w, a.shape), b)
    return _write(self, out)
