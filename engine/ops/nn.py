"""torch.nn.functional's activations, losses and linear, with their nodes
(re-exported by ``engine.nn.functional``).

Each op records the node torch records: the fused ones (LeakyReluBackward0, GeluBackward0,
SiluBackward0, SoftmaxBackward0, LogSoftmaxBackward0, MseLossBackward0, NllLossBackward0,
BinaryCrossEntropy(WithLogits)Backward0, AddmmBackward0 for linear) have their own formula;
the composite ones (l1_loss, cross_entropy, linear on other ranks) are built from engine ops
in torch's order.  Where torch's grad is an op of its own (gelu_backward,
_softmax_backward_data, mse_loss_backward, nll_loss_backward, binary_cross_entropy_backward,
log_sigmoid_backward), a create_graph grad hangs from its ``...BackwardBackward0`` node;
elsewhere the formulas are torch's C++ composites, op for op.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._dtype import result_type
from .._tensor import Tensor, make, wrap_dim
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import Node, attach, backward_node
from ..runtime.quiet import silent
from . import elementwise as E
from . import linalg as L
from . import reductions as R
from . import shape as S
from .formulas import (
    add_scalar,
    backward_op,
    div_inplace,
    div_scalar,
    masked_fill,
    mul_inplace,
    mul_scalar,
    rdiv_scalar,
    rsub_scalar,
    sub_scalar,
    zeros_like,
)
from .operands import argument_error, as_array, broadcast_error, cast, needs_grad

_erf = np.frompyfunc(math.erf, 1, 1)
_SQRT1_2 = math.sqrt(0.5)
_KBETA = math.sqrt(2.0) * (2.0 / math.sqrt(math.pi)) * 0.5
_KKAPPA = 0.044715
_GELU_PDF = 2 / math.sqrt(math.pi) * _SQRT1_2 * 0.5  # torch's M_2_SQRTPI * M_SQRT1_2 * 0.5


def _up(a):
    """Half computes in float (torch's opmath), rounded once at the end."""
    if a.dtype != np.float16:
        return a
    return cast(a, np.float32)  # in the layout TensorIterator's result has


def _fused_times(grad, slope):
    """``grad * slope`` as a fused kernel computes it (in float for half)."""
    g = grad._data
    return make(np.asarray(_up(g) * slope).astype(g.dtype))


def erf(a):
    return _erf(a).astype(a.dtype) if a.ndim else np.asarray(math.erf(a), a.dtype)


# ================================================================= activations
LeakyReluBackward0 = backward_node(
    "LeakyReluBackward0", saved=("self_",), fields=("slope",),
    self=lambda n, g: leaky_relu_backward(g, n.self_, n.slope))
LeakyReluBackwardBackward0 = backward_node(  # torch's leaky_relu_backward is an op
    "LeakyReluBackwardBackward0", saved=("self_",), fields=("slope",),
    grad_output=lambda n, g: leaky_relu_backward(g, n.self_, n.slope),
    self=lambda n, g: zeros_like(g))


def leaky_relu_backward(grad, self, slope):
    """``grad`` where ``self > 0``, else ``grad * slope``."""
    g = grad._data
    out = np.asarray(np.where(self._data > 0, g, g * slope)).astype(g.dtype, copy=False)
    if needs_grad(grad, self):
        node = LeakyReluBackwardBackward0()
        node.self_, node.slope = self, slope
        return attach(node, out, (grad, self))
    return make(out)


@silent
def leaky_relu(input, negative_slope=0.01, inplace=False):
    data = input._data
    out = np.where(data > 0, data, data * data.dtype.type(negative_slope)).astype(data.dtype)
    if needs_grad(input):
        node = LeakyReluBackward0()
        node.self_, node.slope = input, negative_slope
        return attach(node, out, (input,))
    return make(out)


def _gelu_derivative(x, approximate):
    """gelu'(x) as an array, as torch's gelu_backward kernel computes it."""
    if approximate == "tanh":
        x_sq = x * x
        inner = _KBETA * (x + _KKAPPA * x_sq * x)
        tanh_inner = np.tanh(inner)
        left = 0.5 * x
        right = 1 + tanh_inner
        left_derivative = 0.5 * right
        right_derivative = (1 - tanh_inner * tanh_inner) * (_KBETA * (1 + 3 * _KKAPPA * x_sq))
        d = left_derivative + left * right_derivative
    else:
        cdf = 0.5 * (1 + erf(x * x.dtype.type(_SQRT1_2)))
        pdf = np.exp(-0.5 * x * x) * x.dtype.type(_GELU_PDF)
        d = cdf + x * pdf
    return np.asarray(d, x.dtype)


def gelu_backward(grad, self, approximate):
    """gelu's grad: torch's gelu_backward is an op, so a create_graph grad hangs from
    GeluBackwardBackward0."""
    return backward_op(
        GeluBackwardBackward0,
        lambda: _fused_times(grad, _gelu_derivative(_up(self._data), approximate)),
        (grad, self), grad_output=grad, self_=self, approximate=approximate)


def _gelu_second_derivative(x, approximate):
    """gelu''(x) written as torch's gelu_double_backward writes it, op for op (so that
    third-order graphs match too)."""
    if approximate == "tanh":
        return _gelu_tanh_second_derivative(x)
    x_sq = x * x
    pdf = mul_scalar(E.exp(mul_scalar(x_sq, -0.5)), _GELU_PDF)
    right = x_sq * pdf  # right operands first, as torch's compiled formula evaluates them
    return mul_scalar(pdf, 2) - right


def _gelu_tanh_second_derivative(x):
    """gelu''(x) for approximate="tanh", in torch's order of ops: with f = x / 2,
    g = 1 - tanh(inner)**2 and h = inner', it is 2 f'gh + fg'h + fgh'."""
    inner = mul_scalar(x + mul_scalar(E.pow(x, 3), _KKAPPA), _KBETA)
    tanh_inner = E.tanh(inner)
    sech_inner = rdiv_scalar(1, E.cosh(inner))
    f = mul_scalar(x, 0.5)
    g = rsub_scalar(1, tanh_inner * tanh_inner)
    h = mul_scalar(add_scalar(mul_scalar(x, 3 * _KKAPPA) * x, 1), _KBETA)
    f_prime_gh = mul_scalar(g, 0.5) * h
    right = E.neg(sech_inner) * tanh_inner
    g_prime = mul_scalar(sech_inner, 2) * right * h
    g_prime_fh = f * h * g_prime
    h_prime = mul_scalar(mul_scalar(x, 6 * _KKAPPA), _KBETA)
    h_prime_fg = f * g * h_prime
    return mul_scalar(f_prime_gh, 2) + g_prime_fh + h_prime_fg


GeluBackward0 = backward_node("GeluBackward0", saved=("self_",), fields=("approximate",),
                              self=lambda n, g: gelu_backward(g, n.self_, n.approximate))
GeluBackwardBackward0 = backward_node(
    "GeluBackwardBackward0", saved=("grad_output", "self_"), fields=("approximate",),
    grad_output=lambda n, g: gelu_backward(g, n.self_, n.approximate),
    self=lambda n, g: _gelu_double_backward(g, n.grad_output, n.self_, n.approximate))


def _gelu_double_backward(grad, grad_output, self, approximate):
    second = _gelu_second_derivative(self, approximate)  # computed first, as in torch
    return grad * grad_output * second


@silent
def gelu(input, approximate="none"):
    data = input._data
    x = _up(data)
    if approximate == "tanh":
        inner = _KBETA * (x + _KKAPPA * x * x * x)
        out = 0.5 * x * (1 + np.tanh(inner))
    elif approximate == "none":
        out = x * 0.5 * (1 + erf(x * x.dtype.type(_SQRT1_2)))
    else:
        raise RuntimeError("approximate argument must be either none or tanh.")
    out = np.asarray(out).astype(data.dtype)
    if needs_grad(input):
        node = GeluBackward0()
        node.self_, node.approximate = input, approximate
        return attach(node, out, (input,))
    return make(out)


def _silu_grad(n, g):
    """With grad mode on (create_graph) torch differentiates silu with ops, so the grad has
    a graph; otherwise with its fused kernel."""
    if _grad_mode.enabled:  # the right factor first, as torch's compiled formula
        sigmoid = E.sigmoid(n.self_)
        right = add_scalar(n.self_ * rsub_scalar(1.0, sigmoid), 1.0)
        return g * sigmoid * right
    x = _up(n.self_._data)
    s = 1 / (1 + np.exp(-x))
    return _fused_times(g, s * (1 + x * (1 - s)))


SiluBackward0 = backward_node("SiluBackward0", saved=("self_",), self=_silu_grad)


@silent
def silu(input, inplace=False):
    x = _up(input._data)
    out = np.asarray(x / (1 + np.exp(-x))).astype(input._data.dtype)
    if needs_grad(input):
        node = SiluBackward0()
        node.self_ = input
        return attach(node, out, (input,))
    return make(out)


SoftmaxBackward0 = backward_node("SoftmaxBackward0", saved=("_result",), fields=("dim",),
                                 self=lambda n, g: softmax_backward_data(g, n.result, n.dim))
SoftmaxBackwardDataBackward0 = backward_node(
    "SoftmaxBackwardDataBackward0", saved=("grad_output", "output"), fields=("dim",),
    grad_output=lambda n, g: softmax_backward_data(g, n.output, n.dim),
    output=lambda n, g: _softmax_double_backward(g, n.grad_output, n.dim, n.output))


def softmax_backward_data(grad, output, dim):
    """softmax's grad from its output: torch's _softmax_backward_data is an op, so a
    create_graph grad hangs from SoftmaxBackwardDataBackward0."""
    return backward_op(
        SoftmaxBackwardDataBackward0,
        lambda: _half_in_float(grad, output, dim, _softmax_grad) if _halves(grad, output)
        else (grad - R.sum(grad * output, (dim,), keepdim=True)) * output,
        (grad, output), grad_output=grad, output=output, dim=dim)


def _softmax_grad(g, y, axis):
    return (g - np.sum(g * y, axis=axis, keepdims=True)) * y


def _log_softmax_grad(g, y, axis):
    return g - np.exp(y) * np.sum(g, axis=axis, keepdims=True)


def _halves(grad, output):
    return grad._data.dtype == np.float16 and output._data.dtype == np.float16


def _half_in_float(grad, output, dim, formula):
    """ATen's softmax/log_softmax backward kernels on half: float math, rounded once (other
    dtypes run the formula on engine ops)."""
    g, y = grad._data, output._data
    axis = wrap_dim(dim, g.ndim) if g.ndim else None
    return make(np.asarray(formula(g.astype(np.float32), y.astype(np.float32), axis)
                           ).astype(np.float16))


def _softmax_double_backward(grad, grad_output, dim, output):
    """``grad_output * grad - sum(output * grad_output) * grad - grad_output * sum(output *
    grad)``, its terms made right to left, as torch's compiled formula evaluates them."""
    third = grad_output * R.sum(output * grad, (dim,), keepdim=True)
    second = R.sum(output * grad_output, (dim,), keepdim=True) * grad
    return grad_output * grad - second - third


LogSoftmaxBackward0 = backward_node(
    "LogSoftmaxBackward0", saved=("_result",), fields=("dim",),
    self=lambda n, g: log_softmax_backward_data(g, n.result, n.dim))
LogSoftmaxBackwardDataBackward0 = backward_node(
    "LogSoftmaxBackwardDataBackward0", saved=("grad_output", "output"), fields=("dim",),
    grad_output=lambda n, g: g - R.sum(g * E.exp(n.output), (n.dim,), keepdim=True),
    output=lambda n, g: _log_softmax_double_backward(g, n.grad_output, n.dim, n.output))


def _log_softmax_double_backward(grad, grad_output, dim, output):
    exp = E.exp(output)  # the right operand first, as torch's compiled formula
    return -R.sum(grad_output, (dim,), keepdim=True) * exp * grad


def log_softmax_backward_data(grad, output, dim):
    """log_softmax's grad from its output: an op of torch's own, like softmax's."""
    return backward_op(
        LogSoftmaxBackwardDataBackward0,
        lambda: _half_in_float(grad, output, dim, _log_softmax_grad) if _halves(grad, output)
        else grad - E.exp(output) * R.sum(grad, (dim,), keepdim=True),
        (grad, output), grad_output=grad, output=output, dim=dim)


def _softmax_dim(name, ndim, dim, stacklevel):
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. Change the call to "
            "include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
        dim = 0 if ndim in (0, 1, 3) else 1
    return dim


def _softmax_input(input, dtype, kernel):
    data = input._data
    if dtype is not None:
        input = E.to(input, dtype)
        data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{input.dtype.scalar_name}'")
    return input, data


def _max(data, axis):
    """The max along ``axis`` (kept), or zeros for an empty input (numpy's max refuses)."""
    if data.size == 0:
        shape = list(data.shape)
        if axis is not None:
            shape[axis] = 1
        return np.zeros(shape, data.dtype)
    return np.max(data, axis=axis, keepdims=True)


@silent
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    dim = _softmax_dim("softmax", input._data.ndim, dim, _stacklevel + 1)
    input, data = _softmax_input(input, dtype, "softmax_lastdim_kernel_impl")
    d = wrap_dim(dim, data.ndim)
    axis = d if data.ndim else None
    x = _up(data)  # half in float, rounded once (ATen's kernels)
    e = np.exp(x - _max(x, axis))
    out = np.asarray(e / np.sum(e, axis=axis, keepdims=True), data.dtype)
    if needs_grad(input):
        node = SoftmaxBackward0()
        node._result, node.dim = out, d
        return attach(node, out, (input,))
    return make(out)


@silent
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    dim = _softmax_dim("log_softmax", input._data.ndim, dim, _stacklevel + 1)
    input, data = _softmax_input(input, dtype, "log_softmax_lastdim_kernel_impl")
    d = wrap_dim(dim, data.ndim)
    axis = d if data.ndim else None
    x = _up(data)  # half in float, rounded once (ATen's kernels)
    shifted = x - _max(x, axis)
    log_sum = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    if data.dtype == np.float16 and data.ndim and d == data.ndim - 1:
        # the last-dim kernel keeps the sum, then its log, in half
        total = np.sum(np.exp(shifted), axis=axis, keepdims=True).astype(np.float16)
        log_sum = np.log(total.astype(np.float32)).astype(np.float16).astype(np.float32)
    out = np.asarray(shifted - log_sum, data.dtype)
    if needs_grad(input):
        node = LogSoftmaxBackward0()
        node._result, node.dim = out, d
        return attach(node, out, (input,))
    return make(out)


def sigmoid(input):
    return E.sigmoid(input)


def tanh(input):
    return E.tanh(input)


def relu(input, inplace=False):
    """torch.nn.functional.relu (torch.relu is ``elementwise.relu``)."""
    if not isinstance(input, Tensor):
        raise argument_error("relu", 1, "input", "Tensor", input)
    if inplace:
        raise NotImplementedError("engine does not implement in-place ops yet (relu inplace=True)")
    return E.relu(input)


def linear(input, weight, bias=None):
    """torch's ``linear``: addmm for a 2-D input with a bias, a flattened addmm for other
    contiguous inputs with a bias, matmul (plus an add) otherwise."""
    x = input._data
    if bias is not None:
        if x.ndim == 2:
            return L.addmm(bias, input, S.t(weight))
        if x.flags.c_contiguous and bias._data.ndim == 1 or x.ndim == 3 and x.flags.c_contiguous:
            flat = math.prod(x.shape[:-1])
            result = L.addmm(bias, S.reshape(input, (flat, x.shape[-1])), S.t(weight))
            return S.view(result, x.shape[:-1] + (result._data.shape[1],))
    output = L.matmul(input, S.t(weight))
    if bias is not None:
        output = E.add(output, bias)
    return output


# ================================================================= losses
_REDUCTIONS = ("none", "mean", "sum")


def _reduction(reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _size_warning(input, target, stacklevel=4):
    if input._data.shape != target._data.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            UserWarning, stacklevel=stacklevel)


def _reduce_array(values, reduction):
    if reduction == "none":
        return values
    if reduction == "sum":
        return np.asarray(values.sum(), values.dtype)
    return np.asarray(values.mean(), values.dtype)


MseLossBackward0 = backward_node(
    "MseLossBackward0", saved=("self_", "target"), fields=("reduction",),
    self=lambda n, g: mse_loss_backward(g, n.self_, n.target, n.reduction),
    target=lambda n, g: mse_loss_backward(g, n.target, n.self_, n.reduction))
MseLossBackwardBackward0 = backward_node(
    "MseLossBackwardBackward0", saved=("grad_output", "self_", "target"), fields=("reduction",),
    grad_output=lambda n, g: mse_loss_backward(g, n.self_, n.target, n.reduction),
    self=lambda n, g: _mse_loss_double_backward(g * n.grad_output, n.self_, n.reduction),
    target=lambda n, g: -_mse_loss_double_backward(g * n.grad_output, n.target, n.reduction))


def mse_loss_backward(grad, self, target, reduction):
    """``2 * (self - target) * grad`` (over the count for a mean): an op of torch's own, so
    a create_graph grad hangs from MseLossBackwardBackward0."""
    scale = 2.0 / self._data.size if reduction == "mean" else 2.0
    return backward_op(
        MseLossBackwardBackward0, lambda: (scale * grad) * (self - target),
        (grad, self, target), grad_output=grad, self_=self, target=target, reduction=reduction)


def _mse_loss_double_backward(grad, input, reduction):
    grad_input = mul_scalar(grad, 2)
    if reduction == "mean":
        grad_input = div_scalar(grad_input, input._data.size)
    return grad_input


@silent
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if input._data.shape != target._data.shape:
        shape = np.broadcast_shapes(input._data.shape, target._data.shape) if _broadcasts(
            input, target) else None
        if shape is None:
            raise broadcast_error(input, target)
        input, target = _expand_to(input, shape), _expand_to(target, shape)
    dtype = result_type(input, target)
    diff = as_array(input, dtype.np) - as_array(target, dtype.np)
    out = _reduce_array(np.asarray(diff * diff), reduction)
    if needs_grad(input, target):
        node = MseLossBackward0()
        node.self_, node.target, node.reduction = input, target, reduction
        return attach(node, out, (input, target))
    return make(out)


def _expand_to(t, shape):
    """torch.broadcast_tensors: an operand already of the shape is returned as it is."""
    return t if t._data.shape == shape else S.expand(t, shape)


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a._data.shape, b._data.shape)
        return True
    except ValueError:
        return False


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if input._data.shape != target._data.shape and not _broadcasts(input, target):
        raise broadcast_error(input, target)
    z = E.abs(E.sub(input, target))
    if reduction == "none":
        return z
    return R.sum(z) if reduction == "sum" else R.mean(z)


