"""Shape ops (views and copies) against torch: forward values, dtypes, grad_fn names and
grads via ``check_op``."""

from __future__ import annotations

import pytest
from engine_oracle import check_op, inputs

SHAPE = {
    "reshape": lambda t, x: x.reshape(-1), "reshape_nc": lambda t, x: x.t().reshape(-1),
    "view": lambda t, x: x.view(4, 3), "flatten": lambda t, x: x.flatten(),
    "squeeze": lambda t, x: x.unsqueeze(0).squeeze(0), "t": lambda t, x: x.t(),
    "T": lambda t, x: x.T, "permute": lambda t, x: x.permute(1, 0),
    "repeat": lambda t, x: x.repeat(2, 1),
    "flip": lambda t, x: x.flip(1), "expand": lambda t, x: x[:, :1].expand(3, 4),
    "cat": lambda t, x: t.cat([x, x * 2], 1), "stack": lambda t, x: t.stack([x, x], 2),
    "split": lambda t, x: x.split(2, 1)[1], "chunk": lambda t, x: x.chunk(2)[0],
}


@pytest.mark.parametrize("name", SHAPE)
def test_shape(name):
    check_op(SHAPE[name], *inputs((3, 4)))
