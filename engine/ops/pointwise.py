"""More elementwise math: inverse trigonometric and hyperbolic functions, ``exp2``/``log10``,
``frac``, angle conversions, ``nan_to_num``, and the binary float ops (``atan2``, ``hypot``,
``logaddexp``/``logaddexp2``, ``fmod``, ``copysign``, ``nextafter``, ``ldexp``, ``frexp``,
``float_power``, ``fmax``/``fmin``).

The basic set (exp, log, sin, tanh ...) is ``elementwise``; this module adds torch's wider
pointwise surface with the same conventions: integers compute in the default float dtype
where torch's kernels do, half in float (rounded once), one backward node per op named as
torch's, formulas in torch's derivatives.yaml order, written with engine ops.
``unary_float`` and ``binary_float`` are the shapes of these ops; ``special`` builds on them.
"""

from __future__ import annotations

import math

import numpy as np

from .._dtype import FROM_NUMPY, float64, result_type
from .._tensor import Tensor, make
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.inplace import check_inplace, check_overlap, commit
from ..autograd.node import attach, backward_node
from ..runtime.quiet import silent
from . import elementwise as E
from .formulas import (
    add_scalar,
    masked_fill,
    mul_scalar,
    rsub_scalar,
    sub_scalar,
    zeros_like,
)
from .operands import (
    as_array,
    binary_ufunc,
    broadcast_error,
    cast,
    coerce,
    float_dtype,
    needs_grad,
    preserved,
    strided,
    torch_layout,
)

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


# ================================================================= shapes of the ops
def float_array(data: np.ndarray):
    """The array a float unary kernel computes on, and the dtype its result has: integers
    and bools in float32 (torch's default dtype), half in float32, rounded back once."""
    kind = data.dtype.kind
    if kind == "f":
        if data.dtype == np.float16:
            return cast(data, np.float32), np.dtype(np.float16)
        return data, data.dtype
    return cast(data, np.float32), np.dtype(np.float32)  # torch's promotion: its layout too


def unary_float(fn, node_cls, save, name):
    """A float unary op ``fn(array) -> array``; the node saves ``self`` and/or the result
    (``save``: a tuple of "self", "result")."""

    @silent
    def op(input):
        data, dtype = float_array(input._data)
        out = np.asarray(fn(data))
        if out.dtype != dtype:
            out = out.astype(dtype)
        if input._requires_grad and _grad_mode.enabled:
            node = node_cls()
            if "self" in save:
                node.self_ = input
            if "result" in save:
                node._result = out
            return attach(node, out, (input,))
        return make(out)

    op.__name__ = op.__qualname__ = name
    return op


def invalid_combination(name, signatures, *values):
    """torch's TypeError when no overload of ``name`` takes the arguments."""
    got = ", ".join(type(v).__name__ for v in values)
    lines = "".join(f" * ({s}, *, Tensor out = None)\n" for s in signatures)
    return TypeError(f"{name}() received an invalid combination of arguments - got ({got}), "
                     f"but expected one of:\n{lines}")


TENSOR_OR_NUMBER_OTHER = ("Tensor input, Tensor other", "Tensor input, Number other")


