"""Harness throughput: Hypothesis examples per second through the whole harness (draw inputs, run
the program on PyTorch and on the engine, compare), on the tutorial specs and on the whole suite,
with 1 and 2 pytest-xdist workers, and the ceiling: Hypothesis alone drawing the same inputs.

Run: python benchmarks/bench_harness.py [--examples N] [--suite tutorial|all|both]
                                        [--root DIR ...] [--rounds R] [--ceiling]
Per core = examples / (sum of the items' own durations): what one worker achieves. Wall = examples /
session wall time, start-up (imports, collection) included. CPU = examples / CPU seconds of the
session and its workers (start-up included): on a machine shared with other work the wall-clock
figures move with the load, the CPU figure much less, so compare roots on it first.
`--root` measures another checkout (e.g. a `git worktree` of an older commit) with its own code;
several roots are measured in alternation, round after round, so that a shared machine's load
falls on all of them alike, and each runs only the spec files every root has (the same programs:
a newer checkout's new specs would otherwise weigh on its figure). The OpInfo corpus
(`specs/opinfo.yaml`) is not part of "all": it has its own runner.
`--ceiling` draws every item's inputs with its own strategy and a body that does nothing: the
rate no harness can beat on this machine (the draw, Hypothesis's bookkeeping, nothing else).
`--floor` adds the bare programs to that body: each run on PyTorch and on the engine with plain
`exec`, nothing observed or compared: the rate no harness that runs both programs can beat.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the parity plugin's module, by layout (newest first): a root is measured with its own
PLUGINS = ("harness/run/plugin.py", "harness/plugin.py")


def plugin_module(root: Path) -> str:
    path = next(p for p in PLUGINS if (root / p).exists())
    return path.removesuffix(".py").replace("/", ".")


def run(root: Path, paths: list[str], workers: int, examples: int
        ) -> tuple[int, float, float, float]:
    """(examples drawn, sum of item durations, wall, CPU seconds) of one pytest session on
    `root`'s code."""
    with tempfile.TemporaryDirectory() as out:
        # the installed entry point names one layout's plugin: load each root's own explicitly
        command = [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider",
                   "-p", "xdist.plugin", "-p", "_hypothesis_pytestplugin",
                   "-p", plugin_module(root),
                   "--parity-report", out, "--parity-max-examples", str(examples),
                   "--hypothesis-profile", "ci", "-n", str(workers) if workers > 1 else "0"]
        env = {**os.environ, "PYTHONPATH": str(root), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        start, cpu = time.perf_counter(), _children_cpu()
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False,
                              env=env)
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
        results = Path(out) / "results.json"
        if not results.exists():
            sys.exit(f"no results from {root}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        data = json.loads(results.read_text())
    drawn = sum(r["examples"] for r in data["results"])
    busy = sum(r["duration_s"] for r in data["results"])
    return drawn, busy, wall, cpu


def _children_cpu() -> float:
    """User + system CPU seconds of every finished child process (and their children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ceiling(paths: list[str], examples: int) -> tuple[int, float]:
    """(examples, CPU seconds): every item's inputs drawn by Hypothesis with a body doing
    nothing."""
    return _drawn_rate(paths, examples, lambda spec: lambda inputs: None)


def programs_floor(paths: list[str], examples: int) -> tuple[int, float]:
    """(examples, CPU seconds): as `ceiling`, with a body that runs the program on PyTorch and
    on the engine and nothing else (no observation, comparison, capture, limits or isolation):
    no harness that runs both programs can beat this rate."""
    import numpy as np

    from harness.run.backends import load
    from harness.spec.program import namespace

    backends = [load("torch"), load("engine")]

    def body_for(spec):
        requires_grad = {n: d.requires_grad for n, d in spec.model.inputs.items()}

        def body(inputs):
            for backend in backends:
                names = namespace(backend.module, backend.functional)
                for name, value in inputs.items():
                    names[name] = backend.make_input(value, requires_grad[name]) \
                        if isinstance(value, np.ndarray) else value
                for statement in spec.program.statements:
                    try:
                        exec(statement.code, names)
                    except Exception:
                        break
                backend.reset()
        return body

    return _drawn_rate(paths, examples, body_for)


def _drawn_rate(paths: list[str], examples: int, body_for) -> tuple[int, float]:
    """(examples, CPU seconds) of every item of `paths` run by Hypothesis, derandomized, with
    `body_for(spec)` as the test body; the programs' output and warnings are dropped."""
    import contextlib
    import io
    import warnings

    from hypothesis import HealthCheck, given, seed, settings

    from harness.run import strategies
    from harness.spec import SpecError, load_file

    drawn, busy = 0, 0.0
    options = {"deadline": None, "max_examples": examples, "derandomize": True,
               "database": None, "suppress_health_check": list(HealthCheck)}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        for file in [ROOT / p for p in paths]:
            for entry in load_file(file, root=ROOT).entries:
                if isinstance(entry, SpecError):
                    continue
                body = body_for(entry)
                for variant in entry.variants():
                    count = []
                    test = seed(0)(settings(**options)(
                        given(strategies.inputs(entry, variant))(_counted(body, count))))
                    start = time.process_time()
                    with contextlib.suppress(Exception):  # a program error is part of its run
                        test()
                    busy += time.process_time() - start
                    drawn += len(count)
    return drawn, busy


def _counted(body, count: list):
    """`body`, counting its calls in `count` (a test body of one argument, for `given`)."""
    def counted(inputs):
        count.append(1)
        body(inputs)
    return counted


def common_specs(roots: list[Path], folder: str) -> list[str]:
    """The spec files under `folder` that every root has, as paths relative to a root."""
    def files(root: Path) -> set[str]:
        return {f.relative_to(root).as_posix() for f in (root / folder).rglob("*.yaml")
                if f.name not in ("expectations.yaml", "opinfo.yaml")}
    return sorted(set.intersection(*(files(root) for root in roots)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="max examples per spec")
    parser.add_argument("--suite", choices=["tutorial", "all", "both"], default="both")
    parser.add_argument("--root", type=Path, action="append",
                        help="checkout to measure (repeatable; default: this one)")
    parser.add_argument("--rounds", type=int, default=1, help="alternations of the roots")
    parser.add_argument("--workers", type=int, action="append", help="default: 1 and 2")
    parser.add_argument("--ceiling", action="store_true", help="also Hypothesis alone")
    parser.add_argument("--floor", action="store_true",
                        help="also Hypothesis with the bare programs on both backends")
    args = parser.parse_args()
    roots = [r.resolve() for r in args.root or [ROOT]]
    suites = {"tutorial": common_specs(roots, "specs/tutorial"),
              "all": common_specs(roots, "specs")}
    if args.suite != "both":
        suites = {args.suite: suites[args.suite]}
    print(f"{'root':<16} {'suite':<10} {'workers':>7} {'examples':>9} {'per core/s':>11} "
          f"{'wall/s':>8} {'wall s':>7} {'CPU/s':>6} {'CPU s':>7}", flush=True)
    for _ in range(args.rounds):
        for name, paths in suites.items():
            for workers in args.workers or (1, 2):
                for root in roots:
                    drawn, busy, wall, cpu = run(root, paths, workers, args.examples)
                    print(f"{str(root)[-16:]:<16} {name:<10} {workers:>7} {drawn:>9} "
                          f"{drawn / busy:>11.0f} {drawn / wall:>8.0f} {wall:>7.1f} "
                          f"{drawn / cpu:>6.0f} {cpu:>7.1f}", flush=True)
    if args.ceiling:
        for name, paths in suites.items():
            drawn, busy = ceiling(paths, args.examples)
            print(f"{'Hypothesis alone':<16} {name:<10} {1:>7} {drawn:>9} {drawn / busy:>11.0f}",
                  flush=True)
    if args.floor:
        for name, paths in suites.items():
            drawn, busy = programs_floor(paths, args.examples)
            print(f"{'+ bare programs':<16} {name:<10} {1:>7} {drawn:>9} {drawn / busy:>11.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
