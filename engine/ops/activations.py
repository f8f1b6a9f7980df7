"""torch.nn.functional's activations beyond relu/gelu/silu (``ops.nn``): the ELU family (elu,
selu, celu), glu, hardtanh/relu6, hardswish, hardsigmoid, mish, softplus, softshrink,
hardshrink, tanhshrink, threshold, logsigmoid, softsign, softmin, prelu, rrelu, and the
in-place forms (``F.elu_``, ``inplace=True``, ``torch.selu_`` ...).

Each fused op records torch's node (EluBackward0, HardtanhBackward0 ...); its grad is one of
torch's backward ops (elu_backward, hardtanh_backward, softplus_backward ...), computed on
the arrays and hung, under create_graph, from its ``...BackwardBackward0`` node, whose
formulas are torch's double backward (FunctionsManual), written with engine ops.  In-place
forms are the out-of-place op with the node torch records for them (EluBackward1 saves the
result, HardtanhBackward0 stays) committed into the input.  The composite ones (tanhshrink,
softsign, softmin) are built from engine ops in torch's order.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _sampling
from .._dtype import FROM_NUMPY
from .._tensor import Tensor, make, wrap_dim
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.inplace import check_inplace, commit
from ..autograd.node import attach, backward_node
from ..random import default_generator
from ..runtime.quiet import silent
from ..runtime.simd import LOOP_BYTES, LOOP_BYTES_AVX2
from . import elementwise as E
from . import nn as N
from . import shape as S
from .formulas import backward_op, mul_scalar, zeros_like
from .operands import argument_error, cast, checked_int, needs_grad, torch_layout

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _float_input(input, kernel, name="input", fn=None):
    """The input's array; torch's NotImplementedError for dtypes its kernel lacks."""
    if not isinstance(input, Tensor):
        raise argument_error(fn or kernel.split("_")[0], 1, name, "Tensor", input)
    data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{FROM_NUMPY[data.dtype].scalar_name}'")
    return data


def _in_place(input, compute):
    """An in-place activation: torch's checks, then the out-of-place result (with the node
    torch records for the in-place op) written into ``input``."""
    check_inplace(input)
    return commit(input, compute())


def _result(node_cls, out, input, **fields):
    """``out`` as the op's output, hung from ``node_cls`` when the input needs a grad."""
    if needs_grad(input):
        node = node_cls()
        for name, value in fields.items():
            setattr(node, name, value)
        return attach(node, out, (input,))
    return make(out)


def _up(a: np.ndarray) -> np.ndarray:
    """The array a kernel computes on: half in float (its opmath type), rounded once at the
    end by ``_down``."""
    if a.dtype != np.float16:
        return a
    return cast(a, np.float32)  # in the layout TensorIterator's result has


def _down(values, like: np.ndarray) -> np.ndarray:
    out = np.asarray(values).astype(like.dtype, copy=False)
    if like.ndim > 1 and not like.flags.c_contiguous:  # TensorIterator's output layout
        out = torch_layout(out, (like,))
    return out


def _times(grad, slope):
    """``grad * slope`` as a fused backward kernel computes it: in float for half."""
    g = grad._data
    return make(_down(_up(g) * slope, g))


def _mask(condition, like):
    """A bool condition as a constant of ``like``'s dtype (torch's ``.type_as(grad)``)."""
    return make(np.asarray(condition, like._data.dtype))


