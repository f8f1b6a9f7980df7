"""The pytest plugin end to end, with PyTorch standing in for the engine (harness behaviour only).

With `--parity-engine torch` both runs use PyTorch, so every well-formed spec must pass: what these
tests check is collection, outcomes, broken-spec handling and the report, not the engine.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch  # noqa: F401  imported here so pytester's in-process runs never re-import them
from engine_stub import engine_package

import engine  # noqa: F401  (a second copy of a module would have classes of its own)

TUTORIAL = Path(__file__).parents[3] / "specs" / "tutorial"
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


@pytest.fixture
def project(pytester):
    (pytester.path / "specs").mkdir()
    return pytester


def run(pytester, *args):
    result = pytester.runpytest("specs", "--parity-engine", "torch", "--parity-max-examples", "5",
                                "-p", "no:cacheprovider", *args)
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    return result, data


def test_tutorial_passes_against_itself(project):
    shutil.copytree(TUTORIAL, project.path / "specs" / "tutorial")
    result, data = run(project)
    assert result.ret == 0
    assert data["summary"]["passed"] == data["summary"]["total"] >= 10
    assert (project.path / "reports" / "index.html").exists()
    ids = [r["id"] for r in data["results"]]
    assert "specs/tutorial/03_gradients.yaml::backward_twice_raises" in ids
    assert "specs/tutorial/01_tensor.yaml::more_operations_any_input[float64]" in ids


def test_broken_spec_fails_alone_and_is_reported(project):
    (project.path / "specs" / "good.yaml").write_text(GOOD)
    (project.path / "specs" / "bad.yaml").write_text(GOOD.replace("y = x * 2", "import os"))
    result, data = run(project)
    assert result.ret == 1
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*broken spec: specs/bad.yaml:7:7: specs[[]0[]].program: import*"])
    outcomes = {r["id"]: r["outcome"] for r in data["results"]}
    assert outcomes == {"specs/good.yaml::double": "passed", "specs/bad.yaml::double": "error"}


def test_specs_sharing_a_name_each_keep_their_result(project):
    """Results are stored by item id: a broken spec named like another must not replace it."""
    (project.path / "specs" / "dups.yaml").write_text(
        GOOD.replace("name: double", "name: foo")
        + "  - name: foo\n    description: broken twin of a good spec\n    programm: y = 1\n"
        + "  - name: bar\n    description: broken\n    programm: y = 1\n"
        + "  - name: bar\n    description: broken too\n    program: y = nothing\n"
        + "  - {name: baz, description: d, program: y = 1}\n"
        + "  - {name: baz, description: d, program: y = 1}\n")
    result, data = run(project)
    result.assert_outcomes(passed=2, errors=4)
    ids = {r["id"]: r["outcome"] for r in data["results"]}
    assert ids == {"specs/dups.yaml::foo": "passed", "specs/dups.yaml::foo@9": "error",
                   "specs/dups.yaml::bar": "error", "specs/dups.yaml::bar@15": "error",
                   "specs/dups.yaml::baz": "passed", "specs/dups.yaml::baz@19": "error"}


def test_spec_contradicted_by_pytorch_is_a_broken_spec(project):
    spec = GOOD.replace("      y.sum().backward()\n", "      y.sum().backward()\n"
                        "    raises: [{line: 2, type: RuntimeError}]\n")
    (project.path / "specs" / "s.yaml").write_text(spec)
    result, data = run(project)
    [record] = data["results"]
    assert record["outcome"] == "error"
    assert record["failure"]["kind"] == "broken_spec"
    assert "PyTorch raised nothing" in record["failure"]["message"]


def test_unexpected_pytorch_error_is_a_broken_spec(project):
    spec = GOOD.replace("y.sum().backward()", "y.backward()")
    (project.path / "specs" / "s.yaml").write_text(spec)
    _, data = run(project)
    failure = data["results"][0]["failure"]
    assert failure["kind"] == "broken_spec"
    assert "grad can be implicitly created only for scalar outputs" in failure["message"]


def test_xdist_workers_report_to_one_file(project):
    shutil.copytree(TUTORIAL, project.path / "specs" / "tutorial")
    # a generous time limit: this is about the workers' reports, on a machine that may be busy
    result, data = run(project, "-n", "2", "--parity-time-limit", "120")
    assert result.ret == 0
    assert data["summary"]["total"] == len({r["id"] for r in data["results"]}) >= 10
    assert {r["examples"] > 0 for r in data["results"]} == {True}


HANGING_ENGINE = """\
import torch as _torch
Tensor, float32 = _torch.Tensor, _torch.float32
def __getattr__(name):
    return getattr(_torch, name)
