"""Indexing: reading with ``x[index]``, ``index_select`` and ``gather``; writing with
``x[index] = value``.

``__getitem__`` follows torch's ``applySlicing``: the index items are applied one at a time,
ints as ``select`` (SelectBackward0), slices as ``slice`` (SliceBackward0; a bare ``x[:]``
too, but inside a tuple a slice covering the whole dim is skipped), ``None`` as
``unsqueeze``, ``...`` as a skip; integer and boolean tensors (and lists) are collected and
applied last, in one numpy advanced-indexing step (IndexBackward0), whose placement rules for
separated advanced indices are torch's.  An index that leaves the tensor as it was
(``x[...]``, ``x[()]``, ``x[:, :]``) gives an alias (AliasBackward0).  The grads are torch's
backward ops (see below).

Writing: ``x[index] = value`` indexes as reading does (a view for basic indices) and copies
``value`` into it, in place (CopySlices on the base); advanced indices give ``index_put_``
(IndexPutBackward0).
"""

from __future__ import annotations

import operator
import warnings

import numpy as np

from .._tensor import Tensor, make, wrap_dim
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.inplace import (
    VIEW_OF_LEAF_ERROR,
    CopyBackwards,
    as_strided_history,
    check_inplace,
    check_overlap,
    commit,
    multi_output_view_error,
    no_grad_view_error,
)
from ..autograd.node import Node, attach, backward_node, link_view
from ..autograd.node import _modified_error as modified_error
from .elementwise import FillBackward3
from .operands import iterator_layout
from .shape import AliasBackward0, expand, select, slice_op, unsqueeze, view


# ================================================================= backward nodes
# The grads are torch's backward ops: scattering into zeros with ``_index_put_impl_``
# (index), ``index_add_`` (index_select) and ``scatter_add_`` (gather), and ``slice_backward``
# (slice).  Without create_graph each is one numpy write into zeros; under create_graph the
# write records the op's node, whose first input (the zeros) has no edge, and whose grad in
# the written values reads the same places back.
class _IndexNode(Node):
    """A node whose ``index`` stands for index tensors torch saves: a backward that does not
    retain the graph frees it, so a second one raises torch's error.  (It is a numpy array,
    so it is not in ``saved``; ``remember_indices`` keeps the index tensors' versions, and
    an index modified in place since raises torch's error when backward reaches the node.)"""

    __slots__ = ("_index_versions",)

    def apply(self, grad):
        self.check_indices()
        return Node.apply(self, grad)

    def check_indices(self):
        """torch's error if an index tensor was modified in place since (CopySlices calls
        it too, for an index_put_ on a view)."""
        pairs = getattr(self, "_index_versions", None)
        if pairs and not self._freed:
            for t, version in pairs:
                vc = t._vc
                if vc is not None and vc.value != version:
                    error = modified_error(t._data.shape, t._data.dtype, None, vc.value, version)
                    if t._data.dtype == np.bool_:  # torch names a bool mask's type so
                        error = RuntimeError(str(error).replace("[torch.BoolTensor ",
                                                                "[CPUBoolType ", 1))
                    raise error

    def release(self):
        for slot in self.saved:
            setattr(self, slot, None)
        if hasattr(self, "index"):
            self.index = None
        self._index_versions = None
        self._freed = True


def remember_indices(node, *tensors):
    """Keep the index tensors torch would save for ``node``, with their versions now."""
    node._index_versions = tuple((t, 0 if t._vc is None else t._vc.value)
                                 for t in tensors if isinstance(t, Tensor))
    return node


IndexBackward0 = backward_node(  # x[advanced index]; ``index`` is the numpy index
    "IndexBackward0", base=_IndexNode, fields=("self_sizes", "index"),
    self=lambda n, g: index_backward(g, n.self_sizes, n.index))
IndexPutImplBackward0 = backward_node(  # _index_put_impl_(zeros, indices, grad, accumulate=True)
    "IndexPutImplBackward0", base=_IndexNode, fields=("index",),
    self=lambda n, g: g,
    values=lambda n, g: _take(g, n.index))


