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
import warnings

import numpy as np

from .. import _dtype
from .._tensor import make
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import SECOND_BACKWARD, Node, attach, backward_node, check_saved_versions
from ..runtime.quiet import silent
from . import creation as C
from . import dropout as D
from . import elementwise as E
from . import linalg as L
from . import nn as N
from . import products as PR
from . import rearrange as RA
from . import resampling as RS
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
_CPP_NAMES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double",  # TypeMeta names
              np.dtype(np.float16): "c10::Half", np.dtype(np.int64): "long int",
              np.dtype(np.int32): "int", np.dtype(np.uint8): "unsigned char",
              np.dtype(np.bool_): "bool", np.dtype(np.int16): "short int",
              np.dtype(np.int8): "signed char"}


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
                f"attn_mask.dtype: {_CPP_NAMES.get(m.dtype, m.dtype)} and  query.dtype: "
                f"{_CPP_NAMES.get(q.dtype, q.dtype)} instead.")


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


def _in_layout_of(values, like):
    """``values`` (same shape as ``like``) copied into memory ordered as ``like``'s."""
    order = sorted(range(like.ndim), key=lambda d: -abs(like.strides[d]))
    out = np.empty([like.shape[d] for d in order], values.dtype)
    out[...] = values.transpose(order)
    return out.transpose(np.argsort(order))


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
    # the kernel's output takes the query's memory layout (MHA's heads view stays a view)
    out = _in_layout_of(np.matmul(probs, va).astype(dtype), q)
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


# ================================================================= multi-head attention
def _canonical_mask(mask, name, other_type, other_name, target_type, check_other=True):
    """A bool mask as an additive float mask of ``target_type`` (-inf where True)."""
    if mask is None:
        return None
    kind = mask._data.dtype
    if kind != np.bool_ and kind.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=3)
    if kind.kind != "f":
        return C.zeros_like(mask, dtype=target_type).masked_fill_(mask, float("-inf"))
    return mask


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the inputs are batched (3-d) or not (2-d), with F's checks."""
    q, k, v = query.dim(), key.dim(), value.dim()
    if q == 3:
        if k != 3 or v != 3:
            raise AssertionError(f"For batched (3-D) `query`, expected `key` and `value` to be "
                                 f"3-D but found {k}-D and {v}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(
                f"For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D "
                f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(
                f"For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                f"found {attn_mask.dim()}-D tensor instead")
        return True
    if q == 2:
        if k != 2 or v != 2:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key` and `value` to "
                                 f"be 2-D but found {k}-D and {v}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(
                f"For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(
                    f"For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or "
                    f"3-D but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                         f"{attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {q}-D "
                         "query tensor")


def _split_heads_packed(proj, parts, embed):
    """``(..., parts * E)`` projections as ``parts`` contiguous ``(..., E)`` tensors, the way
    F's packed projection separates them (unflatten, unsqueeze, transpose, squeeze)."""
    proj = proj.unflatten(-1, (parts, embed)).unsqueeze(0).transpose(0, -2).squeeze(-2)
    return proj.contiguous()


def _in_projection_packed(q, k, v, w, b=None):
    embed = q.size(-1)
    if k is v:
        if q is k:  # self-attention: one product
            proj = _split_heads_packed(N.linear(q, w, b), 3, embed)
            return proj[0], proj[1], proj[2]
        w_q, w_kv = w.split([embed, embed * 2])
        b_q, b_kv = (None, None) if b is None else b.split([embed, embed * 2])
        kv = _split_heads_packed(N.linear(k, w_kv, b_kv), 2, embed)
        return N.linear(q, w_q, b_q), kv[0], kv[1]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return N.linear(q, w_q, b_q), N.linear(k, w_k, b_k), N.linear(v, w_v, b_v)


def _static(t, name, heads, head_dim):
    if t.size(0) != heads:
        raise AssertionError(f"expecting {name}.size(0) of {heads}, but got {t.size(0)}")
    if t.size(2) != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {t.size(2)}")
    return t


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """F.multi_head_attention_forward: torch's composite, op for op (projections, heads as a
    batch, baddbmm/softmax/bmm when the weights are returned, sdpa otherwise)."""
    batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       None if attn_mask is None else attn_mask.dtype,
                                       "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # sdpa's own causal mask
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
        biases = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = (N.linear(x, w, b) for x, w, b in zip(
            (query, key, value), (q_proj_weight, k_proj_weight, v_proj_weight), biases,
            strict=True))
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, key.shape[0]):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, key.shape[0])}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            expected = (bsz * num_heads, tgt_len, key.shape[0])
            if tuple(attn_mask.shape) != expected:
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {expected}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = S.cat([k, bias_k.repeat(1, bsz, 1)])
        v = S.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = RS.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = RS.pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    heads = bsz * num_heads
    q = q.view(tgt_len, heads, head_dim).transpose(0, 1)
    k = (k.view(k.shape[0], heads, head_dim).transpose(0, 1) if static_k is None
         else _static(static_k, "static_k", heads, head_dim))
    v = (v.view(v.shape[0], heads, head_dim).transpose(0, 1) if static_v is None
         else _static(static_v, "static_v", heads, head_dim))
    if add_zero_attn:
        k = S.cat([k, C.zeros((heads, 1, head_dim), dtype=k.dtype)], 1)
        v = S.cat([v, C.zeros((heads, 1, head_dim), dtype=v.dtype)], 1)
        if attn_mask is not None:
            attn_mask = RS.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = RS.pad(key_padding_mask, (0, 1))
    src_len = k.size(1)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but "
                                 f"got {key_padding_mask.shape}")
        key_padding_mask = key_padding_mask.view(bsz, 1, 1, src_len).expand(
            -1, num_heads, -1, -1).reshape(heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0
    if need_weights:
        scaled = q * math.sqrt(1.0 / float(q.shape[2]))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        if attn_mask is not None:
            weights = PR.baddbmm(attn_mask, scaled, k.transpose(-2, -1))
        else:
            weights = L.bmm(scaled, k.transpose(-2, -1))
        weights = N.softmax(weights, dim=-1)
        if dropout_p > 0.0:
            weights = D.dropout(weights, p=dropout_p)
        out = L.bmm(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = N.linear(out, out_proj_weight, out_proj_bias)
        out = out.view(tgt_len, bsz, out.size(1))
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.view(bsz, num_heads, src_len, head_dim)
    v = v.view(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = N.linear(out, out_proj_weight, out_proj_bias)
    out = out.view(tgt_len, bsz, out.size(1))
    if not batched:
        out = out.squeeze(1)
    return out, None


__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention", "safe_softmax"]
