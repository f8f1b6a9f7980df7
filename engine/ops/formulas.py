"""The derivative table: one backward-node class per torch grad_fn, one formula per input.

Read it like torch's ``tools/autograd/derivatives.yaml``: each class lists the values its op
saved and, in ``formulas``, one ``lambda node, grad: ...`` per input in ``next_functions``
order.  Formulas are written with engine ops, so with ``create_graph=True`` (grad mode on
during backward) they record a graph of their own and give higher-order grads.  They use
torch's ops too: ``tensor * 2`` in a C++ formula is ``mul_scalar`` (MulBackward1), not a
MulBackward0; and where both operands of a binary op record nodes, the right one is computed
first, as torch's compiled formulas evaluate them (creation order decides the order of a
later backward, which shows in higher-order graphs).

Formulas may return a grad of the *output's* broadcast shape or of a wider dtype: the engine
sums it back to the input's shape and casts it to the input's dtype in one place
(``_autograd``), as torch's ``validate_outputs`` does.  Python-scalar operands are saved as
numbers; ``saved`` names the slots a backward without ``retain_graph`` frees.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, make
from ..autograd.grad_mode import no_grad
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import Node, attach
from . import operands as O


def _maybe_multiply(grad, alpha):
    return grad if alpha == 1 else grad * alpha


def _zeros_like(value):
    return make(np.zeros_like(value._data))


# ----------------------------------------------------------------- add / sub / rsub
class AddBackward0(Node):
    __slots__ = ("alpha",)
    formulas = (
        lambda n, g: g,                                   # self
        lambda n, g: _maybe_multiply(g, n.alpha),         # other
    )


class SubBackward0(Node):
    __slots__ = ("alpha",)
    formulas = (
        lambda n, g: g,                                   # self
        lambda n, g: _maybe_multiply(-g, n.alpha),        # other
    )


class RsubBackward0(Node):
    """rsub(self, other) = other - alpha * self, with a tensor ``other``."""

    __slots__ = ("alpha",)
    formulas = (
        lambda n, g: _maybe_multiply(-g, n.alpha),        # self
        lambda n, g: g,                                   # other
    )


class RsubBackward1(Node):
    """``2 - x``: rsub with a scalar ``other``, which is not an input."""

    __slots__ = ("alpha",)
    formulas = (
        lambda n, g: _maybe_multiply(-g, n.alpha),        # self
    )


# ----------------------------------------------------------------- mul / div / neg
class MulBackward0(Node):
    __slots__ = ("self_", "other")
    grad_order = (1, 0)  # other before self, as torch's generated code
    saved = ("self_", "other")
    formulas = (
        lambda n, g: _grad_times(g, n.other),             # self
        lambda n, g: _grad_times(g, n.self_),             # other
    )


def _grad_times(grad, other):
    """``grad * other``; with no graph to record and operands of one shape and dtype (the
    usual case), the product of the arrays without the op's dispatch."""
    if not _grad_mode.enabled and type(other) is Tensor:
        a, b = grad._data, other._data
        if a.shape == b.shape and a.dtype == b.dtype:
            return make(_array(np.multiply(a, b)))
    return grad * other


class DivBackward0(Node):
    __slots__ = ("self_", "other")
    grad_order = (1, 0)  # other before self, as torch's generated code
    saved = ("self_", "other")
    formulas = (
        lambda n, g: O.div(g, n.other),                                    # self
        lambda n, g: _div_other_backward(g, n.self_, n.other),              # other
    )


def _div_other_backward(grad, self, other):
    """``-grad * ((self / other) / other)``; the right operand first, as torch's compiled
    formula evaluates it (the order its nodes are created in shows in higher-order graphs)."""
    quotient = O.div(O.div(self, other), other)
    return -grad * quotient


class NegBackward0(Node):
    __slots__ = ()
    formulas = (
        lambda n, g: O.neg(g),                            # self
    )


class ReciprocalBackward0(Node):
    __slots__ = ("_result",)
    saved = ("_result",)
    formulas = (
        lambda n, g: _reciprocal_backward(g, n.result),   # self
    )