def index_backward(g, sizes, index):
    out = np.zeros(sizes, g._data.dtype)
    np.add.at(out, index, g._data)
    if g._requires_grad and _grad_mode.enabled:
        node = IndexPutImplBackward0()
        node.index = index
        return attach(node, out, (None, g))
    return make(out)


def _take(g, index):
    out = g._data[index]
    if g._requires_grad and _grad_mode.enabled:
        node = IndexBackward0()
        node.self_sizes, node.index = g._data.shape, index
        return attach(node, out, (g,))
    return make(np.asarray(out))


IndexSelectBackward0 = backward_node(
    "IndexSelectBackward0", base=_IndexNode, fields=("self_sizes", "dim", "index"),
    self=lambda n, g: index_select_backward(g, n.self_sizes, n.dim, n.index))
# zeros.index_add_(dim, index, source): the grad in source is grad.index_select(dim, index),
# expanded to the source (a 0-d source takes the index squeezed)
IndexAddBackward0 = backward_node(
    "IndexAddBackward0", base=_IndexNode, fields=("dim", "index", "source_sizes"),
    self=lambda n, g: g,
    source=lambda n, g: _index_add_source_grad(g, n.dim, n.index, n.source_sizes))


def _index_add_source_grad(g, dim, index, source_sizes):
    if not source_sizes:
        return index_select(g, dim, make(index.reshape(())))
    return expand(index_select(g, dim, make(index)), source_sizes)


def index_select_backward(g, sizes, dim, index):
    out = np.zeros(sizes, g._data.dtype)
    if sizes:
        np.add.at(out, (slice(None),) * dim + (index,), g._data)
    else:
        out += g._data
    if g._requires_grad and _grad_mode.enabled:
        node = IndexAddBackward0()
        node.dim, node.index, node.source_sizes = dim, index, g._data.shape
        return attach(node, out, (None, g))
    return make(out)


# gather: torch saves ``self`` (for its sizes), so modifying it in place before the backward
# raises, as in torch; ``where`` is the numpy index the forward read with
GatherBackward0 = backward_node(
    "GatherBackward0", base=_IndexNode, saved=("self_", "where"), fields=("dim", "index"),
    self=lambda n, g: gather_backward(g, n.self_._data.shape, n.dim, n.index, n.where))
# zeros.scatter_add_(dim, index, src): the grad in src is grad.gather(dim, index)
ScatterAddBackward0 = backward_node(
    "ScatterAddBackward0", base=_IndexNode, fields=("dim", "index"),
    self=lambda n, g: g,
    src=lambda n, g: gather(g, n.dim, make(n.index)))


def gather_backward(g, sizes, dim, index, where):
    """zeros.scatter_add_(dim, index, grad); torch's CPU kernel sums float16 in float and
    rounds once."""
    data = g._data
    out = np.zeros(sizes, np.float32 if data.dtype == np.float16 else data.dtype)
    if not out.ndim:  # a 0-d self: every index read its one element
        out[...] = data.sum(dtype=out.dtype)
    elif data.size:
        np.add.at(out, where, data)
    out = out.astype(data.dtype, copy=False)
    if g._requires_grad and _grad_mode.enabled:
        node = ScatterAddBackward0()
        node.dim, node.index = dim, index
        return attach(node, out, (None, g))
    return make(out)


def _gather_index(idx, dim):
    """The numpy index reading ``self[..., idx[i, j, ...], ...]`` (idx along ``dim``)."""
    if not idx.ndim:
        return ()
    grids = list(np.ogrid[tuple(slice(0, s) for s in idx.shape)])
    grids[dim] = idx
    return tuple(grids)


# ================================================================= x[index]
_INDEX_TYPES_ERROR = (
    "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
    "indices (got {})"
)
_SEQUENCE_WARNING = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
    "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be "
    "interpreted as tensor index, x[torch.tensor(seq)], which will result either in an error "
    "or a different result"
)


