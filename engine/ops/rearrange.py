"""Ops that rearrange elements: roll, rot90, fliplr/flipud, tril/triu, diag, diag_embed,
diagflat, the scatters into a view's place (diagonal_scatter, select_scatter, slice_scatter,
as_strided_scatter), as_strided, unfold, repeat_interleave, tile, ravel, sum_to_size,
movedim/moveaxis, and the ``*_copy`` variants of the view ops.

A ``*_copy`` op is its view op whose result is a fresh tensor: torch records the view op's
formula under the name ``<ViewNode>_copy`` (``PermuteBackward0_copy``), which ``copy_of``
builds from the view's node class.
"""

from __future__ import annotations

import builtins
import operator

import numpy as np
from numpy.lib.stride_tricks import as_strided as _np_as_strided

from .._memory_format import contiguous_format
from .._tensor import Tensor, make, wrap_dim
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.inplace import check_inplace, check_overlap, commit
from ..autograd.node import as_view, attach, attach_outputs, backward_node, sum_to
from . import shape as S
from .indexing import _alias as _alias_view
from .indexing import index_select
from .operands import needs_grad


def _record(node_cls, out, inputs, **fields):
    if needs_grad(*inputs):
        node = node_cls()
        for k, v in fields.items():
            setattr(node, k, v)
        return attach(node, out, inputs)
    return make(out)


def _dims(args, name):
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    return tuple(operator.index(a) for a in args)


# ================================================================= roll, rot90, flips
RollBackward0 = backward_node(
    "RollBackward0", fields=("shifts", "dims"),
    self=lambda n, g: roll(g, tuple(-s for s in reversed(n.shifts)), tuple(reversed(n.dims))))


def flip(input, *args, dims=None):
    """``flip(dims)``, ``flip(*dims)`` and ``flip(dims=...)``."""
    return S.flip(input, *(args if dims is None else (dims,)))


def roll(input, shifts, dims=None):
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = () if dims is None else (dims,) if isinstance(dims, int) else tuple(dims)
    data = input._data
    if not dims and len(shifts) != 1:
        raise RuntimeError(f"`shifts` required to be of size 1 when `dims` is empty, but got "
                           f"shifts = {len(shifts)}")
    if dims and len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    if dims and data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if dims:
        wrapped = tuple(wrap_dim(d, data.ndim) for d in dims)
        out = np.roll(data, shifts, wrapped) if data.size else data.copy()
    else:
        out = np.roll(data.reshape(-1), shifts[0]).reshape(data.shape) if data.size \
            else data.copy()
    out = out if out.flags.c_contiguous else out.copy()
    return _record(RollBackward0, out, (input,), shifts=shifts, dims=dims)


Rot90Backward0 = backward_node("Rot90Backward0", fields=("k", "dims"),
                               self=lambda n, g: rot90(g, -n.k, n.dims))


