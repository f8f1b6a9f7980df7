"""In-place modification, as torch's autograd handles it: the checks made before an op
writes into a tensor, ``commit`` (the write, the version bump and the history rewrite),
CopySlices and the nodes that go with it, a stale view's regenerated grad_fn, and the
in-place forms ``ops.surface`` binds (``add_``-style methods, ``+=``-style operators).

Every in-place op is its out-of-place op followed by ``commit``: torch's checks (a leaf
that requires grad, or a view of one, cannot be modified while grad mode is on; the result
must keep the tensor's shape and be castable to its dtype), a write into the tensor's own
array (so views and detached aliases see it), a bump of the shared version counter, and
the history rewrite torch does:

- a non-view gets the op's node as its new grad_fn;
- a view's root base gets a ``CopySlices`` node (the base's grad flows through the op for
  the view's region, unchanged elsewhere) and the view gets an ``AsStridedBackward0``.

Saved tensors keep the version they had when saved (``node.py``), so modifying one later
raises torch's "modified by an inplace operation" error at backward.  The in-place ops
with no out-of-place twin (``zero_``, ``fill_``, ``copy_``, ``__setitem__``) live with their
families in ``ops``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._dtype import FROM_NUMPY
from .._tensor import Tensor, follow_base, make, version_counter
from .grad_mode import state as _grad_mode
from .hooks import move_retain
from .node import (
    SECOND_BACKWARD,
    Node,
    accumulator,
    attach,
    check_saved_versions,
    short_name,
    sum_to,
)

LEAF_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF_ERROR = (
    "a view of a leaf Variable that requires grad is being used in an in-place operation."
)
OVERLAP_ERROR = (
    "unsupported operation: more than one element of the written-to tensor refers to a "
    "single memory location. Please clone() the tensor before performing the operation."
)
PARTIAL_OVERLAP_ERROR = (
    "unsupported operation: some elements of the input tensor and the written-to tensor "
    "refer to a single memory location. Please clone() the tensor before performing the "
    "operation."
)


# ----------------------------------------------------------------- nodes
class CopyBackwards(Node):
    """copy_'s node (and what a leaf's .grad hangs from after a first
    ``backward(create_graph=True)``): nothing flows to the overwritten tensor."""

    __slots__ = ()
    inputs = ("self", "src")
    formulas = (
        lambda n, g: make(np.zeros_like(g._data)),        # self
        lambda n, g: g,                                   # src
    )

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"


class _Region:
    """Where a view lies in its root base's array: element offset, shape, byte strides."""

    __slots__ = ("offset", "shape", "strides", "order", "base_shape", "itemsize")

    def __init__(self, root_data, view_data):
        if root_data.flags.c_contiguous:
            self.order = "C"
        elif root_data.flags.f_contiguous:
            self.order = "F"
        else:  # pragma: no cover - roots are freshly allocated arrays
            raise NotImplementedError("engine: in-place on a view of a non-contiguous tensor")
        self.offset = (view_data.ctypes.data - root_data.ctypes.data) // root_data.itemsize
        self.shape = view_data.shape
        self.strides = view_data.strides
        self.base_shape = root_data.shape
        self.itemsize = root_data.itemsize

    def of(self, array):
        """The region inside ``array`` (an array laid out as the root was)."""
        flat = array.ravel(order="K")
        strides = self.strides
        if flat.itemsize != self.itemsize:  # same layout, other element size
            strides = tuple(st // self.itemsize * flat.itemsize for st in strides)
        return as_strided(flat[self.offset:], self.shape, strides, writeable=True)

    def blank(self, like):
        return np.zeros(self.base_shape, like.dtype, order=self.order)

    def flat_index(self) -> Tensor:
        """The view's elements as positions in the base flattened in C order (used to build
        the backward with engine ops, so that create_graph records it)."""
        logical = np.arange(math.prod(self.base_shape), dtype=np.int64).reshape(self.base_shape)
        return make(np.ascontiguousarray(self.of(np.array(logical, order=self.order))))


class CopySlices(Node):
    """The root base's grad_fn after an in-place op on one of its views: the op's node
    ``fn`` handles the view's region, the rest of the grad passes through."""

    __slots__ = ("fn", "region")

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def apply(self, grad):
        fn = self.fn
        if self._freed or fn._freed:
            raise RuntimeError(SECOND_BACKWARD)
        if fn.saved:
            check_saved_versions(fn)
        check_indices = getattr(fn, "check_indices", None)  # index tensors an index op keeps
        if check_indices is not None:
            check_indices()
        if _grad_mode.enabled:  # create_graph: the same computation with engine ops
            return self._apply_recorded(grad)
        region = self.region
        result = np.array(grad._data, order=region.order, copy=True)
        view = region.of(result)
        grad_slice = make(view.copy())
        grads = [None] * len(self.next_functions)
        if self.next_functions[0][0] is not None:
            g = fn.formulas[0](fn, grad_slice)
            if g is None:
                view[...] = 0
            else:
                if g._data.shape != view.shape:
                    g = sum_to(g, view.shape)
                view[...] = g._data
            grads[0] = make(result)
        for i in range(1, len(grads)):
            if self.next_functions[i][0] is not None:
                grads[i] = fn.formulas[i](fn, grad_slice)
        return tuple(grads)

    def _apply_recorded(self, grad):
        fn = self.fn
        index = self.region.flat_index()
        flat = grad.reshape(-1)
        grad_slice = flat[index]
        grads = [None] * len(self.next_functions)
        if self.next_functions[0][0] is not None:
            result = flat.clone()
            g = fn.formulas[0](fn, grad_slice)
            if g is None:
                result[index] = 0
            else:
                if g._data.shape != index._data.shape:
                    g = sum_to(g, index._data.shape)
                if g._data.dtype != flat._data.dtype:
                    g = g.to(flat.dtype)
                result[index] = g
            grads[0] = result.reshape(self.region.base_shape)
        for i in range(1, len(grads)):
            if self.next_functions[i][0] is not None:
                grads[i] = fn.formulas[i](fn, grad_slice)
        return tuple(grads)

    def release(self):
        """torch's CopySlices drops its node whatever it saved: a second pass raises."""
        self.fn.release()
        self._freed = True


class AsStridedBackward0(Node):
    """A view's grad_fn after an in-place op on it: scatter the grad into the base."""

    __slots__ = ("region",)

    def apply(self, grad):
        region = self.region
        if _grad_mode.enabled:  # create_graph: record the scatter
            out = make(np.zeros(math.prod(region.base_shape), grad._data.dtype))
            out[region.flat_index()] = grad
            return (out.reshape(region.base_shape),)
        out = region.blank(grad._data)
        region.of(out)[...] = grad._data
        return (make(out),)


# ----------------------------------------------------------------- checks
def check_inplace(t: Tensor, *others):
    """torch's check_inplace before an in-place op on ``t`` (``others``: its operands),
    made only when grad mode is on and some input requires grad."""
    if not _grad_mode.enabled:
        return
    if not (t._requires_grad or _any_requires_grad(others)):
        return
    root = t._view_of
    if root is not None:
        if t._multi_output is not None:
            raise multi_output_view_error(t, indirect=False)
        if t._no_grad_view:
            raise no_grad_view_error(t, indirect=False)
        if t._requires_grad and root._grad_fn is None:
            raise RuntimeError(VIEW_OF_LEAF_ERROR)
    if t._requires_grad and t._grad_fn is None:  # torch's C++ is_leaf: no view refresh
        raise RuntimeError(LEAF_ERROR)
    _collect_edges(t, others)


def _collect_edges(t: Tensor, others):
    """torch reads every input's grad_fn to wire the op's node before running the kernel:
    a stale view is regenerated (or refused) before any overlap or shape error."""
    if t._view_of is not None:
        t.grad_fn  # noqa: B018 - the property refreshes the view
    for other in others:
        if isinstance(other, Tensor) and other._view_of is not None:
            other.grad_fn  # noqa: B018


def _any_requires_grad(values) -> bool:
    for v in values:  # a loop, not any(): this runs before every in-place op
        if isinstance(v, Tensor) and v._requires_grad:
            return True
    return False


def no_grad_view_error(t: Tensor, indirect: bool) -> RuntimeError:
    """torch's handle_view_on_rebase for a view made in no_grad mode: modifying it (or,
    ``indirect``, its base) in place with grad mode on is refused."""
    fn = t._grad_fn
    if fn is None:
        prefix = "A view was created in"
    else:
        prefix = f"Output 0 of {short_name(fn)} is a view of a view which was created in"
    what = "its base or another view of its base has been" if indirect else "is being"
    return RuntimeError(
        f"{prefix} no_grad mode and {what} modified inplace with grad mode enabled. Given "
        "that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
        "your code by moving both the view and the inplace either both inside the no_grad "
        "block (if you don't want the inplace to be tracked) or both outside (if you want "
        "the inplace to be tracked)."
    )


def multi_output_view_error(t: Tensor, indirect: bool) -> RuntimeError:
    """torch's handle_view_on_rebase for an output of split/chunk/unbind (or a view of one)
    modified in place, or, ``indirect``, whose base was."""
    fn = t._grad_fn
    what = "its base or another view of its base has been" if indirect else "is being"
    if fn is None:  # made before its base required grad: torch words it as a no_grad view
        head = (f"A view was created in no_grad mode and {what} modified inplace with grad "
                "mode enabled.")
    else:
        head = (f"Output {t._multi_output} of {short_name(fn)} is a view and {what} modified "
                "inplace.")
    return RuntimeError(
        f"{head} This view is the output of a function that returns multiple views. Such "
        "functions do not allow the output views to be modified inplace. You should replace "
        "the inplace operation by an out-of-place one."
    )


def check_overlap(t: Tensor, *others):
    """torch's TensorIterator memory-overlap checks, made before shapes are compared: the
    written-to tensor must not overlap itself, nor partly overlap an operand (fills, zero_
    and fill_, skip them).  Cheap tests first: in-place ops are common."""
    data = t._data
    if 0 in data.strides and data.size and _internal_overlap(data):  # empty: no overlap
        raise RuntimeError(OVERLAP_ERROR)
    for other in others:
        if isinstance(other, Tensor):
            b = other._data
            if b is not data and np.may_share_memory(data, b) and _partial_overlap(data, b):
                raise RuntimeError(PARTIAL_OVERLAP_ERROR)


def _internal_overlap(a: np.ndarray) -> bool:
    """torch's has_internal_overlap == YES: a stride 0 over more than one element."""
    return any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape, strict=True))


