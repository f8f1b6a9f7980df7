"""OpInfo items in the ordinary run: collected from specs/opinfo.yaml, named by node ids that
`-k` and the expectations file use, recorded in results.json with their checks and the corpus
coverage, failing (with a snippet) on a broken engine."""

import json

import pytest
import torch  # noqa: F401  imported here so pytester's in-process runs never re-import them

import engine

CONFIG = """\
opinfo:
  samples: 3
  dtypes: [float64]
  ops: [exp, maximum]
"""


@pytest.fixture
def project(pytester):
    (pytester.path / "specs").mkdir()
    (pytester.path / "specs" / "opinfo.yaml").write_text(CONFIG)
    return pytester


def run(pytester, *args):
    result = pytester.runpytest("specs", "-p", "no:cacheprovider", "--parity-report=reports", *args)
    path = pytester.path / "reports" / "results.json"
    return result, json.loads(path.read_text()) if path.exists() else None


def test_items_records_and_coverage_against_pytorch_itself(project):
    result, data = run(project, "--parity-engine", "torch")
    assert result.ret == 0, result.stdout.str()
    ids = sorted(r["id"] for r in data["results"])
    assert ids == ["specs/opinfo.yaml::exp[float64]", "specs/opinfo.yaml::maximum[errors]",
                   "specs/opinfo.yaml::maximum[float64]"]
    exp = next(r for r in data["results"] if r["name"] == "exp[float64]")
    assert exp["outcome"] == "passed" and exp["area"] == "opinfo" and exp["variant"] == "float64"
    assert exp["opinfo"]["samples_run"] == exp["opinfo"]["samples_conforming"] == 3
    assert exp["checks"]["vjp"] == exp["checks"]["gradgrad"] == "pass"
    assert exp["coverage"]["functions"] == ["torch.exp"] and "ExpBackward0" in \
        exp["coverage"]["grad_fns"]
    coverage = data["metadata"]["opinfo"]
    assert coverage["entries"] == 702 and coverage["differentiable"] == 547
    assert coverage["offered"] >= 600  # PyTorch offers (nearly) all of its own ops
    result.stdout.fnmatch_lines(["parity opinfo: * of 547 differentiable OpInfo ops offered*"])
    page = (project.path / "reports" / "index.html").read_text()
    section = page[page.index('<section id="opinfo">'):page.index('<section id="specs">')]
    assert "of 547 differentiable OpInfo ops offered" in section
    assert "samples conforming: 9 of 9" in section  # exp 3, maximum 3 and its 3 error inputs
    assert "Matrix of the OpInfo checks" in section and "double backward" in section
    assert 'id="matrix"' not in page  # no spec ran: no spec matrix


def test_options_and_k_narrow_the_corpus(project):
    result, data = run(project, "--parity-engine", "torch", "--parity-opinfo-ops", "exp",
                       "--parity-opinfo-dtypes", "float64,errors", "--parity-opinfo-samples", "1",
                       "-k", "float64")
    assert result.ret == 0
    assert [r["id"] for r in data["results"]] == ["specs/opinfo.yaml::exp[float64]"]
    assert data["results"][0]["examples"] == 1


def _double_exp_grad(monkeypatch):
    exp = engine.exp

    def wrong(x, *args, **kwargs):
        y = exp(x, *args, **kwargs)
        if y.requires_grad:
            y.register_hook(lambda g: g * 2)
        return y

    monkeypatch.setattr(engine, "exp", wrong)


def test_a_broken_engine_fails_the_item_with_a_snippet(project, monkeypatch):
    _double_exp_grad(monkeypatch)
    result, data = run(project, "--parity-opinfo-ops", "exp")
    assert result.ret == 1
    record = next(r for r in data["results"] if r["name"] == "exp[float64]")
    assert record["outcome"] == "failed" and record["checks"]["vjp"] == "fail"
    failure = record["failure"]
    assert {d["field"] for d in failure["discrepancies"]} >= {"vjp"}
    assert failure["reproduce"].startswith("pytest 'specs/opinfo.yaml::exp[float64]'")
    assert "grads = torch.autograd.grad(" in failure["snippet"]
    result.stdout.fnmatch_lines(["*Samples conforming per check:*values 3/3*vjp [012]/3*"])


def test_expectations_apply_to_opinfo_items(project, monkeypatch):
    (project.path / "specs" / "expectations.yaml").write_text(
        "expectations:\n  - id: specs/opinfo.yaml::exp[float64]\n"
        "    reason: exp's gradient doubled on purpose\n")
    with monkeypatch.context() as patch:
        _double_exp_grad(patch)
        result, data = run(project, "--parity-opinfo-ops", "exp", "--parity-opinfo-dtypes",
                           "float64")
    assert result.ret == 0
    record = data["results"][0]
    assert record["outcome"] == "xfailed" and record["checks"]["vjp"] == "xfail"
    # fixed: the strict entry's XPASS fails the run
    result, data = run(project, "--parity-opinfo-ops", "exp", "--parity-opinfo-dtypes",
                       "float64")
    assert result.ret == 1 and data["results"][0]["outcome"] == "xpassed"


def test_a_broken_config_is_a_collection_error(project):
    (project.path / "specs" / "opinfo.yaml").write_text("opinfo:\n  sampels: 3\n")
    result, _ = run(project, "--parity-engine", "torch")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*broken OpInfo config: *opinfo.yaml:2:1: opinfo.sampels*"])


def test_coverage_failures_and_spec_commands(project, monkeypatch, tmp_path):
    from harness.cli import main
    from harness.validate import validate

    _double_exp_grad(monkeypatch)
    run(project, "--parity-opinfo-ops", "exp,maximum")
    results = project.path / "reports" / "results.json"
    coverage = tmp_path / "coverage.txt"
    assert main(["opinfo-coverage", str(results), "--out", str(coverage)]) == 0
    text = coverage.read_text()
    assert "differentiable OpInfo ops offered" in text and "samples conforming: " in text
    assert "entries not offered by the engine" in text
    failures = tmp_path / "failures.md"
    assert main(["opinfo-failures", str(results), "--out", str(failures)]) == 0
    assert "## vjp: grad values differ" in failures.read_text()
    written = project.path / "specs" / "found"
    written.mkdir()
    assert main(["opinfo-spec", "specs/opinfo.yaml::exp[float64]", "--out", str(written)]) == 0
    (path,) = written.iterdir()
    assert path.name.startswith("opinfo_exp_float64_s")
    assert validate([path], root=project.path).problems == []
    assert main(["opinfo-spec", "exp[float64]", "--out", str(written)]) == 1  # never overwrites
