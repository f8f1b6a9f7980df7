"""Elementwise ops: arithmetic, powers, unary math, rounding, clamp, maximum/minimum,
rounding division and remainder, comparisons, logical and bitwise ops, ``where``, casts,
and the fills and copies (``zero_``, ``fill_``, ``copy_``).

Each op's backward node (torch's grad_fn name, one formula per input) sits just before its
forward.  Grads at kinks and ties follow torch's derivatives.yaml: clamp passes the grad at
its boundaries, maximum/minimum split it in half between equal inputs, rounding functions
have zero grad, ops torch has no formula for record its ``NotImplemented`` node.  Binary
ops return NotImplemented for operand types they do not take, so Python's operator
protocol raises torch's TypeError; the call forms (``surface``) turn that into the error of
``engine.add(...)``.
"""

from __future__ import annotations

import math

import numpy as np

from .._dtype import FROM_NUMPY, bool_, get_default_dtype, result_type
from .._dtype import dtype as _dtype_class
from .._tensor import Tensor, make
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.inplace import CopyBackwards, check_inplace, check_overlap, commit
from ..autograd.node import Node, attach, backward_node
from ..runtime import parallel as _parallel
from ..runtime.quiet import silent
from ..runtime.simd import LOOP_BYTES_AVX2, vectorized_lanes
from .conv import channels_last
from .formulas import add_scalar, div_scalar, masked_fill, mul_scalar, sub_scalar, zeros_like
from .fused import fma
from .operands import (
    as_array,
    as_ndarray,
    binary_ufunc,
    broadcast_error,
    cast,
    coerce,
    copy_in_format,
    fast_binary_ufunc,
    float_dtype,
    needs_grad,
    needs_grad2,
    preserved,
    strided,
    torch_layout,
)

_LN2 = math.log(2.0)


# ================================================================= arithmetic
def _maybe_multiply(grad, alpha):
    return grad if alpha == 1 else grad * alpha


AddBackward0 = backward_node("AddBackward0", fields=("alpha",),
                             self=lambda n, g: g,
                             other=lambda n, g: _maybe_multiply(g, n.alpha))


def add(input, other, *, alpha=1):
    out = fast_binary_ufunc(np.add, input, other) if alpha == 1 else None
    if out is None:
        other = coerce(other)
        if other is NotImplemented:
            return other
        dtype = result_type(input, other)
        out = _plus_scaled(input, other, alpha, dtype)
    if needs_grad2(input, other):
        node = AddBackward0()
        node.alpha = alpha
        return attach(node, out, (input, other))
    return make(out)


SubBackward0 = backward_node("SubBackward0", fields=("alpha",),
                             self=lambda n, g: g,
                             other=lambda n, g: _maybe_multiply(-g, n.alpha))


def sub(input, other, *, alpha=1):
    out = None
    if alpha == 1 and type(input) is Tensor and input._data.dtype.kind == "f":
        out = fast_binary_ufunc(np.subtract, input, other)  # no bool operand: nothing to reject
    if out is None:
        other = coerce(other)
        if other is NotImplemented:
            return other
        dtype = result_type(input, other)
        _check_sub(input, other)
        out = _plus_scaled(input, other, -alpha, dtype)
    if needs_grad2(input, other):
        node = SubBackward0()
        node.alpha = alpha
        return attach(node, out, (input, other))
    return make(out)


@silent
def _plus_scaled(input, other, alpha, dtype):
    """``input + alpha * other`` as torch's add kernel computes it: one rounding (a fused
    multiply-add) for floats; sub is add with ``-alpha``."""
    if isinstance(alpha, Tensor):  # a one-element tensor passed for the Scalar
        alpha = alpha.item()
    if alpha == 1:
        return binary_ufunc(np.add, input, other, dtype)
    if alpha == -1 and dtype is not bool_:
        return binary_ufunc(np.subtract, input, other, dtype)
    _check_alpha(alpha, dtype)
    if not dtype.is_floating_point:  # torch casts the Scalar to the dtype, wrapping (uint8)
        scale = np.asarray(alpha).astype(dtype.np)
        return binary_ufunc(np.add, input, as_array(other, dtype.np) * scale, dtype)
    a, b = as_array(input, dtype.np), as_array(other, dtype.np)
    try:
        out = fma(b, alpha, a, dtype.np)
    except ValueError:
        raise broadcast_error(input, other) from None
    return torch_layout(out, (a, b)) if strided(a, b) else out


# rsub(self, other) = other - alpha * self; with a scalar other (``2 - x``) only self is an input
RsubBackward0 = backward_node("RsubBackward0", fields=("alpha",),
                              self=lambda n, g: _maybe_multiply(-g, n.alpha),
                              other=lambda n, g: g)
RsubBackward1 = backward_node("RsubBackward1", fields=("alpha",),
                              self=lambda n, g: _maybe_multiply(-g, n.alpha))


@silent
def rsub(input, other, *, alpha=1):
    """``other - alpha * input``; with a scalar ``other`` this is ``2 - x`` (RsubBackward1).
    A non-tensor ``input`` (``Tensor.__rsub__`` called unbound) is NotImplemented: torch's
    ``__rsub__`` turns rsub's TypeError into it."""
    other = coerce(other)
    if other is NotImplemented or not isinstance(input, Tensor):
        return NotImplemented
    dtype = result_type(input, other)
    _check_sub(input, other)
    out = _plus_scaled(other, input, -alpha, dtype)
    if isinstance(other, Tensor):
        if needs_grad2(input, other):
            node = RsubBackward0()
            node.alpha = alpha
            return attach(node, out, (input, other))
    elif needs_grad(input):
        node = RsubBackward1()
        node.alpha = alpha
        return attach(node, out, (input,))
    return make(out)