def _reciprocal_backward(grad, result):
    square = result * result  # the right operand first, as torch's compiled formula
    return -grad * square


# ----------------------------------------------------------------- pow
def _pow_backward(grad, self, exponent):
    if exponent == 0:
        return _zeros_like(self)
    exponent = float(exponent)
    return grad * mul_scalar(O.pow(self, exponent - 1), exponent)


def _pow_backward_self(grad, self, exponent):
    return O.where(exponent == 0.0, 0, grad * (exponent * O.pow(self, sub_scalar(exponent, 1))))


def _pow_backward_exponent(grad, self, exponent, result):
    zero_base = make((self._data == 0) & (exponent._data >= 0))
    return grad * O.where(zero_base, 0, result * O.log(self))


def _pow_backward_exponent_scalar_base(grad, base, exponent, result):
    log_base = float(np.log(np.float64(base)))
    if base == 0:
        return grad * O.where(exponent >= 0, 0, mul_scalar(result, log_base))
    return grad * mul_scalar(result, log_base)


class PowBackward0(Node):
    """``x ** scalar``."""

    __slots__ = ("self_", "exponent")
    saved = ("self_",)
    formulas = (
        lambda n, g: _pow_backward(g, n.self_, n.exponent),                          # self
    )


class PowBackward1(Node):
    """``x ** tensor``."""

    __slots__ = ("self_", "exponent", "_result")
    grad_order = (1, 0)  # exponent before self
    saved = ("self_", "exponent", "_result")
    formulas = (
        lambda n, g: _pow_backward_self(g, n.self_, n.exponent),                     # self
        lambda n, g: _pow_backward_exponent(g, n.self_, n.exponent, n.result),       # exponent
    )


class PowBackward2(Node):
    """``scalar ** x``: only the exponent is an input."""

    __slots__ = ("base", "exponent", "_result")
    saved = ("exponent", "_result")
    formulas = (
        lambda n, g: _pow_backward_exponent_scalar_base(g, n.base, n.exponent, n.result),
    )


# ----------------------------------------------------------------- exp / log / abs / relu
class ExpBackward0(Node):
    __slots__ = ("_result",)
    saved = ("_result",)
    formulas = (
        lambda n, g: g * n.result,                        # self
    )


class LogBackward0(Node):
    __slots__ = ("self_",)
    saved = ("self_",)
    formulas = (
        lambda n, g: O.div(g, n.self_),                   # self
    )


class AbsBackward0(Node):
    __slots__ = ("self_",)
    saved = ("self_",)
    formulas = (
        lambda n, g: g * O.sgn(n.self_),                  # self
    )


class ReluBackward0(Node):
    __slots__ = ("_result",)
    saved = ("_result",)
    formulas = (
        lambda n, g: threshold_backward(g, n.result, 0),  # self
    )


# ----------------------------------------------------------------- backward ops
# torch computes some derivatives with ops of their own, which have their own nodes: with
# create_graph the grad's grad_fn is TanhBackwardBackward0 & co, not a MulBackward0.
def _recording(*tensors) -> bool:
    return _grad_mode.enabled and any(
        isinstance(t, Tensor) and t._requires_grad for t in tensors)


def backward_op(node_cls, value, inputs, **fields):
    """``value()``, computed without a graph, as the output of one of torch's backward ops:
    with create_graph it hangs from ``node_cls``, whose formulas differentiate that op."""
    with no_grad():
        out = value()
    if not _recording(*inputs):
        return out
    node = node_cls()
    for name, field in fields.items():
        setattr(node, name, field)
    return attach(node, out._data, inputs)


def _array(out):
    return out if type(out) is np.ndarray else np.asarray(out)


class MulBackward1(Node):
    """``tensor * scalar`` written in torch's C++ formulas (mul.Scalar)."""

    __slots__ = ("other",)
    formulas = (
        lambda n, g: mul_scalar(g, n.other),              # self
    )


class DivBackward1(Node):
    """``tensor / scalar`` written in torch's C++ formulas (div.Scalar)."""

    __slots__ = ("other",)
    formulas = (
        lambda n, g: div_scalar(g, n.other),              # self
    )


