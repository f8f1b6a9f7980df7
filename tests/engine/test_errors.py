"""Every error the engine raises: same exception class and message as torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_oracle import raised

import engine


def _second_backward(t):
    x = t.ones(2, 2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _twice(y):
    y.backward()
    y.backward()


def _set_attr(obj_fn, name, value):
    def run(t):
        setattr(obj_fn(t), name, value(t) if callable(value) else value)
    return run


def _leaf(t):
    return t.ones(2, 2, requires_grad=True)


def _nonleaf(t):
    return t.ones(2, 2, requires_grad=True) * 2


ERRORS = {
    # autograd
    "second backward": _second_backward,
    "second backward through exp": lambda t: _twice(_leaf(t).exp().sum()),
    "second backward through 2/x": lambda t: _twice((2 / _leaf(t)).sum()),
    "second backward through norm": lambda t: _twice(_leaf(t).norm()),
    "implicit grad of non-scalar": lambda t: (_leaf(t) + 2).backward(),
    "grad shape mismatch": lambda t: (_leaf(t) + 2).backward(t.ones(3)),
    "grad shape mismatch broadcastable": lambda t: (_leaf(t) + 2).backward(t.ones(1)),
    "grad shape mismatch scalar": lambda t: (_leaf(t) + 2).sum().backward(t.ones(1)),
    "backward without grad": lambda t: t.ones(2).sum().backward(),
    "backward without grad, non-scalar": lambda t: t.ones(2).backward(),
    "backward without grad, with gradient": lambda t: t.ones(2).backward(t.ones(2)),
    "backward without grad, wrong gradient": lambda t: t.ones(2).backward(t.ones(3)),
    "backward under no_grad": lambda t: [t.set_grad_enabled(False), (_leaf(t) * 2).backward()],
    "float gradient": lambda t: (_leaf(t) * 2).sum().backward(2.0),
    "list of floats gradient": lambda t: (t.ones(2, requires_grad=True) * 2).backward([1.0, 2.0]),
    "requires_grad int constructor": lambda t: t.tensor([1, 2], requires_grad=True),
    "requires_grad int ones": lambda t: t.ones(2, dtype=t.int64, requires_grad=True),
    "requires_grad int full": lambda t: t.full((2,), 3, requires_grad=True),
    "requires_grad int arange": lambda t: t.arange(3, requires_grad=True),
    "requires_grad int zeros_like": lambda t: t.zeros_like(t.tensor([1]), requires_grad=True),
    "requires_grad_ int": lambda t: t.tensor([1, 2]).requires_grad_(),
    "requires_grad= int": _set_attr(lambda t: t.tensor([1, 2]), "requires_grad", True),
    "requires_grad=False non-leaf": _set_attr(_nonleaf, "requires_grad", False),
    "requires_grad=True non-leaf": _set_attr(_nonleaf, "requires_grad", True),
    "requires_grad_(False) non-leaf": lambda t: _nonleaf(t).requires_grad_(False),
    "retain_grad without grad": lambda t: t.ones(2).retain_grad(),
    "numpy with grad": lambda t: _leaf(t).numpy(),
    "grad wrong type": _set_attr(_leaf, "grad", 3),
    "grad wrong shape": _set_attr(_leaf, "grad", lambda t: t.ones(3)),
    "grad wrong dtype": _set_attr(_leaf, "grad", lambda t: t.ones(2, 2, dtype=t.float64)),
    "grad int dtype": _set_attr(_leaf, "grad", lambda t: t.ones(2, 2, dtype=t.int64)),
    "data wrong type": _set_attr(_leaf, "data", [1.0]),
    "data int on grad tensor": _set_attr(_leaf, "data", lambda t: t.tensor([1])),
    # conversions
    "item of many": lambda t: t.ones(2).item(),
    "float of many": lambda t: float(t.ones(2)),
    "int of many": lambda t: int(t.ones(2)),
    "bool of many": lambda t: bool(t.ones(2)),
    "bool of empty": lambda t: bool(t.ones(0)),
    "len of 0-d": lambda t: len(t.tensor(1.0)),
    "format spec on 1-d": lambda t: format(t.ones(2), ".3f"),
    "format int code on float": lambda t: format(t.tensor(2.5), "d"),
    "index with float tensor": lambda t: [1, 2][t.tensor(1.0)],
    "size out of range": lambda t: t.ones(3, 2).size(2),
    # ops
    "broadcast": lambda t: t.ones(2, 3) + t.ones(4),
    "broadcast 3d": lambda t: t.ones(2, 1, 3) * t.ones(4, 5),
    "broadcast compare": lambda t: t.ones(5, 2, 3) < t.ones(4, 3),
    "broadcast div": lambda t: t.ones(4, 3) / t.ones(5, 2, 3),
    "broadcast pow": lambda t: t.ones(3) ** t.ones(2),
    "add str": lambda t: t.ones(2) + "a",
    "add None": lambda t: t.ones(2) + None,
    "add list": lambda t: t.ones(2) + [1, 2],
    "lt None": lambda t: t.ones(2) < None,
    "mul str reflected": lambda t: "a" * t.ones(2),
    "neg bool": lambda t: -t.tensor([True]),
    "sub bools": lambda t: t.tensor([True]) - t.tensor([False]),
    "sub bool scalar": lambda t: t.ones(2) - True,
    "rsub bool": lambda t: 1 - t.tensor([True]),
    "abs bool": lambda t: t.tensor([True]).abs(),
    "relu bool": lambda t: t.tensor([True]).relu(),
    "int to negative power": lambda t: t.tensor([1, 2]) ** -1,
    "alpha float on ints": lambda t: t.tensor([1]).add(t.tensor([1]), alpha=2.5),
    "exp of int": lambda t: t.exp(2),
    "mean of int": lambda t: t.tensor([1, 2]).mean(),
    "mean of bool": lambda t: t.tensor([True]).mean(0),
    "norm of int": lambda t: t.tensor([1, 2]).norm(),
    "sum dim out of range": lambda t: t.ones(2, 2).sum(2),
    "sum 0-d dim out of range": lambda t: t.tensor(2.0).sum(1),
    "mean dim out of range": lambda t: t.ones(2, 2).mean(-3),
    "sum repeated dim": lambda t: t.ones(2, 2).sum((0, 0)),
    "sum repeated negative dim": lambda t: t.ones(2, 2).sum((1, -1)),
    # creation
    "ragged": lambda t: t.tensor([[1], [2, 3]]),
    "ragged deeper": lambda t: t.tensor([[[1]], [[2, 3]]]),
    "ragged scalar then list": lambda t: t.tensor([1, [2, 3], 4]),
    "ragged list then scalar": lambda t: t.tensor([[1, 2], 3]),
    "ragged tuple leaf": lambda t: t.tensor([[1, 2], [3, (4,)]]),
    "tensor of multi-element tensors": lambda t: t.tensor([t.ones(2), t.ones(2)]),
    "tensor of None": lambda t: t.tensor(None),
    "tensor of [None]": lambda t: t.tensor([None]),
    "ones negative": lambda t: t.ones(2, -1),
    "randn negative": lambda t: t.randn((-3,)),
    "zeros negative": lambda t: t.zeros(-1),
    "full negative": lambda t: t.full((2, -1), 1.0),
    "ones float size": lambda t: t.ones(2.0),
    "ones float in sizes": lambda t: t.ones(2, 2.0),
    "ones str size": lambda t: t.zeros("a"),
    "full int size": lambda t: t.full(2, 1.0),
    "full str value": lambda t: t.full((2,), "a"),
    "ones_like of list": lambda t: t.ones_like([1]),
    "arange zero step": lambda t: t.arange(0, 5, 0),
    "arange wrong sign": lambda t: t.arange(0, 5, -1),
    "arange inf": lambda t: t.arange(0, float("inf")),
    "randn int": lambda t: t.randn(2, dtype=t.int64),
    "rand int": lambda t: t.rand(2, dtype=t.int64),
    "FloatTensor of float": lambda t: t.FloatTensor(2.5),
    "Size of floats": lambda t: t.Size([2.5]),
    "Size plus list": lambda t: t.Size([2]) + [1],
    "big-endian array": lambda t: t.tensor(np.ones(2, ">f4")),
    # op families
    "index out of bounds": lambda t: t.ones(3, 4)[0, 4],
    "view of non-contiguous": lambda t: t.ones(3, 4).t().view(12),
    "mm shapes": lambda t: t.ones(3, 4) @ t.ones(5, 2),
    "cat dims": lambda t: t.cat([t.ones(2, 3), t.ones(3)]),
    "nll target": lambda t: t.nn.functional.nll_loss(t.zeros(3, 4), t.tensor([0, 1, 5])),
    "expand": lambda t: t.ones(3).expand(2, 4),
    "var of int": lambda t: t.tensor([1, 2]).var(),
}


@pytest.mark.parametrize("name", ERRORS)
def test_error_matches_torch(name):
    fn = ERRORS[name]
    try:
        want = raised(fn, torch)
        got = raised(fn, engine)
    finally:
        torch.set_grad_enabled(True)
        engine.set_grad_enabled(True)
    assert want is not None, "torch raised nothing: the case is wrong"
    assert got == want