def _dense(a: np.ndarray) -> bool:
    """torch's is_non_overlapping_and_dense: the elements fill a block without gaps."""
    size = a.itemsize
    for st, n in sorted((abs(st), n) for st, n in zip(a.strides, a.shape, strict=True)
                        if n != 1):
        if st != size:
            return False
        size *= n
    return True


def _partial_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """torch's get_overlap_status == Partial (tensors it cannot judge pass)."""
    if a is b or a.size == 0 or b.size == 0 or not (_dense(a) and _dense(b)):
        return False
    a_begin, b_begin = _start(a), _start(b)
    a_end, b_end = a_begin + a.size * a.itemsize, b_begin + b.size * b.itemsize
    if a_begin == b_begin and a_end == b_end:
        return a.strides != b.strides
    return a_begin < b_end and b_begin < a_end


def _start(a: np.ndarray) -> int:
    """The lowest address of a dense array's elements (numpy strides may be negative)."""
    return a.ctypes.data + sum(st * (n - 1) for st, n in zip(a.strides, a.shape, strict=True)
                               if st < 0)


def _check_cast(result_dtype, t):
    want = t._data.dtype
    if result_dtype == want:
        return
    kind = result_dtype.kind
    if (kind == "f" and want.kind != "f") or (want.kind == "b" and kind != "b"):
        raise RuntimeError(
            f"result type {FROM_NUMPY[result_dtype].scalar_name} can't be cast to the "
            f"desired output type {FROM_NUMPY[want].scalar_name}"
        )