# ================================================================= NaN in torch's two loops
def _vectorized(x: np.ndarray, loop_bytes: int):
    """Where ``x`` has NaNs, which elements ATen's kernel computes in its vectorized loop
    (True) rather than its scalar loop: the loop steps through a dense input in memory order
    two vectors at a time and leaves the last partial step, or a non-dense input, to the
    scalar code.  Some backward kernels treat NaN differently in the two (``x <= 0 ? a : b``
    picks ``b``, the vector blend picks by ``x > 0``).  None when there is no NaN."""
    if x.dtype.kind != "f" or not np.isnan(x).any():
        return None
    if not loop_bytes:
        return np.zeros(x.shape, bool)
    step = loop_bytes // x.itemsize
    order = sorted(range(x.ndim), key=lambda d: -abs(x.strides[d]))
    expected, dense = x.itemsize, True
    for d in reversed(order):
        if x.shape[d] != 1:
            dense = dense and x.strides[d] == expected
            expected *= x.shape[d]
    if not dense:
        return np.zeros(x.shape, bool)
    flat = np.arange(x.size) < (x.size // step) * step
    out = np.empty(x.shape, bool)
    out.transpose(order)[...] = flat.reshape([x.shape[d] for d in order])
    return out


def _nan_as(x, values, scalar_value, vector_value, loop_bytes=LOOP_BYTES):
    """``values`` with NaN inputs set as each loop sets them."""
    vectorized = _vectorized(x, loop_bytes)
    if vectorized is None:
        return values
    nan = np.isnan(x)
    return np.where(nan & vectorized, vector_value, np.where(nan, scalar_value, values))


# ================================================================= elu, selu, celu
def _elu_slope(x, alpha, scale, input_scale, is_result):
    """d elu / d input, from the input (or, for the in-place forms, the result)."""
    negcoef, poscoef = alpha * scale, scale
    if is_result:
        negative = x * input_scale + negcoef * input_scale
    else:
        negative = np.exp(x * x.dtype.type(input_scale)) * (input_scale * negcoef)
    slope = np.where(x > 0, poscoef, negative).astype(x.dtype, copy=False)
    return _nan_as(x, slope, x.dtype.type(poscoef), x.dtype.type(np.nan))


def elu_backward(grad, alpha, scale, input_scale, is_result, self_or_result):
    """torch's elu_backward, an op of its own (EluBackwardBackward0 under create_graph)."""
    return backward_op(
        EluBackwardBackward0,
        lambda: _times(grad, _elu_slope(_up(self_or_result._data), alpha, scale, input_scale,
                                        is_result)),
        (grad, self_or_result), grad_output=grad, alpha=alpha, scale=scale,
        input_scale=input_scale,
        is_result=is_result, self_or_result=self_or_result)


def _elu_double_backward(grad, grad_output, n):
    negative = _mask(n.self_or_result._data < 0, grad)
    scaled = mul_scalar(grad * grad_output, n.input_scale)
    if n.is_result:
        return scaled * negative
    return elu_backward(scaled, n.alpha, n.scale, n.input_scale, False,
                        n.self_or_result) * negative


EluBackwardBackward0 = backward_node(
    "EluBackwardBackward0", saved=("grad_output", "self_or_result"),
    fields=("alpha", "scale", "input_scale", "is_result"),
    grad_output=lambda n, g: elu_backward(g, n.alpha, n.scale, n.input_scale, n.is_result,
                                          n.self_or_result),
    self_or_result=lambda n, g: _elu_double_backward(g, n.grad_output, n))


def _elu_node(name, from_result):
    slot = "_result" if from_result else "self_"
    if from_result:
        def formula(n, g):
            return elu_backward(g, n.alpha, n.scale, n.input_scale, True, n.result)
    else:
        def formula(n, g):
            return elu_backward(g, n.alpha, n.scale, n.input_scale, False, n.self_)
    return backward_node(name, saved=(slot,), fields=("alpha", "scale", "input_scale"),
                         self=formula)


EluBackward0 = _elu_node("EluBackward0", False)
EluBackward1 = _elu_node("EluBackward1", True)  # elu_, selu_: from the result
CeluBackward0 = _elu_node("CeluBackward0", False)
CeluBackward1 = _elu_node("CeluBackward1", True)


@silent
def _elu(input, alpha, scale, input_scale, node_cls, backward_input_scale=None):
    data = _float_input(input, "elu_cpu")
    x = _up(data)
    t = x.dtype.type
    negative = np.expm1(x * t(input_scale)) * t(alpha * scale)
    out = _down(np.where(x <= 0, negative, x * t(scale) if scale != 1 else x), data)
    if needs_grad(input):
        node = node_cls()
        node.alpha, node.scale = alpha, scale
        node.input_scale = input_scale if backward_input_scale is None else backward_input_scale
        if "_result" in node_cls.saved:
            node._result = out
        else:
            node.self_ = input
        return attach(node, out, (input,))
    return make(out)


def elu(input, alpha=1.0, inplace=False):
    if inplace:
        return elu_(input, alpha)
    return _elu(input, alpha, 1.0, 1.0, EluBackward0)


def elu_(input, alpha=1.0):
    return _in_place(input, lambda: _elu(input, alpha, 1.0, 1.0, EluBackward1))


def selu(input, inplace=False):
    if inplace:
        return selu_(input)
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, EluBackward0)


