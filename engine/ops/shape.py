"""Shape ops: views (view, reshape, squeeze, unsqueeze, t, transpose, permute, expand, narrow,
select, diagonal) and copies (clone, contiguous, repeat, flip, cat, stack, split/chunk/unbind
outputs), each op's backward node next to it.

Views are numpy views, so they share memory with their base as torch's do; numpy's
C-contiguity flag is torch's ``is_contiguous`` (both ignore the strides of size-1 dims).
``reshape`` records what torch records: ViewBackward0 on a contiguous input,
ReshapeAliasBackward0 on a non-contiguous one that can still be viewed, and a clone
followed by UnsafeViewBackward0 otherwise.  split, chunk and unbind have one node for all
their outputs, as torch's (SplitBackward0 ..., a MultiOutputNode).
"""

from __future__ import annotations

import builtins
import math
import operator
import warnings

import numpy as np

from .._dtype import dtype as _dtype_class
from .._dtype import legacy_type_name, result_type
from .._memory_format import contiguous_format
from .._tensor import Tensor, make, wrap_dim
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import (
    MultiOutputNode,
    Node,
    as_view,
    attach,
    attach_outputs,
    backward_node,
    link_view,
    mark_multi_output,
    sum_to,
)
from ..runtime.quiet import silent
from .operands import as_array, copy_in_format, needs_grad

VIEW_ERROR = (
    "view size is not compatible with input tensor's size and stride (at least one dimension "
    "spans across two contiguous subspaces). Use .reshape(...) instead."
)


# ================================================================= helpers
def _sizes(args, name="view"):
    """Sizes given as varargs or one sequence."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    for a in args:  # the usual case, ints, without the conversions below
        if type(a) is not int:
            break
    else:
        return tuple(args)
    try:
        return tuple(operator.index(a) for a in args)
    except TypeError:
        bad = next(a for a in args if not isinstance(a, int))
        raise TypeError(
            f"{name}(): argument 'size' (position 1) must be tuple of ints, but found element "
            f"of type {type(bad).__name__} at pos 0"
        ) from None


def infer_size(shape, numel):
    """Resolve one -1 as torch does, with its errors."""
    infer = None
    known = 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if infer is None:
        if known == numel:
            return shape
    elif known == 0 and numel == 0:
        raise RuntimeError(
            f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
            f"unspecified dimension size -1 can be any value and is ambiguous")
    elif known != 0 and numel % known == 0:
        return shape[:infer] + (numel // known,) + shape[infer + 1:]
    raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")


def _try_view(data, shape):
    try:
        return np.reshape(data, shape, copy=False)
    except ValueError:
        return None


def _unary_node(node, out, input):
    if input._requires_grad and _grad_mode.enabled:
        return attach(node, out, (input,))
    return link_view(make(out), (input,)) if out.base is not None else make(out)


def _view_result(out, input):
    """A view made without a graph (in a backward formula, say) is still a view of its
    input, as torch's: an in-place op on an ``autograd.grad`` result sees that.  (``out``
    has a base only when numpy could view ``input``'s memory.)"""
    if out.base is None:
        return make(out)
    return as_view(make(out), input)


# ================================================================= views
def _reshape_grad(n, g):
    return reshape(g, n.self_sizes)


ViewBackward0 = backward_node("ViewBackward0", fields=("self_sizes",), self=_reshape_grad)
ReshapeAliasBackward0 = backward_node("ReshapeAliasBackward0", fields=("self_sizes",),
                                      self=_reshape_grad)
UnsafeViewBackward0 = backward_node("UnsafeViewBackward0", fields=("self_sizes",),
                                    self=_reshape_grad)


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        if isinstance(shape[0], _dtype_class):
            raise NotImplementedError("engine does not implement view(dtype)")
    data = input._data
    shape = infer_size(_sizes(shape), data.size)
    out = _try_view(data, shape)
    if out is None:
        raise RuntimeError(VIEW_ERROR)
    if input._requires_grad and _grad_mode.enabled:
        node = ViewBackward0()
        node.self_sizes = data.shape
        return attach(node, out, (input,))
    return link_view(make(out), (input,))


