"""Reductions: sum, mean, norm (and linalg.vector_norm), prod, max/min (whole, per dim, and
the binary form), amax/amin, argmax/argmin, var/std, logsumexp, cumsum, all/any, and cumprod
(not exported: prod's grad is written with it, as torch's prod_backward is).  Each op's
backward node sits next to it.

torch's derivatives.yaml conventions: a whole ``max()`` splits the grad evenly among ties,
``max(dim)`` gives it to the returned index, ``amax`` splits it per reduced slice, a
norm's grad is 0 where the norm is 0; reduced dims are put back (``unsqueeze_multiple``)
before a grad is expanded to the input's shape.
"""

from __future__ import annotations

import builtins
import math
import os
import sys
import warnings

import numpy as np

from .._dtype import FROM_NUMPY
from .._return_types import return_type
from .._tensor import Tensor, make, wrap_dim
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import attach, backward_node
from ..runtime.quiet import QUIET, errors, silent
from .elementwise import abs as absolute
from .elementwise import div, exp, maximum, minimum, sgn, to, where
from .formulas import div_scalar, masked_fill, mul_scalar, pow_inplace, unsqueeze_multiple
from .operands import as_ndarray, needs_grad, reduced
from .scatter import scatter
from .shape import cat, contiguous, expand, flip, narrow, reshape, unsqueeze, view, view_as

# ================================================================= dims
NO_DIM = object()  # tells ``x.sum()`` (SumBackward0) from ``x.sum(dim=None)`` (SumBackward1)


def reduction_dims(dim, ndim: int) -> tuple[int, ...]:
    """Normalised dims to reduce; None or [] means all, as in torch."""
    if dim is None or dim is NO_DIM:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = wrap_dim(dim, ndim)
        return (dim,) if ndim else ()
    dims = tuple(wrap_dim(d, ndim) for d in dim)
    if not dims:
        return tuple(range(ndim))
    if len(set(dims)) != len(dims):
        seen = set()
        for d in dims:
            if d in seen:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
            seen.add(d)
    return dims if ndim else ()


def backward_dims(dim, dims) -> tuple[int, ...]:
    """The dims sum_backward unsqueezes: none for dim=None or [] (torch then expands the
    grad as it is), else the normalised ones."""
    if dim is None or dim is NO_DIM or (not isinstance(dim, int) and len(dim) == 0):
        return ()
    return dims


def keepdim_shape(shape, dims) -> tuple[int, ...]:
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _restore(grad, shape, dims, keepdim):
    """A reduced grad with its reduced dims put back as size 1."""
    if keepdim or not shape:
        return grad
    return reshape(grad, keepdim_shape(shape, dims))


# ================================================================= sum / mean
def _sum_backward(grad, sizes, dims, keepdim):
    """torch's sum_backward: unsqueeze the reduced dims back (``dims`` is empty for a sum
    over everything, which expands the 0-d grad directly) and broadcast to the input's
    shape."""
    if not keepdim and dims:
        grad = unsqueeze_multiple(grad, dims)
    return expand(grad, sizes)


SumBackward0 = backward_node(  # x.sum() without a dim argument
    "SumBackward0", fields=("self_sizes", "dims", "keepdim"),
    self=lambda n, g: expand(g, n.self_sizes))
SumBackward1 = backward_node(  # x.sum(dim), including dim=None and dim=[]
    "SumBackward1", fields=("self_sizes", "dims", "keepdim"),
    self=lambda n, g: _sum_backward(g, n.self_sizes, n.dims, n.keepdim))


@silent
def sum(input, dim=NO_DIM, keepdim=False, *, dtype=None):  # noqa: A001 - torch's name
    data = input._data
    if dtype is None:
        out_np = data.dtype if data.dtype.kind == "f" else np.dtype(np.int64)
    else:
        out_np = dtype.np
    dims = reduction_dims(dim, data.ndim)
    acc_np = np.float32 if out_np == np.float16 else out_np  # torch accumulates half in float
    # np.add.reduce is what np.sum calls, without its Python-level dispatch
    out = reduced(np.add.reduce(data, dims, acc_np, None, keepdim).astype(out_np, copy=False))
    if needs_grad(input):
        node = SumBackward0() if dim is NO_DIM else SumBackward1()
        node.self_sizes = data.shape
        node.dims = backward_dims(dim, dims)
        node.keepdim = keepdim
        return attach(node, out, (input,))
    return make(out)