# ----------------------------------------------------------------- nll / cross entropy
def _nll_loss_nd(input, target, weight, ignore_index, reduction):
    """torch's nll_loss_nd for 3-d and 5-d-or-more inputs: nll_loss2d on views of them as
    (N, C, 1, -1), an unreduced loss viewed back (ViewBackward0 on both sides)."""
    x, t = input._data, target._data
    out_size = x.shape[:1] + x.shape[2:]
    if t.shape[1:] != x.shape[2:]:
        raise RuntimeError(f"Expected target size {list(out_size)}, got {list(t.shape)}")
    n, c = x.shape[:2]
    flat = S.view(S.contiguous(input), (n, c, 1, -1) if x.size else (n, c, 0, 0))
    flat_target = S.view(S.contiguous(target), (n, 1, -1) if t.size else (n, 0, 0))
    out = nll_loss(flat, flat_target, weight, None, ignore_index, None, reduction)
    return S.view(out, out_size) if reduction == "none" else out


# nll_loss_backward differentiated: linear in grad_output (nll_loss again), constant in self
def _nll_double_backward(name):
    return backward_node(
        name, fields=("target", "weight", "reduction", "ignore_index"),
        grad_output=lambda n, g: nll_loss(g, n.target, n.weight, None, n.ignore_index, None,
                                          n.reduction),
        self=lambda n, g: zeros_like(g))