def selu_(input):
    return _in_place(input, lambda: _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, EluBackward1))


def _celu(input, alpha, node_cls):
    """elu with input_scale 1 / alpha; torch's celu formula divides by alpha as a float."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _elu(input, alpha, 1.0, 1.0 / alpha, node_cls, 1.0 / float(np.float32(alpha)))


def celu(input, alpha=1.0, inplace=False):
    if inplace:
        return celu_(input, alpha)
    return _celu(input, alpha, CeluBackward0)


def celu_(input, alpha=1.0):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _in_place(input, lambda: _celu(input, alpha, CeluBackward1))


# ================================================================= glu
def _halves(t, dim):
    half = t._data.shape[dim] // 2
    return S.narrow(t, dim, 0, half), S.narrow(t, dim, half, half)


def glu_backward(grad, self, dim):
    """torch's glu_backward (an op: GluBackwardBackward0): the grads of both halves."""
    def value():
        a, b = (_up(h._data) for h in _halves(self, dim))
        g = _up(grad._data)
        # torch takes sigmoid(b) as a tensor of the input's dtype first (rounded for half)
        sig = _up((1 / (1 + np.exp(-b))).astype(self._data.dtype))
        first = g * sig
        second = first * a * (1 - sig)
        return make(_down(np.concatenate([first, second], axis=dim), self._data))

    return backward_op(GluBackwardBackward0, value, (grad, self), grad_output=grad, self_=self,
                       dim=dim)


def _glu_double_backward(grad, grad_output, input, dim):
    first_half, second_half = _halves(input, dim)
    sig = E.sigmoid(second_half)
    one_sub_sig = 1 - sig
    sig_one_sub_sig = sig * one_sub_sig
    gg_first, gg_second = _halves(grad, dim)
    gg_second_first = gg_second * first_half
    gi_first = gg_second * grad_output * sig_one_sub_sig
    second_order = sig_one_sub_sig * one_sub_sig - sig * sig_one_sub_sig
    gi_second = gg_second_first * grad_output * second_order + \
        gg_first * grad_output * sig_one_sub_sig
    return S.cat([gi_first, gi_second], dim)


def _glu_double_backward_grad_output(grad, input, dim):
    sizes = list(input._data.shape)
    sizes[dim] //= 2
    tmp = grad * glu_backward(make(np.ones(sizes, input._data.dtype)), input, dim)
    first, second = _halves(tmp, dim)
    return first + second


GluBackwardBackward0 = backward_node(
    "GluBackwardBackward0", saved=("grad_output", "self_"), fields=("dim",),
    grad_output=lambda n, g: _glu_double_backward_grad_output(g, n.self_, n.dim),
    self=lambda n, g: _glu_double_backward(g, n.grad_output, n.self_, n.dim))
GluBackward0 = backward_node("GluBackward0", saved=("self_",), fields=("dim",),
                             self=lambda n, g: glu_backward(g, n.self_, n.dim))


