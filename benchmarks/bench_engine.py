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


WORKLOADS = {"tutorial graph": tutorial_graph, "tutorial while loop": tutorial_while_loop}


def median_time(fn, lib, repeat: int) -> float:
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
        e = median_time(fn, engine, args.repeat)
        t = median_time(fn, torch, args.repeat)
        print(f"{name:<22} {e * 1e6:>8.1f}µs {t * 1e6:>8.1f}µs {e / t:>13.2f}")


if __name__ == "__main__":
    main()
