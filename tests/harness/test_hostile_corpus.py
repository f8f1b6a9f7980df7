"""A run cannot be hung, poisoned or exhausted by one spec, and its verdicts never depend on order.

tests/hostile_specs/ holds specs written as a hostile or an unlucky author would (each file says
what it tries and what must happen: `# expect: OUTCOME [KIND] | TEXT`, one line per acceptable
result, and `# warns: SETTING, ...`). They run through the real plugin in a subprocess, without
-n, next to ordinary specs: each gets its declared result, the run stays within its time and
memory bounds, the rest of the run goes on and the report is written. Two more runs show that
the order of the specs changes no verdict and that programs run without the environment's
secrets.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.report.results import load_results

CORPUS = Path(__file__).parents[1] / "hostile_specs"
FILES = sorted(CORPUS.glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\w+)(?: (\w+))?(?: \| (.*))?$", re.M)
WARNS = re.compile(r"^# warns: (.*)$", re.M)
TIME_LIMIT_S = 5
MEMORY_LIMIT_GB = 0.5
#: What the whole corpus may take and use (measured: see test_the_run_is_bounded_and_goes_on;
#: the item stuck in C alone takes the limit plus 5 s).
RUN_BOUND_S = 150
PEAK_BOUND_KB = (MEMORY_LIMIT_GB + 1.5) * 2**20
#: Runs a command and prints the peak resident memory of everything it started.
MEASURED = ("import resource, subprocess, sys\n"
            "code = subprocess.run(sys.argv[1:]).returncode\n"
            "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(code)\n")


def expectations(path: Path) -> list[tuple[str, str | None, str | None]]:
    found = EXPECT.findall(path.read_text())
    assert found, f"{path.name} has no '# expect:' line"
    return [(outcome, kind or None, text or None) for outcome, kind, text in found]


def warned(path: Path) -> list[str]:
    match = WARNS.search(path.read_text())
    return [w.strip() for w in match[1].split(",")] if match else []


def project(root: Path, files: list[Path]) -> Path:
    (root / "specs").mkdir(parents=True)
    for f in files:
        shutil.copy(f, root / "specs" / f.name)
    (root / "pytest.ini").write_text("[pytest]\n")
    return root


def run(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("PYTEST_XDIST_WORKER", "PYTEST_ADDOPTS")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", MEASURED, sys.executable, "-m", "pytest", "specs",
         "-p", "no:cacheprovider", "-q", "--parity-report=report", *args],
        cwd=root, capture_output=True, text=True, timeout=600, env=environment)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """One run of the whole corpus, PyTorch against itself (the engine's gaps are not the
    point here), without -n."""
    root = project(tmp_path_factory.mktemp("hostile"), FILES)
    start = time.perf_counter()
    out = run(root, "--parity-engine", "torch", f"--parity-time-limit={TIME_LIMIT_S}",
              f"--parity-memory-limit={MEMORY_LIMIT_GB}", "--parity-max-examples=5")
    wall = time.perf_counter() - start
    assert out.returncode == 1, out.stdout[-5000:] + out.stderr[-5000:]
    peak = int(re.search(r"PEAK_KB (\d+)", out.stdout)[1])
    results = load_results(root / "report" / "results.json")  # written, and of the schema
    return {"root": root, "wall": wall, "peak_kb": peak, "stdout": out.stdout,
            "records": {r["name"]: r for r in results["results"]}}


def test_the_corpus_covers_every_kind():
    kinds = {f.name.split("_")[0] for f in FILES}
    assert {"time", "memory", "guard", "state"} <= kinds
    assert len(FILES) >= 15


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_each_hostile_spec_gets_its_declared_result(path, corpus):
    [name] = re.findall(r"^  - name: (\w+)", path.read_text(), re.M)
    record = corpus["records"][name]
    failure = record["failure"] or {}
    got = (record["outcome"], failure.get("kind"), failure.get("message", ""))
    assert any(outcome == got[0] and kind in (None, got[1]) and (text is None or text in got[2])
               for outcome, kind, text in expectations(path)), got
    for setting in warned(path):
        assert any(setting in w for w in record["warnings"]), (setting, record["warnings"])
    assert len(record["warnings"]) == len(warned(path)), record["warnings"]


def test_the_run_is_bounded_and_goes_on(corpus):
    records = corpus["records"]
    assert corpus["wall"] < RUN_BOUND_S, corpus["wall"]
    assert corpus["peak_kb"] < PEAK_BOUND_KB, corpus["peak_kb"]
    for name, record in records.items():  # no item waits long: the limits stop each one
        assert record["duration_s"] < 6 * TIME_LIMIT_S + 5, (name, record["duration_s"])
    assert records["time_c_call"]["duration_s"] >= TIME_LIMIT_S  # it did get stuck
    assert records["z_good"]["outcome"] == "passed"  # after every hostile spec
    assert (corpus["root"] / "report" / "index.html").is_file()
    assert "Traceback" not in corpus["stdout"]


VICTIM = CORPUS / "state_victim.yaml"
LEAKER = CORPUS / "state_print_options.yaml"
REVERSE = "def pytest_collection_modifyitems(items):\n    items.reverse()\n"


def test_no_order_of_the_suite_changes_a_verdict(tmp_path):
    """A spec that leaves PyTorch's print options and default dtype changed runs before, then
    after, a spec that prints tensors, against the real engine: every verdict is the same in
    both orders (the items of one process share it: the settings are restored, not forked
    away)."""
    root = project(tmp_path, [LEAKER, VICTIM])
    (root / "reverse_order.py").write_text(REVERSE)
    outcomes = []
    for extra in ([], ["-p", "reverse_order"]):
        out = run(root, "--parity-max-examples=5", *extra, env={"PYTHONPATH": str(root)})
        assert out.returncode in (0, 1), out.stdout[-3000:] + out.stderr[-3000:]
        records = load_results(root / "report" / "results.json")["results"]
        outcomes.append({r["name"]: r["outcome"] for r in records})
    assert outcomes[0] == outcomes[1]
    assert outcomes[0]["state_victim"] == "passed"


SNOOPING_ENGINE = """\
import os
import torch as _torch
from torch import *  # noqa: F401,F403
def __getattr__(name):
    return getattr(_torch, name)