NllLossBackwardBackward0 = _nll_double_backward("NllLossBackwardBackward0")
NllLoss2DBackwardBackward0 = _nll_double_backward("NllLoss2DBackwardBackward0")


class _NllFull(Node):
    """nll_loss's grad for any input rank: -w[t] * grad at the target class.  torch's
    nll_loss_backward is an op: a create_graph grad hangs from the subclass's
    ``double_backward`` node."""

    __slots__ = ("shape", "rows", "w", "total", "reduction", "self_", "target", "weight",
                 "ignore_index")
    double_backward: type

    def apply(self, grad):
        return [backward_op(
            self.double_backward, lambda: make(self._grad(grad._data)), (grad, self.self_),
            target=self.target, weight=self.weight, reduction=self.reduction,
            ignore_index=self.ignore_index)]

    def _grad(self, gd):
        x_shape = self.shape
        if self.reduction == "mean":
            coeff = -self.w * (gd / self.total)
        elif self.reduction == "sum":
            coeff = -self.w * gd
        else:
            coeff = -self.w * gd.reshape(-1)
        if len(x_shape) == 1:
            out = np.zeros(x_shape, gd.dtype)
            out[self.rows] = coeff.reshape(()) if np.ndim(coeff) else coeff
            return out
        moved_shape = (math.prod(x_shape) // x_shape[1], x_shape[1])
        out = np.zeros(moved_shape, gd.dtype)
        out[np.arange(moved_shape[0]), self.rows] = coeff
        if len(x_shape) > 2:
            rest = (x_shape[0],) + x_shape[2:] + (x_shape[1],)
            out = np.moveaxis(out.reshape(rest), -1, 1)
        return np.ascontiguousarray(out)


class NllLossBackward0(_NllFull):
    __slots__ = ()
    double_backward = NllLossBackwardBackward0


class NllLoss2DBackward0(_NllFull):
    __slots__ = ()
    double_backward = NllLoss2DBackwardBackward0


@silent
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    x = input._data
    t = target._data
    if t.dtype not in (np.int64, np.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {target.dtype.scalar_name}")
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x.ndim})")
    if x.ndim >= 2 and x.shape[0] != (t.shape[0] if t.ndim else -1):
        raise ValueError(
            f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
            f"({t.shape[0] if t.ndim else 0}).")
    if x.ndim == 3 or x.ndim > 4:
        return _nll_loss_nd(input, target, weight, ignore_index, reduction)
    node_cls = NllLossBackward0
    if x.ndim == 4:  # (N, C, H, W): move C last and flatten, as nll_loss2d does
        node_cls = NllLoss2DBackward0
        moved = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
        rows_t = t.reshape(-1)
    else:
        moved, rows_t = x, t
    classes = moved.shape[-1]
    t64 = rows_t.astype(np.int64)
    valid = t64 != ignore_index
    bad = valid & ((t64 < 0) | (t64 >= classes))
    if bad.any():
        raise IndexError(f"Target {int(t64[bad].flat[0])} is out of bounds.")
    safe = np.where(valid, t64, 0)
    w = np.ones(classes, x.dtype) if weight is None else weight._data.astype(x.dtype)
    wt = np.where(valid, w[safe], 0).astype(x.dtype)
    if moved.ndim == 1:
        picked = moved[safe] if valid else x.dtype.type(0)
        losses = np.asarray(-picked * wt, x.dtype)
    else:
        picked = np.take_along_axis(moved, safe[:, None], 1)[:, 0]
        losses = np.asarray(-picked * wt, x.dtype)
    total = np.asarray(wt.sum(), x.dtype)
    if reduction == "none":
        out = losses.reshape(t.shape)
    elif x.dtype == np.float16:
        out = _half_cascade(picked, wt, valid, weight is not None, reduction)
    elif reduction == "sum":
        out = np.asarray(losses.sum(), x.dtype)
    else:
        out = np.asarray(losses.sum() / total, x.dtype)
    if needs_grad(input):
        node = node_cls()
        node.shape, node.w, node.total, node.reduction = x.shape, wt, total, reduction
        node.rows = np.where(valid, t.reshape(-1).astype(np.int64) if t.ndim else
                             t.astype(np.int64), 0)
        node.self_, node.target, node.weight, node.ignore_index = (input, target, weight,
                                                                   ignore_index)
        return attach(node, out, (input,))
    return make(out)


