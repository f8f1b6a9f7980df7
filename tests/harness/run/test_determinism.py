"""The same seed and profile give the same results.json, byte for byte apart from timings and
timestamps, whatever Python's hash seed and the number of workers; the `dev` profile's example
database replays an item's failing example first on the next run (docs/running.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

WRONG_ENGINE = """\
import torch as _torch
from torch import *  # noqa: F401,F403
def __getattr__(name):
    return getattr(_torch, name)
def exp(t):
    out = _torch.exp(t)
    return out + (t > 9).to(out.dtype)      # wrong only above 9: rare among drawn inputs
def sigmoid(t):
    return _torch.sigmoid(t) * 1.001          # wrong everywhere
"""

SPECS = """\
specs:
  - name: exp_rare
    description: the engine's exp is wrong above 9
    inputs:
      x: {shape: [3], range: [-10, 10]}
    program: |
      y = torch.exp(x)
  - name: sigmoid_names
    description: many variables, several of them differ
    inputs:
      a: {shape: [2], dtype: [float32, float64], requires_grad: true}
      b: {shape: [2, 2]}
    program: |
      s = {'p': torch.sigmoid(a), 'q': torch.sigmoid(b)}
      z, w, v = torch.sigmoid(b), torch.sigmoid(a), a * 2
      t = (z.sum() + w.sum() + v.sum())
      t.backward()
      print(w, z)
  - name: passes
    description: fine
    inputs:
      x: {shape: [2]}
    program: |
      y = x.sum() * 2
  - name: broken
    description: refused at load
    program: |
      t = torch
"""

TIMING = {"duration_s", "created"}


def project(root: Path) -> Path:
    (root / "wrong" / "nn").mkdir(parents=True)
    (root / "wrong" / "__init__.py").write_text(WRONG_ENGINE)
    (root / "wrong" / "nn" / "__init__.py").write_text("")
    (root / "wrong" / "nn" / "functional.py").write_text(
        "from torch.nn.functional import *  # noqa\n")
    (root / "specs").mkdir()
    (root / "specs" / "s.yaml").write_text(SPECS)
    (root / "pytest.ini").write_text("[pytest]\n")
    return root


def run(root: Path, report: str, *args: str, hash_seed: str = "0", ci: bool = True):
    # tox passes CI on as __TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI too, which Hypothesis also reads
    ci_markers = ("CI", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI", "PYTEST_XDIST_WORKER")
    env = {k: v for k, v in os.environ.items() if k not in ci_markers}
    env.update(PYTHONPATH=str(root), PYTHONHASHSEED=hash_seed)
    if ci:
        env["CI"] = "true"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "specs", "-p", "no:cacheprovider", "-q",
         "--parity-engine", "wrong", f"--parity-report={report}", *args],
        cwd=root, capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode in (0, 1), out.stdout[-3000:] + out.stderr[-3000:]
    return json.loads((root / report / "results.json").read_text())


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def test_the_dev_profile_replays_a_failing_example_first(tmp_path):
    """Run 1 finds exp's rare failure and saves it; run 2, with one example of a seed that on
    its own never reaches it, replays it first and fails. Without the database, run 2 passes."""
    root = project(tmp_path)
    (root / "specs" / "s.yaml").write_text(SPECS.split("  - name: sigmoid_names")[0])
    dev = ("--hypothesis-profile=dev", "-p", "no:randomly")
    found = run(root, "r1", *dev, "--parity-max-examples=200", "--hypothesis-seed=3", ci=False)
    [failed] = found["results"]
    assert failed["outcome"] == "failed"
    saved = failed["failure"]["inputs"]["x"]["values"]
    assert max(saved) > 9
    assert (root / ".hypothesis" / "examples").is_dir()
    replayed = run(root, "r2", *dev, "--parity-max-examples=1", "--hypothesis-seed=4", ci=False)
    [again] = replayed["results"]
    assert again["outcome"] == "failed"
    assert again["failure"]["inputs"]["x"]["values"] == saved
    shutil.rmtree(root / ".hypothesis")
    control = run(root, "r3", *dev, "--parity-max-examples=1", "--hypothesis-seed=4", ci=False)
    assert control["results"][0]["outcome"] == "passed"
