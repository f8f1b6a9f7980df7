"""The HTML report used as a person would: opened from disk in headless Chromium.

A synthetic run of 500 spec items (tests/browser/synthetic.py: failures, errors, xfails, coverage,
margins and a baseline) is rendered to a file, opened by file:// URL, and driven through the
filter, the search, the sort, the URL state and a failure's details; the page must make no network
request and stay fast to open. Screenshots go to reports/report-browser*.png.

Needs Python `playwright` and Debian's chromium (`tox -e report-browser` installs both). Without
them the tests skip, unless PARITY_BROWSER_REQUIRED is set (as tox does), when they fail.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from synthetic import XSS, make_baseline, make_results

from harness.report import write_report

REQUIRED = bool(os.environ.get("PARITY_BROWSER_REQUIRED"))
CHROMIUM = os.environ.get("PARITY_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPORTS = Path(__file__).resolve().parents[2] / "reports"
#: Budgets for the 500-item report: generous for a loaded 2-core CI machine.
MAX_BYTES = 2_000_000
MAX_LOAD_MS = 4000

def _skip_or_fail(reason: str):
    if REQUIRED:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sync_api():
    try:
        from playwright import sync_api
    except ImportError:
        _skip_or_fail("Python playwright is not installed (pip install playwright)")
    if not os.path.exists(CHROMIUM):
        _skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    return sync_api


@pytest.fixture(scope="module")
def results() -> dict:
    return make_results(500)


@pytest.fixture(scope="module")
def report(results, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    started = time.perf_counter()
    _, html = write_report(results, out, baseline=make_baseline(results))
    print(f"\nrendered 500 items in {time.perf_counter() - started:.2f} s, "
          f"{html.stat().st_size / 1e6:.2f} MB")
    return html


@pytest.fixture(scope="module")
def browser(sync_api):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    assert page.errors == []
    context.close()


def visible(page) -> list[dict]:
    return page.eval_on_selector_all(
        "#spec-table tbody tr:not([hidden])",
        "rows => rows.map(r => ({outcome: r.dataset.outcome, id: r.cells[1].textContent.trim(),"
        " duration: parseFloat(r.cells[5].dataset.sort), text: r.textContent}))")


def query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_opens_offline_fast_and_makes_no_request(page, report, results):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else route.abort())
    url = report.as_uri()
    started = time.perf_counter()
    page.goto(url, wait_until="load")
    page.wait_for_selector("#f-shown:not(:empty)")
    wall_ms = (time.perf_counter() - started) * 1000
    timing = page.evaluate("""() => {
        const nav = performance.getEntriesByType("navigation")[0];
        const paint = performance.getEntriesByType("paint").map(p => [p.name, p.startTime]);
        return {load: nav.loadEventEnd, dom: nav.domContentLoadedEventEnd,
                paint: Object.fromEntries(paint)};
    }""")
    size = report.stat().st_size
    metrics = {"items": len(results["results"]), "bytes": size, "wall_ms": round(wall_ms),
               "load_event_ms": round(timing["load"]), "dom_ready_ms": round(timing["dom"]),
               "first_contentful_paint_ms": round(timing["paint"].get("first-contentful-paint",
                                                                       -1))}
    print("\nreport metrics:", json.dumps(metrics))
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "report-browser-metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    assert [u for u in requests if u.split("?")[0].split("#")[0] != url] == []
    assert size < MAX_BYTES
    assert timing["load"] < MAX_LOAD_MS
    assert page.text_content("#f-shown") == "500 of 500 shown"
    page.screenshot(path=str(REPORTS / "report-browser.png"))


def test_filter_by_outcome_lives_in_the_url(page, report, results):
    page.goto(report.as_uri())
    page.select_option("#f-outcome", "failed")
    rows = visible(page)
    assert {r["outcome"] for r in rows} == {"failed"}
    assert len(rows) == results["summary"]["failed"]
    assert query(page) == {"outcome": "failed"}
    page.reload()
    assert page.input_value("#f-outcome") == "failed"
    assert len(visible(page)) == results["summary"]["failed"]
    page.select_option("#f-outcome", "unexpected")
    assert {r["outcome"] for r in visible(page)} == {"failed", "error", "xpassed"}


def test_count_chips_filter_the_table(page, report, results):
    page.goto(report.as_uri())
    page.click("ul.summary li[data-filter=xfailed]")
    assert {r["outcome"] for r in visible(page)} == {"xfailed"}
    assert query(page) == {"outcome": "xfailed"}


def test_search_narrows_rows_and_is_kept_in_the_url(page, report):
    page.goto(report.as_uri())
    page.fill("#f-search", "softmax float64")
    rows = visible(page)
    assert rows and all("softmax" in r["text"] and "float64" in r["text"] for r in rows)
    assert query(page) == {"q": "softmax float64"}
    page.fill("#f-search", "no spec is called this")
    assert visible(page) == []
    assert page.is_visible("#no-match")
    page.click("#f-reset")
    assert len(visible(page)) == 500 and query(page) == {}


def test_sort_by_column_both_ways(page, report):
    page.goto(report.as_uri())
    page.click("th[data-key=duration] button")
    durations = [r["duration"] for r in visible(page)]
    assert durations == sorted(durations)
    assert page.get_attribute("th[data-key=duration]", "aria-sort") == "ascending"
    page.click("th[data-key=duration] button")
    durations = [r["duration"] for r in visible(page)]
    assert durations == sorted(durations, reverse=True)
    assert query(page) == {"sort": "duration", "dir": "desc"}
    page.click("th[data-key=id] button")
    ids = [r["id"] for r in visible(page)]
    assert ids == sorted(ids, key=str.lower)


def test_state_restored_from_a_shared_url(page, report):
    page.goto(report.as_uri() + "?outcome=passed&q=ops%2Freduction&sort=duration&dir=desc")
    rows = visible(page)
    assert rows and {r["outcome"] for r in rows} == {"passed"}
    assert all("ops/reduction" in r["text"] for r in rows)
    assert [r["duration"] for r in rows] == sorted((r["duration"] for r in rows), reverse=True)
    assert page.input_value("#f-search") == "ops/reduction"


def test_a_failure_opens_from_its_row(page, report):
    page.goto(report.as_uri())
    page.select_option("#f-outcome", "failed")
    link = page.locator("#spec-table tbody tr:not([hidden]) a").first
    anchor = link.get_attribute("href")
    card = page.locator(f"details{anchor}")
    assert card.get_attribute("open") is None  # many unexpected: cards start folded
    link.click()
    from playwright.sync_api import expect  # imported here: without playwright the module skips

    expect(card).to_have_attribute("open", "")
    assert card.is_visible()
    assert query(page) == {"outcome": "failed"}  # the anchor keeps the filter in the URL
    body = card.inner_text()
    for part in ("PyTorch", "engine", "Reproduce", "pytest '", "Falsifying inputs", "Program",
                 "Standalone PyTorch snippet", "--hypothesis-seed=0"):
        assert part in body
    assert card.locator("mark.failing").count() == 1
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(REPORTS / "report-browser-failure.png"))


def test_matrix_folds_to_failing_rows_and_unfolds(page, report):
    page.goto(report.as_uri())
    area = page.locator("table.matrix tbody.area").first
    shown = area.locator("tr.spec-row:visible").count()
    assert shown == area.locator("tr.spec-row.bad").count() > 0
    area.locator("button.fold").click()
    assert area.locator("tr.spec-row:visible").count() == area.locator("tr.spec-row").count()


def test_spec_text_renders_as_text(page, report):
    page.goto(report.as_uri())
    assert page.dialogs == []
    assert page.locator("#spec-table code", has_text=XSS).count() == 1


def test_readable_without_javascript(browser, report, results):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(report.as_uri())
    rows = page.locator("#spec-table tbody tr")
    assert rows.count() == len(results["results"])
    assert page.locator("#spec-table tbody tr:visible").count() == len(results["results"])
    assert not page.is_visible("#toolbar")
    assert page.locator("table.matrix tr.spec-row:visible").count() > 100  # nothing folded
    unexpected = sum(results["summary"][o] for o in ("failed", "error", "xpassed"))
    assert page.locator("#unexpected details.spec").count() == unexpected
    context.close()
