"""Pooling against torch where specs and the OpInfo corpus do not reach: NaN and padding ties,
memory formats of outputs and grads, float16 accumulation, many argument mistakes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from engine_oracle import inputs, raised

import engine


def _both(fn, *arrays, grad=True, channels_last=False):
    """``fn(F, *tensors)`` on both libraries: outputs and the grads of a sum of the first
    (``channels_last``: the 4-d inputs are channels-last leaves)."""
    results = []
    for lib in (torch, engine):
        ts = [lib.tensor(np.ascontiguousarray(a.transpose(0, 2, 3, 1))).permute(0, 3, 1, 2)
              if channels_last else lib.tensor(a) for a in arrays]
        ts = [t.requires_grad_(grad and a.dtype.kind == "f") for t, a in zip(ts, arrays,
                                                                            strict=True)]
        out = fn(lib.nn.functional, *ts)
        outs = out if isinstance(out, tuple) else (out,)
        grads = ()
        if grad and outs[0].requires_grad:
            grads = lib.autograd.grad(outs[0], ts, lib.ones_like(outs[0]))
        results.append(([o.detach().numpy() for o in outs], [g.numpy() for g in grads]))
    return results


def _assert_same(results):
    (t_out, t_grads), (e_out, e_grads) = results
    for t, e in zip(t_out + t_grads, e_out + e_grads, strict=True):
        assert t.dtype == e.dtype and t.shape == e.shape and t.strides == e.strides
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-6, equal_nan=True)


NAN_AND_INF = {
    "max_pool_nan": lambda F, x: F.max_pool2d(x, 2, 1, return_indices=True),
    "max_pool_padding_ties": lambda F, x: F.max_pool2d(x, 3, 2, 1, dilation=2,
                                                      return_indices=True),
    "adaptive_max_nan": lambda F, x: F.adaptive_max_pool2d(x, 2, return_indices=True),
    "max_pool3d_nan": lambda F, x: F.max_pool3d(x[None], (1, 2, 2), return_indices=True),
}


@pytest.mark.parametrize("name", NAN_AND_INF)
def test_nan_and_infinite_windows(name):
    """A NaN wins its window (the last NaN, as torch's ``val > max || isnan``); a window whose
    maximum is -inf, the padding's value, returns its first element inside the input."""
    x = np.array([[[[np.nan, 1.0, np.nan, -np.inf], [2.0, -np.inf, -np.inf, -np.inf],
                    [-np.inf, -np.inf, 3.0, np.nan], [0.5, -np.inf, -np.inf, -np.inf]]]])
    _assert_same(_both(NAN_AND_INF[name], x, grad=False))


FORMATS = {
    "max_pool2d": lambda F, x: F.max_pool2d(x, 2, return_indices=True),
    "avg_pool2d": lambda F, x: F.avg_pool2d(x, 3, 2, 1),
    "adaptive_avg_pool2d": lambda F, x: F.adaptive_avg_pool2d(x, 3),
    "adaptive_max_pool2d": lambda F, x: F.adaptive_max_pool2d(x, 3, return_indices=True),
    "unpool": lambda F, x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2),
}


@pytest.mark.parametrize("name", FORMATS)
def test_channels_last_outputs_and_grads(name):
    x = inputs((2, 3, 6, 6), dtype=np.float64)[0]
    _assert_same(_both(FORMATS[name], x, channels_last=True))


HALF = {
    "adaptive_avg_pool2d": lambda F, x: F.adaptive_avg_pool2d(x, (3, 2)),
    "adaptive_avg_pool3d": lambda F, x: F.adaptive_avg_pool3d(x[None], (2, 3, 2)),
    "avg_pool2d": lambda F, x: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
    "max_pool2d_overlapping": lambda F, x: F.max_pool2d(x, 3, 1),
    "unpool": lambda F, x: F.max_unpool2d(*F.max_pool2d(x, 3, 1, return_indices=True), 3, 1),
}


@pytest.mark.parametrize("name", HALF)
def test_float16_rounds_as_torch(name):
    """float16 sums and shares are rounded where torch's kernels round them (these differ by
    an ULP when accumulated another way)."""
    x = (inputs((2, 3, 7, 5), seed=3)[0] * 4).astype(np.float16)
    (t_out, t_grads), (e_out, e_grads) = _both(HALF[name], x)
    for t, e in zip(t_out + t_grads, e_out + e_grads, strict=True):
        np.testing.assert_array_equal(e, t)


