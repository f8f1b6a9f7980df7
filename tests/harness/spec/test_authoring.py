"""What spec authors asked for (issue #13): tied dtypes, a declared set of values, names the
engine lacks as warnings, and YAML or schema mistakes said in words."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from harness.run import strategies
from harness.spec import Spec, SpecError, load_file
from harness.validate import validate

TIED = """\
specs:
  - name: tied
    description: w has x's dtype in every item
    inputs:
      x: {shape: [3], dtype: [float32, float64]}
      w: {shape: [3], dtype: {same_as: x}, requires_grad: true}
      i: {shape: [3], dtype: [int32, int64], range: [-3, 3]}
    program: |
      y = (x * w).sum() + i.sum()
"""


def load(tmp_path, text: str):
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text))
    return load_file(path, root=tmp_path).entries


def error_of(tmp_path, text: str) -> SpecError:
    [entry] = load(tmp_path, text)
    assert isinstance(entry, SpecError), entry
    return entry


def test_a_tied_dtype_follows_its_input_instead_of_multiplying_the_items(tmp_path):
    [spec] = load(tmp_path, TIED)
    assert isinstance(spec, Spec)
    variants = spec.variants()
    assert [(v["x"], v["w"], v["i"]) for v in variants] == [
        ("float32", "float32", "int32"), ("float32", "float32", "int64"),
        ("float64", "float64", "int32"), ("float64", "float64", "int64")]
    assert [spec.variant_id(v) for v in variants] == [
        "float32-int32", "float32-int64", "float64-int32", "float64-int64"]


@pytest.mark.parametrize("tie, message", [
    ("{same_as: z}", "no input named 'z'"),
    ("{same_as: w}", "an input cannot take its dtype from itself"),
])
def test_a_tie_must_name_another_input(tmp_path, tie, message):
    error = error_of(tmp_path, TIED.replace("{same_as: x}", tie))
    assert error.where == "specs[0].inputs.w.dtype.same_as" and message in error.message


def test_a_tie_to_a_tie_names_the_input_to_tie_to(tmp_path):
    text = TIED.replace("i: {shape: [3], dtype: [int32, int64], range: [-3, 3]}",
                        "i: {shape: [3], dtype: {same_as: w}}")
    error = error_of(tmp_path, text)
    assert error.where == "specs[0].inputs.i.dtype.same_as"
    assert "'w' takes its dtype from 'x': name 'x' here" in error.message


def test_a_tied_integer_input_cannot_require_grad(tmp_path):
    text = TIED.replace("dtype: [float32, float64]}", "dtype: [float32, int64]}")
    assert "only floating point inputs can require grad" in error_of(tmp_path, text).message


VALUES = """\
specs:
  - name: ties
    description: amax among tied values
    inputs:
      x: {shape: [6], dtype: [float32, int64], values: [0, 1, -1]}
    program: |
      y = x.amax()
"""


def test_values_are_drawn_from_the_declared_set_only(tmp_path):
    [spec] = load(tmp_path, VALUES)
    for variant in spec.variants():
        assert drawn_values(spec, variant) == {0, 1, -1}  # each of them, and ties on purpose


def drawn_values(spec: Spec, variant: dict) -> set:
    seen = set()

    @settings(max_examples=60, database=None, suppress_health_check=list(HealthCheck))
    @given(strategies.inputs(spec, variant))
    def draw(example):
        array = example["x"]
        assert array.dtype == np.dtype(variant["x"])
        seen.update(array.tolist())

    draw()
    return seen


def test_a_value_is_rounded_to_the_dtype_as_a_range_is(tmp_path):
    [spec] = load(tmp_path, VALUES.replace("[float32, int64], values: [0, 1, -1]",
                                           "float32, values: [0.1]"))
    example = strategies.inputs(spec, spec.variants()[0]).example()
    assert example["x"].tolist() == [float(np.float32(0.1))] * 6


@pytest.mark.parametrize("change, where, message", [
    ("values: [0, 1.5]", "values", "1.5 is not a int64 value"),
    ("values: [0, 1], range: [0, 1]", "range", "values gives the set to draw from: drop range"),
    ("values: [0, 1], distinct: true", "distinct",
     "distinct: true needs up to 6 different values, but values holds 2"),
    ("values: []", "values", "at least 1 item"),
])
def test_values_must_be_drawable(tmp_path, change, where, message):
    error = error_of(tmp_path, VALUES.replace("values: [0, 1, -1]", change))
    assert error.where == f"specs[0].inputs.x.{where}" and message in error.message


def test_validate_warns_of_names_the_engine_under_test_lacks(tmp_path, monkeypatch):
    """The spec is valid (PyTorch has the names) but every item would fail on the engine: a
    warning at the name, not an AttributeError in every item at run time."""
    import engine

    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "s.yaml").write_text(textwrap.dedent("""\
        specs:
          - name: uses_two_names
            description: d
            inputs:
              x: {shape: [3]}
            program: |
              y = torch.ones(3) + x
              z = y.exp().sum()
        """))
    monkeypatch.chdir(tmp_path)
    assert validate(["specs"], run=False).warnings == []
    monkeypatch.delattr(engine, "ones")
    monkeypatch.delattr(engine.Tensor, "exp")
    outcome = validate(["specs"], run=False)
    assert outcome.problems == [] and outcome.valid == 1
    assert [str(w) for w in outcome.warnings] == [
        "specs/s.yaml:7:17: specs[0].program: warning: the engine under test (engine) has no "
        "torch.ones: every item of this spec will fail on it",
        "specs/s.yaml:8:13: specs[0].program: warning: the engine under test (engine) has no "
        "Tensor.exp: every item of this spec will fail on it"]
    [cannot] = validate(["specs"], run=False, engine="nosuchengine").warnings
    assert cannot.startswith("warning: cannot ask the engine nosuchengine which names it offers")


RAISES = """\
specs:
  - name: r
    description: d
    program: |
      y = torch.ones(2)
      y.backward()
    raises:
      - line: 2
        type: RuntimeError
{last}
"""


@pytest.mark.parametrize("last, line, col, words", [
    # less indented than the keys of its entry: "expected <block end>, but found ..."
    ("     match: grad", 10, 6, "`match:` is indented to column 6, where no key above it starts, "
                                "inside `raises:` (its keys start at column 9 (`type:`, `line:`))"),
    # more indented: "mapping values are not allowed here"
    ("          match: grad", 10, 16, "`match:` is indented to column 11, further than `type:` at "
                                      "column 9 above it, so it reads as part of the value"),
])
def test_indentation_mistakes_under_raises_are_said_in_words(tmp_path, last, line, col, words):
    error = error_of(tmp_path, RAISES.format(last=last))
    assert (error.line, error.col) == (line, col)
    assert words in error.message
    assert "<block" not in error.message and "not allowed here" not in error.message


def test_a_schema_message_does_not_read_as_the_inputs_field(tmp_path):
    error = error_of(tmp_path, VALUES + '    max_examples: "5"\n')
    assert error.where == "specs[0].max_examples"
    assert error.message == "the value should be a valid integer, not '5'"
