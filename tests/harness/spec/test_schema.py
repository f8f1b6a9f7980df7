"""The committed JSON Schema accepts every real spec, so an editor never underlines a valid one.

Checked with a real validator (jsonschema, Draft 2020-12, the draft the schema declares) on what
the loader accepts: every spec file in specs/, every spec file in the docs/specs.md cookbook and
the `parity new` skeleton; and it still rejects the schema-level mistakes of the broken corpus.
"""

import json
import re
from pathlib import Path

import jsonschema  # the test extra: a real validator, not our reading of the schema
import pytest
from ruamel.yaml import YAML

from harness.spec import SpecError, load_file
from harness.spec.scaffold import new_spec
from harness.spec.schema import SCHEMA_PATH

ROOT = Path(__file__).parents[3]
# expectations.yaml and opinfo.yaml (the OpInfo corpus's settings) are not spec files: each has
# its own model (harness/spec/expectations.py, harness/opinfo/config.py) and its own tests
SPEC_FILES = sorted(p for p in (ROOT / "specs").rglob("*.yaml")
                    if p.name not in {"expectations.yaml", "opinfo.yaml"})
COOKBOOK = [b for b in re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "specs.md").read_text(),
                                  re.S) if b.startswith("specs:")]
CORPUS = ROOT / "tests" / "broken_specs"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads((ROOT / SCHEMA_PATH).read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def problems(validator, text: str) -> list[str]:
    data = YAML(typ="safe").load(text)  # YAML 1.2, as editors read it
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(data)]


def test_the_suite_is_there():
    assert len(SPEC_FILES) >= 30 and len(COOKBOOK) >= 10


@pytest.mark.parametrize("path", SPEC_FILES, ids=[str(p.relative_to(ROOT)) for p in SPEC_FILES])
def test_every_spec_file_is_valid_for_the_schema(validator, path):
    assert problems(validator, path.read_text()) == []


@pytest.mark.parametrize("block", COOKBOOK, ids=[f"cookbook_{i}" for i in range(len(COOKBOOK))])
def test_every_cookbook_example_is_valid_for_the_schema(validator, block):
    assert problems(validator, block) == []


def test_the_skeleton_is_valid_for_the_schema(validator, tmp_path):
    path = new_spec("area/skeleton", root=tmp_path)
    assert problems(validator, path.read_text()) == []


def test_special_values_may_be_numbers(validator, tmp_path):
    text = ("specs:\n  - name: s\n    description: d\n    inputs:\n"
            "      x: {shape: [2], special: [0, -0.0, 0.0, nan, inf]}\n    program: y = x * 2\n")
    assert problems(validator, text) == []
    (tmp_path / "s.yaml").write_text(text)
    [spec] = load_file(tmp_path / "s.yaml", root=tmp_path).entries
    assert spec.model.inputs["x"].special == ["0", "-0.0", "0", "nan", "inf"]
    assert problems(validator, text.replace("0.0, nan", "1, nan")) != []


@pytest.mark.parametrize("name", [
    "unknown_field", "unknown_input_field", "unknown_field_in_tolerance",
    "unknown_field_in_tolerance_dtype", "unknown_field_in_broadcast", "unknown_field_in_index_for",
    "wrong_type_dtype", "wrong_type_dtype_in_list", "wrong_type_shape", "wrong_type_max_examples",
    "missing_description", "no_specs_key", "yaml11_no_is_a_string"])
def test_schema_level_mistakes_are_underlined(validator, name, tmp_path):
    """Each of these broken specs is one the loader refuses for its schema: the editor agrees."""
    path = CORPUS / f"{name}.yaml"
    [error] = load_file(path, root=CORPUS).entries
    assert isinstance(error, SpecError)
    assert problems(validator, path.read_text()) != []
