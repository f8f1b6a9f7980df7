"""Normalization, embedding, resampling and attention against torch where specs and the OpInfo
corpus do not reach: buffers written in place (and their version counters), module state
after training steps, the flash path's memory layout and its missing double backward,
channels-last interpolation, error messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_oracle import check_op, inputs, raised

import engine


def test_batch_norm_running_stats_in_place_without_version_bump():
    x = inputs((4, 3, 5), seed=3)[0]
    seen = []
    for lib in (torch, engine):
        rm, rv = lib.zeros(3), lib.ones(3)
        before = (rm._version, rv._version)
        lib.nn.functional.batch_norm(lib.tensor(x), rm, rv, training=True, momentum=0.2)
        seen.append((rm.numpy().copy(), rv.numpy().copy(), before, (rm._version, rv._version)))
    (tm, tv, tb, ta), (em, ev, eb, ea) = seen
    np.testing.assert_allclose(em, tm, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ev, tv, rtol=1e-6, atol=1e-7)
    assert (eb, ea) == (tb, ta)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_module_steps_and_state_dict(momentum):
    x = inputs((3, 2, 4), seed=5)[0]
    state = []
    for lib in (torch, engine):
        bn = lib.nn.BatchNorm1d(2, momentum=momentum)
        for step in range(3):
            bn(lib.tensor(x * (step + 1)))
        bn.eval()
        out = bn(lib.tensor(x)).detach().numpy()
        state.append((out, {k: v.numpy().copy() for k, v in bn.state_dict().items()}))
    (t_out, t_state), (e_out, e_state) = state
    np.testing.assert_allclose(e_out, t_out, rtol=1e-5, atol=1e-6)
    assert list(e_state) == list(t_state)
    for key in t_state:
        np.testing.assert_allclose(e_state[key], t_state[key], rtol=1e-5, atol=1e-6)


def test_embedding_max_norm_renormalises_in_place():
    w = inputs((6, 3), seed=2, low=-3, high=3)[0]
    idx = np.array([[0, 2], [2, 5]])
    got = []
    for lib in (torch, engine):
        weight = lib.tensor(w)
        lib.nn.functional.embedding(lib.tensor(idx), weight, max_norm=1.0, norm_type=1.5)
        got.append((weight.numpy().copy(), weight._version))
    np.testing.assert_allclose(got[1][0], got[0][0], rtol=1e-6, atol=1e-6)
    assert got[1][1] == got[0][1]


def test_flash_attention_output_layout_and_no_double_backward():
    x = inputs((3, 4, 2), seed=4)[0]
    outcomes = []
    for lib in (torch, engine):
        leaf = lib.tensor(x, requires_grad=True)
        q = leaf.transpose(0, 1).view(2, 2, 3, 2)  # MHA's heads: not contiguous
        out = lib.nn.functional.scaled_dot_product_attention(q, q, q)
        flat = out.permute(2, 0, 1, 3).reshape(6, 4)
        g, = lib.autograd.grad((out * out).sum(), leaf, create_graph=True)
        outcomes.append((out.is_contiguous(), flat.grad_fn.name(), out.grad_fn.name(),
                         raised(lambda lib_, g=g, leaf=leaf: lib_.autograd.grad(g.sum(), leaf),
                                lib)))
    assert outcomes[1] == outcomes[0]


def test_interpolate_keeps_channels_last():
    x = inputs((1, 3, 4, 5), seed=6)[0]
    layouts = []
    for lib in (torch, engine):
        t = lib.tensor(np.ascontiguousarray(x.transpose(0, 2, 3, 1))).permute(0, 3, 1, 2)
        for mode in ("nearest", "bilinear", "bicubic"):
            y = lib.nn.functional.interpolate(t, scale_factor=1.5, mode=mode)
            layouts.append((lib.__name__, mode, y.is_contiguous()))
    n = len(layouts) // 2
    assert [r[1:] for r in layouts[n:]] == [r[1:] for r in layouts[:n]]


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.group_norm(lib.zeros(2, 3, 4), 2),
    lambda lib: lib.nn.functional.layer_norm(lib.zeros(2, 3), (2,)),
    lambda lib: lib.nn.functional.rms_norm(lib.zeros(2, 3), ()),
    lambda lib: lib.nn.functional.embedding(lib.tensor([1.0]), lib.zeros(3, 2)),
    lambda lib: lib.nn.functional.embedding_bag(lib.tensor([1, 2]), lib.zeros(3, 2),
                                                lib.tensor([0]), mode="max",
                                                scale_grad_by_freq=True),
    lambda lib: lib.nn.functional.one_hot(lib.tensor([3]), 3),
    lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 3), (1, 1, 1), mode="reflect"),
    lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 3), (3, 1), mode="reflect"),
    lambda lib: lib.nn.functional.pixel_unshuffle(lib.zeros(1, 1, 3, 4), 2),
    lambda lib: lib.nn.functional.channel_shuffle(lib.zeros(1, 4, 2), 3),
    lambda lib: lib.nn.functional.scaled_dot_product_attention(
        lib.zeros(1, 2, 2), lib.zeros(1, 2, 2), lib.zeros(1, 2, 2),
        attn_mask=lib.zeros(2, 2, dtype=lib.float64)),
    lambda lib: lib.nn.GroupNorm(3, 4),
    lambda lib: lib.nn.BatchNorm2d(3)(lib.zeros(2, 3)),
])
def test_errors_as_torch(call):
    assert raised(call, engine) == raised(call, torch)


def test_composites_match_torch():
    x, w = inputs((2, 4, 3), (3,), seed=7)
    check_op(lambda lib, x, w: lib.nn.functional.rms_norm(x, (3,), w), x, w)
    check_op(lambda lib, x: lib.nn.functional.local_response_norm(x, 3), x)
    check_op(lambda lib, x: lib.nn.functional.normalize(x, p=1.5, dim=-1), x)
    check_op(lambda lib, x: lib.nn.functional.instance_norm(x), x)
