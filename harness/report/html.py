"""index.html: the view model of a run and its rendering (one self-contained, offline file).

The HTML works from ``file://`` and as a CI artifact, and reads fine with JavaScript off (JS
only filters, sorts and folds). All shaping of data for display happens in Python (``_context``
here and the section modules: details, matrix, coverage, margins, baseline), so the templates
stay a plain rendering of a view model. Every field beyond the schema-1 core (``checks``,
``margins``, ``coverage``, ``snippet``, ...) is optional: a section whose data is absent is left
out, never guessed.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined

from harness.contract import OPINFO_CHECKS, OUTCOMES
from harness.report import baseline as baseline_diff
from harness.report import coverage, details, margins, matrix, record, suspects
from harness.report import formatting as fmt
from harness.report import opinfo as opinfo_report
from harness.report.results import check_schema

#: Unexpected cards start open while there are at most this many (else one line each).
OPEN_LIMIT = 12


#: Metadata shown elsewhere than the metadata list.
META_ELSEWHERE = frozenset({"engine_api", "shards"})


def write_report(results: dict, out_dir: Path, baseline: dict | None = None
                 ) -> tuple[Path, Path]:
    """Write out_dir/results.json (the dict as given) and out_dir/index.html; return both paths.

    The HTML is rendered before anything is written, so a dict the template cannot
    handle leaves no half-written report behind. ``baseline`` is an earlier run's
    results: the page then lists what changed first. Spec files that exist under
    the current directory are linked relative to out_dir.
    """
    out_dir = Path(out_dir)
    html = render_html(results, baseline=baseline, source_link=_source_linker(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "results.json"
    html_path = out_dir / "index.html"
    json_path.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    html_path.write_text(html, encoding="utf-8")
    return json_path, html_path


def render_html(results: dict, baseline: dict | None = None, source_link=None) -> str:
    """Render the self-contained HTML report for a schema-1 results dict.

    ``source_link(file)`` may return a relative href for a spec file, or None.
    """
    check_schema(results)
    if baseline is not None:
        check_schema(baseline, source="baseline")
    context = _context(results, baseline, source_link or (lambda file: None))
    return _environment().get_template("report.html.j2").render(context)


@cache
def _environment() -> Environment:
    # StrictUndefined: a typo in the template fails loudly instead of rendering blank.
    return Environment(
        loader=PackageLoader("harness.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _source_linker(out_dir: Path):
    """Link spec files that exist below the current directory, relative to the report."""
    root = Path.cwd()

    def link(file: str | None) -> str | None:
        if not file or Path(file).is_absolute() or not (root / file).is_file():
            return None
        return Path(os.path.relpath(root / file, out_dir.resolve())).as_posix()

    return link


def _context(results: dict, baseline: dict | None, source_link) -> dict:
    """Turn the results dict into the view model the template renders."""
    rows = sorted((r for r in results.get("results") or [] if isinstance(r, dict)),
                  key=record.sort_key)
    changes = baseline_diff.changes(rows, baseline)
    specs = [_spec_view(index, row, changes["by_id"], source_link)
             for index, row in enumerate(rows)]
    metadata = results.get("metadata") or {}
    summary = _summary(results.get("summary"), rows)
    unexpected = [s for s in specs if s["unexpected"]]
    anchors = {s["id"]: s["anchor"] for s in specs if s["has_details"]}
    for group in changes["groups"]:
        for entry in group["entries"]:
            entry["anchor"] = anchors.get(entry["id"])
    for s in unexpected:
        s["open"] = len(unexpected) <= OPEN_LIMIT
    culprits = _suspects_view(rows, specs, anchors)
    return {
        "suspects": culprits,
        "created": fmt.text(results.get("created")),
        "metadata": [(key, _meta_value(key, value)) for key, value in metadata.items()
                     if key not in META_ELSEWHERE],
        "shards": [{"seed": "", **{k: fmt.text(v) for k, v in shard.items()}}
                   for shard in metadata.get("shards") or [] if isinstance(shard, dict)],
        "headline": _headline(metadata, results.get("created")),
        "summary": summary,
        "verdict": _verdict(summary, len(unexpected), metadata.get("missing_shards")),
        "specs": specs,
        "unexpected": unexpected,
        # declared divergences: xfailed, and xpassed under a non-strict entry
        "xfailed": [s for s in specs if s["has_details"] and not s["unexpected"]],
        "outcomes": OUTCOMES,
        "changes": changes,
        "matrix": matrix.matrix(*_without_opinfo(rows, specs)),
        "opinfo": _opinfo_view(results, rows, specs),
        "coverage": coverage.coverage(rows, metadata.get("engine_api")),
        "margins": margins.margins(rows, specs),
        "cells": [{"cls": c, "symbol": s, "words": w} for c, s, w in matrix.CELL.values()],
        "warnings": _warnings(rows, anchors),
    }


def _warnings(rows: list[dict], anchors: dict) -> list[dict]:
    """Specs whose records carry warnings (a global setting the program left changed)."""
    return [{"id": fmt.text(r.get("id")), "anchor": anchors.get(r.get("id")),
             "texts": [fmt.text(w) for w in r["warnings"]]}
            for r in rows if isinstance(r.get("warnings"), list) and r["warnings"]]


#: Suspects shown at the top of the report, and failing items listed under each (the spec
#: table's filter shows them all).
SUSPECTS_SHOWN, SUSPECT_ITEMS = 10, 12


def _suspects_view(rows: list[dict], specs: list[dict], anchors: dict) -> list[dict]:
    """The top suspects (harness.report.suspects), each with a filter of the spec table to its
    failing items; the failing rows get the keys of the suspects they exercised (data-uses)."""
    top = suspects.rank(rows)[:SUSPECTS_SHOWN]
    uses: dict[str, list[str]] = {}
    views = []
    for n, s in enumerate(top, 1):
        for node_id in s.failing_ids:
            uses.setdefault(node_id, []).append(s.key)
        views.append({
            "rank": n, "label": s.label, "kind": suspects.KINDS[s.kind], "key": s.key,
            "score": f"{s.score:.2f}", "failed": s.failed, "total_failed": s.total_failed,
            "passed": s.passed, "percent": round(100 * s.failed / s.total_failed),
            "filter": "?" + urlencode({"outcome": "failed", "uses": s.key}) + "#specs",
            "failing": [{"id": i, "anchor": anchors.get(i)} for i in s.failing_ids[:SUSPECT_ITEMS]],
            "more": max(0, s.failed - SUSPECT_ITEMS),
        })
    for spec in specs:
        spec["uses"] = " ".join(uses.get(spec["id"], ()))
    return views


#: Failure kinds the OpInfo section lists (`parity opinfo-failures` gives them all).
OPINFO_KINDS_SHOWN = 15


def _without_opinfo(rows: list[dict], specs: list[dict]) -> tuple[list[dict], list[dict]]:
    """The spec items only: OpInfo items have a matrix of their own checks."""
    kept = [(r, s) for r, s in zip(rows, specs, strict=True) if not _is_opinfo(r)]
    return [r for r, _ in kept], [s for _, s in kept]


def _is_opinfo(row: dict) -> bool:
    return isinstance(row.get("opinfo"), dict)


def _opinfo_view(results: dict, rows: list[dict], specs: list[dict]) -> dict | None:
    """The OpInfo corpus's section: coverage headline, samples per check, failure kinds, ops
    (offered or not), and a matrix of its checks with a row per entry, grouped by namespace."""
    view = opinfo_report.summary(results)
    if view is None:
        return None
    pairs = [(dict(r, id=_opinfo_row_id(r), area=_opinfo_area(r)), s)
             for r, s in zip(rows, specs, strict=True) if _is_opinfo(r)]
    view["matrix"] = matrix.matrix([r for r, _ in pairs], [s for _, s in pairs],
                                   OPINFO_CHECKS) if pairs else None
    view["headline"] = opinfo_report.headline(view)
    view["kinds_more"] = max(0, len(view["kinds"]) - OPINFO_KINDS_SHOWN)
    view["kinds"] = view["kinds"][:OPINFO_KINDS_SHOWN]
    return view


def _opinfo_row_id(row: dict) -> str:
    """`specs/opinfo.yaml::div.floor_rounding[float64]`: one matrix row per entry (an op's
    sample sets are entries of their own), a column family per dtype."""
    info = row["opinfo"]
    return f"{str(row.get('id', '')).partition('::')[0]}::{info['key']}[{info['dtype']}]"


def _opinfo_area(row: dict) -> str:
    """The namespace of an entry's op: nn.functional, linalg, special, fft ... or torch."""
    name = str(row["opinfo"].get("op", ""))
    return f"opinfo: {name.rpartition('.')[0] or 'torch'}"