def _half_cascade(picked, wt, valid, weighted, reduction):
    """torch's half nll_loss sum: ``loss -= x * w`` into half partial sums, an element's sum
    passed up a level whenever its index is a multiple of 16**level, the levels then added,
    the mean divided by the (likewise summed) total weight; every step rounded to half."""
    half = np.float16
    levels, power = 8, 4
    mask = (1 << power) - 1
    loss = [half(0)] * levels
    weights = [half(0)] * levels
    picked = np.atleast_1d(picked)
    ignored = 0
    for i in range(picked.size):
        if not np.atleast_1d(valid)[i]:
            ignored += 1
            continue
        if weighted:
            w = half(np.atleast_1d(wt)[i])
            loss[0] = half(np.float32(loss[0]) - np.float32(half(picked[i] * w)))
            weights[0] = half(np.float32(weights[0]) + np.float32(w))
        else:
            loss[0] = half(np.float32(loss[0]) - np.float32(picked[i]))
        for j in range(levels - 1):
            if i & (mask << (j * power)):
                break
            loss[j + 1] = half(np.float32(loss[j + 1]) + np.float32(loss[j]))
            weights[j + 1] = half(np.float32(weights[j + 1]) + np.float32(weights[j]))
            loss[j], weights[j] = half(0), half(0)
    out = half(0)
    for v in loss:
        out = half(np.float32(out) + np.float32(v))
    if reduction == "mean":
        if weighted:
            total = half(0)
            for v in weights:
                total = half(np.float32(total) + np.float32(v))
        else:
            total = half(picked.size - ignored)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = half(np.float32(out) / np.float32(total))
    return np.asarray(out, half)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    reduction = _reduction(reduction, size_average, reduce)
    class_dim = 0 if input._data.ndim == 1 else 1
    if target._data.dtype.kind == "f":  # class probabilities
        if label_smoothing:  # torch mixes the targets with the uniform distribution
            n_classes = input._data.shape[class_dim]
            target = add_scalar(mul_scalar(target, 1 - label_smoothing),
                                  label_smoothing / n_classes)
        logp = log_softmax(input, class_dim)
        product = E.mul(logp, target)
        if weight is not None:
            shape = [1] * input._data.ndim
            shape[class_dim] = -1
            product = E.mul(product, S.reshape(weight, tuple(shape)))
        if reduction == "none":
            return E.neg(R.sum(product, (class_dim,)))
        if reduction == "sum":
            return E.neg(R.sum(product))
        n = input._data.size // input._data.shape[class_dim] if input._data.ndim else 1
        return div_scalar(E.neg(R.sum(product)), n)  # div.Scalar: DivBackward1
    if label_smoothing:
        return _label_smoothed(input, target, weight, ignore_index, reduction, label_smoothing,
                               class_dim)
    return nll_loss(log_softmax(input, class_dim), target, weight, None, ignore_index, None,
                    reduction)


