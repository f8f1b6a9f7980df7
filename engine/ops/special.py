"""Special functions: the error function family (erf, erfc, erfinv, erfcx, the normal
distribution's ndtr/log_ndtr/ndtri), the gamma family (lgamma, digamma, polygamma, mvlgamma),
modified Bessel functions (i0, i0e, i1, i1e), and entr, sinc, logit, xlogy, xlog1py.

Values come from scipy.special, which implements the same Cephes algorithms torch's CPU
kernels do, except where torch defines a value of its own (digamma at 0, xlogy at x = 0,
sinc at 0), which is reproduced here.  ``ndtr`` is torch's composite
``(1 + erf(x / sqrt 2)) * 0.5``, so its grad_fn is the MulBackward1 that composite records.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as sc

from .._dtype import float32, result_type
from .._tensor import Tensor, make
from ..autograd.inplace import check_inplace, check_overlap, commit
from ..autograd.node import backward_node
from ..runtime.quiet import silent
from . import elementwise as E
from . import zeta as _zeta
from .formulas import add_scalar, div_scalar, masked_fill, mul_scalar, rsub_scalar, sub_scalar
from .operands import as_array, coerce, float_dtype
from .pointwise import (
    apply_binary,
    check_tensor,
    float_array,
    invalid_combination,
    record,
    unary_float,
)

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)
_LOG_PI = math.log(math.pi)


# ================================================================= error functions
def _exp_minus_square(x):
    return E.exp(-E.pow(x, 2))


ErfBackward0 = backward_node(
    "ErfBackward0", saved=("self_",),
    self=lambda n, g: mul_scalar(_exp_minus_square(n.self_), _TWO_OVER_SQRT_PI) * g)
ErfcBackward0 = backward_node(
    "ErfcBackward0", saved=("self_",),
    self=lambda n, g: mul_scalar(_exp_minus_square(n.self_), -_TWO_OVER_SQRT_PI) * g)
ErfinvBackward0 = backward_node(
    "ErfinvBackward0", saved=("self_",),
    self=lambda n, g: mul_scalar(E.exp(E.pow(erfinv(n.self_), 2)),
                                 0.5 * math.sqrt(math.pi)) * g)
SpecialErfcxBackward0 = backward_node(
    "SpecialErfcxBackward0", saved=("self_", "_result"),
    self=lambda n, g: sub_scalar(mul_scalar(n.self_, 2.0) * n.result, _TWO_OVER_SQRT_PI) * g)

erf = unary_float(sc.erf, ErfBackward0, ("self",), "erf")
erfc = unary_float(sc.erfc, ErfcBackward0, ("self",), "erfc")
erfinv = unary_float(sc.erfinv, ErfinvBackward0, ("self",), "erfinv")
erfcx = unary_float(sc.erfcx, SpecialErfcxBackward0, ("self", "result"), "special_erfcx")


# ================================================================= the normal distribution
def ndtr(input):
    """torch's composite: ``(1 + erf(x * sqrt(1/2))) * 0.5``."""
    if input._data.dtype.kind != "f":
        input = E.to(input, float32)
    return mul_scalar(add_scalar(erf(mul_scalar(input, math.sqrt(0.5))), 1), 0.5)


def _log_ndtr(x):
    """torch's calc_log_ndtr: ``log(erfcx(-t) / 2) - t * t`` below -1, else
    ``log1p(-erfc(t) / 2)``, with ``t = x / sqrt 2``."""
    t = x * x.dtype.type(math.sqrt(0.5))
    with np.errstate(all="ignore"):
        low = np.log(sc.erfcx(-t) / 2) - t * t
        high = np.log1p(-sc.erfc(t) / 2)
    return np.where(x < -1, low, high)


SpecialLogNdtrBackward0 = backward_node(
    "SpecialLogNdtrBackward0", saved=("self_", "_result"),
    self=lambda n, g: div_scalar(g, _SQRT_2PI)
    * E.exp(-(n.result + div_scalar(E.pow(n.self_, 2), 2))))
SpecialNdtriBackward0 = backward_node(
    "SpecialNdtriBackward0", saved=("_result",),
    self=lambda n, g: mul_scalar(g, _SQRT_2PI) * E.exp(div_scalar(E.square(n.result), 2)))

log_ndtr = unary_float(_log_ndtr, SpecialLogNdtrBackward0, ("self", "result"), "special_log_ndtr")
ndtri = unary_float(sc.ndtri, SpecialNdtriBackward0, ("result",), "special_ndtri")


# ================================================================= gamma functions
def _digamma(x):
    """torch's digamma: -inf at +0, +inf at -0 (scipy's psi gives -inf for both)."""
    out = sc.psi(x)
    zero = x == 0
    if zero.any():
        out = np.where(zero, np.copysign(np.inf, -x).astype(out.dtype), out)
    return out


