"""Normalization: batch_norm (NativeBatchNormBackward0), layer_norm
(NativeLayerNormBackward0), group_norm (NativeGroupNormBackward0), and the composites torch
builds from other ops: instance_norm (batch_norm on a ``(1, N*C, ...)`` view), rms_norm,
local_response_norm and normalize.

The fused ops compute their statistics in numpy (half in float, as torch's kernels) and
record one node for input, weight and bias.  Their grads are one formula,
``invstd * (gw - mean(gw) - xhat * mean(gw * xhat))`` with ``gw = grad * weight``: without a
graph on the statistics saved by the forward, under create_graph on statistics recomputed
from the saved input with engine ops, so a double backward differentiates through them.
Training batch_norm updates the running statistics in place as torch does (unbiased
variance, ``(1 - momentum) * running + momentum * batch``).
"""

from __future__ import annotations

import math

import numpy as np

from .._dtype import FROM_NUMPY, float32
from .._tensor import make
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import (
    SECOND_BACKWARD,
    MultiOutputNode,
    Node,
    attach,
    attach_outputs,
    backward_node,
    check_saved_versions,
)
from ..runtime.blas import get_num_threads
from ..runtime.quiet import silent
from . import conv as CV
from . import elementwise as E
from . import pooling as PL
from . import reductions as R
from . import shape as S
from .operands import needs_grad

_WIDE = {np.dtype(np.float16): np.float32}


def _show(shape):
    return "[" + ", ".join(map(str, shape)) + "]"


def _check_float(x, kernel):
    if x.dtype.kind not in "fc":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{FROM_NUMPY[x.dtype].scalar_name}'")


def _wide(a):
    w = _WIDE.get(a.dtype)
    return a if w is None else a.astype(w)


def _fma(x, scale, shift):
    """``x * scale + shift`` rounded once, as torch's vectorised fmadd: exact in double for
    float32 operands."""
    if x.dtype == np.float32:
        return (x.astype(np.float64) * scale + shift).astype(np.float32)
    return x * scale + shift


# ================================================================= the shared grad
def _grads(n, g, need):
    """Grads of input, weight and bias of ``y = (x - mean) * invstd * w + b``, statistics
    over ``n.axes`` of the (grouped) input, weight per ``n.wshape`` of the output."""
    x = n.self_
    shape = x._data.shape
    grouped = n.grouped
    graph = _grad_mode.enabled
    gt = g
    if graph:
        xs = x if grouped is None else x.reshape(grouped)
        if n.training:
            mean = xs.mean(n.axes, keepdim=True)
            centered = xs - mean
            invstd = ((centered * centered).mean(n.axes, keepdim=True) + n.eps).rsqrt()
        else:
            mean, invstd = make(n.mean), make(n.invstd)
            centered = xs - mean
        xhat = centered * invstd
        if grouped is not None:
            xhat = xhat.reshape(shape)
    else:
        xd = _wide(x._data)
        xs = xd if grouped is None else xd.reshape(grouped)
        xhat = (xs - n.mean) * n.invstd
        if grouped is not None:
            xhat = xhat.reshape(shape)
        g = _wide(g._data)
    w = n.weight
    if not graph and type(n) is NativeLayerNormBackward0:
        return _layer_kernel_grads(n, gt, need)
    if not graph and _half_batch(n):
        return _batch_kernel_grads(n, gt, need)
    out = [None, None, None]
    if need[0]:
        if graph:
            gw = gt if w is None else gt * w.reshape(n.wshape)
            gws = gw if grouped is None else gw.reshape(grouped)
            xh = xhat if grouped is None else xhat.reshape(grouped)
            if n.training:
                gi = (gws - gws.mean(n.axes, keepdim=True)
                      - xh * (gws * xh).mean(n.axes, keepdim=True)) * invstd
            else:
                gi = gws * invstd
            out[0] = gi if grouped is None else gi.reshape(shape)
        else:
            gw = g if w is None else g * _wide(w._data).reshape(n.wshape)
            gws = gw if grouped is None else gw.reshape(grouped)
            xh = xhat if grouped is None else xhat.reshape(grouped)
            if type(n) is NativeLayerNormBackward0:  # torch's kernel: a*dy*w + b*x + c
                xw = _wide(x._data)
                scale = 1.0 / max(math.prod(xw.shape[i] for i in n.axes), 1)
                ds = (gws * xw).sum(n.axes, keepdims=True)
                db = gws.sum(n.axes, keepdims=True)
                b = (db * n.mean - ds) * n.invstd ** 3 * scale
                c = -b * n.mean - db * n.invstd * scale
                gi = n.invstd * gws + b * xw + c
            elif n.training:
                gi = (gws - gws.mean(n.axes, keepdims=True)
                      - xh * (gws * xh).mean(n.axes, keepdims=True)) * n.invstd
            else:
                gi = gws * n.invstd
            out[0] = make(np.ascontiguousarray(gi.reshape(shape)).astype(x._data.dtype))
    waxes = tuple(i for i in range(len(shape)) if n.wshape[i] == 1)
    if need[1]:
        if graph:
            out[1] = (gt * xhat).sum(waxes).reshape(w._data.shape)
        else:
            out[1] = make((g * xhat).sum(waxes).reshape(w._data.shape).astype(w._data.dtype))
    if need[2]:
        bshape = n.bshape
        if graph:
            out[2] = gt.sum(waxes).reshape(bshape)
        else:
            out[2] = make(g.sum(waxes).reshape(bshape).astype(n.bdtype))
    return out


