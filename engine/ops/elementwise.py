"""Elementwise math beyond ``_ops``: unary functions, clamp, maximum/minimum, rounding
division and remainder, logical and bitwise ops, isnan & co.

The backward nodes of this family come first (one class per torch grad_fn, one formula per
input, as in ``_derivatives``), then the forward ops.  Grads at kinks and ties follow
torch's derivatives.yaml: clamp passes the grad at its boundaries, maximum/minimum split it
in half between equal inputs, rounding functions have zero grad.
"""

from __future__ import annotations

import math

import numpy as np

from .._dtype import FROM_NUMPY, bool_, result_type
from .._tensor import Tensor, make
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import Node, attach
from ..runtime import parallel as _parallel
from . import operands as O

_LN2 = math.log(2.0)


def _zeros(g):
    return make(np.zeros_like(g._data))


# ================================================================= backward nodes
class SqrtBackward0(Node):
    __slots__ = ("_result",)
    saved = ("_result",)
    formulas = (lambda n, g: O.div(g, O.D.mul_scalar(n.result, 2)),)


class RsqrtBackward0(Node):
    __slots__ = ("_result",)
    saved = ("_result",)
    formulas = (lambda n, g: _rsqrt_backward(g, n.result),)


def _rsqrt_backward(grad, result):
    cubed = O.pow(result, 3)  # the right operand first, as torch's compiled formula
    return O.D.mul_scalar(grad, -0.5) * cubed


class Log2Backward0(Node):
    __slots__ = ("self_",)
    saved = ("self_",)
    formulas = (lambda n, g: O.div(g, O.D.mul_scalar(n.self_, _LN2)),)


class Log1PBackward0(Node):
    __slots__ = ("self_",)
    saved = ("self_",)
    formulas = (lambda n, g: O.div(g, O.D.add_scalar(n.self_, 1)),)


class Expm1Backward0(Node):
    __slots__ = ("_result",)
    saved = ("_result",)
    formulas = (lambda n, g: g * O.D.add_scalar(n.result, 1),)


class SinBackward0(Node):
    __slots__ = ("self_",)
    saved = ("self_",)
    formulas = (lambda n, g: g * cos(n.self_),)


class CosBackward0(Node):
    __slots__ = ("self_",)
    saved = ("self_",)
    formulas = (lambda n, g: g * O.neg(sin(n.self_)),)


class TanBackward0(Node):
    __slots__ = ("_result",)
    saved = ("_result",)
    formulas = (lambda n, g: g * O.D.add_scalar(O.pow(n.result, 2), 1),)


class CoshBackward0(Node):
    __slots__ = ("self_",)
    saved = ("self_",)
    formulas = (lambda n, g: g * sinh(n.self_),)


class SinhBackward0(Node):
    __slots__ = ("self_",)
    saved = ("self_",)
    formulas = (lambda n, g: g * cosh(n.self_),)


class TanhBackward0(Node):
    __slots__ = ("_result",)
    saved = ("_result",)
    formulas = (lambda n, g: O.D.tanh_backward(g, n.result),)


class SigmoidBackward0(Node):
    __slots__ = ("_result",)
    saved = ("_result",)
    formulas = (lambda n, g: O.D.sigmoid_backward(g, n.result),)


class _ZeroGrad(Node):
    """Piecewise-constant functions: the grad is zero everywhere."""

    __slots__ = ()
    formulas = (lambda n, g: _zeros(g),)


class FloorBackward0(_ZeroGrad):
    __slots__ = ()


class CeilBackward0(_ZeroGrad):
    __slots__ = ()


class RoundBackward0(_ZeroGrad):
    __slots__ = ()


class TruncBackward0(_ZeroGrad):
    __slots__ = ()


class SignBackward0(_ZeroGrad):
    __slots__ = ()


def _in_range(self, lo, hi):
    """The mask where clamp passes the grad: boundaries included, NaN excluded."""
    x = self._data
    mask = np.ones(x.shape, bool) if lo is None else x >= _raw(lo)
    if hi is not None:
        mask = mask & (x <= _raw(hi))
    return make(mask)


def _raw(v):
    return v._data if isinstance(v, Tensor) else v


class ClampBackward1(Node):
    """clamp with scalar bounds."""

    __slots__ = ("self_", "min", "max")
    saved = ("self_",)
    formulas = (lambda n, g: O.where(_in_range(n.self_, n.min, n.max), g, 0),)


