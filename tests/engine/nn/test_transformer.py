"""engine.nn's Transformer modules against torch.

Encoder and decoder stacks and the whole Transformer, seeded on both sides, in training (with
dropout drawing the generator's bits), in eval with and without grad (torch's fast paths,
including the encoder's nested-tensor path that zeroes padded rows), batch_first, norm_first,
gelu, no bias, with causal and key-padding masks: the outputs, every grad, the graph's node
names, the construction warnings, the repr, the parameter names and the generator's state."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from engine_oracle import graph_names as oracle_graph_names

import engine


def graph_names(t, depth=4):
    return oracle_graph_names(t, depth)


def classes(lib):
    return lib.nn


def run(lib, kind, kwargs, train, grad, mask):
    mods = classes(lib)
    lib.manual_seed(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if kind == "encoder":
            module = mods.TransformerEncoder(mods.TransformerEncoderLayer(8, 2, 16, **kwargs), 2,
                                             norm=lib.nn.LayerNorm(8))
        elif kind == "decoder":
            module = mods.TransformerDecoder(mods.TransformerDecoderLayer(8, 2, 16, **kwargs), 2)
        else:
            module = mods.Transformer(8, 2, 1, 2, 16, **kwargs)
    if not train:
        module.eval()
    batch_first = kwargs.get("batch_first", False)
    x = lib.randn(*((2, 5, 8) if batch_first else (5, 2, 8)), requires_grad=grad)
    memory = lib.randn(*((2, 3, 8) if batch_first else (3, 2, 8)))
    padding = (lib.tensor([[False, False, False, True, True], [False] * 5]) if mask else None)
    causal = mods.Transformer.generate_square_subsequent_mask(5)
    with lib.set_grad_enabled(grad), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bool and float masks together: both warn
        if kind == "encoder":
            out = module(x, src_key_padding_mask=padding)
        elif kind == "decoder":
            out = module(x, memory, tgt_mask=causal, tgt_key_padding_mask=padding)
        else:
            out = module(memory, x, tgt_mask=causal)
    if grad:
        out.sum().backward()
    return {
        "exact": (repr(module), [n for n, _ in module.named_parameters()],
                  [str(w.message) for w in caught], graph_names(out) if grad else None,
                  lib.rand(1).item()),
        "values": [out.detach().numpy(), causal.numpy()]
        + [None if p.grad is None else p.grad.numpy() for p in module.parameters()]
        + ([x.grad.numpy()] if grad else []),
    }


CASES = [(kind, kw, train, grad, mask)
         for kind in ("encoder", "decoder", "transformer")
         for kw in ({}, {"batch_first": True}, {"norm_first": True},
                    {"activation": "gelu", "dropout": 0.0},
                    {"batch_first": True, "dropout": 0.0, "bias": False})
         for train, grad in ((True, True), (False, False), (False, True))
         for mask in (False, True)]


@pytest.mark.parametrize("kind,kwargs,train,grad,mask", CASES)
def test_matches_torch(kind, kwargs, train, grad, mask):
    expected = run(torch, kind, kwargs, train, grad, mask)
    actual = run(engine, kind, kwargs, train, grad, mask)
    assert actual["exact"] == expected["exact"]
    for a, e in zip(actual["values"], expected["values"], strict=True):
        assert (a is None) == (e is None)
        if a is not None:
            np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda m: m.Transformer(8, 2, 1, 1, 16)(torch_like(m).zeros(3, 2, 8),
                                            torch_like(m).zeros(3, 4, 8)),
    lambda m: m.Transformer(8, 2, 1, 1, 16)(torch_like(m).zeros(3, 2, 6),
                                            torch_like(m).zeros(3, 2, 6)),
    lambda m: m.TransformerEncoderLayer(8, 2, activation="tanh"),
])
def test_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch.nn)
    with pytest.raises(type(expected.value)) as actual:
        call(engine.nn)
    assert str(actual.value) == str(expected.value)


def torch_like(mods):
    return torch if mods is torch.nn else engine