def check_tensor(name, position, param, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{param}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


def operands(input, other, *, to_float=True):
    """The result dtype of a binary float op (integers promoted to float when ``to_float``)
    and the numpy operands in the dtype it computes in (half in float)."""
    dtype = result_type(input, other)
    if to_float:
        dtype = float_dtype(dtype)
    compute = np.float32 if dtype.np == np.float16 else dtype.np
    return dtype, as_array(input, compute), as_array(other, compute)


def apply_binary(fn, input, other, dtype, a, b):
    """``fn(a, b)`` as torch's result: broadcasting errors in torch's words, the dtype."""
    try:
        out = np.asarray(fn(a, b))
    except ValueError:
        raise broadcast_error(input, other) from None
    if out.dtype != dtype.np:
        out = out.astype(dtype.np)
    return torch_layout(out, (a, b)) if strided(a, b) else out


def record(node_cls, out, inputs, **slots):
    """The output tensor, hung from a ``node_cls`` when an input needs a grad."""
    if needs_grad(*inputs):
        node = node_cls()
        for name, value in slots.items():
            setattr(node, name, value)
        return attach(node, out, inputs)
    return make(out)


def _square(t):
    return t * t


# ========================================================== inverse trigonometric, hyperbolic
AcosBackward0 = backward_node(
    "AcosBackward0", saved=("self_",),
    self=lambda n, g: g * -E.rsqrt(add_scalar(-n.self_ * n.self_, 1)))
AsinBackward0 = backward_node(
    "AsinBackward0", saved=("self_",),
    self=lambda n, g: g * E.rsqrt(add_scalar(-n.self_ * n.self_, 1)))
AtanBackward0 = backward_node(
    "AtanBackward0", saved=("self_",),
    self=lambda n, g: g / add_scalar(n.self_ * n.self_, 1))
AcoshBackward0 = backward_node(
    "AcoshBackward0", saved=("self_",),
    self=lambda n, g: g * E.rsqrt(sub_scalar(n.self_ * n.self_, 1)))
AsinhBackward0 = backward_node(
    "AsinhBackward0", saved=("self_",),
    self=lambda n, g: g * E.rsqrt(add_scalar(E.pow(n.self_, 2), 1)))
AtanhBackward0 = backward_node(
    "AtanhBackward0", saved=("self_",),
    self=lambda n, g: mul_scalar(g, 1) / rsub_scalar(1, E.pow(n.self_, 2)))

AcoshBackward1 = backward_node(  # acosh_ & co: torch has no derivative for the in-place forms
    "AcoshBackward1", self=lambda n, g: _not_implemented("inplace version of acosh"))
AsinhBackward1 = backward_node(
    "AsinhBackward1", self=lambda n, g: _not_implemented("inplace version of asinh"))
AtanhBackward1 = backward_node(
    "AtanhBackward1", self=lambda n, g: _not_implemented("inplace version of atanh"))


def _not_implemented(what):
    raise NotImplementedError(f"the derivative for '{what}' is not implemented.")


def inplace_without_derivative(op, node_cls):
    """``Tensor.X_`` for ops whose in-place form torch records with a node that cannot be
    differentiated (``acosh_``: AcoshBackward1)."""

    def method(self):
        check_inplace(self)
        check_overlap(self)
        out = op(self)
        if out._grad_fn is not None:
            out = attach(node_cls(), out._data, (self,))
        return commit(self, out)

    method.__name__ = op.__name__ + "_"
    return method


acos = unary_float(np.arccos, AcosBackward0, ("self",), "acos")
asin = unary_float(np.arcsin, AsinBackward0, ("self",), "asin")
atan = unary_float(np.arctan, AtanBackward0, ("self",), "atan")
acosh = unary_float(np.arccosh, AcoshBackward0, ("self",), "acosh")
asinh = unary_float(np.arcsinh, AsinhBackward0, ("self",), "asinh")
atanh = unary_float(np.arctanh, AtanhBackward0, ("self",), "atanh")
acosh_ = inplace_without_derivative(acosh, AcoshBackward1)
asinh_ = inplace_without_derivative(asinh, AsinhBackward1)
atanh_ = inplace_without_derivative(atanh, AtanhBackward1)


# ================================================================= exp2, log10, frac, angles
Exp2Backward0 = backward_node("Exp2Backward0", saved=("_result",),
                              self=lambda n, g: mul_scalar(g * n.result, _LN2))
Log10Backward0 = backward_node("Log10Backward0", saved=("self_",),
                               self=lambda n, g: g / mul_scalar(n.self_, _LN10))
FracBackward0 = backward_node("FracBackward0", self=lambda n, g: g)
Deg2RadBackward0 = backward_node("Deg2RadBackward0",
                                 self=lambda n, g: mul_scalar(g, math.pi / 180.0))
Rad2DegBackward0 = backward_node("Rad2DegBackward0",
                                 self=lambda n, g: mul_scalar(g, 180.0 / math.pi))

exp2 = unary_float(np.exp2, Exp2Backward0, ("result",), "exp2")
log10 = unary_float(np.log10, Log10Backward0, ("self",), "log10")


@silent
def frac(input):
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError(f"\"frac_cpu\" not implemented for '{input.dtype.scalar_name}'")
    return record(FracBackward0, np.asarray(data - np.trunc(data)), (input,))


def _angle(scale, node_cls, name):
    @silent
    def op(input):
        data = input._data
        if data.dtype.kind != "f":
            data = cast(data, np.float32)
        out = np.asarray(data * data.dtype.type(scale)) if data.dtype != np.float16 \
            else np.asarray(cast(data, np.float32) * np.float32(scale)).astype(np.float16)
        return record(node_cls, out, (input,))

    op.__name__ = name
    return op


deg2rad = _angle(math.pi / 180.0, Deg2RadBackward0, "deg2rad")
rad2deg = _angle(180.0 / math.pi, Rad2DegBackward0, "rad2deg")


# ================================================================= nan_to_num
NanToNumBackward0 = backward_node(
    "NanToNumBackward0", saved=("self_",),
    self=lambda n, g: g * make(np.isfinite(n.self_._data)))


@silent
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    data = input._data
    if data.dtype.kind != "f":
        return record(NanToNumBackward0, preserved(data), (input,), self_=input)
    info = np.finfo(data.dtype)
    out = np.where(np.isnan(data), data.dtype.type(0.0 if nan is None else nan), data)
    out = np.where(out == np.inf, info.max if posinf is None else data.dtype.type(posinf), out)
    out = np.where(out == -np.inf, info.min if neginf is None else data.dtype.type(neginf), out)
    return record(NanToNumBackward0, np.asarray(out, data.dtype), (input,), self_=input)


# ================================================================= binary float ops
def _atan2_grads(n, g, which):
    self, other = n.self_, n.other
    denominator = self * self + other * other
    recip = masked_fill(E.reciprocal(denominator), denominator._data == 0, 0)
    if which == 0:
        return g * other * recip
    return g * -self * recip


Atan2Backward0 = backward_node(
    "Atan2Backward0", saved=("self_", "other"),
    self=lambda n, g: _atan2_grads(n, g, 0),
    other=lambda n, g: _atan2_grads(n, g, 1))
HypotBackward0 = backward_node(
    "HypotBackward0", saved=("self_", "other", "_result"),
    self=lambda n, g: g * n.self_ / n.result,
    other=lambda n, g: g * n.other / n.result)
LogaddexpBackward0 = backward_node(
    "LogaddexpBackward0", saved=("self_", "other"),
    self=lambda n, g: g / add_scalar(E.exp(n.other - n.self_), 1),
    other=lambda n, g: g / add_scalar(E.exp(n.self_ - n.other), 1))
Logaddexp2Backward0 = backward_node(
    "Logaddexp2Backward0", saved=("self_", "other"),
    self=lambda n, g: g / add_scalar(E.rpow(n.other - n.self_, 2), 1),
    other=lambda n, g: g / add_scalar(E.rpow(n.self_ - n.other, 2), 1))


def _logaddexp(a, b):
    return np.logaddexp(a, b)


def _logaddexp2(a, b):
    return np.logaddexp2(a, b)


def _float_binary(name, fn, node_cls, *, save_result=False, ints=True):
    """A binary op of two tensors computing in float (atan2, hypot, logaddexp ...)."""

    @silent
    def op(input, other):
        check_tensor(name, 1, "input", input)
        check_tensor(name, 2, "other", other)
        dtype, a, b = operands(input, other)
        if not ints and not (input.is_floating_point() and other.is_floating_point()):
            kernel = f"{name}_cpu" if name != "logaddexp2" else "logaddexp2_cpu"
            raise NotImplementedError(
                f"\"{kernel}\" not implemented for '{result_type(input, other).scalar_name}'")
        out = apply_binary(fn, input, other, dtype, a, b)
        slots = {"self_": input, "other": other}
        if save_result:
            slots["_result"] = out
        return record(node_cls, out, (input, other), **slots)

    op.__name__ = name
    return op


atan2 = _float_binary("atan2", np.arctan2, Atan2Backward0)
hypot = _float_binary("hypot", np.hypot, HypotBackward0, save_result=True, ints=False)
logaddexp = _float_binary("logaddexp", _logaddexp, LogaddexpBackward0, ints=False)
logaddexp2 = _float_binary("logaddexp2", _logaddexp2, Logaddexp2Backward0, ints=False)


# fmod: C's remainder (the sign of the dividend); the grad of ``other`` uses a trunc division
FmodBackward0 = backward_node("FmodBackward0", self=lambda n, g: g)  # fmod(tensor, scalar)
FmodBackward1 = backward_node(
    "FmodBackward1", saved=("self_", "other"),
    self=lambda n, g: g,
    other=lambda n, g: -g * E.divide(n.self_, n.other, rounding_mode="trunc"))


@silent
def fmod(input, other):
    other = coerce(other)
    if not isinstance(input, Tensor) or other is NotImplemented:
        raise invalid_combination("fmod", TENSOR_OR_NUMBER_OTHER, input, other)
    dtype = result_type(input, other)
    if not dtype.is_floating_point:
        zero = np.any(other._data == 0) if isinstance(other, Tensor) else other == 0
        if zero:
            raise RuntimeError("ZeroDivisionError")
    out = binary_ufunc(np.fmod, input, other, dtype)
    if isinstance(other, Tensor):
        return record(FmodBackward1, out, (input, other), self_=input, other=other)
    return record(FmodBackward0, out, (input,))


def _copysign_self_backward(g, self, result):
    ratio = masked_fill(result / self, self._data == 0, 0)
    return g * ratio


CopysignBackward0 = backward_node(
    "CopysignBackward0", saved=("self_", "_result"), fields=("other_shape",),
    self=lambda n, g: _copysign_self_backward(g, n.self_, n.result),
    other=lambda n, g: make(np.zeros(n.other_shape, g._data.dtype)))
CopysignBackward1 = backward_node(
    "CopysignBackward1", saved=("self_", "_result"),
    self=lambda n, g: _copysign_self_backward(g, n.self_, n.result))


@silent
def copysign(input, other):
    other = coerce(other)
    if not isinstance(input, Tensor) or other is NotImplemented:
        raise invalid_combination("copysign", TENSOR_OR_NUMBER_OTHER, input, other)
    dtype, a, b = operands(input, other)
    out = apply_binary(np.copysign, input, other, dtype, a, b)
    if isinstance(other, Tensor):
        return record(CopysignBackward0, out, (input, other), self_=input, _result=out,
                      other_shape=other._data.shape)
    return record(CopysignBackward1, out, (input,), self_=input, _result=out)


NextafterBackward0 = backward_node(  # torch: the grad where self != other, zeros to other
    "NextafterBackward0", saved=("self_", "other"),
    self=lambda n, g: E.where(n.self_._data != n.other._data, g, 0),
    other=lambda n, g: make(np.zeros(n.other._data.shape, g._data.dtype)))


@silent
def nextafter(input, other):
    check_tensor("nextafter", 1, "input", input)
    check_tensor("nextafter", 2, "other", other)
    dtype = result_type(input, other)
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"nextafter_cpu\" not implemented for '{dtype.scalar_name}'")
    a, b = as_array(input, dtype.np), as_array(other, dtype.np)
    out = apply_binary(np.nextafter, input, other, dtype, a, b)
    return record(NextafterBackward0, out, (input, other), self_=input, other=other)