def _as_index_tensor(item):
    """A list (or nested list) of ints/bools as an index array."""
    array = np.asarray(item)
    if array.dtype.kind == "f" or array.dtype == object:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if array.size == 0:
        array = array.astype(np.int64)
    return array


def _normalize(index):
    if isinstance(index, tuple):
        return index
    if isinstance(index, list) and index and any(
        isinstance(i, (list, tuple, slice, Tensor)) or i is None or i is Ellipsis for i in index
    ):
        warnings.warn(_SEQUENCE_WARNING, UserWarning, stacklevel=3)
        return tuple(index)
    return (index,)


def getitem(self, index):
    items = _normalize(index)
    data = self._data
    # how many dims the items consume
    consumed = 0
    converted = []
    saved = []  # the index tensors torch saves (version-checked at backward)
    for item in items:
        if isinstance(item, Tensor):
            if item._data.ndim:
                saved.append(item)
            kind = item._data.dtype.kind
            if kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if item._data.dtype == np.uint8:
                warnings.warn(
                    "indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                    "torch.bool instead.", UserWarning, stacklevel=2)
                item = make(item._data.astype(bool))
            if item._data.ndim == 0 and item._data.dtype != np.bool_:
                item = int(item._data)
            else:
                item = item._data
        elif isinstance(item, list):
            item = _as_index_tensor(item)
        elif isinstance(item, bool):
            item = np.asarray(item)
        elif isinstance(item, (np.integer,)):
            item = int(item)
        elif not (isinstance(item, (int, slice)) or item is None or item is Ellipsis):
            raise IndexError(_INDEX_TYPES_ERROR.format(type(item).__name__))
        if isinstance(item, np.ndarray):
            consumed += item.ndim if item.dtype == np.bool_ else 1
        elif isinstance(item, (int, slice)):
            consumed += 1
        converted.append(item)
    if consumed > data.ndim:
        only = converted[0] if len(converted) == 1 else None  # a 0-d tensor's messages
        if data.ndim == 0 and isinstance(only, slice):
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        if data.ndim == 0 and isinstance(only, int) and only != 0:
            raise IndexError(f"index {only} is out of bounds for dimension 0 with size 0")
        if data.ndim == 0 and len(converted) > 1:
            raise IndexError("too many indices for tensor of dimension 0")
        if data.ndim == 0:
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
            )
        raise IndexError(f"too many indices for tensor of dimension {data.ndim}")
    result = self
    dim = 0
    advanced = []  # (dim in result, array)
    ellipsis_done = False
    optimize = not isinstance(index, slice)  # torch slices a bare x[a:b] whatever the bounds
    orig = 0  # the dim of the original tensor an item applies to (for messages)
    for item in converted:
        if item is Ellipsis:
            if not ellipsis_done:
                dim += data.ndim - consumed
                orig += data.ndim - consumed
                ellipsis_done = True
            continue
        if item is None:
            result = unsqueeze(result, dim)
            dim += 1
        elif isinstance(item, int):
            size = result._data.shape[dim]
            if not -size <= item < size:
                raise IndexError(
                    f"index {item} is out of bounds for dimension {orig} with size {size}")
            result = select(result, dim, item)
            orig += 1
        elif isinstance(item, slice):
            result = _slice(result, dim, item, optimize)
            dim += 1
            orig += 1
        elif item.dtype == np.bool_ and not item.ndim:
            # torch's scalar bool: unsqueeze, then index the new dim with [0] (or nothing)
            result = unsqueeze(result, dim)
            advanced.append((dim, np.zeros(1 if item else 0, np.int64)))
            dim += 1
        else:
            if item.dtype == np.bool_:
                _check_mask(item, result._data.shape, dim)
                advanced.append((dim, item))
                dim += item.ndim
                orig += item.ndim
            else:
                advanced.append((dim, item))
                dim += 1
                orig += 1
    if advanced:
        return _advanced(result, advanced, saved)
    if result is self:  # x[...], x[()], x[:, :]: torch returns an alias
        return _alias(self)
    return result


