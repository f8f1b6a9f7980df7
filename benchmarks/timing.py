"""What the engine-against-PyTorch benchmarks share: a median time, and the table of each
workload on the engine, on PyTorch and as numpy alone (the floor), alternated over rounds."""

from __future__ import annotations

import statistics
import time

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


def print_table(workloads: dict, floors: dict, repeats: dict, repeat: int, engine, torch,
                width: int = 24) -> None:
    """Each workload's median on the engine, on PyTorch and as numpy alone, and the ratios;
    the libraries alternate over ROUNDS rounds (the machine's speed drifts between runs)."""
    print(f"{'workload':<{width}} {'engine':>10} {'torch':>10} {'numpy alone':>12} "
          f"{'engine/torch':>13} {'numpy/torch':>12}")
    for name, fn in workloads.items():
        count = min(repeat, repeats.get(name, repeat))
        floor = floors[name]
        rounds = [(median_time(fn, engine, count), median_time(fn, torch, count),
                   median_time(lambda _lib, floor=floor: floor(), None, count))
                  for _ in range(ROUNDS)]
        e, t, n = (statistics.median(r[i] for r in rounds) for i in range(3))
        print(f"{name:<{width}} {ms(e):>10} {ms(t):>10} {ms(n):>12} {e / t:>13.2f} "
              f"{n / t:>12.2f}")


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f}µs"