def rot90(input, k=1, dims=(0, 1)):
    data = input._data
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if data.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {data.ndim}")
    d0, d1 = wrap_dim(dims[0], data.ndim), wrap_dim(dims[1], data.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    turns = k % 4
    if turns == 1:  # torch: flip(dim1) then a transposed view of the copy
        out = np.swapaxes(np.flip(data, d1).copy(), d0, d1)
    elif turns == 2:
        out = np.flip(data, (d0, d1)).copy()
    elif turns == 3:
        out = np.swapaxes(np.flip(data, d0).copy(), d0, d1)
    else:
        out = data.copy()
    return _record(Rot90Backward0, out, (input,), k=k, dims=dims)


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return S.flip(input, (1,))


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return S.flip(input, (0,))


# ================================================================= tril, triu
TrilBackward0 = backward_node("TrilBackward0", fields=("diagonal",),
                              self=lambda n, g: tril(g, n.diagonal))
TriuBackward0 = backward_node("TriuBackward0", fields=("diagonal",),
                              self=lambda n, g: triu(g, n.diagonal))


def _triangle(np_fn, node_cls, name):
    def op(input, diagonal=0):
        data = input._data
        if data.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        return _record(node_cls, np.ascontiguousarray(np_fn(data, diagonal)), (input,),
                       diagonal=diagonal)

    op.__name__ = name
    return op


tril = _triangle(np.tril, TrilBackward0, "tril")
triu = _triangle(np.triu, TriuBackward0, "triu")


def _triangle_(name):
    def method(self, diagonal=0):
        check_inplace(self)
        check_overlap(self)
        return commit(self, (tril if name == "tril" else triu)(self, diagonal))

    method.__name__ = name + "_"
    return method


tril_ = _triangle_("tril")
triu_ = _triangle_("triu")


# ================================================================= diagonals
DiagEmbedBackward0 = backward_node(
    "DiagEmbedBackward0", fields=("offset", "dim1", "dim2"),
    self=lambda n, g: S.diagonal(g, n.offset, n.dim1, n.dim2))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    data = input._data
    ndim = data.ndim + 1
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (data.shape[-1] if data.ndim else 1) + builtins.abs(offset)
    rest = list(data.shape[:-1])
    shape = []
    for d in range(ndim):
        shape.append(n if d in (d1, d2) else rest.pop(0))
    out = np.zeros(shape, data.dtype)
    S._diagonal_array(out, offset, d1, d2)[...] = data
    return _record(DiagEmbedBackward0, out, (input,), offset=offset, dim1=d1, dim2=d2)


def diagflat(input, offset=0):
    return diag_embed(S.reshape(S.contiguous(input), (-1,)), offset, 0, 1)


def diag(input, diagonal=0):
    data = input._data
    if data.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if data.ndim == 2:
        return diagonal_copy(input, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {data.ndim}D")


# ================================================================= scatters into a view's place
def _scatter(place, input, src, node_cls, **fields):
    """``input`` with ``src`` written where the view ``place(array)`` lies."""
    out = input._data.copy()
    region = place(out)
    if region.shape != src._data.shape:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size "
                           f"= {list(src._data.shape)}, slice size = {list(region.shape)}")
    region[...] = src._data
    return _record(node_cls, out, (input, src), src_shape=src._data.shape, **fields)


def _zeros(shape, like):
    return make(np.zeros(shape, like._data.dtype))


DiagonalScatterBackward0 = backward_node(
    "DiagonalScatterBackward0", fields=("src_shape", "offset", "dim1", "dim2"),
    self=lambda n, g: diagonal_scatter(g, _zeros(n.src_shape, g), n.offset, n.dim1, n.dim2),
    src=lambda n, g: S.diagonal(g, n.offset, n.dim1, n.dim2))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    ndim = input._data.ndim
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    return _scatter(lambda a: S._diagonal_array(a, offset, d1, d2), input, src,
                    DiagonalScatterBackward0, offset=offset, dim1=d1, dim2=d2)


SelectScatterBackward0 = backward_node(
    "SelectScatterBackward0", fields=("src_shape", "dim", "index"),
    self=lambda n, g: select_scatter(g, _zeros(n.src_shape, g), n.dim, n.index),
    src=lambda n, g: S.select(g, n.dim, n.index))


def select_scatter(input, src, dim, index):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    size = data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(data.shape)} at dimension {d}")
    index = index + size if index < 0 else index
    return _scatter(lambda a: a[(slice(None),) * d + (index, Ellipsis)], input, src,
                    SelectScatterBackward0, dim=d, index=index)


SliceScatterBackward0 = backward_node(
    "SliceScatterBackward0", fields=("src_shape", "dim", "start", "end", "step"),
    self=lambda n, g: slice_scatter(g, _zeros(n.src_shape, g), n.dim, n.start, n.end, n.step),
    src=lambda n, g: S.slice_op(g, n.dim, n.start, n.end, n.step))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    lo, hi, _ = slice(start, end).indices(data.shape[d])
    hi = builtins.max(lo, hi)
    return _scatter(lambda a: a[(slice(None),) * d + (slice(lo, hi, step),)], input, src,
                    SliceScatterBackward0, dim=d, start=lo, end=hi, step=step)


# ================================================================= as_strided
def _storage(input):
    """The flat storage an as_strided view reads, and ``input``'s offset in it."""
    root = input._view_of if input._view_of is not None else input
    base = root._data
    if not base.flags.c_contiguous:
        base = np.ascontiguousarray(base)
        return base.reshape(-1), 0
    offset = (input._data.__array_interface__["data"][0]
              - base.__array_interface__["data"][0]) // base.itemsize if input._data.size \
        else 0
    return base.reshape(-1), offset


def _strided_positions(size, stride, offset):
    pos = np.full(tuple(size), offset, np.int64)
    for d, (n, st) in enumerate(zip(size, stride, strict=True)):
        shape = [1] * len(size)
        shape[d] = n
        pos = pos + (np.arange(n, dtype=np.int64) * st).reshape(shape)
    return pos


def _check_geometry(size, stride, offset, storage_size, itemsize):
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    for st in stride:
        if st < 0:
            raise RuntimeError("as_strided: Negative strides are not supported at the moment, "
                               f"got strides: {list(stride)}")
    needed = 0 if 0 in size else offset + 1 + builtins.sum(
        (n - 1) * st for n, st in zip(size, stride, strict=True))
    if needed > storage_size:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {itemsize} requiring a storage size of {needed * itemsize} are out "
            f"of bounds for storage of size {storage_size * itemsize}")


