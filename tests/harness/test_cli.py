"""The `parity` command as a user types it: new, validate, schema, run."""

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch  # noqa: F401  imported here so pytester's in-process runs never re-import it

from harness.cli import main
from harness.spec.schema import SCHEMA_PATH, schema_text
from harness.validate import validate

ROOT = Path(__file__).parents[2]
BROKEN = """\
specs:
  - name: typo
    description: d
    programm: y = 1
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_new_writes_a_skeleton_that_validates(project, capsys):
    assert main(["new", "autograd/my_first_spec"]) == 0
    path = project / "specs" / "autograd" / "my_first_spec.yaml"
    assert capsys.readouterr().out.strip() == str(Path("specs/autograd/my_first_spec.yaml"))
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../../docs/spec.schema.json\n")
    assert "name: my_first_spec" in text
    assert main(["validate", str(path)]) == 0
    assert "1 specs valid, 0 problems" in capsys.readouterr().err


def test_new_never_overwrites_and_checks_the_name(project, capsys):
    assert main(["new", "a/b"]) == 0
    assert main(["new", "a/b"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["new", "justaname"]) == 1
    assert main(["new", "a/b c"]) == 1
    assert "expected AREA/NAME" in capsys.readouterr().err


def test_new_writes_to_the_projects_specs_from_any_folder(project, monkeypatch, capsys):
    """Run inside specs/ops, `parity new ops/x` once wrote specs/ops/specs/ops/x.yaml."""
    (project / "pyproject.toml").write_text("")
    (project / "specs" / "ops").mkdir(parents=True)
    monkeypatch.chdir(project / "specs" / "ops")
    assert main(["new", "ops/from_inside"]) == 0
    assert (project / "specs" / "ops" / "from_inside.yaml").exists()
    out = capsys.readouterr()
    assert out.out.strip() == "from_inside.yaml"  # relative to where the user is
    assert f"specs/ folder: {project.resolve() / 'specs'}" in out.err
    (project / "docs").mkdir()
    monkeypatch.chdir(project / "docs")  # beside specs/: the folder that holds specs/
    assert main(["new", "ops/from_docs"]) == 0
    assert capsys.readouterr().out.strip() == str(Path("../specs/ops/from_docs.yaml"))
    assert not (project / "docs" / "specs").exists()


def test_new_skeleton_passes_on_the_engine(pytester):
    pytester.chdir()
    assert main(["new", "smoke/skeleton"]) == 0
    result = pytester.runpytest("specs", "--parity-max-examples", "5", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)  # float32 and float64


def test_validate_prints_one_line_per_problem(project, capsys):
    (project / "specs").mkdir()
    (project / "specs" / "bad.yaml").write_text(BROKEN)
    (project / "specs" / "also_bad.yaml").write_text(BROKEN.replace("programm", "program")
                                                     .replace("y = 1", "y = torch.onez(2)"))
    assert main(["validate"]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        "specs/also_bad.yaml:4:24: specs[0].program: torch.onez does not exist "
        "(torch has no attribute 'onez') (did you mean 'ones'?)",
        "specs/bad.yaml:4:5: specs[0].programm: unknown field (did you mean 'program'?)",
    ]
    assert "0 specs valid, 2 problems (2 files)" in out.err


def test_validate_says_which_files_a_run_would_not_collect(project, capsys):
    good = BROKEN.replace("programm", "program")
    (project / "specs").mkdir()
    (project / "specs" / "a.yaml").write_text(good)
    (project / "elsewhere").mkdir()
    (project / "elsewhere" / "b.yaml").write_text(good)
    assert main(["validate", "--no-run", "specs"]) == 0
    assert "note:" not in capsys.readouterr().err
    assert main(["validate", "--no-run", "specs", "elsewhere"]) == 0
    err = capsys.readouterr().err
    assert ("note: `parity run` does not collect 1 of these files (it takes *.yaml under a folder "
            f"named specs/): {Path('elsewhere/b.yaml')}") in err


def test_validate_without_files_is_an_error(project, capsys):
    assert main(["validate", "."]) == 1
    assert "no spec files" in capsys.readouterr().err


def test_validate_checks_expectations(project, capsys):
    specs = project / "specs"
    specs.mkdir()
    (specs / "a.yaml").write_text(BROKEN.replace("programm", "program"))
    (specs / "expectations.yaml").write_text(
        "expectations:\n  - id: specs/a.yaml::typo\n    reason: fine\n"
        "  - id: specs/a.yaml::gone\n    reason: the spec was renamed\n")
    assert main(["validate", "specs"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "specs/expectations.yaml:4:1: id: no spec item has the id 'specs/a.yaml::gone'"]


def test_validate_checks_an_expectations_file_named_alone(project, capsys):
    """Named on its own, expectations.yaml is checked as expectations (against the specs of
    its directory), not read as a malformed spec file."""
    specs = project / "specs"
    specs.mkdir()
    (specs / "a.yaml").write_text(BROKEN.replace("programm", "program"))
    good = "expectations:\n  - id: specs/a.yaml::typo\n    reason: fine\n"
    (specs / "expectations.yaml").write_text(good)
    assert main(["validate", "specs/expectations.yaml"]) == 0
    (specs / "expectations.yaml").write_text(good + "  - id: specs/a.yaml::gone\n    reason: r\n")
    assert main(["validate", "specs/expectations.yaml"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "specs/expectations.yaml:4:1: id: no spec item has the id 'specs/a.yaml::gone'"]


def test_the_tutorial_specs_validate(monkeypatch, capsys):
    """(CI validates all of specs/ in the conformance env; this keeps the tests independent.)"""
    monkeypatch.chdir(ROOT)
    assert main(["validate", "specs/tutorial"]) == 0, capsys.readouterr().out


def test_schema_is_committed_and_up_to_date(capsys):
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == schema_text()
    assert (ROOT / SCHEMA_PATH).read_text() == printed, (
        "docs/spec.schema.json is stale: run `parity schema > docs/spec.schema.json`")
    schema = json.loads(printed)
    assert schema["required"] == ["specs"] and schema["additionalProperties"] is False
    spec = schema["$defs"]["SpecModel"]
    assert {"name", "description", "program"} <= set(spec["required"])
    assert spec["additionalProperties"] is False


def test_run_passes_pytest_options_through_and_shows_a_progress_bar(project):
    (project / "specs").mkdir()
    (project / "specs" / "s.yaml").write_text(
        "specs:\n  - name: ok\n    description: d\n    inputs: {x: {shape: [2]}}\n"
        "    program: y = x * 2\n"
        "  - name: broken\n    description: d\n    program: y = torch.onez(2)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "harness.cli", "run", "--parity-engine", "torch",
               "--parity-max-examples", "3", "-p", "no:cacheprovider", "-n", "2"]
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr  # the broken spec
    assert "[####################################] 2/2   1 error" in out.stdout
    assert "[100%]" not in out.stdout and "s.yaml .E" not in out.stdout  # no rows of dots
    assert "parity: 1 passed, 1 error" in out.stdout and "index.html" in out.stdout
    verbose = subprocess.run([*command, "-v"], capture_output=True, text=True, env=env,
                             timeout=300)
    assert "PASSED" in verbose.stdout and "[####" not in verbose.stdout  # -v: pytest's lines


def test_progress_bar_redraws_one_line_on_a_terminal():
    from harness.run.progress import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    bar = ProgressBar(Terminal())
    bar.active, bar.total = True, 4
    for when, failed in (("call", False), ("setup", True), ("call", True), ("call", False)):
        bar.pytest_runtest_logreport(SimpleNamespace(when=when, passed=not failed, failed=failed))
    bar.pytest_sessionfinish()
    text = bar.stream.getvalue()
    assert text.count("\r") == 5 and text.endswith("\n") and text.count("\n") == 1
    assert "[#########...........................] 1/4   nothing unexpected" in text
    assert "] 4/4   1 failed, 1 error   0:00\n" in text


def test_run_never_takes_an_option_value_for_a_path(pytester, capsys):
    """`--parity-report reports` with an existing reports/ ran pytest's testpaths (the unit
    tests) instead of specs/: the value of an option is no path."""
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    pytester.makepyfile(**{"tests/test_unit": "def test_unit():\n    assert False\n"})
    (pytester.path / "specs").mkdir()
    (pytester.path / "specs" / "s.yaml").write_text(
        "specs:\n  - name: ok\n    description: d\n    inputs: {x: {shape: [2]}}\n"
        "    program: y = x * 2\n")
    (pytester.path / "reports").mkdir()
    pytester.chdir()
    options = ["--parity-engine", "torch", "--parity-max-examples", "2", "-p", "no:cacheprovider"]
    assert main(["run", "--parity-report", "reports", *options]) == 0
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert [r["id"] for r in data["results"]] == ["specs/s.yaml::ok"]
    os.chdir(pytester.path / "specs")  # from inside specs/ too: specs/, once
    assert main(["run", "-k", "ok", "--parity-report", "../reports", *options]) == 0
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert [r["id"] for r in data["results"]] == ["specs/s.yaml::ok"]
    pytester.chdir()
    assert main(["run", "tests", "--parity-report", "", *options]) == 1  # a path: as given
    capsys.readouterr()


def test_run_without_a_path_runs_the_specs_on_xdist_workers_too(pytester):
    """`parity run -n 2` with no path ran pytest's `testpaths` (the unit tests) on the workers:
    the path chosen on the controller must reach them, and `-k` select among the specs."""
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    pytester.makepyfile(**{"tests/test_unit": "def test_ok():\n    pass\n"})
    (pytester.path / "specs").mkdir()
    (pytester.path / "specs" / "s.yaml").write_text(
        "specs:\n  - name: ok\n    description: d\n    inputs: {x: {shape: [2]}}\n"
        "    program: y = x * 2\n  - {name: other, description: d, program: y = 1}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "harness.cli", "run", "-n", "2", "--parity-engine", "torch",
               "--parity-max-examples", "2", "-p", "no:cacheprovider"]
    for extra, ran in (([], ["specs/s.yaml::ok", "specs/s.yaml::other"]),
                       (["-k", "ok", "--parity-report", "selected"], ["specs/s.yaml::ok"])):
        out = subprocess.run([*command, *extra], capture_output=True, text=True, env=env,
                             cwd=pytester.path, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        report = pytester.path / (extra[-1] if extra else "reports") / "results.json"
        assert sorted(r["id"] for r in json.loads(report.read_text())["results"]) == ran
        assert "test_unit" not in out.stdout


def test_readme_installs_what_its_commands_need():
    """The README's install line must bring pytest-xdist when the README runs `-n 2`."""
    import tomllib

    readme = (ROOT / "README.md").read_text()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    installs = re.findall(r"pip install -e '\.\[(\w+)\]'", readme)
    assert installs, "the README says how to install Parity with PyTorch"
    if "-n 2" in readme:
        for extra in installs:
            assert any(d.startswith("pytest-xdist") for d in extras[extra]), extra


def cookbook() -> list[str]:
    text = (ROOT / "docs" / "specs.md").read_text()
    return [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if b.startswith("specs:")]


def test_every_cookbook_example_validates(project):
    blocks = cookbook()
    assert len(blocks) >= 10
    (project / "specs").mkdir()
    for i, block in enumerate(blocks):
        (project / "specs" / f"cookbook_{i}.yaml").write_text(block)
    outcome = validate(["specs"])
    assert outcome.problems == [] and outcome.valid >= 13
