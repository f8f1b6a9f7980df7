"""The report's richer views, each driven by an optional results field (docs/results.md).

Matrix (``checks``), coverage (``coverage`` + ``engine_api``), margins (``margins``), the
baseline diff (``parity report --baseline``), snippets and expectations. Every one is optional:
absent data leaves its section out.
"""

from __future__ import annotations

import json
import re

import pytest
from report_page import XSS, Page, make_results

from harness import cli
from harness.report.html import render_html, write_report
from harness.report.matrix import _family

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
    failing["failure"]["discrepancies"][0]["measure"] = {
        "dtype": "float32", "mismatched": 2, "numel": 4, "rtol": 1.3e-06, "atol": 1e-05,
        "max_abs": 2.0, "max_rel": 0.667, "max_ulp": 8388608, "worst_index": [0, 0],
        "elements": [{"index": [0, 0], "torch": 3.0, "engine": 1.0},
                     {"index": [1, 1], "torch": 3.0, "engine": 1.0}]}
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


#: Matrix cell classes (harness.report.CELL): fail, error, xfail, unknown, pass, na, absent.
CELL_CLASSES = {"cf", "ce", "cx", "cu", "cp", "cn", "ca"}


def matrix_cells(html: str) -> list[list[tuple[str, int, str]]]:
    """Per matrix row (area rows too), its cells as (class, colspan, title); an absent cell
    (no variant of the column's family) has no class and no text, and reads as "ca"."""
    rows, matrix = [], section(html, "matrix")
    for tag, attrs in Page(matrix).tags:
        if tag == "tr" and (attrs.get("class") or "").split()[:1] in (["area-row"], ["spec-row"]):
            rows.append([])
        elif tag == "td" and rows:
            cls = [c for c in (attrs.get("class") or "").split() if c != "g"] or ["ca"]
            assert len(cls) == 1 and cls[0] in CELL_CLASSES, attrs
            rows[-1].append((cls[0], int(attrs.get("colspan", 1)), attrs.get("title", "")))
    cells = re.findall(r"<td([^>]*)>([^<]*)</td>", matrix)
    assert len(cells) == sum(map(len, rows))
    for attrs, text in cells:  # a state has a symbol or a count; absent is blank (hatched)
        assert bool(re.search(r'class="?c[fexupn]\b', attrs)) == bool(text), (attrs, text)
    return rows


def test_matrix_cells_come_from_checks(rich):
    page = Page(render_html(rich))
    matrix = " ".join(page.text("matrix"))
    assert "tutorial" in matrix and "z_fail" in matrix
    # 6 checks x 2 dtype families (none, float32): area row, then a_pass, m_broken, z_fail by id.
    area, a_pass, m_broken, z_fail = ([c[0] for c in row] for row in matrix_cells(
        render_html(rich)))
    assert len(area) == len(a_pass) == len(m_broken) == len(z_fail) == 12
    assert area[3] == "cf" and z_fail[3] == "cf"  # grads, float32
    assert a_pass[1::2] == ["cp", "cp", "cp", "cp", "cn", "cp"]
    assert m_broken[0::2] == ["ce"] * 6  # could not run
    assert a_pass[0::2] == ["ca"] * 6  # no such variant


def test_matrix_without_checks_reads_failing_fields(results):
    html = render_html(results)
    assert "their failing checks are read from the discrepancies" in html
    z_row = re.search(r'<tr class="spec-row bad">.*?z_fail.*?</tr>', html).group(0)
    assert re.findall(r'<td class="(\w+)', z_row) == ["cf" if i == 1 else "cu"
                                                      for i in range(6)]


@pytest.mark.parametrize(("variant", "family"), [
    (None, ""), ("float32", "float32"), ("float64-float64-float64", "float64"),
    ("int32-int64", "integer"), ("uint8", "integer"), ("bool-bool", "bool"),
    ("float32-float64", "mixed"), ("bool-float16", "mixed"), ("float16", "float16"),
    ("bfloat16", "bfloat16"), ("complex64-complex128", "complex"), ("contiguous", "other"),
    ("float32-strided", "other")])
