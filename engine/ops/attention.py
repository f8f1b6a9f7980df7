"""Attention: F.scaled_dot_product_attention as torch runs it on CPU, and
F.multi_head_attention_forward (torch's Python composite).

torch picks one of two CPU implementations: its flash kernel (one node,
ScaledDotProductFlashAttentionForCpuBackward0, whose backward has no derivative of its own)
for 4-d inputs with unit last-dim strides, no dropout and a mask that needs no grad; the
math composite otherwise (``q * s``, ``k.transpose(-2, -1) * s``, matmul, the mask added in
place, ``_safe_softmax`` (SafeSoftmaxBackward0: fully masked rows are zeros, not NaN),
dropout from the engine's generator, matmul), built here from engine ops in torch's order so
the graph and its grad_fns are torch's.  Half inputs run in float and are cast back.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._tensor import make
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import SECOND_BACKWARD, Node, attach, backward_node, check_saved_versions
from ..runtime.quiet import silent
from . import dropout as D
from . import elementwise as E
from . import linalg as L
from . import nn as N
from . import rearrange as RA
from . import shape as S
from .formulas import mul_scalar
from .operands import needs_grad

# ================================================================= _safe_softmax
SafeSoftmaxBackward0 = backward_node(
    "SafeSoftmaxBackward0", saved=("_result",), fields=("dim",),
    self=lambda n, g: N.softmax_backward_data(g, n.result, n.dim))


@silent
def _softmax_array(x, dim):
    top = x.max(dim, keepdims=True)
    finite = np.isfinite(top)
    e = np.exp(x - np.where(finite, top, 0))
    s = e.sum(dim, keepdims=True)
    out = e / s
    return np.where(np.isneginf(x).all(dim, keepdims=True), 0, out).astype(x.dtype)


def safe_softmax(input, dim):
    """torch's ``_safe_softmax``: softmax, with rows of only -inf giving zeros."""
    x = input._data
    dim = dim % x.ndim
    wide = x.dtype == np.float16
    out = _softmax_array(x.astype(np.float32) if wide else x, dim).astype(x.dtype)
    if needs_grad(input):
        node = SafeSoftmaxBackward0()
        node.dim = dim
        result = attach(node, out, (input,))
        node._result = out
        return result
    return make(out)


# ================================================================= checks
def _validate(query, key, value, attn_mask):
    q, k, v = query._data, key._data, value._data
    if not (q.dtype == k.dtype == v.dtype):
        raise RuntimeError(
            f"Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead.")
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(
            f"Expected query, key, and value to all be  at least 2 dimensional, but got "
            f"query.dim: {q.ndim} key.dim: {k.ndim} and value.dim: {v.ndim} instead.")
    if attn_mask is not None:
        m = attn_mask._data
        if m.dtype not in (np.bool_, np.float32, q.dtype):
            raise RuntimeError(
                f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                f"attn_mask.dtype: {attn_mask.dtype} and  query.dtype: {query.dtype} instead.")


def _additive(mask, dtype):
    """torch's convert_boolean_attn_mask: a bool mask as 0 / -inf of ``dtype``."""
    if mask._data.dtype == np.bool_:
        out = np.zeros(mask._data.shape, dtype.np)
        out[~mask._data] = -np.inf
        return make(out)
    return mask


def _uses_flash(q, k, v, mask, dropout_p):
    if not (q._data.ndim == k._data.ndim == v._data.ndim == 4):
        return False
    if not (q._data.shape[-1] == k._data.shape[-1] == v._data.shape[-1]):
        return False  # the CPU flash kernel needs one head size for query, key and value
    if dropout_p > 0.0 or (mask is not None and mask._requires_grad):
        return False
    for t in (q, k, v):
        data = t._data
        if data.shape[-1] > 1 and data.strides[-1] != data.itemsize:
            return False
        if 0 in data.shape:
            return False
    return True


