"""Numerical calculus and the extra reductions: finite differences (``diff``,
``gradient``), the trapezoid rule (``trapezoid``/``trapz``, ``cumulative_trapezoid``),
``renorm``, the NaN-ignoring sums (``nansum``, ``nanmean``) and the two-output
``std_mean``/``var_mean``.

diff, gradient, the trapezoid rules and nanmean are torch's composites, written with the same
engine ops so their graphs are torch's.  ``std_mean``/``var_mean`` are one node in torch
(StdMeanBackward0 with two outputs); the engine gives each output its own node of that name
(the std's or var's formula, the mean's), which sums to the same grads.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._dtype import float32
from .._tensor import Tensor, make, wrap_dim
from ..autograd.node import attach, backward_node
from ..runtime.quiet import silent
from . import reductions as R
from . import shape as S
from .elementwise import where
from .formulas import div_scalar, mul_scalar
from .operands import needs_grad, reduced


# ================================================================= diff
def diff(input, n=1, dim=-1, prepend=None, append=None):
    data = input._data
    if data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, data.ndim)
    parts = []
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is None:
            continue
        if not isinstance(extra, Tensor):
            extra = make(np.asarray(extra, data.dtype))
        if extra._data.ndim == 0:
            shape = list(data.shape)
            shape[d] = 1
            extra = S.expand(extra, tuple(shape))
        if extra._data.ndim != data.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as "
                               "input")
        for k in range(data.ndim):
            if k != d and extra._data.shape[k] != data.shape[k]:
                raise RuntimeError(
                    "diff expects the shape of tensor to prepend or append to match that of "
                    f"input except along the differencing dimension; input.size({k}) = "
                    f"{data.shape[k]}, but got tensor.size({k}) = {extra._data.shape[k]}")
        parts.append((name, extra))
    if n == 0:  # torch copies the input alone, prepend and append ignored (CopyBackwards)
        return make(np.empty_like(input._data)).copy_(input)
    if parts:
        before = [t for name, t in parts if name == "prepend"]
        after = [t for name, t in parts if name == "append"]
        input = S.cat(before + [input] + after, d)
    for _ in range(n):
        length = input._data.shape[d]
        if length == 0:
            break
        ahead = S.narrow(input, d, 1, length - 1)
        behind = S.narrow(input, d, 0, length - 1)
        if input._data.dtype == np.bool_:
            input = make(np.logical_xor(ahead._data, behind._data))
        else:
            input = ahead - behind
    return input


# ================================================================= gradient
def _spacings(spacing, dims, input):
    if isinstance(spacing, (int, float)):
        return [spacing] * len(dims)
    spacing = list(spacing)
    if len(spacing) == 1 and len(dims) > 1:
        spacing = spacing * len(dims)
    if len(spacing) != len(dims):
        raise RuntimeError(
            f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
            f"equal to 'self.dim() = {input._data.ndim}', since dim argument was not given, "
            f"but got a list of length {len(spacing)}")
    return spacing


def _gradient_uniform(t, h, d, edge_order):
    """Unit spacing ``h``: central differences inside, one-sided ones at the edges."""
    length = t._data.shape[d]

    def piece(start, stop):
        return S.narrow(t, d, start, stop - start)

    center = div_scalar(piece(2, length) - piece(0, length - 2), h)
    if edge_order == 1:
        first = div_scalar(piece(1, 2) - piece(0, 1), h)
        last = div_scalar(piece(length - 1, length) - piece(length - 2, length - 1), h)
    else:
        first = div_scalar(mul_scalar(piece(0, 1), -1.5) + mul_scalar(piece(1, 2), 2)
                           - mul_scalar(piece(2, 3), 0.5), h)
        last = div_scalar(mul_scalar(piece(length - 3, length - 2), 0.5)
                          - mul_scalar(piece(length - 2, length - 1), 2)
                          + mul_scalar(piece(length - 1, length), 1.5), h)
    return S.cat([first, div_scalar(center, 2), last], d)


def _gradient_coordinates(t, x, d, edge_order):
    """Coordinates ``x`` along ``d``: the second-order non-uniform formula inside, first- or
    second-order one-sided ones at the edges."""
    if x._data.ndim != 1:
        raise RuntimeError("torch.gradient expected each element of spacing to have one "
                           f"dimension, but got an element with {x._data.ndim} dimensions!")
    length = t._data.shape[d]
    shape = [1] * t._data.ndim
    shape[d] = -1
    shape = tuple(shape)

    def piece(start, stop):
        return S.narrow(t, d, start, stop - start)

    h = diff(x)
    h1 = S.narrow(h, 0, 0, h._data.shape[0] - 1)
    h2 = S.narrow(h, 0, 1, h._data.shape[0] - 1)
    a = S.reshape(-h2 / (h1 * (h1 + h2)), shape)
    b = S.reshape((h2 - h1) / (h1 * h2), shape)
    c = S.reshape(h1 / (h2 * (h1 + h2)), shape)
    center = a * piece(0, length - 2) + b * piece(1, length - 1) + c * piece(2, length)
    first_h, second_h = S.select(h, 0, 0), S.select(h, 0, 1)
    last_h, before_h = S.select(h, 0, -1), S.select(h, 0, -2)
    if edge_order == 1:
        first = (piece(1, 2) - piece(0, 1)) / first_h
        last = (piece(length - 1, length) - piece(length - 2, length - 1)) / last_h
    else:
        a = -(mul_scalar(first_h, 2.0) + second_h) / (first_h * (first_h + second_h))
        b = (first_h + second_h) / (first_h * second_h)
        c = -first_h / (second_h * (first_h + second_h))
        first = a * piece(0, 1) + b * piece(1, 2) + c * piece(2, 3)
        a = last_h / (before_h * (last_h + before_h))
        b = -(last_h + before_h) / (last_h * before_h)
        c = (mul_scalar(last_h, 2) + before_h) / (last_h * (last_h + before_h))
        first_last = (a * piece(length - 3, length - 2) + b * piece(length - 2, length - 1))
        last = first_last + c * piece(length - 1, length)
    return S.cat([first, center, last], d)


def _float(t):
    """Integer samples are computed in the default float dtype, as torch's composites end."""
    return t if t._data.dtype.kind == "f" else t.to(float32)


