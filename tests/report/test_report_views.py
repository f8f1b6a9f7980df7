"""The report's richer views, each driven by an optional results field (docs/results.md).

Matrix (``checks``), coverage (``coverage`` + ``engine_api``), margins (``margins``), the
baseline diff (``parity report --baseline``), snippets and expectations. Every one is optional:
absent data leaves its section out.
"""

from __future__ import annotations

import json
import re

import pytest
from test_report import XSS, Page, make_results

from harness import cli
from harness.report import render_html, write_report

CHECKS = {"values": "pass", "grads": "fail", "none_grads": "pass", "flags": "pass",
          "errors": "n/a", "prints": "pass"}


@pytest.fixture
def results() -> dict:
    return make_results()


@pytest.fixture
def rich() -> dict:
    """make_results with every optional field the harness is adding."""
    results = make_results()
    passing, failing, broken = results["results"]
    for row, variant in ((passing, "float32"), (failing, "float32"), (broken, None)):
        row.update(variant=variant, area="tutorial")
    passing["checks"] = dict(CHECKS, grads="pass")
    failing["checks"] = dict(CHECKS)
    failing["margins"] = [
        {"variable": "x", "field": "grad", "op": None, "dtype": "float32", "max_abs": 2.0,
         "max_rel": 0.667, "max_ulp": 8388608, "ratio": 150000.0},
        {"variable": "y", "field": "values", "op": "MulBackward0", "dtype": "float32",
         "max_abs": 0.0, "max_rel": 0.0, "max_ulp": 0, "ratio": 0.0}]
    passing["margins"] = [
        {"variable": "x", "field": "values", "op": "AddBackward0", "dtype": "float32",
         "max_abs": 1e-6, "max_rel": 1e-7, "max_ulp": 2, "ratio": 0.7}]
    passing["coverage"] = {"functions": ["ones"], "methods": [], "grad_fns": ["AddBackward0"]}
    failing["coverage"] = {"functions": ["ones"], "methods": ["sum", "backward"],
                           "grad_fns": ["MulBackward0", "SumBackward0"]}
    failing["failure"]["snippet"] = "import torch\nx = torch.ones(2, 2, requires_grad=True)\n"
    failing["failure"]["discrepancies"][0]["detail"] = (
        "2 of 4 elements outside rtol=1.3e-06, atol=1e-05; worst at (0, 0); max abs 2, "
        "max rel 0.667, max ULP 8388608; differing (torch vs engine): "
        "(0, 0): np.float64(3.0) vs np.float64(1.0), (1, 1): np.float64(3.0) vs np.float64(1.0)")
    results["metadata"]["engine_api"] = {"functions": ["ones", "zeros", "exp"],
                                         "methods": ["sum", "backward", "mean"],
                                         "grad_fns": ["AddBackward0", "MulBackward0"]}
    return results