def _mean_backward(grad, sizes, count):
    """torch's ``grad.expand(sizes) / count``; with no graph to record, one filled array."""
    if _grad_mode.enabled:
        return div_scalar(expand(grad, sizes), count)
    out = np.empty(sizes, grad._data.dtype)
    out.fill(grad._data / count)
    return make(out)


MeanBackward0 = backward_node("MeanBackward0", fields=("self_sizes", "dims", "keepdim", "count"),
                              self=lambda n, g: _mean_backward(g, n.self_sizes, n.count))
MeanBackward1 = backward_node(
    "MeanBackward1", fields=("self_sizes", "dims", "keepdim", "count"),
    self=lambda n, g: div_scalar(_sum_backward(g, n.self_sizes, n.dims, n.keepdim), n.count))


def mean(input, dim=NO_DIM, keepdim=False, *, dtype=None):
    data = input._data
    if (dim is NO_DIM and dtype is None and data.dtype.kind == "f" and data.itemsize > 2
            and errors is not None):
        # `x.mean()` of a float tensor: the general path below, minus its argument handling
        count = data.size
        token = errors.set(QUIET)
        try:
            out = as_ndarray(np.true_divide(np.add.reduce(data, _all_dims(data.ndim)), count))
        finally:
            errors.reset(token)
        if _grad_mode.enabled and input._requires_grad:
            node = MeanBackward0()
            node.self_sizes = data.shape
            node.dims = backward_dims(dim, ())  # what _mean records: () for a whole mean
            node.keepdim = False
            node.count = count
            return attach(node, out, (input,))
        return make(out)
    return _mean(input, dim, keepdim, dtype)


def _all_dims(ndim: int) -> tuple[int, ...]:
    return _ALL_DIMS[ndim] if ndim < len(_ALL_DIMS) else tuple(range(ndim))


_ALL_DIMS = [tuple(range(n)) for n in range(9)]


@silent
def _mean(input, dim, keepdim, dtype):
    data = input._data
    if dtype is None and data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {FROM_NUMPY[data.dtype].scalar_name}"
        )
    if dtype is not None:
        if not dtype.is_floating_point:
            raise RuntimeError(
                "mean(): could not infer output dtype. Optional dtype must be either a "
                f"floating point or complex dtype. Got: {dtype.scalar_name}")
        data = data.astype(dtype.np, copy=False)
    dims = reduction_dims(dim, data.ndim)
    count = data.size if len(dims) == data.ndim else math.prod(data.shape[d] for d in dims)
    # sum / count rather than np.mean, which warns on empty input; half sums in float
    acc = np.float32 if data.dtype == np.float16 else data.dtype
    total = np.add.reduce(data, dims, acc, None, keepdim)  # np.sum without its dispatch
    out = reduced(np.true_divide(total, count).astype(data.dtype, copy=False))
    if needs_grad(input):
        node = MeanBackward0() if dim is NO_DIM else MeanBackward1()
        node.self_sizes = input._data.shape
        node.dims = backward_dims(dim, dims)
        node.keepdim = keepdim
        node.count = count
        return attach(node, out, (input,))
    return make(out)


# ================================================================= norms
def _norm_backward(grad, self, p, norm, dims, keepdim):
    """torch's norm_backward, op for op. ``dims`` are the dims the call named (none for
    ``dim=None``, whose 0-d grad then broadcasts); grads are 0 where the norm is 0."""
    if not keepdim and self._data.ndim:
        grad = unsqueeze_multiple(grad, dims)
        norm = unsqueeze_multiple(norm, dims)
    if p == 0.0:
        return None
    if p == 1.0:
        return sgn(self) * grad
    if p == 2.0:
        return grad * masked_fill(self / norm, norm._data == 0, 0)
    # Below, right operands are computed first, as torch's compiled formula evaluates them.
    if np.isinf(p):
        self_abs = absolute(self)
        mask = make((self_abs._data == norm._data) | np.isnan(self_abs._data))
        scaled = (grad / sum(mask, dims, keepdim=True)) * mask
        return sgn(self) * scaled
    if p < 1.0:
        powered = masked_fill(pow_inplace(absolute(self), p - 1), self._data == 0, 0)
        self_scaled = sgn(self) * powered
        norm_powered = norm ** (1 - p)
        return self_scaled * grad * norm_powered
    if p < 2.0:
        powered = pow_inplace(absolute(self), p - 1)
        self_scaled = sgn(self) * powered
    else:
        self_scaled = self * pow_inplace(absolute(self), p - 2)
    return self_scaled * masked_fill(grad / norm ** (p - 1), norm._data == 0, 0)


