"""The Tensor: a numpy array plus the autograd state torch keeps beside it.

The class body holds state, conversions and the version counter that views share.  All
else a Tensor offers (the ops as methods and operators, their in-place forms, ``grad_fn``,
``backward``, hooks, the legacy ``Tensor(...)`` constructor) comes from the layers above and
is bound once, by ``ops.surface.bind``.  ``_requires_grad`` is the single truth for
"requires grad" (True for every tensor with a grad_fn), so ops test one slot.
"""

from __future__ import annotations

import warnings
import weakref

import numpy as np

from . import _tensor_str
from ._device import CPU
from ._dtype import FROM_NUMPY
from ._size import Size

NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information."
)
SCALAR_CONVERSION_WARNING = (
    "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
    "Consider using tensor.detach() first."
)
NON_LEAF_REQUIRES_GRAD = "you can only change requires_grad flags of leaf variables."
NON_LEAF_NO_REQUIRES_GRAD = (
    NON_LEAF_REQUIRES_GRAD + " If you want to use a computed variable in a subgraph that "
    "doesn't require differentiation use var_no_grad = var.detach()."
)
GRAD_DTYPE_MISMATCH = (
    "attempting to assign a gradient with dtype '{got}' to a tensor with grad_dtype "
    "'{want}'. The gradient must match the tensor's grad_dtype (defaults to the tensor's "
    "dtype). You can set the tensor's grad_dtype attribute with a specific dtype, or None to "
    "allow any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its "
    "gradient may break downstream systems that assume they match."
)

_warned_scalar_conversion = False  # torch emits that warning once per process


def wrap_dim(dim, ndim: int) -> int:
    """A possibly negative dim as an index, with torch's IndexError when out of range."""
    n = ndim if ndim else 1  # a 0-d tensor accepts dims -1 and 0
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
            f"but got {dim})"
        )
    return dim + n if dim < 0 else dim


DETACH_VIEW_ERROR = (
    "Can't detach views in-place. Use detach() instead. If you are using "
    "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, "
    "gradients are views of DDP buckets, and hence detach_() cannot be called on these "
    "gradients. To fix this error, please refer to the Optimizer.zero_grad() function in "
    "torch/optim/optimizer.py as the solution."
)


