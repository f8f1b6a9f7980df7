"""The loader turns every kind of broken spec into one SpecError at the right place."""

import textwrap

import pytest

from harness.spec import Spec, SpecError, load_file

GOOD = """\
specs:
  - name: ok
    description: fine
    inputs:
      x: {shape: [2], requires_grad: true}
    program: |
      y = x * 2
"""


def load(tmp_path, text: str, name="s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return load_file(path, root=tmp_path).entries


def only_error(entries) -> SpecError:
    errors = [e for e in entries if isinstance(e, SpecError)]
    assert len(errors) == 1, entries
    return errors[0]


def test_good_spec_loads_with_positions(tmp_path):
    [spec] = load(tmp_path, GOOD)
    assert isinstance(spec, Spec)
    assert (spec.name, spec.line, spec.program_line) == ("ok", 2, 7)
    assert [s.source for s in spec.program.statements] == ["y = x * 2"]


@pytest.mark.parametrize(
    "text, line, col, where, message",
    [
        ("specs:\n  - name: a\n    description: d\n    programm: |\n      y = 1\n",
         4, 5, "specs[0].programm", "did you mean 'program'"),
        ("specs:\n  - name: a\n    description: d\n", 2, 5, "specs[0].program", "field required"),
        ("specs:\n  - name: a\n    description: d\n    program: 'y = 1'\n    max_examples: lots\n",
         5, 19, "specs[0].max_examples", "valid integer"),
        ("specs:\n  - name: a\n    description: d\n    inputs:\n      x: {shape: [n]}\n"
         "    program: 'y = x'\n", 5, 19, "specs[0].inputs.x.shape[0]", "not declared in dims"),
        ("specs:\n  - name: a\n    description: d\n    inputs:\n      x: {shape: [2]}\n"
         "    program: 'y = 1'\n", 5, 7, "specs[0].inputs.x", "never uses it"),
        ("specs:\n  - name: a\n    description: d\n    program: |\n      y = 1\n      import os\n",
         6, 7, "specs[0].program", "import is not allowed"),
        ("specs:\n  - name: a\n    description: d\n    program: |\n      y = eval('1')\n",
         5, 11, "specs[0].program", "eval() is not allowed"),
        ("specs:\n  - name: a\n    description: d\n    program: |\n      y = (1).__class__\n",
         5, 11, "specs[0].program", "dunder attribute"),
        ("specs:\n  - name: a\n    description: d\n    program: |\n      y = z + 1\n",
         5, 11, "specs[0].program", "name 'z' is not defined"),
        ("specs:\n  - name: a\n    description: d\n    program: |\n      y = (\n",
         5, 11, "specs[0].program", "syntax error"),
        ("specs:\n  - name: a\n    description: d\n    program: '  '\n",
         4, 15, "specs[0].program", "empty"),
        ("specs:\n  - name: a\n    description: d\n    program: 'y = 1'\n"
         "    raises: [{line: 2, type: RuntimeError}]\n", 5, 21, "specs[0].raises[0].line",
         "does not start a top-level statement"),
        ("specs:\n  - name: a\n    a: 1\n    a: 2\n", 4, 5, "", "duplicate key"),
        ("specs:\n\t- name: a\n", 2, 1, "", "'\\t'"),
        ("specs: []\n", 1, 8, "specs", "non-empty list"),
        ("", 1, 1, "", "mapping with a 'specs:' list"),
    ],
)
def test_broken_spec_is_one_clear_error(tmp_path, text, line, col, where, message):
    error = only_error(load(tmp_path, text))
    assert (error.line, error.col, error.where) == (line, col, where), str(error)
    assert message in error.message
    assert str(error).startswith(f"s.yaml:{line}:{col}:")


def test_one_broken_spec_does_not_hide_the_others(tmp_path):
    text = GOOD + "  - name: broken\n    description: d\n    program: 'import os'\n"
    good, bad = load(tmp_path, text)
    assert isinstance(good, Spec) and isinstance(bad, SpecError)
    assert bad.spec_name == "broken"


def test_duplicate_names_are_an_error(tmp_path):
    error = only_error(load(tmp_path, GOOD + GOOD.split("\n", 1)[1]))
    assert "duplicate spec name 'ok'" in error.message and error.line == 8


def test_non_utf8_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"specs:\n  - name: \xff\n")
    [error] = load_file(path, root=tmp_path).entries
    assert "not UTF-8" in error.message