def gradient(input, *, spacing=None, dim=None, edge_order=1):
    input = _float(input)
    data = input._data
    if dim is None:
        dims = list(range(data.ndim))
    elif isinstance(dim, int):
        dims = [wrap_dim(dim, data.ndim)]
    else:
        dims = [wrap_dim(d, data.ndim) for d in dim]
        for d in dims:
            if dims.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    if spacing is None:
        spacing = 1
    if isinstance(spacing, (list, tuple)) and dim is not None and len(spacing) != len(dims):
        raise RuntimeError(
            "torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
            "dim arguments to have the same length, but got a spacing argument of length "
            f"{len(spacing)} and a dim argument of length {len(dims)}.")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if data.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    if isinstance(spacing, Tensor):
        spacing = [spacing]
    spacings = _spacings(spacing, dims, input)
    out = []
    for d, h in zip(dims, spacings, strict=True):
        if isinstance(h, Tensor):
            out.append(_gradient_coordinates(input, h, d, edge_order))
        else:
            out.append(_gradient_uniform(input, h, d, edge_order))
    return tuple(out)


# ================================================================= trapezoid rules
def _x_along(x, y, d):
    """``x`` viewed to broadcast against ``y`` along ``d`` (a 1-D x), and its differences."""
    if x._data.ndim == 1:
        shape = [1] * y._data.ndim
        shape[d] = x._data.shape[0]
        x = S.view(x, tuple(shape))
        xd = d
    else:
        xd = d if x._data.ndim == y._data.ndim else d - (y._data.ndim - x._data.ndim)
    length = x._data.shape[xd]
    return S.narrow(x, xd, 1, length - 1) - S.narrow(x, xd, 0, length - 1)


def _pairs_sum(y, d):
    length = y._data.shape[d]
    return S.narrow(y, d, 1, length - 1) + S.narrow(y, d, 0, length - 1)


def _scale(t, c, op):
    """``t * c`` or ``t / c``: the Scalar ops (MulBackward1 ...) on floats; on integers
    the promoting tensor ops, as torch computes integer samples."""
    if t._data.dtype.kind == "f":
        return mul_scalar(t, c) if op == "mul" else div_scalar(t, c)
    return t * c if op == "mul" else t / c


def trapezoid(y, x=None, *, dx=None, dim=-1):
    data = y._data
    d = wrap_dim(dim, builtins.max(data.ndim, 1))
    if x is not None and not isinstance(x, Tensor):  # trapezoid(y, dx) positionally
        x, dx = None, x
    if x is not None:
        if x._data.ndim != 1 and x._data.ndim != data.ndim:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        if data.shape[d] == 0:
            return R.sum(y * 0, d)
        return _scale(R.sum(_x_along(x, y, d) * _pairs_sum(y, d), d), 2.0, "div")
    spacing = 1 if dx is None else dx
    if data.shape[d] == 0:
        dtype = data.dtype if data.dtype.kind == "f" else np.float32
        return make(np.zeros(data.shape[:d] + data.shape[d + 1:], dtype))
    ends = S.select(y, d, 0) + S.select(y, d, -1)
    return _scale(R.sum(y, d) - _scale(ends, 0.5, "mul"), spacing, "mul")


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    data = y._data
    d = wrap_dim(dim, builtins.max(data.ndim, 1))
    if x is not None and not isinstance(x, Tensor):
        x, dx = None, x
    if x is not None:
        return _scale(R.cumsum(_x_along(x, y, d) * _pairs_sum(y, d), d), 2.0, "div")
    spacing = 1 if dx is None else dx
    return R.cumsum(_scale(_pairs_sum(y, d), spacing / 2.0, "mul"), d)