def _alias(input):
    out = input._data.view()
    if input._requires_grad and _grad_mode.enabled:
        return attach(AliasBackward0(), out, (input,))
    return link_view(make(out), (input,))


def _slice(input, dim, item, optimize):
    """torch's applySlice: inside a tuple index, a slice from 0 (or none) to at least the
    dim's length (or none) with step 1 is skipped; otherwise a ``slice`` op."""
    data = input._data
    if item.step is not None and item.step <= 0:
        if item.step == 0:
            raise ValueError("slice step cannot be zero")
        raise ValueError("step must be greater than zero")
    length = data.shape[dim]
    if optimize and (item.step is None or operator.index(item.step) == 1) and (
            item.start is None or operator.index(item.start) == 0) and (
            item.stop is None or operator.index(item.stop) >= length):
        return input
    start, stop, step = item.indices(length)
    return slice_op(input, dim, start, max(stop, start), step)


def _check_mask(mask, shape, dim):
    for i, s in enumerate(mask.shape):
        if dim + i >= len(shape) or s != shape[dim + i]:
            raise IndexError(
                f"The shape of the mask {list(mask.shape)} at index {i} does not match the shape "
                f"of the indexed tensor {list(shape)} at index {dim + i}"
            )


def _advanced(input, advanced, saved=()):
    data = input._data
    index = [slice(None)] * data.ndim
    arrays = []  # the index tensors torch broadcasts (a mask gives one per dim it covers)
    for dim, array in advanced:
        if array.dtype == np.bool_:
            for k, a in enumerate(np.nonzero(array)):
                index[dim + k] = a
                arrays.append(a)
        else:
            arrays.append(array)
    if len(arrays) > 1:
        try:
            np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            shapes = ", ".join(str(list(a.shape)) for a in arrays)
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                             f"with shapes {shapes}") from None
    for dim, array in advanced:
        if array.dtype != np.bool_:
            size = data.shape[dim]
            bad = (array >= size) | (array < -size)
            if bad.any():
                value = int(array[bad].flat[0])
                raise IndexError(
                    f"index {value} is out of bounds for dimension {dim} with size {size}")
            index[dim] = array.astype(np.int64, copy=False)
    index = tuple(index)
    out = _index_layout(np.asarray(data[index]), data, index)
    if input._requires_grad and _grad_mode.enabled:
        node = IndexBackward0()
        node.self_sizes, node.index = data.shape, index
        remember_indices(node, *saved)
        return attach(node, out, (input,))
    return make(np.asarray(out))


def _index_layout(out, data, index):
    """``data[index]`` (``out``, numpy's) laid out as torch's index kernel lays it out: a
    TensorIterator over the source, its indexed dims replaced by the broadcast index shape
    with stride 0 (moved to the front when they are not adjacent, as numpy moves them too),
    and each index tensor spread over those dims."""
    if out.ndim < 2 or data.ndim < 2:
        return out
    dims = [d for d, item in enumerate(index) if type(item) is np.ndarray]
    arrays = np.broadcast_arrays(*(index[d] for d in dims))
    rest = [d for d in range(data.ndim) if d not in dims]
    adjacent = dims[-1] - dims[0] == len(dims) - 1
    before = dims[0] if adjacent else 0
    kept = [data.strides[d] for d in rest]
    width = arrays[0].ndim
    src = kept[:before] + [0] * width + kept[before:]
    strides = [src] + [[0] * before + list(a.strides) + [0] * (len(rest) - before)
                       for a in arrays]
    return iterator_layout(out, strides)