def test_yaml_12_numbers_and_no(tmp_path):
    """YAML 1.2: 1e-5 is a float and `no` a string (PyYAML's 1.1 would differ)."""
    [spec] = load(tmp_path, GOOD.replace("requires_grad: true", "range: [-1e-5, 1e-5]"))
    assert spec.model.inputs["x"].range == (-1e-5, 1e-5)


def test_variants_are_the_product_of_dtype_lists(tmp_path):
    text = GOOD.replace("requires_grad: true", "dtype: [float32, float64]")
    [spec] = load(tmp_path, text)
    assert [spec.variant_id(v) for v in spec.variants()] == ["float32", "float64"]


def test_every_spec_keeps_an_id_of_its_own(tmp_path):
    """A spec named like an earlier one, good or broken, is known as `name@line`."""
    broken = "  - name: {}\n    description: d\n    programm: y = 1\n"
    entries = load(tmp_path, GOOD + broken.format("ok") + broken.format("b") + broken.format("b")
                   + GOOD.split("\n", 1)[1].replace("name: ok", "name: b"))
    names = [e.name if isinstance(e, Spec) else e.spec_name for e in entries]
    assert names == ["ok", "ok@8", "b", "b@14", "b@17"]
    assert entries[1].message.endswith("also, the name 'ok' is already used at line 2")
    assert "duplicate spec name 'b' (first at line 11)" in entries[4].message


@pytest.mark.parametrize("value, message", [
    ('"5"', "valid integer"), ("5.0", "valid integer"), ("true", "valid integer")])
def test_numbers_are_strict_like_the_schema(tmp_path, value, message):
    """A quoted number or a boolean is refused, not silently converted (the schema agrees)."""
    error = only_error(load(tmp_path, GOOD + f"    max_examples: {value}\n"))
    assert error.where == "specs[0].max_examples" and message in error.message


@pytest.mark.parametrize("field, value", [("fill", "true"), ("range", '["-1", 1]')])
def test_float_fields_refuse_strings_and_booleans(tmp_path, field, value):
    text = GOOD.replace("requires_grad: true", f"{field}: {value}")
    assert "valid number" in only_error(load(tmp_path, text)).message


@pytest.mark.parametrize("text, where, hint", [
    ("    tolerance: {reson: r}\n", "specs[0].tolerance.reson", "'reason'"),
    ("    tolerance: {reason: r, float32: {rtl: 0.1, atol: 0}}\n",
     "specs[0].tolerance.float32.rtl", "'rtol'"),
    ("    broadcast: {input: [x, x]}\n", "specs[0].broadcast.input", "'inputs'"),
    ("    raises: [{lin: 1, type: E}]\n", "specs[0].raises[0].lin", "'line'"),
])
def test_did_you_mean_in_nested_mappings(tmp_path, text, where, hint):
    error = only_error(load(tmp_path, GOOD + text))
    assert error.where == where and error.message == f"unknown field (did you mean {hint}?)"


def test_a_typo_in_a_dtype_list_points_at_the_element(tmp_path):
    text = GOOD.replace("requires_grad: true", "dtype: [float32, flaot64]")
    error = only_error(load(tmp_path, text))
    assert (error.line, error.col, error.where) == (5, 40, "specs[0].inputs.x.dtype[1]")
    assert error.message.endswith("(did you mean 'float64'?)")
    error = only_error(load(tmp_path, GOOD.replace("requires_grad: true", "dtype: double")))
    assert error.message.endswith("(did you mean 'float64'?)")


def test_an_error_prints_on_one_line():
    error = SpecError("s.yaml", 3, 5, "specs[0].program", "PyTorch raised E:\n  first\n\n  second")
    assert str(error) == "s.yaml:3:5: specs[0].program: PyTorch raised E: first second"