def ones(*args, **kwargs):
    while True:
        pass
"""


def hanging_engine(pytester):
    """A package `hangtorch`: PyTorch, except that ones() never returns."""
    engine_package(pytester, "hangtorch", HANGING_ENGINE)


def test_expected_divergence_is_xfail_and_a_pass_is_strict_xpass(project):
    hanging_engine(project)
    (project.path / "specs" / "s.yaml").write_text(
        GOOD + "  - name: uses_ones\n    description: d\n    program: 'y = torch.ones(2)'\n")
    (project.path / "specs" / "expectations.yaml").write_text(
        "expectations:\n"
        "  - {id: 'specs/s.yaml::uses_ones', reason: 'ones hangs in this engine'}\n"
        "  - {id: 'specs/s.yaml::double', reason: 'claimed broken but is not'}\n"
        "  - {id: 'specs/s.yaml::gone', reason: 'no such spec'}\n")
    result, data = run(project, "--parity-engine", "hangtorch", "--parity-time-limit", "0.5")
    outcomes = {r["name"]: r["outcome"] for r in data["results"]}
    assert outcomes == {"uses_ones": "xfailed", "double": "xpassed"}
    assert result.ret == 1  # a strict XPASS fails the run
    result.stdout.fnmatch_lines(["*XPASS(strict)*specs/s.yaml::double*remove the entry*",
                                 "*expectations.yaml:4: specs/s.yaml::gone*"])
    xfailed = next(r for r in data["results"] if r["name"] == "uses_ones")
    assert xfailed["expectation"]["reason"] == "ones hangs in this engine"
    assert xfailed["failure"]["kind"] == "timeout"


def test_endless_loop_is_a_clear_error_not_a_hang(project):
    (project.path / "specs" / "s.yaml").write_text(
        "specs:\n  - name: forever\n    description: d\n    program: |\n"
        "      while True:\n          pass\n")
    result, data = run(project, "--parity-time-limit", "0.5")
    [record] = data["results"]
    assert record["outcome"] == "error"
    assert "did not finish within 0.5 s on PyTorch" in record["failure"]["message"]


def test_one_c_call_stuck_past_the_limit_ends_its_worker_not_the_run(project):
    """math.factorial(2_000_000) holds the GIL for ~14 s: the watchdog cannot interrupt it, so
    the worker ends (harness.run.timeout's SIGALRM) and the spec is an ERROR; the others still run.
    Without the hard exit the record would say 'did not finish within 1 s' after the call."""
    (project.path / "specs" / "s.yaml").write_text(
        "specs:\n  - name: stuck_in_c\n    description: d\n    inputs: {x: {shape: [2]}}\n"
        "    program: |\n      y = x * 2\n      v = math.factorial(2000000)\n" + GOOD[7:])
    result, data = run(project, "-n", "1", "--parity-time-limit", "1")
    records = {r["id"]: r for r in data["results"]}
    assert records["specs/s.yaml::double"]["outcome"] == "passed"
    stuck = records["specs/s.yaml::stuck_in_c"]
    assert stuck["outcome"] == "error"
    assert "crashed" in stuck["failure"]["message"]
    assert "C call" in stuck["failure"]["message"]  # says what usually causes it


def test_engine_that_hangs_fails_with_timeout(project):
    hanging_engine(project)
    (project.path / "specs" / "s.yaml").write_text(
        "specs:\n  - name: uses_ones\n    description: d\n    program: 'y = torch.ones(2)'\n")
    result, data = run(project, "--parity-engine", "hangtorch", "--parity-time-limit", "0.5")
    [record] = data["results"]
    assert (record["outcome"], record["failure"]["kind"]) == ("failed", "timeout")
    assert "did not finish within 0.5 s on the engine" in record["failure"]["message"]
    assert record["checks"]["errors"] == "fail"


def test_shards_partition_the_suite_and_merge_into_one_report(project):
    shutil.copytree(TUTORIAL, project.path / "specs" / "tutorial")
    ids = []
    for i in (1, 2, 3):
        result = project.runpytest("specs", "--parity-engine", "torch", "--parity-max-examples",
                                   "3", "-p", "no:cacheprovider", "--shard", f"{i}/3",
                                   "--parity-report", f"shard{i}")
        assert result.ret == 0
        data = json.loads((project.path / f"shard{i}" / "results.json").read_text())
        assert data["metadata"]["shard"] == f"{i}/3"
        ids += [r["id"] for r in data["results"]]
    assert len(ids) == len(set(ids)) >= 10  # every item in exactly one shard

    from harness.cli import main

    files = [str(project.path / f"shard{i}" / "results.json") for i in (1, 2, 3)]
    assert main(["merge", *files, "--out", str(project.path / "merged")]) == 0
    merged = json.loads((project.path / "merged" / "results.json").read_text())
    assert sorted(r["id"] for r in merged["results"]) == sorted(ids)
    assert merged["summary"]["total"] == len(ids)
    assert [s["shard"] for s in merged["metadata"]["shards"]] == ["1/3", "2/3", "3/3"]


def test_merge_refuses_conflicting_outcomes():
    from harness.report.results import MergeError, merge

    def data(outcome):
        return {"metadata": {}, "results": [{"id": "a", "outcome": outcome, "examples": 1}]}

    with pytest.raises(MergeError, match="a is passed in one file and failed in b.json"):
        merge([(Path("a.json"), data("passed")), (Path("b.json"), data("failed"))])


def test_the_printed_seed_reproduces_the_examples(project):
    """Same --hypothesis-seed, same examples (seen through the measured margins); another seed
    draws others. The ci profile keeps the example database out of it."""
    shutil.copytree(TUTORIAL, project.path / "specs" / "tutorial")
    node = "specs/tutorial/01_tensor.yaml::more_operations_any_input[float32]"

    def margins(seed):
        result = project.runpytest(node, "--parity-engine", "engine", "-p", "no:cacheprovider",
                                   "--hypothesis-profile", "ci", f"--hypothesis-seed={seed}",
                                   "--parity-report", f"seed{seed}")
        assert result.ret == 0
        data = json.loads((project.path / f"seed{seed}" / "results.json").read_text())
        [record] = data["results"]
        assert data["metadata"]["seed"] == str(seed)
        return record["margins"]

    first = margins(123)
    assert margins(123) == first
    assert margins(456) != first


# -- a new user's first hour (issue #13) --------------------------------------------------------

def test_an_engine_that_cannot_be_imported_is_one_line_before_anything_runs(project):
    (project.path / "specs" / "s.yaml").write_text(GOOD)
    result = project.runpytest("specs", "--parity-engine", "nosuchmod", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1, errors
    assert errors[0].startswith("ERROR: --parity-engine nosuchmod: cannot import nosuchmod: "
                                "ModuleNotFoundError: No module named 'nosuchmod'. ")
    assert "path of the engine's package folder" in errors[0]
    assert "Traceback" not in result.stdout.str() and "passed" not in result.stdout.str()
    assert not list(project.path.rglob("results.json"))  # no report: nothing ran


PATH_ENGINE = """\
import torch as _torch
Tensor, float32 = _torch.Tensor, _torch.float32
def __getattr__(name):
    return getattr(_torch, name)
def ones(*args, **kwargs):
    return _torch.ones(*args, **kwargs) * 2  # the bug this engine has
"""


def test_an_engine_elsewhere_is_named_by_its_path_and_its_snippet_imports_it(project):
    """--parity-engine path/to/pkg: the folder goes on sys.path (workers too). The failure's
    snippet imports that engine, from that folder, and prints the value that differs; the
    reproduce command names the path from the rootdir."""
    package = project.path / "elsewhere" / "pathengine"
    (package / "nn").mkdir(parents=True)
    (package / "__init__.py").write_text(PATH_ENGINE)
    (package / "nn" / "__init__.py").write_text("")
    (package / "nn" / "functional.py").write_text("from torch.nn.functional import *  # noqa\n")
    (project.path / "specs" / "s.yaml").write_text(
        "specs:\n  - name: ones\n    description: d\n    inputs: {x: {shape: [2]}}\n"
        "    program: |\n      y = torch.ones(2) * x\n      z = y.sum()\n")
    result, data = run(project, "--parity-engine", "elsewhere/pathengine", "-n", "1")
    assert result.ret == 1
    [record] = data["results"]
    assert data["metadata"]["engine"] == "pathengine"
    failure = record["failure"]
    assert "--parity-engine=elsewhere/pathengine" in failure["reproduce"]
    snippet = failure["snippet"]
    assert f"sys.path.insert(0, {str(project.path / 'elsewhere')!r})" in snippet
    assert "import torch  # or: import pathengine as torch" in snippet
    assert "y = torch.ones(2) * x\nprint('y', y)  # differs here\nz = y.sum()" in snippet
    # the snippet runs: on PyTorch as written, on the engine by swapping the import
    printed = []
    for module in ("torch", "pathengine"):
        text = snippet.replace("import torch  #", f"import {module} as torch  #")
        namespace = {"print": lambda *args: printed.append(" ".join(map(str, args)))}
        exec(compile(text, "<snippet>", "exec"), namespace)
    assert printed[0] != printed[1] and printed[0].startswith("y tensor(")


def test_the_ci_profile_is_deterministic_without_the_ci_variable(project, monkeypatch):
    """`--hypothesis-profile ci` on a developer's machine: the session seed is 0 (the profile is
    derandomized), not a random one read before Hypothesis loaded the profile."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    shutil.copytree(TUTORIAL, project.path / "specs" / "tutorial")
    node = "specs/tutorial/01_tensor.yaml::more_operations_any_input[float32]"
    margins = []
    for run_number in (1, 2):
        result = project.runpytest_subprocess(node, "--parity-engine", "engine", "-p",
                                              "no:cacheprovider", "--hypothesis-profile", "ci",
                                              "--parity-report", f"run{run_number}")
        assert result.ret == 0
        data = json.loads((project.path / f"run{run_number}" / "results.json").read_text())
        assert data["metadata"]["seed"] == "0"
        margins.append(data["results"][0]["margins"])
    assert margins[0] == margins[1]


