"""What each hostile spec gets, and what the whole corpus costs: the figures behind issue #12.

Runs tests/hostile_specs/ once through the real plugin, without -n, PyTorch against itself (as
tests/harness/test_hostile_corpus.py does, with the same limits), and prints per spec the
outcome, the failure kind, the seconds until the item ended and the message; then the run's wall
time and the peak resident memory of every process it started.

Run: python benchmarks/hostile_corpus.py
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "hostile_specs"
TIME_LIMIT_S, MEMORY_LIMIT_GB = 5, 0.5


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "specs").mkdir()
        for spec in sorted(CORPUS.glob("*.yaml")):
            shutil.copy(spec, root / "specs" / spec.name)
        (root / "pytest.ini").write_text("[pytest]\n")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS",)}
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "specs", "-q", "-p", "no:cacheprovider",
                        "--parity-report=report", "--parity-engine", "torch",
                        f"--parity-time-limit={TIME_LIMIT_S}",
                        f"--parity-memory-limit={MEMORY_LIMIT_GB}", "--parity-max-examples=5"],
                       cwd=root, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        results = json.loads((root / "report" / "results.json").read_text())["results"]
    print(f"{'spec':<28} {'outcome':<8} {'kind':<13} {'s':>5}  message")
    for r in sorted(results, key=lambda r: r["name"]):
        failure = r["failure"] or {}
        message = re.sub(r"\s+", " ", failure.get("message", ""))[:90]
        print(f"{r['name']:<28} {r['outcome']:<8} {failure.get('kind', ''):<13} "
              f"{r['duration_s']:>5.1f}  {message}")
    print(f"{len(results)} specs, time limit {TIME_LIMIT_S} s, memory limit {MEMORY_LIMIT_GB} GB: "
          f"the run took {wall:.0f} s wall, peak resident memory {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