def _summary(summary: dict | None, rows: list[dict]) -> dict:
    """Counts in display order; counted from the rows if the producer gave none."""
    if not summary:
        summary = dict(Counter(row.get("outcome", "unknown") for row in rows))
        summary["total"] = len(rows)
    extra = [key for key in summary if key not in OUTCOMES and key != "total"]
    counts = [
        {"outcome": outcome, "badge": record.badge(outcome), "count": summary.get(outcome, 0)}
        for outcome in (*OUTCOMES, *extra)
    ]
    total = summary.get("total", sum(count["count"] for count in counts))
    for count in counts:
        count["percent"] = round(100 * count["count"] / total, 2) if total else 0
    return {"counts": counts, "total": total}


def _verdict(summary: dict, unexpected: int, missing_shards: Any = None) -> dict:
    total = summary["total"]
    if not total:
        return {"ok": True, "text": "No specs ran."}
    # a merge of some of the shards: say so where a reader looks first
    missing = (f" (incomplete: shard{'s' if len(missing_shards) > 1 else ''} "
               f"{', '.join(map(str, missing_shards))} missing)"
               if isinstance(missing_shards, list) and missing_shards else "")
    if unexpected:
        return {"ok": False, "text": f"{unexpected} unexpected of {total} spec items{missing}"}
    return {"ok": not missing, "text": f"All {total} spec items as expected{missing}"}