def _half_batch(n):
    return type(n) is NativeBatchNormBackward0 and n.self_._data.dtype == np.float16


def _batch_kernel_grads(n, g, need):
    """Training batch_norm's grads on half as torch's CPU kernel computes them in float from
    its half statistics: ``dx = (dy - mean(dy) - (x - mean) * k) * (invstd * w)`` with
    ``k = sum(dy * (x - mean)) * invstd**2 / count``; ``dw = sum(dy * (x - mean)) * invstd``,
    ``db = sum(dy)``."""
    x = n.self_
    xw = _wide(x._data)
    dy = _wide(g._data)
    axes = n.axes
    count = xw.dtype.type(max(x._data.size // max(x._data.shape[1], 1), 1))
    mean, invstd = n.mean, n.invstd
    centered = xw - mean
    dot = (dy * centered).sum(axes, keepdims=True)
    total = dy.sum(axes, keepdims=True)
    out = [None, None, None]
    if need[0] and not n.training:  # evaluation: dy * invstd * w
        gi = dy * invstd
        if n.weight is not None:
            gi = gi * _wide(n.weight._data).reshape(n.wshape)
        out[0] = make(np.ascontiguousarray(gi.astype(x._data.dtype)))
    elif need[0]:
        k = dot * invstd * invstd / count
        scale = invstd if n.weight is None else invstd * _wide(n.weight._data).reshape(n.wshape)
        gi = (dy - total / count - centered * k) * scale
        out[0] = make(np.ascontiguousarray(gi.astype(x._data.dtype)))
    if need[1]:
        out[1] = make((dot * invstd).reshape(n.weight._data.shape).astype(n.weight._data.dtype))
    if need[2]:
        out[2] = make(total.reshape(n.bshape).astype(n.bdtype))
    return out


def _thread_rows(m):
    """The rows each of torch's intra-op threads takes in ``parallel_for(0, m, 1)``."""
    threads = min(get_num_threads(), m) if m > 1 else 1
    chunk = -(-m // threads) if threads else 0
    return [(t * chunk, min(m, (t + 1) * chunk)) for t in range(threads)]


def _layer_kernel_grads(n, g, need):
    """layer_norm's grads as torch's CPU kernel computes them, from the statistics it saved in
    the input's dtype: per row ``dx = a * dy * w + b * x + c`` in the accumulation type; the
    weight and bias grads summed row by row into one buffer per thread in the input's dtype
    (``dy * (a * x - a * mean)`` and ``dy``), the buffers then added in the accumulation type."""
    x = n.self_
    dtype = x._data.dtype
    shape = x._data.shape
    cols = math.prod(shape[i] for i in n.axes)
    rows = x._data.size // max(cols, 1)
    xw = _wide(x._data).reshape(rows, cols)
    dy = _wide(g._data).reshape(rows, cols)
    acc = xw.dtype.type
    mean = _wide(n.mean.astype(dtype)).reshape(rows, 1)
    a = _wide(n.invstd.astype(dtype)).reshape(rows, 1)
    w = None if n.weight is None else _wide(n.weight._data).reshape(1, cols)
    out = [None, None, None]
    if need[0]:
        scale = acc(1.0 / max(cols, 1))
        dyw = dy if w is None else dy * w
        ds = ((dy * xw) if w is None else (dy * xw) * w).sum(1, keepdims=True)
        db = dyw.sum(1, keepdims=True)
        b = (db * mean - ds) * a * a * a * scale
        c = -b * mean - db * a * scale
        gi = (a * dy if w is None else a * dy * w) + b * xw + c
        out[0] = make(np.ascontiguousarray(gi.reshape(shape).astype(dtype)))
    for k, term in ((1, lambda i, j: dy[i:j] * (a[i:j] * xw[i:j] + (-a[i:j] * mean[i:j]))),
                    (2, lambda i, j: dy[i:j])):
        if not need[k]:
            continue
        total = np.zeros(cols, xw.dtype)
        for start, stop in _thread_rows(rows):
            buffer = np.zeros(cols, dtype)
            part = term(start, stop)
            for r in range(stop - start):
                buffer = (buffer.astype(xw.dtype) + part[r]).astype(dtype)
            total = total + buffer.astype(xw.dtype)
        target = n.weight._data if k == 1 else None
        out[k] = make(total.reshape(target.shape if k == 1 else n.bshape).astype(
            target.dtype if k == 1 else n.bdtype))
    return out


def _group_kernel_grads(n, g, need):
    """group_norm's grads as torch's CPU kernel computes them (in float for half), from the
    statistics it saved in the input's dtype: per (sample, channel) ``ds = sum(dy * x)`` and
    ``db = sum(dy)``; ``dx = c1 * dy + c2 * x + c3`` with per-group constants; ``dgamma =
    sum_n (ds - db * mean) * rstd``; ``dbeta = sum_n db``."""
    x = n.self_
    shape = x._data.shape
    count, groups, size = n.grouped
    c = shape[1]
    per = c // groups
    flat = (count, c, math.prod(shape[2:]))
    xw = _wide(x._data).reshape(flat)
    dy = _wide(g._data).reshape(flat)
    ds = (dy * xw).sum(2)
    db = dy.sum(2)
    mean = _wide(n.mean).reshape(count, groups)
    rstd = _wide(n.invstd).reshape(count, groups)
    w = None if n.weight is None else _wide(n.weight._data)
    out = [None, None, None]
    if need[0]:
        dsw, dbw = (ds, db) if w is None else (ds * w, db * w)
        dsg = dsw.reshape(count, groups, per).sum(2)
        dbg = dbw.reshape(count, groups, per).sum(2)
        s = xw.dtype.type(1.0 / max(per * xw.shape[2], 1))
        c2 = (dbg * mean - dsg) * rstd * rstd * rstd * s
        c3 = -c2 * mean - dbg * rstd * s
        c1 = np.repeat(rstd, per, axis=1)
        if w is not None:
            c1 = c1 * w
        gi = (c1[..., None] * dy + np.repeat(c2, per, axis=1)[..., None] * xw
              + np.repeat(c3, per, axis=1)[..., None])
        out[0] = make(np.ascontiguousarray(gi.reshape(shape).astype(x._data.dtype)))
    if need[1]:
        mean_c = np.repeat(mean, per, axis=1)
        rstd_c = np.repeat(rstd, per, axis=1)
        if x._data.dtype == np.float16:
            gw = ((ds - db * mean_c) * rstd_c).sum(0)
        else:  # without the cancellation, in double: torch's kernel is the more accurate
            xhat = (xw - mean_c[..., None]) * rstd_c[..., None]
            gw = (dy.astype(np.float64) * xhat).sum((0, 2))
        out[1] = make(gw.reshape(n.weight._data.shape).astype(n.weight._data.dtype))
    if need[2]:
        out[2] = make(db.sum(0).reshape(n.bshape).astype(n.bdtype))
    return out


def _group_composite(n, dy, dmean, drstd, need):
    """group_norm's grads as torch's infinitely differentiable formula builds them from
    tensor ops in the input's dtype, on the saved mean and rstd outputs (so a double
    backward reaches the input through them too): used under create_graph and whenever a
    grad reaches the mean or rstd output."""
    x = n.self_
    count, groups, size = n.grouped
    shape = x._data.shape
    per = shape[1] // groups if groups else 0
    hw = math.prod(shape[2:])
    four = (count, groups, per, hw)
    stat = (count, groups, 1, 1)
    xt = x.reshape(four)
    mean_t = n.output(1).reshape(stat)
    rstd_t = n.output(2).reshape(stat)
    gamma = n.weight
    s = 1.0 / max(per * hw, 1)
    ds = db = None
    if dy is not None:
        dyt = dy.reshape(four)
        ds = (dyt * xt).sum(3).unsqueeze(-1)
        db = dyt.sum(3).unsqueeze(-1)
    out = [None, None, None]
    if need[0]:
        gamma_t = None if gamma is None else gamma.reshape(1, groups, per, 1)
        rstd_cube = rstd_t * rstd_t * rstd_t
        dvar = None if drstd is None else -0.5 * rstd_cube * drstd.view(stat)
        both = dmean is not None and drstd is not None
        dx = None
        if dy is not None:
            a = rstd_t if gamma_t is None else rstd_t * gamma_t
            b = (ds if gamma_t is None else ds * gamma_t).sum(2).unsqueeze(-2)
            c = (db if gamma_t is None else db * gamma_t).sum(2).unsqueeze(-2)
            b = (c * mean_t - b) * rstd_cube * s
            c = -b * mean_t - c * rstd_t * s
            dx = a * dyt + b * xt + c
        if both:  # var_mean's backward over dims (2, 3), correction 0
            extra = (2.0 / max(per * hw, 1)) * dvar * (xt - xt.mean((2, 3), keepdim=True))
            extra = extra + dmean.view(stat).expand(four) / max(per * hw, 1)
            dx = extra if dx is None else dx + extra
        out[0] = None if dx is None else dx.reshape(shape)
    if need[1] and dy is not None:
        out[1] = ((ds - db * mean_t) * rstd_t).sum(0).reshape(gamma._data.shape)
    if need[2] and dy is not None:
        out[2] = db.sum(0).reshape(n.bshape)
    return out


class _GroupNormNode(MultiOutputNode):
    """torch's NativeGroupNormBackward0: one node for native_group_norm's output, mean and
    rstd (group_norm returns the first).  A plain backward of the output alone runs the CPU
    kernel's formula; otherwise torch's composite of tensor ops."""

    __slots__ = ()

    def output(self, number):
        """A saved statistic as a tensor hung from this node (torch's saved output)."""
        t = make(self.mean if number == 1 else self.invstd, True, self)
        t._output_nr = number
        return t

    def apply(self, grads):
        if self._freed:
            raise RuntimeError(SECOND_BACKWARD)
        check_saved_versions(self)
        dy, dmean, drstd = (list(grads) + [None, None])[:3]
        need = [e[0] is not None for e in self.next_functions]
        if dmean is None and drstd is None:
            if dy is None:
                return [None, None, None]
            if not _grad_mode.enabled:
                return _group_kernel_grads(self, dy, need)
        return _group_composite(self, dy, dmean, drstd, need)


NativeGroupNormBackward0 = backward_node(
    "NativeGroupNormBackward0", saved=("self_", "weight", "mean", "invstd"),
    fields=("grouped", "bshape", "bdtype", "eps"), base=_GroupNormNode,
    input=None, weight=None, bias=None)


def group_norm_outputs(input, weight, bias, out, mean, invstd, grouped, eps):
    """native_group_norm's three outputs, hung from one NativeGroupNormBackward0 when a grad
    is needed; the statistics are saved (and returned) in the input's dtype, as torch's."""
    dtype = input._data.dtype
    count, groups = grouped[0], grouped[1]
    arrays = [out, np.ascontiguousarray(mean.reshape(count, groups).astype(dtype)),
              np.ascontiguousarray(invstd.reshape(count, groups).astype(dtype))]
    if not needs_grad(input, weight, bias):
        return [make(a) for a in arrays]
    node = NativeGroupNormBackward0()
    node.self_, node.weight, node.mean, node.invstd = input, weight, arrays[1], arrays[2]
    node.grouped, node.eps = grouped, eps
    node.bshape = None if bias is None else bias._data.shape
    node.bdtype = None if bias is None else bias._data.dtype
    return attach_outputs(node, arrays, (input, weight, bias))


_AGAIN = {}  # node class -> the node torch's create_graph grads hang from


def _again(n, out):
    """Under create_graph torch's batch_norm and layer_norm grads are outputs of their
    backward op's node (``Native...BackwardBackward0``): the composite's grads pass through
    one named so."""
    cls = _AGAIN.get(type(n))
    if cls is None:
        return out
    return [g if g is None or not g._requires_grad else attach(cls(), g._data, (g,))
            for g in out]


class _NormNode(Node):
    """Computes the grads of input, weight and bias in one call."""

    __slots__ = ()

    def apply(self, grad):
        if self._freed:
            raise RuntimeError(SECOND_BACKWARD)
        check_saved_versions(self)
        need = [e[0] is not None for e in self.next_functions]
        if _grad_mode.enabled and type(self) is NativeLayerNormBackward0:
            return _layer_backward_op(self, grad, need)
        if _grad_mode.enabled and _half_batch(self):
            return _batch_backward_op(self, grad, need)
        grads = _grads(self, grad, need)
        return _again(self, grads) if _grad_mode.enabled else grads


def _layer_backward_op(n, grad, need):
    """Under create_graph: native_layer_norm_backward's outputs (the kernel's values), hung
    from one NativeLayerNormBackwardBackward0 whose grads are torch's
    layer_norm_double_backward."""
    _grad_mode.enabled = False
    try:
        grads = _layer_kernel_grads(n, grad, need)
    finally:
        _grad_mode.enabled = True
    inputs = (grad, n.self_, n.weight)
    if not needs_grad(*inputs):
        return grads
    node = NativeLayerNormBackwardBackward0()
    node.grad_out, node.self_, node.weight = grad, n.self_, n.weight
    dtype = n.self_._data.dtype
    node.mean, node.invstd = n.mean.astype(dtype), n.invstd.astype(dtype)
    node.axes = n.axes
    return _hang(node, grads, inputs)


def _layer_double_grads(n, grads):
    """torch's layer_norm_double_backward, op for op on the input's dtype: the grads of
    grad_out, input and weight from those of the first backward's three outputs."""
    ggI, ggG, ggB = (list(grads) + [None, None, None])[:3]
    x, w, g = n.self_, n.weight, n.grad_out
    shape = x._data.shape
    cols = math.prod(shape[i] for i in n.axes)
    rows = x._data.size // max(cols, 1)
    inp = x.reshape(rows, cols)
    g_o = g.reshape(rows, cols)
    mu = make(n.mean).reshape(rows, 1)
    s12 = make(n.invstd).reshape(rows, 1)
    affine = w is not None
    gamma = w.reshape(1, cols) if affine else make(np.ones(1, x._data.dtype))
    ggg = ggG.reshape(1, cols) if affine and ggG is not None else None
    ggb = ggB.reshape(1, cols) if affine and ggB is not None else None
    ggi = None if ggI is None else ggI.reshape(rows, cols)
    sub_mu = inp - mu
    s1 = s12.pow(2)
    s32 = s12.pow(3)
    mu_s32 = sub_mu * s32
    g_i = None
    if ggi is not None:
        gxhat = g_o * gamma
        gxhat_mu_sum = (gxhat * sub_mu).sum(1, keepdim=True)
        gxhat_sum = gxhat.sum(1, keepdim=True)
        ggi_sum = ggi.sum(1, keepdim=True)
        ggi_mu_sum = (ggi * sub_mu).sum(1, keepdim=True)
        all_sub = ((ggi_sum * gxhat_sum) / cols - (ggi * gxhat).sum(1, keepdim=True)
                   + (s1 * gxhat_mu_sum * ggi_mu_sum) * (3.0 / cols))
        g_i = ((mu_s32 * all_sub) / cols
               + ((ggi_mu_sum * s32) / cols) * (gxhat_sum / cols - gxhat)
               + ((gxhat_mu_sum * s32) / cols) * (ggi_sum / cols - ggi))
    if ggg is not None:
        t0 = g_o * ggg * s12
        t1 = (s12 * (g_o * ggg).sum(1, keepdim=True)) / -cols
        t2 = (mu_s32 * (g_o * ggg * sub_mu).sum(1, keepdim=True)) / -cols
        term = t0 + t1 + t2
        g_i = term if g_i is None else g_i + term

    def first_backward(g_local, gamma_local):
        h0 = (gamma_local * s12) / cols
        h1 = (cols * g_local - g_local.sum(1, keepdim=True)
              - (sub_mu * s1) * (g_local * sub_mu).sum(1, keepdim=True))
        return h0 * h1

    g_g = None
    if affine and ggi is not None:
        g_g = (g_o * first_backward(ggi, make(np.ones((), x._data.dtype)))).sum(0)
        g_g = g_g.reshape(w._data.shape)
    gg_o = None if ggi is None else first_backward(ggi, gamma)
    if ggg is not None:
        term = ggg * sub_mu * s12
        gg_o = term if gg_o is None else gg_o + term
    if ggB is not None:
        if ggb is None and gg_o is not None:  # torch adds an undefined tensor
            raise RuntimeError("Expected a proper Tensor but got None (or an undefined Tensor "
                               "in C++) for argument #1 'other'")
        gg_o = ggb if gg_o is None else gg_o + ggb
    if gg_o is not None:
        gg_o = gg_o.expand(rows, cols).reshape(shape)
    return [gg_o, None if g_i is None else g_i.reshape(shape), g_g]


def _batch_backward_op(n, grad, need):
    """Under create_graph (training, half): native_batch_norm_backward's outputs (the kernel's
    values), hung from one NativeBatchNormBackwardBackward0 whose grads are torch's
    batchnorm_double_backward."""
    _grad_mode.enabled = False
    try:
        grads = _batch_kernel_grads(n, grad, need)
    finally:
        _grad_mode.enabled = True
    inputs = (grad, n.self_, n.weight)
    if not needs_grad(*inputs):
        return grads
    node = NativeBatchNormBackwardBackward0()
    node.grad_out, node.self_, node.weight = grad, n.self_, n.weight
    dtype = n.self_._data.dtype
    if n.training:
        node.mean, node.invstd = n.mean.astype(dtype), n.invstd.astype(dtype)
    else:  # torch's running_mean and running_var.add(eps).pow(-0.5), in their dtype
        node.mean, node.invstd = n.dstats
    node.axes, node.training = n.axes, n.training
    return _hang(node, grads, inputs)


def _hang(node, grads, inputs):
    """The first backward's grads as the outputs (numbered 0, 1, 2) of ``node``."""
    node.n_outputs = 3
    out = [None, None, None]
    first = True
    for k, g in enumerate(grads):
        if g is None:
            continue
        if first:
            t = attach(node, g._data, inputs)
            first = False
        else:
            t = make(g._data, True, node)
        t._output_nr = k
        out[k] = t
    return out


def _sum_but_1(t, keepdim=True):
    """torch's sum_exclude_dim1: dim 0, then the trailing dims from the last."""
    r = t.sum(0, keepdim=keepdim)
    start = 1 if keepdim else 0
    for d in range(r.dim() - 1, start, -1):
        r = r.sum(d, keepdim=keepdim)
    return r


def _batch_double_grads(n, grads):
    """torch's batchnorm_double_backward (training), op for op on the input's dtype: the grads
    of grad_out, input and weight from those of the first backward's three outputs."""
    ggI, ggG, ggB = (list(grads) + [None, None, None])[:3]
    x, w, g_o = n.self_, n.weight, n.grad_out
    ndim = x.dim()
    stat = (1, -1) + (1,) * (ndim - 2)
    affine = w is not None
    gamma = w.reshape(stat).expand(x._data.shape) if affine else make(
        np.ones((), x._data.dtype))
    ggg = ggG.reshape(stat).expand(x._data.shape) if affine and ggG is not None else None
    ggb = ggB.reshape(stat).expand(x._data.shape) if affine and ggB is not None else None
    m = max(x._data.size // max(x._data.shape[1], 1), 1)
    mu = make(n.mean).reshape(stat)
    sub_mu = x - mu
    s12 = make(n.invstd).reshape(stat)
    s1 = s12.pow(2)
    s32 = s12.pow(3)
    mu_s32 = sub_mu * s32
    go_mu_sum = _sum_but_1(g_o * sub_mu)
    go_sum = _sum_but_1(g_o)
    g_i = None
    if not n.training:
        return _batch_eval_double(n, ggI, ggB, ggg, ggb, gamma, affine, sub_mu, s12)
    if ggI is not None:
        ggi_sum = _sum_but_1(ggI)
        ggi_mu_sum = _sum_but_1(ggI * sub_mu)
        all_sub = ((ggi_sum * go_sum) / m - _sum_but_1(g_o * ggI)
                   + (s1 * go_mu_sum * ggi_mu_sum) * (3.0 / m))
        g_i = gamma * ((mu_s32 * all_sub) / m
                       + ((ggi_mu_sum * s32) / m) * (go_sum / m - g_o)
                       + ((go_mu_sum * s32) / m) * (ggi_sum / m - ggI))
    if ggg is not None:
        t0 = g_o * s12
        t1 = (s12 * go_sum) / -m
        t2 = (mu_s32 * _sum_but_1(g_o * sub_mu)) / -m
        term = ggg * (t0 + t1 + t2)
        g_i = term if g_i is None else g_i + term

    def first_backward(g_local, gamma_local):
        h0 = (gamma_local * s12) / m
        h1 = (m * g_local - _sum_but_1(g_local)
              - (sub_mu * s1) * _sum_but_1(g_local * sub_mu))
        return h0 * h1

    g_g = None
    if affine and ggI is not None:
        g_g = _sum_but_1(ggI * first_backward(g_o, make(np.ones((), x._data.dtype))), False)
    gg_o = None if ggI is None else first_backward(ggI, gamma)
    if ggg is not None:
        term = ggg * sub_mu * s12
        gg_o = term if gg_o is None else gg_o + term
    if ggB is not None:
        if ggb is None and gg_o is not None:  # torch adds an undefined tensor
            raise RuntimeError("Expected a proper Tensor but got None (or an undefined Tensor "
                               "in C++) for argument #1 'other'")
        gg_o = ggb if gg_o is None else gg_o + ggb
    return [gg_o, g_i, g_g]


def _batch_eval_double(n, ggI, ggB, ggg, ggb, gamma, affine, sub_mu, s12):
    """batchnorm_double_backward in evaluation mode."""
    g_o = n.grad_out
    g_i = None if ggg is None else ggg * s12 * g_o
    g_g = None
    if affine and ggI is not None:
        g_g = _sum_but_1(ggI * g_o * s12, False)
    gg_o = None if ggI is None else ggI * s12 * gamma
    if ggg is not None:
        term = ggg * sub_mu * s12
        gg_o = term if gg_o is None else gg_o + term
    if ggB is not None:
        if ggb is None and gg_o is not None:
            raise RuntimeError("Expected a proper Tensor but got None (or an undefined Tensor "
                               "in C++) for argument #1 'other'")
        gg_o = ggb if gg_o is None else gg_o + ggb
    return [gg_o, g_i, g_g]


def _double_node(grads_of):
    """The base of a norm's double-backward node: ``grads_of(node, grads)`` gives the grads
    of (grad_out, input, weight) at once; inputs that take no grad get None."""

    class DoubleNode(MultiOutputNode):
        __slots__ = ()

        def apply(self, grads):
            if self._freed:
                raise RuntimeError(SECOND_BACKWARD)
            out = grads_of(self, grads)
            return [None if e[0] is None else gr for gr, e in zip(out, self.next_functions,
                                                                  strict=False)]

    return DoubleNode


NativeBatchNormBackwardBackward0 = backward_node(
    "NativeBatchNormBackwardBackward0",
    saved=("grad_out", "self_", "weight", "mean", "invstd"), fields=("axes", "training"),
    base=_double_node(_batch_double_grads), grad_out=None, input=None, weight=None)


NativeLayerNormBackwardBackward0 = backward_node(
    "NativeLayerNormBackwardBackward0",
    saved=("grad_out", "self_", "weight", "mean", "invstd"), fields=("axes",),
    base=_double_node(_layer_double_grads), grad_out=None, input=None, weight=None)


def _node(name):
    return backward_node(
        name, saved=("self_", "weight", "mean", "invstd"),
        fields=("axes", "grouped", "wshape", "bshape", "bdtype", "eps", "training", "dstats"),
        base=_NormNode,
        input=lambda n, g: _grads(n, g, (True, False, False))[0],
        weight=lambda n, g: _grads(n, g, (False, True, False))[1],
        bias=lambda n, g: _grads(n, g, (False, False, True))[2])


NativeBatchNormBackward0 = _node("NativeBatchNormBackward0")
NativeLayerNormBackward0 = _node("NativeLayerNormBackward0")
for _cls in (NativeBatchNormBackward0,):
    _AGAIN[_cls] = backward_node(_cls.__name__.replace("Backward0", "BackwardBackward0"),
                                 grad=lambda n, g: g)


def _finish(node_cls, input, weight, bias, y, mean, invstd, axes, grouped, wshape, eps,
            training, affine=True):
    """``y`` (wide) as the op's output: affine applied (unless done), hung from the node."""
    dtype = input._data.dtype
    if affine and weight is not None:
        y = y * _wide(weight._data).reshape(wshape)
    if affine and bias is not None:
        y = y + _wide(bias._data).reshape(wshape)
    out = np.ascontiguousarray(y.astype(dtype, copy=False))
    if needs_grad(input, weight, bias):
        node = node_cls()
        node.self_, node.weight, node.mean, node.invstd = input, weight, mean, invstd
        node.axes, node.grouped, node.wshape, node.eps = axes, grouped, wshape, eps
        node.training = training
        node.bshape = None if bias is None else bias._data.shape
        node.bdtype = None if bias is None else bias._data.dtype
        return attach(node, out, (input, weight, bias))
    return make(out)


_last_stats = [None]  # the statistics of the latest batch_norm/layer_norm (native_* return them)


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """torch.native_layer_norm: (output, mean, rstd); mean and rstd need no grad."""
    out = layer_norm(input, normalized_shape, weight, bias, eps)
    mean, invstd = _last_stats[0]
    dtype = input._data.dtype
    return out, make(mean.astype(dtype)), make(invstd.astype(dtype))


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum,
                      eps):
    """torch.native_batch_norm: (output, save_mean, save_invstd), the saved statistics
    empty in evaluation mode; they need no grad."""
    out = batch_norm_op(input, weight, bias, running_mean, running_var, training, momentum,
                        eps)
    acc = input._data.dtype  # the statistics come back in the input's dtype, half too
    if not training or input._data.size == 0:
        empty = np.zeros(0 if not training else input._data.shape[1], acc)
        return out, make(empty), make(empty.copy())
    mean, invstd = _last_stats[0]
    return out, make(mean.reshape(-1).astype(acc)), make(invstd.reshape(-1).astype(acc))


def _stats(xs, axes, eps):
    mean = xs.mean(axes, keepdims=True)
    centered = xs - mean
    var = (centered * centered).mean(axes, keepdims=True)
    return centered, mean, var


# ================================================================= batch norm
def _check_size(t, name, c):
    if t is not None and t._data.size != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t._data.size}")


@silent
def batch_norm_op(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """torch.batch_norm (native_batch_norm's output): statistics over every dim but 1."""
    x = input._data
    c = x.shape[1] if x.ndim > 1 else 0
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_size(t, name, c)
    if not training and (running_mean is None or running_var is None):
        which = "running_mean" if running_mean is None else "running_var"
        raise RuntimeError(f"{which} must be defined in evaluation mode")
    _check_float(x, "batch_norm")
    if x.size == 0:  # torch: a clone (not a view, not a fresh tensor), scaled and shifted
        out = S.clone(input)
        if weight is not None:
            out = E.mul(out, S.select(weight, 0, 0))
        if bias is not None:
            out = E.add(out, S.select(bias, 0, 0))
        return out
    axes = (0,) + tuple(range(2, x.ndim))
    wshape = (1, c) + (1,) * (x.ndim - 2)
    xw = _wide(x)
    if training:  # statistics accumulated in double, as torch's CPU kernel (acc_type)
        xd = x.astype(np.float64)
        mean64 = xd.mean(axes, keepdims=True)
        var = ((xd - mean64) ** 2).mean(axes, keepdims=True)
        mean = mean64.astype(xw.dtype)
        invstd = (1 / np.sqrt(var + eps)).astype(xw.dtype)
        count = x.size // max(c, 1)
        for t, value in ((running_mean, mean), (running_var, var * (count / max(count - 1, 1)))):
            if t is not None:
                data = t._data
                updated = (1 - momentum) * data + momentum * value.reshape(-1).astype(data.dtype)
                data[...] = updated  # torch's kernel writes them without a version bump
    else:
        mean = _wide(running_mean._data).reshape(wshape)
        invstd = 1 / np.sqrt(_wide(running_var._data).reshape(wshape) + eps)
    if training and x.dtype == np.float16:
        # half: the statistics saved in half, the output ((x - mean) * invstd) * w + b in float
        mean, invstd = _wide(mean.astype(np.float16)), _wide(invstd.astype(np.float16))
        _last_stats[0] = (mean, invstd)
        return _finish(NativeBatchNormBackward0, input, weight, bias, (xw - mean) * invstd,
                       mean, invstd, axes, None, wshape, eps, training)
    # torch's transform: x * alpha + beta, alpha = invstd * weight, beta = bias - mean * alpha
    alpha = invstd if weight is None else invstd * _wide(weight._data).reshape(wshape)
    beta = -mean * alpha if bias is None else _wide(bias._data).reshape(wshape) - mean * alpha
    y = _fma(xw, alpha, beta)
    _last_stats[0] = (mean, invstd)
    out = _finish(NativeBatchNormBackward0, input, weight, bias, y, mean, invstd, axes, None,
                  wshape, eps, training, affine=False)
    if not training and x.dtype == np.float16 and out._grad_fn is not None:
        # what torch's double backward reads: running_mean, running_var.add(eps).pow(-0.5)
        rv = running_var._data.reshape(wshape)
        shifted = (rv + np.float32(eps)).astype(rv.dtype)
        s12 = (1 / np.sqrt(shifted.astype(np.float32))).astype(rv.dtype)
        out._grad_fn.dstats = (running_mean._data.reshape(wshape), s12)
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """F.batch_norm."""
    if training:
        _verify_batch_size(input._data.shape)
    return batch_norm_op(input, weight, bias, running_mean, running_var, training, momentum,
                         eps)


def torch_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
                     cudnn_enabled=True):
    """torch.batch_norm."""
    return batch_norm_op(input, weight, bias, running_mean, running_var, training, momentum,
                         eps)


def _size_text(shape):
    return "torch.Size([" + ", ".join(map(str, shape)) + "])"


def _verify_batch_size(shape):
    size = shape[0] if shape else 1
    for s in shape[2:]:
        size *= s
    if size == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {_size_text(shape)}")


def _verify_spatial_size(shape):
    size = 1
    for s in shape[2:]:
        size *= s
    if size == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input "
                         f"size {_size_text(shape)}")


# ================================================================= layer and group norm
def _normalized(normalized_shape):
    if isinstance(normalized_shape, int):
        return [normalized_shape]
    shape = [int(s) for s in normalized_shape]
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    return shape


@silent
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    x = input._data
    shape = _normalized(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or list(x.shape[x.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={_show(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{_show(x.shape)}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and list(t._data.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {_show(t._data.shape)} and "
                               f"normalized_shape = {_show(shape)}")
    _check_float(x, "LayerNormKernelImpl")
    axes = tuple(range(x.ndim - k, x.ndim))
    xw = _wide(x)
    centered, mean, var = _stats(xw, axes, eps)
    invstd = 1 / np.sqrt(var + eps)
    wshape = (1,) * (x.ndim - k) + tuple(shape)
    y = _fma(xw, invstd, -invstd * mean)  # torch's kernel: x * rstd + (-rstd * mean)
    _last_stats[0] = (mean, invstd)
    return _finish(NativeLayerNormBackward0, input, weight, bias, y, mean, invstd, axes, None,
                   wshape, eps, True)


def native_group_norm_op(input, num_groups, weight=None, bias=None, eps=1e-5):
    """(output, mean, rstd) of group_norm, all three outputs of one node."""
    x = input._data
    n, c = x.shape[0], x.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {_show(x.shape)} and "
                           f"num_groups={num_groups}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and (t._data.ndim != 1 or t._data.size != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape "
                               f"{_show(t._data.shape)} and input of shape {_show(x.shape)}")
    _check_float(x, "GroupNormKernelImpl")
    grouped = (n, num_groups, x.size // max(n * num_groups, 1))
    xw = _wide(x)
    centered, mean, var = _stats(xw.reshape(grouped), (2,), eps)
    invstd = 1 / np.sqrt(var + eps)
    # torch's fused parameters per (sample, channel): scale = rstd * gamma, bias = beta -
    # scale * mean, then x * scale + bias
    per = c // num_groups
    scale = np.repeat(invstd.reshape(n, num_groups), per, axis=1)
    shift = np.repeat(mean.reshape(n, num_groups), per, axis=1)
    if weight is not None:
        scale = scale * _wide(weight._data)
    shift = -scale * shift
    if bias is not None:
        shift = shift + _wide(bias._data)
    spatial = (1,) * (x.ndim - 2)
    y = _fma(xw, scale.reshape((n, c) + spatial), shift.reshape((n, c) + spatial))
    out = np.ascontiguousarray(y.astype(x.dtype, copy=False))
    return group_norm_outputs(input, weight, bias, out, mean, invstd, grouped, eps)


@silent
def torch_group_norm(input, num_groups, weight=None, bias=None, eps=1e-5,
                     cudnn_enabled=True):
    """torch.group_norm: native_group_norm's output."""
    return native_group_norm_op(input, num_groups, weight, bias, eps)[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """F.group_norm: its Python checks, then torch.group_norm."""
    shape = input._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{len(shape)}")
    _verify_batch_size([shape[0] * shape[1] // num_groups, num_groups] + list(shape[2:]))
    return torch_group_norm(input, num_groups, weight, bias, eps)


# ================================================================= composites
def torch_instance_norm(input, weight, bias, running_mean, running_var, use_input_stats,
                        momentum, eps, cudnn_enabled=True):
    """torch.instance_norm: batch_norm of the input viewed as ``(1, N*C, ...)``, the running
    statistics repeated per sample and averaged back."""
    x = input._data
    b, c = x.shape[0], x.shape[1]
    reshaped = S.view(S.contiguous(input), (1, b * c) + x.shape[2:])
    w = None if weight is None else S.repeat(weight, b)
    bi = None if bias is None else S.repeat(bias, b)
    rm = None if running_mean is None else make(np.tile(running_mean._data, b))
    rv = None if running_var is None else make(np.tile(running_var._data, b))
    out = batch_norm_op(reshaped, w, bi, rm, rv, use_input_stats, momentum, eps)
    for t, tiled in ((running_mean, rm), (running_var, rv)):
        if t is not None and use_input_stats:
            t._data[...] = tiled._data.reshape(b, c).mean(0).astype(t._data.dtype)
    return S.view(out, x.shape)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """F.instance_norm."""
    if use_input_stats:
        _verify_spatial_size(input._data.shape)
    return torch_instance_norm(input, weight, bias, running_mean, running_var,
                               use_input_stats, momentum, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """torch's composite rms_norm: ``x * rsqrt(mean(x**2) + eps) * weight``, half in float."""
    x = input._data
    shape = _normalized(normalized_shape)
    k = len(shape)
    if x.ndim < k or list(x.shape[x.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={_show(shape)}, expected input with shape "
                           f"[*{', '.join(map(str, shape))}], but got input of size"
                           f"{_show(x.shape)}")
    if weight is not None and list(weight._data.shape) != shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got "
                           f"weight of shape {_show(weight._data.shape)} and normalized_shape "
                           f"= {_show(shape)}")
    wide = x.dtype in _WIDE
    up = E.to(input, float32) if wide else input
    if eps is None:
        eps = float(np.finfo(np.float32 if wide else x.dtype).eps)
    dims = list(range(x.ndim - k, x.ndim))
    scale = E.rsqrt(E.add(R.mean(E.pow(up, 2), dims, keepdim=True), eps))
    result = E.mul(up, scale)
    if weight is not None:
        result = E.mul(result, weight)
    if wide:
        result = E.to(result, input.dtype)
    return result


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """F.local_response_norm: the squares averaged over ``size`` neighbouring channels."""
    x = input._data
    dim = x.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if x.size == 0:
        return input
    div = E.mul(input, input)
    if dim == 3:
        div = S.unsqueeze(div, 1)
        div = CV.constant_pad_nd(div, [0, 0, size // 2, (size - 1) // 2])
        div = S.squeeze(PL.avg_pool2d(div, (size, 1), stride=1), 1)
    else:
        sizes = x.shape
        div = S.view(div, (sizes[0], 1, sizes[1], sizes[2], -1))
        div = CV.constant_pad_nd(div, [0, 0, 0, 0, size // 2, (size - 1) // 2])
        div = S.squeeze(PL.avg_pool3d(div, (size, 1, 1), stride=1), 1)
        div = S.view(div, sizes)
    div = E.pow(E.add(E.mul(div, alpha), k), beta)
    return E.div(input, div)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """F.normalize: ``input / norm.clamp_min(eps).expand_as(input)``."""
    denom = R.norm(input, p, dim, keepdim=True)
    denom = S.expand_as(E.clamp_min(denom, eps), input)
    if out is None:
        return E.div(input, denom)
    return E.div(input, denom, out=out)


__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm",
           "local_response_norm", "normalize"]
