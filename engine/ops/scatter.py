"""Masked and scattered writes: masked_fill, masked_select, masked_scatter, scatter (src and
value), scatter_add, index_add, index_copy, index_fill, take, take_along_dim, put.

Duplicate indices resolve as torch's CPU loops do: a plain write keeps the last one (numpy's
fancy assignment writes in index order too), an accumulating one adds them all (``np.add.at``).
The grads are derivatives.yaml's, written with these ops so create_graph records torch's
nodes (``grad.scatter(dim, index, 0)`` is ScatterBackward1, ``grad.gather`` GatherBackward0).
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, make, wrap_dim
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.inplace import inplace_method
from ..autograd.node import attach, backward_node
from ..runtime.quiet import silent
from .indexing import _gather_index, _IndexNode, gather, index_select, remember_indices
from .operands import broadcast_error, needs_grad
from .shape import cat, expand, reshape

_SCALAR_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                 "bool": "Bool"}


def _scalar_name(data) -> str:
    return _SCALAR_NAMES.get(data.dtype.name, data.dtype.name)


# ================================================================= masked_fill
MaskedFillBackward0 = backward_node(  # x.masked_fill(mask, number)
    "MaskedFillBackward0", fields=("mask",),
    self=lambda n, g: masked_fill(g, make(n.mask), 0))
MaskedFillBackward1 = backward_node(  # x.masked_fill(mask, 0-d tensor)
    "MaskedFillBackward1", fields=("mask",),
    self=lambda n, g: masked_fill(g, make(n.mask), 0),
    value=lambda n, g: masked_select(g, make(n.mask)).sum())


_CPP_TYPES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "int8_t",
              "uint8": "uint8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t"}


@silent
def masked_fill(input, mask, value):
    data, m = input._data, mask._data
    if m.dtype != np.bool_:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_LEGACY.get(m.dtype.name, m.dtype.name)}")
    tensor_value = isinstance(value, Tensor)
    if tensor_value:
        if value._data.ndim:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        fill = value._data.astype(data.dtype)
    else:
        if isinstance(value, complex):  # c10's checked_convert refuses an imaginary part
            if value.imag and data.dtype != np.bool_:
                raise RuntimeError(f"value cannot be converted to type "
                                   f"{_CPP_TYPES.get(data.dtype.name, data.dtype.name)} "
                                   "without overflow")
            value = bool(value) if data.dtype == np.bool_ else value.real
        fill = np.asarray(value).astype(data.dtype)
    try:
        shape = np.broadcast_shapes(data.shape, m.shape)
    except ValueError:
        raise broadcast_error(input, mask) from None
    out = np.where(m, fill, data)
    if out.shape != shape:
        out = np.broadcast_to(out, shape).copy()
    grad_value = tensor_value and value._requires_grad
    if needs_grad(input) or (grad_value and _grad_mode.enabled):
        node = MaskedFillBackward1() if tensor_value else MaskedFillBackward0()
        node.mask = np.broadcast_to(m, shape)
        inputs = (input, value) if tensor_value else (input,)
        return attach(node, out, inputs)
    return make(out)


_LEGACY = {"int64": "long int", "int32": "int", "uint8": "unsigned char", "float32": "float",
           "float64": "double", "int16": "short int", "int8": "signed char"}


def _inplace_mask(name):
    """``Tensor.<name>_`` (masked_scatter_): the mask expands to self (torch's expand error
    when it has more dims), then the out-of-place op is committed."""
    committed = inplace_method(name)

    def method(self, mask, *args):
        m, shape = mask._data, self._data.shape
        if m.ndim > len(shape):
            raise RuntimeError(
                f"expand(CPUBoolType{{{list(m.shape)}}}, size={list(shape)}): the number of "
                f"sizes provided ({len(shape)}) must be greater or equal to the number of "
                f"dimensions in the tensor ({m.ndim})")
        return committed(self, mask, *args)

    method.__name__ = name + "_"
    return method


masked_fill_ = inplace_method("masked_fill")  # TensorIterator's broadcast error, no expand
masked_scatter_ = _inplace_mask("masked_scatter")


# ================================================================= masked_select / scatter
def _masked_select_grad(n, g):
    zeros = make(np.zeros(n.shape, g._data.dtype))
    return masked_scatter(zeros, make(n.mask), g)


MaskedSelectBackward0 = backward_node(
    "MaskedSelectBackward0", fields=("shape", "mask"), self=_masked_select_grad)


def masked_select(input, mask):
    data, m = input._data, mask._data
    if m.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = np.broadcast_shapes(data.shape, m.shape)
    full_mask = np.broadcast_to(m, shape)
    out = np.broadcast_to(data, shape)[full_mask]
    if needs_grad(input):
        node = MaskedSelectBackward0()
        node.shape, node.mask = shape, full_mask
        return attach(node, out, (input,))
    return make(out)


def _masked_scatter_source_grad(n, g):
    """masked_scatter_backward: the grad's masked elements, padded with zeros to the
    source's size."""
    picked = masked_select(g, make(n.mask))
    diff = n.source_numel - picked._data.size
    if diff:
        picked = cat([picked, make(np.zeros(diff, picked._data.dtype))])
    return reshape(picked, n.source_sizes)