def test_matrix_dtype_family_of_a_variant(variant, family):
    assert _family(variant or "") == family


def variant_row(name: str, variant: str | None, outcome="passed", **checks) -> dict:
    node_id = f"specs/ops/binary.yaml::{name}" + (f"[{variant}]" if variant else "")
    return {"id": node_id, "name": node_id.rpartition("::")[2], "file": "specs/ops/binary.yaml",
            "outcome": outcome, "variant": variant, "area": "ops",
            "checks": {**CHECKS, "grads": "pass", **checks}, "failure": None}


def test_matrix_columns_are_checks_by_dtype_family(results):
    results["results"] = [
        *(variant_row("binop", v) for v in ("float32", "float32-float32", "float64",
                                            "int32-int64", "bool", "float16-bool")),
        variant_row("binop", "float32-int64", "failed", grads="fail"),
        variant_row("plain", None, "xfailed", values="xfail"),
    ]
    del results["summary"]
    html = render_html(results)
    page = Page(section(html, "matrix"))
    labels = [a["title"] for t, a in page.tags if t == "th" and "title" in a and "scope" not in a]
    families = ["no dtype variant", "float32", "float64", "integer: int8 … int64, uint8 …",
                "bool", "mixed: inputs of different dtype families"]
    assert labels == families * 6  # the header row of families, once per check
    assert " ".join(page.text("fam")).split() == ["—", "f32", "f64", "int", "bool", "mix"] * 6
    area, binop, plain = matrix_cells(html)
    assert sum(span for _, span, _ in binop) == sum(span for _, span, _ in plain) == 36
    values, grads = binop[:6], binop[6:12]
    assert [c[0] for c in values] == ["ca", "cp", "cp", "cp", "cp", "cp"]
    assert values[1][2] == "pass: float32, float32-float32"
    assert values[3][2] == "pass: int32-int64"
    assert values[4][2] == ""  # the heading says it all
    assert grads[5] == ("cf", 1, "fail: float32-int64; pass: float16-bool")  # worst wins
    assert area[6 + 5][0] == "cf" and area[6 + 5][2] == "1 fail"
    assert plain[:2] == [("cx", 1, ""), ("ca", 5, "")]  # absent cells merged in a group
    row_titles = [a["title"] for t, a in page.tags if t == "th" and a.get("scope") == "row"]
    assert row_titles[0] == ("specs/ops/binary.yaml::binop\nf32: float32, float32-float32\n"
                             "int: int32-int64\nmix: float16-bool, float32-int64")


def test_matrix_stays_narrow_and_small_with_many_variant_ids(results):
    """The real suite has ~65 variant ids; columns grow with dtype families, not with ids."""
    dtypes = ("float16", "float32", "float64", "int32", "int64", "uint8", "bool")
    variants = [f"{a}-{b}" for a in dtypes for b in dtypes] + [*dtypes]
    results["results"] = [variant_row(f"spec_{i}", v) for i in range(20) for v in variants]
    del results["summary"]
    html = render_html(results)
    matrix = section(html, "matrix")
    assert len(variants) == 56
    assert Page(matrix).text("fam")[0].split() == ["f16", "f32", "f64", "int", "bool", "mix"] * 6
    spec_rows = re.findall(r'<tr class="spec-row.*?</tr>', matrix, re.S)
    assert len(spec_rows) == 20
    assert max(len(r.encode()) for r in spec_rows) < 4000  # bytes, ids listed once; was 9 kB
    assert all(len(re.findall(r"<td", r)) == 36 for r in spec_rows)


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


def test_detail_text_is_shown_as_given_never_parsed(rich):
    d = rich["results"][1]["failure"]["discrepancies"][0]
    del d["measure"]  # a discrepancy without numbers (an integer array, an older record)
    page = Page(render_html(rich))
    assert not page.text("elements") and not page.text("stats")
    assert d["detail"] in render_html(rich)