def exp(t):
    print(sorted(os.environ))  # whatever the process running the program can see
    print(os.environ.get("SERVICE_TOKEN"))
    return _torch.exp(t)
"""


def test_programs_run_without_the_environments_secrets(tmp_path):
    """The process that runs programs keeps only what PyTorch, numpy, pytest and Hypothesis
    read: a secret in the environment of the run never reaches results.json or the report."""
    root = project(tmp_path, [])
    (root / "specs" / "s.yaml").write_text(
        "specs:\n  - name: snoop\n    description: d\n    inputs: {x: {shape: [2]}}\n"
        "    program: |\n      y = torch.exp(x)\n")
    (root / "snoop" / "nn").mkdir(parents=True)
    (root / "snoop" / "__init__.py").write_text(SNOOPING_ENGINE)
    (root / "snoop" / "nn" / "__init__.py").write_text("")
    (root / "snoop" / "nn" / "functional.py").write_text("from torch.nn.functional import *\n")
    secret = "hunter2-do-not-print"
    out = run(root, "--parity-engine", "snoop", "--parity-max-examples=2",
              env={"PYTHONPATH": str(root), "SERVICE_TOKEN": secret,
                   "AWS_SECRET_ACCESS_KEY": secret})
    assert out.returncode == 1, out.stdout[-3000:] + out.stderr[-3000:]  # the prints differ
    [record] = load_results(root / "report" / "results.json")["results"]
    engine_printed = record["failure"]["discrepancies"][0]["engine"]
    assert "'PATH'" in engine_printed and "None" in engine_printed
    assert "AWS_SECRET_ACCESS_KEY" not in engine_printed
    for written in (root / "report").iterdir():
        assert secret not in written.read_text()
