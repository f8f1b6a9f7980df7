"""Reducing scatters: scatter_reduce and index_reduce (sum, prod, mean, amax, amin, with or
without self's values), and the function form of index_put.

Forward values with numpy's unbuffered ``ufunc.at``; the grads are FunctionsManual's
scatter_reduce_backward / index_reduce_backward written with engine ops (gather or
index_select to read a position's grad, scatter_add or index_add to count, the reduction
itself again for prod's exclusive products), so create_graph records a graph.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._tensor import make, wrap_dim
from ..autograd.inplace import inplace_method
from ..autograd.node import attach, backward_node
from ..runtime.quiet import silent
from . import elementwise as E
from .indexing import _gather_index, _IndexNode, gather, getitem, index_select, remember_indices
from .operands import needs_grad
from .reductions import _caller_level
from .scatter import _check_index, _check_scatter, index_add, index_fill, masked_fill, scatter
from .scatter import scatter_add as _scatter_add

_UFUNCS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
           "amin": np.minimum}


def _identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


def _reduce_into(data, where, values, reduce, include_self):
    """``data`` with ``values`` reduced into the positions ``where`` (a copy)."""
    out = data.copy()
    if not include_self:
        out[where] = _identity(reduce, data.dtype)
    _UFUNCS[reduce].at(out, where, values)
    if reduce == "mean":
        count = np.zeros(data.shape, np.int64)
        np.add.at(count, where, 1)
        if include_self:
            count += 1
        count = np.maximum(count, 1)
        if data.dtype.kind in "iu":
            out = np.floor_divide(out, count).astype(data.dtype)
        else:
            out = (out / count).astype(data.dtype)
    return out


# ================================================================= shared backward
def _eq(t, value):
    """A constant boolean mask (comparisons carry no grad)."""
    return make(np.asarray(np.equal(t._data, value._data if hasattr(value, "_data") else value)))


def _and(a, b):
    return make(np.asarray(np.logical_and(a._data, b._data)))  # 0-d: numpy gives a scalar



def _reduce_backward(n, g, self_, src, result, pick, spread, zero_positions, again):
    """scatter_reduce_backward / index_reduce_backward: ``pick`` reads self-shaped values at
    the source's positions (gather / index_select), ``spread`` adds source-shaped values
    into a self-shaped tensor (scatter_add / index_add), ``again`` reduces once more."""
    reduce = n.reduce
    if reduce == "sum":
        grad_self, grad_src = g, pick(g)
    elif reduce == "prod":
        masked_self = masked_fill(self_, _eq(self_, 0), 1)
        grad_self = E.div(E.mul(g, again(masked_self, src)), masked_self)
        src_zero = _eq(src, 0)
        zeros = make(np.zeros(self_._data.shape, self_._data.dtype))
        src_num_zeros = pick(spread(zeros, E.to(src_zero, self_.dtype)))
        single_zero = _and(src_zero, _eq(src_num_zeros, 1))
        masked_src = masked_fill(src, single_zero, 1)
        grad_src = E.where(single_zero, pick(E.mul(g, again(self_, masked_src))),
                           E.div(pick(E.mul(g, result)), masked_fill(src, src_zero, 1)))
    elif reduce == "mean":
        ones = np.ones if n.include_self else np.zeros
        count = spread(make(ones(g._data.shape, g._data.dtype)),
                       make(np.ones(src._data.shape, g._data.dtype)))
        count = masked_fill(count, _eq(count, 0), 1)
        grad_self = E.div(g, count)
        grad_src = E.div(pick(g), pick(count))
    else:
        value = pick(result)
        self_is = E.to(_eq(self_, result), self_.dtype)
        src_is = E.to(_eq(src, value), self_.dtype)
        distributed = E.div(g, spread(self_is, src_is))
        grad_self = E.mul(self_is, distributed)
        grad_src = E.mul(src_is, pick(distributed))
    if not n.include_self:
        grad_self = zero_positions(grad_self)
    return grad_self, grad_src


# ================================================================= scatter_reduce
def _scatter_pieces(n):
    index = make(n.index)

    def pick(t):
        return gather(t, n.dim, index)

    def spread(t, src):
        return _scatter_add(t, n.dim, index, src)

    def again(s, src):
        return scatter_reduce(s, n.dim, index, src, n.reduce, include_self=n.include_self)

    def zero_positions(t):
        return scatter(t, n.dim, index, 0)

    return pick, spread, zero_positions, again


def _scatter_reduce_grad(n, g, which):
    pick, spread, zero_positions, again = _scatter_pieces(n)
    return _reduce_backward(n, g, n.self_, n.src, n.result, pick, spread, zero_positions,
                            again)[which]


ScatterReduceBackward0 = backward_node(
    "ScatterReduceBackward0", base=_IndexNode, saved=("self_", "src", "_result"),
    fields=("dim", "index", "reduce", "include_self"),
    self=lambda n, g: _scatter_reduce_grad(n, g, 0),
    src=lambda n, g: _scatter_reduce_grad(n, g, 1))


def _check_reduce(name, reduce, choices):
    if reduce not in choices:
        raise RuntimeError(f"{name}(): reduce argument must be either "
                           f"{', '.join(choices[:-1])} or {choices[-1]}, got {reduce}")


@silent
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    data, idx, source = input._data, index._data, src._data
    _check_reduce("scatter_reduce", reduce, ("sum", "prod", "mean", "amax", "amin"))
    d = wrap_dim(dim, data.ndim)
    _check_scatter("scatter_reduce", data, d, idx, source)
    idx = idx.astype(np.int64, copy=False)
    if idx.size:
        where = _gather_index(idx, d) if data.ndim else ()
        values = source[tuple(slice(0, s) for s in idx.shape)] if idx.ndim else source
        out = _reduce_into(data, where, values, reduce, include_self)
    else:
        out = data.copy()
    if needs_grad(input, src):
        node = ScatterReduceBackward0()
        node.self_, node.src, node._result = input, src, out
        node.dim, node.index, node.reduce, node.include_self = d, idx, reduce, include_self
        remember_indices(node, index)
        return attach(node, out, (input, src))
    return make(out)


scatter_reduce_ = inplace_method("scatter_reduce")


# ================================================================= index_reduce
def _index_pieces(n):
    index = make(n.index)

    def pick(t):
        return index_select(t, n.dim, index)

    def spread(t, src):
        return index_add(t, n.dim, index, src)

    def again(s, src):
        return _index_reduce(s, n.dim, index, src, n.reduce, n.include_self)

    def zero_positions(t):
        return index_fill(t, n.dim, index, 0)

    return pick, spread, zero_positions, again


def _index_reduce_grad(n, g, which):
    pick, spread, zero_positions, again = _index_pieces(n)
    return _reduce_backward(n, g, n.self_, n.source, n.result, pick, spread, zero_positions,
                            again)[which]


IndexReduceBackward0 = backward_node(
    "IndexReduceBackward0", base=_IndexNode, saved=("self_", "source", "_result"),
    fields=("dim", "index", "reduce", "include_self"),
    self=lambda n, g: _index_reduce_grad(n, g, 0),
    source=lambda n, g: _index_reduce_grad(n, g, 1))

_warned = []


@silent
def _index_reduce(input, dim, index, source, reduce, include_self):
    data, src = input._data, source._data
    d = wrap_dim(dim, data.ndim)
    idx = _check_index("index_reduce", data, d, index._data)
    if src.dtype != data.dtype:
        raise RuntimeError(f"index_reduce_(): self and source expected to have the same "
                           f"dtype but got self.dtype = {input.dtype} and source.dtype = "
                           f"{source.dtype}")
    flat = data.reshape(1) if not data.ndim else data  # a 0-d self is one element
    where = (slice(None),) * d + (idx,)
    values = src if src.ndim == flat.ndim else src.reshape((len(idx),) + flat.shape[1:])
    out = _reduce_into(flat, where, values, reduce, include_self).reshape(data.shape) \
        if idx.size else data.copy()
    if needs_grad(input, source):
        node = IndexReduceBackward0()
        node.self_, node.source, node._result = input, source, out
        node.dim, node.index, node.reduce, node.include_self = d, idx, reduce, include_self
        remember_indices(node, index)
        return attach(node, out, (input, source))
    return make(out)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    _check_reduce("index_reduce", reduce, ("prod", "mean", "amax", "amin"))
    if not _warned:
        _warned.append(True)
        warnings.warn("index_reduce() is in beta and the API may change at any time.",
                      UserWarning, stacklevel=_caller_level())
    return _index_reduce(input, dim, index, source, reduce, include_self)


index_reduce_ = inplace_method("index_reduce")


# ================================================================= index_put
def _index_put_self(n, g):
    if n.accumulate:
        return g
    zeros = make(np.zeros(n.values_sizes, g._data.dtype))
    return index_put(g, n.indices, zeros, False)


IndexPutBackward0 = backward_node(
    "IndexPutBackward0", base=_IndexNode, fields=("indices", "accumulate", "values_sizes"),
    self=_index_put_self,
    values=lambda n, g: getitem(g, tuple(slice(None) if i is None else i for i in n.indices)))


@silent
def index_put(input, indices, values, accumulate=False):
    data = input._data
    indices = tuple(indices)
    where = tuple(slice(None) if i is None else i._data for i in indices)
    vals = values._data.astype(data.dtype, copy=False)
    out = data.copy()
    if accumulate:
        np.add.at(out, where, vals)
    else:
        out[where] = vals
    if needs_grad(input, values):
        node = IndexPutBackward0()
        node.indices, node.accumulate, node.values_sizes = indices, accumulate, vals.shape
        remember_indices(node, *indices)
        return attach(node, out, (input, values))
    return make(out)


index_put_ = inplace_method("index_put")
