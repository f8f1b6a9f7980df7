"""Harness throughput: Hypothesis examples per second through the whole harness (draw inputs, run
the program on PyTorch and on the engine, compare), on the tutorial specs and on the whole suite,
with 1 and 2 pytest-xdist workers.

Run: python benchmarks/bench_harness.py [--examples N]
Per core = examples / (sum of the items' own durations): what one worker achieves. Wall = examples /
session wall time, start-up (imports, collection) included.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(paths: list[str], workers: int, examples: int) -> tuple[int, float, float]:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider",
                   "--parity-report", out, "--parity-max-examples", str(examples),
                   "--hypothesis-profile", "ci", "-n", str(workers) if workers > 1 else "0"]
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        wall = time.perf_counter() - start
        data = json.loads((Path(out) / "results.json").read_text())
    drawn = sum(r["examples"] for r in data["results"])
    busy = sum(r["duration_s"] for r in data["results"])
    return drawn, busy, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="max examples per spec")
    parser.add_argument("--suite", choices=["tutorial", "all", "both"], default="both")
    args = parser.parse_args()
    suites = {"tutorial": ["specs/tutorial"], "all": ["specs"]}
    if args.suite != "both":
        suites = {args.suite: suites[args.suite]}
    print(f"{'suite':<10} {'workers':>7} {'examples':>9} {'per core/s':>11} {'wall/s':>8}")
    for name, paths in suites.items():
        for workers in (1, 2):
            drawn, busy, wall = run(paths, workers, args.examples)
            print(f"{name:<10} {workers:>7} {drawn:>9} {drawn / busy:>11.0f} {drawn / wall:>8.0f}")


if __name__ == "__main__":
    main()
