"""torch.nn.functional's activations and losses (re-exported by ``engine.nn.functional``).

Each op records the node torch records: the fused ones (LeakyReluBackward0, GeluBackward0,
SiluBackward0, SoftmaxBackward0, LogSoftmaxBackward0, MseLossBackward0, NllLossBackward0,
BinaryCrossEntropy(WithLogits)Backward0, AddmmBackward0 for linear) have their own formula;
the composite ones (l1_loss, cross_entropy, linear on other ranks) are built from engine ops
in torch's order.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import _ops as O
from . import _ops_linalg as L
from . import _ops_math as M
from . import _ops_shape as S
from ._grad_mode import state as _grad_mode
from ._node import Node, attach
from ._tensor import Tensor, make, wrap_dim

_erf = np.frompyfunc(math.erf, 1, 1)
_SQRT1_2 = math.sqrt(0.5)
_KBETA = math.sqrt(2.0) * (2.0 / math.sqrt(math.pi)) * 0.5
_KKAPPA = 0.044715


def erf(a):
    return _erf(a).astype(a.dtype) if a.ndim else np.asarray(math.erf(a), a.dtype)


def _grad_needed(*tensors):
    if not _grad_mode.enabled:
        return False
    return any(isinstance(t, Tensor) and t._requires_grad for t in tensors)


# ================================================================= activations
class LeakyReluBackward0(Node):
    __slots__ = ("self_", "slope")
    saved = ("self_",)
    formulas = (lambda n, g: leaky_relu_backward(g, n.self_, n.slope),)


class LeakyReluBackwardBackward0(Node):
    """torch's leaky_relu_backward is an op: a create_graph grad hangs from this node."""

    __slots__ = ("self_", "slope")
    saved = ("self_",)
    formulas = (
        lambda n, g: leaky_relu_backward(g, n.self_, n.slope),                 # grad_output
        lambda n, g: O.D._zeros_like(g),                                        # self
    )


def leaky_relu_backward(grad, self, slope):
    """``grad`` where ``self > 0``, else ``grad * slope``."""
    g = grad._data
    out = np.asarray(np.where(self._data > 0, g, g * slope)).astype(g.dtype, copy=False)
    if _grad_needed(grad, self):
        node = LeakyReluBackwardBackward0()
        node.self_, node.slope = self, slope
        return attach(node, out, (grad, self))
    return make(out)


@O.silent
def leaky_relu(input, negative_slope=0.01, inplace=False):
    data = input._data
    out = np.where(data > 0, data, data * data.dtype.type(negative_slope)).astype(data.dtype)
    if _grad_needed(input):
        node = LeakyReluBackward0()
        node.self_, node.slope = input, negative_slope
        return attach(node, out, (input,))
    return make(out)


def _gelu_grad(n, g):
    x = n.self_._data
    if n.approximate == "tanh":
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
        pdf = np.exp(-0.5 * x * x) * x.dtype.type(2 / math.sqrt(math.pi) * _SQRT1_2 * 0.5)
        d = cdf + x * pdf
    return g * make(np.asarray(d, x.dtype))


class GeluBackward0(Node):
    __slots__ = ("self_", "approximate")
    saved = ("self_",)
    formulas = (_gelu_grad,)


@O.silent
def gelu(input, approximate="none"):
    x = input._data
    if approximate == "tanh":
        inner = _KBETA * (x + _KKAPPA * x * x * x)
        out = 0.5 * x * (1 + np.tanh(inner))
    elif approximate == "none":
        out = x * 0.5 * (1 + erf(x * x.dtype.type(_SQRT1_2)))
    else:
        raise RuntimeError("approximate argument must be either none or tanh.")
    out = np.asarray(out, x.dtype)
    if _grad_needed(input):
        node = GeluBackward0()
        node.self_, node.approximate = input, approximate
        return attach(node, out, (input,))
    return make(out)


def _silu_grad(n, g):
    x = n.self_._data
    s = 1 / (1 + np.exp(-x))
    return g * make(np.asarray(s * (1 + x * (1 - s)), x.dtype))


class SiluBackward0(Node):
    __slots__ = ("self_",)
    saved = ("self_",)
    formulas = (_silu_grad,)


@O.silent
def silu(input, inplace=False):
    x = input._data
    out = np.asarray(x / (1 + np.exp(-x)), x.dtype)
    if _grad_needed(input):
        node = SiluBackward0()
        node.self_ = input
        return attach(node, out, (input,))
    return make(out)


class SoftmaxBackward0(Node):
    __slots__ = ("_result", "dim")
    saved = ("_result",)
    formulas = (lambda n, g: (g - O.sum(g * n.result, (n.dim,), keepdim=True)) * n.result,)


class LogSoftmaxBackward0(Node):
    __slots__ = ("_result", "dim")
    saved = ("_result",)
    formulas = (lambda n, g: g - O.exp(n.result) * O.sum(g, (n.dim,), keepdim=True),)


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
        input = O.to(input, dtype)
        data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{input.dtype.scalar_name}'")
    return input, data