def _check_sub(a, b):
    a_bool = _dtype_of(a) is bool_
    b_bool = _dtype_of(b) is bool_
    if a_bool and b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if a_bool or b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator "
            "instead."
        )


def _check_alpha(alpha, dtype):
    if alpha == 1:
        return
    if not dtype.is_floating_point and isinstance(alpha, float):
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number."
        )
    if isinstance(alpha, bool) and dtype is not bool_:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")


def _dtype_of(value):
    if isinstance(value, Tensor):
        return FROM_NUMPY[value._data.dtype]
    return bool_ if isinstance(value, bool) else None


MulBackward0 = backward_node("MulBackward0", saved=("self_", "other"),
                             grad_order=("other", "self"),  # as torch's generated code
                             self=lambda n, g: _grad_times(g, n.other),
                             other=lambda n, g: _grad_times(g, n.self_))


def _grad_times(grad, other):
    """``grad * other``; with no graph to record and operands of one shape and dtype (the
    usual case), the product of the arrays without the op's dispatch."""
    if not _grad_mode.enabled and type(other) is Tensor:
        a, b = grad._data, other._data
        if a.shape == b.shape and a.dtype == b.dtype:
            return make(as_ndarray(np.multiply(a, b)))
    return grad * other


def mul(input, other):
    out = fast_binary_ufunc(np.multiply, input, other)
    if out is None:
        other = coerce(other)
        if other is NotImplemented:
            return other
        out = binary_ufunc(np.multiply, input, other, result_type(input, other))
    if needs_grad2(input, other):
        node = MulBackward0()
        node.self_ = input
        node.other = other
        return attach(node, out, (input, other))
    return make(out)


DivBackward0 = backward_node("DivBackward0", saved=("self_", "other"),
                             grad_order=("other", "self"),  # as torch's generated code
                             self=lambda n, g: div(g, n.other),
                             other=lambda n, g: _div_other_backward(g, n.self_, n.other))


def _div_other_backward(grad, self, other):
    """``-grad * ((self / other) / other)``; the right operand first, as torch's compiled
    formula evaluates it (the order its nodes are created in shows in higher-order graphs)."""
    quotient = div(div(self, other), other)
    return -grad * quotient


def div(input, other):
    out = None
    if type(input) is Tensor and input._data.dtype.kind == "f":  # ints divide in float32
        out = fast_binary_ufunc(np.true_divide, input, other)
    if out is None:
        other = coerce(other)
        if other is NotImplemented:
            return other
        out = binary_ufunc(np.true_divide, input, other, float_dtype(result_type(input, other)))
    if needs_grad2(input, other):
        node = DivBackward0()
        node.self_ = input
        node.other = other
        return attach(node, out, (input, other))
    return make(out)


def rdiv(input, other):
    """``other / input`` for a scalar ``other``: torch computes ``input.reciprocal() *
    other``, which is why ``2 / x`` has grad_fn MulBackward0."""
    other = coerce(other)
    if other is NotImplemented:
        return other
    return mul(reciprocal(input), other)


# ================================================================= powers
def _pow_backward(grad, self, exponent):
    if exponent == 0:
        return zeros_like(self)
    exponent = float(exponent)
    return grad * mul_scalar(pow(self, exponent - 1), exponent)


def _pow_backward_self(grad, self, exponent):
    return where(exponent == 0.0, 0, grad * (exponent * pow(self, sub_scalar(exponent, 1))))


def _pow_backward_exponent(grad, self, exponent, result):
    zero_base = make((self._data == 0) & (exponent._data >= 0))
    return grad * where(zero_base, 0, result * log(self))


def _pow_backward_exponent_scalar_base(grad, base, exponent, result):
    log_base = float(np.log(np.float64(base)))
    if base == 0:
        return grad * where(exponent >= 0, 0, mul_scalar(result, log_base))
    return grad * mul_scalar(result, log_base)


PowBackward0 = backward_node(  # x ** scalar
    "PowBackward0", saved=("self_",), fields=("exponent",),
    self=lambda n, g: _pow_backward(g, n.self_, n.exponent))
PowBackward1 = backward_node(  # x ** tensor
    "PowBackward1", saved=("self_", "exponent", "_result"), grad_order=("exponent", "self"),
    self=lambda n, g: _pow_backward_self(g, n.self_, n.exponent),
    exponent=lambda n, g: _pow_backward_exponent(g, n.self_, n.exponent, n.result))
PowBackward2 = backward_node(  # scalar ** x: only the exponent is an input
    "PowBackward2", saved=("exponent", "_result"), fields=("base",),
    exponent=lambda n, g: _pow_backward_exponent_scalar_base(g, n.base, n.exponent, n.result))


@silent
def pow(input, exponent):  # noqa: A001 - torch's name
    """``tensor ** scalar`` (PowBackward0), ``tensor ** tensor`` (PowBackward1) and, via
    ``rpow``, ``scalar ** tensor`` (PowBackward2)."""
    if not isinstance(input, Tensor):
        return rpow(exponent, input)
    exponent = coerce(exponent)
    if exponent is NotImplemented:
        return exponent
    dtype = result_type(input, exponent)
    if isinstance(exponent, Tensor):
        out = _power(input, exponent, dtype)
        if needs_grad(input, exponent):
            node = PowBackward1()
            node.self_ = input
            node.exponent = exponent
            node._result = out
            return attach(node, out, (input, exponent))
        return make(out)
    if not dtype.is_floating_point and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    # torch's half kernel casts a scalar exponent to half (std::pow then runs in float)
    computed = float(np.float16(exponent)) if dtype.np == np.float16 else exponent
    out = _power(input, computed, dtype)
    if needs_grad(input):
        node = PowBackward0()
        node.self_ = input
        node.exponent = exponent
        return attach(node, out, (input,))
    return make(out)


