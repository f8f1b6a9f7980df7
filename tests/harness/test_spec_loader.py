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
