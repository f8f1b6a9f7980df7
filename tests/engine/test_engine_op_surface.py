"""The op families (_ops_math, _ops_reduce, _ops_shape, _indexing, _ops_linalg, _ops_nn) against
torch: forward values, dtypes, grad_fn names and grads via ``check_op``."""

from __future__ import annotations

import numpy as np
import pytest
from engine_oracle import check_op, inputs, raised

UNARY = {
    "sqrt": lambda t, x: x.abs().sqrt(), "rsqrt": lambda t, x: x.abs().rsqrt(),
    "log2": lambda t, x: x.abs().log2(), "log1p": lambda t, x: x.abs().log1p(),
    "expm1": lambda t, x: x.expm1(), "sin": lambda t, x: t.sin(x), "cos": lambda t, x: x.cos(),
    "tan": lambda t, x: x.tan(), "tanh": lambda t, x: x.tanh(),
    "sigmoid": lambda t, x: x.sigmoid(),
    "floor": lambda t, x: x.floor(), "ceil": lambda t, x: x.ceil(), "round": lambda t, x: x.round(),
    "trunc": lambda t, x: x.trunc(), "sign": lambda t, x: x.sign(),
    "square": lambda t, x: x.square(),
    "clamp": lambda t, x: x.clamp(-1, 1), "clamp_min": lambda t, x: x.clamp_min(0),
    "clamp_max": lambda t, x: t.clamp_max(x, 0.5), "clip": lambda t, x: t.clip(x, max=0.3),
}

BINARY = {
    "maximum": lambda t, x, y: t.maximum(x, y), "minimum": lambda t, x, y: t.minimum(x, y),
    "remainder": lambda t, x, y: x % y, "clamp_t": lambda t, x, y: x.clamp(min=y),
    "clamp_min_t": lambda t, x, y: x.clamp_min(y), "div_floor": lambda t, x, y: t.div(
        x, y, rounding_mode="floor"),
}

REDUCE = {
    "prod": lambda t, x: x.prod(), "prod1": lambda t, x: x.prod(1, keepdim=True),
    "max": lambda t, x: x.max(), "max_dim": lambda t, x: x.max(0).values,
    "min_dim": lambda t, x: t.min(x, 1)[0], "amax": lambda t, x: x.amax(1),
    "amin": lambda t, x: x.amin((0, 1)), "var": lambda t, x: x.var(0),
    "std": lambda t, x: x.std(),
    "logsumexp": lambda t, x: x.logsumexp(1), "cumsum": lambda t, x: x.cumsum(0),
    "norm_inf": lambda t, x: t.linalg.vector_norm(x, float("inf"), dim=1),
}

SHAPE = {
    "reshape": lambda t, x: x.reshape(-1), "reshape_nc": lambda t, x: x.t().reshape(-1),
    "view": lambda t, x: x.view(4, 3), "flatten": lambda t, x: x.flatten(),
    "squeeze": lambda t, x: x.unsqueeze(0).squeeze(0), "t": lambda t, x: x.t(),
    "T": lambda t, x: x.T, "permute": lambda t, x: x.permute(1, 0),
    "repeat": lambda t, x: x.repeat(2, 1),
    "flip": lambda t, x: x.flip(1), "expand": lambda t, x: x[:, :1].expand(3, 4),
    "cat": lambda t, x: t.cat([x, x * 2], 1), "stack": lambda t, x: t.stack([x, x], 2),
    "split": lambda t, x: x.split(2, 1)[1], "chunk": lambda t, x: x.chunk(2)[0],
    "getitem": lambda t, x: x[1:, [0, 2, 2]], "mask": lambda t, x: x[x > 0],
    "gather": lambda t, x: x.gather(1, t.tensor([[0, 0], [1, 3], [2, 2]])),
    "index_select": lambda t, x: x.index_select(1, t.tensor([3, 0, 3])),
}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary(name, dtype):
    check_op(UNARY[name], *inputs((3, 4), dtype=dtype))


@pytest.mark.parametrize("name", BINARY)
def test_binary(name):
    check_op(BINARY[name], *inputs((3, 4), (4,)))


@pytest.mark.parametrize("name", REDUCE)
def test_reductions(name):
    check_op(REDUCE[name], *inputs((3, 4)))


@pytest.mark.parametrize("name", SHAPE)
def test_shape_and_indexing(name):
    check_op(SHAPE[name], *inputs((3, 4)))


MATMUL_SHAPES = [
    ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (4,)),
    ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((4,), (2, 4, 5)), ((2, 3, 4), (2, 4, 5)),
    ((5, 2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_ranks(shapes):
    check_op(lambda t, x, y: x @ y, *inputs(*shapes))


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


def test_einsum():
    check_op(lambda t, x, y: t.einsum("ij,kj->ik", x, y), *inputs((3, 4), (2, 4)))
    check_op(lambda t, x, y: t.einsum("ii->", x), *inputs((3, 3), (1,)))


ERRORS = {
    "index_oob": lambda t: t.ones(3, 4)[0, 4],
    "view_nc": lambda t: t.ones(3, 4).t().view(12),
    "mm_shapes": lambda t: t.ones(3, 4) @ t.ones(5, 2),
    "cat_dims": lambda t: t.cat([t.ones(2, 3), t.ones(3)]),
    "nll_target": lambda t: t.nn.functional.nll_loss(t.zeros(3, 4), t.tensor([0, 1, 5])),
    "expand": lambda t: t.ones(3).expand(2, 4),
    "var_int": lambda t: t.tensor([1, 2]).var(),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(name):
    import torch

    import engine

    assert raised(ERRORS[name], engine) == raised(ERRORS[name], torch)
