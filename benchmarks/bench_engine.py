"""Engine vs PyTorch on the same workloads, in one process: prints median times and the ratio.

Run: python benchmarks/bench_engine.py [--repeat N]
A ratio below 1 means the engine is faster than PyTorch (CPU).  "numpy alone" times the array
operations the engine performs for the workload without any autograd machinery: the floor
under the engine's time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from timing import print_table

import engine
from engine.runtime import parallel as _parallel


def tutorial_graph(lib):
    """The autograd tutorial's first graph: 2x2 leaf, y = x + 2, z = y*y*3, mean, backward."""
    x = lib.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    out.backward()
    return x.grad


WHILE_LOOP_START = np.array([0.3, -0.2, 0.1], dtype=np.float32)


def tutorial_while_loop(lib):
    """The tutorial's doubling loop and backward with a gradient vector."""
    x = lib.tensor(WHILE_LOOP_START, requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    y.backward(lib.tensor([0.1, 1.0, 0.0001]))
    return x.grad


RNG = np.random.default_rng(0)
MLP_DATA = {
    "x": RNG.standard_normal((64, 256), dtype=np.float32),
    "target": RNG.standard_normal((64, 10), dtype=np.float32),
    "w1": RNG.standard_normal((512, 256), dtype=np.float32) * 0.05,
    "w2": RNG.standard_normal((512, 512), dtype=np.float32) * 0.05,
    "w3": RNG.standard_normal((10, 512), dtype=np.float32) * 0.05,
    "b1": np.zeros(512, np.float32),
    "b2": np.zeros(512, np.float32),
    "b3": np.zeros(10, np.float32),
}
BIG = RNG.standard_normal(1_000_000, dtype=np.float32) * 0.1


def mlp(lib):
    """MLP 256 -> 512 -> 512 -> 10, batch 64, tanh, MSE loss; forward and backward."""
    p = {k: lib.tensor(v, requires_grad=k[0] in "wb") for k, v in MLP_DATA.items()}
    h = lib.tanh(p["x"] @ p["w1"].t() + p["b1"])
    h = lib.tanh(h @ p["w2"].t() + p["b2"])
    out = h @ p["w3"].t() + p["b3"]
    loss = ((out - p["target"]) ** 2).mean()
    loss.backward()
    return p["w1"].grad


def big_chain(lib):
    """A 1e6-element chain: exp, mul, sum, backward."""
    x = lib.tensor(BIG, requires_grad=True)
    (x.exp() * x).sum().backward()
    return x.grad


def long_chain(lib, length=100_000):
    """100,000 multiplications in a row, then backward: no recursion limit, linear time."""
    x = lib.tensor(np.float32(1.0), requires_grad=True)
    y = x
    for _ in range(length):
        y = y * 1.0
    y.backward()
    return x.grad


WORKLOADS = {"tutorial graph": tutorial_graph, "tutorial while loop": tutorial_while_loop,
             "mlp 256-512-512-10": mlp, "1e6-element chain": big_chain}


# ----------------------------------------------------------------- numpy alone
# The array operations the engine performs for each workload, forward and backward, with no
# tensor, node or check: what numpy alone takes, the floor under the engine's time.
def tutorial_graph_numpy():
    x = np.empty((2, 2), np.float32)
    x.fill(1)
    y = x + 2
    z = y * y * 3
    np.true_divide(np.add.reduce(z, (0, 1)), 4)
    grad = np.empty((2, 2), np.float32)
    grad.fill(np.float32(1) / 4)
    grad = grad * 3
    grad_y = grad * y
    np.add(grad_y, grad * y, out=grad_y)
    return grad_y


def tutorial_while_loop_numpy():
    y = WHILE_LOOP_START.copy() * 2
    doublings = 1
    while np.sqrt(np.add.reduce(y * y)) < 1000:
        y = y * 2
        doublings += 1
    grad = np.array([0.1, 1.0, 0.0001], np.float32)
    for _ in range(doublings):
        grad = grad * 2
    return grad


def mlp_numpy():
    p = {k: v.copy() for k, v in MLP_DATA.items()}
    h1 = np.tanh(p["x"] @ p["w1"].T + p["b1"])
    h2 = np.tanh(h1 @ p["w2"].T + p["b2"])
    diff = h2 @ p["w3"].T + p["b3"] - p["target"]
    np.add.reduce(diff * diff, None) / diff.size
    grad = np.full(diff.shape, 1 / diff.size, np.float32) * 2 * diff
    w3_grad, b3_grad = grad.T @ h2, np.add.reduce(grad, 0)
    grad = grad @ p["w3"]
    grad = grad * (1 - h2 * h2)
    w2_grad, b2_grad = grad.T @ h1, np.add.reduce(grad, 0)
    grad = grad @ p["w2"]
    grad = grad * (1 - h1 * h1)
    return grad.T @ p["x"], np.add.reduce(grad, 0), w2_grad, b2_grad, w3_grad, b3_grad


def big_chain_numpy():
    x = BIG.copy()
    e = _parallel.unary(np.exp, x)  # the engine splits big exps over threads
    np.add.reduce(e * x)
    ones = np.broadcast_to(np.float32(1), x.shape)
    grad = ones * e
    np.add(grad, ones * x * e, out=grad)
    return grad


FLOORS = {"tutorial graph": tutorial_graph_numpy,
          "tutorial while loop": tutorial_while_loop_numpy,
          "mlp 256-512-512-10": mlp_numpy, "1e6-element chain": big_chain_numpy}
REPEATS = {"mlp 256-512-512-10": 30, "1e6-element chain": 30}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    print_table(WORKLOADS, FLOORS, REPEATS, args.repeat, engine, torch, width=22)
    print("\nchain of n multiplications, backward (engine; linear means time/n stays flat):")
    for n in (10_000, 50_000, 100_000):
        start = time.perf_counter()
        long_chain(engine, n)
        took = time.perf_counter() - start
        print(f"  n={n:>7}: {took * 1e3:8.1f} ms, {took / n * 1e6:.2f} µs per op")


if __name__ == "__main__":
    main()
