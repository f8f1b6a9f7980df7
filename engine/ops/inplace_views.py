"""In-place view ops: ``squeeze_``, ``unsqueeze_``, ``t_``, ``transpose_`` (and its aliases
``swapaxes_``/``swapdims_``).

torch changes the tensor's own sizes and strides (its storage is untouched), bumps its
version and records the view op's node as its grad_fn, under the in-place overload's name
(SqueezeBackward3/4/5, UnsqueezeBackward1, TBackward1, TransposeBackward1).  A view stays a
view of its base; the base's other views see the version bump and regenerate their
history, as after any in-place op.
"""

from __future__ import annotations

import numpy as np

from .._tensor import version_counter, wrap_dim
from ..autograd.hooks import move_retain
from ..autograd.inplace import check_inplace
from ..autograd.node import backward_node
from . import shape as S
from .shape import _reshape_grad, _unary_node, squeezed_shape

SqueezeBackward3 = backward_node("SqueezeBackward3", fields=("self_sizes",), self=_reshape_grad)
SqueezeBackward4 = S.SqueezeBackward4
SqueezeBackward5 = backward_node("SqueezeBackward5", fields=("self_sizes",), self=_reshape_grad)
UnsqueezeBackward1 = backward_node("UnsqueezeBackward1", fields=("dim",),
                                   self=lambda n, g: S.squeeze(g, n.dim))
TBackward1 = backward_node("TBackward1", self=lambda n, g: S.t(g))
TransposeBackward1 = backward_node("TransposeBackward1", fields=("dim0", "dim1"),
                                   self=lambda n, g: S.transpose(g, n.dim0, n.dim1))


def _become(self, node, out):
    """``self`` takes the view ``out`` of its own data: new sizes and strides, a version
    bump, and ``node`` (linked to its previous history) as its grad_fn."""
    check_inplace(self)
    result = _unary_node(node, out, self)
    self._data = result._data
    vc = version_counter(self)
    vc.value += 1
    fn = result._grad_fn
    if fn is not None:
        old = self._grad_fn
        self._grad_fn = fn
        self._requires_grad = True
        move_retain(self, old, fn)
    if self._view_of is not None:  # its history is current for the new version
        self._view_version = vc.value
    return self


def squeeze_(self, dim=None):
    data = self._data
    dims = None
    if dim is None:
        node = SqueezeBackward3()
    elif isinstance(dim, (tuple, list)):
        node = SqueezeBackward5()
        dims = {wrap_dim(d, data.ndim) for d in dim}
    else:
        node = SqueezeBackward4()
        dims = {wrap_dim(dim, data.ndim)}
    node.self_sizes = data.shape
    return _become(self, node, data.reshape(squeezed_shape(data.shape, dims)))


def unsqueeze_(self, dim):
    data = self._data
    node = UnsqueezeBackward1()
    node.dim = wrap_dim(dim, data.ndim + 1)
    return _become(self, node, np.expand_dims(data, node.dim))


def t_(self):
    data = self._data
    if data.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {data.ndim}D")
    return _become(self, TBackward1(), data.T)


def transpose_(self, dim0, dim1):
    data = self._data
    node = TransposeBackward1()
    node.dim0, node.dim1 = wrap_dim(dim0, data.ndim), wrap_dim(dim1, data.ndim)
    out = np.swapaxes(data, node.dim0, node.dim1) if data.ndim else data[...]
    return _become(self, node, out)
