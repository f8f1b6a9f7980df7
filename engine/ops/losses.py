"""torch.nn.functional's losses beyond mse/l1/nll/cross-entropy/bce (``ops.nn``) and the
distances: huber, smooth_l1, soft_margin, multi_margin, multilabel_margin (fused, with
torch's nodes), kl_div, poisson_nll, gaussian_nll, margin_ranking, hinge_embedding,
multilabel_soft_margin, cosine_embedding, triplet_margin (+ with a distance function),
ctc_loss, cosine_similarity, pairwise_distance and pdist.

The fused ones record torch's node (HuberLossBackward0, SoftMarginLossBackward0,
MultiMarginLossBackward0, PdistBackward0, CtcLossBackward0 ...); their grads are torch's
backward ops, hung under create_graph from the ``...BackwardBackward0`` node torch has for
them (or from its NotImplemented node, where torch has no second derivative).  The
composite ones are ATen's or torch.nn.functional's compositions, op for op, so their graphs
are torch's (``margin - x`` is RsubBackward1, ``1 - cos`` a SubBackward0, an in-place
``clamp_min_`` a ClampMinBackward0 ...).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._dtype import FROM_NUMPY, float32, result_type
from .._tensor import Tensor, make, wrap_dim
from ..autograd.grad_mode import no_grad
from ..autograd.node import attach, backward_node
from ..runtime.quiet import silent
from . import elementwise as E
from . import nn as N
from . import reductions as R
from . import shape as S
from .formulas import (
    add_scalar,
    backward_op,
    div_scalar,
    masked_fill,
    mul_scalar,
    rsub_scalar,
    sub_scalar,
)
from .operands import argument_error, broadcast_error, needs_grad

_EPSILON = float(np.float32(1e-12))  # ATen's `constexpr float EPSILON = 1e-12`


# ================================================================= reductions
def _legacy(size_average, reduce, reduction):
    """torch's _Reduction: the legacy ``size_average``/``reduce`` pair, with its warning."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    legacy = "none" if not reduce else ("mean" if size_average else "sum")
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{legacy}' instead.", UserWarning, stacklevel=4)
    return legacy


def _check_reduction(reduction, extra=()):
    if reduction not in ("none", "mean", "sum", *extra):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _apply(loss, reduction):
    """ATen's apply_loss_reduction."""
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    return loss


def _reduce(values, reduction):
    if reduction == "none":
        return values
    total = values.sum() if reduction == "sum" else values.mean()
    return np.asarray(total, values.dtype)


def _not_differentiable(name, arg, value):
    if isinstance(value, Tensor) and needs_grad(value):
        raise RuntimeError(
            f"The function '{name}' is not differentiable with respect to argument '{arg}'. "
            "This input cannot have requires_grad True.")


def _kernel_dtype(input, kernel):
    data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{FROM_NUMPY[data.dtype].scalar_name}'")


def _broadcast_pair(input, target, stacklevel=4):
    """torch.nn.functional's size warning, then ``torch.broadcast_tensors``."""
    N._size_warning(input, target, stacklevel)
    a, b = input._data.shape, target._data.shape
    if a == b:
        return input, target
    try:
        shape = np.broadcast_shapes(a, b)
    except ValueError:
        raise broadcast_error(input, target) from None
    return N._expand_to(input, shape), N._expand_to(target, shape)


def _plus(t, scalar):
    """``t + scalar`` as ATen's C++ writes it: add.Scalar (AddBackward1) on a float tensor;
    an integer tensor promotes to the default float dtype."""
    return add_scalar(t, scalar) if t._data.dtype.kind == "f" else E.add(t, scalar)


def _up(a):
    """Half computes in float, its opmath type (rounded once at the end)."""
    if a.dtype != np.float16:
        return a
    # an expanded (stride 0) input computes into a contiguous result, as TensorIterator's
    return a.astype(np.float32, order="C" if 0 in a.strides else "K")


def _norm_of(reduction, numel):
    return 1.0 / numel if reduction == "mean" else 1.0


# ================================================================= huber, smooth_l1
def _huber_slope(x, t, delta, norm):
    d = x - t
    dt = d.dtype.type
    return np.where(d <= -delta, dt(-norm * delta),
                    np.where(d >= delta, dt(norm * delta), d * dt(norm)))


def huber_loss_backward(grad, self, target, reduction, delta):
    """torch's huber_loss_backward (an op: HuberLossBackwardBackward0)."""
    def value():
        x, t, g = (_up(a._data) for a in (self, target, grad))
        slope = _huber_slope(x, t, delta, _norm_of(reduction, x.size))
        return make(np.asarray(slope * g).astype(self._data.dtype))

    return backward_op(HuberLossBackwardBackward0, value, (grad, self, target), grad_output=grad,
                       self_=self, target=target, reduction=reduction, delta=delta)


def _inside(self, target, bound, like):
    return make(np.asarray(np.abs(self._data - target._data) < bound, like._data.dtype))


