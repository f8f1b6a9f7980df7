"""The `parity` command as a user types it: new, validate, schema, run."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch  # noqa: F401  imported here so pytester's in-process runs never re-import it

from harness.cli import main
from harness.schema import SCHEMA_PATH, schema_text
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


def test_run_passes_pytest_options_through(project):
    (project / "specs").mkdir()
    (project / "specs" / "s.yaml").write_text(
        "specs:\n  - name: ok\n    description: d\n    inputs: {x: {shape: [2]}}\n"
        "    program: y = x * 2\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--parity-engine", "torch",
                          "--parity-max-examples", "3", "-p", "no:cacheprovider"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "[100%]" in out.stdout  # pytest's progress
    assert "parity: 1 passed" in out.stdout and "index.html" in out.stdout


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