def _write(target: np.ndarray, values):
    if not target.flags.writeable:  # expanded (numpy's broadcasts are read-only): torch
        try:                        # writes wherever check_overlap let it
            target.flags.writeable = True
        except ValueError:  # pragma: no cover - memory numpy cannot write
            raise RuntimeError(OVERLAP_ERROR) from None
    np.copyto(target, values, casting="unsafe")


# ----------------------------------------------------------------- commit
def commit(t: Tensor, result: Tensor) -> Tensor:
    """Write the out-of-place ``result`` into ``t`` and give ``t`` its new history."""
    if result is t:  # the op was a no-op returning its input
        version_counter(t).value += 1
        return t
    data = t._data
    out = result._data
    if out.shape != data.shape:
        raise RuntimeError(
            f"output with shape {list(data.shape)} doesn't match the broadcast shape "
            f"{list(out.shape)}"
        )
    _check_cast(out.dtype, t)
    fn = result._grad_fn
    if fn is not None:
        _snapshot_self(fn, t)
    _write(data, out)
    vc = version_counter(t)
    vc.value += 1
    if fn is not None:
        if "_result" in fn.saved:  # the node's output is t itself, at its new version
            fn._result = data
            fn._out_vc = vc
            fn._out_version = vc.value
        _rebase(t, fn, data)
    return t


