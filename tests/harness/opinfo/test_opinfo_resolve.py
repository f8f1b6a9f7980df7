"""An OpInfo entry's forms are found on the engine by name, through its public surface; a lambda
entry runs on the engine with `torch` rebound, never calling PyTorch; what an engine lacks makes
a form "not offered" and is named."""

import types

import pytest
import torch

import engine
from harness.opinfo import corpus, resolve


def _forms(key, module=engine):
    return {f.kind: f for f in resolve.resolve(corpus.find(key).info, module).forms}


def test_add_forms_by_name():
    forms = _forms("add")
    assert forms["function"].spelling == "torch.add"
    assert forms["function"].engine_fn is engine.add
    assert forms["method"].spelling == "Tensor.add"
    assert forms["method"].engine_fn is engine.Tensor.add
    assert forms["inplace"].spelling == "Tensor.add_"
    assert forms["operator"].spelling == "operator.add"
    assert forms["inplace_operator"].spelling == "operator.iadd"


def test_a_method_is_spelled_by_the_entry_name_not_by_another_name_of_the_object():
    # Tensor.positive is also Tensor.__pos__: the engine must offer `positive` itself
    forms = _forms("positive")
    assert forms["method"].spelling == "Tensor.positive"


def test_missing_names_make_forms_not_offered():
    stand_in = types.SimpleNamespace(Tensor=type("Tensor", (), {"add": lambda *a: None}),
                                     nn=types.SimpleNamespace(functional=types.SimpleNamespace()))
    resolution = resolve.resolve(corpus.find("add").info, stand_in)
    forms = {f.kind: f for f in resolution.forms}
    assert not forms["function"].offered and forms["function"].missing == ("torch.add",)
    assert forms["method"].offered  # the primary form falls back to the method
    assert resolution.primary is forms["method"]
    assert forms["operator"].missing == ("Tensor.__add__",)
    assert "Tensor.add_" in resolution.missing


def test_an_entry_nothing_of_which_is_offered():
    stand_in = types.SimpleNamespace(Tensor=type("Tensor", (), {}))
    resolution = resolve.resolve(corpus.find("linalg.svd").info, stand_in)
    assert not resolution.offered and "torch.linalg.svd" in resolution.missing


def test_a_lambda_runs_on_the_engine_without_calling_pytorch(monkeypatch):
    form = _forms("einsum")["function"]
    assert form.spelling.startswith("lambda") and form.offered
    assert form.engine_fn.__globals__["torch"] is engine
    monkeypatch.setattr(torch, "einsum", _fail)  # PyTorch must not be called twice
    a = engine.tensor([[1.0, 2.0], [3.0, 4.0]])
    out = form.engine_fn([a, a], "ij,jk->ik")
    assert isinstance(out, engine.Tensor)
    assert out.tolist() == [[7.0, 10.0], [15.0, 22.0]]


def test_a_lambda_reading_what_the_engine_lacks_is_not_offered(monkeypatch):
    monkeypatch.delattr(engine, "einsum")
    form = _forms("einsum")["function"]
    assert not form.offered and form.missing == ("torch.einsum",)


def test_a_lambda_reading_a_tensor_attribute_the_engine_lacks(monkeypatch):
    monkeypatch.delattr(engine.Tensor, "T", raising=False)
    assert _forms("T")["function"].missing == ("Tensor.T",)


def test_random_ops_are_seeded_on_the_engine(monkeypatch):
    seeds = []
    monkeypatch.setattr(engine, "manual_seed", seeds.append)
    resolution = resolve.resolve(corpus.find("nn.functional.dropout").info, engine)
    assert resolution.seeded
    resolution.primary.engine_fn(engine.ones(3), p=0.0)
    assert seeds == [42]


def _fail(*args, **kwargs):
    raise AssertionError("PyTorch was called for the engine's run")


@pytest.mark.parametrize("differentiable", [True, None])
def test_entries_are_sorted_and_unique(differentiable):
    keys = [e.key for e in corpus.entries(differentiable)]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