def _huber_double_backward(grad, self, target, reduction, delta):
    out = grad * _inside(self, target, delta, grad)
    return div_scalar(out, self._data.size) if reduction == "mean" else out


def _huber_double_backward_grad_output(grad, grad_output, self, target, reduction, delta):
    if reduction == "none":
        return huber_loss_backward(grad, self, target, reduction, delta)
    ones = make(np.ones_like(grad_output._data))
    return R.sum(huber_loss_backward(ones, self, target, reduction, delta) * grad)


HuberLossBackwardBackward0 = backward_node(
    "HuberLossBackwardBackward0", saved=("grad_output", "self_", "target"),
    fields=("reduction", "delta"),
    grad_output=lambda n, g: _huber_double_backward_grad_output(
        g, n.grad_output, n.self_, n.target, n.reduction, n.delta),
    self=lambda n, g: _huber_double_backward(g * n.grad_output, n.self_, n.target,
                                             n.reduction, n.delta),
    target=lambda n, g: -_huber_double_backward(g * n.grad_output, n.self_, n.target,
                                                n.reduction, n.delta))
HuberLossBackward0 = backward_node(
    "HuberLossBackward0", saved=("self_", "target"), fields=("reduction", "delta"),
    self=lambda n, g: huber_loss_backward(g, n.self_, n.target, n.reduction, n.delta),
    target=lambda n, g: huber_loss_backward(g, n.target, n.self_, n.reduction, n.delta))


@silent
def _huber(input, target, reduction, delta):
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _kernel_dtype(input, "huber_cpu")
    dtype = result_type(input, target)
    x, t = (_up(a._data.astype(dtype.np, copy=False)) for a in (input, target))
    tt = x.dtype.type
    z = np.abs(x - t)
    loss = np.where(z < delta, tt(0.5) * z * z, tt(delta) * (z - tt(0.5) * tt(delta)))
    out = _reduce(np.asarray(loss).astype(dtype.np), reduction)
    if needs_grad(input, target):
        node = HuberLossBackward0()
        node.self_, node.target, node.reduction, node.delta = input, target, reduction, delta
        return attach(node, out, (input, target))
    return make(out)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    input, target = _broadcast_pair(input, target)
    if weight is None:
        return _huber(input, target, _check_reduction(reduction), delta)
    if weight._data.shape != input._data.shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = _huber(input, target, "none", delta) * weight
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
    return _apply(weighted, reduction)


def _smooth_l1_slope(x, t, beta, norm):
    d = x - t
    dt = d.dtype.type
    return np.where(d <= -beta, dt(-norm), np.where(d >= beta, dt(norm),
                                                    d * dt(norm) / dt(beta)))


def smooth_l1_loss_backward(grad, self, target, reduction, beta):
    """torch's smooth_l1_loss_backward (an op: SmoothL1LossBackwardBackward0)."""
    def value():
        x, t, g = (_up(a._data) for a in (self, target, grad))
        slope = _smooth_l1_slope(x, t, beta, _norm_of(reduction, x.size))
        return make(np.asarray(slope * g).astype(self._data.dtype))

    return backward_op(SmoothL1LossBackwardBackward0, value, (grad, self, target),
                       grad_output=grad, self_=self, target=target, reduction=reduction,
                       beta=beta)


def _smooth_l1_double_backward(grad, self, target, reduction, beta):
    out = div_scalar(grad * _inside(self, target, beta, grad), beta)
    return div_scalar(out, self._data.size) if reduction == "mean" else out


SmoothL1LossBackwardBackward0 = backward_node(
    "SmoothL1LossBackwardBackward0", saved=("grad_output", "self_", "target"),
    fields=("reduction", "beta"),
    grad_output=lambda n, g: smooth_l1_loss_backward(g, n.self_, n.target, n.reduction,
                                                     n.beta),
    self=lambda n, g: _smooth_l1_double_backward(g * n.grad_output, n.self_, n.target,
                                                 n.reduction, n.beta),
    target=lambda n, g: -_smooth_l1_double_backward(g * n.grad_output, n.self_, n.target,
                                                    n.reduction, n.beta))
SmoothL1LossBackward0 = backward_node(
    "SmoothL1LossBackward0", saved=("self_", "target"), fields=("reduction", "beta"),
    self=lambda n, g: smooth_l1_loss_backward(g, n.self_, n.target, n.reduction, n.beta),
    target=lambda n, g: smooth_l1_loss_backward(g, n.target, n.self_, n.reduction, n.beta))


