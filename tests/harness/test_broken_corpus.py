"""Every file in tests/broken_specs/ gets exactly one clear error, at the right line and column.

Each corpus file starts with `# expect: LINE:COL FIELD | TEXT`: the one problem `parity validate`
must report (FIELD `-` for a file-level problem; TEXT is found in the message). A run of the whole
corpus next to a good spec still runs the good spec and marks every broken one ERROR.
"""

import json
import re
import shutil
import time
from pathlib import Path

import pytest
import torch  # noqa: F401  imported here so pytester's in-process runs never re-import it

from harness.spec import SpecError, load_file
from harness.validate import validate

CORPUS = Path(__file__).parents[1] / "broken_specs"
FILES = sorted(CORPUS.glob("*.yaml"))
EXPECT = re.compile(rb"# expect: (\d+):(\d+) (\S+) \| (.*)")
TIME_LIMIT = 1.0
TWINS = {"duplicate_spec_name.yaml", "duplicate_name_broken_twin.yaml"}  # good spec + broken
GOOD = """\
specs:
  - name: double
    description: twice x
    inputs:
      x: {shape: [2], requires_grad: true}
    program: |
      y = x * 2
      y.sum().backward()
"""


def expectation(path: Path) -> tuple[int, int, str, str]:
    m = EXPECT.match(path.read_bytes().splitlines()[0])
    assert m, f"{path.name} has no '# expect:' line"
    where = m[3].decode()
    return int(m[1]), int(m[2]), "" if where == "-" else where, m[4].decode()


def test_corpus_is_big_enough():
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_one_clear_error_at_the_right_place(path, monkeypatch):
    monkeypatch.chdir(CORPUS)
    outcome = validate([path.name], time_limit=TIME_LIMIT)
    line, col, where, text = expectation(path)
    assert len(outcome.problems) == 1, "\n".join(map(str, outcome.problems))
    [problem] = outcome.problems
    shown = f"{path.name}:{line}:{col}:" + (f" {where}:" if where else "")
    assert str(problem).startswith(shown), str(problem)
    assert text in problem.message, str(problem)


def test_empty_file(tmp_path):
    (tmp_path / "empty.yaml").write_bytes(b"")
    [error] = load_file(tmp_path / "empty.yaml", root=tmp_path).entries
    assert str(error) == ("empty.yaml:1:1: the file is empty: a spec file is a mapping with a "
                          "'specs:' list")


def test_huge_file_is_refused_quickly(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(GOOD + "# " + "x" * 10_000_000 + "\n")
    start = time.perf_counter()
    [error] = load_file(path, root=tmp_path).entries
    assert time.perf_counter() - start < 0.5
    assert isinstance(error, SpecError)
    assert str(error) == "huge.yaml:1:1: file is 10.0 MB; spec files are limited to 1 MB"


def test_missing_file_is_an_error_not_an_exception(tmp_path):
    [error] = load_file(tmp_path / "nope.yaml", root=tmp_path).entries
    assert "cannot read file" in error.message


def test_a_run_with_the_corpus_runs_the_rest_and_reports_errors(pytester):
    specs = pytester.path / "specs"
    shutil.copytree(CORPUS, specs / "broken")
    (specs / "good.yaml").write_text(GOOD)
    (specs / "broken" / "empty.yaml").write_bytes(b"")
    (specs / "broken" / "huge.yaml").write_text(GOOD + "# " + "x" * 10_000_000 + "\n")
    result = pytester.runpytest("specs", "--parity-engine", "torch", "--parity-max-examples", "3",
                                "--parity-time-limit", str(TIME_LIMIT), "-p", "no:cacheprovider")
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    outcomes: dict[str, set[str]] = {}
    for record in data["results"]:
        outcomes.setdefault(record["id"].split("::")[0], set()).add(record["outcome"])
    assert outcomes.pop("specs/good.yaml") == {"passed"}
    for name in TWINS:  # a good spec, and a broken one with the same name
        assert outcomes.pop(f"specs/broken/{name}") == {"passed", "error"}
    assert outcomes == {f"specs/broken/{name}": {"error"}
                        for name in [f.name for f in FILES] + ["empty.yaml", "huge.yaml"]
                        if name not in TWINS}
    # every item has a record of its own: none is lost to another item with the same id
    counts = result.parseoutcomes()
    ran = counts["passed"] + counts["errors"] + counts.get("failed", 0)  # failed: at run time
    assert len(data["results"]) == ran == len(FILES) + 5
    assert result.ret == 1
