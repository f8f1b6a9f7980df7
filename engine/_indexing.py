"""Reading with ``x[index]``, ``index_select`` and ``gather``.

``__getitem__`` follows torch's ``applySlicing``: the index items are applied one at a time,
ints as ``select`` (SelectBackward0), slices as ``slice`` (SliceBackward0, even ``[:]``),
``None`` as ``unsqueeze``, ``...`` as a skip; integer and boolean tensors (and lists) are
collected and applied last, in one numpy advanced-indexing step (IndexBackward0), whose
placement rules for separated advanced indices are torch's.  A bare ``x[...]`` or ``x[()]``
is an alias (AliasBackward0).  Writing (``__setitem__``) lives with the in-place ops.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _ops_shape as S
from ._grad_mode import state as _grad_mode
from ._node import Node, attach, link_view
from ._tensor import Tensor, make, wrap_dim


# ================================================================= backward nodes
class EmbedBackward(Node):
    """The backward of scattering into zeros: reading the same places back."""

    __slots__ = ("index",)
    formulas = (lambda n, g: _take(g, n.index),)


EmbedBackward.__name__ = EmbedBackward.__qualname__ = "IndexPutBackward0"


def _embed(g, sizes, index, accumulate):
    """Zeros of ``sizes`` with ``g`` written (or, for advanced indices, added) at ``index``."""
    out = np.zeros(sizes, g._data.dtype)
    if accumulate:
        np.add.at(out, index, g._data)
    else:
        out[index] = g._data
    if g._requires_grad and _grad_mode.enabled:
        node = EmbedBackward()
        node.index = index
        return attach(node, out, (g,))
    return make(out)


def _take(g, index):
    out = g._data[index]
    if g._requires_grad and _grad_mode.enabled:
        node = IndexBackward0()
        node.self_sizes, node.index = g._data.shape, index
        return attach(node, out, (g,))
    return make(np.asarray(out))


class IndexBackward0(Node):
    __slots__ = ("self_sizes", "index")
    formulas = (lambda n, g: _embed(g, n.self_sizes, n.index, True),)


class SliceBackward0(S.SliceBackward0):
    """x[a:b:c]: a strided slice (the narrow form in _ops_shape has step 1)."""

    __slots__ = ("index",)
    formulas = (lambda n, g: _embed(g, n.self_sizes, n.index, False),)


class IndexSelectBackward0(Node):
    __slots__ = ("self_sizes", "dim", "index")
    formulas = (lambda n, g: _embed(
        g, n.self_sizes, (slice(None),) * n.dim + (n.index,), True),)


class GatherBackward0(Node):
    __slots__ = ("self_sizes", "index")
    formulas = (lambda n, g: _embed(g, n.self_sizes, n.index, True),)


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
    for item in items:
        if isinstance(item, Tensor):
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
    touched = False
    orig = 0  # the dim of the original tensor an item applies to (for messages)
    for item in converted:
        if item is Ellipsis:
            if not ellipsis_done:
                dim += data.ndim - consumed
                orig += data.ndim - consumed
                ellipsis_done = True
            continue
        touched = True
        if item is None:
            result = S.unsqueeze(result, dim)
            dim += 1
        elif isinstance(item, int):
            size = result._data.shape[dim]
            if not -size <= item < size:
                raise IndexError(
                    f"index {item} is out of bounds for dimension {orig} with size {size}")
            result = S.select(result, dim, item)
            orig += 1
        elif isinstance(item, slice):
            result = _slice(result, dim, item)
            dim += 1
            orig += 1
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
        return _advanced(result, advanced)
    if not touched:
        return _alias(self)
    return result


def _alias(input):
    out = input._data.view()
    if input._requires_grad and _grad_mode.enabled:
        return attach(S.AliasBackward0(), out, (input,))
    return link_view(make(out), (input,))


def _slice(input, dim, item):
    data = input._data
    if item.step is not None and item.step <= 0:
        if item.step == 0:
            raise ValueError("slice step cannot be zero")
        raise ValueError("step must be greater than zero")
    start, stop, step = item.indices(data.shape[dim])
    stop = max(stop, start)
    index = (slice(None),) * dim + (slice(start, stop, step),)
    out = data[index]
    if input._requires_grad and _grad_mode.enabled:
        node = SliceBackward0()
        node.self_sizes, node.index = data.shape, index
        return attach(node, out, (input,))
    return link_view(make(out), (input,))


def _check_mask(mask, shape, dim):
    for i, s in enumerate(mask.shape):
        if dim + i >= len(shape) or s != shape[dim + i]:
            raise IndexError(
                f"The shape of the mask {list(mask.shape)} at index {i} does not match the shape "
                f"of the indexed tensor {list(shape)} at index {dim + i}"
            )


def _advanced(input, advanced):
    data = input._data
    index = [slice(None)] * data.ndim
    last = 0
    pieces = []
    for dim, array in advanced:
        if array.dtype == np.bool_:
            if array.ndim == 0:  # x[True]: a new dim of size 1 (or 0)
                pieces.append((dim, array))
                continue
            nz = np.nonzero(array)
            for k, a in enumerate(nz):
                index[dim + k] = a
            last = dim + array.ndim
        else:
            size = data.shape[dim]
            bad = (array >= size) | (array < -size)
            if bad.any():
                value = int(array[bad].flat[0])
                raise IndexError(
                    f"index {value} is out of bounds for dimension {dim} with size {size}")
            index[dim] = array.astype(np.int64, copy=False)
            last = dim + 1
    del last
    if pieces:  # scalar bools: numpy handles them in the tuple like torch
        for dim, array in pieces:
            index.insert(dim, bool(array))
    index = tuple(index)
    out = data[index]
    if input._requires_grad and _grad_mode.enabled:
        node = IndexBackward0()
        node.self_sizes, node.index = data.shape, index
        return attach(node, out, (input,))
    return make(np.asarray(out))


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
        return attach(node, out, (input,))
    return make(out)


def gather(input, dim, index, *, sparse_grad=False):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    idx = index._data
    if idx.dtype != np.int64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
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
    grids = list(np.ogrid[tuple(slice(0, s) for s in idx.shape)]) if idx.ndim else []
    if idx.ndim:
        grids[d] = idx
        full_index = tuple(grids)
    else:
        full_index = ()
    out = np.asarray(data[full_index]) if idx.ndim else data.copy()
    if input._requires_grad and _grad_mode.enabled:
        node = GatherBackward0()
        node.self_sizes, node.index = data.shape, full_index
        return attach(node, out, (input,))
    return make(out)
