"""Reductions beyond sum/mean/norm (which live in ``_ops``): prod, max/min (whole, per dim,
and the binary form), amax/amin, argmax/argmin, var/std, logsumexp, cumsum, all/any.

Backward nodes first (torch's derivatives.yaml conventions: a whole ``max()`` splits the
grad evenly among ties, ``max(dim)`` gives it to the returned index, ``amax`` splits it
per reduced slice), then the forward ops.
"""

from __future__ import annotations

import builtins
import warnings

import numpy as np

from . import _ops as O
from ._node import Node, attach
from ._ops import _NO_DIM, keepdim_shape, reduction_dims
from ._return_types import return_type
from ._tensor import Tensor, make, wrap_dim


def _restore(grad, shape, dims, keepdim):
    """A reduced grad with its reduced dims put back as size 1."""
    if keepdim or not shape:
        return grad
    return O.reshape(grad, keepdim_shape(shape, dims))


# ================================================================= backward nodes
def _prod_grad(n, g):
    x = n.self_
    data = x._data
    if data.ndim == 0:
        return g
    dims = n.dims
    result = n.result
    if not n.whole and not n.keepdim:  # torch unsqueezes; a whole prod's 0-d grad broadcasts
        g = O.D.unsqueeze_multiple(g, dims)
        result = O.D.unsqueeze_multiple(result, dims)
    if not (data == 0).any():
        return g * O.div(result, x)
    if n.whole:
        return g * make(_prod_others(data.reshape(-1), 0).reshape(data.shape))
    return g * make(_prod_others(data, dims[0]))


def _prod_others(data, axis):
    """The product of all other elements along ``axis`` (torch's prod_safe_zeros_backward)."""
    n = data.shape[axis]
    if n == 0:
        return np.ones_like(data)
    ones_shape = list(data.shape)
    ones_shape[axis] = 1
    ones = np.ones(ones_shape, data.dtype)
    left = np.cumprod(np.concatenate([ones, np.take(data, range(n - 1), axis)], axis), axis)
    rev = np.flip(np.take(data, range(1, n), axis), axis)
    right = np.flip(np.cumprod(np.concatenate([ones, rev], axis), axis), axis)
    return left * right


class ProdBackward0(Node):
    __slots__ = ("self_", "_result", "dims", "keepdim", "whole")
    saved = ("self_", "_result")
    formulas = (_prod_grad,)


class ProdBackward1(Node):
    __slots__ = ("self_", "_result", "dims", "keepdim", "whole")
    saved = ("self_", "_result")
    formulas = (_prod_grad,)


def _evenly_distribute(n, g):
    data, value = n.self_._data, n._result
    mask = np.isnan(data) if np.isnan(value) else data == value
    count = int(mask.sum())
    return O.where(make(mask), g / count, 0)


class MaxBackward1(Node):
    """``x.max()``: ties share the grad evenly."""

    __slots__ = ("self_", "_result")
    saved = ("self_", "_result")
    formulas = (_evenly_distribute,)


class MinBackward1(MaxBackward1):
    __slots__ = ()


def _select_backward(n, g):
    """max(dim)/min(dim): the grad goes to the returned index (a scatter)."""
    indices = n.indices
    if not n.keepdim and n.shape:
        g = O.reshape(g, keepdim_shape(n.shape, (n.dim,)))
        indices = np.expand_dims(indices, n.dim)
    return _scatter_into(g, n.shape, n.dim, indices)


def _scatter_into(g, shape, dim, indices):
    out = np.zeros(shape, g._data.dtype)
    if not shape:
        return make(np.asarray(g._data, dtype=g._data.dtype).copy())
    np.put_along_axis(out, indices, g._data, dim)
    return make(out)


class MaxBackward0(Node):
    __slots__ = ("indices", "shape", "dim", "keepdim")
    saved = ("indices",)
    formulas = (_select_backward,)


class MinBackward0(MaxBackward0):
    __slots__ = ()


def _amax_grad(n, g):
    data = n.self_._data
    g = _restore(g, data.shape, n.dims, n.keepdim)
    result = n._result if n.keepdim or not data.shape else n._result.reshape(
        keepdim_shape(data.shape, n.dims))
    mask = data == result
    count = mask.sum(axis=n.dims, keepdims=True)
    return O.div(g, make(count.astype(data.dtype))) * make(mask)


