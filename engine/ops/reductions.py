"""Reductions beyond sum/mean/norm (which live in ``_ops``): prod, max/min (whole, per dim,
and the binary form), amax/amin, argmax/argmin, var/std, logsumexp, cumsum, all/any, and
cumprod (not exported: prod's grad is written with it, as torch's prod_backward is).

Backward nodes first (torch's derivatives.yaml conventions: a whole ``max()`` splits the
grad evenly among ties, ``max(dim)`` gives it to the returned index, ``amax`` splits it
per reduced slice), then the forward ops.
"""

from __future__ import annotations

import builtins
import warnings

import numpy as np

from .._dtype import FROM_NUMPY
from .._return_types import return_type
from .._tensor import Tensor, make, wrap_dim
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import Node, attach
from . import operands as O
from .operands import _NO_DIM, keepdim_shape, reduction_dims
from .shape import cat, contiguous, flip, narrow, unsqueeze, view, view_as


def _restore(grad, shape, dims, keepdim):
    """A reduced grad with its reduced dims put back as size 1."""
    if keepdim or not shape:
        return grad
    return O.reshape(grad, keepdim_shape(shape, dims))


# ================================================================= backward nodes
def _prod_grad(n, g):
    """torch's ``prod_backward(grad, self.to(grad.scalar_type()), result[, dim, keepdim])``,
    op for op, so that a create_graph grad records torch's graph."""
    x = n.self_
    if x._data.dtype != g._data.dtype:
        x = O.to(x, FROM_NUMPY[g._data.dtype])
    if n.whole:
        return _prod_backward(g, x, n.result)
    return _prod_backward_dim(g, x, n.result, n.dims[0] if n.dims else 0, n.keepdim)


def _prod_backward(grad, input, result):
    """``x.prod()``: divide by the input when no element is zero; with zeros, the exclusive
    cumprods of the flattened input, except that outside grad mode (no create_graph)
    several zeros give a zero grad directly. The decision is taken on the data."""
    data = input._data
    if data.ndim == 0:
        return grad
    zeros = int(np.count_nonzero(data == 0))
    if zeros == 0:
        return grad * O.div(result, input)
    if zeros > 1 and not _grad_mode.enabled:
        return make(np.zeros_like(data))
    flat = view(contiguous(input), -1)
    return view_as(_prod_safe_zeros_backward(grad, flat, 0), input)


def _prod_backward_dim(grad, input, result, dim, keepdim):
    """``x.prod(dim, keepdim)``: grad and result get the reduced dim back, then the division
    if no element of the whole input is zero, else the exclusive cumprods along ``dim``."""
    data = input._data
    if data.ndim == 0:
        return grad
    if not keepdim:
        grad = unsqueeze(grad, dim)
        result = unsqueeze(result, dim)
    if not (data == 0).any():
        return grad * O.div(result, input)
    return _prod_safe_zeros_backward(grad, input, dim)


def _prod_safe_zeros_backward(grad, inp, dim):
    """torch's prod_safe_zeros_backward: the product of all other elements along ``dim`` as
    the exclusive cumprod from the left times the exclusive cumprod from the right,
    e.g. [1, a, ab] * [bc, c, 1] for [a, b, c]; exact with zeros, and differentiable."""
    data = inp._data
    if data.size == 0:
        return O.expand(grad, data.shape)
    size = data.shape[dim]
    if size == 1:
        return grad
    ones_size = list(data.shape)
    ones_size[dim] = 1
    ones = make(np.ones(ones_size, grad._data.dtype))
    exclusive_normal = cumprod(cat([ones, narrow(inp, dim, 0, size - 1)], dim), dim)
    narrow_reverse = flip(narrow(inp, dim, 1, size - 1), dim)
    exclusive_reverse = flip(cumprod(cat([ones, narrow_reverse], dim), dim), dim)
    return grad * (exclusive_normal * exclusive_reverse)


def _cumprod_grad(n, g):
    x = n.self_
    if g._data.dtype != x._data.dtype:
        g = O.to(g, FROM_NUMPY[x._data.dtype])
    return _cumprod_backward(g, x, n.dim, n.result)


def _cumprod_backward(grad, input, dim, output):
    """torch's cumprod_backward: without zeros the reversed cumsum of ``output * grad``
    divided by the input; with zeros an O(n) formula on the data outside grad mode, and in
    grad mode (create_graph) the O(n^2) differentiable one, slice by slice."""
    data = input._data
    if data.size <= 1:
        return grad
    size = data.shape[dim]
    if size == 1:
        return grad
    w = output * grad
    is_zero = data == 0
    if not is_zero.any():
        return O.div(flip(cumsum(flip(w, (dim,)), dim), (dim,)), input)
    if not _grad_mode.enabled:
        return make(_cumprod_backward_zeros(grad._data, data, dim, output._data, w._data))
    return _cumprod_backward_graph(grad, input, dim)


def _reversed_cumsum(a, dim):
    return np.flip(_cumsum_array(np.flip(a, dim), dim), dim)