@silent
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
                   beta=1.0):
    N._size_warning(input, target, 3)
    reduction = _check_reduction(_legacy(size_average, reduce, reduction))
    input, target = _broadcast_pair(input, target, 10)  # warned above
    if beta == 0.0:
        return N.l1_loss(input, target, reduction=reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _kernel_dtype(input, "smooth_l1_cpu")
    dtype = result_type(input, target)
    x, t = (_up(a._data.astype(dtype.np, copy=False)) for a in (input, target))
    tt = x.dtype.type
    z = np.abs(x - t)
    loss = np.where(z < beta, tt(0.5) * z * z / tt(beta), z - tt(0.5) * tt(beta))
    out = _reduce(np.asarray(loss).astype(dtype.np), reduction)
    if needs_grad(input, target):
        node = SmoothL1LossBackward0()
        node.self_, node.target, node.reduction, node.beta = input, target, reduction, beta
        return attach(node, out, (input, target))
    return make(out)


# ================================================================= soft margin
def soft_margin_loss_backward(grad, self, target, reduction):
    """``-norm * target * z / (1 + z) * grad`` with ``z = exp(-target * self)`` (an op:
    SoftMarginLossBackwardBackward0)."""
    def value():
        x = self._data
        t = target._data.astype(x.dtype, copy=False)
        z = np.exp(-t * x)
        norm = x.dtype.type(-_norm_of(reduction, x.size))
        return make(np.asarray(t * z * norm / (z + 1) * grad._data, x.dtype))

    return backward_op(SoftMarginLossBackwardBackward0, value, (grad, self), grad_output=grad,
                       self_=self, target=target, reduction=reduction)


def _soft_margin_double_backward(grad, self, target, reduction):
    z = E.exp(self * -target)
    zplus1 = add_scalar(z, 1)
    out = grad * (target * target) * z / (zplus1 * zplus1)
    return div_scalar(out, self._data.size) if reduction == "mean" else out


def _soft_margin_double_backward_grad_output(grad, grad_output, self, target, reduction):
    if reduction == "none":
        return soft_margin_loss_backward(grad, self, target, reduction)
    ones = make(np.ones_like(grad_output._data))
    return R.sum(soft_margin_loss_backward(ones, self, target, reduction) * grad)


SoftMarginLossBackwardBackward0 = backward_node(
    "SoftMarginLossBackwardBackward0", saved=("grad_output", "self_"),
    fields=("target", "reduction"),
    grad_output=lambda n, g: _soft_margin_double_backward_grad_output(
        g, n.grad_output, n.self_, n.target, n.reduction),
    self=lambda n, g: _soft_margin_double_backward(g * n.grad_output, n.self_, n.target,
                                                   n.reduction))
SoftMarginLossBackward0 = backward_node(
    "SoftMarginLossBackward0", saved=("self_",), fields=("target", "reduction"),
    self=lambda n, g: soft_margin_loss_backward(g, n.self_, n.target, n.reduction))


@silent
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _check_reduction(_legacy(size_average, reduce, reduction))
    _not_differentiable("soft_margin_loss", "target", target)
    x, t = input._data, target._data
    try:
        shape = np.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise broadcast_error(input, target) from None
    dtype = result_type(input, target)
    if x.dtype.kind != "f":
        raise RuntimeError(f"result type {dtype.scalar_name} can't be cast to the desired "
                           f"output type {input.dtype.scalar_name}")
    loss = np.log1p(np.exp((-x.astype(dtype.np)) * t.astype(dtype.np))).astype(x.dtype)
    out = _reduce(np.broadcast_to(loss, shape).copy(), reduction)
    if needs_grad(input):
        node = SoftMarginLossBackward0()
        node.self_, node.target, node.reduction = input, target, reduction
        return attach(node, np.asarray(out), (input,))
    return make(np.asarray(out))


# ================================================================= multi margin, multilabel margin
def _margin_input(input, name):
    x = input._data
    if not (x.ndim <= 1 or (x.ndim == 2 and x.shape[1] != 0)) or (x.ndim == 1 and not x.size):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(x.shape)}")
    return x.reshape(-1, x.shape[-1] if x.ndim else 1)


def _not_implemented_grad(op, out, inputs):
    if needs_grad(*inputs):
        return attach(E.NotImplemented_(op), out, inputs)
    return make(out)


def _multi_margin_terms(x, y, p, margin, w):
    rows = np.arange(x.shape[0])
    z = margin - x[rows, y][:, None] + x
    z[rows, y] = 0
    active = z > 0
    h = np.where(active, z if p == 1 else z * z, 0)
    if w is not None:
        h = h * w[y][:, None]
    return z, active, h


def _multi_margin_grad(n, g):
    x = n.self_._data
    rows2 = _margin_input(n.self_, "multi_margin_loss")
    y = n.target._data.reshape(-1).astype(np.int64)
    w = None if n.weight is None else n.weight._data.astype(x.dtype)
    z, active, _ = _multi_margin_terms(rows2, y, n.p, n.margin, w)
    dim = rows2.shape[1]
    slope = np.where(active, 1.0 if n.p == 1 else 2 * z, 0).astype(x.dtype) / x.dtype.type(dim)
    if w is not None:
        slope = slope * w[y][:, None]
    gd = g._data
    if n.reduction == "mean":
        slope = slope * (gd / rows2.shape[0])
    elif n.reduction == "sum":
        slope = slope * gd
    else:
        slope = slope * gd.reshape(-1, 1)
    rows = np.arange(rows2.shape[0])
    slope[rows, y] = -slope.sum(axis=1)
    out = np.asarray(slope.reshape(x.shape), x.dtype)
    return _not_implemented_grad("multi_margin_loss_backward", out, (g, n.self_))


