"""Data flows one way between the harness's stages: spec -> run -> report (docs/architecture.md).

Read off the import statements of every module, so a new import across the line fails here
rather than in a review: the report reads plain records and imports only `harness.contract` and
`harness.report.*`; the spec source never imports the run or the report; the run never imports
the OpInfo source (harness.opinfo), which comes after it.
"""

import ast
from pathlib import Path

import pytest

HARNESS = Path(__file__).parents[2] / "harness"
ALLOWED = {
    "spec": ("harness.contract", "harness.spec"),
    "report": ("harness.contract", "harness.report"),
    "run": ("harness.contract", "harness.spec", "harness.run", "harness.report"),
    # a source of items that brings its own runner: it uses run's comparison and plugs its
    # items into run's session, which never imports it (its plugin is an entry point)
    "opinfo": ("harness.contract", "harness.spec", "harness.run", "harness.report",
               "harness.opinfo"),
}


def harness_imports(path: Path) -> set[str]:
    """Every `harness...` module a file imports, at any depth (lazy imports in functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "harness":  # from harness import x
            found.update(f"harness.{a.name}" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("harness."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("harness"))
    return found


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_a_stage_imports_only_what_comes_before_it(stage):
    files = sorted((HARNESS / stage).rglob("*.py"))
    assert files
    crossing = {f"{path.relative_to(HARNESS)}: {module}"
                for path in files for module in harness_imports(path)
                if not module.startswith(ALLOWED[stage])}
    assert crossing == set()


def test_the_contract_imports_no_stage():
    assert harness_imports(HARNESS / "contract.py") == set()


def test_the_check_catches_a_crossing_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from harness import run\n"
                      "def f():\n    from harness.run.compare import show\n")
    assert harness_imports(module) == {"harness.run", "harness.run.compare"}