# ================================================================= renorm
def _renorm_grad(n, g):
    """torch's renorm_backward: the norm and the summed grad in the accumulation type
    (float for half), the result cast back by the engine."""
    self, p, dims, maxnorm = n.self_, n.p, n.dims, n.maxnorm
    acc = float32 if self._data.dtype == np.float16 else None
    norm = R.vector_norm(self, p, dims, True, dtype=acc)
    grad_output = R.sum(self * g, dims, True, dtype=acc)
    nb = R._norm_backward(grad_output, self, p, norm, dims, True)
    invnorm = (norm + 1e-7).reciprocal()
    factor = mul_scalar(invnorm, maxnorm)
    grad_norm = factor * g - (factor / (norm + 1e-7)) * nb
    return where(make(norm._data > maxnorm), grad_norm, g)


RenormBackward0 = backward_node("RenormBackward0", saved=("self_",),
                                fields=("p", "dims", "maxnorm"), self=_renorm_grad)


@silent
def renorm(input, p, dim, maxnorm):
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError(f"renorm: expected a floating point or complex input, got "
                           f"{input.dtype.scalar_name}")
    if p < 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if data.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {data.ndim} "
                           "dimensions")
    d = wrap_dim(dim, data.ndim)
    dims = tuple(i for i in range(data.ndim) if i != d)
    acc = np.float32 if data.dtype == np.float16 else data.dtype
    norm = R._vector_norm(data.astype(acc), p, dims, True)
    factor = np.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0).astype(acc)
    out = (data * factor).astype(data.dtype)
    if needs_grad(input):
        node = RenormBackward0()
        node.self_, node.p, node.dims, node.maxnorm = input, p, dims, maxnorm
        return attach(node, out, (input,))
    return make(out)


# ================================================================= nansum, nanmean
def _nansum_grad(n, g):
    x = n.self_
    if n.dims is not None and not n.keepdim and x._data.ndim:
        g = R.unsqueeze_multiple(g, n.dims)
    return S.expand(g, x._data.shape) * make(~np.isnan(x._data))


NansumBackward0 = backward_node("NansumBackward0", saved=("self_",), fields=("dims", "keepdim"),
                                self=_nansum_grad)


@silent
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    data = input._data
    dims = None if dim is None or (isinstance(dim, (list, tuple)) and not dim) else \
        R.reduction_dims(dim, data.ndim)
    axis = None if dims is None else dims
    if data.dtype.kind in "biu" and dtype is None:
        out = np.sum(data, axis=axis, keepdims=keepdim, dtype=np.int64)
    else:
        target = dtype.np if dtype is not None else data.dtype
        acc = np.float32 if target == np.float16 else target
        out = np.nansum(data.astype(acc), axis=axis, keepdims=keepdim).astype(target)
    if keepdim and dims is None:
        out = np.reshape(out, (1,) * data.ndim)
    out = reduced(np.asarray(out))
    if needs_grad(input) and data.dtype.kind == "f":
        node = NansumBackward0()
        node.self_, node.dims, node.keepdim = input, dims, keepdim
        return attach(node, out, (input,))
    return make(out)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype.scalar_name}")
    count = make(~np.isnan(data)).sum(dim, keepdim) if dim is not None else \
        make(np.asarray(np.count_nonzero(~np.isnan(data)), np.int64).reshape(
            (1,) * data.ndim if keepdim else ()))
    return nansum(input, dim, keepdim, dtype=dtype) / count


# ================================================================= std_mean, var_mean
_renamed: dict = {}


def _renamed_node(cls, name):
    found = _renamed.get((cls, name))
    if found is None:
        found = _renamed[(cls, name)] = type(name, (cls,), {"__slots__": ()})
    return found


def _retag(result, input, name):
    """``result``'s node re-made as a node named ``name`` with the same fields and formula."""
    node = result._grad_fn
    if node is None or not needs_grad(input):
        return result
    twin = _renamed_node(type(node), name)()
    for slot in type(node).__slots__:
        if hasattr(node, slot):
            setattr(twin, slot, getattr(node, slot))
    return attach(twin, result._data, (input,))


def _with_mean(variance, name):
    def op(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
        if isinstance(dim, bool):
            unbiased, dim = dim, None
        if dim is None and input._data.ndim:  # torch's std_mean runs the per-dim kernel
            spread = variance(input, tuple(range(input._data.ndim)), unbiased, keepdim,
                              correction=correction)
        else:
            spread = variance(input, dim, unbiased, keepdim, correction=correction)
        center = R.mean(input, dim if dim is not None else None, keepdim) if dim is not None \
            else (R.mean(input, None, keepdim) if keepdim else R.mean(input))
        node_name = "StdMeanBackward0" if name == "std_mean" else "VarMeanBackward0"
        return _retag(spread, input, node_name), _retag(center, input, node_name)

    op.__name__ = name
    return op


std_mean = _with_mean(R.std, "std_mean")
var_mean = _with_mean(R.var, "var_mean")