MaskedScatterBackward0 = backward_node(
    "MaskedScatterBackward0", fields=("mask", "source_numel", "source_sizes"),
    self=lambda n, g: masked_fill(g, make(n.mask), 0),
    source=_masked_scatter_source_grad)


@silent
def masked_scatter(input, mask, source):
    data, m, src = input._data, mask._data, source._data
    if m.dtype != np.bool_:
        raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {_LEGACY.get(m.dtype.name, m.dtype.name)}")
    if src.dtype != data.dtype:
        raise RuntimeError("masked_scatter: expected self and source to have same dtypes but "
                           f"got{_scalar_name(data)} and {_scalar_name(src)}")
    shape = np.broadcast_shapes(data.shape, m.shape)
    full_mask = np.broadcast_to(m, shape)
    count = int(full_mask.sum())
    if count > src.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    out = np.array(np.broadcast_to(data, shape), order="C")
    out[full_mask] = src.reshape(-1)[:count]
    if needs_grad(input, source):
        node = MaskedScatterBackward0()
        node.mask, node.source_numel, node.source_sizes = full_mask, src.size, src.shape
        return attach(node, out, (input, source))
    return make(out)


# ================================================================= scatter, scatter_add
def _check_scatter(name, data, d, idx, src):
    if idx.dtype.kind not in "iu" or idx.dtype == np.uint8:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if src is not None and src.dtype != data.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    if idx.ndim != data.ndim and not (idx.ndim <= 1 and data.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if src is not None and idx.ndim != src.ndim and not (idx.ndim <= 1 and src.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    size = data.shape[d] if data.ndim else 1
    if idx.size:
        bad = (idx >= size) | (idx < -size)
        if bad.any():
            value = int(idx[bad].flat[0])
            raise RuntimeError(
                f"index {value} is out of bounds for dimension {d} with size {size}")


def _scatter_grad_self(n, g):
    return scatter(g, n.dim, make(n.index), 0)


def _src_grad(n, g):
    """grad.gather(dim, index): index-shaped, which torch's engine then refuses when the
    source was bigger than the index (not expandable to its shape)."""
    out = gather(g, n.dim, make(n.index)) if n.index.ndim else g
    src = n.src_sizes
    if src is not None and out._data.shape != src:
        try:
            ok = np.broadcast_shapes(src, out._data.shape) == out._data.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(
                f"Function {n.name()} returned an invalid gradient at index 1 - got "
                f"{list(out._data.shape)} but expected shape compatible with {list(src)}")
    return out


ScatterBackward0 = backward_node(  # x.scatter(dim, index, src)
    "ScatterBackward0", base=_IndexNode, fields=("dim", "index", "src_sizes"),
    self=_scatter_grad_self, src=_src_grad)
ScatterBackward1 = backward_node(  # x.scatter(dim, index, value)
    "ScatterBackward1", base=_IndexNode, fields=("dim", "index"), self=_scatter_grad_self)


def _where(idx, d, ndim):
    if not ndim:
        return ()
    return _gather_index(idx.astype(np.int64, copy=False), d)


@silent
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """torch.scatter: ``src`` a tensor (ScatterBackward0) or a number (ScatterBackward1)."""
    if src is None:
        src = value
    data, idx = input._data, index._data
    d = wrap_dim(dim, data.ndim)
    tensor_src = isinstance(src, Tensor)
    _check_scatter("scatter", data, d, idx, src._data if tensor_src else None)
    idx = idx.astype(np.int64, copy=False)
    out = data.copy()
    where = _where(idx, d, data.ndim)
    if tensor_src:
        values = src._data[tuple(slice(0, s) for s in idx.shape)] if idx.ndim else src._data
    else:
        values = np.asarray(src).astype(data.dtype)
    if reduce is None:
        out[where] = values
    elif reduce == "add":
        np.add.at(out, where, values)
    else:
        np.multiply.at(out, where, values)
    if tensor_src and needs_grad(input, src):
        node = ScatterBackward0()
        remember_indices(node, index)
        node.dim, node.index, node.src_sizes = d, idx, src._data.shape
        return attach(node, out, (input, src))
    if not tensor_src and needs_grad(input):
        node = ScatterBackward1()
        remember_indices(node, index)
        node.dim, node.index = d, idx
        return attach(node, out, (input,))
    return make(out)


_ScatterAddBackward0 = backward_node(  # x.scatter_add(dim, index, src)
    "ScatterAddBackward0", base=_IndexNode, fields=("dim", "index", "src_sizes"),
    self=lambda n, g: g, src=_src_grad)


@silent
def scatter_add(input, dim, index, src):
    data, idx = input._data, index._data
    d = wrap_dim(dim, data.ndim)
    _check_scatter("scatter", data, d, idx, src._data)
    idx = idx.astype(np.int64, copy=False)
    out = data.copy()
    values = src._data[tuple(slice(0, s) for s in idx.shape)] if idx.ndim else src._data
    np.add.at(out, _where(idx, d, data.ndim), values)
    if needs_grad(input, src):
        node = _ScatterAddBackward0()
        remember_indices(node, index)
        node.dim, node.index, node.src_sizes = d, idx, src._data.shape
        return attach(node, out, (input, src))
    return make(out)


# ================================================================= index_add / copy / fill
def _check_index(name, data, d, idx):
    if idx.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if idx.dtype.kind not in "iu" or idx.dtype == np.uint8:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    size = data.shape[d] if data.ndim else 1
    if idx.size:
        bad = (idx >= size) | (idx < -size)
        if bad.any():
            raise IndexError(f"index {int(idx[bad].flat[0])} is out of bounds for dimension "
                             f"{d} with size {size}")
    return idx.reshape(-1).astype(np.int64, copy=False)


def _at(d, idx, ndim):
    return (slice(None),) * d + (idx,) if ndim else (idx,)


def _index_fill_grad(n, g):
    return index_fill(g, n.dim, make(n.index), 0)


IndexFillBackward0 = backward_node("IndexFillBackward0", base=_IndexNode,
                                   fields=("dim", "index"), self=_index_fill_grad)
IndexFillBackward1 = backward_node(
    "IndexFillBackward1", base=_IndexNode, fields=("dim", "index"), self=_index_fill_grad,
    # torch's grad reads ``_unique(index)``: a repeated index counts once
    value=lambda n, g: index_select(g, n.dim, make(np.unique(n.index))).sum())


@silent
def index_fill(input, dim, index, value):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    idx = _check_index("index_fill", data, d, index._data)
    tensor_value = isinstance(value, Tensor)
    fill = (value._data if tensor_value else np.asarray(value)).astype(data.dtype)
    out = data.copy()
    if data.ndim:
        out[_at(d, idx, 1)] = fill
    elif idx.size:
        out[()] = fill
    if needs_grad(input) or (tensor_value and needs_grad(value)):
        node = IndexFillBackward1() if tensor_value else IndexFillBackward0()
        remember_indices(node, index)
        node.dim, node.index = d, idx
        return attach(node, out, (input, value) if tensor_value else (input,))
    return make(out)


def _index_copy_source_grad(n, g):
    picked = index_select(g, n.dim, make(n.index))
    return reshape(picked, n.source_sizes) if not n.source_sizes else picked


IndexCopyBackward0 = backward_node(
    "IndexCopyBackward0", base=_IndexNode, fields=("dim", "index", "source_sizes"),
    self=_index_fill_grad, source=_index_copy_source_grad)


@silent
def index_copy(input, dim, index, source):
    data, src = input._data, source._data
    d = wrap_dim(dim, data.ndim)
    idx = _check_index("index_copy", data, d, index._data)
    if src.dtype != data.dtype:
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {_scalar_name(data)} and (source) "
                           f"{_scalar_name(src)}")
    out = data.copy()
    if data.ndim:
        out[_at(d, idx, 1)] = src if src.ndim else src.reshape((1,) * data.ndim)
    else:
        out[()] = src
    if needs_grad(input, source):
        node = IndexCopyBackward0()
        remember_indices(node, index)
        node.dim, node.index, node.source_sizes = d, idx, src.shape
        return attach(node, out, (input, source))
    return make(out)


IndexAddBackward0 = backward_node(
    "IndexAddBackward0", base=_IndexNode, fields=("dim", "index", "source_sizes", "alpha"),
    self=lambda n, g: g,
    source=lambda n, g: _index_add_source(g, n))


def _index_add_source(g, n):
    picked = index_select(g, n.dim, make(n.index))
    if not n.source_sizes:
        picked = reshape(picked, ())
    else:
        picked = expand(picked, n.source_sizes)
    return picked if n.alpha == 1 else picked * n.alpha


@silent
def index_add(input, dim, index, source, *, alpha=1):
    data, src = input._data, source._data
    d = wrap_dim(dim, data.ndim)
    idx = _check_index("index_add", data, d, index._data)
    if src.dtype != data.dtype:
        raise RuntimeError(f"index_add_(): self ({_scalar_name(data)}) and source "
                           f"({_scalar_name(src)}) must have the same scalar type")
    if src.ndim and data.ndim and (src.ndim != data.ndim or any(
            a != b for k, (a, b) in enumerate(zip(src.shape, data.shape, strict=True))
            if k != d)):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(data.shape)} "
                           f"source.shape = {list(src.shape)}")
    out = data.copy()
    values = src if alpha == 1 else src * np.asarray(alpha).astype(data.dtype)
    if data.ndim:
        np.add.at(out, _at(d, idx, 1), values if src.ndim else values.reshape((1,) * data.ndim))
    else:
        out += values
    if needs_grad(input, source):
        node = IndexAddBackward0()
        remember_indices(node, index)
        node.dim, node.index, node.source_sizes, node.alpha = d, idx, src.shape, alpha
        return attach(node, out, (input, source))
    return make(out)


