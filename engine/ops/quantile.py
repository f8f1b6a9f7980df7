"""quantile and nanquantile: ATen's composite (sort, ranks, gather, lerp, squeeze_) written
with the engine's ops, so grads and their graph are torch's (the result's grad_fn is the
final in-place squeeze's SqueezeBackward4)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, make, wrap_dim
from . import fused as FU
from . import shape as S
from .indexing import gather
from .linalg import _squeeze_inplace
from .operands import needs_grad
from .scatter import masked_fill
from .sorting import sort

_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan):
    data = input._data
    scalar_q = not isinstance(q, Tensor)
    q_data = np.asarray(q, data.dtype) if scalar_q else q._data
    if data.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if q_data.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if q_data.dtype != data.dtype:
        raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    if interpolation not in _MODES:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest. Got {interpolation}")
    if not ((q_data >= 0) & (q_data <= 1)).all():
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    # the output's shape: q's size, then the reduced input's
    if dim is not None and data.ndim > 0:
        d = wrap_dim(dim, data.ndim)
        out_shape = list(data.shape)
        if keepdim:
            out_shape[d] = 1
        else:
            del out_shape[d]
    else:
        d = None
        out_shape = [1] * data.ndim if keepdim else []
    if dim is not None and data.ndim == 0:
        wrap_dim(dim, 1)
    if d is None:
        sorted_ = sort(S.flatten(input))[0]
    else:
        sorted_ = sort(S.transpose(S.unsqueeze(input, -1), d, -1))[0]
    n = sorted_._data.shape[-1]
    sorted_ = S.view(sorted_, out_shape + [n])
    nan = np.isnan(sorted_._data)
    if ignore_nan:
        ranks = q_data * (np.logical_not(nan).sum(-1, keepdims=True) - 1)
        ranks = np.where(ranks < 0, 0, ranks)
    else:
        last = n - 1
        ranks = np.where(nan.any(-1, keepdims=True), last, q_data * last)
    ranks = np.asarray(ranks, q_data.dtype)
    if interpolation == "lower":
        ranks = np.floor(ranks)
    elif interpolation == "higher":
        ranks = np.ceil(ranks)
    elif interpolation == "nearest":
        ranks = np.round(ranks)
    below = ranks.astype(np.int64)
    values = gather(sorted_, -1, make(below))
    if interpolation in ("linear", "midpoint"):
        if interpolation == "linear" and not scalar_q and needs_grad(q):
            weights = _ranks(q, sorted_, nan, ignore_nan) - make(below)  # q's grad flows here
        else:
            weights = np.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below
            weights = make(weights.astype(data.dtype))
        above = gather(sorted_, -1, make(np.ceil(ranks).astype(np.int64)))
        values = FU.lerp(values, above, weights)
    if q_data.ndim == 0:
        return _squeeze_inplace(values, values._data.ndim - 1)
    moved = S.transpose(S.unsqueeze(values, 0), 0, -1)
    return _squeeze_inplace(moved, moved._data.ndim - 1)


def _ranks(q, sorted_, nan, ignore_nan):
    """The ranks as engine ops on a ``q`` that requires grad, as ATen computes them: ``q``
    times the last index (or the count of non-NaN values less one), NaN rows masked."""
    if ignore_nan:
        ranks = q * make(np.logical_not(nan).sum(-1, keepdims=True) - 1)
        return masked_fill(ranks, make(ranks._data < 0), 0)
    last = sorted_._data.shape[-1] - 1
    ranks = q * last
    mask = nan.any(-1, keepdims=True)
    shape = np.broadcast_shapes(ranks._data.shape, mask.shape)
    return masked_fill(S.expand(ranks, shape), make(np.broadcast_to(mask, shape)), last)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)