def _restride(grad, read, write, storage_size, shape):
    """Add ``grad``'s elements into a zero storage at positions ``read``, and read the
    storage back at ``write`` (shape ``shape``): as_strided's backward, and (with the
    positions swapped) that backward's own."""
    storage = np.zeros(storage_size, grad._data.dtype)
    np.add.at(storage, read.reshape(-1), grad._data.reshape(-1))
    out = storage[write].reshape(shape)
    if _grad_mode.enabled and grad._requires_grad:
        node = RestrideBackward()
        node.read, node.write, node.storage_size = write, read, storage_size
        node.shape = grad._data.shape
        return attach(node, out, (grad,))
    return make(out)


RestrideBackward = backward_node(  # the grad of as_strided's backward, under create_graph
    "AsStridedBackward0", fields=("read", "write", "storage_size", "shape"),
    grad=lambda n, g: _restride(g, n.read, n.write, n.storage_size, n.shape))
AsStridedViewBackward0 = backward_node(
    "AsStridedBackward0", fields=("positions", "input_positions", "storage_size", "self_sizes"),
    self=lambda n, g: _restride(g, n.positions, n.input_positions, n.storage_size,
                                n.self_sizes))


AsStridedBackward1 = type("AsStridedBackward1", (AsStridedViewBackward0,), {"__slots__": ()})


