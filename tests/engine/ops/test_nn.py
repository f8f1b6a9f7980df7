"""torch.nn.functional's activations and losses against torch."""

from __future__ import annotations

import pytest
from engine_oracle import check_op, inputs

NN = {
    "leaky_relu": lambda t, x, y: t.nn.functional.leaky_relu(x, 0.1),
    "gelu": lambda t, x, y: t.nn.functional.gelu(x),
    "gelu_tanh": lambda t, x, y: t.nn.functional.gelu(x, approximate="tanh"),
    "silu": lambda t, x, y: t.nn.functional.silu(x),
    "softmax": lambda t, x, y: t.nn.functional.softmax(x, 1) * y,
    "log_softmax": lambda t, x, y: t.nn.functional.log_softmax(x, 0) * y,
    "mse": lambda t, x, y: t.nn.functional.mse_loss(x, y),
    "l1": lambda t, x, y: t.nn.functional.l1_loss(x, y, reduction="sum"),
    "cross_entropy": lambda t, x, y: t.nn.functional.cross_entropy(x, t.tensor([0, 3, 1])),
    "bce_logits": lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(
        x, y.sigmoid()),
    "bce": lambda t, x, y: t.nn.functional.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
    "linear": lambda t, x, y: t.nn.functional.linear(x, y, y[:, 0]),
}


@pytest.mark.parametrize("name", NN)
def test_nn_functional(name):
    check_op(NN[name], *inputs((3, 4), (3, 4)))