def view_as(input, other):
    return view(input, other._data.shape)


def reshape(input, *shape):
    data = input._data
    shape = infer_size(_sizes(shape, "reshape"), data.size)
    if data.flags.c_contiguous:
        node_cls = ViewBackward0
        out = data.reshape(shape)
    else:
        out = _try_view(data, shape)
        if out is not None:
            node_cls = ReshapeAliasBackward0
        else:
            input = clone(input)
            out = input._data.reshape(shape)
            node_cls = UnsafeViewBackward0
    if input._requires_grad and _grad_mode.enabled:
        node = node_cls()
        node.self_sizes = data.shape
        return attach(node, out, (input,))
    return link_view(make(out), (input,)) if out.base is not None else make(out)


def flatten(input, start_dim=0, end_dim=-1):
    data = input._data
    if data.ndim == 0:
        return reshape(input, (1,))
    start = wrap_dim(start_dim, data.ndim)
    end = wrap_dim(end_dim, data.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    shape = data.shape[:start] + (math.prod(data.shape[start:end + 1]),) + data.shape[end + 1:]
    return reshape(input, shape)


def unflatten(input, dim, sizes):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    sizes = infer_size(tuple(sizes), data.shape[d])
    return view(input, data.shape[:d] + sizes + data.shape[d + 1:])


SqueezeBackward0 = backward_node("SqueezeBackward0", fields=("self_sizes",), self=_reshape_grad)
SqueezeBackward1 = backward_node(  # squeeze(dim): unsqueeze_to puts back only a squeezed dim
    "SqueezeBackward1", fields=("self_sizes", "dim"),
    self=lambda n, g: unsqueeze(g, n.dim) if n.self_sizes and n.self_sizes[n.dim] == 1 else g)
SqueezeBackward2 = backward_node("SqueezeBackward2", fields=("self_sizes",), self=_reshape_grad)
SqueezeBackward4 = backward_node(  # squeeze_(dim), as matmul of a vector and a matrix records it
    "SqueezeBackward4", fields=("self_sizes",), self=_reshape_grad)
UnsqueezeBackward0 = backward_node("UnsqueezeBackward0", fields=("dim",),
                                   self=lambda n, g: squeeze(g, n.dim))


def squeezed_shape(shape: tuple, dims: set | None) -> tuple:
    """The shape squeeze gives: the size-1 dims dropped (all of them, or those in ``dims``)."""
    return tuple(s for i, s in enumerate(shape) if s != 1 or (dims is not None and i not in dims))


def squeeze(input, dim=None):
    data = input._data
    dims = None
    if dim is None:
        node = SqueezeBackward0()
    elif isinstance(dim, (tuple, list)):
        node = SqueezeBackward2()
        dims = {wrap_dim(d, data.ndim) for d in dim}
    else:
        node = SqueezeBackward1()
        node.dim = wrap_dim(dim, data.ndim)
        dims = {node.dim}
    node.self_sizes = data.shape
    return _unary_node(node, data.reshape(squeezed_shape(data.shape, dims)), input)


def unsqueeze(input, dim):
    data = input._data
    d = wrap_dim(dim, data.ndim + 1)
    node = UnsqueezeBackward0()
    node.dim = d
    return _unary_node(node, np.expand_dims(data, d), input)


AliasBackward0 = backward_node("AliasBackward0", self=lambda n, g: g)
TBackward0 = backward_node("TBackward0", self=lambda n, g: t(g))
TransposeBackward0 = backward_node("TransposeBackward0", fields=("dim0", "dim1"),
                                   self=lambda n, g: transpose(g, n.dim0, n.dim1))
PermuteBackward0 = backward_node(
    "PermuteBackward0", fields=("dims",),
    self=lambda n, g: permute(g, tuple(np.argsort(n.dims).tolist())))


def t(input):
    data = input._data
    if data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {data.ndim}D")
    return _unary_node(TBackward0(), data.T, input)


def transpose(input, dim0, dim1):
    data = input._data
    d0, d1 = wrap_dim(dim0, data.ndim), wrap_dim(dim1, data.ndim)
    node = TransposeBackward0()
    node.dim0, node.dim1 = d0, d1
    out = np.swapaxes(data, d0, d1) if data.ndim else data[...]  # 0-d: dims 0 and -1 only
    return _unary_node(node, out, input)


def permute(input, *dims):
    data = input._data
    dims = _sizes(dims, "permute")
    if len(dims) != data.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            "length of the desired ordering of dimensions i.e. input.dim() = "
            f"{data.ndim} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(wrap_dim(d, data.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    node = PermuteBackward0()
    node.dims = dims
    return _unary_node(node, np.transpose(data, dims), input)


def movedim(input, source, destination):
    """``x.movedim(source, destination)`` for one dim: torch records it as a permute."""
    ndim = input._data.ndim
    src, dst = wrap_dim(source, ndim), wrap_dim(destination, ndim)
    order = [d for d in range(ndim) if d != src]
    order.insert(dst, src)
    return permute(input, tuple(order))


_warned_T = set()


def T(input):  # noqa: N802 - torch's name
    data = input._data
    if data.ndim != 2:
        key = data.ndim == 0
        if key not in _warned_T:
            _warned_T.add(key)
            message = (
                "Tensor.T is deprecated on 0-D tensors. This function is the identity in these "
                "cases." if key else
                "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                "deprecated and it will throw an error in a future release. Consider `x.mT` to "
                "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
                "to reverse the dimensions of a tensor."
            )
            warnings.warn(message, UserWarning, stacklevel=3)
    return permute(input, tuple(range(data.ndim - 1, -1, -1)))


def mT(input):  # noqa: N802 - torch's name
    data = input._data
    if data.ndim < 2:
        raise RuntimeError(
            "tensor.mT is only supported on matrices or batches of matrices. Got "
            f"{data.ndim}-D tensor."
        )
    return transpose(input, -2, -1)


DiagonalBackward0 = backward_node(
    "DiagonalBackward0", fields=("self_sizes", "offset", "dim1", "dim2"),
    self=lambda n, g: diagonal_backward(g, n.self_sizes, n.offset, n.dim1, n.dim2))
DiagonalBackwardBackward0 = backward_node(  # torch's diagonal_backward is an op
    "DiagonalBackwardBackward0", fields=("offset", "dim1", "dim2"),
    grad_output=lambda n, g: diagonal(g, n.offset, n.dim1, n.dim2))


def _diagonal_array(data, offset, dim1, dim2):
    """numpy's diagonal view, writable when ``data`` is (torch's diagonal is a plain view)."""
    out = np.diagonal(data, offset, dim1, dim2)
    if data.flags.writeable:
        out.flags.writeable = True
    return out


def diagonal(input, offset=0, dim1=0, dim2=1):
    """``x.diagonal(offset, dim1, dim2)``: a view, the diagonal as the last dim
    (DiagonalBackward0).  Used by einsum for repeated labels."""
    data = input._data
    d1, d2 = wrap_dim(dim1, data.ndim), wrap_dim(dim2, data.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    node = DiagonalBackward0()
    node.self_sizes, node.offset, node.dim1, node.dim2 = data.shape, offset, d1, d2
    out = _unary_node(node, _diagonal_array(data, offset, d1, d2), input)
    # numpy's diagonal views an intermediate array, which link_view does not recognise
    return out if out._view_of is not None else as_view(out, input)


def diagonal_backward(grad, sizes, offset, dim1, dim2):
    """torch's diagonal_backward: zeros with ``grad`` on the diagonal
    (DiagonalBackwardBackward0, whose grad is the diagonal again)."""
    out = np.zeros(sizes, grad._data.dtype)
    _diagonal_array(out, offset, dim1, dim2)[...] = grad._data
    if grad._requires_grad and _grad_mode.enabled:
        node = DiagonalBackwardBackward0()
        node.offset, node.dim1, node.dim2 = offset, dim1, dim2
        return attach(node, out, (grad,))
    return make(out)


ExpandBackward0 = backward_node("ExpandBackward0", fields=("self_sizes",),
                                self=lambda n, g: sum_to(g, n.self_sizes))


def broadcast_view(data: np.ndarray, shape: tuple) -> np.ndarray:
    """``np.broadcast_to(data, shape)`` (a read-only view) without its Python-level cost: the
    strides are computed here, 0 along broadcast dims.  Falls back to numpy for arrays that
    do not expose a plain buffer (non-contiguous ones) and for shapes numpy must reject."""
    src = data.shape
    lead = len(shape) - len(src)
    if lead < 0 or not data.flags.c_contiguous:
        return np.broadcast_to(data, shape)
    strides = [0] * lead
    for have, want, stride in zip(src, shape[lead:], data.strides, strict=True):
        if have == want:
            strides.append(stride)
        elif have == 1:
            strides.append(0)
        else:
            return np.broadcast_to(data, shape)  # numpy raises its error
    out = np.ndarray(shape, data.dtype, data, 0, strides)
    out.flags.writeable = False
    return out


def expand(input, *sizes):
    """A read-only broadcast view, as torch's expand (no copy); a size of -1 keeps the dim."""
    data = input._data
    sizes = _sizes(sizes, "expand")
    try:  # the usual case: numpy broadcasts to these sizes (no -1, nothing torch rejects)
        out = broadcast_view(data, sizes)
    except ValueError:
        out = None
    if out is None:
        out = broadcast_view(data, _expanded_sizes(input, sizes))
    if input._requires_grad and _grad_mode.enabled:
        node = ExpandBackward0()
        node.self_sizes = data.shape
        return attach(node, out, (input,))
    return _view_result(out, input)


def _expanded_sizes(input, sizes):
    """The sizes with each -1 replaced by the dim it keeps; torch's errors for the rest."""
    data = input._data
    if len(sizes) < data.ndim:
        raise RuntimeError(
            f"expand({legacy_type_name(input.dtype)}{{{list(data.shape)}}}, "
            f"size={list(sizes)}): the number of sizes provided ({len(sizes)}) must be greater "
            f"or equal to the number of dimensions in the tensor ({data.ndim})"
        )
    lead = len(sizes) - data.ndim
    target = list(sizes)
    for i, s in enumerate(data.shape):
        want = sizes[lead + i]
        if want == -1:
            target[lead + i] = s
        elif s != want and s != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({want}) must match the existing size ({s}) "
                f"at non-singleton dimension {lead + i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(data.shape)}"
            )
    for i in range(lead):
        if sizes[i] < 0:
            raise RuntimeError(
                f"The expanded size of the tensor ({sizes[i]}) isn't allowed in a leading, "
                "non-existing dimension 0"
            )
    return tuple(target)


def expand_as(input, other):
    return expand(input, other._data.shape)


SliceBackward0 = backward_node(  # slice (narrow, x[a:b:c]): the grad is torch's slice_backward op
    "SliceBackward0", fields=("self_sizes", "dim", "start", "end", "step"),
    self=lambda n, g: slice_backward(g, n.self_sizes, n.dim, n.start, n.end, n.step))
SliceBackwardBackward0 = backward_node(  # a create_graph grad of a slice: its grad is the slice
    "SliceBackwardBackward0", fields=("dim", "start", "end", "step"),
    grad_output=lambda n, g: slice_op(g, n.dim, n.start, n.end, n.step))


def slice_backward(grad, sizes, dim, start, end, step):
    """Zeros of ``sizes`` with ``grad`` at ``start:end:step`` along ``dim``."""
    out = np.zeros(sizes, grad._data.dtype)
    out[(slice(None),) * dim + (slice(start, end, step),)] = grad._data
    if grad._requires_grad and _grad_mode.enabled:
        node = SliceBackwardBackward0()
        node.dim, node.start, node.end, node.step = dim, start, end, step
        return attach(node, out, (grad,))
    return make(out)


def slice_op(input, dim, start, end, step=1):
    """torch's ``slice`` with bounds already clamped to the dim (a view, SliceBackward0)."""
    data = input._data
    node = SliceBackward0()
    node.self_sizes, node.dim, node.start, node.end, node.step = data.shape, dim, start, end, step
    return _unary_node(node, data[(slice(None),) * dim + (slice(start, end, step),)], input)


def narrow(input, dim, start, length):
    data = input._data
    if data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if not isinstance(start, int):  # a 0-d integer tensor
        start_data = getattr(start, "_data", None)
        if start_data is None or start_data.ndim or start_data.dtype.kind not in "iu":
            raise RuntimeError("start must be an 0-dim integral Tensor.")
        start = int(start_data)
    d = wrap_dim(dim, data.ndim)
    size = data.shape[d]
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(
            f"start ({start}) + length ({length}) exceeds dimension size ({size})."
        )
    return slice_op(input, d, start, start + length)


SelectBackward0 = backward_node(
    "SelectBackward0", fields=("self_sizes", "dim", "index"),
    self=lambda n, g: select_backward(g, n.self_sizes, n.dim, n.index))
SelectBackwardBackward0 = backward_node(  # torch's select_backward is an op
    "SelectBackwardBackward0", fields=("dim", "index"),
    grad_output=lambda n, g: select(g, n.dim, n.index))


def select_backward(grad, sizes, dim, index):
    """Zeros of ``sizes`` with ``grad`` at ``index`` along ``dim``."""
    out = np.zeros(sizes, grad._data.dtype)
    out[(slice(None),) * dim + (index, Ellipsis)] = grad._data
    if grad._requires_grad and _grad_mode.enabled:
        node = SelectBackwardBackward0()
        node.dim, node.index = dim, index
        return attach(node, out, (grad,))
    return make(out)


def select(input, dim, index):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    size = data.shape[d]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(data.shape)} at "
            f"dimension {d}"
        )
    if index < 0:
        index += size
    node = SelectBackward0()
    node.self_sizes, node.dim, node.index = data.shape, d, index
    # the trailing Ellipsis keeps a 0-d result a view (numpy would return a scalar copy)
    return _unary_node(node, data[(slice(None),) * d + (index, Ellipsis)], input)