def test_merging_some_of_the_shards_warns_and_keeps_every_seed(project, capsys):
    shutil.copytree(TUTORIAL, project.path / "specs" / "tutorial")
    for i, seed in ((1, 11), (2, 22)):
        result = project.runpytest("specs", "--parity-engine", "torch", "--parity-max-examples",
                                   "2", "-p", "no:cacheprovider", "--shard", f"{i}/3",
                                   f"--hypothesis-seed={seed}", "--parity-report", f"shard{i}")
        assert result.ret == 0
    from harness.cli import main

    files = [str(project.path / f"shard{i}" / "results.json") for i in (1, 2)]
    capsys.readouterr()
    assert main(["merge", *files, "--out", str(project.path / "merged")]) == 0
    err = capsys.readouterr().err
    assert "WARNING: only 2 of 3 shards: 3/3 missing" in err
    merged = json.loads((project.path / "merged" / "results.json").read_text())
    assert merged["metadata"]["missing_shards"] == ["3/3"]
    assert [s["seed"] for s in merged["metadata"]["shards"]] == ["11", "22"]
    assert merged["metadata"]["seed"] == "11 (shard 1/3), 22 (shard 2/3)"
    html = (project.path / "merged" / "index.html").read_text()
    assert "(incomplete: shard 3/3 missing)" in html