def as_strided(input, size, stride, storage_offset=None):
    storage, own = _storage(input)
    offset = own if storage_offset is None else storage_offset
    size, stride = tuple(size), tuple(stride)
    itemsize = storage.itemsize
    _check_geometry(size, stride, offset, storage.size, itemsize)
    out = _np_as_strided(storage[offset:], size, tuple(s * itemsize for s in stride)) \
        if storage.size > offset else np.zeros(size, storage.dtype)
    data = input._data
    input_positions = _strided_positions(
        data.shape, tuple(s // data.itemsize for s in data.strides), own)
    if needs_grad(input):
        node = AsStridedViewBackward0()
        node.positions = _strided_positions(size, stride, offset)
        node.input_positions = input_positions
        node.storage_size = storage.size
        node.self_sizes = data.shape
        result = attach(node, out, (input,))
    else:
        result = make(out)
    return as_view(result, input) if result._view_of is None else result


def as_strided_(self, size, stride, storage_offset=None):
    """``x.as_strided_(...)``: ``x`` takes the view's geometry and history."""
    check_inplace(self)
    out = as_strided(self, size, stride, storage_offset)
    node = out._grad_fn
    if node is not None:  # the in-place form's node: AsStridedBackward1, the same formula
        twin = AsStridedBackward1()
        for slot in AsStridedViewBackward0.__slots__:
            setattr(twin, slot, getattr(node, slot))
        node = attach(twin, out._data, (self,))._grad_fn  # wired to self as it was
    self._data = out._data
    if node is not None:
        self._grad_fn = node
    return self


AsStridedScatterBackward0 = backward_node(  # torch keeps self's grad inside the region only
    "AsStridedScatterBackward0", fields=("size", "stride", "storage_offset", "region"),
    self=lambda n, g: g * make(n.region),
    src=lambda n, g: as_strided(S.contiguous(g), n.size, n.stride, n.storage_offset))


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    size, stride = tuple(size), tuple(stride)
    out = np.ascontiguousarray(input._data).copy()
    flat = out.reshape(-1)
    offset = 0 if storage_offset is None else storage_offset
    _check_geometry(size, stride, offset, flat.size, flat.itemsize)
    if src._data.shape != size:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size "
                           f"= {list(src._data.shape)}, slice size = {list(size)}")
    positions = _strided_positions(size, stride, offset)
    flat[positions] = src._data
    region = np.zeros(flat.size, np.bool_)
    region[positions.reshape(-1)] = True
    return _record(AsStridedScatterBackward0, out, (input, src), size=size, stride=stride,
                   storage_offset=storage_offset, region=region.reshape(out.shape))


# ================================================================= unfold
UnfoldBackwardBackward0 = backward_node(
    "UnfoldBackwardBackward0", fields=("dim", "size", "step"),
    grad_in=lambda n, g: unfold(g, n.dim, n.size, n.step))


def unfold_backward(grad, sizes, dim, size, step):
    """torch's unfold_backward: each window's grads added back where the window read."""
    g = grad._data
    if not sizes:  # a 0-d input unfolds to one window of one element
        out = np.asarray(g.reshape(-1)[:1].sum(), g.dtype).reshape(())
    else:
        out = np.zeros(sizes, g.dtype)
        target = np.moveaxis(out, dim, -1)
        windows = np.moveaxis(g, dim, -2)
        for w in range(windows.shape[-2]):
            target[..., w * step:w * step + size] += windows[..., w, :]
    if _grad_mode.enabled and grad._requires_grad:
        node = UnfoldBackwardBackward0()
        node.dim, node.size, node.step = dim, size, step
        return attach(node, out, (grad,))
    return make(out)


UnfoldBackward0 = backward_node(
    "UnfoldBackward0", fields=("self_sizes", "dim", "size", "step"),
    self=lambda n, g: unfold_backward(g, n.self_sizes, n.dim, n.size, n.step))


def unfold(input, dimension, size, step):
    data = input._data
    d = wrap_dim(dimension, builtins.max(data.ndim, 1))
    length = data.shape[d] if data.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if data.ndim == 0:
        out = data.reshape(1)
    else:
        count = (length - size) // step + 1
        shape = data.shape[:d] + (count,) + data.shape[d + 1:] + (size,)
        strides = data.strides[:d] + (data.strides[d] * step,) + data.strides[d + 1:] + (
            data.strides[d],)
        out = _np_as_strided(data, shape, strides, writeable=data.flags.writeable)
    result = _record(UnfoldBackward0, out, (input,), self_sizes=data.shape, dim=d, size=size,
                     step=step)
    return as_view(result, input) if result._view_of is None else result


# ================================================================= repeat_interleave, tile, ravel
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:  # torch.repeat_interleave(repeats): the indices repeated
        counts = input._data
        return make(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    if isinstance(repeats, Tensor) and repeats._data.size != 1:
        if dim is None:
            input, dim = S.flatten(input), 0
        d = wrap_dim(dim, input._data.ndim)
        counts = repeats._data.reshape(-1)
        if counts.size != input._data.shape[d]:
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {counts.size} and input.size({d}) = "
                               f"{input._data.shape[d]}")
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        index = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
        return index_select(input, d, make(index))
    count = int(repeats._data.reshape(-1)[0]) if isinstance(repeats, Tensor) else repeats
    if count < 0:
        raise RuntimeError("repeats can not be negative")
    if dim is None:
        input, dim = S.flatten(input), 0
    data = input._data
    d = wrap_dim(dim, builtins.max(data.ndim, 1))
    if data.ndim == 0:
        input = S.reshape(input, (1,))
        data = input._data
    shape = data.shape[:d + 1] + (count,) + data.shape[d + 1:]
    expanded = S.expand(S.unsqueeze(input, d + 1), shape)
    return S.flatten(S.clone(expanded), d, d + 1)


def tile(input, dims):
    dims = _dims((dims,), "tile")
    lead = input._data.ndim - len(dims)
    if lead > 0:
        dims = (1,) * lead + dims
    return S.repeat(input, dims)


def ravel(input):
    """torch's ``contiguous().view(-1)``."""
    if not input._data.flags.c_contiguous:
        input = S.clone(input, memory_format=contiguous_format)
    return S.view(input, (-1,))


def sum_to_size(input, *size):
    size = _dims(size, "sum_to_size")
    shape = input._data.shape
    lead = len(size) - len(shape)
    ok = len(size) <= len(shape) and builtins.all(
        s == 1 or s == have for s, have in zip(size, shape[len(shape) - len(size):],
                                                 strict=True))
    if not size and not shape:
        return input.sum()  # torch sums even a 0-d tensor (SumBackward0)
    if not ok or lead > 0:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size "
                           f"{{{list(shape)}}}.".replace("[", "[").replace("]", "]"))
    return sum_to(input, size)


def movedim(input, source, destination):
    ndim = input._data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src = tuple(wrap_dim(d, builtins.max(ndim, 1)) for d in src)
    dst = tuple(wrap_dim(d, builtins.max(ndim, 1)) for d in dst)
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(source)})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(destination)})")
    if ndim == 0:  # torch returns self.alias() (AliasBackward0)
        return _alias_view(input)
    order = [None] * ndim
    for s, d in zip(src, dst, strict=True):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    return S.permute(input, tuple(order))


# ================================================================= *_copy
_copy_classes: dict = {}


def copy_class(cls):
    """The node class ``<cls name>_copy``: the view's formula, for the copy op."""
    found = _copy_classes.get(cls)
    if found is None:
        found = _copy_classes[cls] = type(cls.__name__ + "_copy", (cls,), {"__slots__": ()})
    return found