def _label_smoothed(input, target, weight, ignore_index, reduction, smoothing, class_dim):
    """torch's cross_entropy_loss_label_smoothing, op for op (class-index targets): the nll
    loss mixed with the mean negative log-probability over classes, ignored targets zeroed."""
    logp = log_softmax(input, class_dim)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    n_classes = input._data.shape[class_dim]
    ignore = target._data == ignore_index
    if weight is not None:
        shape = [1] * input._data.ndim
        shape[class_dim] = n_classes
        logp = E.mul(logp, S.reshape(weight, tuple(shape)))
    smooth = masked_fill(E.neg(R.sum(logp, (class_dim,))), ignore, 0.0)
    if reduction == "mean":
        if weight is not None:
            kept = make(weight._data[target._data[~ignore].reshape(-1)])
            ret = E.div(R.sum(smooth), R.sum(kept))
        else:
            ret = E.div(R.sum(smooth), R.sum(make(~ignore)))
    elif reduction == "sum":
        ret = R.sum(smooth)
    else:
        ret = smooth
    return E.add(mul_scalar(nll, 1 - smoothing), mul_scalar(ret, smoothing / n_classes))


# ----------------------------------------------------------------- binary cross entropy
_EPSILON = 1e-12


def _bce_slope(self, target, weight, reduction):
    """d bce / d input as an array, as torch's binary_cross_entropy_backward kernel."""
    x, t = self._data, target._data
    d = (x - t) / np.maximum((1 - x) * x, _EPSILON)
    if weight is not None:
        d = d * weight._data
    if reduction == "mean":
        d = d / x.size
    return np.asarray(d, x.dtype)