@silent
def rpow(input, base):
    """``base ** input`` for a scalar ``base`` (PowBackward2)."""
    base = coerce(base)
    if base is NotImplemented:
        return base
    if isinstance(base, Tensor):
        return pow(base, input)
    out = _power(base, input, result_type(base, input))
    if needs_grad(input):
        node = PowBackward2()
        node.base = base
        node.exponent = input
        node._result = out
        return attach(node, out, (input,))
    return make(out)


def _integer_power(a, b):
    """np.power, except that an integer to a negative integer power is ATen's powi: 1 for a
    base of 1, -1 or 1 (the exponent's parity) for -1, else 0 (numpy refuses it)."""
    if (np.result_type(a).kind not in "iu" or np.result_type(b).kind != "i"
            or not np.any(b < 0)):
        return np.power(a, b)
    negative = b < 0
    out = np.power(a, np.where(negative, 0, b).astype(b.dtype))
    odd = (b % 2) != 0
    special = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
    return np.where(negative, special, out).astype(out.dtype)


def _power(base, exponent, dtype):
    try:
        return binary_ufunc(_integer_power, base, exponent, dtype)
    except ValueError as e:  # numpy: integers to negative integer powers
        raise RuntimeError(str(e)) from None


def square(input):
    if input._data.dtype == np.bool_:
        return pow(to(input, FROM_NUMPY[np.dtype(np.int64)]), 2)
    return pow(input, 2)


# ================================================================= unary math
NegBackward0 = backward_node("NegBackward0", self=lambda n, g: neg(g))


@silent
def neg(input):
    if input._data.dtype == np.bool_:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    out = as_ndarray(np.negative(input._data))
    if needs_grad(input):
        return attach(NegBackward0(), out, (input,))
    return make(out)


ExpBackward0 = backward_node("ExpBackward0", saved=("_result",),
                             self=lambda n, g: g * n.result)
LogBackward0 = backward_node("LogBackward0", saved=("self_",),
                             self=lambda n, g: div(g, n.self_))
ReciprocalBackward0 = backward_node("ReciprocalBackward0", saved=("_result",),
                                    self=lambda n, g: _reciprocal_backward(g, n.result))
SqrtBackward0 = backward_node("SqrtBackward0", saved=("_result",),
                              self=lambda n, g: div(g, mul_scalar(n.result, 2)))
RsqrtBackward0 = backward_node("RsqrtBackward0", saved=("_result",),
                               self=lambda n, g: _rsqrt_backward(g, n.result))
Log2Backward0 = backward_node("Log2Backward0", saved=("self_",),
                              self=lambda n, g: div(g, mul_scalar(n.self_, _LN2)))
Log1PBackward0 = backward_node("Log1PBackward0", saved=("self_",),
                               self=lambda n, g: div(g, add_scalar(n.self_, 1)))
Expm1Backward0 = backward_node("Expm1Backward0", saved=("_result",),
                               self=lambda n, g: g * add_scalar(n.result, 1))
SinBackward0 = backward_node("SinBackward0", saved=("self_",),
                             self=lambda n, g: g * cos(n.self_))
CosBackward0 = backward_node("CosBackward0", saved=("self_",),
                             self=lambda n, g: g * neg(sin(n.self_)))
TanBackward0 = backward_node("TanBackward0", saved=("_result",),
                             self=lambda n, g: g * add_scalar(pow(n.result, 2), 1))
CoshBackward0 = backward_node("CoshBackward0", saved=("self_",),
                              self=lambda n, g: g * sinh(n.self_))
SinhBackward0 = backward_node("SinhBackward0", saved=("self_",),
                              self=lambda n, g: g * cosh(n.self_))
TanhBackward0 = backward_node("TanhBackward0", saved=("_result",),
                              self=lambda n, g: tanh_backward(g, n.result))
SigmoidBackward0 = backward_node("SigmoidBackward0", saved=("_result",),
                                 self=lambda n, g: sigmoid_backward(g, n.result))


def _reciprocal_backward(grad, result):
    square = result * result  # the right operand first, as torch's compiled formula
    return -grad * square


def _rsqrt_backward(grad, result):
    cubed = pow(result, 3)  # the right operand first, as torch's compiled formula
    return mul_scalar(grad, -0.5) * cubed


def _unary_float(np_fn, node_cls, save, *, half_in_float=True):
    """A floating-point unary op: integers and bools compute in float32, half in float
    (rounded once, as torch; ``half_in_float=False`` leaves it to numpy), big inputs split
    over threads; the node saves ``self`` or the ``result``."""

    def op(input):
        data = input._data
        if data.dtype.kind != "f":
            out = np_fn(cast(data, np.float32))  # torch's promotion: its layout too
        elif half_in_float and data.dtype == np.float16:
            out = np_fn(cast(data, np.float32)).astype(np.float16)
        elif isinstance(np_fn, np.ufunc):
            out = _parallel.unary(np_fn, data)
        else:
            out = np_fn(data)
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        elif strided(data):  # numpy's order for an expanded input is not TensorIterator's
            out = torch_layout(out, (data,))
        if input._requires_grad and _grad_mode.enabled:
            node = node_cls()
            if save == "self":
                node.self_ = input
            elif save == "result":
                node._result = out
            return attach(node, out, (input,))
        return make(out)

    op.__name__ = op.__qualname__ = node_cls.__name__.removesuffix("Backward0").lower()
    return silent(op)


