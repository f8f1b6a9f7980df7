"""Convolutions, engine vs PyTorch in one process: median times, their ratio and the numpy floor.

Run: python benchmarks/bench_conv.py [--repeat N]
Workloads (float32): conv2d forward+backward at LeNet's first layer (batch 4, 1x32x32 -> 6x28x28,
5x5 kernel, weight and bias grads), a 64->64-channel 3x3 conv2d at batch 64 on 32x32 (padding 1;
input, weight and bias grads), and one LeNet training step at batch 4 (conv-relu-maxpool twice,
three linears, cross-entropy, backward) built from each library's nn modules.  A ratio below 1
means the engine is faster.  "numpy alone" runs the array operations the engine performs for the
workload (im2col, the products, col2im, pooling's argmax and scatter ...) with no tensor, node or
check: the floor under the engine's time.  Both libraries use one thread per core, as in
bench_engine.py.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from timing import print_table

import engine
from engine.ops import conv as C
from engine.ops import pooling as P

RNG = np.random.default_rng(0)
LENET_X = RNG.standard_normal((4, 1, 32, 32), dtype=np.float32)
LENET_W = RNG.standard_normal((6, 1, 5, 5), dtype=np.float32) * 0.2
LENET_B = RNG.standard_normal(6, dtype=np.float32) * 0.1
WIDE_X = RNG.standard_normal((64, 64, 32, 32), dtype=np.float32)
WIDE_W = RNG.standard_normal((64, 64, 3, 3), dtype=np.float32) * 0.05
WIDE_B = RNG.standard_normal(64, dtype=np.float32) * 0.1
TARGET = np.array([3, 1, 4, 1])


def lenet_conv(lib):
    """conv2d at LeNet's first layer, forward and backward (weight and bias grads)."""
    x = lib.tensor(LENET_X)
    w = lib.tensor(LENET_W, requires_grad=True)
    b = lib.tensor(LENET_B, requires_grad=True)
    lib.nn.functional.conv2d(x, w, b).sum().backward()
    return w.grad


def wide_conv(lib):
    """conv2d 64 -> 64 channels, 3x3, batch 64, 32x32, forward and backward (all grads)."""
    x = lib.tensor(WIDE_X, requires_grad=True)
    w = lib.tensor(WIDE_W, requires_grad=True)
    b = lib.tensor(WIDE_B, requires_grad=True)
    lib.nn.functional.conv2d(x, w, b, padding=1).sum().backward()
    return w.grad


_MODELS = {}


def _lenet(lib):
    """LeNet-5 with each library's modules, built once per library (same seed, same weights)."""
    if lib not in _MODELS:
        nn = lib.nn
        lib.manual_seed(0)
        _MODELS[lib] = (nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5), nn.Linear(400, 120),
                        nn.Linear(120, 84), nn.Linear(84, 10))
    return _MODELS[lib]


def lenet_step(lib):
    """One LeNet training step at batch 4: forward, cross-entropy, backward."""
    c1, c2, f1, f2, f3 = _lenet(lib)
    F = lib.nn.functional
    for m in (c1, c2, f1, f2, f3):
        m.zero_grad()
    h = F.max_pool2d(F.relu(c1(lib.tensor(LENET_X))), 2)
    h = F.max_pool2d(F.relu(c2(h)), 2).flatten(1)
    out = f3(F.relu(f2(F.relu(f1(h)))))
    F.cross_entropy(out, lib.tensor(TARGET)).backward()
    return c1.weight.grad


WORKLOADS = {"conv2d LeNet 1x32x32 -> 6, b4": lenet_conv,
             "conv2d 64 -> 64 3x3 32x32, b64": wide_conv,
             "LeNet step, b4": lenet_step}


# ----------------------------------------------------------------- numpy alone
_ONE = C.Params([1, 1], [0, 0], [1, 1], False, [0, 0], 1)
_PAD1 = C.Params([1, 1], [1, 1], [1, 1], False, [0, 0], 1)