# ================================================================= copies
CloneBackward0 = backward_node("CloneBackward0", self=lambda n, g: g)


def clone(input, *, memory_format=None):
    """A copy in the input's layout (torch's preserve_format: dims ordered as the input's
    strides order them, densely)."""
    data = input._data
    out = copy_in_format(data, data.dtype, getattr(memory_format, "_name", "preserve_format"))
    if needs_grad(input):
        return attach(CloneBackward0(), out, (input,))
    return make(out)


def is_contiguous(input, memory_format=None):
    """Contiguous in ``memory_format``: channels_last(_3d) reads the strides of dims 1, then
    the last ones, then 0, as dense from the innermost (size-1 dims do not count)."""
    data = input._data
    layout = getattr(memory_format, "_name", "contiguous_format")
    if not layout.startswith("channels_last"):
        return data.flags.c_contiguous
    if data.ndim != (4 if layout == "channels_last" else 5):
        return False
    expected = data.itemsize
    for d in (1, *range(data.ndim - 1, 1, -1), 0):
        if data.shape[d] != 1:
            if data.strides[d] != expected:
                return False
            expected *= data.shape[d]
    return True


def contiguous(input, memory_format=contiguous_format):
    if is_contiguous(input, memory_format):
        return input
    return clone(input, memory_format=memory_format)