# ================================================================= take, put, take_along_dim
def _check_take(data, idx, name="take"):
    if idx.dtype != np.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got "
                           f"{_scalar_name(idx)}")
    n = data.size
    if idx.size:
        bad = (idx >= n) | (idx < -n)
        if bad.any():
            raise IndexError(f"out of range: tried to access index {int(idx[bad].flat[0])} on "
                             f"a tensor of {n} elements.")


def _take_grad(n, g):
    zeros = make(np.zeros(n.self_sizes, g._data.dtype))
    return put(zeros, make(n.index), g, accumulate=True)


TakeBackward0 = backward_node("TakeBackward0", fields=("self_sizes", "index"), self=_take_grad)


def take(input, index):
    data, idx = input._data, index._data
    _check_take(data, idx)
    out = data.reshape(-1)[idx] if idx.size else np.zeros(idx.shape, data.dtype)
    out = np.array(out, order="C")
    if needs_grad(input):
        node = TakeBackward0()
        node.self_sizes, node.index = data.shape, idx
        return attach(node, out, (input,))
    return make(out)


PutBackward0 = backward_node(
    "PutBackward0", fields=("index", "source_sizes", "accumulate"),
    self=lambda n, g: g if n.accumulate else put(
        g, make(n.index), make(np.zeros(n.source_sizes, g._data.dtype))),
    source=lambda n, g: reshape(take(g, make(n.index)), n.source_sizes))