LinalgVectorNormBackward0 = backward_node(
    "LinalgVectorNormBackward0", saved=("self_", "_result"), fields=("ord", "dims", "keepdim"),
    self=lambda n, g: _norm_backward(g, n.self_, n.ord, n.result, n.dims, n.keepdim))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm``: vector norms only (what ``linalg.vector_norm`` computes)."""
    if isinstance(p, str):
        if p != "fro":
            raise NotImplementedError(f"engine does not implement the {p!r} matrix norm")
        p = 2.0
    elif p is None:
        p = 2.0
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    data = input._data
    if (ord == 2 and dim is None and dtype is None and data.dtype.kind == "f"
            and data.itemsize > 2 and data.size > 1 and not keepdim and errors is not None):
        # `x.norm()`: what _vector_norm computes, minus its argument handling (x * x is
        # |x| * |x|; one element takes the general path, which returns |x| unsquared)
        token = errors.set(QUIET)
        try:
            out = np.asarray(np.sqrt(np.add.reduce(data * data, None)))
        finally:
            errors.reset(token)
    else:
        out = _vector_norm_result(input, ord, dim, keepdim, dtype)
    if _grad_mode.enabled and input._requires_grad:
        node = LinalgVectorNormBackward0()
        node.self_ = input
        node._result = out
        node.ord = float(ord)
        node.dims = backward_dims(dim, reduction_dims(dim, data.ndim))
        node.keepdim = keepdim
        return attach(node, out, (input,))
    return make(out)


@silent
def _vector_norm_result(input, ord, dim, keepdim, dtype):
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {FROM_NUMPY[data.dtype].scalar_name}"
        )
    if dtype is not None:
        data = data.astype(dtype.np)
    dims = reduction_dims(dim, data.ndim)
    if data.size == 0 and (ord < 0 or ord == math.inf):
        _check_norm_identity(data, float(ord), dim, dims)
    return reduced(_vector_norm(data, float(ord), dims, keepdim))


def _check_norm_identity(data, ord, dim, dims):
    """torch's errors for a max-like norm (inf, negative orders) over an empty reduction:
    such a reduction has no identity.  A dim is named as the caller wrote it."""
    text = "inf" if ord == math.inf else "-inf" if ord == -math.inf else f"{ord:g}"
    if dim is None:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {text} norm on an empty "
                           "tensor because the operation does not have an identity")
    written = (dim,) if isinstance(dim, int) else tuple(dim)
    for given, d in zip(written, dims, strict=False):
        if data.shape[d] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {text} norm on the dimension "
                f"{given}because this dimension is empty and the operation does not have an "
                "identity")


def _vector_norm(data, ord, dims, keepdim):
    if data.dtype == np.float16:  # torch's kernel: half in float, rounded once at the end
        return _vector_norm(data.astype(np.float32), ord, dims, keepdim).astype(np.float16)
    a = np.abs(data)
    if ord != 0.0 and data.size and math.prod(data.shape[d] for d in dims) == 1:
        return a if keepdim else a.reshape([s for i, s in enumerate(a.shape) if i not in dims])
    if ord == 2.0:  # np.add.reduce is np.sum without its Python-level dispatch
        return np.sqrt(np.add.reduce(a * a, dims, None, None, keepdim))
    if ord == 1.0:
        return np.add.reduce(a, dims, None, None, keepdim)
    if ord == np.inf:
        return np.max(a, axis=dims, keepdims=keepdim, initial=data.dtype.type(0))
    if ord == -np.inf:
        return np.min(a, axis=dims, keepdims=keepdim, initial=data.dtype.type(np.inf))
    if ord == 0.0:
        return np.sum(a != 0, axis=dims, keepdims=keepdim, dtype=data.dtype)
    return np.sum(a ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)


# ================================================================= prod / cumprod
def _prod_grad(n, g):
    """torch's ``prod_backward(grad, self.to(grad.scalar_type()), result[, dim, keepdim])``,
    op for op, so that a create_graph grad records torch's graph."""
    x = n.self_
    if x._data.dtype != g._data.dtype:
        x = to(x, FROM_NUMPY[g._data.dtype])
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
        return grad * div(result, input)
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
        return grad * div(result, input)
    return _prod_safe_zeros_backward(grad, input, dim)


