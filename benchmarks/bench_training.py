"""Training steps, engine vs PyTorch in one process: median times, their ratio and the numpy floor.

Run: python benchmarks/bench_training.py [--repeat N] [--threads N]
Workloads (float32): one LeNet-5 training step (the "Neural Networks" tutorial's network:
zero_grad, conv-relu-maxpool twice, three linears, cross-entropy, backward, SGD with momentum)
at batch 4 and at batch 64, built from each library's nn modules and optim; and one Adam step
(``opt.step()`` alone, grads already there) over a 1M-parameter model (Linear(1000, 1000):
1,001,000 parameters).  Targets: LeNet <= 1.0, Adam <= 1.2 (engine/torch).  A ratio below 1
means the engine is faster.  "numpy alone" runs the array operations the engine performs for
the workload (the LeNet forward and backward arrays and the momentum update; Adam's lerp,
multiply-add, sqrt, divide and add on whole arrays) with no tensor, node or check: the floor
under the engine's time.  Both libraries use one thread per core, as in bench_engine.py.
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
BATCHES = {4: RNG.standard_normal((4, 1, 32, 32), dtype=np.float32),
           64: RNG.standard_normal((64, 1, 32, 32), dtype=np.float32)}
TARGETS = {b: RNG.integers(0, 10, b) for b in BATCHES}

_NETS = {}


def _lenet(lib, batch):
    """LeNet-5, its loss and SGD(momentum) for one library and batch (same seed, same weights)."""
    key = (lib.__name__, batch)
    if key not in _NETS:
        nn = lib.nn
        lib.manual_seed(0)
        layers = (nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5), nn.Linear(400, 120), nn.Linear(120, 84),
                  nn.Linear(84, 10))
        params = [p for m in layers for p in m.parameters()]
        _NETS[key] = (layers, nn.CrossEntropyLoss(),
                      lib.optim.SGD(params, lr=0.01, momentum=0.9),
                      lib.tensor(BATCHES[batch]), lib.tensor(TARGETS[batch]))
    return _NETS[key]


def lenet_step(lib, batch):
    (c1, c2, f1, f2, f3), criterion, opt, x, target = _lenet(lib, batch)
    F = lib.nn.functional
    opt.zero_grad()
    h = F.max_pool2d(F.relu(c1(x)), 2)
    h = lib.flatten(F.max_pool2d(F.relu(c2(h)), 2), 1)
    loss = criterion(f3(F.relu(f2(F.relu(f1(h))))), target)
    loss.backward()
    opt.step()
    return c1.weight


_ADAM = {}


def _adam(lib):
    if lib.__name__ not in _ADAM:
        lib.manual_seed(0)
        model = lib.nn.Linear(1000, 1000)
        for p in model.parameters():
            p.grad = lib.randn(p.shape) * 1e-2
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
        _ADAM[lib.__name__] = (model, opt)
    return _ADAM[lib.__name__]


def adam_step(lib):
    model, opt = _adam(lib)
    opt.step()
    return model.weight


WORKLOADS = {"LeNet step, b4": lambda lib: lenet_step(lib, 4),
             "LeNet step, b64": lambda lib: lenet_step(lib, 64),
             "Adam step, 1M params": adam_step}


# ----------------------------------------------------------------- numpy alone
_ONE = C.Params([1, 1], [0, 0], [1, 1], False, [0, 0], 1)


def _lenet_numpy(batch):
    """The engine's array work for one LeNet step: forward, backward, momentum update."""
    layers, _, opt, _, _ = _lenet(engine, batch)
    c1, c2, f1, f2, f3 = (m.weight._data for m in layers)
    b1, b2, g1, g2, g3 = (m.bias._data for m in layers)
    x, target = BATCHES[batch], TARGETS[batch]
    rows = np.arange(batch)
    a1, cols1 = C._forward_array(x, c1, _ONE)
    a1 += b1.reshape(-1, 1, 1)
    r1 = np.maximum(a1, 0)
    p1, i1 = P._max_pool_array(r1, (2, 2), (2, 2), (0, 0), (1, 1), (14, 14))
    a2, cols2 = C._forward_array(p1, c2, _ONE)
    a2 += b2.reshape(-1, 1, 1)
    r2 = np.maximum(a2, 0)
    p2, i2 = P._max_pool_array(r2, (2, 2), (2, 2), (0, 0), (1, 1), (5, 5))
    h0 = p2.reshape(batch, -1)
    h1 = np.maximum(h0 @ f1.T + g1, 0)
    h2 = np.maximum(h1 @ f2.T + g2, 0)
    out = h2 @ f3.T + g3
    shifted = out - out.max(1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    -logp[rows, target].mean()
    d = np.exp(logp)
    d[rows, target] -= 1
    d /= batch
    grads = [d.T @ h2, d.sum(0)]
    d = (d @ f3) * (h2 > 0)
    grads += [d.T @ h1, d.sum(0)]
    d = (d @ f2) * (h1 > 0)
    grads += [d.T @ h0, d.sum(0)]
    d = (d @ f1).reshape(p2.shape)
    d = P._scatter(d, i2, (10, 10)) * (a2 > 0)
    grads += [C._weight_grad_array(d, p1, c2.shape, _ONE, cols2), d.sum((0, 2, 3))]
    d = C._input_grad_array(d, c2, (14, 14), _ONE)
    d = P._scatter(d, i1, (28, 28)) * (a1 > 0)
    grads += [C._weight_grad_array(d, x, c1.shape, _ONE, cols1), d.sum((0, 2, 3))]
    for g in grads:  # SGD with momentum on arrays of each parameter's size
        buf = np.zeros_like(g)
        buf *= 0.9
        buf += g
        g - 0.01 * buf
    return grads


def adam_numpy():
    model, _ = _adam(engine)
    for p in model.parameters():
        w, g = p._data.copy(), p.grad._data
        m, v = np.zeros_like(w), np.zeros_like(w)
        m += (g - m) * np.float32(0.1)
        v *= np.float32(0.999)
        v += g * g * np.float32(0.001)
        denom = np.sqrt(v) / np.float32(0.0316) + np.float32(1e-8)
        w += np.float32(-0.01) * m / denom
    return w


FLOORS = {"LeNet step, b4": lambda: _lenet_numpy(4),
          "LeNet step, b64": lambda: _lenet_numpy(64),
          "Adam step, 1M params": adam_numpy}
REPEATS = {"LeNet step, b64": 40, "Adam step, 1M params": 50}


def _check_same_results():
    """One step of each workload gives the same parameters on both libraries."""
    for name, fn in WORKLOADS.items():
        _NETS.clear()
        _ADAM.clear()
        e, t = fn(engine).detach().numpy(), fn(torch).detach().numpy()
        if not np.allclose(e, t, rtol=1e-4, atol=1e-5):
            raise SystemExit(f"{name}: the engine's parameters differ from PyTorch's")
    _NETS.clear()
    _ADAM.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both libraries (default: their own, one per core)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
        engine.set_num_threads(args.threads)
    _check_same_results()
    print_table(WORKLOADS, FLOORS, REPEATS, args.repeat, engine, torch, width=24)


if __name__ == "__main__":
    main()