LdexpBackward0 = backward_node(
    "LdexpBackward0", saved=("other", "_result"),
    self=lambda n, g: g * E.rpow(n.other, 2.0),
    other=lambda n, g: mul_scalar(g * n.result, _LN2))


@silent
def ldexp(input, other):
    """``input * 2 ** other``, in the float dtype of both: torch's two ops (``pow(2, other)``
    then ``mul``), each rounded to the dtype (half rounds twice)."""
    check_tensor("ldexp", 1, "input", input)
    check_tensor("ldexp", 2, "other", other)
    dtype, a, b = operands(input, other)
    out = apply_binary(lambda x, y: x * np.exp2(y).astype(dtype.np, copy=False), input, other,
                       dtype, a, b)
    return record(LdexpBackward0, out, (input, other), other=other, _result=out)


def ldexp_(self, other):
    """torch checks the float result fits ``self`` before anything else."""
    if self._data.dtype.kind != "f":
        raise RuntimeError(f"ldexp can't be cast to the desired output type "
                           f"{FROM_NUMPY[self._data.dtype].scalar_name}")
    check_inplace(self, other)
    check_overlap(self, other)
    return commit(self, ldexp(self, other))


FrexpBackward0 = backward_node(  # only the mantissa is differentiable
    "FrexpBackward0", saved=("exponent",),
    self=lambda n, g: g / exp2(n.exponent))