def _rsqrt(a):
    """``1 / sqrt(a)``; in half, torch's vectorized loop computes in float and rounds once,
    its scalar tail (``vectorized_lanes``) rounds the square root to half first."""
    if a.dtype != np.float16:
        return np.reciprocal(np.sqrt(a))
    root = np.sqrt(cast(a, np.float32))
    out = np.asarray(np.reciprocal(root).astype(np.float16))
    lanes = vectorized_lanes(a, LOOP_BYTES_AVX2)
    if lanes is not None:
        tail = np.reciprocal(root.astype(np.float16).astype(np.float32)).astype(np.float16)
        np.copyto(out, tail, where=~lanes)
    return out


def _sigmoid(a):
    return np.reciprocal(1 + np.exp(-a))


exp = _unary_float(np.exp, ExpBackward0, "result", half_in_float=False)
log = _unary_float(np.log, LogBackward0, "self", half_in_float=False)
reciprocal = _unary_float(np.reciprocal, ReciprocalBackward0, "result", half_in_float=False)
sqrt = _unary_float(np.sqrt, SqrtBackward0, "result")
rsqrt = _unary_float(_rsqrt, RsqrtBackward0, "result", half_in_float=False)
log2 = _unary_float(np.log2, Log2Backward0, "self")
log1p = _unary_float(np.log1p, Log1PBackward0, "self")
expm1 = _unary_float(np.expm1, Expm1Backward0, "result")
sin = _unary_float(np.sin, SinBackward0, "self")
cos = _unary_float(np.cos, CosBackward0, "self")
tan = _unary_float(np.tan, TanBackward0, "result")
cosh = _unary_float(np.cosh, CoshBackward0, "self")  # for gelu's double backward
sinh = _unary_float(np.sinh, SinhBackward0, "self")
tanh = _unary_float(np.tanh, TanhBackward0, "result")
sigmoid = _unary_float(_sigmoid, SigmoidBackward0, "result")


AbsBackward0 = backward_node("AbsBackward0", saved=("self_",),
                             self=lambda n, g: g * sgn(n.self_))


@silent
def abs(input):  # noqa: A001 - torch's name
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    out = as_ndarray(np.abs(input._data))
    if needs_grad(input):
        node = AbsBackward0()
        node.self_ = input
        return attach(node, out, (input,))
    return make(out)


SgnBackward0 = backward_node(  # sgn's derivative is zero: a zero tensor that needs no grad
    "SgnBackward0", self=lambda n, g: zeros_like(g))


def _sign(data):
    """np.sign, except that torch's sign of NaN is 0 (its kernel compares with 0)."""
    out = as_ndarray(np.sign(data))
    if out.dtype.kind == "f":
        nan = np.isnan(out)
        if nan.any():
            out[nan] = 0
    return out


def sgn(input):
    """The sign, as derivative formulas use it: SgnBackward0, whose derivative is zero."""
    out = _sign(input._data)
    if needs_grad(input):
        return attach(SgnBackward0(), out, (input,))
    return make(out)


ReluBackward0 = backward_node("ReluBackward0", saved=("_result",),
                              self=lambda n, g: threshold_backward(g, n.result, 0))


@silent
def relu(input):
    data = input._data
    if data.dtype == np.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    out = as_ndarray(np.maximum(data, data.dtype.type(0)))  # propagates NaN, as torch does
    if needs_grad(input):
        node = ReluBackward0()
        node._result = out
        return attach(node, out, (input,))
    return make(out)


# torch computes some derivatives with ops of their own, which have their own nodes: with
# create_graph the grad's grad_fn is TanhBackwardBackward0 & co, not a MulBackward0.
ThresholdBackwardBackward0 = backward_node(
    "ThresholdBackwardBackward0", saved=("self_",), fields=("threshold",),
    grad_output=lambda n, g: threshold_backward(g, n.self_, n.threshold),
    self=lambda n, g: zeros_like(g))


def threshold_backward(grad, self, threshold):
    """relu's grad: ``grad`` where ``self > threshold``, else 0."""
    out = as_ndarray(np.where(self._data <= threshold, 0, grad._data).astype(grad._data.dtype,
                                                                          copy=False))
    if needs_grad(grad, self):
        node = ThresholdBackwardBackward0()
        node.self_, node.threshold = self, threshold
        return attach(node, out, (grad, self))
    return make(out)


TanhBackwardBackward0 = backward_node(
    "TanhBackwardBackward0", saved=("grad_output", "output"),
    grad_output=lambda n, g: tanh_backward(g, n.output),
    output=lambda n, g: g * (mul_scalar(n.output, -2) * n.grad_output))


def tanh_backward(grad, output):
    """tanh's grad from its output: ``grad * (1 - output**2)``."""
    r = output._data
    g = grad._data
    if r.dtype == np.float16 and g.dtype == np.float16:  # torch's kernel: in float, one rounding
        out = (g.astype(np.float32) * (1 - np.square(r.astype(np.float32)))).astype(np.float16)
    elif r.ndim and r.shape == g.shape and r.dtype == g.dtype:
        out = np.multiply(r, r)  # the same three steps in one buffer: less memory traffic
        np.subtract(1, out, out=out)
        np.multiply(g, out, out=out)
    else:
        out = as_ndarray(g * (1 - r * r))
    return _from_output(TanhBackwardBackward0, out, grad, output)


