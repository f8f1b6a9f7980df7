"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode,
cummax/cummin, cumprod (the public form), logcumsumexp, aminmax.

Orders are torch's CPU ones: a stable sort with NaN above every number (last ascending,
first descending); a descending sort keeps ties in input order.  Selecting ops take their
value and index from that stable order.  The grads are torch's: a value picked by index
goes back by ``zeros.scatter(dim, indices, grad)`` (ScatterBackward0 under create_graph),
cummax/cummin by ``scatter_add``, a whole median splits its grad evenly among ties
(``masked_fill`` of ``grad / count``).
"""

from __future__ import annotations

import numpy as np

from .._dtype import FROM_NUMPY
from .._return_types import return_type
from .._tensor import make, wrap_dim
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import attach, backward_node
from ..runtime.quiet import silent
from .elementwise import abs as absolute
from .elementwise import exp, gt, log, lt, to, where
from .indexing import ScatterAddBackward0
from .operands import needs_grad
from .reductions import _int_accumulator
from .reductions import cumprod as _cumprod
from .scatter import ScatterBackward0
from .shape import flip, unsqueeze

_BOOL_ERROR = '"{name}" not implemented for \'Bool\''


# ================================================================= grads
def _scatter_zeros(g, sizes, dim, indices):
    """``zeros(sizes).scatter(dim, indices, g)``: ScatterBackward0 (src only) under
    create_graph."""
    out = np.zeros(sizes, g._data.dtype)
    if out.ndim:
        np.put_along_axis(out, indices, g._data, dim)
    else:
        out[()] = g._data
    if g._requires_grad and _grad_mode.enabled:
        node = ScatterBackward0()
        node.dim, node.index, node.src_sizes = dim, indices, None
        return attach(node, out, (None, g))
    return make(out)


def _selected_grad(n, g):
    """value_selecting_reduction_backward: the grad goes to the selected indices."""
    indices = n.indices
    if not n.keepdim and len(n.sizes):
        g = unsqueeze(g, n.dim)
        indices = np.expand_dims(indices, n.dim)
    return _scatter_zeros(g, n.sizes, n.dim, indices)


def _selecting_node(name):
    return backward_node(name, fields=("sizes", "dim", "keepdim", "indices"),
                         self=_selected_grad)


SortBackward0 = _selecting_node("SortBackward0")
SortBackward1 = _selecting_node("SortBackward1")  # sort(stable=...), the other overload
TopkBackward0 = _selecting_node("TopkBackward0")
KthvalueBackward0 = _selecting_node("KthvalueBackward0")
MedianBackward1 = _selecting_node("MedianBackward1")
NanmedianBackward1 = _selecting_node("NanmedianBackward1")
ModeBackward0 = _selecting_node("ModeBackward0")


def _values(node_cls, input, values, indices, dim, keepdim):
    if needs_grad(input):
        node = node_cls()
        node.sizes, node.dim, node.keepdim, node.indices = (
            input._data.shape, dim, keepdim, indices)
        return attach(node, values, (input,))
    return make(values)


# ================================================================= sort
def _argsort(data, axis, descending):
    """torch's stable order: NaN greatest; descending keeps ties in input order."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    n = data.shape[axis]
    return (n - 1) - np.flip(np.argsort(np.flip(data, axis), axis=axis, kind="stable"), axis)


def _sorted(data, dim, descending):
    if data.ndim == 0:
        return data.copy(), np.zeros((), np.int64)
    idx = _argsort(data, dim, descending).astype(np.int64, copy=False)
    return np.take_along_axis(data, idx, dim), idx


@silent
def sort(input, dim=-1, descending=False, *, stable=None):
    """torch.sort: stable (torch's unstable CPU sort of long slices orders ties otherwise)."""
    data = input._data
    d = wrap_dim(dim, data.ndim)
    values, idx = _sorted(data, d, descending)
    node_cls = SortBackward0 if stable is None else SortBackward1
    return return_type("sort", _values(node_cls, input, values, idx, d, True), make(idx))


def argsort(input, dim=-1, descending=False, *, stable=False):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    return make(_sorted(data, d, descending)[1])


def msort(input):
    return sort(input, 0)[0]


# ================================================================= topk, kthvalue
@silent
def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - torch's name
    data = input._data
    d = wrap_dim(dim, data.ndim)
    size = data.shape[d] if data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if data.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    values, idx = _sorted(data, d, largest)
    if data.ndim:
        values, idx = values.take(range(k), d), idx.take(range(k), d)
    return return_type("topk", _values(TopkBackward0, input, values, idx, d, True), make(idx))


def _no_bool(data, kernel):
    if data.dtype == np.bool_:
        raise NotImplementedError(_BOOL_ERROR.format(name=kernel))