@silent
def glu(input, dim=-1):
    if not isinstance(input, Tensor):
        raise argument_error("glu", 1, "input", "Tensor", input)
    data = input._data
    if data.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, data.ndim)
    if data.shape[d] % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {d} is size {data.shape[d]}")
    data = _float_input(input, "glu_cpu")
    a, b = np.split(_up(data), [data.shape[d] // 2], axis=d)
    out = _down(a / (1 + np.exp(-b)), data)
    return _result(GluBackward0, out, input, self_=input, dim=d)


# ================================================================= hardtanh, relu6
def hardtanh_backward(grad, self, min_val, max_val):
    """grad where min_val < self < max_val (an op: HardtanhBackwardBackward0)."""
    x = self._data
    g = grad._data
    out = np.where((x <= min_val) | (x >= max_val), 0, g)
    out = _nan_as(x, out, g, 0, LOOP_BYTES_AVX2).astype(g.dtype)
    return backward_op(HardtanhBackwardBackward0, lambda: make(out),
                       (grad, self), self_=self, min_val=min_val, max_val=max_val)


HardtanhBackwardBackward0 = backward_node(
    "HardtanhBackwardBackward0", saved=("self_",), fields=("min_val", "max_val"),
    grad_output=lambda n, g: hardtanh_backward(g, n.self_, n.min_val, n.max_val),
    self=lambda n, g: zeros_like(g))
HardtanhBackward0 = backward_node(
    "HardtanhBackward0", saved=("self_",), fields=("min_val", "max_val"),
    self=lambda n, g: hardtanh_backward(g, n.self_, n.min_val, n.max_val))


@silent
def _hardtanh(input, min_val, max_val):
    if not isinstance(input, Tensor):
        raise argument_error("hardtanh", 1, "input", "Tensor", input)
    x = input._data
    if x.dtype == np.bool_:
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if x.dtype.kind == "f":
        t = x.dtype.type
        out = np.minimum(np.maximum(x, t(min_val)), t(max_val))
    else:  # torch clamps in the bounds' type, then casts back
        out = np.clip(cast(x, np.float64), min_val, max_val).astype(x.dtype)
    return _result(HardtanhBackward0, np.asarray(out, x.dtype), input, self_=input,
                   min_val=min_val, max_val=max_val)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return hardtanh_(input, min_val, max_val)
    return _hardtanh(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _in_place(input, lambda: _hardtanh(input, min_val, max_val))


def relu6(input, inplace=False):
    if inplace:
        return hardtanh_(input, 0.0, 6.0)
    return _hardtanh(input, 0.0, 6.0)


# ================================================================= hardswish, hardsigmoid
def hardswish_backward(grad, self):
    """0 below -3, grad above 3, grad * (x / 3 + 1/2) between (HardswishBackwardBackward0)."""
    def value():
        x = _up(self._data)
        t = x.dtype.type
        slope = np.where(x <= -3, t(0), np.where(x < 3, x / t(3) + t(0.5), t(1)))
        return _times(grad, _nan_as(self._data, slope, t(1), t(np.nan)))

    return backward_op(HardswishBackwardBackward0, value, (grad, self), grad_output=grad,
                       self_=self)


def _hardswish_double_backward(grad, grad_output, self):
    x = self._data
    inside = make((x > -3.0) & (x < 3.0))
    return E.where(inside, grad * grad_output / 3.0, make(np.zeros((), x.dtype)))


HardswishBackwardBackward0 = backward_node(
    "HardswishBackwardBackward0", saved=("grad_output", "self_"),
    grad_output=lambda n, g: hardswish_backward(g, n.self_),
    self=lambda n, g: _hardswish_double_backward(g, n.grad_output, n.self_))
HardswishBackward0 = backward_node("HardswishBackward0", saved=("self_",),
                                   self=lambda n, g: hardswish_backward(g, n.self_))


@silent
def _hardswish(input):
    data = _float_input(input, "hardswish_cpu", fn="hardswish")
    x = _up(data)
    t = x.dtype.type
    out = _down(x * np.minimum(np.maximum(x + t(3), t(0)), t(6)) / t(6), data)
    return _result(HardswishBackward0, out, input, self_=input)


def hardswish(input, inplace=False):
    if inplace:
        return _in_place(input, lambda: _hardswish(input))
    return _hardswish(input)


def hardsigmoid_backward(grad, self):
    """grad / 6 on (-3, 3): torch has no derivative for this op (NotImplemented)."""
    x = self._data
    g = _up(grad._data)
    sixth = g.dtype.type(np.float32(1 / 6))  # ATen's `1.0f / 6.0f`, in any dtype
    out = _down(np.where((x > -3) & (x < 3), g * sixth, 0), grad._data)
    if needs_grad(grad, self):
        return attach(E.NotImplemented_("hardsigmoid_backward"), out, (grad, self))
    return make(out)


HardsigmoidBackward0 = backward_node("HardsigmoidBackward0", saved=("self_",),
                                     self=lambda n, g: hardsigmoid_backward(g, n.self_))


@silent
def _hardsigmoid(input):
    data = _float_input(input, "hardsigmoid_cpu", fn="hardsigmoid")
    x = _up(data)
    t = x.dtype.type
    out = _down(np.minimum(np.maximum(x + t(3), t(0)), t(6)) / t(6), data)
    return _result(HardsigmoidBackward0, out, input, self_=input)


def hardsigmoid(input, inplace=False):
    if inplace:
        return _in_place(input, lambda: _hardsigmoid(input))
    return _hardsigmoid(input)


# ================================================================= mish, softplus
def _mish_grad(n, g):
    """With grad mode on (create_graph) torch differentiates mish with ops; otherwise with
    its fused kernel."""
    x = n.self_
    if _grad_mode.enabled:
        sigmoid = E.sigmoid(x)
        tanh_softplus = E.tanh(E.log1p(E.exp(x)))
        right = tanh_softplus + x * sigmoid * (1.0 - tanh_softplus * tanh_softplus)
        return g * right
    a = _up(x._data)
    sigmoid = 1 / (1 + np.exp(-a))
    tanh_softplus = np.tanh(np.log1p(np.exp(a)))
    return _times(g, tanh_softplus + a * sigmoid * (1 - tanh_softplus * tanh_softplus))


MishBackward0 = backward_node("MishBackward0", saved=("self_",), self=_mish_grad)


@silent
def _mish(input):
    data = _float_input(input, "mish_cpu", fn="mish")
    x = _up(data)
    out = _down(x * np.tanh(np.log1p(np.exp(x))), data)
    return _result(MishBackward0, out, input, self_=input)


def mish(input, inplace=False):
    if inplace:
        return _in_place(input, lambda: _mish(input))
    return _mish(input)


def softplus_backward(grad, self, beta, threshold):
    """``grad * sigmoid(beta * x)`` (grad above the threshold): SoftplusBackwardBackward0."""
    def value():
        x = _up(self._data)
        scaled = x * x.dtype.type(beta)
        z = np.exp(scaled)
        return _times(grad, np.where(scaled > threshold, x.dtype.type(1), z / (z + 1)))

    return backward_op(SoftplusBackwardBackward0, value, (grad, self), grad_output=grad,
                       self_=self, beta=beta, threshold=threshold)


def _softplus_double_backward(grad, input, beta, threshold):
    x = mul_scalar(input, beta)
    below = _mask(x._data < threshold, grad)
    return mul_scalar(E.sigmoid_backward(grad, E.sigmoid(x)) * below, beta)


SoftplusBackwardBackward0 = backward_node(
    "SoftplusBackwardBackward0", saved=("grad_output", "self_"), fields=("beta", "threshold"),
    grad_output=lambda n, g: softplus_backward(g, n.self_, n.beta, n.threshold),
    self=lambda n, g: _softplus_double_backward(g * n.grad_output, n.self_, n.beta,
                                                n.threshold))
SoftplusBackward0 = backward_node(
    "SoftplusBackward0", saved=("self_",), fields=("beta", "threshold"),
    self=lambda n, g: softplus_backward(g, n.self_, n.beta, n.threshold))


@silent
def softplus(input, beta=1.0, threshold=20.0):
    data = _float_input(input, "softplus_cpu", fn="softplus")
    x = _up(data)
    t = x.dtype.type
    scaled = x * t(beta)
    out = np.where(scaled > threshold, x, np.log1p(np.exp(scaled)) / t(beta))
    return _result(SoftplusBackward0, _down(out, data), input, self_=input,
                   beta=beta, threshold=threshold)


# ================================================================= shrinks, threshold
_FLOAT_MAX = {"float16": "65504", "float32": "3.40282e+38", "float64": "1.79769e+308"}


def _shrink_backward(name):
    def backward(grad, self, lambd):
        x = self._data
        g = grad._data
        out = np.where((x >= -lambd) & (x <= lambd), 0, g)
        out = _nan_as(x, out, g, 0, LOOP_BYTES_AVX2).astype(g.dtype)
        return backward_op(
            DOUBLE[name], lambda: make(out),
            (grad, self), self_=self, lambd=lambd)

    return backward


softshrink_backward = _shrink_backward("softshrink")
hardshrink_backward = _shrink_backward("hardshrink")
DOUBLE = {
    "softshrink": backward_node(
        "SoftshrinkBackwardBackward0", saved=("self_",), fields=("lambd",),
        grad_output=lambda n, g: softshrink_backward(g, n.self_, n.lambd),
        self=lambda n, g: zeros_like(g)),
    "hardshrink": backward_node(
        "HardshrinkBackwardBackward0", saved=("self_",), fields=("lambd",),
        grad_output=lambda n, g: hardshrink_backward(g, n.self_, n.lambd),
        self=lambda n, g: zeros_like(g)),
}
SoftshrinkBackwardBackward0 = DOUBLE["softshrink"]
HardshrinkBackwardBackward0 = DOUBLE["hardshrink"]
SoftshrinkBackward0 = backward_node(
    "SoftshrinkBackward0", saved=("self_",), fields=("lambd",),
    self=lambda n, g: softshrink_backward(g, n.self_, n.lambd))
HardshrinkBackward0 = backward_node(
    "HardshrinkBackward0", saved=("self_",), fields=("lambd",),
    self=lambda n, g: hardshrink_backward(g, n.self_, n.lambd))


@silent
def softshrink(input, lambd=0.5):
    x = _float_input(input, "softshrink_check", fn="softshrink")
    if not 0 <= lambd <= float(np.finfo(x.dtype).max):
        raise RuntimeError(
            f"lambda must be in range [0, {_FLOAT_MAX[x.dtype.name]}] for input dtype "
            f"{FROM_NUMPY[x.dtype].scalar_name}, but found {_sampling._fmt(lambd)}")
    data, x = x, _up(x)
    t = x.dtype.type
    shifted = np.where(x > 0, x - t(lambd), x + t(lambd))  # NaN stays NaN
    out = np.where((x >= -t(lambd)) & (x <= t(lambd)), t(0), shifted)
    return _result(SoftshrinkBackward0, _down(out, data), input, self_=input,
                   lambd=lambd)


@silent
def hardshrink(input, lambd=0.5):
    x = _float_input(input, "hardshrink_cpu", fn="hardshrink")
    t = x.dtype.type
    out = np.where((x >= -t(lambd)) & (x <= t(lambd)), t(0), x)
    return _result(HardshrinkBackward0, np.asarray(out, x.dtype), input, self_=input,
                   lambd=lambd)


ThresholdBackward0 = backward_node(
    "ThresholdBackward0", saved=("self_",), fields=("threshold",),
    self=lambda n, g: E.threshold_backward(g, n.self_, n.threshold))
ThresholdBackward1 = backward_node(  # threshold_: from the input before the write
    "ThresholdBackward1", saved=("self_",), fields=("threshold",),
    self=lambda n, g: E.threshold_backward(g, n.self_, n.threshold))


@silent
def _threshold(input, threshold, value, node_cls):
    if not isinstance(input, Tensor):
        raise argument_error("threshold", 1, "input", "Tensor", input)
    x = input._data
    if x.dtype == np.bool_:
        raise NotImplementedError("\"threshold_cpu\" not implemented for 'Bool'")
    t = x.dtype.type
    if x.dtype.kind == "f":
        out = np.where(x <= t(threshold), t(value), x)
    else:
        out = np.where(x <= checked_int(threshold, x.dtype), checked_int(value, x.dtype), x)
    return _result(node_cls, np.asarray(out, x.dtype), input, self_=input,
                   threshold=threshold)


def threshold(input, threshold, value, inplace=False):
    if inplace:
        return threshold_(input, threshold, value)
    return _threshold(input, threshold, value, ThresholdBackward0)


def threshold_(input, threshold, value):
    return _in_place(input, lambda: _threshold(input, threshold, value, ThresholdBackward1))


# ================================================================= composites
def logsigmoid(input):
    _float_input(input, "log_sigmoid_cpu", fn="log_sigmoid")
    return N.log_sigmoid(input)


def tanhshrink(input):
    return input - E.tanh(input)


def softsign(input):
    return input / (E.abs(input) + 1)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        warnings.warn(
            "Implicit dimension choice for softmin has been deprecated. Change the call to "
            "include dim=X as an argument.", UserWarning, stacklevel=_stacklevel)
        dim = 0 if input.dim() in (0, 1, 3) else 1
    return N.softmax(-input, dim, dtype=dtype)


# ================================================================= prelu
def _prelu_kernel_backward(grad, self, weight):
    """(grad_self, grad_weight) of torch's _prelu_kernel_backward; under create_graph each
    hangs from a PreluKernelBackwardBackward0 (torch has one node with two outputs)."""
    x, w, g = self._data, weight._data, grad._data
    positive = x > 0
    grad_self = np.asarray(np.where(positive, g, w * g), x.dtype)
    grad_weight = np.asarray(np.where(positive, 0, x * g), x.dtype)
    grad_weight = _sum_to(grad_weight, w.shape)
    grads = []
    for out, which in ((grad_self, 0), (grad_weight, 1)):
        if needs_grad(grad, self, weight):
            node = PreluKernelBackwardBackward0()
            node.grad_output, node.self_, node.weight, node.which = grad, self, weight, which
            grads.append(attach(node, out, (grad, self, weight)))
        else:
            grads.append(make(out))
    return grads


def _sum_to(array, shape):
    lead = array.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and array.shape[lead + i] != 1)
    return np.asarray(array.sum(axis=axes, keepdims=True).reshape(shape), array.dtype)


def _prelu_double(n, g, wrt):
    """torch's formulas for the second derivatives of _prelu_kernel_backward, for one of its
    two outputs (``n.which``: 0 grad_self, 1 grad_weight) differentiated in ``wrt``."""
    x = n.self_
    nonneg = make(x._data >= 0)
    zero = make(np.zeros((), x._data.dtype))
    if n.which == 0:
        if wrt == "grad_output":
            return E.where(nonneg, g, g * n.weight)
        return zeros_like(g) if wrt == "self" else E.where(nonneg, zero, n.grad_output * g)
    if wrt == "grad_output":
        return E.where(nonneg, zero, g * x)
    if wrt == "self":
        return E.where(nonneg, zero, n.grad_output * g)
    return zeros_like(n.weight)


PreluKernelBackwardBackward0 = backward_node(
    "PreluKernelBackwardBackward0", saved=("grad_output", "self_", "weight"),
    fields=("which",),
    grad_output=lambda n, g: _prelu_double(n, g, "grad_output"),
    self=lambda n, g: _prelu_double(n, g, "self"),
    weight=lambda n, g: _prelu_double(n, g, "weight"))


PreluKernelBackward0 = backward_node(
    "PreluKernelBackward0", saved=("self_", "weight"),
    self=lambda n, g: _prelu_kernel_backward(g, n.self_, n.weight)[0],
    weight=lambda n, g: _prelu_kernel_backward(g, n.self_, n.weight)[1])


@silent
def prelu(input, weight):
    if not isinstance(input, Tensor):
        raise argument_error("prelu", 1, "input", "Tensor", input)
    if not isinstance(weight, Tensor):
        raise argument_error("prelu", 2, "weight", "Tensor", weight)
    x, w = input._data, weight._data
    if x.dtype != w.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got "
                           f"{input.dtype.scalar_name} and {weight.dtype.scalar_name}")
    if w.size != 1:
        if x.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = x.shape[1] if x.ndim > 1 else 1
        if channels != w.size:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. Found parameter "
                f"numbers = {w.size} and channel size = {channels}.")
    if w.ndim > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {w.ndim}")
    if x.ndim != w.ndim:
        shape = [1] * x.ndim
        if x.ndim > 1:
            shape[1] = w.size
        weight = S.reshape(weight, tuple(shape))
        w = weight._data
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f"\"prelu_cpu\" not implemented for '{input.dtype.scalar_name}'")
    out = np.asarray(np.where(x > 0, x, w * x), x.dtype)
    if needs_grad(input, weight):
        node = PreluKernelBackward0()
        node.self_, node.weight = input, weight
        return attach(node, out, (input, weight))
    return make(out)