# ================================================================= index_select / gather
def index_select(input, dim, index):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    idx = index._data
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            "index_select(): Expected dtype int32/int64 for index but got: "
            f"{index.dtype}")
    size = data.shape[d] if data.ndim else 1
    if idx.size and ((idx >= size) | (idx < -size)).any():
        raise IndexError("index out of range in self")
    idx = idx.reshape(-1).astype(np.int64, copy=False)
    out = np.take(data, idx, axis=d) if data.ndim else data.reshape(1)[idx].reshape(())
    if input._requires_grad and _grad_mode.enabled:
        node = IndexSelectBackward0()
        node.self_sizes, node.dim, node.index = data.shape, d, idx
        remember_indices(node, index)
        return attach(node, out, (input,))
    return make(out)


def gather(input, dim, index, *, sparse_grad=False):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    idx = index._data
    if not idx.size:  # torch checks nothing of an empty index: an empty result of its shape
        return _gather_result(input, d, idx, np.empty(idx.shape, data.dtype), (), index)
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    if idx.ndim != data.ndim and not (idx.ndim <= 1 and data.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in range(idx.ndim):
        if k != d and idx.shape[k] > data.shape[k]:
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(idx.shape)} to be "
                f"no larger than self {list(data.shape)} apart from dimension {d}"
            )
    size = data.shape[d] if data.ndim else 1
    if idx.size:
        bad = (idx >= size) | (idx < -size)
        if bad.any():
            value = int(idx[bad].flat[0])
            raise RuntimeError(f"index {value} is out of bounds for dimension {d} with size {size}")
    if not data.ndim:  # a 0-d self read at 0 (or -1) by every index
        return _gather_result(input, d, idx, np.broadcast_to(data, idx.shape).copy(), (), index)
    where = _gather_index(idx, d)
    out = np.asarray(data[where]) if idx.ndim else data.copy()
    return _gather_result(input, d, idx, out, where, index)


def _gather_result(input, d, idx, out, where, index):
    if input._requires_grad and _grad_mode.enabled:
        node = GatherBackward0()
        node.self_, node.dim, node.index, node.where = input, d, idx, where
        remember_indices(node, index)
        return attach(node, out, (input,))
    return make(out)


# ================================================================= x[index] = value
IndexPutBackward0 = backward_node(  # t[advanced index] = values (torch saves the indices only)
    "IndexPutBackward0", base=_IndexNode, fields=("index",),
    self=lambda n, g: _zero_at(g, n.index),
    values=lambda n, g: make(g._data[n.index]))  # summed to the values' shape by the engine


def _zero_at(grad, index):
    out = grad._data.copy()
    out[index] = 0
    return make(out)


def _numpy_index(index):
    items = index if isinstance(index, tuple) else (index,)
    return tuple(i._data if isinstance(i, Tensor) else i for i in items)


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.shape == b.shape and a.strides == b.strides
            and a.ctypes.data == b.ctypes.data)


def _source(region: Tensor, value: Tensor):
    """torch's ``copy_to``: the node and values that write ``value`` into ``region``."""
    shape = region._data.shape
    if value._data.shape == shape:
        return CopyBackwards, value
    if value._data.ndim == 0:
        return FillBackward3, value
    dims = value._data.shape
    lead = 0
    while lead < len(dims) and dims[lead] == 1:
        lead += 1
    src = view(value, *dims[lead:]) if _grad_mode.enabled else value.reshape(dims[lead:])
    if src._data.shape != shape:
        src = expand(src, shape)
    return CopyBackwards, src