SigmoidBackwardBackward0 = backward_node(
    "SigmoidBackwardBackward0", saved=("grad_output", "output"),
    grad_output=lambda n, g: sigmoid_backward(g, n.output),
    output=lambda n, g: _sigmoid_double_backward(g, n.grad_output, n.output))


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
        out = as_ndarray(g * (1 - r) * r)
    return _from_output(SigmoidBackwardBackward0, out, grad, output)


def _from_output(node_cls, out, grad, output):
    """A grad computed from an op's output, as torch's tanh_backward & co: under
    create_graph, hung from their own node."""
    if needs_grad(grad, output):
        node = node_cls()
        node.grad_output, node.output = grad, output
        return attach(node, out, (grad, output))
    return make(out)


# ================================================================= rounding
# piecewise-constant functions: the grad is zero everywhere
FloorBackward0 = backward_node("FloorBackward0", self=lambda n, g: zeros_like(g))
CeilBackward0 = backward_node("CeilBackward0", self=lambda n, g: zeros_like(g))
RoundBackward0 = backward_node("RoundBackward0", self=lambda n, g: zeros_like(g))
TruncBackward0 = backward_node("TruncBackward0", self=lambda n, g: zeros_like(g))
SignBackward0 = backward_node("SignBackward0", self=lambda n, g: zeros_like(g))


def _rounding(np_fn, node_cls, kernel):
    """floor/ceil/round/trunc: integers are returned as a copy, bools are rejected."""

    @silent
    def op(input, *, decimals=0):
        data = input._data
        if data.dtype == np.bool_:
            raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
        if data.dtype.kind != "f":
            out = preserved(data)
        elif decimals:
            scale = 10.0 ** decimals
            out = np.asarray(np.round(data * data.dtype.type(scale)) / data.dtype.type(scale))
        else:
            out = np.asarray(np_fn(data))
        if input._requires_grad and _grad_mode.enabled:
            return attach(node_cls(), out, (input,))
        return make(out)

    return op


floor = _rounding(np.floor, FloorBackward0, "floor_vml_cpu")
ceil = _rounding(np.ceil, CeilBackward0, "ceil_vml_cpu")
round = _rounding(np.round, RoundBackward0, "round_vml_cpu")  # noqa: A001 - half to even
trunc = _rounding(np.trunc, TruncBackward0, "trunc_vml_cpu")


@silent
def sign(input):
    data = input._data
    out = preserved(data) if data.dtype == np.bool_ else _sign(data)
    if input._requires_grad and _grad_mode.enabled:
        return attach(SignBackward0(), out, (input,))
    return make(out)


# ================================================================= clamp
def _in_range(self, lo, hi):
    """The mask where clamp passes the grad: boundaries included, NaN excluded."""
    x = self._data
    mask = np.ones(x.shape, bool) if lo is None else x >= _raw(lo)
    if hi is not None:
        mask = mask & (x <= _raw(hi))
    return make(mask)


def _raw(v):
    return v._data if isinstance(v, Tensor) else v


ClampBackward1 = backward_node(  # clamp with scalar bounds
    "ClampBackward1", saved=("self_",), fields=("min", "max"),
    self=lambda n, g: where(_in_range(n.self_, n.min, n.max), g, 0))


def _clamp_min_grad(n, g):
    x, lo = n.self_._data, n.min._data
    if n.max is None:
        return where(make(x < lo), g, 0)
    return where(make((x < lo) & (lo < n.max._data)), g, 0)


def _clamp_max_grad(n, g):
    x, hi = n.self_._data, n.max._data
    if n.min is None:
        return where(make(x > hi), g, 0)
    return where(make((x > hi) | (hi < n.min._data)), g, 0)


ClampBackward0 = backward_node(  # tensor bounds: inputs (self, min, max), an absent one a None edge
    "ClampBackward0", saved=("self_", "min", "max"),
    self=lambda n, g: where(_in_range(n.self_, n.min, n.max), g, 0),
    min=_clamp_min_grad,
    max=_clamp_max_grad)
ClampMinBackward0 = backward_node(
    "ClampMinBackward0", saved=("self_",), fields=("min",),
    self=lambda n, g: where(make(n.self_._data >= n.min), g, 0))
ClampMinBackward1 = backward_node(
    "ClampMinBackward1", saved=("self_", "min"),
    self=lambda n, g: where(make(n.self_._data >= n.min._data), g, 0),
    min=lambda n, g: where(make(n.self_._data < n.min._data), g, 0))
ClampMaxBackward0 = backward_node(
    "ClampMaxBackward0", saved=("self_",), fields=("max",),
    self=lambda n, g: where(make(n.self_._data <= n.max), g, 0))
ClampMaxBackward1 = backward_node(
    "ClampMaxBackward1", saved=("self_", "max"),
    self=lambda n, g: where(make(n.self_._data <= n.max._data), g, 0),
    max=lambda n, g: where(make(n.self_._data > n.max._data), g, 0))


def _bound(value):
    if value is None or isinstance(value, Tensor):
        return value
    c = coerce(value)
    if c is NotImplemented:
        raise TypeError(f"clamp(): argument 'min' must be Number, not {type(value).__name__}")
    return c