# ================================================================= rrelu
def rrelu_with_noise_backward(grad, self, noise, lower, upper, training, is_result):
    """torch's rrelu_with_noise_backward (an op: RreluWithNoiseBackwardBackward0): the
    sampled slopes in training, leaky_relu's grad with the mean slope otherwise."""
    def value():
        if training:
            return grad * make(noise)
        slope = (lower + upper) / 2
        x, g = self._data, grad._data
        return make(np.asarray(np.where(x > 0, g, g * g.dtype.type(slope)), g.dtype))

    return backward_op(RreluWithNoiseBackwardBackward0, value, (grad, self), self_=self,
                       noise=noise, lower=lower, upper=upper, training=training)


RreluWithNoiseBackwardBackward0 = backward_node(
    "RreluWithNoiseBackwardBackward0", saved=("self_",),
    fields=("noise", "lower", "upper", "training"),
    grad_output=lambda n, g: rrelu_with_noise_backward(g, n.self_, n.noise, n.lower, n.upper,
                                                       n.training, False),
    self=lambda n, g: zeros_like(g))
RreluWithNoiseBackward0 = backward_node(
    "RreluWithNoiseBackward0", saved=("self_",), fields=("noise", "lower", "upper", "training"),
    self=lambda n, g: rrelu_with_noise_backward(g, n.self_, n.noise, n.lower, n.upper,
                                                n.training, False))