def setitem(self, index, value):
    """``t[index] = value``: torch indexes (a view for basic indices, unless the index
    selects the whole tensor) and copies ``value`` into it, so the base's grad_fn becomes
    CopySlices; advanced indices give ``index_put_`` (IndexPutBackward0)."""
    grad_mode = _grad_mode.enabled
    _grad_mode.enabled = False
    try:
        region = getitem(self, index)
    finally:
        _grad_mode.enabled = grad_mode
    if not isinstance(value, Tensor):
        value = make(np.asarray(value, dtype=self._data.dtype))
    if not np.shares_memory(region._data, self._data):
        split = _split_advanced(index)
        if split is not None:  # torch slices first, then index_put_ on the view: CopySlices
            sliced = getitem(self, split[0])
            if not _same_memory(sliced._data, self._data):
                return _index_put(sliced, _numpy_index(split[1]), value, _index_tensors(index))
        return _index_put(self, _numpy_index(index), value, _index_tensors(index))
    whole = _same_memory(region._data, self._data)
    if whole:
        region = self
        check_inplace(self, value)
    elif grad_mode:
        if self._requires_grad or value._requires_grad:
            _check_region(self, index)
        region._requires_grad = self._requires_grad
    node_cls, src = _source(region, value)
    if node_cls is not FillBackward3:  # torch copies (fill_ checks no overlap)
        check_overlap(region, src)
    out = np.broadcast_to(src._data, region._data.shape).astype(self._data.dtype)
    if grad_mode and (region._requires_grad or src._requires_grad):
        result = attach(node_cls(), out, (region, src))
    else:
        result = make(out)
    commit(region, result)
    if not whole and result._grad_fn is not None and self._view_of is not None:
        as_strided_history(self, self._view_of)


def _check_region(self, index):
    """torch's check_inplace on the view ``self[index]`` it copies into (the engine builds
    that region without a graph)."""
    root = self._view_of
    if root is not None and (self._no_grad_view or self._multi_output is not None):
        # the region as torch makes it, in grad mode: its grad_fn names the error
        region = getitem(self, index)
        if self._multi_output is not None:
            raise multi_output_view_error(region, indirect=False)
        raise no_grad_view_error(region, indirect=False)
    root = self if root is None else root
    if (self._requires_grad or root._requires_grad) and root._grad_fn is None:
        raise RuntimeError(VIEW_OF_LEAF_ERROR)


def _split_advanced(index):
    """An index with tensors as torch's setitem applies it: the basic items (ints, slices,
    None, ...; a full slice for each dim an index tensor covers) and the index left for
    index_put_ on that view.  None when it mixes in something the split does not cover."""
    basic, rest = [], []
    for item in _normalize(index):
        if isinstance(item, Tensor) and item._data.ndim:
            basic.extend([slice(None)] * (item._data.ndim if item._data.dtype == np.bool_ else 1))
            rest.append(item)
        elif isinstance(item, list):
            basic.append(slice(None))
            rest.append(item)
        elif isinstance(item, (slice, type(None))):
            basic.append(item)
            rest.append(slice(None))
        elif item is Ellipsis:
            basic.append(item)
            rest.append(item)
        elif isinstance(item, (int, np.integer, Tensor)) and not isinstance(item, bool):
            basic.append(item)  # an int (or 0-d tensor) selects: no dim left
        else:
            return None
    return tuple(basic), tuple(rest)


def _index_tensors(index):
    """The index tensors torch's index_put_ saves as they are (a uint8 mask is converted
    first, so its copy is saved; a 0-d index is a select)."""
    items = index if isinstance(index, tuple) else (index,)
    return [i for i in items if isinstance(i, Tensor) and i._data.ndim
            and i._data.dtype != np.uint8]


def _index_put(self, index, value, saved=()):
    check_inplace(self, value)
    if value._data.dtype != self._data.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{self.dtype.scalar_name} for the destination and {value.dtype.scalar_name} for "
            "the source."
        )
    target = self._data[index]
    try:
        out = np.broadcast_to(value._data, target.shape).astype(self._data.dtype)
    except ValueError:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value._data.shape)} cannot be "
            f"broadcast to indexing result of shape {list(target.shape)}"
        ) from None
    new = self._data.copy()
    new[index] = out
    if _grad_mode.enabled and (self._requires_grad or value._requires_grad):
        node = IndexPutBackward0()
        node.index = index
        remember_indices(node, *saved)
        result = attach(node, new, (self, value))
    else:
        result = make(new)
    commit(self, result)