def _clamp_min_grad(n, g):
    x, lo = n.self_._data, n.min._data
    if n.max is None:
        return O.where(make(x < lo), g, 0)
    return O.where(make((x < lo) & (lo < n.max._data)), g, 0)


def _clamp_max_grad(n, g):
    x, hi = n.self_._data, n.max._data
    if n.min is None:
        return O.where(make(x > hi), g, 0)
    return O.where(make((x > hi) | (hi < n.min._data)), g, 0)


class ClampBackward0(Node):
    """clamp with tensor bounds: inputs are (self, min, max), absent bounds are None edges."""

    __slots__ = ("self_", "min", "max")
    saved = ("self_", "min", "max")
    formulas = (
        lambda n, g: O.where(_in_range(n.self_, n.min, n.max), g, 0),   # self
        _clamp_min_grad,                                                # min
        _clamp_max_grad,                                                # max
    )


class ClampMinBackward0(Node):
    __slots__ = ("self_", "min")
    saved = ("self_",)
    formulas = (lambda n, g: O.where(make(n.self_._data >= n.min), g, 0),)


class ClampMinBackward1(Node):
    __slots__ = ("self_", "min")
    saved = ("self_", "min")
    formulas = (
        lambda n, g: O.where(make(n.self_._data >= n.min._data), g, 0),  # self
        lambda n, g: O.where(make(n.self_._data < n.min._data), g, 0),   # min
    )


class ClampMaxBackward0(Node):
    __slots__ = ("self_", "max")
    saved = ("self_",)
    formulas = (lambda n, g: O.where(make(n.self_._data <= n.max), g, 0),)


class ClampMaxBackward1(Node):
    __slots__ = ("self_", "max")
    saved = ("self_", "max")
    formulas = (
        lambda n, g: O.where(make(n.self_._data <= n.max._data), g, 0),  # self
        lambda n, g: O.where(make(n.self_._data > n.max._data), g, 0),   # max
    )


def _tie_split(g, self, other, drop):
    """maximum/minimum: the grad where self wins, half of it at ties."""
    a, b = self._data, other._data
    half = O.where(make(a == b), O.D.div_scalar(g, 2), g)
    return O.D.masked_fill(half, drop(a, b), 0)


class MaximumBackward0(Node):
    __slots__ = ("self_", "other")
    saved = ("self_", "other")
    formulas = (
        lambda n, g: _tie_split(g, n.self_, n.other, np.less),      # self
        lambda n, g: _tie_split(g, n.self_, n.other, np.greater),   # other
    )


class MinimumBackward0(Node):
    __slots__ = ("self_", "other")
    saved = ("self_", "other")
    formulas = (
        lambda n, g: _tie_split(g, n.self_, n.other, np.greater),   # self
        lambda n, g: _tie_split(g, n.self_, n.other, np.less),      # other
    )


class RemainderBackward0(Node):
    """remainder(tensor, scalar)."""

    __slots__ = ()
    formulas = (lambda n, g: g,)


class RemainderBackward1(Node):
    __slots__ = ("self_", "other")
    saved = ("self_", "other")
    formulas = (
        lambda n, g: g,                                                              # self
        lambda n, g: -g * make(np.floor_divide(n.self_._data, n.other._data)),       # other
    )


class DivBackward2(Node):
    """div(tensor, tensor, rounding_mode=...): zero grads (``grad * 0``)."""

    __slots__ = ()
    formulas = (lambda n, g: g * 0, lambda n, g: g * 0)


class DivBackward3(Node):
    """div(tensor, scalar, rounding_mode=...)."""

    __slots__ = ()
    formulas = (lambda n, g: g * 0,)


class NotImplementedBackward(Node):
    """torch's node for ops without a derivative formula; its class is named NotImplemented."""

    __slots__ = ("op",)

    def apply(self, grad):
        raise RuntimeError(f"derivative for aten::{self.op} is not implemented")


NotImplementedBackward.__name__ = NotImplementedBackward.__qualname__ = "NotImplemented"


# ================================================================= forward: unary
def _unary_float(np_fn, node_cls, save):
    """A floating-point unary op (integers and bools compute in float32)."""

    @O.silent
    def op(input):
        data = input._data
        if data.dtype.kind != "f":
            out = np_fn(data.astype(np.float32))
        elif data.dtype == np.float16:  # torch computes half in float and rounds once
            out = np_fn(data.astype(np.float32)).astype(np.float16)
        elif isinstance(np_fn, np.ufunc):
            out = _parallel.unary(np_fn, data)
        else:
            out = np_fn(data)
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        if input._requires_grad and _grad_mode.enabled:
            node = node_cls()
            if save == "self":
                node.self_ = input
            elif save == "result":
                node._result = out
            return attach(node, out, (input,))
        return make(out)

    return op