def _gt_or_nan(x, y):
    return (x != x and y == y) or x > y


def _quickselect(row, k):
    """The index kthvalue's CPU kernel reports for sorted position ``k`` of ``row``: its
    Sedgewick quickselect (median-of-three pivot, Hoare partition) on a copy, which decides
    which of equal values lands at ``k``."""
    vals, idx = row.tolist(), list(range(len(row)))

    def swap(a, b):
        vals[a], vals[b] = vals[b], vals[a]
        idx[a], idx[b] = idx[b], idx[a]

    lo, hi = 0, len(vals) - 1
    while hi > lo:
        if hi == lo + 1:
            if _gt_or_nan(vals[lo], vals[hi]):
                swap(lo, hi)
            break
        swap((lo + hi) >> 1, lo + 1)
        if _gt_or_nan(vals[lo + 1], vals[hi]):
            swap(lo + 1, hi)
        if _gt_or_nan(vals[lo], vals[hi]):
            swap(lo, hi)
        if _gt_or_nan(vals[lo + 1], vals[lo]):
            swap(lo + 1, lo)
        i, j, pivot = lo + 1, hi, vals[lo]
        while True:
            i += 1
            while _gt_or_nan(pivot, vals[i]):
                i += 1
            j -= 1
            while _gt_or_nan(vals[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return idx[k]


def _quickselect_ties(data, values, idx, k, d):
    """kthvalue's indices: where the k-th value occurs more than once in a row, the one
    torch's quickselect picks (rows without such a tie keep the sort's, the same)."""
    rows = np.moveaxis(data, d, -1)
    kth = np.moveaxis(values, d, -1)
    same = rows == kth
    if rows.dtype.kind == "f":
        same |= np.isnan(rows) & np.isnan(kth)
    tied = np.argwhere(same.sum(-1) > 1)
    if not len(tied):
        return idx
    idx = idx.copy()
    out = np.moveaxis(idx, d, -1)
    for r in map(tuple, tied):
        out[r + (0,)] = _quickselect(rows[r], k)
    return idx


def _pick(name, node_cls, input, position, d, keepdim):
    """The value at sorted ``position`` (an array along dim, or an int) and its index."""
    data = input._data
    values, idx = _sorted(data, d, False)
    if data.ndim:
        pos = np.expand_dims(np.asarray(position, np.int64), d) if np.ndim(position) else (
            np.full(values.shape[:d] + (1,) + values.shape[d + 1:], position, np.int64))
        values = np.take_along_axis(values, pos, d)
        idx = np.take_along_axis(idx, pos, d)
        if name == "kthvalue":
            idx = _quickselect_ties(data, values, idx, position, d)
        if not keepdim:
            values, idx = values.squeeze(d), idx.squeeze(d)
    return return_type(name, _values(node_cls, input, values, idx, d, keepdim), make(idx))


@silent
def kthvalue(input, k, dim=-1, keepdim=False):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    size = data.shape[d] if data.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    _no_bool(data, "kthvalue_cpu")
    return _pick("kthvalue", KthvalueBackward0, input, k - 1, d, keepdim)


# ================================================================= median, nanmedian
def _evenly_grad(n, g):
    """evenly_distribute_backward: zeros.masked_fill_(mask, grad / mask.sum())."""
    data, value = n.self_._data, n._result
    mask = np.isnan(data) if np.isnan(value) else data == value
    count = make(np.asarray(mask.sum(), np.int64))
    share = g / count
    out = np.zeros(data.shape, share._data.dtype)
    out[mask] = share._data
    if share._requires_grad and _grad_mode.enabled:
        node = MaskedFillBackward1()
        node.mask = mask
        return attach(node, out, (None, share))
    return make(out)


MaskedFillBackward1 = backward_node(  # x.masked_fill(mask, value tensor)
    "MaskedFillBackward1", fields=("mask",),
    self=lambda n, g: where(make(n.mask), 0, g),
    value=lambda n, g: g[make(n.mask)].sum())

MedianBackward0 = backward_node("MedianBackward0", saved=("self_", "_result"),
                                self=_evenly_grad)
NanmedianBackward0 = backward_node("NanmedianBackward0", saved=("self_", "_result"),
                                   self=_evenly_grad)


def _median_op(name, ignore_nan, whole_node, dim_node):
    kernel = f"{name}_cpu"

    @silent
    def op(input, dim=None, keepdim=False):
        data = input._data
        if dim is None:
            _no_bool(data, kernel)
            flat = data.reshape(-1)
            if flat.size == 0:
                out = np.asarray(np.nan, data.dtype) if data.dtype.kind == "f" else (
                    np.zeros((), data.dtype))
            else:
                out = np.sort(flat, kind="stable")[_position(flat, ignore_nan)]
                out = np.asarray(out, data.dtype)
            if needs_grad(input):
                node = whole_node()
                node.self_, node._result = input, out
                return attach(node, out, (input,))
            return make(out)
        d = wrap_dim(dim, data.ndim)
        if data.ndim and data.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        _no_bool(data, kernel)
        position = _position(data, ignore_nan, d) if data.ndim else 0
        return _pick(name, dim_node, input, position, d, keepdim)

    op.__name__ = name
    return op


def _position(data, ignore_nan, dim=None):
    """The sorted position of the (lower) median: NaNs sort last, and count unless
    ``ignore_nan``; with NaNs counted, the median is the first NaN."""
    n = data.size if dim is None else data.shape[dim]
    if data.dtype.kind != "f":
        return (n - 1) // 2
    nans = np.isnan(data).sum(axis=dim)
    if ignore_nan:
        valid = n - nans
        return np.where(valid > 0, (valid - 1) // 2, 0)
    return np.where(nans > 0, n - nans, (n - 1) // 2)


median = _median_op("median", False, MedianBackward0, MedianBackward1)
nanmedian = _median_op("nanmedian", True, NanmedianBackward0, NanmedianBackward1)


# ================================================================= mode
@silent
def mode(input, dim=-1, keepdim=False):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    if data.ndim and data.shape[d] == 0 or data.size == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    if not data.ndim:
        values, idx = data.copy(), np.zeros((), np.int64)
        return return_type("mode", _values(ModeBackward0, input, values, idx, d, keepdim),
                           make(idx))
    moved = np.moveaxis(data, d, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    vals = np.empty(rows.shape[0], data.dtype)
    idx = np.empty(rows.shape[0], np.int64)
    for i, row in enumerate(rows):  # per slice: numpy has no vectorised mode
        order = np.argsort(row, kind="stable")
        s = row[order]
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        counts = np.diff(np.r_[starts, s.size])
        best = int(np.argmax(counts))  # the smallest of the most frequent values
        vals[i] = s[starts[best]]
        idx[i] = order[starts[best]:starts[best] + counts[best]].max()  # its last index
    shape = moved.shape[:-1]
    values, idx = vals.reshape(shape), idx.reshape(shape)
    if keepdim:
        values, idx = np.expand_dims(values, d), np.expand_dims(idx, d)
    return return_type("mode", _values(ModeBackward0, input, values, idx, d, keepdim),
                       make(idx))


# ================================================================= cummax, cummin
def _cum_extreme_grad(n, g):
    """cummaxmin_backward: zeros.scatter_add_(dim, indices, grad)."""
    if not n.indices.ndim:
        return g
    out = np.zeros(n.indices.shape, g._data.dtype)
    grids = list(np.ogrid[tuple(slice(0, s) for s in n.indices.shape)])
    grids[n.dim] = n.indices
    np.add.at(out, tuple(grids), g._data)
    if g._requires_grad and _grad_mode.enabled:
        node = ScatterAddBackward0()
        node.dim, node.index = n.dim, n.indices
        return attach(node, out, (None, g))
    return make(out)


CummaxBackward0 = backward_node("CummaxBackward0", fields=("dim", "indices"),
                                self=_cum_extreme_grad)
CumminBackward0 = backward_node("CumminBackward0", fields=("dim", "indices"),
                                self=_cum_extreme_grad)


def _cum_extreme(name, better, node_cls):
    @silent
    def op(input, dim):
        data = input._data
        d = wrap_dim(dim, data.ndim)
        if data.ndim == 0 or data.size == 0:
            values, idx = data.copy(), np.zeros(data.shape, np.int64)
        else:
            moved = np.moveaxis(data, d, 0)
            vals = np.empty_like(moved)
            idx = np.empty(moved.shape, np.int64)
            best, where_best = moved[0].copy(), np.zeros(moved.shape[1:], np.int64)
            nan = np.isnan(best) if data.dtype.kind == "f" else None
            for i in range(moved.shape[0]):  # torch: a tie or NaN moves the index forward
                cur = moved[i]
                take = better(cur, best) | (cur == best)
                if nan is not None:
                    cur_nan = np.isnan(cur)
                    take = (take & ~nan) | cur_nan
                    nan = nan | cur_nan
                best = np.where(take, cur, best)
                where_best = np.where(take, i, where_best)
                vals[i], idx[i] = best, where_best
            values, idx = np.moveaxis(vals, 0, d).copy(), np.moveaxis(idx, 0, d).copy()
        if needs_grad(input):
            node = node_cls()
            node.dim, node.indices = d, idx
            values = attach(node, values, (input,))
        else:
            values = make(values)
        return return_type(name, values, make(idx))

    op.__name__ = name
    return op


cummax = _cum_extreme("cummax", np.greater, CummaxBackward0)
cummin = _cum_extreme("cummin", np.less, CumminBackward0)


# ================================================================= cumprod, logcumsumexp
_INT_KINDS = "biu"


def cumprod(input, dim, *, dtype=None):
    """torch.cumprod: integers and bools accumulate in int64 unless ``dtype`` says."""
    target = _int_accumulator(input._data, dtype)
    if target != input._data.dtype:
        input = to(input, FROM_NUMPY[target])
    return _cumprod(input, dim)


def _reverse_logcumsumexp(x, dim):
    return flip(logcumsumexp(flip(x, (dim,)), dim), (dim,))


def _logcumsumexp_grad(n, g):
    """logcumsumexp_backward: positive and negative grads through reversed
    logcumsumexps of log|grad| - result."""
    if g._data.ndim == 0 or g._data.size == 0:
        return g
    lowest = float(np.finfo(g._data.dtype).min)
    result, self_ = n.result, n.self_
    log_abs = log(absolute(g))
    pos = where(gt(g, 0), log_abs, lowest)
    neg = where(lt(g, 0), log_abs, lowest)
    out_pos = exp(_reverse_logcumsumexp(pos - result, n.dim) + self_)
    out_neg = exp(_reverse_logcumsumexp(neg - result, n.dim) + self_)
    return out_pos - out_neg


LogcumsumexpBackward0 = backward_node("LogcumsumexpBackward0", saved=("self_", "_result"),
                                      fields=("dim",), self=_logcumsumexp_grad)


@silent
def logcumsumexp(input, dim):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    if data.dtype.kind in _INT_KINDS:
        name = {"b": "Bool", "u": "Byte"}.get(data.dtype.kind) or {
            1: "Char", 2: "Short", 4: "Int", 8: "Long"}[data.dtype.itemsize]
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for \'{name}\'')
    if data.ndim == 0 or data.size == 0:
        out = data.copy()
    else:
        acc = np.float64 if data.dtype != np.float64 else data.dtype
        out = np.logaddexp.accumulate(data.astype(acc), axis=d).astype(data.dtype)
    if needs_grad(input):
        node = LogcumsumexpBackward0()
        node.self_, node._result, node.dim = input, out, d
        return attach(node, out, (input,))
    return make(out)


# ================================================================= aminmax
def _aminmax_grad(n, g):
    """scale_grad_by_count(restore_reduced_dims(grad), restore(result) == self, dims)."""
    data = n.self_._data
    dims = tuple(range(data.ndim)) if n.dim is None else (n.dim,)
    value = n._result
    if not n.keepdim and data.ndim:
        value = np.expand_dims(value, dims)
        g = g.reshape(value.shape) if n.dim is None else unsqueeze(g, n.dim)
    mask = data == value
    count = make(np.asarray(mask.sum(axis=dims, keepdims=True), np.int64))
    return (g / count) * make(mask)


AminmaxBackward0 = backward_node("AminmaxBackward0", saved=("self_", "_result"),
                                 fields=("dim", "keepdim"), self=_aminmax_grad)


@silent
def aminmax(input, *, dim=None, keepdim=False):
    data = input._data
    if dim is None:
        if data.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
        axis = None
    else:
        axis = wrap_dim(dim, data.ndim)
        if data.ndim and data.shape[axis] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {axis} to have non-zero size.")
        if not data.ndim:
            axis = None
    keep = keepdim and data.ndim > 0
    lo = np.asarray(np.min(data, axis=axis, keepdims=keep))
    hi = np.asarray(np.max(data, axis=axis, keepdims=keep))
    if axis is None and keep:
        lo, hi = lo.reshape((1,) * data.ndim), hi.reshape((1,) * data.ndim)
    outs = []
    for out in (lo, hi):
        if needs_grad(input):
            node = AminmaxBackward0()
            node.self_, node._result = input, out
            node.dim, node.keepdim = (None if dim is None else axis), keep
            outs.append(attach(node, out, (input,)))
        else:
            outs.append(make(out))
    return _Aminmax(outs[0], outs[1])


class _Aminmax(tuple):
    """torch.return_types.aminmax: (min, max)."""

    __slots__ = ()
    __module__ = "torch.return_types"
    n_fields = n_sequence_fields = 2
    n_unnamed_fields = 0

    def __new__(cls, min, max):  # noqa: A002 - torch's field names
        return tuple.__new__(cls, (min, max))

    min = property(lambda self: self[0])  # noqa: A003
    max = property(lambda self: self[1])  # noqa: A003

    def __repr__(self):
        return f"torch.return_types.aminmax(\nmin={self[0]!r},\nmax={self[1]!r})"

    __str__ = __repr__


_Aminmax.__name__ = _Aminmax.__qualname__ = "aminmax"