MultiMarginLossBackward0 = backward_node(
    "MultiMarginLossBackward0", saved=("self_",),
    fields=("target", "p", "margin", "weight", "reduction"), self=_multi_margin_grad)


@silent
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    reduction = _check_reduction(_legacy(size_average, reduce, reduction))
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    rows2 = _margin_input(input, "multi_margin_loss")
    x, t = input._data, target._data
    nframe, dim = rows2.shape
    if t.ndim > 1 or t.size != nframe:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{nframe}], but got "
            f"{list(t.shape)}. Input has shape {list(x.shape)}.")
    if weight is not None and weight._data.size != dim:
        raise RuntimeError(
            f"inconsistent weight size, expected {dim} but got {list(weight._data.shape)}")
    if t.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.scalar_name}")
    y = t.reshape(-1)
    if ((y < 0) | (y >= dim)).any():
        raise RuntimeError("target out of range")
    w = None if weight is None else weight._data.astype(x.dtype)
    _, _, h = _multi_margin_terms(rows2, y, p, margin, w)
    per_sample = np.asarray(h.sum(axis=1) / dim, x.dtype)
    if reduction == "none":
        out = per_sample.reshape((nframe,) if t.ndim else ())
    elif reduction == "sum":
        out = np.asarray(per_sample.sum(), x.dtype)
    else:
        out = np.asarray(per_sample.sum() / max(nframe, 1) if nframe else np.nan, x.dtype)
    if needs_grad(input):
        node = MultiMarginLossBackward0()
        node.self_, node.target, node.p, node.margin = input, target, p, margin
        node.weight, node.reduction = weight, reduction
        return attach(node, out, (input,))
    return make(out)


def _multilabel_masks(rows2, targets):
    """(is_target, label mask per sample): the labels up to the first -1 are targets."""
    n, dim = rows2.shape
    ended = np.cumsum(targets < 0, axis=1) > 0
    is_target = np.zeros((n, dim), bool)
    listed = ~ended
    r, c = np.nonzero(listed)
    is_target[r, targets[r, c]] = True
    return is_target, listed


def _multilabel_terms(rows2, targets):
    is_target, listed = _multilabel_masks(rows2, targets)
    n = rows2.shape[0]
    # per listed target j and non-target k: max(0, 1 - (x[j] - x[k]))
    xj = np.take_along_axis(rows2, np.where(listed, targets, 0), axis=1)  # (n, dim)
    z = 1 - (xj[:, :, None] - rows2[:, None, :])  # (n, j, k)
    valid = listed[:, :, None] & ~is_target[:, None, :]
    active = valid & (z > 0)
    return z, active, listed, is_target, n


def _multilabel_grad(n, g):
    x = n.self_._data
    rows2 = _margin_input(n.self_, "multilabel_margin_loss")
    targets = n.target._data.reshape(rows2.shape).astype(np.int64)
    z, active, listed, _, nframe = _multilabel_terms(rows2, targets)
    dim = rows2.shape[1]
    a = active.astype(x.dtype) / x.dtype.type(dim)
    grad = np.zeros_like(rows2)
    safe = np.where(listed, targets, 0)
    np.add.at(grad, (np.arange(nframe)[:, None].repeat(dim, 1), safe), -a.sum(axis=2))
    grad += a.sum(axis=1)
    gd = g._data
    if n.reduction == "mean":
        grad = grad * (gd / nframe)
    elif n.reduction == "sum":
        grad = grad * gd
    else:
        grad = grad * gd.reshape(-1, 1)
    out = np.asarray(grad.reshape(x.shape), x.dtype)
    return _not_implemented_grad("multilabel_margin_loss_backward", out, (g, n.self_))


MultilabelMarginLossBackward0 = backward_node(
    "MultilabelMarginLossBackward0", saved=("self_",), fields=("target", "reduction"),
    self=_multilabel_grad)


@silent
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _check_reduction(_legacy(size_average, reduce, reduction))
    rows2 = _margin_input(input, "multilabel_margin_loss")
    x, t = input._data, target._data
    if t.shape != x.shape and not (x.ndim == 0 and t.ndim <= 1 and t.size == 1):
        raise RuntimeError(f"inconsistent target size: {list(t.shape)} for input of size: "
                           f"{list(x.shape)}")
    targets = t.reshape(rows2.shape).astype(np.int64)
    dim = rows2.shape[1]
    if targets.size and ((targets < -1).any() or (targets >= dim).any()):
        raise RuntimeError("argument #2 'target' is out of range")
    z, active, _, _, nframe = _multilabel_terms(rows2, targets)
    per_sample = np.asarray(np.where(active, z, 0).sum(axis=(1, 2)) / dim, x.dtype)
    if reduction == "none":
        out = per_sample.reshape(x.shape[:1] if x.ndim == 2 else ())
    elif reduction == "sum":
        out = np.asarray(per_sample.sum(), x.dtype)
    else:
        out = np.asarray(per_sample.sum() / nframe if nframe else np.nan, x.dtype)
    if needs_grad(input):
        node = MultilabelMarginLossBackward0()
        node.self_, node.target, node.reduction = input, target, reduction
        return attach(node, out, (input,))
    return make(out)


