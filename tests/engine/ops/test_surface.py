"""The surface table: every name it declares is PyTorch's and is bound exactly as declared,
no name is declared twice, and aliases name themselves in torch's messages."""

from __future__ import annotations

import pytest
import torch
from engine_oracle import raised

import engine
from engine.ops.surface import OPS, Op

FUNCTIONS = [(op, name) for op in OPS for name in op.functions()]
METHODS = [(op, name) for op in OPS for name in op.methods()]


def test_entries_are_ops():
    assert all(isinstance(op, Op) for op in OPS)
    names = [op.name for op in OPS]
    assert len(names) == len(set(names)), "an op declared twice"


def test_no_name_is_bound_twice():
    functions = [name for _, name in FUNCTIONS]
    methods = [name for _, name in METHODS]
    assert len(functions) == len(set(functions))
    assert len(methods) == len(set(methods))


@pytest.mark.parametrize("op, name", FUNCTIONS, ids=[n for _, n in FUNCTIONS])
def test_function_is_torchs_and_bound(op, name):
    assert hasattr(torch, name), f"torch.{name} does not exist"
    assert getattr(engine, name) is op.functions()[name]
    assert name in engine.__all__


@pytest.mark.parametrize("op, name", METHODS, ids=[n for _, n in METHODS])
def test_method_is_torchs_and_bound(op, name):
    assert hasattr(torch.Tensor, name), f"torch.Tensor.{name} does not exist"
    assert vars(engine.Tensor)[name] is op.methods()[name]


CALLS = {  # torch's argument errors; an alias names itself
    "swapaxes": lambda t: t.swapaxes("a", 0, 1), "swapdims": lambda t: t.swapdims("a", 0, 1),
    "exp": lambda t: t.exp("a"), "sum": lambda t: t.sum("a"), "cat": lambda t: t.cat(5),
    "maximum input": lambda t: t.maximum("a", t.ones(2)),
    "maximum other": lambda t: t.maximum(t.ones(2), "a"),
    "add input": lambda t: t.add("a", t.ones(2)), "add other": lambda t: t.add(t.ones(2), "a"),
    "x + str": lambda t: t.ones(2) + "a",
}


@pytest.mark.parametrize("name", CALLS)
def test_call_forms_raise_torchs_errors(name):
    want = raised(CALLS[name], torch)
    assert want is not None, "torch raised nothing: the case is wrong"
    assert raised(CALLS[name], engine) == want