RreluWithNoiseBackward1 = backward_node(  # rrelu_: from the result
    "RreluWithNoiseBackward1", saved=("_result",),
    fields=("noise", "lower", "upper", "training"),
    self=lambda n, g: rrelu_with_noise_backward(g, n.result, n.noise, n.lower, n.upper,
                                                n.training, True))


@silent
def _rrelu(input, lower, upper, training, node_cls, generator=None):
    if not isinstance(input, Tensor):
        raise argument_error("rrelu", 1, "input", "Tensor", input)
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    x = input._data
    if training:
        _float_input(input, "rrelu_with_noise_out_cpu")
        if x.dtype == np.float16:
            raise NotImplementedError("\"rrelu_with_noise_out_cpu\" not implemented for 'Half'")
        gen = default_generator if generator is None else generator
        out, noise = _sampling.rrelu_noise(gen, x, lower, upper)  # C order, as torch draws
        out = np.asarray(out, x.dtype)
    else:
        _float_input(input, "leaky_relu_cpu")
        slope = x.dtype.type((lower + upper) / 2)
        out = np.asarray(np.where(x > 0, x, x * slope), x.dtype)
        noise = None
    if needs_grad(input):
        node = node_cls()
        node.noise, node.lower, node.upper, node.training = noise, lower, upper, training
        if "_result" in node_cls.saved:
            node._result = out
        else:
            node.self_ = input
        return attach(node, out, (input,))
    return make(out)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    if inplace:
        return rrelu_(input, lower, upper, training)
    return _rrelu(input, lower, upper, training, RreluWithNoiseBackward0)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return _in_place(input, lambda: _rrelu(input, lower, upper, training,
                                           RreluWithNoiseBackward1))