def _rsqrt(a):
    return np.reciprocal(np.sqrt(a))


def _sigmoid(a):
    return np.reciprocal(1 + np.exp(-a))


sqrt = _unary_float(np.sqrt, SqrtBackward0, "result")
rsqrt = _unary_float(_rsqrt, RsqrtBackward0, "result")
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


def _rounding(np_fn, node_cls, kernel):
    """floor/ceil/round/trunc: integers are returned as a copy, bools are rejected."""

    @O.silent
    def op(input, *, decimals=0):
        data = input._data
        if data.dtype == np.bool_:
            raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
        if data.dtype.kind != "f":
            out = data.copy()
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


@O.silent
def sign(input):
    data = input._data
    out = data.copy() if data.dtype == np.bool_ else np.asarray(np.sign(data))
    if input._requires_grad and _grad_mode.enabled:
        return attach(SignBackward0(), out, (input,))
    return make(out)


def square(input):
    if input._data.dtype == np.bool_:
        return O.pow(O.to(input, FROM_NUMPY[np.dtype(np.int64)]), 2)
    return O.pow(input, 2)


# ================================================================= clamp
def _bound(value):
    if value is None or isinstance(value, Tensor):
        return value
    c = O.coerce(value)
    if c is NotImplemented:
        raise TypeError(f"clamp(): argument 'min' must be Number, not {type(value).__name__}")
    return c


@O.silent
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
    out = O.as_array(input, dtype.np)
    try:
        if lo is not None:
            out = np.maximum(out, O.as_array(lo, dtype.np))
        if hi is not None:
            out = np.minimum(out, O.as_array(hi, dtype.np))
    except ValueError:
        raise O.broadcast_error(input, lo if isinstance(lo, Tensor) else hi) from None
    out = np.asarray(out)
    if out.dtype != dtype.np:
        out = out.astype(dtype.np)
    if tensors:
        if O._needs_grad(input, lo, hi):
            node = ClampBackward0()
            node.self_, node.min, node.max = input, lo, hi
            return attach(node, out, (input, lo, hi))
    elif O._needs_grad(input):
        node = ClampBackward1()
        node.self_, node.min, node.max = input, lo, hi
        return attach(node, out, (input,))
    return make(out)


def clamp_min(input, min):  # noqa: A002
    return _clamp_one(input, _bound(min), True)


def clamp_max(input, max):  # noqa: A002
    return _clamp_one(input, _bound(max), False)


@O.silent
def _clamp_one(input, bound, is_min):
    dtype = result_type(input, bound)
    a = O.as_array(input, dtype.np)
    b = O.as_array(bound, dtype.np)
    try:
        out = np.asarray(np.maximum(a, b) if is_min else np.minimum(a, b))
    except ValueError:
        raise O.broadcast_error(input, bound) from None
    if out.dtype != dtype.np:
        out = out.astype(dtype.np)
    if isinstance(bound, Tensor):
        if O._needs_grad(input, bound):
            node = ClampMinBackward1() if is_min else ClampMaxBackward1()
            node.self_ = input
            if is_min:
                node.min = bound
            else:
                node.max = bound
            return attach(node, out, (input, bound))
    elif O._needs_grad(input):
        node = ClampMinBackward0() if is_min else ClampMaxBackward0()
        node.self_ = input
        if is_min:
            node.min = bound
        else:
            node.max = bound
        return attach(node, out, (input,))
    return make(out)


# ================================================================= binary
def _tensor_arg(name, position, param, value):
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{name}(): argument '{param}' (position {position}) must be Tensor, "
            f"not {type(value).__name__}"
        )


def _extremum(np_fn, node_cls, name):
    @O.silent
    def op(input, other):
        _tensor_arg(name, 1, "input", input)
        _tensor_arg(name, 2, "other", other)
        dtype = result_type(input, other)
        out = O._binary(np_fn, input, other, dtype)
        if O._needs_grad(input, other):
            node = node_cls()
            node.self_, node.other = input, other
            return attach(node, out, (input, other))
        return make(out)

    op.__name__ = name
    return op