def test_pytest_counts_as_parity_does_xpassed_and_errors(project):
    """A non-strict XPASS is pytest's xpassed (it said passed); a spec PyTorch contradicts at
    run time is an error for both (pytest said failed)."""
    (project.path / "specs" / "s.yaml").write_text(
        GOOD + "  - name: contradicted\n    description: d\n    inputs: {x: {shape: [2]}}\n"
        "    program: y = x.sum()\n    raises: [{line: 1, type: RuntimeError}]\n")
    (project.path / "specs" / "expectations.yaml").write_text(
        "expectations:\n"
        "  - {id: 'specs/s.yaml::double', reason: 'was broken', strict: false}\n")
    result, data = run(project)
    outcomes = {r["name"]: r["outcome"] for r in data["results"]}
    assert outcomes == {"double": "xpassed", "contradicted": "error"}
    result.assert_outcomes(xpassed=1, errors=1)
    result.stdout.fnmatch_lines(["*parity: 1 xpassed, 1 error*"])


def test_a_partial_run_keeps_the_full_report_and_lists_only_stale_expectations(project):
    """One spec file: its report goes to reports/partial (reports/index.html is the full run's);
    expectations of specs that did not run are not listed, one that names no spec is."""
    (project.path / "specs" / "a.yaml").write_text(GOOD)
    (project.path / "specs" / "b.yaml").write_text(GOOD.replace("double", "other"))
    (project.path / "specs" / "expectations.yaml").write_text(
        "expectations:\n"
        "  - {id: 'specs/b.yaml::other', reason: 'known', strict: false}\n"
        "  - {id: 'specs/a.yaml::renamed', reason: 'stale'}\n")
    common = ("--parity-engine", "torch", "--parity-max-examples", "2", "-p", "no:cacheprovider")
    full = project.runpytest("specs", *common)
    assert full.ret == 0
    full.stdout.fnmatch_lines(["*expectations that name no spec item*",
                               "expectations.yaml:3: specs/a.yaml::renamed"])
    first = (project.path / "reports" / "index.html").read_text()
    for narrowed in (["specs/a.yaml"], ["specs", "-k", "double"]):
        partial = project.runpytest(*narrowed, *common)
        assert partial.ret == 0
        assert "specs/b.yaml::other" not in partial.stdout.str()  # not stale, just not run
        assert "specs/a.yaml::renamed" in partial.stdout.str()  # stale in every run
        partial.stdout.fnmatch_lines(["*reports/partial/index.html",
                                      "*part of the suite ran*reports/index.html is left*"])
        assert (project.path / "reports" / "index.html").read_text() == first
        data = json.loads((project.path / "reports" / "partial" / "results.json").read_text())
        assert [r["name"] for r in data["results"]] == ["double"]


def test_the_dev_profile_keeps_its_database_under_ci():
    """Under CI (or tox's copy of its variable) Hypothesis starts on its `ci` profile, which has
    no database; the `dev` profile a user asks for there still keeps one."""
    probe = ("import hypothesis, harness.run.plugin; "
             "print(hypothesis.settings.default.database, "
             "hypothesis.settings.get_profile('dev').database)")
    for marker in ("CI", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI"):
        env = {**os.environ, marker: "true"}
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                             text=True, check=True).stdout.split()
        assert out[0] == "None" and out[1] != "None", (marker, out)
