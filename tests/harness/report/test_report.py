"""The report writer: results.json round-trips and index.html is safe, offline and legible.

The HTML is checked through the stdlib HTML parser rather than by string
matching, so the tests pin what a reader sees, not the template's whitespace.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_page import TEMPLATE_TAGS, XSS, Page, make_results, table_tags

from harness.report.html import render_html, write_report
from harness.report.results import load_results


@pytest.fixture
def results() -> dict:
    return make_results()


@pytest.fixture
def page(results) -> Page:
    return Page(render_html(results))


def test_writes_both_files_and_json_round_trips(results, tmp_path):
    out_dir = tmp_path / "nested" / "report"
    json_path, html_path = write_report(results, out_dir)
    assert (json_path, html_path) == (out_dir / "results.json", out_dir / "index.html")
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    loaded = load_results(json_path)
    assert loaded == results
    assert list(loaded["results"][0]) == list(results["results"][0])  # key order kept
    assert json_path.read_text(encoding="utf-8") == json.dumps(results, indent=1) + "\n"


def test_write_report_does_not_mutate_results(results, tmp_path):
    before = copy.deepcopy(results)
    write_report(results, tmp_path)
    assert results == before


@pytest.mark.parametrize("version", [0, 2, "1", True, None])
def test_wrong_schema_version_is_refused(results, tmp_path, version):
    if version is None:
        del results["schema_version"]
    else:
        results["schema_version"] = version
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results), encoding="utf-8")
    with pytest.raises(ValueError, match="schema_version"):
        load_results(path)
    with pytest.raises(ValueError, match="schema_version"):
        render_html(results)


def test_not_json_is_a_value_error(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("<html>", encoding="utf-8")
    with pytest.raises(ValueError, match="invalid JSON"):
        load_results(path)


def test_html_is_well_formed(results):
    html = render_html(results)
    page = Page(html)
    assert page.errors == []
    assert "<title>Parity conformance report</title>" in html
    assert "<h1>Parity conformance report</h1>" in html
    assert {"table", "details", "pre", "script"} <= {tag for tag, _ in page.tags}


def test_header_shows_counts_unexpected_first_and_metadata(page):
    assert page.text("count") == ["1 failed", "1 error", "0 xpassed", "0 xfailed", "1 passed",
                                  "3 total"]
    meta = page.text("meta")[0]
    for fragment in ("created 2026-11-25T21:50:00+00:00", "torch 2.13.0+cpu", "git_commit —",
                     "hypothesis_profile ci"):
        assert fragment in meta


def test_counts_are_derived_when_summary_missing(results):
    del results["summary"]
    assert Page(render_html(results)).text("count")[-1] == "3 total"


def test_unexpected_outcomes_listed_before_passes(page):
    rows = [attrs["data-outcome"] for tag, attrs in page.tags
            if tag == "tr" and "data-outcome" in attrs]
    assert rows == ["error", "failed", "passed"]  # unexpected first, then by id
    links = [attrs["href"] for tag, attrs in table_tags(page) if tag == "a"]
    assert len(links) == 2  # only non-passing rows link to a details section


@pytest.mark.parametrize("strict", [True, False])
def test_xpass_is_unexpected_only_under_a_strict_entry(results, strict):
    """The report's verdict agrees with the exit code: the plugin fails the run on a strict
    XPASS only (pytest's own rule), so a non-strict XPASS is listed but not unexpected."""
    results["results"] = [dict(results["results"][0], outcome="xpassed",
                               expectation={"reason": "summation order", "strict": strict})]
    results["summary"] = {"xpassed": 1, "total": 1}
    page = Page(render_html(results))
    verdict = page.text("verdict")[0]
    row = next(attrs for tag, attrs in page.tags if tag == "tr" and "data-outcome" in attrs)
    if strict:
        assert verdict == "✗ 1 unexpected of 1 spec items"
        assert "data-unexpected" in row
    else:
        assert verdict == "✓ All 1 spec items as expected"
        assert "data-unexpected" not in row
    card = next(i for i, (tag, attrs) in enumerate(page.tags) if tag == "details"
                and attrs.get("data-outcome") == "xpassed")
    section = [attrs["id"] for tag, attrs in page.tags[:card] if tag == "section"][-1]
    assert section == ("unexpected" if strict else "xfailed")  # its card is on the page


def test_details_only_for_non_passing_and_open_for_failures(page):
    details = [attrs for tag, attrs in page.tags if tag == "details" and "data-outcome" in attrs]
    assert [d["data-outcome"] for d in details] == ["error", "failed"]
    assert all("open" in d for d in details)
    assert {d["id"] for d in details} == {a["href"][1:] for t, a in table_tags(page) if t == "a"}


def test_failing_statement_line_is_marked_with_its_file_line(page):
    # program_line 8 + statement_line 3 - 1 = file line 10
    assert page.text("failing") == ["x = torch.onez(2)", "y.sum().backward()"]
    program = page.text("program")[1]
    assert "8 x = torch.ones(2, 2, requires_grad=True) 9 y = x * 3 10 ▶ y.sum" in program
    assert "specs/tutorial/z_fail.yaml:10 (program line 3)" in " ".join(page.text("facts"))


def test_failure_details_are_shown(page):
    facts = " ".join(page.text("facts"))
    assert "specs/tutorial/z_fail.yaml:3" in facts
    assert "x.grad differs" in page.text("message")
    assert page.text("seed") == ["123456"]
    assert page.text("reproduce") == [
        "pytest 'specs/tutorial/z_fail.yaml::z_fail' --hypothesis-seed=123456"]
    table = page.text("discrepancies")[0]
    for fragment in ("line 10 y.sum().backward()", "grad", "tensor([[3., 3.], [3., 3.]])",
                     "tensor([[1., 1.], [1., 1.]])", "max abs 2 at index (0, 0)"):
        assert fragment in table
    assert "x float32 [2, 2] [[1.0, 2.0], [3.0, 4.0]]" in page.text("inputs")[0]
    assert page.text("traceback") == ["AttributeError: module 'torch' has no attribute 'onez'"]


def test_values_are_in_pre(results):
    html = render_html(results)
    assert "<pre>tensor([[3., 3.],\n        [3., 3.]])</pre>" in html


def test_spec_text_is_escaped(results):
    failing = results["results"][1]
    failing["id"] = failing["name"] = failing["description"] = XSS
    failing["program"] = XSS + "\n"
    failing["failure"]["statement_line"] = 1
    failing["failure"]["message"] = failing["failure"]["traceback"] = XSS
    failing["failure"]["discrepancies"][0].update(statement=XSS, torch=XSS, engine=XSS)
    html = render_html(results)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = Page(html)
    assert page.errors == []
    assert [tag for tag, _ in page.tags].count("script") == 1  # only the report's own


def test_no_external_resources(page, results):
    html = render_html(results)
    for tag, attrs in page.tags:
        for name in ("src", "action", "srcset", "poster", "data", "xlink:href"):
            assert name not in attrs, (tag, name)
        if "href" in attrs:
            assert attrs["href"].startswith("#"), (tag, attrs["href"])
        assert tag not in {"link", "img", "iframe", "object", "embed", "image", "use"}
    assert "://" not in html
    assert "url(" not in html and "@import" not in html
    # And the browser is told so: nothing may load from anywhere, inline style and script only.
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\"" \
        in html


def test_minimal_result_renders(results):
    """A producer may leave optional fields out; the report still renders."""
    del results["summary"]  # counted from the results
    results["results"] = [
        {"id": "specs/x.yaml::x", "outcome": "xfailed",
         "failure": {"kind": "mismatch", "message": "x differs"}},
        {"id": "specs/y.yaml::y", "outcome": "failed",
         "failure": {"kind": "mismatch", "message": "y differs"}}]
    page = Page(render_html(results))
    assert page.errors == []
    rows = [a["data-outcome"] for t, a in page.tags if t == "tr" and "data-outcome" in a]
    assert rows == ["failed", "xfailed"]
    assert "y differs" in render_html(results)


def test_empty_run_renders():
    page = Page(render_html({"schema_version": 1, "results": []}))
    assert page.errors == []
    assert page.text("count")[-1] == "0 total"


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
line_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"),
                    max_size=30)


@settings(max_examples=60, deadline=None)
@given(name=text, program=st.lists(line_text, max_size=5), line=st.integers(1, 6), value=text)
def test_any_spec_text_stays_text(name, program, line, value):
    """Whatever a spec contains, the page keeps the template's structure and one mark at most."""
    results = make_results()
    failing = results["results"][1]
    failing["id"] = failing["description"] = name
    failing["program"] = "\n".join([*program, "pass"])
    failing["failure"]["statement_line"] = line
    failing["failure"]["discrepancies"][0]["torch"] = value
    page = Page(render_html(results))
    assert page.errors == []
    assert {tag for tag, _ in page.tags} <= TEMPLATE_TAGS
    assert [t for t, _ in page.tags].count("mark") == 1 + (line <= len(program) + 1)


def test_a_multi_line_statement_shows_its_first_line_in_the_card(results):
    d = results["results"][2 - 1]["failure"]["discrepancies"][0]
    d["statement"] = "for i in range(3):\n    y = x * 3\n    y.sum().backward()"
    html = render_html(results)
    assert "<code>for i in range(3): …</code>" in html
    assert "<code>for i in range(3):\n" not in html