@silent
def clamp(input, min=None, max=None):  # noqa: A002 - torch's names
    lo, hi = _bound(min), _bound(max)
    if lo is None and hi is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    tensors = isinstance(lo, Tensor) or isinstance(hi, Tensor)
    if tensors:
        operands = [x for x in (input, lo, hi) if x is not None]
        dtype = result_type(*operands)
    else:
        dtype = result_type(input, *(x for x in (lo, hi) if x is not None))
    out = as_array(input, dtype.np)
    try:
        if lo is not None:
            out = np.maximum(out, as_array(lo, dtype.np))
        if hi is not None:
            out = np.minimum(out, as_array(hi, dtype.np))
    except ValueError:
        raise broadcast_error(input, lo if isinstance(lo, Tensor) else hi) from None
    out = np.asarray(out)
    if out.dtype != dtype.np:
        out = out.astype(dtype.np)
    if tensors:
        if needs_grad(input, lo, hi):
            node = ClampBackward0()
            node.self_, node.min, node.max = input, lo, hi
            return attach(node, out, (input, lo, hi))
    elif needs_grad(input):
        node = ClampBackward1()
        node.self_, node.min, node.max = input, lo, hi
        return attach(node, out, (input,))
    return make(out)


def clamp_min(input, min):  # noqa: A002
    return _clamp_one(input, _bound(min), True)


def clamp_max(input, max):  # noqa: A002
    return _clamp_one(input, _bound(max), False)


@silent
def _clamp_one(input, bound, is_min):
    dtype = result_type(input, bound)
    a = as_array(input, dtype.np)
    b = as_array(bound, dtype.np)
    try:
        out = np.asarray(np.maximum(a, b) if is_min else np.minimum(a, b))
    except ValueError:
        raise broadcast_error(input, bound) from None
    if out.dtype != dtype.np:
        out = out.astype(dtype.np)
    if strided(a, b):
        out = torch_layout(out, (a, b))
    if isinstance(bound, Tensor):
        if needs_grad(input, bound):
            node = ClampMinBackward1() if is_min else ClampMaxBackward1()
            node.self_ = input
            if is_min:
                node.min = bound
            else:
                node.max = bound
            return attach(node, out, (input, bound))
    elif needs_grad(input):
        node = ClampMinBackward0() if is_min else ClampMaxBackward0()
        node.self_ = input
        if is_min:
            node.min = bound
        else:
            node.max = bound
        return attach(node, out, (input,))
    return make(out)


# ================================================================= maximum / minimum
def _tie_split(g, self, other, drop):
    """maximum/minimum: the grad where self wins, half of it at ties. The comparison is made
    in the result's dtype (the grad's), as torch's `self == other` promotes: a float64 0-d
    input too small for float32 ties with a float32 zero."""
    a, b = self._data.astype(g._data.dtype, copy=False), other._data.astype(g._data.dtype,
                                                                           copy=False)
    half = where(make(a == b), div_scalar(g, 2), g)
    return masked_fill(half, drop(a, b), 0)


MaximumBackward0 = backward_node(
    "MaximumBackward0", saved=("self_", "other"),
    self=lambda n, g: _tie_split(g, n.self_, n.other, np.less),
    other=lambda n, g: _tie_split(g, n.self_, n.other, np.greater))
MinimumBackward0 = backward_node(
    "MinimumBackward0", saved=("self_", "other"),
    self=lambda n, g: _tie_split(g, n.self_, n.other, np.greater),
    other=lambda n, g: _tie_split(g, n.self_, n.other, np.less))


def _tensor_arg(name, position, param, value):
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{name}(): argument '{param}' (position {position}) must be Tensor, "
            f"not {type(value).__name__}"
        )


def _extremum(np_fn, node_cls, name):
    @silent
    def op(input, other):
        _tensor_arg(name, 1, "input", input)
        _tensor_arg(name, 2, "other", other)
        dtype = result_type(input, other)
        out = binary_ufunc(np_fn, input, other, dtype)
        if needs_grad(input, other):
            node = node_cls()
            node.self_, node.other = input, other
            return attach(node, out, (input, other))
        return make(out)

    op.__name__ = name
    return op


# numpy returns its second argument at a tie (0.0 and -0.0), torch its first: swapped
maximum = _extremum(lambda a, b: np.maximum(b, a), MaximumBackward0, "maximum")
minimum = _extremum(lambda a, b: np.minimum(b, a), MinimumBackward0, "minimum")


# ================================================================= rounding division, remainder
class NotImplementedBackward(Node):
    """torch's node for ops without a derivative formula; its class is named NotImplemented."""

    __slots__ = ("op",)

    def apply(self, grad):
        raise RuntimeError(f"derivative for aten::{self.op} is not implemented")


NotImplementedBackward.__name__ = NotImplementedBackward.__qualname__ = "NotImplemented"


def NotImplemented_(op):  # noqa: N802 - builds the node named NotImplemented
    node = NotImplementedBackward()
    node.op = op
    return node


def _integer_zero_check(dtype, other):
    if dtype.is_floating_point or dtype is bool_:
        return
    zero = (other == 0) if not isinstance(other, Tensor) else bool((other._data == 0).any())
    if zero:
        raise RuntimeError("ZeroDivisionError")


def _floor_divide(a, b):
    """np.floor_divide, except in float16: torch's div_floor_floating on c10::Half rounds
    each step (fmod, subtract, divide, the floor's correction) to half, and numpy's float16
    floor_divide, which rounds once, differs from it in the last place on about 1 % of
    quotients."""
    if getattr(a, "dtype", None) != np.float16:  # a is a Python number for 2.5 // t
        return np.floor_divide(a, b)
    one, half, zero = np.float16(1), np.float16(0.5), np.float16(0)
    mod = np.fmod(a, b)
    div = (a - mod) / b
    div = np.where((mod != 0) & ((b < 0) != (mod < 0)), div - one, div)
    floor = np.floor(div)
    floor = np.where(div - floor > half, floor + one, floor)
    quotient = a / b
    return np.where(b == 0, quotient, np.where(div != 0, floor, np.copysign(zero, quotient)))


