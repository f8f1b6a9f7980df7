"""PackedSequence and the packed paths of RNN/LSTM/GRU against torch.

Each case packs a random padded batch (sorted or not, time- or batch-major), runs it through a
seeded layer (with or without initial states), pads the output back and runs backward; the
packed data, batch sizes, sort order, padded output, lengths, final states, every grad, the
graph's node names (a float32 LSTM whose sequences are all as long goes to oneDNN as torch's
does) and the generator's state after are compared.  Then the helpers (pad_sequence both
sides, pack_sequence, unpack_sequence, unpad_sequence) and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_oracle import graph_names as oracle_graph_names

import engine


def graph_names(t, depth=5):
    return oracle_graph_names(t, depth)


def run(lib, cls, kwargs, lengths, enforce_sorted, dtype, with_h0, batch_first):
    rnn_utils = lib.nn.utils.rnn
    lib.manual_seed(5)
    module = getattr(lib.nn, cls)(3, 4, batch_first=batch_first, **kwargs)
    if dtype == "float64":
        module = module.double()
    steps, batch = max(lengths), len(lengths)
    shape = (batch, steps, 3) if batch_first else (steps, batch, 3)
    x = lib.randn(*shape, dtype=getattr(lib, dtype), requires_grad=True)
    packed = rnn_utils.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                            enforce_sorted=enforce_sorted)
    args = [packed]
    if with_h0:
        layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
        h = lib.randn(layers, batch, 4, dtype=getattr(lib, dtype), requires_grad=True)
        args.append((h, lib.randn(layers, batch, 4, dtype=getattr(lib, dtype)))
                    if cls == "LSTM" else h)
    out, hidden = module(*args)
    padded, lens = rnn_utils.pad_packed_sequence(out, batch_first=batch_first,
                                                 total_length=steps + 1)
    states = list(hidden) if isinstance(hidden, tuple) else [hidden]
    (padded.sum() + sum((i + 2) * h.sum() for i, h in enumerate(states))).backward()
    return {
        "exact": (out.batch_sizes.tolist(),
                  None if out.sorted_indices is None else out.sorted_indices.tolist(),
                  lens.tolist(), [graph_names(out.data), graph_names(padded)]
                  + [graph_names(h) for h in states], lib.rand(1).item()),
        "values": [out.data.detach().numpy(), padded.detach().numpy()]
        + [h.detach().numpy() for h in states] + [p.grad.numpy() for p in module.parameters()]
        + [x.grad.numpy()],
    }


CASES = [(dtype, cls, kw, lengths, enforce, h0, bf)
         for dtype in ("float32", "float64") for cls in ("RNN", "GRU", "LSTM")
         for kw in ({}, {"bidirectional": True}, {"num_layers": 2, "dropout": 0.3},
                    {"num_layers": 2, "bidirectional": True})
         for lengths, enforce in (([4, 2, 1], True), ([2, 4, 1, 4], False), ([3], True),
                                  ([2, 2], True))
         for h0 in (False, True) for bf in (False, True)]


@pytest.mark.parametrize("dtype,cls,kwargs,lengths,enforce_sorted,with_h0,batch_first", CASES)
def test_packed_layers_match_torch(dtype, cls, kwargs, lengths, enforce_sorted, with_h0,
                                   batch_first):
    args = (cls, kwargs, lengths, enforce_sorted, dtype, with_h0, batch_first)
    expected, actual = run(torch, *args), run(engine, *args)
    assert actual["exact"] == expected["exact"]
    tol = {"float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}[dtype]
    for a, e in zip(actual["values"], expected["values"], strict=True):
        np.testing.assert_allclose(a, e, rtol=tol[0], atol=tol[1])


def helpers(lib):
    rnn_utils = lib.nn.utils.rnn
    lib.manual_seed(1)
    seqs = [lib.randn(n, 2, requires_grad=True) for n in (2, 4, 1)]
    padded = rnn_utils.pad_sequence(seqs)
    left = rnn_utils.pad_sequence(seqs, batch_first=True, padding_value=-1.0,
                                  padding_side="left")
    packed = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
    unpacked = rnn_utils.unpack_sequence(packed)
    unpadded = rnn_utils.unpad_sequence(left, lib.tensor([2, 4, 1]), batch_first=True)
    (padded.sum() + left.sum()
     + sum(u.sum() * (i + 1) for i, u in enumerate(unpacked))).backward()
    out = [padded, left, packed.data, packed.batch_sizes, packed.sorted_indices,
           packed.unsorted_indices, *unpacked, *unpadded, *(s.grad for s in seqs)]
    return ([t.detach().numpy() for t in out],
            [None if t.grad_fn is None else type(t.grad_fn).__name__ for t in out])


def test_helpers_match_torch():
    (e_values, e_names), (a_values, a_names) = helpers(torch), helpers(engine)
    assert a_names == e_names
    for a, e in zip(a_values, e_values, strict=True):
        np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3, 2, 1), [1, 3]),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3, 2, 1), [3, 0]),
    lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_sequence([lib.ones(3)]), total_length=2),
    lambda lib: lib.nn.GRU(1, 2)(lib.nn.utils.rnn.pack_sequence([lib.ones(3, 1)]),
                                 lib.zeros(1, 2, 2)),
])
def test_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as actual:
        call(engine)
    assert str(actual.value) == str(expected.value)
