"""Joins and splits built on ``shape``'s cat, stack, views and split: the stacks (hstack,
vstack, dstack, column_stack, and the atleast_Nd they use), block_diag, cartesian_prod,
combinations, meshgrid, broadcast_tensors/broadcast_to, tensor_split and hsplit/vsplit/dsplit,
split_with_sizes, unsafe_split/unsafe_chunk.

Most are torch's composites, so they record the nodes torch's composites record (a stack is
a CatBackward0 of unsqueezes, tensor_split's pieces are SliceBackward0 views); block_diag
and unsafe_split have nodes of their own.
"""

from __future__ import annotations

import builtins
import itertools
import operator
import warnings

import numpy as np

from .._dtype import result_type
from .._tensor import Tensor, make, wrap_dim
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import MultiOutputNode, Node, attach, backward_node
from . import shape as S
from .indexing import index_select
from .operands import as_array, needs_grad


def _tensors(name, tensors):
    """The tensors of a ``*tensors`` or ``(tensors,)`` call."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for _i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of "
                            f"Tensors, not {type(t).__name__}")
    return tensors


def _sequence(name, tensors):
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


# ================================================================= atleast_Nd
def _at_least(t, ndim):
    d = t._data.ndim
    if d >= ndim:
        return t
    if d == 0:
        return S.reshape(t, (1,) * ndim)
    if ndim == 2:
        return S.unsqueeze(t, 0)
    if d == 1:  # 3-D from a vector: (1, n, 1)
        return S.unsqueeze(S.unsqueeze(t, 0), -1)
    return S.unsqueeze(t, -1)


def _atleast(ndim):
    def op(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], Tensor):
            return _at_least(tensors[0], ndim)
        return tuple(_at_least(t, ndim) for t in _tensors(f"atleast_{ndim}d", tensors))

    op.__name__ = f"atleast_{ndim}d"
    return op


atleast_1d = _atleast(1)
atleast_2d = _atleast(2)
atleast_3d = _atleast(3)


# ================================================================= stacks
def hstack(tensors):
    tensors = [_at_least(t, 1) for t in _sequence("hstack", tensors)]
    return S.cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return S.cat([_at_least(t, 2) for t in _sequence("vstack", tensors)], 0)


def dstack(tensors):
    return S.cat([_at_least(t, 3) for t in _sequence("dstack", tensors)], 2)


def column_stack(tensors):
    tensors = _sequence("column_stack", tensors)
    columns = [S.reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in tensors]
    return S.cat(columns, 1)


# ================================================================= block_diag
class BlockDiagBackward0(Node):
    """Each input's grad: its block of the output's grad."""

    __slots__ = ("blocks",)  # per input: (row, col, rows, cols, input shape)

    def apply(self, grad):
        out = []
        for (nxt, _), (r, c, rows, cols, shape) in zip(self.next_functions, self.blocks,
                                                          strict=True):
            if nxt is None:
                out.append(None)
                continue
            piece = S.narrow(S.narrow(grad, 0, r, rows), 1, c, cols)
            out.append(S.reshape(piece, shape))
        return out


def block_diag(*tensors):
    tensors = _tensors("block_diag", tensors)
    shapes = []
    for i, t in enumerate(tensors):
        d = t._data.ndim
        if d > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {d} dimensions")
        shapes.append((1, 1) if d == 0 else (1, t._data.shape[0]) if d == 1 else t._data.shape)
    dtype = result_type(*tensors) if len(tensors) > 1 else (
        tensors[0].dtype if tensors else None)
    rows = builtins.sum(s[0] for s in shapes)
    cols = builtins.sum(s[1] for s in shapes)
    out = np.zeros((rows, cols), dtype.np if dtype is not None else np.float32)
    blocks = []
    r = c = 0
    for t, (h, w) in zip(tensors, shapes, strict=True):
        out[r:r + h, c:c + w] = as_array(t, out.dtype).reshape(h, w)
        blocks.append((r, c, h, w, t._data.shape))
        r += h
        c += w
    if needs_grad(*tensors):
        node = BlockDiagBackward0()
        node.blocks = blocks
        return attach(node, out, tensors)
    return make(out)


# ================================================================= meshgrid, products
_warned_meshgrid = False


def meshgrid(*tensors, indexing=None):
    global _warned_meshgrid
    tensors = _tensors("meshgrid", tensors)
    if not tensors:
        raise RuntimeError("torch.meshgrid expects a non-empty TensorList")
    if indexing is None:
        if not _warned_meshgrid:
            _warned_meshgrid = True
            warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass "
                          "the indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError("torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
    for t in tensors[1:]:
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to "
                               "have the same dtype.")
    order = list(tensors)
    swap = indexing == "xy" and len(order) >= 2
    if swap:
        order[0], order[1] = order[1], order[0]
    shape = tuple(t._data.size for t in order)
    grids = []
    for i, t in enumerate(order):
        view_shape = [1] * len(order)
        view_shape[i] = -1
        grids.append(S.expand(S.view(t, tuple(view_shape)), shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    tensors = _tensors("cartesian_prod", tensors)
    for t in tensors:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return S.stack([S.flatten(g) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input._data.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return make(np.empty((0,), input._data.dtype))
    n = input._data.shape[0]
    pick = itertools.combinations_with_replacement if with_replacement \
        else itertools.combinations
    combos = np.array(list(pick(range(n), r)), np.int64).reshape(-1, r)
    columns = [index_select(input, 0, make(np.ascontiguousarray(combos[:, k])))
               for k in range(r)]
    return S.stack(columns, 1)


# ================================================================= broadcasting
def broadcast_shapes_of(tensors):
    try:
        return np.broadcast_shapes(*(t._data.shape for t in tensors))
    except ValueError:
        first = tensors[0]._data.shape
        for t in tensors[1:]:
            try:
                np.broadcast_shapes(first, t._data.shape)
            except ValueError:
                n = builtins.max(len(first), len(t._data.shape))
                a = (1,) * (n - len(first)) + tuple(first)
                b = (1,) * (n - len(t._data.shape)) + tuple(t._data.shape)
                for d in range(n - 1, -1, -1):
                    if a[d] != b[d] and a[d] != 1 and b[d] != 1:
                        raise RuntimeError(
                            f"The size of tensor a ({a[d]}) must match the size of tensor b "
                            f"({b[d]}) at non-singleton dimension {d}") from None
        raise


def broadcast_tensors(*tensors):
    tensors = _tensors("broadcast_tensors", tensors)
    if not tensors:
        return ()
    shape = broadcast_shapes_of(tensors)
    return tuple(t if t._data.shape == shape else S.expand(t, shape) for t in tensors)


def broadcast_to(input, size):
    return S.expand(input, tuple(size))


# ================================================================= splits
def _split_points(input, indices_or_sections, dim, name="tensor_split"):
    size = input._data.shape[dim]
    if isinstance(indices_or_sections, Tensor):
        t = indices_or_sections
        if t._data.dtype.kind not in "iu":
            raise RuntimeError(f"{name} expected tensor_indices_or_sections to have "
                               f"integer dtype, but got {t.dtype}")
        if t._data.ndim > 1:
            raise RuntimeError(f"{name} expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {t._data.ndim} dims")
        indices_or_sections = int(t._data) if t._data.ndim == 0 else t._data.tolist()
    if isinstance(indices_or_sections, (list, tuple)):
        bounds = []
        start = 0
        for idx in [operator.index(i) for i in indices_or_sections] + [size]:
            lo, hi = _clamp(start, size), _clamp(idx, size)
            bounds.append((lo, builtins.max(lo, hi)))
            start = idx
        return bounds
    sections = operator.index(indices_or_sections)
    if sections <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
    base, extra = divmod(size, sections)
    bounds = []
    start = 0
    for i in range(sections):
        length = base + (1 if i < extra else 0)
        bounds.append((start, start + length))
        start += length
    return bounds


def _clamp(index, size):
    """torch's slice bounds: negative from the end, then clamped to the dim."""
    if index < 0:
        index += size
    return builtins.min(builtins.max(index, 0), size)


