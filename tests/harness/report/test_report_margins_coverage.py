"""The margins chart and the coverage section, with the data the harness now writes: margins
attributed per op (long labels, no error texts) and an engine API that tells ops from types."""

from __future__ import annotations

import math
import re

from report_page import make_results

from harness.report.html import render_html
from harness.report.margins import MARGIN_CHAR_W, MARGIN_LABEL_CHARS


def section(html: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', html, re.S)
    assert match, name
    return match.group(1)


def margin(op, ratio, field="values"):
    return {"variable": "x", "field": field, "op": op, "dtype": "float32", "max_abs": 1e-6,
            "max_rel": 1e-7, "max_ulp": 1, "ratio": ratio}


LONG = " + ".join(f"Op{i}Backward0" for i in range(12))


def test_chart_labels_fit_their_column_and_long_ones_are_cut_with_a_tooltip():
    results = make_results()
    results["results"][0]["margins"] = [margin(LONG, 0.5, "grad"), margin("MulBackward0", 0.1),
                                        margin("torch.exp", 0.0)]
    html = section(render_html(results), "margins")
    labels = re.findall(r'<text class="op" x="([\d.]+)"[^>]*>([^<]*)</text>', html)
    assert [text for _, text in labels] == [LONG[:MARGIN_LABEL_CHARS - 1] + "…", "MulBackward0"]
    label_right = float(labels[0][0])  # labels end 8 units left of the plot
    assert label_right >= math.ceil(MARGIN_LABEL_CHARS * MARGIN_CHAR_W)
    assert f"<title>{LONG}: ratio" in html  # the full op in the bar's tooltip
    assert f"<code>{LONG}</code>" in html  # and in the table of numbers


def test_exact_ops_take_one_line_and_expected_failures_are_left_out():
    results = make_results()
    results["results"][0]["margins"] = [margin("MulBackward0", 0.1), margin("torch.exp", 0.0),
                                        margin("Tensor.sum", 0.0)]
    results["results"][1].update(outcome="xfailed", margins=[margin("StdBackward0", 1e4)])
    html = section(render_html(results), "margins")
    assert re.findall(r'<text class="op"[^>]*>([^<]*)</text>', html) == ["MulBackward0"]
    assert "exactly on every example (2): <code>Tensor.sum</code>, <code>torch.exp</code>" in html
    assert "StdBackward0" not in html and "1 over tolerance." not in html
    assert "the 1 expected failures" in html


def test_short_labels_keep_a_narrow_column():
    results = make_results()
    results["results"][0]["margins"] = [margin("@", 0.1)]
    html = section(render_html(results), "margins")
    [x] = re.findall(r'<text class="op" x="([\d.]+)"', html)
    assert float(x) < 150


def test_an_error_text_from_an_old_results_file_is_not_a_bar():
    results = make_results()
    results["results"][0]["margins"] = [
        margin("raises RuntimeError: A view was created in no_grad mode and ...", 0.0)]
    html = section(render_html(results), "margins")
    assert re.findall(r'<text class="op"[^>]*>([^<]*)</text>', html) == ["(unattributed)"]
    assert "A view was created" not in html


def test_coverage_counts_ops_and_does_not_call_types_missing():
    results = make_results()
    results["results"][0]["coverage"] = {
        "functions": ["torch.ones", "torch.float64", "torch.linalg.vector_norm"],
        "methods": ["_version", "sum"], "grad_fns": ["CopySlices"]}
    results["metadata"]["engine_api"] = {
        "functions": ["torch.ones", "torch.zeros", "torch.linalg.vector_norm"],
        "types": ["torch.float64", "torch.Size"],
        "methods": ["_version", "sum", "mean"], "grad_fns": ["CopySlices", "MulBackward0"]}
    html = section(render_html(results), "coverage")
    assert 'class="missing"' not in html
    functions = html.split('id="cov-functions"')[1].split('id="cov-methods"')[0]
    assert "<b>2</b> of 3 in the engine exercised" in functions  # ops only
    unexercised = re.search(r'<ul class="chips none">(.*?)</ul>', functions, re.S)[1]
    assert re.findall(r"<code>([^<]*)</code>", unexercised) == ["torch.zeros"]  # no torch.Size
    assert "<code>torch.float64</code>" in functions  # a used dtype is listed as exercised