def _headline(metadata: dict, created: Any) -> list[tuple[str, str]]:
    """The few facts that identify a run, for the line under the title."""
    commit = metadata.get("git_commit")
    facts = [
        ("engine", metadata.get("engine")),
        ("PyTorch", metadata.get("torch")),
        ("commit", str(commit)[:10] if commit else None),
        ("profile", metadata.get("hypothesis_profile")),
        ("seed", metadata.get("seed")),
        ("took", fmt.seconds(metadata.get("duration_s"))),
        ("finished", created),
    ]
    return [(label, str(value)) for label, value in facts if value not in (None, "")]


def _meta_value(key: str, value: Any) -> str:
    if key == "duration_s" and isinstance(value, int | float):
        return f"{value:g} s"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return fmt.text(value)


def _spec_view(index: int, row: dict, changes: dict, source_link) -> dict:
    outcome = str(row.get("outcome", "unknown"))
    program_line = row.get("program_line")
    failure = row.get("failure") if isinstance(row.get("failure"), dict) else None
    statement_line = failure.get("statement_line") if failure else None
    node_id = str(row.get("id", ""))
    change = changes.get(node_id)
    expectation = row.get("expectation") if isinstance(row.get("expectation"), dict) else None
    return {
        "anchor": f"spec-{index}",
        "id": node_id,
        "area": record.area(row),
        "variant": fmt.text(row.get("variant"), empty=""),
        "description": fmt.text(row.get("description"), empty=""),
        "outcome": outcome,
        "badge": record.badge(outcome),
        "rank": record.rank(outcome),
        "unexpected": record.unexpected(row),
        "examples": fmt.text(row.get("examples")),
        "examples_sort": fmt.sort_number(row.get("examples")),
        "duration": fmt.duration(row.get("duration_s")),
        "duration_sort": fmt.sort_number(row.get("duration_s")),
        "location": fmt.location(row.get("file"), row.get("line")),
        "href": source_link(row.get("file")),
        "program": _program_lines(row.get("program") or "", program_line, statement_line),
        "failure": _failure_view(failure, row, source_link) if failure else None,
        "expectation": _expectation_view(expectation),
        "margins": [margins.margin_row(m) for m in record.margin_list(row)],
        "change": baseline_diff.change_view(change),
        "has_details": outcome != "passed",
        "open": False,
    }


def _failure_view(failure: dict, row: dict, source_link) -> dict:
    program_line = row.get("program_line")
    statement_line = failure.get("statement_line")
    file_line = fmt.file_line(program_line, statement_line)
    return {
        "kind": fmt.text(failure.get("kind"), empty=""),
        "message": fmt.text(failure.get("message"), empty=""),
        "statement_line": statement_line,
        "statement_location": fmt.location(row.get("file"), file_line) if file_line else "",
        "statement_href": source_link(row.get("file")) if file_line else None,
        "discrepancies": [details.discrepancy_view(d, program_line, details.dtype_hint(d, row))
                          for d in failure.get("discrepancies") or [] if isinstance(d, dict)],
        "inputs": [details.input_view(name, v)
                   for name, v in (failure.get("inputs") or {}).items()],
        "seed": fmt.text(failure.get("seed"), empty=""),
        "reproduce": fmt.text(failure.get("reproduce"), empty=""),
        **_snippet_view(fmt.text(failure.get("snippet"), empty=""), row.get("program")),
        "traceback": fmt.text(failure.get("traceback"), empty=""),
    }


def _snippet_view(snippet: str, program: Any) -> dict:
    """The snippet, less the program it ends with when the card shows that program already:
    the page then says so, and its script puts the program back (for reading and copying)."""
    lines = [line["text"] for line in _program_lines(program or "", None, None)]
    if lines and program == "\n".join(lines) + "\n" and snippet.endswith("\n" + program):
        return {"snippet": snippet[: -len(program)], "snippet_cut": True}
    return {"snippet": snippet, "snippet_cut": False}


def _expectation_view(expectation: dict | None) -> dict | None:
    if not expectation:
        return None
    link = fmt.text(expectation.get("link"), empty="")
    return {
        "reason": fmt.text(expectation.get("reason"), empty=""),
        "link": link,
        # Only web links become links; anything else (javascript:, data:) stays text.
        "href": link if re.match(r"https?://[^\s\"'<>]+$", link) else None,
        "strict": bool(expectation.get("strict")),
    }


def _program_lines(program: str, program_line: int | None, statement_line: int | None) -> list:
    """Number each program line by its line in the spec file and flag the failing one.

    Split on \\n, \\r\\n and \\r only: that is how ``ast`` numbers statement lines,
    whereas str.splitlines also breaks on \\f, \\v, \\u2028... and would shift the marker.
    """
    lines = program.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [
        {
            "number": fmt.file_line(program_line, n) or n,
            "text": text,
            "failing": n == statement_line,
        }
        for n, text in enumerate(lines, start=1)
    ]