def tensor_split(input, indices_or_sections, dim=0):
    data = input._data
    if data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = wrap_dim(dim, data.ndim)
    return tuple(S.slice_op(input, d, start, stop)
                 for start, stop in _split_points(input, indices_or_sections, d))


def _directional_split(name, dim, min_dims):
    def op(input, indices_or_sections):
        data = input._data
        if data.ndim < min_dims:
            raise RuntimeError(
                f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a "
                f"tensor with {data.ndim} dimensions!")
        if not isinstance(indices_or_sections, (int, list, tuple, Tensor)) or isinstance(
                indices_or_sections, bool):
            bad = type(indices_or_sections).__name__
            raise TypeError(
                f"{name}() received an invalid combination of arguments - got (Tensor, {bad}), "
                f"but expected one of:\n * (Tensor input, int sections)\n      didn't match "
                f"because some of the arguments have invalid types: (Tensor, !{bad}!)\n"
                f" * (Tensor input, tuple of ints indices)\n      didn't match because some "
                f"of the arguments have invalid types: (Tensor, !{bad}!)\n")
        d = 0 if name == "hsplit" and data.ndim == 1 else dim
        if isinstance(indices_or_sections, int) and not isinstance(indices_or_sections, bool):
            size = data.shape[d]
            if indices_or_sections == 0 or size % indices_or_sections:
                raise RuntimeError(
                    f"torch.{name} attempted to split along dimension {d}, but the size of the "
                    f"dimension {size} is not divisible by the split_size "
                    f"{indices_or_sections}!")
        return tensor_split(input, indices_or_sections, d)

    op.__name__ = name
    return op