def binary_cross_entropy_backward(grad, self, target, weight, reduction):
    """bce's grad in its input: an op of torch's own, so a create_graph grad hangs from
    BinaryCrossEntropyBackwardBackward0."""
    return backward_op(
        BinaryCrossEntropyBackwardBackward0,
        lambda: grad * make(_bce_slope(self, target, weight, reduction)), (grad, self, target),
        grad_output=grad, self_=self, target=target, weight=weight, reduction=reduction)


def _bce_target_backward(grad, self, target, weight, reduction):
    """torch's binary_cross_entropy_target_backward, op for op: ``-logit(self) * grad``."""
    grad_target = mul_inplace(E.neg(logit(self)), grad)
    return _bce_scale(grad_target, weight, reduction, target)


def _bce_double_backward_grad_output(grad, input, target, weight, reduction):
    """``(input - target) / ((input + eps) * (1 - input + eps)) * grad``, right operands
    first, as torch's compiled formula evaluates them."""
    right = add_scalar(rsub_scalar(1, input), _EPSILON)
    denominator = add_scalar(input, _EPSILON) * right
    ggo = mul_inplace((input - target) / denominator, grad)
    return _bce_scale(ggo, weight, reduction, input)


def _bce_double_backward(grad_output, grad, input, target, weight, reduction):
    """bce's second derivative in its input, times ``grad * grad_output``, as torch's
    binary_cross_entropy_double_backward computes it (right operands first)."""
    inp_pl_eps = add_scalar(input, _EPSILON)
    one_m_inp_pl_eps = add_scalar(rsub_scalar(1, input), _EPSILON)
    right = E.pow(one_m_inp_pl_eps, 2)
    denominator = E.pow(inp_pl_eps, 2) * right
    twice = mul_scalar(input, 2) * target
    numerator = input * input - twice + target
    gi = mul_inplace(numerator / denominator, grad * grad_output)
    return _bce_scale(gi, weight, reduction, input)


