"""engine.nn.functional (``import engine.nn.functional as F``)."""

from __future__ import annotations

from .._functions import _type_error
from .._tensor import Tensor
from ..ops import operands as _ops


def relu(input, inplace=False):
    if not isinstance(input, Tensor):
        raise _type_error("relu", 1, "input", "Tensor", input)
    if inplace:
        raise NotImplementedError("engine does not implement in-place ops yet (relu inplace=True)")
    return _ops.relu(input)


from ..ops.nn import (  # noqa: E402 - the op families' functional forms
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    gelu,
    l1_loss,
    leaky_relu,
    linear,
    log_softmax,
    mse_loss,
    nll_loss,
    sigmoid,
    silu,
    softmax,
    tanh,
)

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout",
    "gelu", "l1_loss", "leaky_relu", "linear", "log_softmax", "mse_loss", "nll_loss", "relu",
    "sigmoid", "silu", "softmax", "tanh",
]