@silent
def floor_divide(input, other):
    other = coerce(other)
    if other is NotImplemented:
        return NotImplemented
    if not isinstance(input, Tensor):  # torch.floor_divide(2.5, t): a scalar dividend
        input = coerce(input) if isinstance(other, Tensor) else NotImplemented
        if input is NotImplemented:
            return NotImplemented
    dtype = result_type(input, other)
    _integer_zero_check(dtype, other)
    out = binary_ufunc(_floor_divide, input, other, dtype)
    if needs_grad(input, other):
        node = NotImplemented_("floor_divide")
        return attach(node, out, (input, other))
    return make(out)


def _reflected(ufunc, name, input, other):
    """``other <op> input`` for a scalar ``other`` (torch has no derivative formula)."""
    other = coerce(other)
    if other is NotImplemented:
        return other
    dtype = result_type(input, other)
    _integer_zero_check(dtype, input)
    out = binary_ufunc(ufunc, other, input, dtype)
    if needs_grad(input):
        return attach(NotImplemented_(name), out, (input,))
    return make(out)


@silent
def rfloordiv(input, other):
    """``other // input`` for a scalar ``other``."""
    return _reflected(np.floor_divide, "floor_divide", input, other)


RemainderBackward0 = backward_node(  # remainder(tensor, scalar)
    "RemainderBackward0", self=lambda n, g: g)
RemainderBackward1 = backward_node(  # other's grad recorded, so that its grad is a zero tensor
    "RemainderBackward1", saved=("self_", "other"),
    self=lambda n, g: g,
    other=lambda n, g: -g * divide(n.self_, n.other, rounding_mode="floor"))


@silent
def remainder(input, other):
    other = coerce(other)
    if other is NotImplemented:
        return other
    if not isinstance(input, Tensor):
        return rremainder(other, input)
    dtype = result_type(input, other)
    _integer_zero_check(dtype, other)
    out = binary_ufunc(np.remainder, input, other, dtype)
    if isinstance(other, Tensor):
        if needs_grad(input, other):
            node = RemainderBackward1()
            node.self_, node.other = input, other
            return attach(node, out, (input, other))
    elif needs_grad(input):
        return attach(RemainderBackward0(), out, (input,))
    return make(out)


@silent
def rremainder(input, other):
    """``other % input``: a tensor ``other`` is ``remainder(other, input)`` (torch's
    ``Tensor.__rmod__``); a scalar has no derivative formula in torch."""
    if isinstance(other, Tensor):
        return remainder(other, input)
    return _reflected(np.remainder, "remainder", input, other)


# div with a rounding mode: zero grads (``grad * 0``); torch's parser wraps a scalar divisor
# in a tensor, so it is DivBackward2 for a scalar too (div.Scalar_mode's DivBackward3 is
# never reached from Python)
DivBackward2 = backward_node("DivBackward2", self=lambda n, g: g * 0, other=lambda n, g: g * 0)


@silent
def divide(input, other, *, rounding_mode=None):
    """``torch.div`` with ``rounding_mode`` None, "trunc" or "floor"."""
    if rounding_mode is None:
        return div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    other = coerce(other)
    if other is NotImplemented:
        return other
    dtype = result_type(input, other)
    _integer_zero_check(dtype, other)
    if rounding_mode == "floor":
        out = binary_ufunc(_floor_divide, input, other, dtype)
    elif dtype.is_floating_point:
        out = np.asarray(np.trunc(binary_ufunc(np.true_divide, input, other, dtype)))
    else:
        a, b = as_array(input, dtype.np), as_array(other, dtype.np)
        q = np.floor_divide(a, b)
        out = np.asarray(q + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0))))
        out = out.astype(dtype.np, copy=False)
        if strided(a, b):
            out = torch_layout(out, (a, b))
    if needs_grad(input, other):
        return attach(DivBackward2(), out, (input, other))
    return make(out)


# ================================================================= comparisons, logical, bitwise
def _comparison(ufunc):
    def compare(input, other):
        out = fast_binary_ufunc(ufunc, input, other)
        if out is None:
            other = coerce(other)
            if other is NotImplemented:
                return other
            dtype = result_type(input, other)
            if dtype.np == np.float16 and not isinstance(other, Tensor):
                with np.errstate(over="ignore"):  # torch compares with the scalar in half
                    other = np.float16(other)
            out = binary_ufunc(ufunc, input, other, dtype)
        return make(out)

    compare.__name__ = ufunc.__name__
    return compare


eq = _comparison(np.equal)
ne = _comparison(np.not_equal)
lt = _comparison(np.less)
le = _comparison(np.less_equal)
gt = _comparison(np.greater)
ge = _comparison(np.greater_equal)


def _logical(np_fn):
    def op(input, other):
        if not isinstance(other, Tensor):  # torch's logical ops take no number: TypeError
            return NotImplemented
        a, b = input._data, other._data
        try:
            out = np.asarray(np_fn(a, b))
        except ValueError:
            raise broadcast_error(input, other) from None
        return make(torch_layout(out, (a, b)) if strided(a, b) else out)

    return op


logical_and = _logical(np.logical_and)
logical_or = _logical(np.logical_or)
logical_xor = _logical(np.logical_xor)


def logical_not(input):
    return make(np.asarray(np.logical_not(input._data)))