def section(html: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', html, re.S)
    assert match, name
    return match.group(1)


def test_page_order_unexpected_then_counts_then_everything_else(rich):
    html = render_html(rich, baseline=make_results())
    order = [html.index(f'<section id="{name}">') for name in
             ("changes", "unexpected", "summary", "matrix", "specs", "coverage", "margins", "run")]
    assert order == sorted(order)


def test_every_row_is_in_the_html_without_javascript(rich):
    page = Page(render_html(rich))
    rows = [a for t, a in page.tags if t == "tr" and "data-outcome" in a]
    assert len(rows) == len(rich["results"])
    toolbar = next(a for t, a in page.tags if a.get("id") == "toolbar")
    assert "hidden" in toolbar  # controls that need JS are shown by JS


def test_matrix_cells_come_from_checks(rich):
    page = Page(render_html(rich))
    matrix = " ".join(page.text("matrix"))
    assert "tutorial" in matrix and "z_fail" in matrix
    cells = [a["class"].split()[0] for t, a in page.tags
             if t == "td" and a.get("class", "").startswith("c-")]
    # 6 checks x 2 variants (none, float32): area row, then a_pass, m_broken, z_fail by id.
    area, a_pass, m_broken, z_fail = (cells[i * 12:(i + 1) * 12] for i in range(4))
    assert area[3] == "c-fail" and z_fail[3] == "c-fail"  # grads, float32
    assert a_pass[1::2] == ["c-pass", "c-pass", "c-pass", "c-pass", "c-na", "c-pass"]
    assert m_broken[0::2] == ["c-error"] * 6  # could not run
    assert a_pass[0::2] == ["c-absent"] * 6  # no such variant


def test_matrix_without_checks_reads_failing_fields(results):
    html = render_html(results)
    assert "their failing checks are read from the discrepancies" in html
    z_row = re.search(r'<tr class="spec-row bad">.*?z_fail.*?</tr>', html).group(0)
    assert re.findall(r'class="c-(\w+)', z_row) == ["fail" if i == 1 else "unknown"
                                                    for i in range(6)]


def test_failure_shows_elements_with_abs_rel_and_ulp(rich):
    page = Page(render_html(rich))
    elements = page.text("elements")[0]
    assert "(0, 0) 3.0 1.0 2 0.667 12582912" in elements  # 0x40400000 - 0x3f800000
    stats = " ".join(page.text("stats"))
    assert "outside tolerance 2 of 4 elements" in stats and "max ULP 8388608" in stats


def test_structured_measure_wins_over_detail_text(rich):
    d = rich["results"][1]["failure"]["discrepancies"][0]
    d["measure"] = {"mismatched": 1, "numel": 4, "max_abs": 2, "max_rel": 0.5, "max_ulp": 7,
                    "worst_index": [1, 0],
                    "elements": [{"index": [1, 0], "torch": 4.0, "engine": 2.0}]}
    page = Page(render_html(rich))
    assert "(1, 0) 4.0 2.0 2 0.5" in page.text("elements")[0]
    assert "worst at (1, 0)" in " ".join(page.text("stats"))


def test_snippet_and_expectation(rich):
    rich["results"][0].update(outcome="xfailed", expectation={
        "reason": "engine rounds differently", "link": "https://example.org/issues/1",
        "strict": True})
    rich["results"][2]["expectation"] = {"reason": "r", "link": "javascript:alert(1)"}
    html = render_html(rich)
    page = Page(html)
    assert page.text("snippet") == ["import torch x = torch.ones(2, 2, requires_grad=True)"]
    links = [a["href"] for t, a in page.tags if t == "a" and not a["href"].startswith("#")]
    assert links == ["https://example.org/issues/1"]  # javascript: stays text
    assert "engine rounds differently" in " ".join(page.text("expectation"))
    assert 'id="xfailed"' in html


def test_coverage_lists_unexercised_engine_api_and_missing_names(rich):
    rich["results"][1]["coverage"]["functions"].append("ones_like")
    html = section(render_html(rich), "coverage")
    page = Page(html)
    assert "2 of 3 in the engine exercised (67%)" in " ".join(page.text("meter-line"))
    assert [t.split() for t in page.text("none")] == [["exp", "zeros"], ["mean"]]
    assert "ones 2" in page.text("used")[0]
    assert re.search(r'<li class="missing"[^>]*><code>ones_like</code>', html)


def test_margins_chart_worst_first(rich):
    html = section(render_html(rich), "margins")
    ops = re.findall(r'<text class="op"[^>]*>([^<]*)</text>', html)
    assert ops == ["(leaf)", "AddBackward0", "MulBackward0"]
    assert re.findall(r'<g class="bar z-(\w+)">', html) == ["over", "near", "ok"]
    assert "1 over tolerance." in html


def test_sections_left_out_without_their_data(results):
    html = render_html(results)
    for name in ("coverage", "margins", "changes", "xfailed"):
        assert f'<section id="{name}">' not in html


def test_baseline_diff_lists_changes_first(rich):
    old = make_results()
    old["results"][1]["outcome"] = "passed"  # z_fail: passed -> failed
    old["results"][2]["outcome"] = "failed"  # m_broken: failed -> error (changed)
    old["results"][0]["id"] = "specs/tutorial/gone.yaml::gone"
    html = render_html(rich, baseline=old)
    page = Page(section(html, "changes"))
    changes = [a["data-change"] for t, a in page.tags if t == "li"]
    assert changes == ["regressed", "changed", "added", "removed"]
    text = " ".join(page.text("changes"))
    assert "specs/tutorial/z_fail.yaml::z_fail passed → failed" in text
    assert "specs/tutorial/gone.yaml::gone passed → gone" in text
    rows = {a.get("data-change") for t, a in Page(html).tags if t == "tr" and "data-outcome" in a}
    assert rows == {"regressed", "changed", "added"}
    assert '<option value="changed">' in html


def test_baseline_must_be_schema_1(rich):
    with pytest.raises(ValueError, match="baseline"):
        render_html(rich, baseline={"schema_version": 2})


def test_cli_report_with_baseline(rich, tmp_path, capsys):
    new, old = tmp_path / "new.json", tmp_path / "old.json"
    new.write_text(json.dumps(rich))
    old_data = make_results()
    old_data["results"][1]["outcome"] = "passed"
    old.write_text(json.dumps(old_data))
    assert cli.main(["report", str(new), "--baseline", str(old), "--out",
                     str(tmp_path / "out")]) == 0
    html = (tmp_path / "out" / "index.html").read_text()
    assert "Newly failing" in html
    (tmp_path / "bad.json").write_text("{}")
    assert cli.main(["report", str(new), "--baseline", str(tmp_path / "bad.json")]) == 2
    assert "schema_version" in capsys.readouterr().err


def test_spec_files_link_relative_to_the_report(results, tmp_path, monkeypatch):
    (tmp_path / "specs" / "tutorial").mkdir(parents=True)
    (tmp_path / "specs" / "tutorial" / "z_fail.yaml").write_text("specs: []\n")
    monkeypatch.chdir(tmp_path)
    _, html_path = write_report(results, tmp_path / "reports")
    hrefs = [a["href"] for t, a in Page(html_path.read_text()).tags
             if t == "a" and not a["href"].startswith("#")]
    assert hrefs == ["../specs/tutorial/z_fail.yaml"] * 2  # spec and failing statement


def test_new_fields_are_escaped(rich):
    failing = rich["results"][1]
    failing["area"] = failing["variant"] = XSS
    failing["coverage"]["functions"].append(XSS)
    failing["margins"][0]["op"] = XSS
    failing["failure"]["snippet"] = XSS
    failing["expectation"] = {"reason": XSS, "link": XSS}
    rich["metadata"]["engine_api"]["methods"].append(XSS)
    html = render_html(rich, baseline={"schema_version": 1, "results": [
        {"id": XSS, "outcome": "passed"}]})
    assert "<script>alert" not in html
    page = Page(html)
    assert page.errors == []
    assert [t for t, _ in page.tags].count("script") == 1