class Tensor:
    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_grad", "_retains_grad",
                 "_accumulator", "_vc", "_view_of", "_hooks", "_view_version",
                 "_no_grad_view", "_multi_output", "_own_requires_grad", "_output_nr",
                 "__weakref__")
    __module__ = "torch"  # `type(x)` prints as <class 'torch.Tensor'>
    __array_ufunc__ = None  # numpy operands defer to our reflected operators
    __array_priority__ = 1000
    is_cuda = False
    device = CPU

    # ----------------------------------------------------------- metadata
    @property
    def shape(self) -> Size:
        return tuple.__new__(Size, self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return tuple.__new__(Size, self._data.shape)
        return self._data.shape[wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return FROM_NUMPY[self._data.dtype]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    # ----------------------------------------------------------- autograd state
    # grad_fn (which regenerates a stale view's history), backward, register_hook and
    # retain_grad are autograd's (autograd/inplace.py, engine.py, hooks.py)
    @property
    def is_leaf(self) -> bool:
        if self._view_of is not None:  # torch reads a view's (possibly regenerated) grad_fn
            return self.grad_fn is None
        return self._grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self._grad_fn is not None:
            raise RuntimeError(NON_LEAF_REQUIRES_GRAD if value else NON_LEAF_NO_REQUIRES_GRAD)
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients"
            )
        self._set_requires_grad(bool(value))

    def requires_grad_(self, requires_grad=True):
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(NON_LEAF_NO_REQUIRES_GRAD)
            return self
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._set_requires_grad(bool(requires_grad))
        return self

    def _set_requires_grad(self, flag: bool):
        """A leaf's own flag.  A view without a grad_fn also requires grad while its base
        does (torch's DifferentiableViewMeta), and the views of a base follow it."""
        root = self._view_of
        if root is None:
            self._requires_grad = flag
            follow_base(self)
        else:
            self._own_requires_grad = flag
            self._requires_grad = flag or root._requires_grad
            if not flag:
                self._accumulator = None  # torch's grad_accumulator() is null without the flag

    @property
    def grad(self):
        g = self._grad
        if g is None and self._grad_fn is not None and not self._retains_grad:
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    "assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(GRAD_DTYPE_MISMATCH.format(
                    got=value.dtype.cpp_name, want=self.dtype.scalar_name))
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to "
                    f"a tensor of size '{list(self._data.shape)}'. Please ensure that the "
                    "gradient and the tensor are the same size"
                )
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def _version(self) -> int:
        vc = self._vc
        return 0 if vc is None else vc.value

    @property
    def _base(self):
        return self._view_of

    def _is_view(self) -> bool:
        return self._view_of is not None

    @property
    def data(self):
        """Shares the storage but not the version counter: in-place changes through it go
        unnoticed by autograd (torch's silent-wrong-gradient behaviour)."""
        return make(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        if self._requires_grad and value._data.dtype.kind != "f":
            raise RuntimeError(
                "data set to a tensor that requires gradients must be floating point or "
                "complex dtype"
            )
        self._data = value._data

    def detach(self):
        """Shares the storage and the version counter."""
        t = make(self._data)
        t._vc = version_counter(self)
        return t

    def detach_(self):
        """Cuts the tensor out of the graph in place (views refuse, as in torch)."""
        if self._view_of is not None:
            raise RuntimeError(DETACH_VIEW_ERROR)
        self._grad_fn = None
        self._requires_grad = False
        self._accumulator = None
        return self

    @staticmethod
    def _make_subclass(cls, data, require_grad=False, **kwargs):
        """A ``cls`` instance sharing ``data``'s storage and version counter, a leaf: how
        torch makes a Parameter (``cls.__new__`` is not called)."""
        if require_grad and data._data.dtype.kind != "f":
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients")
        t = _new(cls)
        t._data = data._data
        t._requires_grad = bool(require_grad)
        t._grad_fn = None
        t._grad = None
        t._retains_grad = False
        t._accumulator = None
        t._vc = version_counter(data)
        t._view_of = None
        t._hooks = None
        return t

    # ----------------------------------------------------------- conversions
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)

    def _single_value(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.item()

    def __float__(self):
        global _warned_scalar_conversion
        if self._requires_grad and not _warned_scalar_conversion:
            _warned_scalar_conversion = True
            warnings.warn(SCALAR_CONVERSION_WARNING, UserWarning, stacklevel=2)
        return float(self._single_value())

    def __int__(self):
        return int(self._single_value())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    def __bool__(self):
        n = self._data.size
        if n == 1:
            return bool(self._data.item())
        if n == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __hash__(self):
        return id(self)

    # ----------------------------------------------------------- copying and pickling
    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment.  If you were attempting to deepcopy a module, "
                "this may be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        if id(self) in memo:
            return memo[id(self)]
        new = make(self._data.copy(), self._requires_grad)
        memo[id(self)] = new
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        return new

    def __reduce_ex__(self, protocol):
        # by function, not by class: the class claims to live in module "torch"
        return (_rebuild, (self._data, self._requires_grad))

    # ----------------------------------------------------------- printing
    def __repr__(self):
        try:
            fn = self.grad_fn
            name = None if fn is None else type(fn).__name__
        except RuntimeError:  # torch prints a view whose grad_fn it refuses to give so
            name = "Invalid"
        return _tensor_str.format_tensor(
            self._data,
            self.dtype.name,
            grad_fn_name=name,
            requires_grad=self._requires_grad,
        )

    __str__ = __repr__

    def __format__(self, format_spec):
        if self._data.ndim == 0:
            return self._data.item().__format__(format_spec)
        return object.__format__(self, format_spec)


_new = object.__new__


class VersionCounter:
    """Shared by a tensor, its views and its detached aliases; bumped by in-place ops."""

    __slots__ = ("value", "views", "__weakref__")

    def __init__(self):
        self.value = 0
        self.views = None  # weak references to views without grad_fn (see follow_base)


def register_view(view: Tensor, root: Tensor, vc: VersionCounter):
    """A view without grad_fn requires grad while its root does, now and later (torch asks
    the base each time; the engine keeps ``_requires_grad`` current instead).  The shared
    version counter holds the list, so no slot needs setting on every tensor."""
    view._requires_grad = root._requires_grad
    views = vc.views
    if views is None:
        vc.views = [weakref.ref(view)]
        return
    if len(views) >= 8 and len(views) & (len(views) - 1) == 0:  # prune now and then
        views[:] = [ref for ref in views if ref() is not None]
    views.append(weakref.ref(view))


def follow_base(root: Tensor):
    """After ``root``'s requires_grad changed: its views without grad_fn follow it."""
    vc = root._vc
    if vc is None or not vc.views:
        return
    flag = root._requires_grad
    for ref in vc.views:
        view = ref()  # a detached alias shares the counter: only root's own views follow
        if view is not None and view._view_of is root and view._grad_fn is None:
            view._requires_grad = flag or view._own_requires_grad


def version_counter(t: Tensor) -> VersionCounter:
    """``t``'s counter, created on first need.  A node that saved ``t`` as its output learns
    about the counter here (outputs start at version 0), so modifying the output later is
    caught at backward."""
    vc = t._vc
    if vc is None:
        vc = t._vc = VersionCounter()
        fn = t._grad_fn
        if fn is not None and "_result" in fn.saved and getattr(fn, "_out_vc", None) is None:
            fn._out_vc = vc
            fn._out_version = 0
    return vc


def _rebuild(data, requires_grad):
    return make(np.array(data), requires_grad)


def make(data: np.ndarray, requires_grad: bool = False, grad_fn=None) -> Tensor:
    """Wrap an array without copying or checking: the constructor every op uses."""
    t = _new(Tensor)
    t._data = data
    t._requires_grad = requires_grad
    t._grad_fn = grad_fn
    t._grad = None
    t._retains_grad = False
    t._accumulator = None
    t._vc = None  # version counter: None until shared (detach, views) or bumped (in-place)
    t._view_of = None  # the base tensor, for views
    t._hooks = None  # a leaf's grad hooks (a non-leaf's live on its grad_fn)
    return t