def _bitwise(np_fn, kernel):
    def op(input, other):
        other = coerce(other)
        if other is NotImplemented:
            return other
        if isinstance(other, float):
            return NotImplemented
        dtype = result_type(input, other)
        if dtype.is_floating_point:
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype.scalar_name}'")
        return make(binary_ufunc(np_fn, input, other, dtype))

    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and_cpu")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or_cpu")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor_cpu")


def bitwise_not(input):
    data = input._data
    if data.dtype.kind == "f":
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )
    return make(np.asarray(np.invert(data)))


def isnan(input):
    return make(np.asarray(np.isnan(input._data)))


def isinf(input):
    return make(np.asarray(np.isinf(input._data)))


def isfinite(input):
    return make(np.asarray(np.isfinite(input._data)))


# ================================================================= where
WhereBackward0 = backward_node(  # condition is not an input
    "WhereBackward0", saved=("condition",), grad_order=("other", "self"),
    self=lambda n, g: where(n.condition, g, 0),
    other=lambda n, g: where(n.condition, 0, g))


@silent
def where(condition, input, other):
    dtype = result_type(input, other)
    if dtype.is_floating_point and not isinstance(input, Tensor) \
            and not isinstance(other, Tensor):  # two numbers: torch's default dtype
        dtype = get_default_dtype()
    cond = condition._data if isinstance(condition, Tensor) else condition
    operands = (cond, as_array(input, dtype.np), as_array(other, dtype.np))
    try:
        out = as_ndarray(np.where(*operands))
    except ValueError:
        raise broadcast_error(input, other) from None
    if out.dtype != dtype.np:  # two numbers: numpy's float64
        out = out.astype(dtype.np)
    if strided(*operands):
        out = torch_layout(out, operands)
    if needs_grad2(input, other):
        node = WhereBackward0()
        node.condition = cond
        return attach(node, out, (input, other))  # condition is no edge
    return make(out)


# ================================================================= casts
ToCopyBackward0 = backward_node("ToCopyBackward0", fields=("self_dtype",),
                                self=lambda n, g: to(g, n.self_dtype))


def to(input, *args, dtype=None, non_blocking=False, copy=False, memory_format=None,
       **kwargs):
    """``x.to(dtype)``: the same tensor if the dtype does not change, else a copy
    (ToCopyBackward0). Device arguments are accepted and ignored: everything is on the CPU.

    As torch's ``to_will_alias``: the tensor itself unless ``copy``, another dtype or a
    ``memory_format`` other than ``preserve_format`` and its own suggested format; a copy
    takes the format asked for (``preserve_format`` keeps the strides)."""
    flags = [a for a in args if isinstance(a, bool)]  # (..., non_blocking, copy)
    if len(flags) > 1:
        copy = flags[1]
    for arg in args:
        if isinstance(arg, _dtype_class):
            dtype = arg
    dtype = dtype or FROM_NUMPY[input._data.dtype]
    layout = getattr(memory_format, "_name", "preserve_format")
    suggested = "channels_last" if channels_last(input._data) and input._data.ndim == 4 \
        else "channels_last_3d" if channels_last(input._data) else "contiguous_format"
    if input._data.dtype == dtype.np and not copy and layout in ("preserve_format", suggested):
        return input
    out = copy_in_format(input._data, dtype.np, layout)
    if dtype.is_floating_point and needs_grad(input):
        node = ToCopyBackward0()
        node.self_dtype = FROM_NUMPY[input._data.dtype]
        return attach(node, out, (input,))
    return make(out)


# ================================================================= fills and copies (in place)
ZeroBackward0 = backward_node("ZeroBackward0", self=lambda n, g: zeros_like(g))
FillBackward2 = backward_node("FillBackward2", self=lambda n, g: zeros_like(g))  # fill_(scalar)
FillBackward3 = backward_node("FillBackward3",  # fill_(0-d tensor)
                              self=lambda n, g: zeros_like(g),
                              value=lambda n, g: g.sum())


def zero_(self):
    check_inplace(self)
    out = np.zeros_like(self._data)
    if _grad_mode.enabled and self._requires_grad:
        return commit(self, attach(ZeroBackward0(), out, (self,)))
    return commit(self, make(out))


def fill_(self, value):
    check_inplace(self, value)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value._data.ndim} dimensions."
            )
        out = np.full_like(self._data, value._data)
        if _grad_mode.enabled and (self._requires_grad or value._requires_grad):
            return commit(self, attach(FillBackward3(), out, (self, value)))
        return commit(self, make(out))
    out = np.full_like(self._data, value)
    if _grad_mode.enabled and self._requires_grad:
        return commit(self, attach(FillBackward2(), out, (self,)))
    return commit(self, make(out))


def _copy_node(self, src, out):
    if _grad_mode.enabled and (self._requires_grad or src._requires_grad):
        return attach(CopyBackwards(), out, (self, src))
    return make(out)


def copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        raise TypeError(
            f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}"
        )
    check_inplace(self, src)
    check_overlap(self, src)
    try:
        out = np.broadcast_to(src._data, self._data.shape).astype(self._data.dtype)
    except ValueError:
        raise broadcast_error(self, src) from None
    return commit(self, _copy_node(self, src, out))


def div_(self, other, *, rounding_mode=None):
    """torch wraps a scalar divisor in a tensor for the rounding forms (DivBackward2)."""
    check_inplace(self, other)
    check_overlap(self, other)
    if rounding_mode is None:
        return commit(self, Tensor.div(self, other))
    if not isinstance(other, Tensor):
        other = make(np.asarray(other, dtype=np.float64 if isinstance(other, float)
                                else np.int64))
    return commit(self, Tensor.div(self, other, rounding_mode=rounding_mode))