def _conv_numpy(x, w, b, p, grad_input):
    """The engine's array work for conv2d(x, w, b) followed by .sum().backward()."""
    out, cols = C._forward_array(x, w, p)
    out += b.reshape(-1, 1, 1)
    g = np.ones_like(out)
    gw = C._weight_grad_array(g, x, w.shape, p, cols)
    gb = g.sum((0, 2, 3))
    gx = C._input_grad_array(g, w, x.shape[2:], p) if grad_input else None
    return out, gw, gb, gx


def lenet_conv_numpy():
    return _conv_numpy(LENET_X, LENET_W, LENET_B, _ONE, False)


def wide_conv_numpy():
    return _conv_numpy(WIDE_X, WIDE_W, WIDE_B, _PAD1, True)


def lenet_step_numpy():
    c1, c2, f1, f2, f3 = (m.weight._data for m in _lenet(engine))
    b1, b2, g1, g2, g3 = (m.bias._data for m in _lenet(engine))
    # forward
    a1, cols1 = C._forward_array(LENET_X, c1, _ONE)
    a1 += b1.reshape(-1, 1, 1)
    r1 = np.maximum(a1, 0)
    p1, i1 = P._max_pool_array(r1, (2, 2), (2, 2), (0, 0), (1, 1), (14, 14))
    a2, cols2 = C._forward_array(p1, c2, _ONE)
    a2 += b2.reshape(-1, 1, 1)
    r2 = np.maximum(a2, 0)
    p2, i2 = P._max_pool_array(r2, (2, 2), (2, 2), (0, 0), (1, 1), (5, 5))
    h0 = p2.reshape(4, -1)
    h1 = np.maximum(h0 @ f1.T + g1, 0)
    h2 = np.maximum(h1 @ f2.T + g2, 0)
    out = h2 @ f3.T + g3
    shifted = out - out.max(1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    -logp[np.arange(4), TARGET].mean()
    # backward
    d = np.exp(logp)
    d[np.arange(4), TARGET] -= 1
    d /= 4
    d3w, d3b = d.T @ h2, d.sum(0)
    d = (d @ f3) * (h2 > 0)
    d2w, d2b = d.T @ h1, d.sum(0)
    d = (d @ f2) * (h1 > 0)
    d1w, d1b = d.T @ h0, d.sum(0)
    d = (d @ f1).reshape(p2.shape)
    d = P._scatter(d, i2, (10, 10)) * (a2 > 0)
    dc2 = C._weight_grad_array(d, p1, c2.shape, _ONE, cols2), d.sum((0, 2, 3))
    d = C._input_grad_array(d, c2, (14, 14), _ONE)
    d = P._scatter(d, i1, (28, 28)) * (a1 > 0)
    dc1 = C._weight_grad_array(d, LENET_X, c1.shape, _ONE, cols1), d.sum((0, 2, 3))
    return dc1, dc2, d1w, d1b, d2w, d2b, d3w, d3b


FLOORS = {"conv2d LeNet 1x32x32 -> 6, b4": lenet_conv_numpy,
          "conv2d 64 -> 64 3x3 32x32, b64": wide_conv_numpy,
          "LeNet step, b4": lenet_step_numpy}
REPEATS = {"conv2d 64 -> 64 3x3 32x32, b64": 5}


def _check_same_grads():
    """The workloads compute the same grads on both libraries (else timing them is moot)."""
    for name, fn in WORKLOADS.items():
        e, t = fn(engine).numpy(), fn(torch).numpy()
        if not np.allclose(e, t, rtol=1e-3, atol=1e-3):
            raise SystemExit(f"{name}: the engine's grads differ from PyTorch's")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    _check_same_grads()
    print_table(WORKLOADS, FLOORS, REPEATS, args.repeat, engine, torch, width=32)


if __name__ == "__main__":
    main()