def _trigamma(x):
    """torch's calc_trigamma, in the input's precision (a reflection below 1/2, six steps
    of the recurrence, then the asymptotic series), so float32 values round as torch's."""
    t = x.dtype.type
    x = x.copy()
    reflect = x < t(0.5)
    result = np.zeros_like(x)
    if reflect.any():
        sin_pi_x = np.sin(t(math.pi) * x[reflect])
        result[reflect] -= t(math.pi) * t(math.pi) / (sin_pi_x * sin_pi_x)
        x[reflect] = t(1) - x[reflect]
    for _ in range(6):
        result += t(1) / (x * x)
        x += t(1)
    ixx = t(1) / (x * x)
    one = t(1)
    result += (one + one / (t(2) * x)
               + ixx * (one / t(6) - ixx * (one / t(30) - ixx * (one / t(42))))) / x
    return np.where(reflect, -result, result)


def _polygamma_array(n, x):
    if n == 0:
        return _digamma(x)
    if n == 1:
        return _trigamma(x)
    return _zeta.polygamma(n, x)


LgammaBackward0 = backward_node("LgammaBackward0", saved=("self_",),
                                self=lambda n, g: g * digamma(n.self_))
DigammaBackward0 = backward_node("DigammaBackward0", saved=("self_",),
                                 self=lambda n, g: g * polygamma(1, n.self_))
PolygammaBackward0 = backward_node("PolygammaBackward0", saved=("self_",), fields=("n",),
                                   self=lambda n, g: g * polygamma(n.n + 1, n.self_))

def _gammaln(x):
    """scipy's gammaln, except at -inf: std::lgamma (torch's kernel) gives +inf there."""
    out = sc.gammaln(x)
    neg_inf = np.isneginf(x)
    return np.where(neg_inf, np.inf, out).astype(out.dtype, copy=False) if neg_inf.any() else out


lgamma = unary_float(_gammaln, LgammaBackward0, ("self",), "lgamma")
digamma = unary_float(_digamma, DigammaBackward0, ("self",), "digamma")


@silent
def polygamma(n, input):
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    check_tensor("polygamma", 2, "input", input)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    data, dtype = float_array(input._data)
    if n >= 2 and dtype == np.float16:  # torch's zeta runs on half itself
        data = input._data
    out = np.asarray(_polygamma_array(n, data), dtype)
    return record(PolygammaBackward0, out, (input,), self_=input, n=n)


PolygammaBackward1 = backward_node(  # polygamma_: the formula reads the overwritten self
    "PolygammaBackward1", saved=("self_",), fields=("n",),
    self=lambda n, g: g * polygamma(n.n + 1, n.self_))


def polygamma_(self, n):
    """``x.polygamma_(n)``: the node keeps a copy of the values it overwrote."""
    check_inplace(self)
    check_overlap(self)
    original = self.clone()
    out = polygamma(n, original)
    if out._grad_fn is not None:
        out = record(PolygammaBackward1, out._data, (self,), self_=original, n=n)
    return commit(self, out)


def polygamma_method(input, n):
    """``x.polygamma(n)``: the method takes ``n`` second."""
    return polygamma(n, input)


def _mvlgamma_grad(n, g):
    """torch's mvlgamma_backward: ``grad * sum(digamma(x + (-p/2 + 1/2 ... 0)))``."""
    p = n.p
    args = make(np.arange(-p / 2.0 + 0.5, 0.5, 0.5, dtype=n.self_._data.dtype))
    args = args + n.self_.unsqueeze(-1)
    return g * digamma(args).sum(-1)


MvlgammaBackward0 = backward_node("MvlgammaBackward0", saved=("self_",), fields=("p",),
                                  self=_mvlgamma_grad)


@silent
def mvlgamma(input, p):
    check_tensor("mvlgamma", 1, "input", input)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    data, dtype = float_array(input._data)  # torch no longer checks the domain (x > (p-1)/2)
    constant = p * (p - 1) / 4 * _LOG_PI
    if dtype == np.float16:  # torch's steps in half: x + args, lgamma, sum, + constant
        args = np.arange(-p / 2.0 + 0.5, 0.5, 0.5, dtype=np.float16)
        terms = _gammaln((args + input._data[..., None]).astype(np.float32)).astype(dtype)
        out = terms.sum(-1, dtype=np.float32).astype(dtype) + np.float16(constant)
    else:
        args = np.arange(-p / 2.0 + 0.5, 0.5, 0.5, dtype=data.dtype)
        out = _gammaln(args + data[..., None]).sum(-1) + data.dtype.type(constant)
    out = np.asarray(out, dtype)
    if not out.flags.c_contiguous:  # torch's sum over the args: a new contiguous tensor
        out = np.ascontiguousarray(out)
    return record(MvlgammaBackward0, out, (input,), self_=input, p=p)


