"""What a failure carries for the report: the line to mark, a readable message, a snippet that
runs to the end, a measure for every float mismatch, and a command that really reproduces it."""

import contextlib
import io
import json
import shlex
import warnings
from pathlib import Path

import numpy as np
import pytest
from engine_stub import engine_package
from hypothesis import HealthCheck, find, settings
from hypothesis import settings as hypothesis_settings

import engine
from engine.autograd import node as _node
from harness.contract import ERROR, FAILED
from harness.run import strategies
from harness.run.records import record_for_spec, snippet
from harness.run.runner import check
from harness.spec import Spec, load_file

SPECS = Path(__file__).parents[3] / "specs"


def spec_from(tmp_path, program: str, inputs: dict | None = None, **extra) -> Spec:
    """A spec written as JSON (which is YAML) and loaded like any other."""
    spec = {"name": "s", "description": "d", "inputs": inputs or {}, "program": program, **extra}
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps({"specs": [spec]}, indent=1))
    [loaded] = load_file(path, root=tmp_path).entries
    assert isinstance(loaded, Spec), loaded
    return loaded


def run(spec: Spec):
    return check(spec, spec.variants()[0], "s.yaml::s", session_seed=0, max_examples=5)


def second_backward_does_not_raise(mp):
    mp.setattr(_node.Node, "release", lambda self: None)


def exp_raises(mp):
    def exp(self):
        raise RuntimeError("exp is broken")

    mp.setattr(engine.Tensor, "exp", exp)


X = {"x": {"shape": [2], "requires_grad": True}}


# -- 3: compound statements: short messages, and the line that raised is the one marked --------

def test_exception_inside_a_loop_marks_the_line_that_raised(tmp_path, monkeypatch):
    spec = spec_from(tmp_path, "y = x * 2\n"
                               "for i in range(2):\n"
                               "    z = y.sum()\n"
                               "    z.backward()\n"
                               "print(x.grad)\n",
                     X, raises=[{"line": 2, "type": "RuntimeError", "match": "second time"}])
    assert run(spec).outcome == "passed"
    second_backward_does_not_raise(monkeypatch)
    result = run(spec)
    assert (result.outcome, result.kind) == (FAILED, "mismatch")
    assert result.discrepancies[0].field == "exception"
    assert result.discrepancies[0].statement_line == 2  # the top-level statement
    assert result.statement_line == 4  # where PyTorch raised, inside the loop
    assert result.message.startswith("line 2 `for i in range(2): …`: exception differs")
    assert "\n" not in result.message


def test_engine_exception_inside_a_function_marks_the_line_that_raised(tmp_path, monkeypatch):
    spec = spec_from(tmp_path, "def f(t):\n"
                               "    u = t * 2\n"
                               "    return u.exp()\n"
                               "y = f(x)\n", X)
    exp_raises(monkeypatch)
    result = run(spec)
    assert (result.outcome, result.discrepancies[0].field) == (FAILED, "exception")
    assert result.discrepancies[0].statement_line == 4
    assert result.statement_line == 3  # in the engine's traceback, the program's innermost line
    assert result.message.startswith("line 4 `y = f(x)`: exception differs")


def test_value_mismatch_after_a_loop_marks_its_first_line(tmp_path, monkeypatch):
    spec = spec_from(tmp_path, "y = x * 1\n"
                               "with torch.no_grad():\n"
                               "    for i in range(2):\n"
                               "        y = y + 1\n"
                               "z = y * 2\n", X)
    add = engine.Tensor.__add__
    monkeypatch.setattr(engine.Tensor, "__add__", lambda a, b: add(add(a, b), 0.5))
    result = run(spec)
    assert (result.outcome, result.kind) == (FAILED, "mismatch")
    assert result.statement_line == 2
    assert result.message.startswith("line 2 `with torch.no_grad(): …`: y.values differs")
    record = record_for_spec("s.yaml::s", "s", spec, result, 0)
    assert record["failure"]["statement_line"] == 2


def test_undeclared_pytorch_error_inside_a_block_marks_the_line_that_raised(tmp_path):
    spec = spec_from(tmp_path, "y = x * 2\n"
                               "if True:\n"
                               "    z = y + 1\n"
                               "    y.backward()\n", X)
    result = run(spec)
    assert (result.outcome, result.kind) == (ERROR, "broken_spec")
    assert result.statement_line == 4
    assert "line 4" in result.message and "statement at line 2" in result.message


# -- 1: the snippet runs past every statement the spec declares to raise ------------------------

def _specs_with_raises():
    for path in sorted(SPECS.rglob("*.yaml")):
        if path.name == "expectations.yaml":
            continue
        for spec in load_file(path, root=SPECS.parent).entries:
            if isinstance(spec, Spec) and spec.model.raises:
                yield pytest.param(spec, id=f"{path.stem}::{spec.name}")


def _draw(spec: Spec) -> dict:
    return find(strategies.inputs(spec, spec.variants()[0]), lambda _: True,
                settings=settings(database=None, suppress_health_check=list(HealthCheck)))


def _exec(text: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(text, "<snippet>", "exec"), {"__name__": "snippet"})
    return out.getvalue()


@pytest.mark.parametrize("spec", list(_specs_with_raises()))
def test_snippet_runs_past_declared_raises_with_pytorch(spec):
    """Every spec of the suite that declares a raise: its snippet, run with real PyTorch, prints
    each declared exception and goes on to the end (as the harness does)."""
    text = snippet(spec, _draw(spec))
    printed = _exec(text)
    for declared in spec.model.raises:
        assert f"{declared.type} " in printed
    assert text.count("try:") == len({r.line for r in spec.model.raises})


