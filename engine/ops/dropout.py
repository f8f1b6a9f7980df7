"""The dropout family: ``dropout``, ``dropout1d/2d/3d`` (feature dropout), ``alpha_dropout``
and ``feature_alpha_dropout``, with masks drawn from the engine's generator as torch draws
them.

torch builds every one of them from ops (ATen's ``_dropout``): a noise tensor (the input's
shape, or ``(N, C, 1, ...)`` for feature dropout) filled by ``bernoulli_(1 - p)``, scaled by
``1 / (1 - p)`` (or, for alpha dropout, turned into ``noise * a`` and an offset ``b``), then
``input * noise`` (MulBackward0, ``mul_`` in place) plus ``b`` (AddBackward0).  ``p == 0``,
``training=False`` and an empty input return the input itself; ``p == 1`` multiplies by a
0-d zero and draws nothing.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _sampling as S
from .._tensor import Tensor, make
from ..autograd.inplace import check_inplace, commit
from ..autograd.node import attach, backward_node
from ..random import default_generator
from . import elementwise as E
from .operands import argument_error, needs_grad
from .shape import SqueezeBackward4

_ALPHA = 1.7580993408473766  # SELU's -scale * alpha: the value alpha dropout sets


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise_shape(input, feature: bool):
    shape = input._data.shape
    if not feature:
        return shape
    if len(shape) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return shape[:2] + (1,) * (len(shape) - 2)


def _multiply(input, other, inplace):
    return input.mul_(other) if inplace else E.mul(input, other)


def _dropout(input, p, training, inplace, *, feature=False, alpha=False):
    """ATen's ``_dropout<feature, alpha, inplace>``."""
    if not isinstance(input, Tensor):
        raise argument_error("dropout", 1, "input", "Tensor", input)
    _check_p(p)
    data = input._data
    if p == 0 or not training or data.size == 0:
        return input
    if p == 1:
        return _multiply(input, make(np.zeros((), data.dtype)), inplace)
    shape = _noise_shape(input, feature)
    keep = 1.0 - p
    noise = S.bernoulli_scalar(default_generator, shape, data.dtype, keep)
    if not feature and not data.flags.c_contiguous and data.ndim > 1:
        noise = _like_layout(noise, data)
    if data.dtype.kind != "f":  # noise.div_ (or mul_) by a float: drawn, then refused
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{input.dtype.scalar_name}")
    if alpha:
        a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * keep)
        b = (noise + data.dtype.type(-1)) * data.dtype.type(_ALPHA * a)
        b = b + data.dtype.type(_ALPHA * a * p)
        noise = noise * data.dtype.type(a)
        return E.add(_multiply(input, make(noise), inplace), make(np.asarray(b)))
    noise = np.asarray(noise / np.asarray(keep, data.dtype))
    return _multiply(input, make(noise), inplace)


def _like_layout(values: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Noise drawn for ``empty_like(input)``: filled in the input's memory order."""
    order = sorted(range(data.ndim), key=lambda d: -abs(data.strides[d]))
    out = np.empty(data.shape, values.dtype)
    out.transpose(order)[...] = values.reshape([data.shape[d] for d in order])
    return out


def dropout(input, p=0.5, training=True, inplace=False):
    return _dropout(input, p, training, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout(input, p, training, inplace, feature=True, alpha=True)


_NOTE = {
    1: ("dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, "
        "a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs)."),
    2: ("dropout2d exists to provide channel-wise dropout on inputs with 2 spatial "
        "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
        "inputs)."),
    3: ("dropout3d exists to provide channel-wise dropout on inputs with 3 spatial "
        "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
        "inputs)."),
}


def _feature_dropout(input, p, training, inplace, spatial):
    """dropout1d/2d/3d: torch unsqueezes an unbatched input (not dropout2d's), drops whole
    channels and squeezes back."""
    _check_p(p)
    ndim = input.dim()
    batched = spatial + 2
    if spatial == 1 and ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. Note that "
            + _NOTE[1])
    if spatial > 1 and ndim not in (batched - 1, batched):
        warnings.warn(
            f"dropout{spatial}d: Received a {ndim}-D input to dropout{spatial}d, which is "
            "deprecated and will result in an error in a future release. To retain the "
            "behavior and silence this warning, please use dropout instead. Note that "
            + _NOTE[spatial], UserWarning, stacklevel=3)
    if spatial == 2 and ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning, stacklevel=3)
    if spatial == 2 or ndim == batched:
        return _dropout(input, p, training, inplace, feature=True)
    if inplace:
        return _unbatched_in_place(input, p, training)
    return _dropout(input.unsqueeze(0), p, training, False, feature=True).squeeze(0)


UnsqueezeBackward1 = backward_node(  # unsqueeze_(dim): the in-place form's node
    "UnsqueezeBackward1", fields=("dim",), self=lambda n, g: g.squeeze(n.dim))


def _unbatched_in_place(input, p, training):
    """torch's ``input.unsqueeze_(0)``, ``feature_dropout_``, ``squeeze_(0)``: the input's
    history becomes SqueezeBackward4 <- MulBackward0 <- UnsqueezeBackward1."""
    check_inplace(input)
    data = input._data
    lifted = data.reshape((1,) + data.shape).copy()
    if needs_grad(input):
        node = UnsqueezeBackward1()
        node.dim = 0
        batched = attach(node, lifted, (input,))
    else:
        batched = make(lifted)
    dropped = _dropout(batched, p, training, False, feature=True)
    out = dropped._data.reshape(data.shape)
    if needs_grad(dropped):
        node = SqueezeBackward4()
        node.self_sizes = dropped._data.shape
        return commit(input, attach(node, out, (dropped,)))
    return commit(input, make(out))


def dropout1d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 3)