def _snapshot_self(fn, t):
    """A node that saved ``t`` as ``self`` needs its value before the write (torch saves
    ``original_self``)."""
    for slot in fn.saved:
        if slot == "self_" and getattr(fn, slot, None) is t:
            setattr(fn, slot, make(t._data.copy(), t._requires_grad, t._grad_fn))


def _rebase(t: Tensor, fn: Node, region_data: np.ndarray):
    """``t`` (or, for a view, its root base) now hangs from ``fn``."""
    root = t._view_of
    old = t._grad_fn
    if root is None and region_data is t._data:
        t._grad_fn = fn
        t._requires_grad = True
        move_retain(t, old, fn)
        follow_base(t)
        return
    if root is None:  # __setitem__ on a non-view: the region of t itself
        root = t
    region = _Region(root._data, region_data)
    cs = CopySlices()
    cs.fn = fn
    cs.region = region
    base_edge = (root._grad_fn or accumulator(root)) if root._requires_grad else None
    cs.next_functions = ((base_edge, 0),) + tuple(fn.next_functions[1:])
    cs._meta = [(root._data.shape, root._data.dtype)] + list(fn._meta[1:])
    cs._seq = fn._seq
    cs._freed = False
    cs._retained = None
    cs._versions = None
    cs._out_vc = None
    root_old = root._grad_fn
    root._grad_fn = cs
    root._requires_grad = True
    move_retain(root, root_old, cs)
    follow_base(root)
    if t is not root:
        as_strided_history(t, root)


def as_strided_history(t: Tensor, root: Tensor):
    """The view's grad_fn after its base changed: AsStridedBackward0 of the base's."""
    old = t._grad_fn
    view_fn = AsStridedBackward0()
    view_fn.region = _Region(root._data, t._data)
    attach(view_fn, t._data, (root,))
    t._grad_fn = view_fn
    t._requires_grad = True
    t._view_version = t._vc.value
    move_retain(t, old, view_fn)


def refresh_view(t: Tensor):
    """torch regenerates a view's grad_fn (in any grad mode) when its base was modified in
    place after the view's history was recorded, and refuses to for a view made in no_grad
    mode; a view with no history whose base requires no grad is left alone."""
    root = t._view_of
    if t._grad_fn is None and not root._requires_grad:
        return
    if t._multi_output is not None:
        raise multi_output_view_error(t, indirect=True)
    if t._no_grad_view:
        raise no_grad_view_error(t, indirect=True)
    as_strided_history(t, root)


def grad_fn(t: Tensor):
    """``Tensor.grad_fn``: a view whose base was modified in place since its history was
    recorded gets its grad_fn regenerated first (or refused), as torch's does."""
    if t._view_of is not None and t._vc.value != t._view_version:
        refresh_view(t)
    return t._grad_fn


# ----------------------------------------------------------------- in-place forms
def descriptor_error(name, self):
    """torch's TypeError for ``Tensor.X(self, ...)`` called unbound with a non-tensor
    ``self`` (its C method descriptor refuses it)."""
    return TypeError(f"descriptor '{name}' for 'torch._C.TensorBase' objects doesn't apply "
                     f"to a '{type(self).__name__}' object")


def inplace_method(name, shown=None):
    """``Tensor.<name>_``: the method ``name`` (looked up at call time), checked and
    committed; ``shown``: the name torch's messages give it (an alias's own)."""
    shown = shown or name + "_"

    def method(self, *args, **kwargs):
        if not isinstance(self, Tensor):  # called unbound: torch's C descriptor refuses it
            raise descriptor_error(shown, self)
        operands = args + tuple(kwargs.values()) if kwargs else args
        check_inplace(self, *operands)
        check_overlap(self, *operands)
        return commit(self, getattr(Tensor, name)(self, *args, **kwargs))

    method.__name__ = shown
    method.remake = lambda alias: inplace_method(name, alias)
    return method


def inplace_operator(op):
    """``+=``-style: ``op`` (an operator form, which may return NotImplemented), checked and
    committed."""

    def method(self, other):
        check_inplace(self, other)
        check_overlap(self, other)
        result = op(self, other)
        if result is NotImplemented:
            return result
        return commit(self, result)

    return method