hsplit = _directional_split("hsplit", 1, 1)
vsplit = _directional_split("vsplit", 0, 2)
dsplit = _directional_split("dsplit", 2, 3)


def split_with_sizes(input, split_sizes, dim=0):
    return S.split(input, list(split_sizes), dim)


UnsafeSplitBackward0 = backward_node(
    "UnsafeSplitBackward0", base=MultiOutputNode, fields=("self_sizes", "dim", "lengths"),
    self=S.split_backward)
UnsafeSplitWithSizesBackward0 = backward_node(
    "UnsafeSplitWithSizesBackward0", base=MultiOutputNode,
    fields=("self_sizes", "dim", "lengths"), self=S.split_backward)


def _unsafe_pieces(input, dim, lengths, node_cls):
    """Pieces as split makes them, but with no view tracking (torch's unsafe_ forms)."""
    if not (input._requires_grad and _grad_mode.enabled):
        return tuple(make(p._data) for p in S.split(input.detach(), lengths, dim))
    out = S.pieces(input, dim, lengths, node_cls)
    for t in out:
        t._view_of = None
        t._vc = None  # a counter of its own: torch gives each piece a fresh one
    return tuple(out)


def unsafe_split(input, split_size, dim=0):
    pieces = S.split(input.detach(), split_size, dim)
    d = wrap_dim(dim, input._data.ndim)
    return _unsafe_pieces(input, d, [p._data.shape[d] for p in pieces], UnsafeSplitBackward0)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    return _unsafe_pieces(input, dim, list(split_sizes), UnsafeSplitWithSizesBackward0)


def unsafe_chunk(input, chunks, dim=0):
    pieces = S.chunk(input.detach(), chunks, dim)
    d = wrap_dim(dim, input._data.ndim)
    return _unsafe_pieces(input, d, [p._data.shape[d] for p in pieces], UnsafeSplitBackward0)