maximum = _extremum(np.maximum, MaximumBackward0, "maximum")
minimum = _extremum(np.minimum, MinimumBackward0, "minimum")


def _integer_zero_check(dtype, other):
    if dtype.is_floating_point or dtype is bool_:
        return
    zero = (other == 0) if not isinstance(other, Tensor) else bool((other._data == 0).any())
    if zero:
        raise RuntimeError("ZeroDivisionError")


@O.silent
def floor_divide(input, other):
    other = O.coerce(other)
    if other is NotImplemented or not isinstance(input, Tensor):
        return NotImplemented
    dtype = result_type(input, other)
    _integer_zero_check(dtype, other)
    out = O._binary(np.floor_divide, input, other, dtype)
    if O._needs_grad(input, other):
        node = NotImplemented_("floor_divide")
        return attach(node, out, (input, other))
    return make(out)


@O.silent
def rfloordiv(input, other):
    """``other // input`` for a scalar ``other``."""
    other = O.coerce(other)
    if other is NotImplemented:
        return other
    dtype = result_type(input, other)
    _integer_zero_check(dtype, input)
    out = O._binary(np.floor_divide, other, input, dtype)
    if O._needs_grad(input):
        return attach(NotImplemented_("floor_divide"), out, (input,))
    return make(out)


def NotImplemented_(op):  # noqa: N802 - builds the node named NotImplemented
    node = NotImplementedBackward()
    node.op = op
    return node


@O.silent
def remainder(input, other):
    other = O.coerce(other)
    if other is NotImplemented:
        return other
    if not isinstance(input, Tensor):
        return rremainder(other, input)
    dtype = result_type(input, other)
    _integer_zero_check(dtype, other)
    out = O._binary(np.remainder, input, other, dtype)
    if isinstance(other, Tensor):
        if O._needs_grad(input, other):
            node = RemainderBackward1()
            node.self_, node.other = input, other
            return attach(node, out, (input, other))
    elif O._needs_grad(input):
        return attach(RemainderBackward0(), out, (input,))
    return make(out)


@O.silent
def rremainder(input, other):
    """``other % input`` for a scalar ``other``."""
    other = O.coerce(other)
    if other is NotImplemented:
        return other
    dtype = result_type(input, other)
    _integer_zero_check(dtype, input)
    out = O._binary(np.remainder, other, input, dtype)
    if O._needs_grad(input):
        return attach(NotImplemented_("remainder"), out, (input,))
    return make(out)


@O.silent
def div(input, other, *, rounding_mode=None):
    """``torch.div`` with ``rounding_mode`` None, "trunc" or "floor"."""
    if rounding_mode is None:
        return O.div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    other = O.coerce(other)
    if other is NotImplemented:
        return other
    dtype = result_type(input, other)
    _integer_zero_check(dtype, other)
    if rounding_mode == "floor":
        out = O._binary(np.floor_divide, input, other, dtype)
    elif dtype.is_floating_point:
        out = np.asarray(np.trunc(O._binary(np.true_divide, input, other, dtype)))
    else:
        a, b = O.as_array(input, dtype.np), O.as_array(other, dtype.np)
        q = np.floor_divide(a, b)
        out = np.asarray(q + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0))))
        out = out.astype(dtype.np, copy=False)
    if isinstance(other, Tensor):
        if O._needs_grad(input, other):
            return attach(DivBackward2(), out, (input, other))
    elif O._needs_grad(input):
        return attach(DivBackward3(), out, (input,))
    return make(out)


# ================================================================= logical / bitwise / tests
def _logical(np_fn):
    def op(input, other):
        try:
            out = np_fn(input._data, other._data if isinstance(other, Tensor) else other)
        except ValueError:
            raise O.broadcast_error(input, other) from None
        return make(np.asarray(out))

    return op


logical_and = _logical(np.logical_and)
logical_or = _logical(np.logical_or)
logical_xor = _logical(np.logical_xor)


def logical_not(input):
    return make(np.asarray(np.logical_not(input._data)))


def _bitwise(np_fn, kernel):
    def op(input, other):
        other = O.coerce(other)
        if other is NotImplemented:
            return other
        if isinstance(other, float):
            return NotImplemented
        dtype = result_type(input, other)
        if dtype.is_floating_point:
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype.scalar_name}'")
        return make(O._binary(np_fn, input, other, dtype))

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
