"""engine.nn's recurrent layers and cells against torch.

Each case seeds both libraries, builds the module (torch's init draws the same bits), runs a
random input (and random initial states) forward and backward, and compares the outputs, every
parameter's and the input's grad, the graph's node names a few levels deep (torch's CPU
composites, and oneDNN's MkldnnRnnLayerBackward0 for a float32 LSTM), the repr, the parameter
names and the generator's state afterwards (dropout between layers draws from it)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_oracle import graph_names as oracle_graph_names

import engine


def graph_names(t, depth=6):
    return oracle_graph_names(t, depth)


def run(lib, cls, kwargs, shape, dtype, with_h0, cell):
    lib.manual_seed(3)
    module = getattr(lib.nn, cls)(3, 4, **kwargs)
    if dtype == "float64":
        module = module.double()
    x = lib.randn(*shape, dtype=getattr(lib, dtype), requires_grad=True)
    args = [x]
    if with_h0:
        if cell:
            h_shape = (shape[0], 4) if len(shape) == 2 else (4,)
        else:
            layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
            batch = shape[0] if kwargs.get("batch_first") else shape[1]
            h_shape = (layers, batch, 4) if len(shape) == 3 else (layers, 4)
        h = lib.randn(*h_shape, dtype=getattr(lib, dtype), requires_grad=True)
        if cls.startswith("LSTM"):
            args.append((h, lib.randn(*h_shape, dtype=getattr(lib, dtype), requires_grad=True)))
        else:
            args.append(h)
    out = module(*args)
    if cls == "LSTMCell":
        outputs = list(out)
    elif cell:
        outputs = [out]
    else:
        output, hidden = out
        outputs = [output] + (list(hidden) if isinstance(hidden, tuple) else [hidden])
    sum((o * (i + 1)).sum() for i, o in enumerate(outputs)).backward()
    return {
        "repr": repr(module),
        "names": [n for n, _ in module.named_parameters()],
        "outputs": [o.detach().numpy() for o in outputs],
        "graphs": [graph_names(o) for o in outputs],
        "grads": [p.grad.numpy() for p in module.parameters()] + [x.grad.numpy()],
        "after": lib.rand(1).item(),
    }


LAYER_KWARGS = [{}, {"bidirectional": True}, {"batch_first": True},
                {"num_layers": 2, "dropout": 0.5}, {"bias": False},
                {"num_layers": 2, "bidirectional": True, "batch_first": True}]
CASES = [(cls, kw, shape, dtype, h0, False)
         for dtype in ("float32", "float64") for cls in ("RNN", "GRU", "LSTM")
         for kw in LAYER_KWARGS + ([{"nonlinearity": "relu"}] if cls == "RNN" else [])
         for shape in ((5, 2, 3), (5, 3)) for h0 in (False, True)]
CASES += [("LSTM", kw, shape, dtype, h0, False)
          for dtype in ("float32", "float64")
          for kw in ({"proj_size": 2}, {"proj_size": 3, "num_layers": 2, "bidirectional": True})
          for shape in ((5, 2, 3), (5, 3)) for h0 in (False,)]
CASES += [(cls, kw, shape, dtype, h0, True)
          for dtype in ("float32", "float64") for cls in ("RNNCell", "GRUCell", "LSTMCell")
          for kw in ({}, {"bias": False}) for shape in ((2, 3), (3,)) for h0 in (False, True)]


@pytest.mark.parametrize("cls,kwargs,shape,dtype,with_h0,cell", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[3]}-h0={c[4]}" for c in CASES])
def test_matches_torch(cls, kwargs, shape, dtype, with_h0, cell):
    expected = run(torch, cls, kwargs, shape, dtype, with_h0, cell)
    actual = run(engine, cls, kwargs, shape, dtype, with_h0, cell)
    assert actual["repr"] == expected["repr"]
    assert actual["names"] == expected["names"]
    assert actual["graphs"] == expected["graphs"]
    assert actual["after"] == expected["after"]
    tol = {"float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}[dtype]
    for key in ("outputs", "grads"):
        for a, e in zip(actual[key], expected[key], strict=True):
            np.testing.assert_allclose(a, e, rtol=tol[0], atol=tol[1])


@pytest.mark.parametrize("call,message", [
    (lambda lib: lib.nn.RNN(3, 4)(lib.randn(2, 2, 2, 3)), "Expected input to be 2D or 3D"),
    (lambda lib: lib.nn.LSTM(3, 4)(lib.randn(2, 2, 5)), "input.size(-1) must be equal"),
    (lambda lib: lib.nn.GRU(3, 4)(lib.randn(2, 2, 3), lib.randn(1, 3, 4)),
     "Expected hidden size (1, 2, 4), got [1, 3, 4]"),
    (lambda lib: lib.nn.GRUCell(3, 4)(lib.randn(2, 5)), "input has inconsistent input_size"),
    (lambda lib: lib.nn.RNN(3, 4, nonlinearity="gelu"), "Unknown nonlinearity 'gelu'"),
    (lambda lib: lib.nn.LSTM(3, 4)(lib.randn(2, 2, 2, 3)), "got 4D instead"),
    (lambda lib: lib.nn.LSTMCell(3, 4)(lib.randn(2, 3), (lib.randn(1, 2, 4), lib.randn(2, 4))),
     "Expected hx[0] to be 1D or 2D"),
    (lambda lib: lib.nn.LSTM(3, 4)(lib.randn(1, 1, 3), (lib.randn(1, 1, 4), lib.randn(1, 2, 4))),
     "Expected hidden[1] size (1, 1, 4), got [1, 2, 4]"),
    (lambda lib: lib.nn.GRU(3, 4)(lib.randn(1, 1, 3), lib.randn(1, 4)),
     "hx should also be 3-D but got 2-D tensor"),
    (lambda lib: lib.nn.GRU(3, 4, proj_size=2), "proj_size argument is only supported"),
])
def test_errors_match_torch(call, message):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as actual:
        call(engine)
    assert message in str(expected.value)
    assert str(actual.value) == str(expected.value)


def test_flatten_parameters_is_a_no_op_on_the_cpu():
    lstm = engine.nn.LSTM(3, 4)
    before = [p.clone() for p in lstm.parameters()]
    assert lstm.flatten_parameters() is None
    assert all((a == b).all() for a, b in zip(before, lstm.parameters(), strict=True))


def test_dropout_warning_matches_torch():
    with pytest.warns(UserWarning) as expected:
        torch.nn.LSTM(3, 4, dropout=0.2)
    with pytest.warns(UserWarning) as actual:
        engine.nn.LSTM(3, 4, dropout=0.2)
    assert str(actual[0].message) == str(expected[0].message)


def test_lstm_eval_no_grad_has_no_graph():
    torch.manual_seed(0)
    engine.manual_seed(0)
    results = []
    for lib in (torch, engine):
        lib.manual_seed(1)
        m = lib.nn.LSTM(3, 4, num_layers=2, dropout=0.3).eval()
        with lib.no_grad():
            out, (h, c) = m(lib.randn(4, 2, 3))
        results.append((out.detach().numpy(), out.grad_fn, h.requires_grad))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1.3e-6, atol=1e-5)
    assert results[1][1:] == results[0][1:] == (None, False)