class AddBackward1(Node):
    """``tensor + scalar`` written in torch's C++ formulas (add.Scalar)."""

    __slots__ = ()
    formulas = (
        lambda n, g: g,                                   # self
    )


class SubBackward1(Node):
    """``tensor - scalar`` written in torch's C++ formulas (sub.Scalar)."""

    __slots__ = ()
    formulas = (
        lambda n, g: g,                                   # self
    )


def mul_scalar(t, scalar):
    out = _array(t._data * scalar)
    if _recording(t):
        node = MulBackward1()
        node.other = scalar
        return attach(node, out, (t,))
    return make(out)


def div_scalar(t, scalar):
    out = _array(t._data / scalar)
    if _recording(t):
        node = DivBackward1()
        node.other = scalar
        return attach(node, out, (t,))
    return make(out)


def add_scalar(t, scalar):
    out = _array(t._data + scalar)
    if _recording(t):
        return attach(AddBackward1(), out, (t,))
    return make(out)


def sub_scalar(t, scalar):
    out = _array(t._data - scalar)
    if _recording(t):
        return attach(SubBackward1(), out, (t,))
    return make(out)


def _constant(scalar, like):
    """A Python number in C++ ``scalar op tensor``: a 0-d tensor that needs no grad (torch's
    wrapped number), so the node has a None edge for it."""
    return make(np.asarray(scalar, like._data.dtype))


def rsub_scalar(scalar, t):
    """``scalar - tensor`` in torch's C++ formulas: SubBackward0 with a None first edge."""
    return O.sub(_constant(scalar, t), t)


def rdiv_scalar(scalar, t):
    """``scalar / tensor`` in torch's C++ formulas: DivBackward0 with a None first edge."""
    return O.div(_constant(scalar, t), t)


class SgnBackward0(Node):
    """sgn's derivative is zero: torch returns a zero tensor that needs no grad."""

    __slots__ = ()
    formulas = (
        lambda n, g: _zeros_like(g),                      # self
    )


class MaskedFillBackward0(Node):
    __slots__ = ("mask",)
    formulas = (
        lambda n, g: masked_fill(g, n.mask, 0),           # self (mask: not differentiable)
    )


def masked_fill(t, mask, value):
    """``t.masked_fill(mask, value)`` for a bool array ``mask``: how torch's formulas zero a
    grad where they divided by zero (MaskedFillBackward0, not a where)."""
    data = t._data
    out = _array(np.where(mask, data.dtype.type(value), data))
    if _recording(t):
        node = MaskedFillBackward0()
        node.mask = mask
        return attach(node, out, (t,))
    return make(out)


def unsqueeze_multiple(t, dims):
    """torch's unsqueeze_multiple: put the reduced ``dims`` back as size 1, one unsqueeze
    (UnsqueezeBackward0) per dim, in increasing order."""
    from .shape import unsqueeze  # here: _ops_shape imports _ops, which imports us

    for d in sorted(dims):
        t = unsqueeze(t, d)
    return t


class TanhBackwardBackward0(Node):
    __slots__ = ("grad_output", "output")
    saved = ("grad_output", "output")
    formulas = (
        lambda n, g: tanh_backward(g, n.output),                                # grad_output
        lambda n, g: g * (mul_scalar(n.output, -2) * n.grad_output),            # output
    )


def tanh_backward(grad, output):
    """tanh's grad from its output: ``grad * (1 - output**2)``."""
    r = output._data
    g = grad._data
    if r.ndim and r.shape == g.shape and r.dtype == g.dtype:
        out = np.multiply(r, r)  # the same three steps in one buffer: less memory traffic
        np.subtract(1, out, out=out)
        np.multiply(g, out, out=out)
    else:
        out = _array(g * (1 - r * r))
    if _recording(grad, output):
        node = TanhBackwardBackward0()
        node.grad_output, node.output = grad, output
        return attach(node, out, (grad, output))
    return make(out)