def _repeat_grad(n, g):
    """Sum the tiles: view the grad as (r0, s0, r1, s1, ...) and sum the r's."""
    sizes, repeats = n.self_sizes, n.repeats
    lead = len(repeats) - len(sizes)
    full = (1,) * lead + tuple(sizes)
    split = []
    for r, s in zip(repeats, full, strict=True):
        split += [r, s]
    summed = reshape(g, tuple(split)).sum(tuple(range(0, 2 * len(full), 2)))
    return reshape(summed, tuple(sizes))


RepeatBackward0 = backward_node("RepeatBackward0", fields=("self_sizes", "repeats"),
                                self=_repeat_grad)


def repeat(input, *repeats):
    data = input._data
    repeats = _sizes(repeats, "repeat")
    if len(repeats) < data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    lead = len(repeats) - data.ndim
    out = np.tile(data.reshape((1,) * lead + data.shape), repeats)
    node = RepeatBackward0()
    node.self_sizes, node.repeats = data.shape, repeats
    return _unary_node(node, out, input)


FlipBackward0 = backward_node("FlipBackward0", fields=("dims",), self=lambda n, g: flip(g, n.dims))


def flip(input, *dims):
    data = input._data
    dims = _sizes(dims, "flip")
    dims = tuple(wrap_dim(d, data.ndim) for d in dims)
    out = np.flip(data, dims).copy() if data.ndim else data.copy()
    node = FlipBackward0()
    node.dims = dims
    return _unary_node(node, out, input)