def _as_copy(view, input):
    """The view ``view`` of ``input`` as a fresh tensor whose node is the view node's
    ``_copy`` twin (same saved fields)."""
    data = np.array(view._data, copy=True, order="C")
    node = view._grad_fn
    if node is None or not needs_grad(input):
        return make(data)
    return attach(_twin(node), data, (input,))


def _as_copies(views, input):
    """The outputs of split or unbind as copies: one ``_copy`` twin of their one node."""
    arrays = [np.array(v._data, copy=True, order="C") for v in views]
    node = views[0]._grad_fn if views else None
    if node is None or not needs_grad(input):
        return tuple(make(data) for data in arrays)
    return tuple(attach_outputs(_twin(node), arrays, (input,)))


def _twin(node):
    twin = copy_class(type(node))()
    for slot in type(node).saved + tuple(getattr(type(node), "__slots__", ())):
        if hasattr(node, slot):
            setattr(twin, slot, getattr(node, slot))
    return twin


def copy_of(view_op, name):
    def op(input, *args, **kwargs):
        result = view_op(input, *args, **kwargs)
        if isinstance(result, tuple):
            return _as_copies(result, input)
        return _as_copy(result, input)

    op.__name__ = name
    return op


def _alias(input):
    return _record(S.AliasBackward0, input._data, (input,))


def _detach_copy(input):
    return make(input._data.copy())


view_copy = copy_of(S.view, "view_copy")
permute_copy = copy_of(S.permute, "permute_copy")
t_copy = copy_of(S.t, "t_copy")
transpose_copy = copy_of(S.transpose, "transpose_copy")
squeeze_copy = copy_of(S.squeeze, "squeeze_copy")
unsqueeze_copy = copy_of(S.unsqueeze, "unsqueeze_copy")
expand_copy = copy_of(S.expand, "expand_copy")
diagonal_copy = copy_of(S.diagonal, "diagonal_copy")
select_copy = copy_of(S.select, "select_copy")
unbind_copy = copy_of(S.unbind, "unbind_copy")
split_copy = copy_of(S.split, "split_copy")
split_with_sizes_copy = copy_of(lambda x, sizes, dim=0: S.split(x, list(sizes), dim),
                                "split_with_sizes_copy")
alias_copy = copy_of(_alias, "alias_copy")
as_strided_copy = copy_of(as_strided, "as_strided_copy")
unfold_copy = copy_of(unfold, "unfold_copy")
detach_copy = _detach_copy


def _slice_copy(input, dim=0, start=None, end=None, step=1):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    lo, hi, _ = slice(start, end).indices(data.shape[d])
    return S.slice_op(input, d, lo, builtins.max(lo, hi), step)


slice_copy = copy_of(_slice_copy, "slice_copy")

def _narrow_copy_grad(n, g):
    """torch's formula slices the zeros at ``start:start + length`` unwrapped, as slice
    reads them: a negative start whose range reaches the end (-3:0) is an empty slice, and
    copying the grad into it is torch's size-mismatch error."""
    size = n.self_sizes[n.dim]
    lo = n.start + size if n.start < 0 else n.start
    hi = n.end + size if n.end < 0 else n.end
    lo = builtins.min(builtins.max(lo, 0), size)
    hi = builtins.min(builtins.max(hi, lo), size)
    if hi - lo != g._data.shape[n.dim]:
        raise RuntimeError(f"The size of tensor a ({hi - lo}) must match the size of tensor b "
                           f"({g._data.shape[n.dim]}) at non-singleton dimension {n.dim}")
    return S.slice_backward(g, n.self_sizes, n.dim, lo, hi, n.step)


NarrowCopyBackward0 = backward_node(
    "NarrowCopyBackward0", fields=("self_sizes", "dim", "start", "end", "step"),
    self=_narrow_copy_grad)


def narrow_copy(input, dim, start, length):
    if input._data.ndim and dim >= input._data.ndim:  # torch's check, before wrapping dims
        raise RuntimeError(
            "Expected dim < static_cast<int64_t>(self_sizes.size()) to be true, but got false.  "
            "(Could this error message be improved?  If so, please report an enhancement "
            "request to PyTorch.)")
    size = input._data.shape[wrap_dim(dim, input._data.ndim)] if input._data.ndim else 0
    if length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    view = S.narrow(input, dim, start, length)
    data = np.array(view._data, copy=True, order="C")
    node = view._grad_fn
    if node is None or not needs_grad(input):
        return make(data)
    start = int(getattr(start, "_data", start))  # unwrapped, as torch's formula takes it
    return _record(NarrowCopyBackward0, data, (input,), self_sizes=node.self_sizes,
                   dim=node.dim, start=start, end=start + length, step=node.step)