class AmaxBackward0(Node):
    __slots__ = ("self_", "_result", "dims", "keepdim")
    saved = ("self_", "_result")
    formulas = (_amax_grad,)


class AminBackward0(AmaxBackward0):
    __slots__ = ()


def _var_grad(n, g):
    x = n.self_
    data = x._data
    if n.whole:
        dof = data.size - n.correction
        if dof <= 0:
            mean = data.mean()
            return g * make(np.where(data == mean, np.nan, np.inf).astype(data.dtype))
        centered = x - O.mean(x)  # the right operand first, as torch's compiled formula
        return O.D.mul_scalar(g, 2.0 / dof) * centered
    dims = n.dims
    if not n.keepdim and data.ndim > 1:
        g = O.D.unsqueeze_multiple(g, dims)
    count = 1
    for d in dims:
        count *= data.shape[d]
    dof = count - n.correction
    factor = 2.0 / dof if dof != 0 else np.inf
    centered = x - O.mean(x, dims, keepdim=True)  # first, as in torch
    return O.D.mul_scalar(g, factor) * centered


class VarBackward0(Node):
    __slots__ = ("self_", "dims", "correction", "keepdim", "whole")
    saved = ("self_",)
    formulas = (_var_grad,)


def _std_grad(n, g):
    result = n.result
    grad_var = O.D.masked_fill(O.div(g, O.D.mul_scalar(result, 2)), result._data == 0, 0)
    return _var_grad(n, grad_var)


class StdBackward0(Node):
    __slots__ = ("self_", "_result", "dims", "correction", "keepdim", "whole")
    saved = ("self_", "_result")
    formulas = (_std_grad,)


def _logsumexp_grad(n, g):
    x = n.self_
    result = n.result
    if not n.keepdim and x._data.ndim:
        g = O.D.unsqueeze_multiple(g, n.dims)
        result = O.D.unsqueeze_multiple(result, n.dims)
    return g * O.exp(x - result)


class LogsumexpBackward0(Node):
    __slots__ = ("self_", "_result", "dims", "keepdim")
    saved = ("self_", "_result")
    formulas = (_logsumexp_grad,)


def _cumsum_grad(n, g):
    data = g._data
    if data.size <= 1 or data.shape[n.dim] == 1:
        return g
    from ._ops_shape import flip

    return flip(cumsum(flip(g, (n.dim,)), n.dim), (n.dim,))


class CumsumBackward0(Node):
    __slots__ = ("dim",)
    formulas = (_cumsum_grad,)


# ================================================================= forward
def _float_check(name, data):
    if data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")


def _int_accumulator(data, dtype):
    if dtype is not None:
        return dtype.np
    return data.dtype if data.dtype.kind == "f" else np.dtype(np.int64)


@O.silent
def prod(input, dim=_NO_DIM, keepdim=False, *, dtype=None):
    data = input._data
    out_np = _int_accumulator(data, dtype)
    whole = dim is _NO_DIM or dim is None
    if whole:
        dims = tuple(range(data.ndim))
        out = np.asarray(np.prod(data, dtype=out_np))
    else:
        if not isinstance(dim, int):
            raise TypeError("prod(): argument 'dim' must be int")
        dims = (wrap_dim(dim, data.ndim),) if data.ndim else ()
        out = np.asarray(np.prod(data, axis=dims, dtype=out_np, keepdims=keepdim))
    if O._needs_grad(input):
        node = ProdBackward0() if whole else ProdBackward1()
        node.self_, node._result, node.dims, node.keepdim = input, out, dims, keepdim
        node.whole = whole
        return attach(node, out, (input,))
    return make(out)


def _check_nonempty_whole(name, data):
    if data.size == 0:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )


