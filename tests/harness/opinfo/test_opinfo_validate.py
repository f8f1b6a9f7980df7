"""`parity validate` knows specs/opinfo.yaml: it is checked as the corpus's configuration (not as
a spec file), and expectations may name its items, but only items it can collect."""

from harness.validate import spec_files, validate

SPEC = """\
specs:
  - name: double
    description: twice x
    inputs:
      x: {shape: [2], requires_grad: true}
    program: |
      y = x * 2
"""


def _project(tmp_path, opinfo: str, expectations: str = ""):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "a.yaml").write_text(SPEC)
    (specs / "opinfo.yaml").write_text(opinfo)
    if expectations:
        (specs / "expectations.yaml").write_text(expectations)
    return specs


def test_opinfo_yaml_is_no_spec_file_and_its_items_can_be_expected(tmp_path):
    specs = _project(tmp_path, "opinfo:\n  samples: 5\n  ops: [add, 'nn.functional.*']\n",
                     "expectations:\n"
                     "  - id: specs/opinfo.yaml::add[float32]\n    reason: r\n"
                     "  - id: specs/opinfo.yaml::nn.functional.gelu[errors]\n    reason: r\n"
                     "  - id: specs/opinfo.yaml::mul[float32]\n    reason: not configured\n"
                     "  - id: specs/opinfo.yaml::add[complex64]\n    reason: no such dtype\n")
    assert [f.name for f in spec_files([specs])] == ["a.yaml"]
    outcome = validate([specs], root=tmp_path, run=False)
    problems = [str(p).split("/specs/", 1)[1] for p in outcome.problems]
    assert problems == [
        "expectations.yaml:6:1: id: no spec item has the id 'specs/opinfo.yaml::mul[float32]'",
        "expectations.yaml:8:1: id: no spec item has the id "
        "'specs/opinfo.yaml::add[complex64]'"]
    assert outcome.files == 2 and outcome.valid == 1


def test_a_broken_opinfo_yaml_is_one_problem_at_its_place(tmp_path):
    specs = _project(tmp_path, "opinfo:\n  samples: 5\n  dtypes: [float32, float8]\n")
    outcome = validate([specs], root=tmp_path, run=False)
    assert len(outcome.problems) == 1
    assert str(outcome.problems[0]).startswith("specs/opinfo.yaml:3:1: opinfo.dtypes.1: ")