def mvlgamma_(self, p):
    if self._data.dtype.kind != "f":
        raise RuntimeError(f"mvlgamma: result type {self.dtype.scalar_name} can't be cast to "
                           "the desired output type Float")
    check_inplace(self)
    check_overlap(self)
    return commit(self, mvlgamma(self, p))


# ================================================================= Bessel functions
def _i1_grad(n, g, scaled):
    """torch's i1_backward / i1e_backward: away from 0, ``i0(x) - i1(x) / x`` (scaled:
    ``i0e(x) - i1e(x) * (sgn(x) + 1 / x)``); 0.5 near 0."""
    x = n.self_
    data = x._data
    if data.dtype == np.float16:  # torch's i1_backward kernels have no half variant
        name = "i1e_backward" if scaled else "i1_backward"
        raise NotImplementedError(f"\"{name}\" not implemented for 'Half'")
    eps = np.finfo(data.dtype).eps
    not_tiny = make(np.abs(data) > eps)
    safe = E.where(not_tiny, x, make(np.asarray(eps, data.dtype)))
    if scaled:
        gradx = i0e(safe) - n.result * (E.sgn(safe) + E.reciprocal(safe))
    else:
        gradx = i0(safe) - n.result * E.reciprocal(safe)
    return g * E.where(not_tiny, gradx, make(np.asarray(0.5, data.dtype)))


I0Backward0 = backward_node("I0Backward0", saved=("self_",),
                            self=lambda n, g: g * i1(n.self_))
SpecialI0EBackward0 = backward_node(
    "SpecialI0EBackward0", saved=("self_", "_result"),
    self=lambda n, g: g * (i1e(n.self_) - E.sgn(n.self_) * n.result))
SpecialI1Backward0 = backward_node("SpecialI1Backward0", saved=("self_", "_result"),
                                   self=lambda n, g: _i1_grad(n, g, False))
SpecialI1EBackward0 = backward_node("SpecialI1EBackward0", saved=("self_", "_result"),
                                    self=lambda n, g: _i1_grad(n, g, True))

i0 = unary_float(sc.i0, I0Backward0, ("self",), "i0")
i0e = unary_float(sc.i0e, SpecialI0EBackward0, ("self", "result"), "special_i0e")
i1 = unary_float(sc.i1, SpecialI1Backward0, ("self", "result"), "special_i1")
i1e = unary_float(sc.i1e, SpecialI1EBackward0, ("self", "result"), "special_i1e")


# ================================================================= entr, sinc, logit
def _entr(x):
    with np.errstate(all="ignore"):
        out = np.where(x > 0, -x * np.log(np.where(x > 0, x, 1)), np.where(x == 0, 0, -np.inf))
    return np.where(np.isnan(x), x, out).astype(x.dtype, copy=False)


SpecialEntrBackward0 = backward_node(
    "SpecialEntrBackward0", saved=("self_",),
    self=lambda n, g: g * -add_scalar(E.log(n.self_), 1))
entr = unary_float(_entr, SpecialEntrBackward0, ("self",), "special_entr")


def _sinc(x):
    product = x * x.dtype.type(math.pi)
    with np.errstate(all="ignore"):
        out = np.sin(product) / product
    return np.where(x == 0, x.dtype.type(1), out)


def _sinc_grad(n, g):
    x = n.self_
    pix = mul_scalar(x, math.pi)
    denominator = mul_scalar(x * x, math.pi)
    value = g * ((pix * E.cos(pix) - E.sin(pix)) / denominator)  # torch's grouping
    # 0 where the denominator is 0: at 0, and where x * x underflows, as torch
    return E.where(make(denominator._data == 0), make(np.asarray(0, value._data.dtype)), value)


SincBackward0 = backward_node("SincBackward0", saved=("self_",), self=_sinc_grad)
sinc = unary_float(_sinc, SincBackward0, ("self",), "sinc")


def _logit_grad(n, g):
    x = n.self_
    data = x._data
    if n.eps is None:
        outside = make((data < 0) | (data > 1))
        fill = make(np.asarray(np.nan, data.dtype))
    else:
        outside = make((data < n.eps) | (data > 1 - n.eps))
        fill = make(np.asarray(0, data.dtype))
    return E.where(outside, fill, g / (x * rsub_scalar(1, x)))


LogitBackward0 = backward_node("LogitBackward0", saved=("self_",), fields=("eps",),
                               self=_logit_grad)