@silent
def put(input, index, source, accumulate=False):
    data, idx, src = input._data, index._data, source._data
    _check_take(data, idx, "put_")
    if src.dtype != data.dtype:
        raise RuntimeError("put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {_scalar_name(data)} and source.dtype = "
                           f"{_scalar_name(src)}")
    if idx.size != src.size:
        raise RuntimeError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {src.size}, index.numel() = "
                           f"{idx.size}")
    out = data.copy()
    flat = out.reshape(-1)
    if accumulate:
        np.add.at(flat, idx.reshape(-1), src.reshape(-1))
    else:
        flat[idx.reshape(-1)] = src.reshape(-1)
    if needs_grad(input, source):
        node = PutBackward0()
        node.index, node.source_sizes, node.accumulate = idx, src.shape, accumulate
        return attach(node, out, (input, source))
    return make(out)


def take_along_dim(input, indices, dim=None):
    """torch's composite: broadcast both but along ``dim``, then gather."""
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    data, idx = input._data, indices._data
    d = wrap_dim(dim, data.ndim)
    shape_in, shape_idx = list(data.shape), list(idx.shape)
    shape_in[d] = shape_idx[d] = 1
    common = list(np.broadcast_shapes(tuple(shape_in), tuple(shape_idx)))
    want_in, want_idx = list(common), list(common)
    want_in[d], want_idx[d] = data.shape[d], idx.shape[d]
    if tuple(want_in) != data.shape:
        input = expand(input, want_in)
    if tuple(want_idx) != idx.shape:
        indices = expand(indices, want_idx)
    return gather(input, d, indices)
