"""Engine vs PyTorch on the same workloads, in one process: prints median times and the ratio.

Run: python benchmarks/bench_engine.py [--repeat N]
A ratio below 1 means the engine is faster than PyTorch (CPU).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import engine


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
REPEATS = {"mlp 256-512-512-10": 30, "1e6-element chain": 30}
ROUNDS = 3


SETTLE_S = 0.3  # after the other library ran: its worker threads spin a while before parking


def median_time(fn, lib, repeat: int) -> float:
    time.sleep(SETTLE_S)  # both libraries keep thread pools; spinning ones would steal a core
    fn(lib)  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(lib)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    print(f"{'workload':<22} {'engine':>10} {'torch':>10} {'engine/torch':>13}")
    for name, fn in WORKLOADS.items():
        repeat = min(args.repeat, REPEATS.get(name, args.repeat))
        # alternate the libraries over a few rounds: the machine's speed drifts between runs
        rounds = [(median_time(fn, engine, repeat), median_time(fn, torch, repeat))
                  for _ in range(ROUNDS)]
        e = statistics.median(r[0] for r in rounds)
        t = statistics.median(r[1] for r in rounds)
        print(f"{name:<22} {_ms(e):>10} {_ms(t):>10} {e / t:>13.2f}")
    print("\nchain of n multiplications, backward (engine; linear means time/n stays flat):")
    for n in (10_000, 50_000, 100_000):
        start = time.perf_counter()
        long_chain(engine, n)
        took = time.perf_counter() - start
        print(f"  n={n:>7}: {took * 1e3:8.1f} ms, {took / n * 1e6:.2f} µs per op")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f}µs"


if __name__ == "__main__":
    main()