def test_card_lists_8_elements_and_counts_the_rest(rich):
    d = rich["results"][1]["failure"]["discrepancies"][0]
    d["measure"] = {"mismatched": 30, "numel": 40, "max_abs": 2, "max_rel": 0.5, "max_ulp": 7,
                    "worst_index": [0],
                    "elements": [{"index": [i], "torch": 0.10000000149011612 * i,
                                  "engine": 2.0} for i in range(20)]}
    page = Page(render_html(rich))
    table = page.text("elements")[0]
    assert "(7) 0.7 2.0" in table  # float32 in its shortest exact text
    assert "(8)" not in table and "… 22 more elements differ" in table


def test_long_values_are_cut_and_only_new_detail_is_repeated(rich):
    d = rich["results"][1]["failure"]["discrepancies"][0]
    d["torch"] = "[" + ",\n ".join(["1.0, 2.0, 3.0"] * 400) + "] (float32)"
    d["note"] = "finite differences (float64, h=1e-06) support PyTorch"
    d["detail"] += "; " + d["note"]  # the detail holds it too, for the terminal
    html = render_html(rich)
    torch_side = re.search(r'<div class="side torch">.*?</pre>', html, re.S).group(0)
    assert len(torch_side) < 1500
    assert re.search(r"… \d+ more characters in results.json", torch_side)
    page = Page(html)
    # stats and elements show the numbers; what they do not say stays, once
    assert page.text("detail") == ["finite differences (float64, h=1e-06) support PyTorch"]


def test_snippet_leaves_out_the_program_the_card_shows(rich):
    failing = rich["results"][1]
    head = "import torch\n\nx = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)\n"
    failing["failure"]["snippet"] = head + failing["program"]
    html = render_html(rich)
    snippet = re.search(r'<pre class="block snippet copy">(.*?)</pre>', html, re.S).group(1)
    assert snippet.startswith(head) and "y = x * 3" not in snippet
    assert "# ...then the program above, as it is (lines 8–10)" in snippet
    assert html.count("y = x * 3") == 1  # the program block; the script copies it back
    failing["failure"]["snippet"] = head + "print(1)\n"  # not the card's program: kept whole
    assert head + "print(1)\n" in render_html(rich)


def test_identical_margins_take_one_line(rich):
    html = render_html(rich)
    card = re.search(r'<details class="spec o-failed".*?</details>', html, re.S).group(0)
    page = Page(card)
    rows = [a for t, a in page.tags if t == "tr" and a.get("class", "").startswith("z-")]
    assert [r["class"] for r in rows] == ["z-over"]  # x grad; y values is identical
    assert page.text("identical") == ["Identical to PyTorch: y values"]


def test_float32_inputs_in_their_shortest_text(rich):
    rich["results"][1]["failure"]["inputs"]["x"]["values"] = [[0.10000000149011612, 1e20],
                                                               [float("nan"), -2.5]]
    inputs = Page(render_html(rich)).text("inputs")[0]
    assert "[[0.1, 1e+20], [NaN, -2.5]]" in inputs


def test_snippet_and_expectation(rich):
    rich["results"][0].update(outcome="xfailed", expectation={
        "reason": "engine rounds differently", "link": "https://example.org/issues/1",
        "strict": True})
    rich["results"][2]["expectation"] = {"reason": "r", "link": "javascript:alert(1)"}
    html = render_html(rich)
    page = Page(html)
    assert page.text("snippet") == ["import torch x = torch.ones(2, 2, requires_grad=True)"]
    links = [a["href"] for t, a in page.tags if t == "a" and not a["href"].startswith(("#", "?"))]
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
    assert ops == ["(leaf)", "AddBackward0"]  # MulBackward0 matched exactly: listed, no bar
    assert re.findall(r'<g class="bar z-(\w+)">', html) == ["over", "near"]
    assert "exactly on every example (1): <code>MulBackward0</code>" in html
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