def _check_nonempty_dim(name, data, dim):
    if data.ndim and data.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def _extreme(name, np_reduce, np_arg, whole_node, dim_node, binary):
    @O.silent
    def op(input, dim=_NO_DIM, keepdim=False):
        if isinstance(dim, Tensor):
            return binary(input, dim)
        data = input._data
        if dim is _NO_DIM:
            _check_nonempty_whole(name, data)
            out = np.asarray(np_reduce(data))
            if O._needs_grad(input):
                node = whole_node()
                node.self_, node._result = input, out
                return attach(node, out, (input,))
            return make(out)
        d = wrap_dim(dim, data.ndim)
        _check_nonempty_dim(name, data, d)
        if data.ndim:
            indices = np_arg(data, axis=d, keepdims=keepdim)
            values = np.take_along_axis(
                data, indices if keepdim else np.expand_dims(indices, d), d)
            if not keepdim:
                values = values.squeeze(d)
        else:
            indices = np.zeros((), np.int64)
            values = data.copy()
        indices = np.asarray(indices, np.int64)
        if O._needs_grad(input):
            node = dim_node()
            node.indices, node.shape, node.dim, node.keepdim = indices, data.shape, d, keepdim
            values = attach(node, values, (input,))
        else:
            values = make(values)
        return return_type(name, values, make(indices))

    op.__name__ = name
    return op


def _nan_argmax(data, axis, keepdims):
    """argmax that returns the first NaN, as torch's max(dim) does."""
    nan = np.isnan(data) if data.dtype.kind == "f" else None
    if nan is not None and nan.any():
        return np.where(nan.any(axis=axis, keepdims=keepdims), np.argmax(nan, axis=axis,
                        keepdims=keepdims), np.argmax(data, axis=axis, keepdims=keepdims))
    return np.argmax(data, axis=axis, keepdims=keepdims)


def _nan_argmin(data, axis, keepdims):
    nan = np.isnan(data) if data.dtype.kind == "f" else None
    if nan is not None and nan.any():
        return np.where(nan.any(axis=axis, keepdims=keepdims), np.argmax(nan, axis=axis,
                        keepdims=keepdims), np.argmin(data, axis=axis, keepdims=keepdims))
    return np.argmin(data, axis=axis, keepdims=keepdims)


def _maximum(input, other):
    from ._ops_math import maximum

    return maximum(input, other)


def _minimum(input, other):
    from ._ops_math import minimum

    return minimum(input, other)


max = _extreme("max", np.max, _nan_argmax, MaxBackward1, MaxBackward0, _maximum)  # noqa: A001
min = _extreme("min", np.min, _nan_argmin, MinBackward1, MinBackward0, _minimum)  # noqa: A001


def _amax_op(name, np_fn, node_cls):
    @O.silent
    def op(input, dim=(), keepdim=False):
        data = input._data
        dims = reduction_dims(dim, data.ndim)
        if data.size == 0:
            for d in dims:
                if data.shape[d] == 0:
                    raise IndexError(
                        f"{name}(): Expected reduction dim {d} to have non-zero size.")
        out = np.asarray(np_fn(data, axis=dims, keepdims=keepdim))
        if O._needs_grad(input):
            node = node_cls()
            node.self_, node._result, node.dims, node.keepdim = input, out, dims, keepdim
            return attach(node, out, (input,))
        return make(out)

    op.__name__ = name
    return op


amax = _amax_op("amax", np.max, AmaxBackward0)
amin = _amax_op("amin", np.min, AminBackward0)


def _arg_op(name, np_arg):
    def op(input, dim=None, keepdim=False):
        data = input._data
        if dim is None:
            _check_nonempty_whole(name, data)
            index = np_arg(data.reshape(-1), 0, False)
            out = np.asarray(index, np.int64)
            if keepdim:
                out = out.reshape((1,) * data.ndim)
            return make(out)
        d = wrap_dim(dim, data.ndim)
        _check_nonempty_dim(name, data, d)
        if not data.ndim:
            return make(np.zeros((), np.int64))
        return make(np.asarray(np_arg(data, d, keepdim), np.int64))

    op.__name__ = name
    return op


argmax = _arg_op("argmax", _nan_argmax)
argmin = _arg_op("argmin", _nan_argmin)


def _var_args(name, dim, unbiased, keepdim, correction):
    """var/std accept (dim, unbiased, keepdim) and (dim, *, correction, keepdim)."""
    if isinstance(dim, bool):  # x.var(False): the unbiased flag
        unbiased, dim = dim, None
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction, keepdim


def _dof_warning(name, data, dims, correction):
    count = 1
    for d in dims:
        count *= data.shape[d]
    if count - correction <= 0:
        warnings.warn(
            f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than "
            "the reduction factor (input numel divided by output numel).",
            UserWarning, stacklevel=4,
        )