def _tensor_list(name, tensors):
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
            f"{type(tensors).__name__}"
        )
    for i, t in enumerate(tensors):  # torch's parser reads the sequence element by element
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return tensors


class CatBackward0(Node):
    """One grad per input: the input's slice of the output's grad."""

    __slots__ = ("dim", "bounds")

    def apply(self, grad):
        out = []
        for (nxt, _), bound in zip(self.next_functions, self.bounds, strict=True):
            if nxt is None:
                out.append(None)
            elif bound is None:  # a skipped legacy empty input: torch's zeros({0})
                out.append(make(np.zeros(0, grad._data.dtype)))
            else:
                out.append(narrow(grad, self.dim, bound[0], bound[1] - bound[0]))
        return tuple(out)


@silent
def cat(tensors, dim=0):
    tensors = _tensor_list("cat", tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if x._data.ndim == 0:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    # torch skips legacy empty inputs of shape (0,): they neither fix the dim nor the shape
    kept = [x for x in tensors if x._data.shape != (0,)] or tensors[:1]
    ref = kept[0]._data
    d = wrap_dim(dim, ref.ndim)
    for i, x in enumerate(tensors):
        data = x._data
        if data.shape == (0,):
            continue
        if data.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {data.ndim}")
        for k in range(ref.ndim):
            if k != d and data.shape[k] != ref.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref.shape[k]} but got size {data.shape[k]} for tensor number {i} in "
                    "the list."
                )
    dtype = result_type(*tensors) if len(tensors) > 1 else tensors[0].dtype
    out = np.concatenate([as_array(x, dtype.np) for x in kept], axis=d)
    if needs_grad(*tensors):
        node = CatBackward0()
        node.dim = d
        bounds = []
        start = 0
        for x in tensors:
            if x._data.shape == (0,) and x is not kept[0]:
                bounds.append(None)
                continue
            bounds.append((start, start + x._data.shape[d]))
            start += x._data.shape[d]
        node.bounds = bounds
        return attach(node, out, tensors)
    return make(out)