def _prod_safe_zeros_backward(grad, inp, dim):
    """torch's prod_safe_zeros_backward: the product of all other elements along ``dim`` as
    the exclusive cumprod from the left times the exclusive cumprod from the right,
    e.g. [1, a, ab] * [bc, c, 1] for [a, b, c]; exact with zeros, and differentiable."""
    data = inp._data
    if data.size == 0:
        return expand(grad, data.shape)
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


ProdBackward0 = backward_node("ProdBackward0", saved=("self_", "_result"),
                              fields=("dims", "keepdim", "whole"), self=_prod_grad)
ProdBackward1 = backward_node("ProdBackward1", saved=("self_", "_result"),
                              fields=("dims", "keepdim", "whole"), self=_prod_grad)


def _float_check(name, data):
    if data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")


def _int_accumulator(data, dtype):
    if dtype is not None:
        return dtype.np
    return data.dtype if data.dtype.kind == "f" else np.dtype(np.int64)


@silent
def prod(input, dim=NO_DIM, keepdim=False, *, dtype=None):
    data = input._data
    out_np = _int_accumulator(data, dtype)
    whole = dim is NO_DIM or dim is None
    if whole:
        dims = tuple(range(data.ndim))
        out = reduced(np.prod(data, dtype=out_np))
    else:
        if not isinstance(dim, int):
            raise TypeError("prod(): argument 'dim' must be int")
        axis = wrap_dim(dim, data.ndim)  # a 0-d tensor takes dims -1 and 0 only
        dims = (axis,) if data.ndim else ()
        out = reduced(np.prod(data, axis=dims, dtype=out_np, keepdims=keepdim))
    if needs_grad(input):
        node = ProdBackward0() if whole else ProdBackward1()
        node.self_, node._result, node.dims, node.keepdim = input, out, dims, keepdim
        node.whole = whole
        return attach(node, out, (input,))
    return make(out)


def _cumprod_grad(n, g):
    x = n.self_
    if g._data.dtype != x._data.dtype:
        g = to(g, FROM_NUMPY[x._data.dtype])
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
        return div(flip(cumsum(flip(w, (dim,)), dim), (dim,)), input)
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
    ones = expand(make(np.ones((1,), dtype)), tuple(ones_size))
    for k in range(size):
        if k == 0:
            prods_from_k_plus_1 = cumprod(narrow(input, dim, 1, size - 1), dim)
            omitted_products = cat([ones, prods_from_k_plus_1], dim)
        elif k == size - 1:
            omitted_products = prod(narrow(input, dim, 0, k), dim, True)
        else:
            prods_until_k = prod(narrow(input, dim, 0, k), dim, True)
            prods_from_k_plus_1 = cumprod(narrow(input, dim, k + 1, size - k - 1), dim)
            omitted_products = (expand(prods_until_k, prods_from_k_plus_1._data.shape)
                                * prods_from_k_plus_1)
            omitted_products = cat([prods_until_k, omitted_products], dim)
        grad_slice = sum(narrow(grad, dim, k, size - k) * omitted_products, dim)
        grad_input.select(dim, k).copy_(grad_slice)
    return grad_input


CumprodBackward0 = backward_node("CumprodBackward0", saved=("self_", "_result"), fields=("dim",),
                                 self=_cumprod_grad)


@silent
def cumprod(input, dim):
    """torch.cumprod for the graph of prod's grad (CumprodBackward0); not exported."""
    data = input._data
    d = wrap_dim(dim, data.ndim)
    out = data.copy() if data.ndim == 0 else _cumprod_array(data, d)
    if needs_grad(input):
        node = CumprodBackward0()
        node.self_, node._result, node.dim = input, out, d
        return attach(node, out, (input,))
    return make(out)


# ================================================================= max / min, amax, argmax
def _evenly_distribute(n, g):
    data, value = n.self_._data, n._result
    mask = np.isnan(data) if np.isnan(value) else data == value
    count = int(mask.sum())
    return where(make(mask), g / count, 0)


# x.max(): ties share the grad evenly
MaxBackward1 = backward_node("MaxBackward1", saved=("self_", "_result"), self=_evenly_distribute)
MinBackward1 = backward_node("MinBackward1", saved=("self_", "_result"), self=_evenly_distribute)