class SigmoidBackwardBackward0(Node):
    __slots__ = ("grad_output", "output")
    saved = ("grad_output", "output")
    formulas = (
        lambda n, g: sigmoid_backward(g, n.output),                             # grad_output
        lambda n, g: _sigmoid_double_backward(g, n.grad_output, n.output),     # output
    )


def _sigmoid_double_backward(grad, grad_output, output):
    slope = add_scalar(mul_scalar(output, -2), 1)  # the right operand first, as torch
    return grad * grad_output * slope


def sigmoid_backward(grad, output):
    """sigmoid's grad from its output: ``grad * (1 - output) * output``."""
    r = output._data
    g = grad._data
    if r.ndim and r.shape == g.shape and r.dtype == g.dtype:
        out = np.subtract(1, r)  # the same three steps in one buffer: less memory traffic
        np.multiply(g, out, out=out)
        np.multiply(out, r, out=out)
    else:
        out = _array(g * (1 - r) * r)
    if _recording(grad, output):
        node = SigmoidBackwardBackward0()
        node.grad_output, node.output = grad, output
        return attach(node, out, (grad, output))
    return make(out)


class ThresholdBackwardBackward0(Node):
    __slots__ = ("self_", "threshold")
    saved = ("self_",)
    formulas = (
        lambda n, g: threshold_backward(g, n.self_, n.threshold),              # grad_output
        lambda n, g: _zeros_like(g),                                            # self
    )


def threshold_backward(grad, self, threshold):
    """relu's grad: ``grad`` where ``self > threshold``, else 0."""
    out = _array(np.where(self._data <= threshold, 0, grad._data).astype(grad._data.dtype,
                                                                          copy=False))
    if _recording(grad, self):
        node = ThresholdBackwardBackward0()
        node.self_, node.threshold = self, threshold
        return attach(node, out, (grad, self))
    return make(out)


# ----------------------------------------------------------------- reductions
def _sum_backward(grad, sizes, dims, keepdim):
    """torch's sum_backward: unsqueeze the reduced dims back (``dims`` is empty for a sum
    over everything, which expands the 0-d grad directly) and broadcast to the input's
    shape."""
    if not keepdim and dims:
        grad = unsqueeze_multiple(grad, dims)
    return O.expand(grad, sizes)


class SumBackward0(Node):
    """``x.sum()`` without a dim argument."""

    __slots__ = ("self_sizes", "dims", "keepdim")
    formulas = (
        lambda n, g: O.expand(g, n.self_sizes),                                      # self
    )


class SumBackward1(Node):
    """``x.sum(dim)``, including ``dim=None`` and ``dim=[]``."""

    __slots__ = ("self_sizes", "dims", "keepdim")
    formulas = (
        lambda n, g: _sum_backward(g, n.self_sizes, n.dims, n.keepdim),              # self
    )


class MeanBackward0(Node):
    __slots__ = ("self_sizes", "dims", "keepdim", "count")
    formulas = (
        lambda n, g: _mean_backward(g, n.self_sizes, n.count),                       # self
    )


def _mean_backward(grad, sizes, count):
    """torch's ``grad.expand(sizes) / count``; with no graph to record, one filled array."""
    if _grad_mode.enabled:
        return div_scalar(O.expand(grad, sizes), count)
    out = np.empty(sizes, grad._data.dtype)
    out.fill(grad._data / count)
    return make(out)


class MeanBackward1(Node):
    __slots__ = ("self_sizes", "dims", "keepdim", "count")
    formulas = (
        lambda n, g: div_scalar(_sum_backward(g, n.self_sizes, n.dims, n.keepdim),   # self
                                n.count),
    )


