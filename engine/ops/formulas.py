"""The helpers many backward formulas share: torch's "manual functions"
(``FunctionsManual.cpp``) and the scalar ops its C++ formulas write.

``tensor * 2`` in a C++ formula is mul.Scalar, whose node is MulBackward1, not the
MulBackward0 of ``tensor * tensor``: ``mul_scalar`` & co record those nodes (torch builds
no tensor for the scalar).  ``rsub_scalar``/``rdiv_scalar`` are the other way round: a
Python number in front of a tensor is a 0-d constant with no edge.  ``mul_inplace``,
``div_inplace``, ``pow_inplace`` are ``t.mul_(other)``-style steps, whose nodes saved a
clone of the overwritten tensor.  ``backward_op`` runs one of torch's backward ops
(``tanh_backward``, ``mse_loss_backward`` ...), whose own node, under create_graph,
differentiates it again.

Ops of other families are reached through Tensor operators and methods (``t - u``,
``t.unsqueeze(d)``), as torch's formulas call ATen, so this module imports no family.
"""

from __future__ import annotations

import numpy as np

from .._tensor import make
from ..autograd.grad_mode import no_grad
from ..autograd.node import attach, backward_node
from .operands import as_ndarray, cast, needs_grad


def zeros_like(value):
    """A zero grad that needs no grad (torch's ``zeros_like(grad)`` in a formula)."""
    return make(np.zeros_like(value._data))


def backward_op(node_cls, value, inputs, **fields):
    """``value()``, computed without a graph, as the output of one of torch's backward ops:
    with create_graph it hangs from ``node_cls``, whose formulas differentiate that op."""
    with no_grad():
        out = value()
    if not needs_grad(*inputs):
        return out
    node = node_cls()
    for name, field in fields.items():
        setattr(node, name, field)
    return attach(node, out._data, inputs)


# ----------------------------------------------------------------- scalar ops
MulBackward1 = backward_node("MulBackward1", fields=("other",),
                             self=lambda n, g: mul_scalar(g, n.other))
DivBackward1 = backward_node("DivBackward1", fields=("other",),
                             self=lambda n, g: div_scalar(g, n.other))
AddBackward1 = backward_node("AddBackward1", fields=("other",), self=lambda n, g: g)
SubBackward1 = backward_node("SubBackward1", fields=("other",), self=lambda n, g: g)


def _scalar_op(ufunc, node_cls, doc):
    def op(t, scalar):
        data = t._data
        if data.dtype == np.float16:  # torch computes half with the scalar in float
            out = as_ndarray(ufunc(cast(data, np.float32), np.float32(scalar)).astype(np.float16))
        else:
            out = as_ndarray(ufunc(data, scalar))
        if needs_grad(t):
            node = node_cls()
            node.other = scalar
            return attach(node, out, (t,))
        return make(out)

    op.__doc__ = doc
    return op


mul_scalar = _scalar_op(np.multiply, MulBackward1, "``t * scalar`` (mul.Scalar: MulBackward1).")
div_scalar = _scalar_op(np.true_divide, DivBackward1, "``t / scalar`` (div.Scalar: DivBackward1).")
add_scalar = _scalar_op(np.add, AddBackward1, "``t + scalar`` (add.Scalar: AddBackward1).")
sub_scalar = _scalar_op(np.subtract, SubBackward1, "``t - scalar`` (sub.Scalar: SubBackward1).")


def constant(scalar, like):
    """A Python number in C++ ``scalar op tensor``: a 0-d tensor that needs no grad (torch's
    wrapped number), so the node has a None edge for it."""
    return make(np.asarray(scalar, like._data.dtype))


def rsub_scalar(scalar, t):
    """``scalar - tensor`` in torch's C++ formulas: SubBackward0 with a None first edge."""
    return constant(scalar, t) - t


def rdiv_scalar(scalar, t):
    """``scalar / tensor`` in torch's C++ formulas: DivBackward0 with a None first edge."""
    return constant(scalar, t) / t


MaskedFillBackward0 = backward_node(
    "MaskedFillBackward0", fields=("mask",),  # the mask (an array) is not differentiable
    self=lambda n, g: masked_fill(g, n.mask, 0))


def masked_fill(t, mask, value):
    """``t.masked_fill(mask, value)`` for a bool array ``mask``: how torch's formulas zero a
    grad where they divided by zero (MaskedFillBackward0, not a where)."""
    data = t._data
    out = as_ndarray(np.where(mask, data.dtype.type(value), data))
    if needs_grad(t):
        node = MaskedFillBackward0()
        node.mask = mask
        return attach(node, out, (t,))
    return make(out)


def unsqueeze_multiple(t, dims):
    """torch's unsqueeze_multiple: put the reduced ``dims`` back as size 1, one unsqueeze
    (UnsqueezeBackward0) per dim, in increasing order."""
    for d in sorted(dims):
        t = t.unsqueeze(d)
    return t


# ----------------------------------------------------------------- in-place steps
def mul_inplace(t, other):
    """``t.mul_(other)`` in torch's formulas: when ``other`` needs a grad, its MulBackward0
    saved a clone of the ``t`` it overwrote (a CloneBackward0 in higher-order graphs)."""
    out = t * other
    if out._grad_fn is not None and needs_grad(other):
        out._grad_fn.self_ = t.clone()
    return out


def div_inplace(t, other):
    """``t.div_(other)`` in torch's formulas: as ``mul_inplace``, DivBackward0 saved a
    clone of the overwritten ``t`` when ``other`` needs a grad."""
    out = t / other
    if out._grad_fn is not None and needs_grad(other):
        out._grad_fn.self_ = t.clone()
    return out


def pow_inplace(t, exponent):
    """``t.pow_(exponent)`` in torch's formulas: its PowBackward0 saved a clone of the ``t``
    it overwrote, so higher-order graphs pass through a CloneBackward0."""
    out = t ** exponent
    if out._grad_fn is not None:
        out._grad_fn.self_ = t.clone()
    return out