def _cumprod_backward_zeros(grad, data, dim, output, w):
    """torch's O(n) cumprod_backward for inputs with zeros (not differentiable itself): for
    k before the first zero z1 the reversed cumsum of w over the input; at z1 the product
    up to z1 times the grads of the outputs up to the next zero, weighted by their cumprod
    after z1; 0 after z1."""
    with np.errstate(all="ignore"):
        out = np.zeros(data.shape, grad.dtype)
        count = np.cumsum(data == 0, axis=dim)
        mask = count == 0
        before = _reversed_cumsum(np.where(mask, w, 0).astype(w.dtype), dim) / data
        out[mask] = before[mask]
        mask = count == 1
        first = np.argmax(mask, axis=dim, keepdims=True)
        first_mask = np.zeros_like(mask)
        np.put_along_axis(first_mask, first, True, axis=dim)
        first_mask &= mask
        mask &= ~first_mask
        between = _cumprod_array(np.where(mask, data, 1).astype(data.dtype), dim)
        between = between * np.where(count != 1, 0, grad).astype(grad.dtype)
        between = between.sum(axis=dim, keepdims=True)
        previous = np.take_along_axis(output, np.maximum(first - 1, 0), axis=dim)
        previous = np.where(first == 0, 1, previous).astype(output.dtype)
        value = np.broadcast_to(between * previous, data.shape)
        out[first_mask] = value[first_mask]
    return out


def _cumprod_backward_graph(grad, input, dim):
    """The O(n^2) cumprod_backward torch uses in grad mode: for each k, the products that
    omit input k (prod of the inputs before k times the cumprod after it), summed against
    the grads from k on and copied into row k of a zero tensor (CopySlices)."""
    data = input._data
    size = data.shape[dim]
    dtype = grad._data.dtype
    grad_input = make(np.zeros(data.shape, dtype))
    ones_size = list(data.shape)
    ones_size[dim] = 1
    ones = O.expand(make(np.ones((1,), dtype)), tuple(ones_size))
    for k in range(size):
        if k == 0:
            prods_from_k_plus_1 = cumprod(narrow(input, dim, 1, size - 1), dim)
            omitted_products = cat([ones, prods_from_k_plus_1], dim)
        elif k == size - 1:
            omitted_products = prod(narrow(input, dim, 0, k), dim, True)
        else:
            prods_until_k = prod(narrow(input, dim, 0, k), dim, True)
            prods_from_k_plus_1 = cumprod(narrow(input, dim, k + 1, size - k - 1), dim)
            omitted_products = (O.expand(prods_until_k, prods_from_k_plus_1._data.shape)
                                * prods_from_k_plus_1)
            omitted_products = cat([prods_until_k, omitted_products], dim)
        grad_slice = O.sum(narrow(grad, dim, k, size - k) * omitted_products, dim)
        grad_input.select(dim, k).copy_(grad_slice)
    return grad_input


class CumprodBackward0(Node):
    __slots__ = ("self_", "_result", "dim")
    saved = ("self_", "_result")
    formulas = (_cumprod_grad,)


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
        out = O.reduced(np.prod(data, dtype=out_np))
    else:
        if not isinstance(dim, int):
            raise TypeError("prod(): argument 'dim' must be int")
        dims = (wrap_dim(dim, data.ndim),) if data.ndim else ()
        out = O.reduced(np.prod(data, axis=dims, dtype=out_np, keepdims=keepdim))
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
    from .elementwise import maximum

    return maximum(input, other)


def _minimum(input, other):
    from .elementwise import minimum

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
        out = O.reduced(np_fn(data, axis=dims, keepdims=keepdim))
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
        out = O.reduced(np.log(np.sum(np.exp(data), axis=dims, keepdims=keepdim)))
    else:
        maxes = np.max(data, axis=dims, keepdims=True)
        maxes = np.where(np.isinf(maxes), 0, maxes)
        out = np.log(np.sum(np.exp(data - maxes), axis=dims, keepdims=True)) + maxes
        if not keepdim:
            out = out.reshape([s for i, s in enumerate(data.shape) if i not in dims])
        out = O.reduced(out.astype(data.dtype, copy=False))
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
        out = _cumsum_array(data.astype(out_np, copy=False), d)
    if O._needs_grad(input):
        node = CumsumBackward0()
        node.dim = d
        return attach(node, out, (input,))
    return make(out)



def _accumulator(dtype):
    """The type torch's CPU cumulative kernels accumulate in (acc_type: double for float,
    float for half)."""
    if dtype == np.float32:
        return np.float64
    if dtype == np.float16:
        return np.float32
    return dtype


def _cumsum_array(data, dim):
    out = np.cumsum(data, axis=dim, dtype=_accumulator(data.dtype))
    return O.reduced(out.astype(data.dtype, copy=False))


def _cumprod_array(data, dim):
    out = np.cumprod(data, axis=dim, dtype=_accumulator(data.dtype))
    return O.reduced(out.astype(data.dtype, copy=False))


@O.silent
def cumprod(input, dim):
    """torch.cumprod for the graph of prod's grad (CumprodBackward0); not exported."""
    data = input._data
    d = wrap_dim(dim, data.ndim)
    out = data.copy() if data.ndim == 0 else _cumprod_array(data, d)
    if O._needs_grad(input):
        node = CumprodBackward0()
        node.self_, node._result, node.dim = input, out, d
        return attach(node, out, (input,))
    return make(out)


def _logical_reduce(np_fn):
    def op(input, dim=None, keepdim=False):
        data = input._data
        dims = reduction_dims(dim, data.ndim)
        out = O.reduced(np_fn(data, axis=dims, keepdims=keepdim))
        if data.dtype == np.uint8:
            out = out.astype(np.uint8)
        return make(out)

    return op


all = _logical_reduce(np.all)  # noqa: A001
any = _logical_reduce(np.any)  # noqa: A001
