"""``torch.native_group_norm``: group_norm's output with its statistics, all three outputs of
one NativeGroupNormBackward0 as in torch (engine/autograd's MultiOutputNode).

The output's grads are group_norm's (normalization.py's formulas on the same saved values);
grads reaching the mean and rstd outputs flow to the input as their derivatives.
"""

from __future__ import annotations

import numpy as np

from .._tensor import make
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import SECOND_BACKWARD, MultiOutputNode, attach_outputs, backward_node
from . import normalization as NO
from .operands import needs_grad


class _NativeNormNode(MultiOutputNode):
    """The grads of input, weight and bias from the grads of all three outputs: the
    output's as group_norm's node computes them, plus what reaches the input through the
    mean and rstd outputs (as torch's infinitely_differentiable_native_group_norm_backward)."""

    __slots__ = ()

    def apply(self, grads):
        out, dmean, drstd = grads
        if out is not None:
            result = list(NO._NormNode.apply(self, out))
        else:
            if self._freed:
                raise RuntimeError(SECOND_BACKWARD)
            result = [None, None, None]
        if (dmean is not None or drstd is not None) and self.next_functions[0][0] is not None:
            extra = _statistics_grad(self, dmean, drstd)
            result[0] = extra if result[0] is None else result[0] + extra
        return result


def _statistics_grad(n, dmean, drstd):
    """d mean / dx = 1 / D and d rstd / dx = -rstd^3 (x - mean) / D over each group of D
    values; under create_graph the statistics are recomputed from the input with engine
    ops, so double backward differentiates them too."""
    x = n.self_
    count, groups, size = n.grouped
    xs = x.reshape(n.grouped)
    total = None
    if dmean is not None:
        total = dmean.reshape(count, groups, 1).expand(n.grouped) * (1.0 / max(size, 1))
    if drstd is not None:
        if _grad_mode.enabled:
            mean = xs.mean(2, keepdim=True)
            centered = xs - mean
            rstd = ((centered * centered).mean(2, keepdim=True) + n.eps).rsqrt()
        else:
            centered = xs - make(n.mean)
            rstd = make(n.invstd)
        term = drstd.reshape(count, groups, 1) * -(rstd * rstd * rstd) * centered
        term = term * (1.0 / max(size, 1))
        total = term if total is None else total + term
    return total.reshape(x._data.shape)


NativeGroupNormBackward0 = backward_node(
    "NativeGroupNormBackward0", saved=("self_", "weight", "mean", "invstd"),
    fields=("axes", "grouped", "wshape", "bshape", "bdtype", "eps", "training"),
    base=_NativeNormNode,
    input=lambda n, g: None, weight=lambda n, g: None, bias=lambda n, g: None)


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):  # noqa: N803
    """torch.native_group_norm: (output, mean, rstd), mean and rstd of shape (N, group)."""
    grad = _grad_mode.enabled
    _grad_mode.enabled = False
    try:
        out = NO.torch_group_norm(input, group, weight, bias, eps)
    finally:
        _grad_mode.enabled = grad
    x = input._data
    grouped = (N, group, x.size // max(N * group, 1))
    xs = NO._wide(x).reshape(grouped)
    _, mean, var = NO._stats(xs, (2,), eps)
    invstd = 1 / np.sqrt(var + eps)
    dtype = x.dtype
    arrays = [out._data, mean.reshape(N, group).astype(dtype),
              invstd.reshape(N, group).astype(dtype)]
    if not needs_grad(input, weight, bias):
        return tuple(make(a) for a in arrays)
    node = NativeGroupNormBackward0()
    node.self_, node.weight, node.mean, node.invstd = input, weight, mean, invstd
    node.axes, node.grouped, node.eps, node.training = (2,), grouped, eps, True
    node.wshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    node.bshape = None if bias is None else bias._data.shape
    node.bdtype = None if bias is None else bias._data.dtype
    return tuple(attach_outputs(node, arrays, (input, weight, bias)))


__all__ = ["native_group_norm"]