def _norm_backward(grad, self, p, norm, dims, keepdim):
    """torch's norm_backward, op for op. ``dims`` are the dims the call named (none for
    ``dim=None``, whose 0-d grad then broadcasts); grads are 0 where the norm is 0."""
    if not keepdim and self._data.ndim:
        grad = unsqueeze_multiple(grad, dims)
        norm = unsqueeze_multiple(norm, dims)
    if p == 0.0:
        return None
    if p == 1.0:
        return O.sgn(self) * grad
    if p == 2.0:
        return grad * masked_fill(self / norm, norm._data == 0, 0)
    # Below, right operands are computed first, as torch's compiled formula evaluates them.
    if np.isinf(p):
        self_abs = O.abs(self)
        mask = make((self_abs._data == norm._data) | np.isnan(self_abs._data))
        scaled = (grad / O.sum(mask, dims, keepdim=True)) * mask
        return O.sgn(self) * scaled
    if p < 1.0:
        powered = masked_fill(pow_inplace(O.abs(self), p - 1), self._data == 0, 0)
        self_scaled = O.sgn(self) * powered
        norm_powered = norm ** (1 - p)
        return self_scaled * grad * norm_powered
    if p < 2.0:
        powered = pow_inplace(O.abs(self), p - 1)
        self_scaled = O.sgn(self) * powered
    else:
        self_scaled = self * pow_inplace(O.abs(self), p - 2)
    return self_scaled * masked_fill(grad / norm ** (p - 1), norm._data == 0, 0)


def mul_inplace(t, other):
    """``t.mul_(other)`` in torch's formulas: when ``other`` needs a grad, its MulBackward0
    saved a clone of the ``t`` it overwrote (a CloneBackward0 in higher-order graphs)."""
    out = t * other
    if out._grad_fn is not None and _recording(other):
        out._grad_fn.self_ = O.clone(t)
    return out


def div_inplace(t, other):
    """``t.div_(other)`` in torch's formulas: as ``mul_inplace``, DivBackward0 saved a
    clone of the overwritten ``t`` when ``other`` needs a grad."""
    out = O.div(t, other)
    if out._grad_fn is not None and _recording(other):
        out._grad_fn.self_ = O.clone(t)
    return out


def pow_inplace(t, exponent):
    """``t.pow_(exponent)`` in torch's formulas: its PowBackward0 saved a clone of the ``t``
    it overwrote, so higher-order graphs pass through a CloneBackward0."""
    out = O.pow(t, exponent)
    if out._grad_fn is not None:
        out._grad_fn.self_ = O.clone(t)
    return out


class LinalgVectorNormBackward0(Node):
    __slots__ = ("self_", "_result", "ord", "dims", "keepdim")
    saved = ("self_", "_result")
    formulas = (
        lambda n, g: _norm_backward(g, n.self_, n.ord, n.result, n.dims, n.keepdim),  # self
    )


# ----------------------------------------------------------------- structure
class ExpandBackward0(Node):
    __slots__ = ("self_sizes",)
    formulas = (
        lambda n, g: O.sum_to(g, n.self_sizes),           # self
    )


class ViewBackward0(Node):
    __slots__ = ("self_sizes",)
    formulas = (
        lambda n, g: _reshape(g, n.self_sizes),           # self
    )


def _reshape(grad, sizes):
    """torch's ``grad.reshape(sizes)``: a view of a contiguous grad, else ReshapeAlias or a
    copy (CloneBackward0 + UnsafeViewBackward0), which create_graph records."""
    from .shape import reshape  # here: _ops_shape imports _ops, which imports us

    return reshape(grad, sizes)


class WhereBackward0(Node):
    __slots__ = ("condition",)
    grad_order = (1, 0)  # other before self
    saved = ("condition",)
    formulas = (
        lambda n, g: O.where(n.condition, g, 0),          # self
        lambda n, g: O.where(n.condition, 0, g),          # other
    )


class CloneBackward0(Node):
    __slots__ = ()
    formulas = (
        lambda n, g: g,                                   # self
    )


class ToCopyBackward0(Node):
    __slots__ = ("self_dtype",)
    formulas = (
        lambda n, g: O.to(g, n.self_dtype),               # self
    )


class CopyBackwards(Node):
    """What a leaf's .grad hangs from after a first ``backward(create_graph=True)``, and
    copy_'s node."""

    __slots__ = ()

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"
    formulas = (
        lambda n, g: _zeros_like(g),                      # self (the overwritten tensor)
        lambda n, g: g,                                   # src
    )