def _bce_scale(grad, weight, reduction, input):
    """The weight in place, the mean out of place: torch's double backward formulas."""
    if weight is not None:
        grad = mul_inplace(grad, weight)
    if reduction == "mean":
        grad = div_scalar(grad, input._data.size)
    return grad


def _bce_double_backward_target(grad, grad_output, self, target, weight, reduction):
    """``-grad * grad_output / max((1 - self) * self, eps)``, as torch's
    binary_cross_entropy_double_backward_target computes it."""
    res = -grad * grad_output
    if weight is not None:
        res = mul_inplace(res, weight)
    denom = mul_inplace(rsub_scalar(1, self), self)
    np.maximum(denom._data, _EPSILON, out=denom._data)  # torch clamps it without a graph
    res = div_inplace(res, denom)
    if reduction == "mean":
        res = div_scalar(res, target._data.size)
    return res


BinaryCrossEntropyBackward0 = backward_node(
    "BinaryCrossEntropyBackward0", saved=("self_", "target"), fields=("weight", "reduction"),
    self=lambda n, g: binary_cross_entropy_backward(g, n.self_, n.target, n.weight,
                                                    n.reduction),
    target=lambda n, g: _bce_target_backward(g, n.self_, n.target, n.weight, n.reduction))
BinaryCrossEntropyBackwardBackward0 = backward_node(
    "BinaryCrossEntropyBackwardBackward0", saved=("grad_output", "self_", "target"),
    fields=("weight", "reduction"),
    grad_output=lambda n, g: _bce_double_backward_grad_output(g, n.self_, n.target, n.weight,
                                                              n.reduction),
    self=lambda n, g: _bce_double_backward(n.grad_output, g, n.self_, n.target, n.weight,
                                           n.reduction),
    target=lambda n, g: _bce_double_backward_target(g, n.grad_output, n.self_, n.target,
                                                    n.weight, n.reduction))
LogitBackward0 = backward_node("LogitBackward0", saved=("self_",),
                               self=lambda n, g: _logit_backward(g, n.self_))


def _logit_backward(grad, self):
    """torch's infinitely_differentiable_logit_backward (no eps): NaN outside [0, 1]."""
    x = self._data
    inside = make((x >= 0) & (x <= 1))
    return E.where(inside, grad / (self * rsub_scalar(1.0, self)), float("nan"))


@silent
def logit(input):
    """log(x / (1 - x)) with LogitBackward0, for bce's target grad."""
    x = input._data
    out = np.asarray(np.log(x / (1 - x)), x.dtype)
    if needs_grad(input):
        node = LogitBackward0()
        node.self_ = input
        return attach(node, out, (input,))
    return make(out)