@silent
def logit(input, eps=None):
    data, dtype = float_array(input._data)
    if dtype == np.float16:  # torch's half kernel: the ratio in half, its log in float
        data = input._data
    if eps is not None:
        data = np.clip(data, data.dtype.type(eps), data.dtype.type(1 - eps))
    with np.errstate(all="ignore"):
        ratio = data / (data.dtype.type(1) - data)
        out = np.asarray(np.log(ratio.astype(np.float32) if dtype == np.float16 else ratio),
                         dtype)
    return record(LogitBackward0, out, (input,), self_=input, eps=eps)


# ================================================================= xlogy, xlog1py
def _xlogy(x, y, log, dtype, compute):
    """``x * log(y)`` in ``compute``; torch's half kernel rounds ``log(y)`` to half before
    the product."""
    with np.errstate(all="ignore"):
        if dtype != compute:  # a Number operand is rounded to half too
            x = np.asarray(x, dtype).astype(compute)
            y = np.asarray(y, dtype)
        logs = log(np.asarray(y, dtype=compute))
        if dtype != compute:
            logs = logs.astype(dtype).astype(compute)
        out = x * logs
    out = np.where((x == 0) & ~np.isnan(y), 0, out)
    return np.where(np.isnan(y), y, out)


def _xlogy_self_grad(n, g, op, bound):
    """``xlogy(grad, other)`` zeroed where self == 0 and other <= bound (torch's choice)."""
    other = n.other
    out = op(g, other)
    self = n.self_._data if isinstance(n.self_, Tensor) else n.self_
    o = other._data if isinstance(other, Tensor) else other
    if isinstance(other, Tensor) or o <= bound:
        mask = (self == 0) & (o <= bound)
        return masked_fill(out, np.asarray(mask), 0)
    return out


def _xlogy_other_grad(n, g, shift):
    other = n.other if shift == 0 else add_scalar(n.other, 1)
    return g * n.self_ / other


XlogyBackward0 = backward_node(
    "XlogyBackward0", saved=("self_", "other"),
    self=lambda n, g: _xlogy_self_grad(n, g, xlogy, 0.0),
    other=lambda n, g: _xlogy_other_grad(n, g, 0))
XlogyBackward1 = backward_node(  # xlogy(scalar, tensor)
    "XlogyBackward1", saved=("other",), fields=("self_",),
    other=lambda n, g: _xlogy_other_grad(n, g, 0))
XlogyBackward2 = backward_node(  # xlogy(tensor, scalar)
    "XlogyBackward2", saved=("self_",), fields=("other",),
    self=lambda n, g: _xlogy_self_grad(n, g, xlogy, 0.0))
SpecialXlog1PyBackward0 = backward_node(
    "SpecialXlog1PyBackward0", saved=("self_", "other"),
    self=lambda n, g: _xlogy_self_grad(n, g, xlog1py, -1.0),
    other=lambda n, g: _xlogy_other_grad(n, g, 1))
SpecialXlog1PyBackward1 = backward_node(
    "SpecialXlog1PyBackward1", saved=("other",), fields=("self_",),
    other=lambda n, g: _xlogy_other_grad(n, g, 1))
SpecialXlog1PyBackward2 = backward_node(
    "SpecialXlog1PyBackward2", saved=("self_",), fields=("other",),
    self=lambda n, g: _xlogy_self_grad(n, g, xlog1py, -1.0))


def _xlogy_op(name, log, nodes):
    tensor_tensor, scalar_self, tensor_scalar = nodes

    @silent
    def op(input, other):
        input, other = coerce(input), coerce(other)
        if (not isinstance(input, Tensor) and not isinstance(other, Tensor)
                or input is NotImplemented or other is NotImplemented):
            raise invalid_combination(name, ("Tensor input, Tensor other",
                                             "Number self, Tensor other",
                                             "Tensor input, Number other"), input, other)
        dtype = float_dtype(result_type(input, other))
        compute = np.float32 if dtype.np == np.float16 else dtype.np
        a, b = as_array(input, compute), as_array(other, compute)
        out = apply_binary(lambda x, y: _xlogy(x, y, log, dtype.np, compute), input, other,
                           dtype, a, b)
        if isinstance(input, Tensor) and isinstance(other, Tensor):
            return record(tensor_tensor, out, (input, other), self_=input, other=other)
        if isinstance(other, Tensor):
            return record(scalar_self, out, (other,), self_=input, other=other)
        return record(tensor_scalar, out, (input,), self_=input, other=other)

    op.__name__ = name
    return op


xlogy = _xlogy_op("xlogy", np.log, (XlogyBackward0, XlogyBackward1, XlogyBackward2))
xlog1py = _xlogy_op("special_xlog1py", np.log1p,
                    (SpecialXlog1PyBackward0, SpecialXlog1PyBackward1, SpecialXlog1PyBackward2))