class FrexpResult(tuple):
    """torch.return_types.frexp: (mantissa, exponent)."""

    __slots__ = ()
    __module__ = "torch.return_types"
    __qualname__ = __name__ = "frexp"
    n_fields = n_sequence_fields = 2
    n_unnamed_fields = 0

    @property
    def mantissa(self):
        return self[0]

    @property
    def exponent(self):
        return self[1]

    def __repr__(self):
        return (f"torch.return_types.frexp(\nmantissa={self[0]!r},\n"
                f"exponent={self[1]!r})")

    __str__ = __repr__


@silent
def frexp(input):
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    mantissa, exponent = np.frexp(data)
    exponent = make(np.asarray(exponent, np.int32))
    mantissa = np.asarray(mantissa, data.dtype)
    return FrexpResult((record(FrexpBackward0, mantissa, (input,), exponent=exponent),
                        exponent))


# ================================================================= float_power
def float_power(input, exponent):
    """torch's composite: both operands as float64 (ToCopyBackward0), then ``pow``."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise invalid_combination(
            "float_power", ("Tensor input, Tensor exponent", "Number self, Tensor exponent",
                            "Tensor input, Number exponent"), input, exponent)
    if isinstance(input, Tensor):
        input = E.to(input, float64)
    else:
        input = float(input)
    if isinstance(exponent, Tensor):
        exponent = E.to(exponent, float64)
    elif isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
        exponent = float(exponent)
    return E.pow(input, exponent)


def float_power_(self, exponent):
    if self._data.dtype != np.float64:
        raise RuntimeError(
            "the base given to float_power_ has dtype "
            f"{FROM_NUMPY[self._data.dtype].scalar_name} but the operation's result requires "
            "dtype Double")
    return self.pow_(exponent if not isinstance(exponent, Tensor)
                     else E.to(exponent, float64))


# ================================================================= fmax, fmin
def _fmax_self(n, g, ge):
    a, b = n.self_._data, n.other._data
    return masked_fill(g, ~(ge(a, b) | np.isnan(b)), 0)


def _fmax_other(n, g, ge):
    a, b = n.self_._data, n.other._data
    return masked_fill(g, ge(a, b) | np.isnan(b), 0)


FmaxBackward0 = backward_node(
    "FmaxBackward0", saved=("self_", "other"),
    self=lambda n, g: _fmax_self(n, g, np.greater_equal),
    other=lambda n, g: _fmax_other(n, g, np.greater_equal))
FminBackward0 = backward_node(
    "FminBackward0", saved=("self_", "other"),
    self=lambda n, g: _fmax_self(n, g, np.less_equal),
    other=lambda n, g: _fmax_other(n, g, np.less_equal))


def _fextremum(name, ufunc, node_cls):
    @silent
    def op(input, other):
        check_tensor(name, 1, "input", input)
        check_tensor(name, 2, "other", other)
        dtype = result_type(input, other)
        out = binary_ufunc(ufunc, input, other, dtype)
        return record(node_cls, out, (input, other), self_=input, other=other)

    op.__name__ = name
    return op


fmax = _fextremum("fmax", np.fmax, FmaxBackward0)
fmin = _fextremum("fmin", np.fmin, FminBackward0)


# ================================================================= round with decimals
RoundBackward1 = backward_node("RoundBackward1", self=lambda n, g: zeros_like(g))


def round(input, *, decimals=None):  # noqa: A001 - torch's name
    """``round(x)`` is RoundBackward0; any ``decimals=`` (0 too) is round.decimals,
    RoundBackward1."""
    if decimals is None:
        return E.round(input)
    if input._data.dtype.kind != "f":  # round.decimals has no integer kernel (round() has)
        kernel = "round_vml_cpu" if decimals == 0 else "round_cpu"
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{input.dtype.scalar_name}'")
    data = E.round(input.detach(), decimals=decimals)._data
    return record(RoundBackward1, data, (input,))


# ================================================================= sgn, positive
def sgn(input):
    """The sign (a bool tensor is its own sign)."""
    if input._data.dtype == np.bool_:
        return record(E.SgnBackward0, preserved(input._data), (input,))
    return E.sgn(input)


def positive(input):
    """``+x``: the tensor itself (torch refuses bools)."""
    if input._data.dtype == np.bool_:
        raise RuntimeError(
            "The `+` operator, on a bool tensor is not supported.")
    return input