def test_saved_input_modified_in_place():
    x = inputs((1, 2, 4, 4))[0]
    messages = []
    for lib in (torch, engine):
        base = lib.tensor(x, requires_grad=True)
        xt = base * 1
        y = lib.nn.functional.max_pool2d(xt, 2)
        z = lib.nn.functional.avg_pool2d(xt, 2)
        xt.mul_(2)
        messages.append((raised(lambda lib, y=y: y.sum().backward(), lib),
                         raised(lambda lib, z=z: z.sum().backward(), lib)))
    assert messages[0] == messages[1]


ERRORS = {
    "max_kernel_list": lambda F, x: F.max_pool2d(x, (2, 2, 2)),
    "max_stride_list": lambda F, x: F.max_pool2d(x, 2, (1, 1, 1)),
    "max_dilation": lambda F, x: F.max_pool2d(x, 2, dilation=0),
    "max_kernel_zero": lambda F, x: F.max_pool2d(x, 0),
    "max_rank": lambda F, x: F.max_pool2d(x[0, 0], 2),
    "max_empty": lambda F, x: F.max_pool2d(x[:, :, :0], 2),
    "max_pad_half_kernel": lambda F, x: F.max_pool2d(x, 3, padding=2, dilation=2),
    "max1d_kernel_zero": lambda F, x: F.max_pool1d(x[0], 0),
    "max1d_padding": lambda F, x: F.max_pool1d(x[0], 2, padding=2),
    "max1d_indices_rank": lambda F, x: F.max_pool1d(x, 2, return_indices=True),
    "max1d_output": lambda F, x: F.max_pool1d(x[0], 7),
    "max3d_rank": lambda F, x: F.max_pool3d(x[0], 2),
    "max3d_kernel": lambda F, x: F.max_pool3d(x[None], (2, 2)),
    "max3d_output": lambda F, x: F.max_pool3d(x[None], (1, 7, 7)),
    "avg_padding": lambda F, x: F.avg_pool2d(x, 2, padding=2),
    "avg_stride_zero": lambda F, x: F.avg_pool2d(x, 2, 0),
    "avg_rank": lambda F, x: F.avg_pool2d(x[0, 0], 2),
    "avg_divisor": lambda F, x: F.avg_pool3d(x[None], 2, divisor_override=0),
    "avg1d_rank": lambda F, x: F.avg_pool1d(x, 2),
    "avg1d_kernel": lambda F, x: F.avg_pool1d(x[0], (2, 2)),
    "adaptive_avg_negative": lambda F, x: F.adaptive_avg_pool2d(x, (-1, 2)),
    "adaptive_avg_rank": lambda F, x: F.adaptive_avg_pool2d(x[0, 0], 2),
    "adaptive_avg_empty": lambda F, x: F.adaptive_avg_pool2d(x[:, :, :0], 2),
    "adaptive_max_empty": lambda F, x: F.adaptive_max_pool2d(x[:, :0], 2),
    "avg_rank_5": lambda F, x: F.avg_pool2d(x[None], 2),
    "avg3d_rank": lambda F, x: F.avg_pool3d(x[0], 2),
    "adaptive_avg1d_size": lambda F, x: F.adaptive_avg_pool1d(x[0], (2, 2)),
    "adaptive_max_negative": lambda F, x: F.adaptive_max_pool2d(x, (-1, 2)),
    "adaptive_max3d_rank": lambda F, x: F.adaptive_max_pool3d(x[0, 0], 2),
    "unpool_shape": lambda F, x: F.max_unpool2d(x, x.long()[..., :2], 2),
    "unpool_dtype": lambda F, x: F.max_unpool2d(x, x.int(), 2),
    "unpool_index": lambda F, x: F.max_unpool2d(x, (x * 0 + 999).long(), 2),
    "unpool_negative": lambda F, x: F.max_unpool3d(x[None], (x[None] * 0 - 1).long(), 2),
    "unpool_output_size": lambda F, x: F.max_unpool2d(x, x.long(), 2, output_size=(1, 2, 3)),
    "unpool_rank": lambda F, x: F.max_unpool2d(x[0, 0], x[0, 0].long(), 2),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    x = np.abs(inputs((1, 2, 5, 5))[0])
    got = [raised(lambda lib: ERRORS[name](lib.nn.functional, lib.tensor(x)), lib)
           for lib in (torch, engine)]
    assert got[0] is not None and got[0] == got[1]


def test_lp_pool_infinity_and_zero_sum():
    """lp_pool of p = inf is a max pool of |x|; where x ** p sums to 0 the grad is 0."""
    x = inputs((1, 2, 4, 4), dtype=np.float64)[0]
    x[0, 0, :2, :2] = 0
    _assert_same(_both(lambda F, x: F.lp_pool2d(x, math.inf, 2), x))
    _assert_same(_both(lambda F, x: F.lp_pool2d(x, 2, 2), x))