def _variance(name):
    node_cls = VarBackward0 if name == "var" else StdBackward0

    @O.silent
    def op(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
        data = input._data
        _float_check(name, data)
        dim, correction, keepdim = _var_args(name, dim, unbiased, keepdim, correction)
        whole = dim is None
        dims = reduction_dims(dim, data.ndim)
        _dof_warning(name, data, dims, correction)
        count = 1
        for d in dims:
            count *= data.shape[d]
        divisor = builtins.max(count - correction, 0)
        if whole:  # torch: two passes, the mean in the input's dtype, squares in double
            mean = np.mean(data, dtype=np.float32 if data.dtype == np.float16 else None)
            dev = data.astype(np.float64) - np.float64(mean)
            out = np.true_divide(np.sum(dev * dev), divisor)
            if keepdim:
                out = np.reshape(out, (1,) * data.ndim)
        else:
            out = np.true_divide(_welford_m2(data, dims, keepdim), divisor)
        if name == "std":
            out = np.sqrt(out)
        out = np.asarray(out).astype(data.dtype, copy=False)
        if O._needs_grad(input):
            node = node_cls()
            node.self_, node.dims, node.correction, node.keepdim = input, dims, correction, keepdim
            node.whole = whole
            if name == "std":
                node._result = out
            return attach(node, out, (input,))
        return make(out)

    op.__name__ = name
    return op


def _welford_m2(data, dims, keepdim):
    """Sum of squared deviations over ``dims`` by Welford's update in double, element by
    element in memory order, as torch's per-dim var/std kernel does."""
    rest = [i for i in range(data.ndim) if i not in dims]
    moved = np.transpose(data, rest + list(dims)).astype(np.float64)
    out_shape = moved.shape[:len(rest)]
    flat = moved.reshape(out_shape + (-1,))
    mean = np.zeros(out_shape)
    m2 = np.zeros(out_shape)
    for k in range(flat.shape[-1]):
        x = flat[..., k]
        delta = x - mean
        mean = mean + delta / (k + 1)
        m2 = m2 + delta * (x - mean)
    if keepdim:
        m2 = m2.reshape(keepdim_shape(data.shape, dims))
    return m2


var = _variance("var")
std = _variance("std")


@O.silent
def logsumexp(input, dim, keepdim=False):
    data = input._data
    if data.dtype.kind != "f":
        data = data.astype(np.float32)
    dims = reduction_dims(dim, data.ndim)
    if data.size == 0:
        out = np.asarray(np.log(np.sum(np.exp(data), axis=dims, keepdims=keepdim)))
    else:
        maxes = np.max(data, axis=dims, keepdims=True)
        maxes = np.where(np.isinf(maxes), 0, maxes)
        out = np.log(np.sum(np.exp(data - maxes), axis=dims, keepdims=True)) + maxes
        if not keepdim:
            out = out.reshape([s for i, s in enumerate(data.shape) if i not in dims])
        out = np.asarray(out, data.dtype)
    if O._needs_grad(input):
        node = LogsumexpBackward0()
        node.self_, node._result, node.keepdim = input, out, keepdim
        node.dims = O._backward_dims(dim, dims)
        return attach(node, out, (input,))
    return make(out)


@O.silent
def cumsum(input, dim, *, dtype=None):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    out_np = _int_accumulator(data, dtype)
    if data.ndim == 0:
        out = data.astype(out_np)
    else:
        acc = np.float32 if out_np == np.float16 else out_np
        out = np.cumsum(data, axis=d, dtype=acc).astype(out_np, copy=False)
    if O._needs_grad(input):
        node = CumsumBackward0()
        node.dim = d
        return attach(node, out, (input,))
    return make(out)


def _logical_reduce(np_fn):
    def op(input, dim=None, keepdim=False):
        data = input._data
        dims = reduction_dims(dim, data.ndim)
        out = np.asarray(np_fn(data, axis=dims, keepdims=keepdim))
        if data.dtype == np.uint8:
            out = out.astype(np.uint8)
        return make(out)

    return op


all = _logical_reduce(np.all)  # noqa: A001
any = _logical_reduce(np.any)  # noqa: A001