def _select_backward(n, g):
    """max(dim)/min(dim): the grad goes to the returned index (a scatter)."""
    indices = n.indices
    if not n.keepdim and n.shape:
        g = reshape(g, keepdim_shape(n.shape, (n.dim,)))
        indices = np.expand_dims(indices, n.dim)
    return _scatter_into(g, n.shape, n.dim, indices)


def _scatter_into(g, shape, dim, indices):
    out = np.zeros(shape, g._data.dtype)
    if needs_grad(g):  # create_graph: torch's zeros(...).scatter(dim, indices, grad)
        return scatter(make(out), dim, make(np.asarray(indices, np.int64)), g)
    if not shape:
        return make(np.asarray(g._data, dtype=g._data.dtype).copy())
    np.put_along_axis(out, indices, g._data, dim)
    return make(out)


# max(dim)/min(dim): the grad goes to the returned index
MaxBackward0 = backward_node("MaxBackward0", saved=("indices",), fields=("shape", "dim", "keepdim"),
                             self=_select_backward)
MinBackward0 = backward_node("MinBackward0", saved=("indices",), fields=("shape", "dim", "keepdim"),
                             self=_select_backward)


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
    @silent
    def op(input, dim=NO_DIM, keepdim=False):
        if isinstance(dim, Tensor):
            return binary(input, dim)
        data = input._data
        if dim is NO_DIM:
            _check_nonempty_whole(name, data)
            out = np.asarray(np_reduce(data))
            if needs_grad(input):
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
        if needs_grad(input):
            node = dim_node()
            node.indices, node.shape, node.dim, node.keepdim = indices, data.shape, d, keepdim
            values = attach(node, values, (input,))
        else:
            values = make(values)
        return return_type(name, values, make(indices))

    op.__name__ = name
    return op


def _nan_first(np_arg):
    """``np_arg`` (argmax or argmin) returning the first NaN, as torch's max(dim) does."""

    def arg(data, axis, keepdims):
        nan = np.isnan(data) if data.dtype.kind == "f" else None
        if nan is not None and nan.any():
            return np.where(nan.any(axis=axis, keepdims=keepdims),
                            np.argmax(nan, axis=axis, keepdims=keepdims),
                            np_arg(data, axis=axis, keepdims=keepdims))
        return np_arg(data, axis=axis, keepdims=keepdims)

    return arg


_nan_argmax = _nan_first(np.argmax)
_nan_argmin = _nan_first(np.argmin)


max = _extreme("max", np.max, _nan_argmax, MaxBackward1, MaxBackward0, maximum)  # noqa: A001
min = _extreme("min", np.min, _nan_argmin, MinBackward1, MinBackward0, minimum)  # noqa: A001


def _amax_grad(n, g):
    data = n.self_._data
    g = _restore(g, data.shape, n.dims, n.keepdim)
    result = n._result if n.keepdim or not data.shape else n._result.reshape(
        keepdim_shape(data.shape, n.dims))
    mask = data == result
    count = mask.sum(axis=n.dims, keepdims=True)
    return div(g, make(count.astype(data.dtype))) * make(mask)


AmaxBackward0 = backward_node("AmaxBackward0", saved=("self_", "_result"),
                              fields=("dims", "keepdim"), self=_amax_grad)
AminBackward0 = backward_node("AminBackward0", saved=("self_", "_result"),
                              fields=("dims", "keepdim"), self=_amax_grad)


def _amax_op(name, np_fn, node_cls):
    @silent
    def op(input, dim=(), keepdim=False):
        data = input._data
        dims = reduction_dims(dim, data.ndim)
        if data.size == 0 and isinstance(dim, tuple | list) and not dim:
            _check_nonempty_whole(name, data)  # every dim of an empty tensor: RuntimeError
        if data.size == 0:
            given = tuple(dim) if isinstance(dim, tuple | list) else (dim,)
            for d, said in zip(dims, given if len(given) == len(dims) else dims, strict=True):
                if data.shape[d] == 0:  # torch names the dim as it was given (-1, not 0)
                    raise IndexError(
                        f"{name}(): Expected reduction dim {said} to have non-zero size.")
        out = reduced(np_fn(data, axis=dims, keepdims=keepdim))
        if needs_grad(input):
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