def torch_rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """``torch.rrelu`` (it takes a generator; F.rrelu does not)."""
    return _rrelu(input, lower, upper, training, RreluWithNoiseBackward0, generator)


# ================================================================= leaky_relu, relu, silu in place
LeakyReluBackward1 = backward_node(  # leaky_relu_: from the result
    "LeakyReluBackward1", saved=("_result",), fields=("slope",),
    self=lambda n, g: N.leaky_relu_backward(g, n.result, n.slope))


@silent
def _leaky_relu_result(input, negative_slope):
    x = _float_input(input, "leaky_relu_cpu", fn="leaky_relu")
    out = np.where(x > 0, x, x * x.dtype.type(negative_slope)).astype(x.dtype)
    return _result(LeakyReluBackward1, out, input, _result=out, slope=negative_slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        return leaky_relu_(input, negative_slope)
    _float_input(input, "leaky_relu_cpu", fn="leaky_relu")
    return N.leaky_relu(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return _in_place(input, lambda: _leaky_relu_result(input, negative_slope))


def relu(input, inplace=False):
    """torch.nn.functional.relu: ``torch.relu_`` in place."""
    if not isinstance(input, Tensor):
        raise argument_error("relu", 1, "input", "Tensor", input)
    if inplace:
        return relu_(input)
    return E.relu(input)


def relu_(input):
    return _in_place(input, lambda: E.relu(input))


def silu(input, inplace=False):
    _float_input(input, "silu_cpu", fn="silu")
    if inplace:
        return _in_place(input, lambda: N.silu(input))
    return N.silu(input)


def gelu(input, approximate="none"):
    _float_input(input, "GeluKernelImpl", fn="gelu")
    return N.gelu(input, approximate)