class StackBackward0(Node):
    __slots__ = ("dim",)

    def apply(self, grad):
        return tuple(
            None if nxt is None else select(grad, self.dim, i)
            for i, (nxt, _) in enumerate(self.next_functions)
        )


@silent
def stack(tensors, dim=0):
    tensors = _tensor_list("stack", tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]._data
    for i, x in enumerate(tensors):
        if x._data.shape != ref.shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(ref.shape)} at "
                f"entry 0 and {list(x._data.shape)} at entry {i}"
            )
    d = wrap_dim(dim, ref.ndim + 1)
    dtype = result_type(*tensors) if len(tensors) > 1 else tensors[0].dtype
    out = np.stack([as_array(x, dtype.np) for x in tensors], axis=d)
    if needs_grad(*tensors):
        node = StackBackward0()
        node.dim = d
        return attach(node, out, tensors)
    return make(out)


def split_backward(n, grads):
    """torch's split_with_sizes_backward: the grads of all outputs concatenated along
    ``dim``, an output no grad reached as zeros (CatBackward0 under create_graph)."""
    dtype = next(g for g in grads if g is not None)._data.dtype
    sizes, dim = list(n.self_sizes), n.dim
    parts = []
    for g, length in zip(grads, n.lengths, strict=True):
        if g is None:
            sizes[dim] = length
            g = make(np.zeros(sizes, dtype))
        parts.append(g)
    return cat(parts, dim)


