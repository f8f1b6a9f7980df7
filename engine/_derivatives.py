"""The derivative table: one backward-node class per torch grad_fn, one formula per input.

Read it like torch's ``tools/autograd/derivatives.yaml``: each class lists the values its op
saved and, in ``formulas``, one ``lambda node, grad: ...`` per input in ``next_functions``
order.  Formulas are written with engine ops, so with ``create_graph=True`` (grad mode on
during backward) they record a graph of their own and give higher-order grads.

Formulas may return a grad of the *output's* broadcast shape or of a wider dtype: the engine
sums it back to the input's shape and casts it to the input's dtype in one place
(``_autograd``), as torch's ``validate_outputs`` does.  Python-scalar operands are saved as
numbers; ``saved`` names the slots a backward without ``retain_graph`` frees.
"""

from __future__ import annotations

import numpy as np

from . import _ops as O
from ._grad_mode import state as _grad_mode
from ._node import Node, attach
from ._tensor import make


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
    saved = ("self_", "other")
    formulas = (
        lambda n, g: g * n.other,                         # self
        lambda n, g: g * n.self_,                         # other
    )


class DivBackward0(Node):
    __slots__ = ("self_", "other")
    saved = ("self_", "other")
    formulas = (
        lambda n, g: O.div(g, n.other),                                    # self
        lambda n, g: -g * O.div(O.div(n.self_, n.other), n.other),         # other
    )


class NegBackward0(Node):
    __slots__ = ()
    formulas = (
        lambda n, g: O.neg(g),                            # self
    )


class ReciprocalBackward0(Node):
    __slots__ = ("_result",)
    saved = ("_result",)
    formulas = (
        lambda n, g: -g * (n.result * n.result),          # self
    )


# ----------------------------------------------------------------- pow
def _pow_backward(grad, self, exponent):
    if exponent == 0:
        return _zeros_like(self)
    exponent = float(exponent)
    return grad * (exponent * O.pow(self, exponent - 1))


def _pow_backward_self(grad, self, exponent):
    return O.where(exponent == 0.0, 0, grad * (exponent * O.pow(self, exponent - 1)))


def _pow_backward_exponent(grad, self, exponent, result):
    zero_base = make((self._data == 0) & (exponent._data >= 0))
    return grad * O.where(zero_base, 0, result * O.log(self))


def _pow_backward_exponent_scalar_base(grad, base, exponent, result):
    log_base = float(np.log(np.float64(base)))
    if base == 0:
        return grad * O.where(exponent >= 0, 0, result * log_base)
    return grad * (result * log_base)


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
    return _grad_mode.enabled and any(t._requires_grad for t in tensors)


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
    out = _array(grad._data * (1 - r * r))
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
        lambda n, g: g * n.grad_output * add_scalar(mul_scalar(n.output, -2), 1),  # output
    )


def sigmoid_backward(grad, output):
    """sigmoid's grad from its output: ``grad * (1 - output) * output``."""
    r = output._data
    out = _array(grad._data * (1 - r) * r)
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
        from ._ops_shape import unsqueeze  # here: _ops_shape imports _ops, which imports us

        for d in sorted(dims):
            grad = unsqueeze(grad, d)
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
        lambda n, g: div_scalar(O.expand(g, n.self_sizes), n.count),                 # self
    )


class MeanBackward1(Node):
    __slots__ = ("self_sizes", "dims", "keepdim", "count")
    formulas = (
        lambda n, g: div_scalar(_sum_backward(g, n.self_sizes, n.dims, n.keepdim),   # self
                                n.count),
    )


def _norm_backward(grad, self, p, norm, dims, keepdim):
    """torch's norm_backward; grads are 0 where the norm is 0 (where sqrt(sum(x**2))
    would give NaN)."""
    if not keepdim and self._data.ndim:
        shape = O.keepdim_shape(self._data.shape, dims)
        grad = O.reshape(grad, shape)
        norm = O.reshape(norm, shape)
    if p == 0.0:
        return None
    if p == 1.0:
        return O.sgn(self) * grad
    if p == 2.0:
        return grad * O.where(norm == 0, 0, self / norm)
    if np.isinf(p):
        self_abs = O.abs(self)
        mask = make((self_abs._data == norm._data) | np.isnan(self_abs._data))
        return O.sgn(self) * ((grad / O.sum(mask, dims, keepdim=True)) * mask)
    if p < 1.0:
        self_scaled = O.sgn(self) * O.where(self == 0, 0, O.abs(self) ** (p - 1))
        return self_scaled * grad * norm ** (1 - p)
    if p < 2.0:
        self_scaled = O.sgn(self) * O.abs(self) ** (p - 1)
    else:
        self_scaled = self * O.abs(self) ** (p - 2)
    return self_scaled * O.where(norm == 0, 0, grad / norm ** (p - 1))


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
        lambda n, g: O.reshape(g, n.self_sizes),          # self
    )


class WhereBackward0(Node):
    __slots__ = ("condition",)
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