# ================================================================= composites
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if size_average is not None or reduce is not None:
        reduction = _legacy(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", UserWarning, stacklevel=2)
    _check_reduction(reduction, ("batchmean",))
    reduced = torch_kl_div(input, target, "sum" if reduction == "batchmean" else reduction,
                           log_target=log_target)
    if reduction == "batchmean" and input.dim() != 0:
        reduced = reduced / input._data.shape[0]
    return reduced


def torch_kl_div(input, target, reduction="mean", *, log_target=False):
    """ATen's kl_div: ``exp(target) * (target - input)`` for log targets, else
    ``xlogy(target, target) - target * input``."""
    reduction = _enum(reduction)
    if input._data.dtype.kind in "biu" or target._data.dtype.kind in "biu":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        output = E.exp(target) * (target - input)
    else:
        output = target.xlogy(target) - target * input
    return _apply(output, reduction)


_ENUM = {0: "none", 1: "mean", 2: "sum"}


def _enum(reduction):
    """torch.X's reduction argument is ATen's enum (an int); F's is a string."""
    return _ENUM[reduction] if isinstance(reduction, int) else reduction


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    if size_average is not None or reduce is not None:
        reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    return torch_poisson_nll_loss(input, target, log_input, full, eps, reduction)


def torch_poisson_nll_loss(input, target, log_input, full, eps, reduction):
    reduction = _enum(reduction)
    if log_input:
        loss = E.exp(input) - target * input
    else:
        loss = input - target * E.log(_plus(input, eps))
    if full:
        two_pi_target = (mul_scalar(target, 2 * math.pi) if target._data.dtype.kind == "f"
                         else E.mul(target, 2 * math.pi))  # an integer target: default float
        stirling = target * E.log(target) - target + mul_scalar(E.log(two_pi_target), 0.5)
        loss = loss + masked_fill(stirling, target._data <= 1, 0)
    return _apply(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * make(np.ones_like(input._data))
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var._data.shape != input._data.shape:
        in_shape, var_shape = input._data.shape, var._data.shape
        if in_shape[:-1] == var_shape:
            var = S.unsqueeze(var, -1)
        elif len(in_shape) == len(var_shape) and sum(
                y for x, y in zip(in_shape, var_shape, strict=True) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = S.clone(var)
    with no_grad():
        np.maximum(var._data, var._data.dtype.type(eps), out=var._data)
    loss = 0.5 * (E.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    reduction = _check_reduction(_legacy(size_average, reduce, reduction))
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got "
            f"sizes: input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return torch_margin_ranking_loss(input1, input2, target, margin, reduction)


def torch_margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    unclamped = _plus(-target * (input1 - input2), float(margin))  # ATen's double margin
    return _apply(E.clamp_min(unclamped, 0), _enum(reduction))


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _check_reduction(_legacy(size_average, reduce, reduction))
    return torch_hinge_embedding_loss(input, target, margin, reduction)


def torch_hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    zeros = make(np.zeros(input._data.shape, input._data.dtype))
    # C++ ``margin - self``: a tensor filled with margin, minus self (SubBackward0)
    margin_diff = rsub_scalar(margin, input) if input._data.dtype.kind == "f" else \
        E.rsub(input, margin)
    margin_clamp = E.clamp_min(margin_diff, 0)
    output_margin = E.where(target != 1, margin_clamp, zeros)
    output_self = E.where(target != -1, input, zeros)
    output = output_margin + output_self
    return _apply(output, _enum(reduction))


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    if size_average is not None or reduce is not None:
        reduction = _legacy(size_average, reduce, reduction)
    loss = -(target * N.log_sigmoid(input) + (1 - target) * N.log_sigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    classes = input._data.shape[class_dim]
    loss = R.sum(loss, (class_dim,)) / classes
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _apply(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    reduction = _check_reduction(_legacy(size_average, reduce, reduction))
    return torch_cosine_embedding_loss(input1, input2, target, margin, reduction)


def torch_cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    targ_dim = target.dim()
    if targ_dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if targ_dim == 1 else 1
    if input1.dim() != want or input2.dim() != want:
        raise RuntimeError(
            f"{targ_dim}D target tensor expects {want}D input tensors, but found inputs with "
            f"sizes {list(input1._data.shape)} and {list(input2._data.shape)}.")
    prod_sum = R.sum(input1 * input2, (targ_dim,))
    mag_square1 = _plus(R.sum(input1 * input1, (targ_dim,)), _EPSILON)
    mag_square2 = _plus(R.sum(input2 * input2, (targ_dim,)), _EPSILON)
    denom = E.sqrt(mag_square1 * mag_square2)
    cos = prod_sum / denom
    zeros = make(np.zeros(cos._data.shape, cos._data.dtype))
    pos = rsub_scalar(1, cos)
    neg = E.clamp_min(sub_scalar(cos, margin), 0)
    output_pos = E.where(target == 1, pos, zeros)
    output_neg = E.where(target == -1, neg, zeros)
    return _apply(output_pos + output_neg, _enum(reduction))


NormBackward1 = backward_node(  # at::norm(self, p, dim, keepdim), as ATen's composites call it
    "NormBackward1", saved=("self_", "_result"), fields=("ord", "dims", "keepdim"),
    self=lambda n, g: R._norm_backward(g, n.self_, n.ord, n.result, n.dims, n.keepdim))


def _aten_norm(input, p, dim, keepdim):
    """``at::norm(input, p, dim, keepdim)`` (NormBackward1; torch.norm in Python records
    LinalgVectorNormBackward0)."""
    with no_grad():
        out = R.vector_norm(input, p, dim, keepdim)._data
    if needs_grad(input):
        node = NormBackward1()
        node.self_, node._result, node.ord = input, out, float(p)
        node.dims, node.keepdim = (wrap_dim(dim, max(input.dim(), 1)),), keepdim
        return attach(node, out, (input,))
    return make(out)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """ATen's pairwise_distance: ``norm(x1 - x2 + eps, p, -1, keepdim)``."""
    if not isinstance(x1, Tensor):
        raise argument_error("pairwise_distance", 1, "x1", "Tensor", x1)
    return _aten_norm(_plus(x1 - x2, eps), p, -1, keepdim)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    reduction = _check_reduction(_legacy(size_average, reduce, reduction))
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return torch_triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                     reduction)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p and p == n):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def torch_triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6,
                              swap=False, reduction="mean"):
    _check_triplet_dims(anchor, positive, negative)
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = E.minimum(dist_neg, pairwise_distance(positive, negative, p, eps))
    output = E.clamp_min(_plus(dist_pos, margin) - dist_neg, 0)
    return _apply(output, _enum(reduction))


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    dist_pos = distance(anchor, positive)
    dist_neg = distance(anchor, negative)
    if swap:
        dist_neg = E.minimum(dist_neg, distance(positive, negative))
    loss = E.clamp_min(margin + dist_pos - dist_neg, 0)
    return _apply(loss, reduction)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """ATen's: each input over its (clamped) norm, then the sum of their product."""
    if not isinstance(x1, Tensor):
        raise argument_error("cosine_similarity", 1, "x1", "Tensor", x1)
    common = result_type(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError("expected common dtype to be floating point, yet common dtype is "
                           f"{common.scalar_name}")
    if eps < 0:
        raise RuntimeError(f"eps must be non-negative, got: {eps:g}")
    if x1._data.dtype.kind != "f":
        x1 = E.to(x1, common)
    if x2._data.dtype.kind != "f":
        x2 = E.to(x2, common)
    if x1._data.shape != x2._data.shape:
        try:
            shape = np.broadcast_shapes(x1._data.shape, x2._data.shape)
        except ValueError:
            raise broadcast_error(x1, x2) from None
        x1, x2 = S.expand(x1, shape), S.expand(x2, shape)  # ATen's expand_outplace: both
    x1_norm = S.clone(R.vector_norm(x1, 2, dim, True))
    x2_norm = S.clone(R.vector_norm(x2, 2, dim, True))
    eps_dtype = float32 if common.np == np.float16 else common
    bound = eps_dtype.np.type(eps)
    with no_grad():
        for t in (x1_norm, x2_norm):
            np.maximum(t._data, bound, out=t._data, casting="unsafe")
    return R.sum((x1 / x1_norm) * (x2 / x2_norm), (dim,))


# ================================================================= pdist
def _pdist_pairs(n):
    return np.triu_indices(n, 1)


def _pdist_values(x, p):
    i, j = _pdist_pairs(x.shape[0])
    d = np.abs(x[i] - x[j])
    if p == 0:
        return np.asarray((d != 0).sum(axis=1), x.dtype)
    if p == 1:
        return np.asarray(d.sum(axis=1), x.dtype)
    if p == 2:
        return np.asarray(np.sqrt((d * d).sum(axis=1)), x.dtype)
    if p == math.inf:
        return np.asarray(d.max(axis=1, initial=0), x.dtype)
    return np.asarray((d ** x.dtype.type(p)).sum(axis=1) ** x.dtype.type(1 / p), x.dtype)


def pdist_backward(grad, self, p, result):
    """torch's _pdist_backward (its derivative is not implemented: a create_graph grad hangs
    from PdistBackwardBackward0, which raises)."""
    x = self._data
    out = np.zeros_like(x)
    if x.shape[0] > 1 and x.shape[1] and p != 0:
        i, j = _pdist_pairs(x.shape[0])
        diff = x[i] - x[j]
        dist = result._data[:, None]
        g = grad._data[:, None]
        with np.errstate(all="ignore"):
            if p == 1:
                term = np.sign(diff) * g
            elif p == 2:
                term = np.where(dist == 0, 0, diff * g / dist)
            elif p == math.inf:
                term = np.sign(diff) * (np.abs(diff) == dist) * g
            elif p < 1:
                term = np.where((dist == 0) | (diff == 0), 0, np.sign(diff) * (
                    np.abs(diff) ** (p - 1)) * g / dist ** (p - 1))
            else:
                term = np.where(dist == 0, 0, diff * np.abs(diff) ** (p - 2) * g /
                                dist ** (p - 1))
        term = np.asarray(term, x.dtype)
        np.add.at(out, i, term)
        np.add.at(out, j, -term)
    if needs_grad(grad, self, result):
        node = PdistBackwardBackward0()
        return attach(node, out, (grad, self, result))
    return make(out)


def _pdist_not_implemented(n, g):
    raise RuntimeError("the derivative for '_pdist_backward' is not implemented.")


PdistBackwardBackward0 = backward_node(  # torch marks every input not_implemented
    "PdistBackwardBackward0", grad=_pdist_not_implemented, self=_pdist_not_implemented,
    pdist=_pdist_not_implemented)


PdistBackward0 = backward_node(
    "PdistBackward0", saved=("self_", "_result"), fields=("p",),
    self=lambda n, g: pdist_backward(g, n.self_, n.p, make(n._result)))


@silent
def pdist(input, p=2):
    if not isinstance(input, Tensor):
        raise argument_error("pdist", 1, "input", "Tensor", input)
    x = input._data
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if x.dtype.kind != "f":
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = x.shape[0]
    if n <= 1:
        out = np.zeros(0, x.dtype)
    elif x.shape[1] == 0:
        out = np.zeros(n * (n - 1) // 2, x.dtype)
    else:
        out = _pdist_values(x, float(p))
    if needs_grad(input):
        node = PdistBackward0()
        node.self_, node._result, node.p = input, out, float(p)
        return attach(node, out, (input,))
    return make(out)


# ================================================================= ctc
def _lengths(values, name, batch):
    """Lengths given as a tensor or a sequence of ints."""
    array = values._data if isinstance(values, Tensor) else np.asarray(values)
    array = np.asarray(array).reshape(-1).astype(np.int64)
    if array.size != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    return array


def _libm(fn, x):
    """glibc's float ``expf``/``logf`` (correctly rounded): the double function rounded to
    the array's dtype (ATen's CTC kernels are scalar C++ calling them)."""
    return fn(x.astype(np.float64)).astype(x.dtype) if x.dtype == np.float32 else fn(x)


def _logsumexp(*terms):
    """ATen's CTC step: ``log(sum(exp(t - max))) + max`` (max 0 when every term is -inf),
    summed left to right."""
    top = terms[0]
    for t in terms[1:]:
        top = np.maximum(top, t)
    top = np.where(np.isneginf(top), top.dtype.type(0), top)
    total = _libm(np.exp, terms[0] - top)
    for t in terms[1:]:
        total = total + _libm(np.exp, t - top)
    return _libm(np.log, total) + top


def _extended(targets, offsets, lengths, b, blank):
    labels = targets[b, :lengths[b]] if targets.ndim == 2 else \
        targets[offsets[b]:offsets[b] + lengths[b]]
    ext = np.full(2 * len(labels) + 1, blank, np.int64)
    ext[1::2] = labels
    return ext


def _ctc_alpha(lp, ext, length):
    """log alpha (length x S) of the extended labels ``ext`` over the first ``length`` steps."""
    S = ext.size
    alpha = np.full((max(length, 1), S), -np.inf, lp.dtype)
    if length == 0:
        return alpha
    alpha[0, 0] = lp[0, ext[0]]
    if S > 1:
        alpha[0, 1] = lp[0, ext[1]]
    skip = np.zeros(S, bool)  # from s - 2: a label differing from the one before it
    skip[2:] = ext[2:] != ext[:-2]
    skip &= np.arange(S) % 2 == 1
    for t in range(1, length):
        prev = alpha[t - 1]
        one = np.concatenate([[-np.inf], prev[:-1]])
        two = np.where(skip, np.concatenate([[-np.inf, -np.inf], prev[:-2]]), -np.inf)
        alpha[t] = _logsumexp(prev, one, two) + lp[t, ext]
    return alpha


def _ctc_beta(lp, ext, length):
    S = ext.size
    beta = np.full((max(length, 1), S), -np.inf, lp.dtype)
    if length == 0:
        return beta
    beta[length - 1, S - 1] = lp[length - 1, ext[S - 1]]
    if S > 1:
        beta[length - 1, S - 2] = lp[length - 1, ext[S - 2]]
    skip = np.zeros(S, bool)
    skip[:-2] = ext[:-2] != ext[2:]
    skip &= np.arange(S) % 2 == 1
    for t in range(length - 2, -1, -1):
        nxt = beta[t + 1]
        one = np.concatenate([nxt[1:], [-np.inf]])
        two = np.where(skip, np.concatenate([nxt[2:], [-np.inf, -np.inf]]), -np.inf)
        beta[t] = _logsumexp(nxt, one, two) + lp[t, ext]
    return beta


def _ctc_nll(alpha, length, S):
    if length == 0:
        return 0.0 if S == 1 else np.inf
    last = alpha[length - 1]
    return -_logsumexp(last[S - 1], last[S - 2] if S > 1 else -np.inf)


def ctc_loss_backward(grad, n):
    """torch's _ctc_loss_backward: ``exp(lp) - exp(log(sum alpha beta) + nll - lp)``, times
    the grad, zero past each input length (and for infinite losses with zero_infinity); its
    own derivative is not implemented."""
    lp = n.log_probs._data
    T, B, C = lp.shape
    out = np.zeros_like(lp)
    g = grad._data.reshape(-1)
    nll = n._result
    for b in range(B):
        length = int(n.input_lengths[b])
        if n.zero_infinity and np.isinf(nll[b]):
            continue
        ext = _extended(n.targets, n.offsets, n.target_lengths, b, n.blank)
        lpb = lp[:length, b]
        alpha = _ctc_alpha(lpb, ext, length)
        beta = _ctc_beta(lpb, ext, length)
        lcab = np.full((length, C), -np.inf, lp.dtype)
        ab = alpha[:length] + beta[:length]
        for s, c in enumerate(ext):
            lcab[:, c] = _logsumexp(lcab[:, c], ab[:, s])
        with np.errstate(all="ignore"):
            out[:length, b] = (_libm(np.exp, lpb) - _libm(np.exp, lcab + nll[b] - lpb)) * g[b]
    return _not_implemented_grad("_ctc_loss_backward", out, (grad, n.log_probs))


CtcLossBackward0 = backward_node(
    "CtcLossBackward0", saved=("log_probs",),
    fields=("_result", "targets", "offsets", "input_lengths", "target_lengths", "blank",
            "zero_infinity"),
    log_probs=lambda n, g: ctc_loss_backward(g, n))


@silent
def _ctc(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    """ATen's _ctc_loss: the negative log likelihood per batch entry (CtcLossBackward0)."""
    lp = log_probs._data
    T, B, C = lp.shape
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    ilen = _lengths(input_lengths, "input_lengths", B)
    tlen = _lengths(target_lengths, "target_lengths", B)
    tg = targets._data.astype(np.int64)
    for name, array, top in (("input_lengths", ilen, T),):
        if (array > top).any():
            raise RuntimeError(
                f"Expected {name} to have value at most {top}, but got value "
                f"{int(array[array > top][0])} (while checking arguments for "
                "ctc_loss_allocate_outputs)")
    if (tlen < 0).any():
        raise RuntimeError(
            "Expected target_lengths to have value at least 0, but got value "
            f"{int(tlen[tlen < 0][0])} (while checking arguments for "
            "ctc_loss_allocate_outputs)")
    offsets = np.concatenate([[0], np.cumsum(tlen)[:-1]]) if tg.ndim == 1 else None
    if tg.ndim == 2 and tlen.size and tlen.max() > tg.shape[1]:
        raise RuntimeError(
            f"Expected tensor to have size at least {int(tlen.max())} at dimension 1, but got "
            f"size {tg.shape[1]} for argument #2 'targets' (while checking arguments for "
            "ctc_loss_allocate_outputs)")
    nll = np.empty(B, lp.dtype)
    for b in range(B):
        ext = _extended(tg, offsets, tlen, b, blank)
        alpha = _ctc_alpha(lp[:, b], ext, int(ilen[b]))
        nll[b] = _ctc_nll(alpha, int(ilen[b]), ext.size)
    if needs_grad(log_probs):
        node = CtcLossBackward0()
        node.log_probs, node._result, node.targets, node.offsets = log_probs, nll, tg, offsets
        node.input_lengths, node.target_lengths, node.blank = ilen, tlen, blank
        node.zero_infinity = zero_infinity
        return attach(node, nll, (log_probs,))
    return make(nll)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    _check_reduction(reduction)
    return torch_ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                          zero_infinity)


def torch_ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0,
                   reduction="mean", zero_infinity=False):
    """ATen's ctc_loss: _ctc_loss (batched), infinities zeroed with zero_infinity, then the
    mean of the losses over their target lengths, or their sum."""
    reduction = _enum(reduction)
    batched = log_probs.dim() == 3
    lp = log_probs if batched else S.unsqueeze(log_probs, 1)
    res = _ctc(lp, targets, input_lengths, target_lengths, blank, zero_infinity)
    if zero_infinity:
        res = E.where(make(np.isinf(res._data) & (res._data > 0)),
                      make(np.zeros((), res._data.dtype)), res)
    if reduction == "mean":
        tlen = _lengths(target_lengths, "target_lengths", lp._data.shape[1])
        divisor = make(np.maximum(tlen, 1).astype(res._data.dtype))
        return R.mean(res / divisor)
    if reduction == "sum":
        return R.sum(res)
    return res if batched else S.squeeze(res, 0)