# ================================================================= var / std
def _var_grad(n, g):
    x = n.self_
    data = x._data
    if n.whole:
        dof = data.size - n.correction
        if dof <= 0:
            average = data.mean()
            return g * make(np.where(data == average, np.nan, np.inf).astype(data.dtype))
        centered = x - mean(x)  # the right operand first, as torch's compiled formula
        return mul_scalar(g, 2.0 / dof) * centered
    dims = n.dims
    if not n.keepdim and data.ndim > 1:
        g = unsqueeze_multiple(g, dims)
    count = 1
    for d in dims:
        count *= data.shape[d]
    dof = count - n.correction
    factor = 2.0 / dof if dof != 0 else np.inf
    centered = x - mean(x, dims, keepdim=True)  # first, as in torch
    return mul_scalar(g, factor) * centered


VarBackward0 = backward_node("VarBackward0", saved=("self_",),
                             fields=("dims", "correction", "keepdim", "whole"), self=_var_grad)


def _std_grad(n, g):
    result = n.result
    grad_var = masked_fill(div(g, mul_scalar(result, 2)), result._data == 0, 0)
    return _var_grad(n, grad_var)


StdBackward0 = backward_node("StdBackward0", saved=("self_", "_result"),
                             fields=("dims", "correction", "keepdim", "whole"), self=_std_grad)


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
            UserWarning, stacklevel=_caller_level(),
        )


_ENGINE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _caller_level() -> int:
    """The stacklevel of the first frame outside the engine, as torch attributes its
    warnings to the line that called it, through however many call forms (torch.var,
    Tensor.var, their keyword forms)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_ENGINE_DIR):
        frame, level = frame.f_back, level + 1
    return level


def _variance(name):
    node_cls = VarBackward0 if name == "var" else StdBackward0

    @silent
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
        if needs_grad(input):
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


# ================================================================= logsumexp, cumsum, all / any
def _logsumexp_grad(n, g):
    x = n.self_
    result = n.result
    if not n.keepdim and x._data.ndim:
        g = unsqueeze_multiple(g, n.dims)
        result = unsqueeze_multiple(result, n.dims)
    return g * exp(x - result)


LogsumexpBackward0 = backward_node("LogsumexpBackward0", saved=("self_", "_result"),
                                   fields=("dims", "keepdim"), self=_logsumexp_grad)


@silent
def logsumexp(input, dim, keepdim=False):
    data = input._data
    if data.dtype.kind != "f":
        data = data.astype(np.float32)
    dims = reduction_dims(dim, data.ndim)
    if data.size == 0:
        out = reduced(np.log(np.sum(np.exp(data), axis=dims, keepdims=keepdim)))
    else:
        maxes = np.max(data, axis=dims, keepdims=True)
        maxes = np.where(np.isinf(maxes), 0, maxes)
        out = np.log(np.sum(np.exp(data - maxes), axis=dims, keepdims=True)) + maxes
        if not keepdim:
            out = out.reshape([s for i, s in enumerate(data.shape) if i not in dims])
        out = reduced(out.astype(data.dtype, copy=False))
    if needs_grad(input):
        node = LogsumexpBackward0()
        node.self_, node._result, node.keepdim = input, out, keepdim
        node.dims = backward_dims(dim, dims)
        return attach(node, out, (input,))
    return make(out)


def _cumsum_grad(n, g):
    data = g._data
    if data.size <= 1 or data.shape[n.dim] == 1:
        return g
    return flip(cumsum(flip(g, (n.dim,)), n.dim), (n.dim,))


CumsumBackward0 = backward_node("CumsumBackward0", fields=("dim",), self=_cumsum_grad)


@silent
def cumsum(input, dim, *, dtype=None):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    out_np = _int_accumulator(data, dtype)
    if data.ndim == 0:
        out = data.astype(out_np)
    else:
        out = _cumsum_array(data.astype(out_np, copy=False), d)
    if needs_grad(input):
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
    return reduced(out.astype(data.dtype, copy=False))


def _cumprod_array(data, dim):
    out = np.cumprod(data, axis=dim, dtype=_accumulator(data.dtype))
    return reduced(out.astype(data.dtype, copy=False))


def _logical_reduce(np_fn):
    def op(input, dim=None, keepdim=False):
        data = input._data
        dims = reduction_dims(dim, data.ndim)
        out = reduced(np_fn(data, axis=dims, keepdims=keepdim))
        if data.dtype == np.uint8:
            out = out.astype(np.uint8)
        return make(out)

    return op


all = _logical_reduce(np.all)  # noqa: A001
any = _logical_reduce(np.any)  # noqa: A001