def test_snippet_of_grad_assignment_reaches_the_last_print():
    [spec] = [s for s in load_file(SPECS / "autograd" / "grad_attribute.yaml").entries
              if s.name == "grad_assignment"]
    inputs = {"x": np.float32([1, 2, 3]), "g": np.float64([1, 1, 1])}
    printed = _exec(snippet(spec, inputs)).splitlines()
    assert [line.split()[0] for line in printed[:4]] == ["RuntimeError", "RuntimeError",
                                                         "TypeError", "RuntimeError"]
    assert printed[-1] == "tensor([2., 2., 2.])"  # the final print(x.grad) ran


def test_snippet_wraps_a_multi_line_statement_and_keeps_the_programs_names(tmp_path):
    spec = spec_from(tmp_path, "e = x * 2\n"
                               "with torch.no_grad():\n"
                               "    w = e.sum()\n"
                               "    w.backward()\n"
                               "print(e.sum().item())\n",
                     X, raises=[{"line": 2, "type": "RuntimeError"}])
    text = snippet(spec, {"x": np.float32([1, 2])})
    assert "try:\n    with torch.no_grad():\n        w = e.sum()\n        w.backward()\n" \
           "except RuntimeError as error:" in text
    assert _exec(text).splitlines()[-1] == "6.0"


def test_snippet_keeps_the_shape_of_empty_inputs(tmp_path):
    spec = spec_from(tmp_path, "print(e.shape)\n", {"e": {"shape": [0, 2]}})
    assert _exec(snippet(spec, {"e": np.zeros((0, 2), np.float32)})).strip() == \
        "torch.Size([0, 2])"


# -- 4: the reproduce command carries the options that change what runs -----------------------

WRONG_EXP = """\
import torch as _torch
Tensor, float32 = _torch.Tensor, _torch.float32
def __getattr__(name):
    return getattr(_torch, name)
def exp(t):
    return _torch.where(t > 0.5, _torch.exp(t) + 1, _torch.exp(t))
"""

EXP_SPEC = """\
specs:
  - name: exp
    description: d
    inputs:
      x: {shape: [3], range: [0, 1]}
    program: |
      y = torch.exp(x)
"""


@pytest.fixture
def restore_hypothesis_profile():
    """pytester runs in this process: a --hypothesis-profile would outlive the inner run."""
    name = hypothesis_settings.get_current_profile_name()
    yield
    hypothesis_settings.load_profile(name)


def test_reproduce_command_carries_non_default_options(pytester, restore_hypothesis_profile):
    engine_package(pytester, "wrongexp", WRONG_EXP)
    (pytester.path / "specs").mkdir()
    (pytester.path / "specs" / "s.yaml").write_text(EXP_SPEC)
    (pytester.path / "none.yaml").write_text("expectations: []\n")

    def failure(*args, report):
        pytester.runpytest(*args, "-p", "no:cacheprovider", "--parity-report", report)
        [record] = json.loads((pytester.path / report / "results.json").read_text())["results"]
        assert record["outcome"] == "failed"
        return record["failure"]

    first = failure("specs", "--parity-engine", "wrongexp", "--parity-max-examples", "7",
                    "--parity-time-limit", "3", "--parity-expectations", "none.yaml",
                    "--hypothesis-profile", "ci", "--hypothesis-seed", "5", "--shard", "1/1",
                    report="first")
    command = shlex.split(first["reproduce"])
    assert command[:2] == ["pytest", "specs/s.yaml::exp"]
    assert set(command[2:]) == {"--hypothesis-seed=5", "--parity-engine=wrongexp",
                                "--parity-max-examples=7", "--parity-time-limit=3",
                                "--parity-expectations=none.yaml", "--hypothesis-profile=ci"}
    again = failure(*command[1:], report="again")
    assert again["inputs"] == first["inputs"]
    assert again["reproduce"] == first["reproduce"]


def test_reproduce_command_has_no_options_at_their_defaults(tmp_path, monkeypatch):
    spec = spec_from(tmp_path, "y = x + 1\n", X)
    add = engine.Tensor.__add__
    monkeypatch.setattr(engine.Tensor, "__add__", lambda a, b: add(add(a, b), 0.5))
    record = record_for_spec("specs/s.yaml::s", "s", spec, run(spec), 42)
    assert record["failure"]["reproduce"] == "pytest specs/s.yaml::s --hypothesis-seed=42"
    record = record_for_spec("specs/s.yaml::s[a b]", "s", spec, run(spec), 42,
                             reproduce_options=["--parity-engine=my engine"])
    assert shlex.split(record["failure"]["reproduce"]) == [
        "pytest", "specs/s.yaml::s[a b]", "--hypothesis-seed=42", "--parity-engine=my engine"]


# -- 2: a float mismatch inside a list carries its measure into the record --------------------

def test_list_element_grad_mismatch_record_has_a_measure(tmp_path, monkeypatch):
    spec = spec_from(tmp_path, "ws = [x]\n"
                               "d = {'y': x}\n"
                               "(x * x).sum().backward()\n", X)
    from engine.ops import elementwise as _derivatives

    monkeypatch.setattr(_derivatives.MulBackward0, "formulas", (
        lambda n, g: g * n.other + g,
        lambda n, g: g * n.self_,
    ))
    result = run(spec)
    assert result.outcome == FAILED
    record = record_for_spec("s.yaml::s", "s", spec, result, 0)
    found = {(d["variable"], d["field"]): d for d in record["failure"]["discrepancies"]}
    assert set(found) == {("x", "grad"), ("ws", "[0].grad"), ("d", "['y'].grad")}
    for d in found.values():
        assert d["measure"] is not None, d
        assert d["measure"]["elements"], d
    assert found["ws", "[0].grad"]["measure"] == found["x", "grad"]["measure"]