@O.silent
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    dim = _softmax_dim("softmax", input._data.ndim, dim, _stacklevel + 1)
    input, data = _softmax_input(input, dtype, "softmax_lastdim_kernel_impl")
    d = wrap_dim(dim, data.ndim)
    axis = d if data.ndim else None
    e = np.exp(data - np.max(data, axis=axis, keepdims=True))
    out = np.asarray(e / np.sum(e, axis=axis, keepdims=True), data.dtype)
    if _grad_needed(input):
        node = SoftmaxBackward0()
        node._result, node.dim = out, d
        return attach(node, out, (input,))
    return make(out)


@O.silent
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    dim = _softmax_dim("log_softmax", input._data.ndim, dim, _stacklevel + 1)
    input, data = _softmax_input(input, dtype, "log_softmax_lastdim_kernel_impl")
    d = wrap_dim(dim, data.ndim)
    axis = d if data.ndim else None
    shifted = data - np.max(data, axis=axis, keepdims=True)
    out = np.asarray(shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)),
                     data.dtype)
    if _grad_needed(input):
        node = LogSoftmaxBackward0()
        node._result, node.dim = out, d
        return attach(node, out, (input,))
    return make(out)


def sigmoid(input):
    return M.sigmoid(input)


def tanh(input):
    return M.tanh(input)


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
        output = O.add(output, bias)
    return output


def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return O.mul(input, make(np.zeros_like(input._data)))
    from ._creation import default_generator

    keep = default_generator.numpy.random(input._data.shape) >= p
    mask = make((keep / (1.0 - p)).astype(input._data.dtype))
    return O.mul(input, mask)


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


def _mse_self_grad(n, g):
    scale = 2.0 / n.count if n.reduction == "mean" else 2.0
    return (scale * g) * (n.self_ - n.target)


class MseLossBackward0(Node):
    __slots__ = ("self_", "target", "reduction", "count")
    saved = ("self_", "target")
    formulas = (
        _mse_self_grad,                                   # self
        lambda n, g: O.neg(_mse_self_grad(n, g)),         # target
    )


@O.silent
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if input._data.shape != target._data.shape:
        shape = np.broadcast_shapes(input._data.shape, target._data.shape) if _broadcasts(
            input, target) else None
        if shape is None:
            raise O.broadcast_error(input, target)
        input, target = O.expand(input, shape), O.expand(target, shape)
    dtype = O.result_type(input, target)
    diff = O.as_array(input, dtype.np) - O.as_array(target, dtype.np)
    out = _reduce_array(np.asarray(diff * diff), reduction)
    if _grad_needed(input, target):
        node = MseLossBackward0()
        node.self_, node.target, node.reduction = input, target, reduction
        node.count = diff.size
        return attach(node, out, (input, target))
    return make(out)


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
        raise O.broadcast_error(input, target)
    z = O.abs(O.sub(input, target))
    if reduction == "none":
        return z
    return O.sum(z) if reduction == "sum" else O.mean(z)


# ----------------------------------------------------------------- nll / cross entropy
class NllLossBackward0:  # the name; the node class is built on _NllFull below
    pass


class NllLoss2DBackward0:
    pass


@O.silent
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
    node_cls = NllLossBackward0
    if x.ndim > 2:  # (N, C, d1, ...): move C last and flatten, as nll_loss2d does
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
    elif reduction == "sum":
        out = np.asarray(losses.sum(), x.dtype)
    else:
        out = np.asarray(losses.sum() / total, x.dtype)
    if _grad_needed(input):
        node = _NllNode(node_cls, x, t, wt, valid, total, reduction, ignore_index)
        return attach(node, out, (input,))
    return make(out)


