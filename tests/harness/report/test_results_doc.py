"""docs/results.md describes what the harness really writes: every key of a real results.json
(failing, xfailed, xpassed, broken and unloadable specs) is documented, every documented key is
written, and the documented nullabilities and examples hold."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from report_page import Page

from harness.report.html import render_html

DOC = Path(__file__).parents[3] / "docs" / "results.md"

WRONG_EXP = """\
import torch as _torch
Tensor, float32 = _torch.Tensor, _torch.float32
def __getattr__(name):
    return getattr(_torch, name)
def exp(t):
    return _torch.exp(t) + 1
"""

SPECS = """\
specs:
  - name: exp_in_list
    description: the engine's exp is off by one
    inputs:
      x: {shape: [2, 2], dtype: [float32, float64]}
    program: |
      ws = []
      for i in range(2):
          ws.append(torch.exp(x))
      print(len(ws))
  - name: exp_known
    description: listed as a known divergence
    inputs:
      x: {shape: [2]}
    program: |
      d = {'y': torch.exp(x)}
  - name: no_exp
    description: passes, but is listed
    inputs:
      x: {shape: [2]}
    program: |
      y = x * 2
  - name: contradicted
    description: declares an error PyTorch never raises
    program: |
      y = torch.ones(2)
    raises: [{line: 1, type: RuntimeError}]
  - name: unloadable
    description: refused at load
    program: |
      import os
"""

EXPECTATIONS = """\
expectations:
  - {id: "specs/s.yaml::exp_known", reason: "exp is off"}
  - {id: "specs/s.yaml::no_exp", reason: "claimed", strict: false}
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict:
    """A real results.json, from a run in a subprocess (one per module: it takes seconds)."""

    root = tmp_path_factory.mktemp("project")
    package = root / "wrongexp"
    (package / "nn").mkdir(parents=True)
    (package / "__init__.py").write_text(WRONG_EXP)
    (package / "nn" / "__init__.py").write_text("")
    (package / "nn" / "functional.py").write_text("from torch.nn.functional import *  # noqa\n")
    (root / "specs").mkdir()
    (root / "specs" / "s.yaml").write_text(SPECS)
    (root / "specs" / "expectations.yaml").write_text(EXPECTATIONS)
    (root / "pytest.ini").write_text("[pytest]\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "specs", "-p", "no:cacheprovider", "-q",
         "--parity-engine", "wrongexp", "--parity-max-examples", "3"],
        cwd=root, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(root)})
    assert run.returncode == 1, run.stdout + run.stderr
    return json.loads((root / "reports" / "results.json").read_text())


def documented(section: str | None = None) -> dict[str, str]:
    """Key -> its row (type and meaning) from every table of docs/results.md, but those of the
    OpInfo section (tests/harness/opinfo/test_opinfo_results_doc.py checks them); only those
    with `section="opinfo"`."""
    rows = {}
    text = DOC.read_text()
    head, _, opinfo = text.partition("\n## OpInfo items")
    for line in (opinfo if section == "opinfo" else head).splitlines():
        match = re.match(r"^\| ((?:`[^`]+`(?:, )?)+) \|(.*)$", line)
        if match:
            for key in re.findall(r"`([^`]+)`", match[1]):
                rows.setdefault(key, match[2])
    return rows


def by_name(data: dict) -> dict[str, dict]:
    return {r["name"]: r for r in data["results"]}


def test_every_written_key_is_documented_and_every_documented_key_written(written):
    doc = documented()
    summary_row = doc.pop("summary")
    for outcome in written["summary"]:
        assert f"`{outcome}`" in summary_row
    keys = set(written) - {"summary"} | set(written["metadata"])
    for record in written["results"]:
        keys |= set(record)
        if record["failure"]:
            keys |= set(record["failure"])
            for d in record["failure"]["discrepancies"]:
                keys |= set(d)
    assert keys - set(doc) == set(), "written but not documented"
    assert set(doc) - keys - {"shards", "missing_shards"} == set(), "documented but never written"
    text = DOC.read_text()
    measures = [d["measure"] for r in written["results"] if r["failure"]
                for d in r["failure"]["discrepancies"] if d["measure"]]
    assert measures
    for key in {*measures[0], *measures[0]["elements"][0]}:
        assert f'"{key}"' in text


def test_outcomes_and_nulls_are_as_documented(written):
    records = by_name(written)
    assert {n: r["outcome"] for n, r in records.items()} == {
        "exp_in_list[float32]": "failed", "exp_in_list[float64]": "failed",
        "exp_known": "xfailed", "no_exp": "xpassed", "contradicted": "error",
        "unloadable": "error"}
    assert records["no_exp"]["failure"] is None  # null for xpassed, as for passed
    assert records["exp_known"]["failure"]["kind"] == "mismatch"  # xfailed keeps its failure
    assert "`passed` or `xpassed`" in documented()["failure"]
    unloadable = records["unloadable"]
    assert unloadable["program_line"] is None
    assert "int or null" in documented()["program_line"]
    assert unloadable["failure"]["snippet"] is None and unloadable["checks"] == {}
    assert records["contradicted"]["failure"]["kind"] == "broken_spec"
    assert "str or null" in documented()["snippet"]
    assert written["summary"] == {"passed": 0, "xfailed": 1, "xpassed": 1, "error": 2,
                                  "failed": 2, "total": 6}
    assert list(written["summary"]) == ["passed", "xfailed", "xpassed", "error", "failed",
                                        "total"]


def _shape(text: str) -> str:
    return re.sub(r"\(\d+(?:, \d+)*,?\)", "T", re.sub(r"\d+(?:\.\d+)?(?:e-?\d+)?", "N", text))


def test_documented_detail_has_the_written_form(written):
    failed = by_name(written)["exp_in_list[float32]"]["failure"]
    [example] = re.findall(r"For floats: `([^`]+)`", DOC.read_text())
    detail = failed["discrepancies"][0]["detail"]
    cut = lambda s: s.split("differing")[0]  # noqa: E731  (how many elements are listed varies)
    assert _shape(cut(example)) == _shape(cut(detail)), (example, detail)


def test_list_element_mismatch_carries_a_measure_into_the_report(written):
    failed = by_name(written)["exp_in_list[float32]"]
    found = failed["failure"]["discrepancies"]
    assert [(d["variable"], d["field"]) for d in found] == [("ws", "[0].values"),
                                                            ("ws", "[1].values")]
    assert [d["measure"]["mismatched"] for d in found] == [4, 4]
    assert failed["failure"]["message"] == \
        "line 2 `for i in range(2): …`: ws[0].values differs (+1 more)"
    assert failed["failure"]["statement_line"] == 2  # a value: the loop's first line
    known = by_name(written)["exp_known"]["failure"]["discrepancies"][0]
    assert (known["variable"], known["field"], known["measure"]["mismatched"]) == \
        ("d", "['y'].values", 2)
    page = Page(render_html(written))
    assert len(page.text("elements")) >= 3  # a table of differing elements for each


def test_reproduce_and_snippet(written):
    failure = by_name(written)["exp_in_list[float32]"]["failure"]
    assert "--parity-engine=wrongexp --parity-max-examples=3" in failure["reproduce"]
    assert failure["snippet"].startswith("import math")