# ================================================================= flash (one node)
def _expand_heads(x, heads):
    """k/v heads repeated to the query's (grouped-query attention)."""
    if x.shape[-3] == heads:
        return x
    return np.repeat(x, heads // x.shape[-3], axis=-3)


_NO_DERIVATIVE = ("derivative for aten::_scaled_dot_product_flash_attention_for_cpu_backward "
                  "is not implemented")


def _not_implemented(n, g):
    raise RuntimeError(_NO_DERIVATIVE)


NotImplemented_ = backward_node(  # torch's node for a backward op without a derivative
    "NotImplemented", grad_out=_not_implemented, query=_not_implemented, key=_not_implemented,
    value=_not_implemented)


def _flash_grads(n, g, need):
    grads = _flash_arrays(n, g, need)
    if not _grad_mode.enabled:
        return grads
    out = []
    for grad in grads:
        if grad is None or not needs_grad(g, n.query, n.key, n.value):
            out.append(grad)
            continue
        out.append(attach(NotImplemented_(), grad._data, (g, n.query, n.key, n.value)))
    return out


def _flash_arrays(n, g, need):
    q, k, v = (t._data for t in (n.query, n.key, n.value))
    dtype = q.dtype
    acc = np.float64 if dtype == np.float64 else np.float32
    heads = q.shape[-3]
    qa, ka, va = (x.astype(acc) for x in (q, _expand_heads(k, heads), _expand_heads(v, heads)))
    p = n._probs
    do = g._data.astype(acc)
    dv = np.matmul(np.swapaxes(p, -1, -2), do)
    dp = np.matmul(do, np.swapaxes(va, -1, -2))
    ds = p * (dp - (dp * p).sum(-1, keepdims=True))
    dq = np.matmul(ds, ka) * n.scale
    dk = np.matmul(np.swapaxes(ds, -1, -2), qa) * n.scale
    out = []
    for grad, t, want in ((dq, q, need[0]), (dk, k, need[1]), (dv, v, need[2])):
        if not want:
            out.append(None)
            continue
        if grad.shape[-3] != t.shape[-3]:
            grad = grad.reshape(grad.shape[:-3] + (t.shape[-3], -1) + grad.shape[-2:]).sum(-3)
        out.append(make(np.ascontiguousarray(grad.astype(dtype))))
    return out


class _FlashNode(Node):
    __slots__ = ()

    def apply(self, grad):
        if self._freed:
            raise RuntimeError(SECOND_BACKWARD)
        check_saved_versions(self)
        return _flash_grads(self, grad, [e[0] is not None for e in self.next_functions])


ScaledDotProductFlashAttentionForCpuBackward0 = backward_node(
    "ScaledDotProductFlashAttentionForCpuBackward0", saved=("query", "key", "value", "_probs"),
    fields=("scale",), base=_FlashNode,
    query=lambda n, g: _flash_grads(n, g, (True, False, False))[0],
    key=lambda n, g: _flash_grads(n, g, (False, True, False))[1],
    value=lambda n, g: _flash_grads(n, g, (False, False, True))[2])


@silent
def _flash(query, key, value, mask, is_causal, scale):
    q, k, v = query._data, key._data, value._data
    dtype = q.dtype
    acc = np.float64 if dtype == np.float64 else np.float32
    heads = q.shape[-3]
    qa, ka, va = (x.astype(acc) for x in (q, _expand_heads(k, heads), _expand_heads(v, heads)))
    scores = np.matmul(qa, np.swapaxes(ka, -1, -2)) * acc(scale)
    if is_causal:
        causal = np.tril(np.ones(scores.shape[-2:], bool))
        scores = np.where(causal, scores, -np.inf)
    if mask is not None:
        scores = scores + _additive(mask, _dtype.from_numpy(dtype))._data.astype(acc)
    probs = _softmax_array(scores, -1)
    out = np.ascontiguousarray(np.matmul(probs, va).astype(dtype))
    if needs_grad(query, key, value):
        node = ScaledDotProductFlashAttentionForCpuBackward0()
        node.query, node.key, node.value, node._probs = query, key, value, probs
        node.scale = scale
        return attach(node, out, (query, key, value))
    return make(out)


# ================================================================= the composite
def _check_gqa(query, key, value, enable_gqa):
    qh, kh, vh = query._data.shape[-3], key._data.shape[-3], value._data.shape[-3]
    if enable_gqa and (qh % kh or qh % vh):
        raise RuntimeError("Number of heads in key and value must divide the number of heads "
                           "in query")
    return qh


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """F.scaled_dot_product_attention (torch's CPU dispatch: flash or math)."""
    _validate(query, key, value, attn_mask)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                           "set when is_causal=True")
    q = query._data
    base = (1.0 / math.sqrt(q.shape[-1])) if scale is None else scale
    if (q.ndim == 4 and enable_gqa):
        _check_gqa(query, key, value, enable_gqa)
    if _uses_flash(query, key, value, attn_mask, dropout_p) and (
            enable_gqa or key._data.shape[-3] == q.shape[-3] == value._data.shape[-3]):
        return _flash(query, key, value, attn_mask, is_causal, base)
    return _math(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)


def _math(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa):
    origin = query.dtype
    if query._data.dtype == np.float16:
        query, key, value = (E.to(t, _dtype.float32) for t in (query, key, value))
    if enable_gqa and query._data.ndim >= 3:
        heads = _check_gqa(query, key, value, enable_gqa)
        kh, vh = key._data.shape[-3], value._data.shape[-3]
        if kh != heads:
            key = RA.repeat_interleave(key, heads // kh, -3)
        if vh != heads:
            value = RA.repeat_interleave(value, heads // vh, -3)
    negative = scale is not None and scale < 0.0
    base = (1.0 / math.sqrt(query._data.shape[-1])) if scale is None else abs(scale)
    factor = math.sqrt(base)
    q = mul_scalar(query, 0.0 - factor if negative else factor)
    mask = None if attn_mask is None else _additive(attn_mask, query.dtype)
    if is_causal:
        rows, cols = q._data.shape[-2], key._data.shape[-2]
        mask = _additive(make(np.tril(np.ones((rows, cols), bool))), query.dtype)
    attn = L.matmul(q, mul_scalar(S.transpose(key, -2, -1), factor))
    if mask is not None:
        if mask._data.dtype != attn._data.dtype:
            mask = E.to(mask, attn.dtype)
        attn = E.add(attn, mask)  # torch adds in place into matmul's fresh result
    attn = safe_softmax(attn, -1)
    if dropout_p > 0.0:
        attn = D.dropout(attn, dropout_p, True)
    out = L.matmul(attn, value)
    if out.dtype != origin:
        out = E.to(out, origin)
    return out


__all__ = ["scaled_dot_product_attention", "safe_softmax"]