class _NllFull(Node):
    """nll_loss's grad for any input rank: -w[t] * grad at the target class."""

    __slots__ = ("shape", "target", "w", "total", "reduction")

    def apply(self, grad):
        gd = grad._data
        x_shape = self.shape
        if self.reduction == "mean":
            coeff = -self.w * (gd / self.total)
        elif self.reduction == "sum":
            coeff = -self.w * gd
        else:
            coeff = -self.w * gd.reshape(-1)
        if len(x_shape) == 1:
            out = np.zeros(x_shape, gd.dtype)
            out[self.target] = coeff.reshape(()) if np.ndim(coeff) else coeff
            return (make(out),)
        moved_shape = (math.prod(x_shape) // x_shape[1], x_shape[1])
        out = np.zeros(moved_shape, gd.dtype)
        out[np.arange(moved_shape[0]), self.target] = coeff
        if len(x_shape) > 2:
            rest = (x_shape[0],) + x_shape[2:] + (x_shape[1],)
            out = np.moveaxis(out.reshape(rest), -1, 1)
        return (make(np.ascontiguousarray(out)),)


_NLL_NODES: dict = {}


def _NllNode(node_cls, x, t, wt, valid, total, reduction, ignore_index):  # noqa: N802
    name = node_cls.__name__
    cls = _NLL_NODES.get(name)
    if cls is None:
        cls = type(name, (_NllFull,), {"__slots__": ()})
        _NLL_NODES[name] = cls
    node = cls()
    node.shape = x.shape
    node.target = np.where(valid, t.reshape(-1).astype(np.int64) if t.ndim else
                           t.astype(np.int64), 0)
    node.w = wt
    node.total = total
    node.reduction = reduction
    return node


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    reduction = _reduction(reduction, size_average, reduce)
    class_dim = 0 if input._data.ndim == 1 else 1
    if target._data.dtype.kind == "f":  # class probabilities
        logp = log_softmax(input, class_dim)
        product = O.mul(logp, target)
        if weight is not None:
            shape = [1] * input._data.ndim
            shape[class_dim] = -1
            product = O.mul(product, S.reshape(weight, tuple(shape)))
        if reduction == "none":
            return O.neg(O.sum(product, (class_dim,)))
        if reduction == "sum":
            return O.neg(O.sum(product))
        n = input._data.size // input._data.shape[class_dim] if input._data.ndim else 1
        return _div_scalar(O.neg(O.sum(product)), n)
    if label_smoothing:
        raise NotImplementedError("engine does not implement cross_entropy label_smoothing")
    return nll_loss(log_softmax(input, class_dim), target, weight, None, ignore_index, None,
                    reduction)


class DivBackward1(Node):
    """Division by a Python scalar inside a C++ composite (``div.Scalar``)."""

    __slots__ = ("other",)
    formulas = (lambda n, g: g / n.other,)


def _div_scalar(input, other):
    out = np.asarray(input._data / input._data.dtype.type(other))
    if _grad_needed(input):
        node = DivBackward1()
        node.other = other
        return attach(node, out, (input,))
    return make(out)


# ----------------------------------------------------------------- binary cross entropy
_EPSILON = 1e-12


def _bce_self_grad(n, g):
    x, t = n.self_._data, n.target._data
    d = (x - t) / np.maximum((1 - x) * x, _EPSILON)
    if n.weight is not None:
        d = d * n.weight._data
    if n.reduction == "mean":
        d = d / x.size
    return g * make(np.asarray(d, x.dtype))


def _bce_target_grad(n, g):
    x = n.self_._data
    d = np.maximum(np.log1p(-x), -100) - np.maximum(np.log(x), -100)
    if n.weight is not None:
        d = d * n.weight._data
    if n.reduction == "mean":
        d = d / x.size
    return g * make(np.asarray(d, x.dtype))


class BinaryCrossEntropyBackward0(Node):
    __slots__ = ("self_", "target", "weight", "reduction")
    saved = ("self_", "target")
    formulas = (_bce_self_grad, _bce_target_grad)


@O.silent
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
        weight = O.expand(weight, x.shape)
    log_x = np.maximum(np.log(x), -100)
    log_1mx = np.maximum(np.log1p(-x), -100)
    losses = (t - 1) * log_1mx - t * log_x
    if weight is not None:
        losses = losses * weight._data
    out = _reduce_array(np.asarray(losses, x.dtype), reduction)
    if _grad_needed(input, target):
        node = BinaryCrossEntropyBackward0()
        node.self_, node.target, node.weight, node.reduction = input, target, weight, reduction
        return attach(node, out, (input, target))
    return make(out)


def _bcel_self_grad(n, g):
    x, t = n.self_._data, n.target._data
    s = 1 / (1 + np.exp(-x))
    if n.pos_weight is not None:
        log_weight = (n.pos_weight._data - 1) * t + 1
        d = (1 - t) - log_weight * (1 - s)
    else:
        d = s - t
    if n.weight is not None:
        d = d * n.weight._data
    if n.reduction == "mean":
        d = d / x.size
    return g * make(np.asarray(d, x.dtype))


def _bcel_target_grad(n, g):
    x = n.self_._data
    d = -x
    if n.pos_weight is not None:
        d = d - (n.pos_weight._data - 1) * _log_sigmoid(x)
    if n.weight is not None:
        d = d * n.weight._data
    if n.reduction == "mean":
        d = d / x.size
    return g * make(np.asarray(d, x.dtype))


def _log_sigmoid(x):
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


class BinaryCrossEntropyWithLogitsBackward0(Node):
    __slots__ = ("self_", "target", "weight", "pos_weight", "reduction")
    saved = ("self_", "target")
    formulas = (_bcel_self_grad, _bcel_target_grad)


@O.silent
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
    if _grad_needed(input, target):
        node = BinaryCrossEntropyWithLogitsBackward0()
        node.self_, node.target, node.weight, node.reduction = input, target, weight, reduction
        node.pos_weight = pos_weight
        return attach(node, out, (input, target))
    return make(out)