@silent
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size.")
    x, t = input._data, target._data
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if weight is not None and weight._data.shape != x.shape:
        weight = S.expand(weight, x.shape)
    log_x = np.maximum(np.log(x), -100)
    log_1mx = np.maximum(np.log1p(-x), -100)
    losses = (t - 1) * log_1mx - t * log_x
    if weight is not None:
        losses = losses * weight._data
    out = _reduce_array(np.asarray(losses, x.dtype), reduction)
    if needs_grad(input, target):
        node = BinaryCrossEntropyBackward0()
        node.self_, node.target, node.weight, node.reduction = input, target, weight, reduction
        return attach(node, out, (input, target))
    return make(out)


def _bcel_self_grad(n, g):
    """torch's binary_cross_entropy_with_logits_backward, op for op (as it runs in grad
    mode: out of place)."""
    x, t = n.self_, n.target
    if n.pos_weight is not None:
        pt = n.pos_weight * t
        grad_input = (add_scalar(pt, 1) - t) * E.sigmoid(x) - pt
    else:
        grad_input = E.sigmoid(x) - t
    return _bcel_scale(grad_input * g, n.weight, n.reduction, x)


def _bcel_target_grad(n, g):
    """torch's binary_cross_entropy_with_logits_target_backward, op for op."""
    x = n.self_
    if n.pos_weight is not None:
        grad_target = mul_inplace(log_sigmoid(-x) - log_sigmoid(x) * n.pos_weight, g)
    else:
        grad_target = -x * g
    return _bcel_scale(grad_target, n.weight, n.reduction, x)


def _bcel_scale(grad, weight, reduction, input):
    if weight is not None:
        grad = grad * weight
    if reduction == "mean":
        grad = div_scalar(grad, input._data.size)
    return grad


def _log_sigmoid(x):
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


LogSigmoidBackward0 = backward_node("LogSigmoidBackward0", saved=("self_",),
                                    self=lambda n, g: log_sigmoid_backward(g, n.self_))
LogSigmoidBackwardBackward0 = backward_node(
    "LogSigmoidBackwardBackward0", saved=("grad_output", "self_"),
    grad_output=lambda n, g: log_sigmoid_backward(g, n.self_),
    self=lambda n, g: _log_sigmoid_double_backward(g * n.grad_output, n.self_))


@silent
def log_sigmoid(input):
    """log(sigmoid(x)) with LogSigmoidBackward0, for the formulas that use it."""
    x = input._data
    out = np.asarray(_log_sigmoid(x.astype(np.float32) if x.dtype == np.float16 else x),
                     x.dtype)  # half computes in float
    if not out.flags.c_contiguous:  # log_sigmoid_forward allocates a contiguous output
        out = out.copy(order="C")
    if needs_grad(input):
        node = LogSigmoidBackward0()
        node.self_ = input
        return attach(node, out, (input,))
    return make(out)


def log_sigmoid_backward(grad, self):
    """``grad * sigmoid(-self)`` as torch's kernel computes it: an op of its own, so a
    create_graph grad hangs from LogSigmoidBackwardBackward0."""
    x = self._data
    up = x.astype(np.float32) if x.dtype == np.float16 else x  # half computes in float
    z = np.exp(-np.abs(up))
    derivative = np.where(up < 0, 1 - z / (1 + z), z / (1 + z))
    g = grad._data
    value = np.asarray(derivative * (g.astype(up.dtype) if g.dtype == np.float16 else g))
    return backward_op(LogSigmoidBackwardBackward0, lambda: make(value.astype(g.dtype)),
                         (grad, self), grad_output=grad, self_=self)


def _log_sigmoid_double_backward(grad, input):
    z = E.sigmoid(input)
    return grad * sub_scalar(z, 1) * z


BinaryCrossEntropyWithLogitsBackward0 = backward_node(
    "BinaryCrossEntropyWithLogitsBackward0", saved=("self_", "target"),
    fields=("weight", "pos_weight", "reduction"),
    self=_bcel_self_grad, target=_bcel_target_grad)


@silent
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    reduction = _reduction(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    x, t = input._data, target._data
    if pos_weight is not None:
        log_weight = (pos_weight._data - 1) * t + 1
        losses = (1 - t) * x - log_weight * _log_sigmoid(x)
    else:
        losses = (1 - t) * x - _log_sigmoid(x)
    if weight is not None:
        losses = losses * weight._data
    out = _reduce_array(np.asarray(losses, x.dtype), reduction)
    if needs_grad(input, target):
        node = BinaryCrossEntropyWithLogitsBackward0()
        node.self_, node.target, node.weight, node.reduction = input, target, weight, reduction
        node.pos_weight = pos_weight
        return attach(node, out, (input, target))
    return make(out)