SplitBackward0 = backward_node("SplitBackward0", base=MultiOutputNode,
                               fields=("self_sizes", "dim", "lengths"), self=split_backward)
SplitWithSizesBackward0 = backward_node(
    "SplitWithSizesBackward0", base=MultiOutputNode, fields=("self_sizes", "dim", "lengths"),
    self=split_backward)


def pieces(input, dim, lengths, node_cls):
    """``input`` cut along ``dim`` into numpy views of ``lengths``, the outputs of one
    ``node_cls`` when they need a grad."""
    data = input._data
    d = wrap_dim(dim, data.ndim)
    arrays = []
    start = 0
    for length in lengths:
        arrays.append(data[(slice(None),) * d + (slice(start, start + length),)])
        start += length
    if input._requires_grad and _grad_mode.enabled:
        node = node_cls()
        node.self_sizes, node.dim, node.lengths = data.shape, d, tuple(lengths)
        return attach_outputs(node, arrays, (input,))
    return [link_view(make(piece), (input,)) for piece in arrays]


def _pieces(input, dim, lengths, node_cls):
    return mark_multi_output(pieces(input, dim, lengths, node_cls))


def split(input, split_size_or_sections, dim=0):
    data = input._data
    d = wrap_dim(dim, data.ndim)
    size = data.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sections = [operator.index(s) for s in split_size_or_sections]
        if builtins.sum(sections) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                f"size at dimension {d}), but got split_sizes={sections}"
            )
        return _pieces(input, d, sections, SplitWithSizesBackward0)
    step = operator.index(split_size_or_sections)
    if step <= 0 and not (step == 0 and size == 0):
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                           f"size of {size}")
    n = builtins.max(1, -(-size // step)) if step else 1
    lengths = [builtins.min(step, size - i * step) for i in range(n)]
    return _pieces(input, d, lengths, SplitBackward0)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    data = input._data
    d = wrap_dim(dim, data.ndim)
    size = data.shape[d]
    step = -(-size // chunks) if size else 0
    if step == 0:
        return split(input, 0, d) if size == 0 else (input,)
    return split(input, step, d)


def _unbind_grad(n, grads):
    """torch's unbind_backward: the grads stacked along ``dim``, an output no grad reached
    as zeros (no edge)."""
    sizes, dim = n.self_sizes, n.dim
    defined = [g for g in grads if g is not None]
    dtype, shape = defined[0]._data.dtype, defined[0]._data.shape
    if _grad_mode.enabled and builtins.any(g._requires_grad for g in defined):
        zeros = expand(make(np.zeros((), dtype)), shape)
        return stack([zeros if g is None else g for g in grads], dim)
    out = np.zeros(sizes, dtype)
    for i, g in enumerate(grads):
        if g is not None:
            out[(slice(None),) * dim + (i, Ellipsis)] = g._data
    return make(out)


UnbindBackward0 = backward_node(
    "UnbindBackward0", base=MultiOutputNode, fields=("self_sizes", "dim"), self=_unbind_grad)


def unbind(input, dim=0):
    data = input._data
    if data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, data.ndim)
    # each a 0-d view, not a numpy scalar
    arrays = [data[(slice(None),) * d + (i, Ellipsis)] for i in range(data.shape[d])]
    if input._requires_grad and _grad_mode.enabled:
        node = UnbindBackward0()
        node.self_sizes, node.dim = data.shape, d
        out = attach_outputs(node, arrays, (input,))
    else:
        out = [link_view(make(piece), (input,)) for piece in arrays]
    return mark_multi_output(out)
