"""The suspects ranking (harness.report.suspects) and its section at the top of the report."""

from __future__ import annotations

import math
import re

from report_page import make_results

from harness.report.html import render_html
from harness.report.suspects import exercised, rank


def row(node_id: str, outcome: str, grad_fns=(), functions=(), features=(), checks=None):
    return {"id": node_id, "outcome": outcome, "checks": checks or {},
            "coverage": {"functions": list(functions), "methods": [], "grad_fns": list(grad_fns),
                         "operators": [], "features": list(features)}}


def rows_with_a_broken_mul() -> list[dict]:
    """Every failing item went through MulBackward0; so did 1 of the 5 passing ones. AddBackward0
    is in 2 of the 3 failing items and in none of the passing: a strong, but lesser, suspect."""
    return [
        row("f1", "failed", ["MulBackward0", "AddBackward0"], ["torch.ones"]),
        row("f2", "failed", ["MulBackward0", "AddBackward0"], ["torch.ones"]),
        row("f3", "failed", ["MulBackward0"], ["torch.ones"], ["hooks"]),
        row("p1", "passed", ["MulBackward0"], ["torch.ones"]),
        row("p2", "xpassed", [], ["torch.ones"], ["hooks"]),
        row("p3", "passed", [], ["torch.ones"]),
        row("p4", "passed", [], ["torch.ones"]),
        row("p5", "passed", [], ["torch.ones"]),
        # neither failing nor passing: a broken spec, a known divergence
        row("e1", "error", ["AddBackward0"]), row("x1", "xfailed", ["AddBackward0"]),
    ]


def test_ochiai_ranks_the_element_every_failure_shares_first():
    ranked = rank(rows_with_a_broken_mul())
    first = ranked[0]
    assert (first.kind, first.name) == ("grad_fn", "MulBackward0")
    assert (first.failed, first.passed, first.total_failed) == (3, 1, 3)
    assert math.isclose(first.score, 3 / math.sqrt(3 * (3 + 1)))
    scores = {s.name: s for s in ranked}
    assert math.isclose(scores["AddBackward0"].score, 2 / math.sqrt(3 * 2))  # errors ignored
    assert scores["torch.ones"].passed == 5  # in every item: a weak suspect
    assert scores["hooks"].score < scores["torch.ones"].score < first.score
    assert first.failing_ids == ("f1", "f2", "f3")
    assert "MulBackward0 (grad_fn): in 3 of 3 failing items and 1 passing" in first.describe()


def test_no_failure_no_suspects():
    assert rank([row("p", "passed", ["MulBackward0"]), row("e", "error")]) == []


def test_ties_go_to_the_more_specific_kind():
    rows = [row("f", "failed", ["MulBackward0"], ["torch.mul"], checks={"none_grads": "fail"}),
            row("p", "passed")]
    rows[0]["coverage"]["backward_nodes"] = ["MulBackward0"]
    assert [s.kind for s in rank(rows)] == ["backward", "grad_fn", "function", "check"]


def test_what_an_item_exercised_reads_coverage_and_one_check():
    """The checks that every item exercises (values, grads...) would only echo the symptom:
    only none_grads, exercised by programs with non-leaf tensors or warnings, counts; in a
    failing item, only when that check is what failed."""
    record = row("f", "failed", ["MulBackward0", "SumBackward0"], ["torch.ones"], ["hooks"],
                 {"grads": "fail", "prints": "n/a", "values": "pass", "none_grads": "fail"})
    record["coverage"].update(methods=["sum"], operators=["*"], backward_nodes=["MulBackward0"])
    assert exercised(record) == {
        ("backward", "MulBackward0"), ("grad_fn", "MulBackward0"), ("grad_fn", "SumBackward0"),
        ("function", "torch.ones"), ("method", "Tensor.sum"), ("operator", "*"),
        ("feature", "hooks"), ("check", "none_grads")}
    record["checks"]["none_grads"] = "pass"  # the grads failed, not the None grads
    assert ("check", "none_grads") not in exercised(record)
    assert ("check", "none_grads") in exercised(dict(record, outcome="passed"))
    record["checks"]["none_grads"] = "n/a"
    assert ("check", "none_grads") not in exercised(dict(record, outcome="passed"))
    assert exercised({"id": "old", "outcome": "failed"}) == set()  # older records: nothing


def results_with_suspects() -> dict:
    results = make_results()
    passing, failing, _ = results["results"]
    failing["coverage"] = {"functions": ["torch.ones"], "methods": ["sum"],
                           "grad_fns": ["MulBackward0", "SumBackward0"]}
    passing["coverage"] = {"functions": ["torch.ones"], "methods": [], "grad_fns": []}
    return results


def test_the_report_opens_with_the_suspects_linked_to_their_failing_items():
    html = render_html(results_with_suspects())
    assert html.index('<section id="suspects">') < html.index('<section id="unexpected">')
    section = re.search(r'<section id="suspects">(.*?)</section>', html, re.S).group(1)
    first = re.search(r"<tbody>\s*<tr>(.*?)</tr>", section, re.S).group(1)
    assert "<code>MulBackward0</code>" in first and "1 of 1" in first
    assert 'href="?outcome=failed&amp;uses=grad_fn%3AMulBackward0#specs"' in first
    assert '<a href="#spec-' in first  # the failing item, linked to its card
    failing_row = re.search(r'<tr [^>]*data-outcome="failed"[^>]*>', html).group(0)
    assert 'data-uses="grad_fn:MulBackward0 grad_fn:SumBackward0' in failing_row


def test_no_suspects_section_when_nothing_failed():
    results = results_with_suspects()
    results["results"] = [r for r in results["results"] if r["outcome"] != "failed"]
    results["summary"] = {"passed": 1, "failed": 0, "error": 1, "xfailed": 0, "xpassed": 0,
                          "total": 2}
    assert '<section id="suspects">' not in render_html(results)


def test_the_copy_button_has_room_of_its_own():
    """The copy button overlays the top right corner of a command or snippet; the text keeps
    clear of it (tests/browser checks the boxes in Chromium)."""
    from importlib import resources

    css = resources.files("harness.report").joinpath("templates/report.css").read_text()
    assert re.search(r"\.copy-wrap > pre \{ padding-right: 4\.5rem; \}", css)
