"""Write a conformance run as results.json (for machines) and index.html (for people).

The results dict is the contract between the pytest plugin and every consumer, so
it is written exactly as given; its schema is documented in docs/results.md. The
HTML is one self-contained file that works offline, from ``file://`` and as a CI
artifact, and reads fine with JavaScript off (JS only filters, sorts and folds).

All shaping of data for display happens here, in ``_context`` and its helpers,
so the template stays a plain rendering of a view model. Every field beyond the
schema-1 core (``checks``, ``margins``, ``coverage``, ``snippet``, ...) is
optional: a section whose data is absent is left out, never guessed.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from harness.contract import CHECKS, OUTCOMES, SCHEMA_VERSION, check_of, first_line

#: Outcomes that need no attention; anything else (even an unknown outcome) sorts first,
#: except an XPASS under a non-strict expectation, which does not fail the run either.
EXPECTED = frozenset({"passed", "xfailed"})
#: Unexpected cards start open while there are at most this many (else one line each).
OPEN_LIMIT = 12
#: A card lists this many differing elements (the rest are counted), and a printed value
#: this many characters (the rest are in results.json): hundreds of failing cards must keep
#: the page small enough to open fast.
ELEMENTS_SHOWN = 8
VALUE_CHARS = 1200
#: Matrix cell states, worst first (a cell aggregating several variants shows the worst):
#: CSS class (short: the matrix has thousands of cells), symbol, words (legend, titles).
#: An absent cell (no variant of that dtype family) is rendered without a class.
CELL = {
    "fail": ("cf", "✗", "fail"),
    "error": ("ce", "!", "could not run"),
    "xfail": ("cx", "✗", "expected failure"),
    "unknown": ("cu", "?", "not reported"),
    "pass": ("cp", "✓", "pass"),
    "na": ("cn", "·", "not exercised"),
    "absent": ("ca", "", "no variant of this dtype family"),
}
#: Matrix dtype families (one column per check and family that occurs), in column order:
#: key, column label, title. "" is a spec without a dtype variant; a variant whose inputs
#: fall in different families (``float32-int64``) is "mixed".
FAMILIES = (
    ("", "—", "no dtype variant"),
    ("float16", "f16", "float16"),
    ("bfloat16", "bf16", "bfloat16"),
    ("float32", "f32", "float32"),
    ("float64", "f64", "float64"),
    ("complex", "cplx", "complex64, complex128"),
    ("integer", "int", "integer: int8 … int64, uint8 …"),
    ("bool", "bool", "bool"),
    ("mixed", "mix", "mixed: inputs of different dtype families"),
    ("other", "other", "other variant ids"),
)
#: A matrix cell's title names at most this many passing variants; beyond, it counts them.
TITLE_VARIANTS = 4
#: Change against a baseline run: key, heading, CSS class; listed in this order.
CHANGES = (
    ("regressed", "Newly failing", "failed"),
    ("changed", "Outcome changed", "xpassed"),
    ("fixed", "Newly passing", "passed"),
    ("added", "Added", "unknown"),
    ("removed", "Removed", "xfailed"),
)
COVERAGE_KINDS = (
    ("functions", "torch functions"),
    ("methods", "Tensor methods and attributes"),
    ("grad_fns", "grad_fn classes"),
)
#: Margin chart: log10 of the ratio scale shown, and geometry in SVG user units. The label
#: column is as wide as the longest op label (at least "label"); labels longer than
#: MARGIN_LABEL_CHARS are cut with an ellipsis (the full op is in the bar's tooltip).
MARGIN_LOG_RANGE = (-8, 2)
MARGIN_GEOMETRY = {"label": 120, "plot": 470, "value": 80, "row": 20, "top": 24}
MARGIN_LABEL_CHARS = 48
#: Advance of one character of the chart's 12px monospace font (0.6 em), plus a margin.
MARGIN_CHAR_W = 7.3
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


def load_results(path) -> dict:
    """Read a results.json, refusing any schema this code does not understand."""
    path = Path(path)
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a results file, invalid JSON: {exc}") from exc
    check_schema(results, source=str(path))
    return results


def check_schema(results: Any, source: str = "results") -> None:
    """Raise ValueError unless results is a dict with schema_version 1."""
    version = results.get("schema_version") if isinstance(results, dict) else None
    # `type(...) is int` because True == 1 in Python and must not pass as version 1.
    if type(version) is not int or version != SCHEMA_VERSION:
        raise ValueError(
            f"{source}: unsupported results schema_version {version!r}; "
            f"this version of Parity reads schema_version {SCHEMA_VERSION}"
        )


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


# --------------------------------------------------------------------------- view model


def _context(results: dict, baseline: dict | None, source_link) -> dict:
    """Turn the results dict into the view model the template renders."""
    rows = sorted((r for r in results.get("results") or [] if isinstance(r, dict)),
                  key=_sort_key)
    changes = _changes(rows, baseline)
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
    return {
        "created": _text(results.get("created")),
        "metadata": [(key, _meta_value(key, value)) for key, value in metadata.items()
                     if key not in META_ELSEWHERE],
        "shards": [{k: _text(v) for k, v in shard.items()}
                   for shard in metadata.get("shards") or [] if isinstance(shard, dict)],
        "headline": _headline(metadata, results.get("created")),
        "summary": summary,
        "verdict": _verdict(summary, len(unexpected)),
        "specs": specs,
        "unexpected": unexpected,
        # declared divergences: xfailed, and xpassed under a non-strict entry
        "xfailed": [s for s in specs if s["has_details"] and not s["unexpected"]],
        "outcomes": OUTCOMES,
        "changes": changes,
        "matrix": _matrix(rows, specs),
        "coverage": _coverage(rows, metadata.get("engine_api")),
        "margins": _margins(rows, specs),
        "cells": [{"cls": c, "symbol": s, "words": w} for c, s, w in CELL.values()],
    }


def _sort_key(row: dict) -> tuple[bool, str]:
    """Unexpected outcomes first, then by node id."""
    return (not _unexpected(row), str(row.get("id", "")))


def _unexpected(row: dict) -> bool:
    """Whether a result fails the run, by the plugin's rule (docs/running.md, expectations)."""
    outcome = row.get("outcome")
    if outcome == "xpassed":
        expectation = row.get("expectation")
        return not isinstance(expectation, dict) or expectation.get("strict", True) is not False
    return outcome not in EXPECTED


def _summary(summary: dict | None, rows: list[dict]) -> dict:
    """Counts in display order; counted from the rows if the producer gave none."""
    if not summary:
        summary = dict(Counter(row.get("outcome", "unknown") for row in rows))
        summary["total"] = len(rows)
    extra = [key for key in summary if key not in OUTCOMES and key != "total"]
    counts = [
        {"outcome": outcome, "badge": _badge(outcome), "count": summary.get(outcome, 0)}
        for outcome in (*OUTCOMES, *extra)
    ]
    total = summary.get("total", sum(count["count"] for count in counts))
    for count in counts:
        count["percent"] = round(100 * count["count"] / total, 2) if total else 0
    return {"counts": counts, "total": total}


def _verdict(summary: dict, unexpected: int) -> dict:
    total = summary["total"]
    if not total:
        return {"ok": True, "text": "No specs ran."}
    if unexpected:
        return {"ok": False, "text": f"{unexpected} unexpected of {total} spec items"}
    return {"ok": True, "text": f"All {total} spec items as expected"}


def _headline(metadata: dict, created: Any) -> list[tuple[str, str]]:
    """The few facts that identify a run, for the line under the title."""
    commit = metadata.get("git_commit")
    facts = [
        ("engine", metadata.get("engine")),
        ("PyTorch", metadata.get("torch")),
        ("commit", str(commit)[:10] if commit else None),
        ("profile", metadata.get("hypothesis_profile")),
        ("seed", metadata.get("seed")),
        ("took", _seconds(metadata.get("duration_s"))),
        ("finished", created),
    ]
    return [(label, str(value)) for label, value in facts if value not in (None, "")]


def _meta_value(key: str, value: Any) -> str:
    if key == "duration_s" and isinstance(value, int | float):
        return f"{value:g} s"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return _text(value)


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
        "area": _area(row),
        "variant": _text(row.get("variant"), empty=""),
        "description": _text(row.get("description"), empty=""),
        "outcome": outcome,
        "badge": _badge(outcome),
        "rank": _rank(outcome),
        "unexpected": _unexpected(row),
        "examples": _text(row.get("examples")),
        "examples_sort": _number(row.get("examples")),
        "duration": _duration(row.get("duration_s")),
        "duration_sort": _number(row.get("duration_s")),
        "location": _location(row.get("file"), row.get("line")),
        "href": source_link(row.get("file")),
        "program": _program_lines(row.get("program") or "", program_line, statement_line),
        "failure": _failure_view(failure, row, source_link) if failure else None,
        "expectation": _expectation_view(expectation),
        "margins": [_margin_row(m) for m in _margin_list(row)],
        "change": _change_view(change),
        "has_details": outcome != "passed",
        "open": False,
    }


def _failure_view(failure: dict, row: dict, source_link) -> dict:
    program_line = row.get("program_line")
    statement_line = failure.get("statement_line")
    file_line = _file_line(program_line, statement_line)
    return {
        "kind": _text(failure.get("kind"), empty=""),
        "message": _text(failure.get("message"), empty=""),
        "statement_line": statement_line,
        "statement_location": _location(row.get("file"), file_line) if file_line else "",
        "statement_href": source_link(row.get("file")) if file_line else None,
        "discrepancies": [_discrepancy_view(d, program_line, _dtype_hint(d, row)) for d in
                          failure.get("discrepancies") or [] if isinstance(d, dict)],
        "inputs": [_input_view(name, v) for name, v in (failure.get("inputs") or {}).items()],
        "seed": _text(failure.get("seed"), empty=""),
        "reproduce": _text(failure.get("reproduce"), empty=""),
        **_snippet_view(_text(failure.get("snippet"), empty=""), row.get("program")),
        "traceback": _text(failure.get("traceback"), empty=""),
    }


def _snippet_view(snippet: str, program: Any) -> dict:
    """The snippet, less the program it ends with when the card shows that program already:
    the page then says so, and its script puts the program back (for reading and copying)."""
    lines = [line["text"] for line in _program_lines(program or "", None, None)]
    if lines and program == "\n".join(lines) + "\n" and snippet.endswith("\n" + program):
        return {"snippet": snippet[: -len(program)], "snippet_cut": True}
    return {"snippet": snippet, "snippet_cut": False}


def _discrepancy_view(d: dict, program_line: int | None, dtype: str | None) -> dict:
    detail = _text(d.get("detail"), empty="")
    measured = d.get("measure") if isinstance(d.get("measure"), dict) else _parse_detail(detail)
    elements = _elements(measured.get("elements") or [], dtype)
    stats = _stats(measured)
    mismatched = _float(measured.get("mismatched"))
    more = int(mismatched) - len(elements) if mismatched is not None else 0
    return {
        "file_line": _file_line(program_line, d.get("statement_line")),
        "statement": first_line(_text(d.get("statement"), empty="")),
        "variable": _text(d.get("variable"), empty=""),
        "field": _text(d.get("field"), empty=""),
        "torch": _clip(_value(d.get("torch"))),
        "engine": _clip(_value(d.get("engine"))),
        # what the numbers above do not already say (e.g. the finite-difference verdict)
        "detail": _residual_detail(detail) if stats or elements else detail,
        "stats": stats,
        "elements": elements,
        "more_elements": more if more > 0 else bool(measured.get("more")),
    }


#: Parts of compare.py's detail text that the stats and the elements table show.
_SHOWN_DETAIL = re.compile(
    r"\d+ of \d+ elements outside rtol=\S+, atol=\S+|worst at \([\d, ]*\)"
    r"|max abs \S+, max rel \S+, max ULP \S+|differing \(torch vs engine\): .*")


def _residual_detail(detail: str) -> str:
    return "; ".join(part for part in detail.split("; ") if not _SHOWN_DETAIL.fullmatch(part))


def _clip(text: str) -> dict:
    """A printed value, cut at a line end near VALUE_CHARS; ``more`` counts what was cut."""
    if len(text) <= VALUE_CHARS:
        return {"text": text, "more": 0}
    cut = text.rfind("\n", 0, VALUE_CHARS)
    cut = cut if cut > VALUE_CHARS // 2 else VALUE_CHARS
    return {"text": text[:cut], "more": len(text) - cut}


def _input_view(name: str, value: Any) -> dict:
    """A tensor input shows dtype and shape; anything else just its value.

    The key is "data", not "values": in Jinja ``i.values`` would find dict.values.
    """
    if isinstance(value, dict) and "values" in value:
        return {
            "name": name,
            "dtype": _text(value.get("dtype"), empty=""),
            "shape": json.dumps(value.get("shape")) if "shape" in value else "",
            "data": _values(value["values"], value.get("dtype")),
        }
    return {"name": name, "dtype": "", "shape": "", "data": _value(value)}


def _expectation_view(expectation: dict | None) -> dict | None:
    if not expectation:
        return None
    link = _text(expectation.get("link"), empty="")
    return {
        "reason": _text(expectation.get("reason"), empty=""),
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
            "number": _file_line(program_line, n) or n,
            "text": text,
            "failing": n == statement_line,
        }
        for n, text in enumerate(lines, start=1)
    ]


# --------------------------------------------------------------------------- error details

_DETAIL_PATTERNS = {
    "mismatched": r"(\d+) of \d+ elements",
    "numel": r"\d+ of (\d+) elements",
    "rtol": r"rtol=([^,;\s]+)",
    "atol": r"atol=([^,;\s]+)",
    "worst_index": r"worst at (\([\d, ]*\))",
    "max_abs": r"max abs ([^,;\s]+)",
    "max_rel": r"max rel ([^,;\s]+)",
    "max_ulp": r"max ULP ([^,;\s]+)",
}
_ELEMENT = re.compile(r"(\([\d, ]*\)): (.+?) vs (.+?)(?=, \([\d, ]*\): | \.\.\.$|$)")
_NP_SCALAR = re.compile(r"np\.\w+\(([^()]*)\)")


def _parse_detail(detail: str) -> dict:
    """Numbers from compare.py's detail text, for results that carry no ``measure`` object."""
    found: dict[str, Any] = {}
    for key, pattern in _DETAIL_PATTERNS.items():
        match = re.search(pattern, detail)
        if match:
            found[key] = match.group(1)
    head, sep, listed = detail.partition("differing (torch vs engine): ")
    if sep:
        listed = _NP_SCALAR.sub(r"\1", listed)
        found["elements"] = [{"index": m.group(1), "torch": m.group(2), "engine": m.group(3)}
                             for m in _ELEMENT.finditer(listed)]
        found["more"] = listed.endswith("...")
    return found


def _stats(measured: dict) -> list[tuple[str, str]]:
    stats = []
    if measured.get("mismatched") is not None:
        stats.append(("outside tolerance",
                      f"{measured['mismatched']} of {measured.get('numel', '?')} elements"))
    for key, label in (("max_abs", "max abs"), ("max_rel", "max rel"), ("max_ulp", "max ULP"),
                       ("worst_index", "worst at"), ("rtol", "rtol"), ("atol", "atol")):
        if measured.get(key) is not None:
            value = measured[key]
            stats.append((label, _index_text(value) if key == "worst_index" else _num(value)))
    return stats


def _elements(elements: list, dtype: str | None) -> list[dict]:
    out = []
    for e in elements[:ELEMENTS_SHOWN]:
        if not isinstance(e, dict):
            continue
        t, g = _float(e.get("torch")), _float(e.get("engine"))
        abs_err = rel_err = ulp = None
        if t is not None and g is not None:
            abs_err = abs(g - t) if math.isfinite(g - t) else math.inf
            rel_err = abs_err / abs(t) if t else (0.0 if abs_err == 0 else math.inf)
            ulp = _ulp(t, g, dtype)
        out.append({
            "index": _index_text(e.get("index")),
            "torch": _element_value(e.get("torch"), t, dtype),
            "engine": _element_value(e.get("engine"), g, dtype),
            "abs": _num(abs_err), "rel": _num(rel_err), "ulp": _num(ulp),
        })
    return out


def _element_value(raw: Any, value: float | None, dtype: str | None) -> str:
    """An element as the shortest text that gives back the same value in its dtype: the
    harness hands float32 elements over as float64 (``0.10000000149011612`` is ``0.1``)."""
    if value is not None and dtype in ("float16", "float32") and math.isfinite(value):
        import numpy as np

        return str(getattr(np, dtype)(value))
    return _text(raw, empty="")


def _ulp(expected: float, actual: float, dtype: str | None) -> float | None:
    """Representable floats between two values in dtype (float32 or float64)."""
    import numpy as np

    if dtype not in ("float32", "float64") or not (math.isfinite(expected)
                                                  and math.isfinite(actual)):
        return None
    width = np.int32 if dtype == "float32" else np.int64
    a, b = np.array([expected, actual], dtype=dtype).view(width).astype(np.float64)
    lowest = -(2.0 ** (8 * np.dtype(dtype).itemsize - 1))
    a, b = (lowest - v if v < 0 else v for v in (a, b))
    return abs(float(a - b))


def _dtype_hint(d: dict, row: dict) -> str | None:
    """The dtype of a discrepancy's values: the suffix the harness prints after a value
    (``[[1.]] (float32)``), else the margin measured for that variable, else the variant."""
    match = re.search(r"\((float16|bfloat16|float32|float64)\)\s*$", str(d.get("torch") or ""))
    if match:
        return match.group(1)
    field = "grad" if d.get("field") == "grad" else "values"
    for m in _margin_list(row):
        if m.get("variable") == d.get("variable") and m.get("field") == field:
            return m.get("dtype")
    variant = str(row.get("variant") or "")
    return variant if variant in ("float32", "float64") else None


# --------------------------------------------------------------------------- baseline diff


def _changes(rows: list[dict], baseline: dict | None) -> dict:
    """Per id, how this run differs from the baseline run; grouped for the top of the page."""
    if baseline is None:
        return {"present": False, "groups": [], "by_id": {}, "total": 0}
    before = {str(r.get("id", "")): r
              for r in baseline.get("results") or [] if isinstance(r, dict)}
    by_id: dict[str, dict] = {}
    for row in rows:
        node_id, outcome = str(row.get("id", "")), str(row.get("outcome", "unknown"))
        old_row = before.get(node_id)
        old = None if old_row is None else str(old_row.get("outcome", "unknown"))
        if old is None:
            kind = "added"
        elif old == outcome:
            continue
        elif _unexpected(row) and not _unexpected(old_row):
            kind = "regressed"
        elif not _unexpected(row) and _unexpected(old_row):
            kind = "fixed"
        else:
            kind = "changed"
        by_id[node_id] = {"kind": kind, "before": old, "after": outcome}
    now = {str(r.get("id", "")) for r in rows}
    removed = [{"kind": "removed", "before": str(r.get("outcome", "unknown")), "after": None,
                "id": node_id} for node_id, r in before.items() if node_id not in now]
    groups = []
    for kind, heading, css in CHANGES:
        items = [dict(v, id=k) for k, v in by_id.items() if v["kind"] == kind]
        if kind == "removed":
            items = removed
        if items:
            groups.append({"kind": kind, "heading": heading, "css": css,
                           "entries": sorted(items, key=lambda i: i["id"])})
    meta = baseline.get("metadata") or {}
    return {
        "present": True,
        "groups": groups,
        "by_id": by_id,
        "total": sum(len(g["entries"]) for g in groups),
        "baseline": [(label, _text(value)) for label, value in (
            ("finished", baseline.get("created")),
            ("commit", str(meta["git_commit"])[:10] if meta.get("git_commit") else None),
            ("spec items", len(before)))],
    }


def _change_view(change: dict | None) -> dict | None:
    if not change:
        return None
    label = {kind: heading for kind, heading, _ in CHANGES}[change["kind"]].lower()
    return {"kind": change["kind"], "label": label, "before": _text(change["before"])}


# --------------------------------------------------------------------------- matrix


def _matrix(rows: list[dict], specs: list[dict]) -> dict | None:
    """Area → spec rows × (check × dtype family) columns of pass / fail / xfail cells.

    A spec's variants are grouped by dtype family (FAMILIES), so the width is bounded by
    the checks × the families that occur, however many variant ids a suite has. A cell
    shows the worst state of the family's variants, and its title lists them.
    """
    if not rows:
        return None
    specs_by_key: dict[tuple[str, str], dict] = {}
    for row, view in zip(rows, specs, strict=True):
        key = (view["area"], _spec_key(row))
        spec = specs_by_key.setdefault(key, {
            "name": _spec_name(row), "id": key[1], "cells": defaultdict(list),
            "anchor": None, "worst": 9})
        variant = _text(row.get("variant"), empty="")
        family = _family(variant)
        for check, state in _check_states(row).items():
            spec["cells"][(check, family)].append((variant, state))
        if view["has_details"] and (spec["anchor"] is None or view["rank"] < spec["worst"]):
            spec["anchor"], spec["worst"] = view["anchor"], view["rank"]
    present = {family for spec in specs_by_key.values() for _, family in spec["cells"]}
    families = [f for f in FAMILIES if f[0] in present]
    areas: dict[str, list[dict]] = defaultdict(list)
    for (area, _), spec in sorted(specs_by_key.items()):
        areas[area].append(spec)
    out_areas = []
    for area, area_specs in areas.items():
        spec_rows = []
        totals = {(check, f[0]): Counter() for check in CHECKS for f in families}
        for spec in area_specs:
            cells, bad = [], False
            for check in CHECKS:
                for family, _, _ in families:
                    variants = spec["cells"].get((check, family))
                    state = _worst(s for _, s in variants) if variants else "absent"
                    totals[(check, family)][state] += 1
                    bad = bad or state in ("fail", "error")
                    first = family == families[0][0]  # of its check's group of columns
                    if state == "absent" and not first and cells[-1]["state"] == "absent":
                        cells[-1]["span"] += 1  # one cell for a run of absent ones in a group
                        continue
                    cells.append({"state": state, "span": 1, "first": first,
                                  "symbol": CELL[state][1],
                                  "title": _variants_title(family, variants or [])})
            for cell in cells:
                cell["attrs"] = _cell_attrs(cell["state"], cell["first"], cell["span"],
                                            cell["title"])
            spec_rows.append({"name": spec["name"], "id": spec["id"], "anchor": spec["anchor"],
                              "title": _spec_title(spec, families), "cells": cells, "bad": bad})
        out_areas.append({
            "name": area,
            "specs": spec_rows,
            "totals": [_aggregate(totals[(check, f[0])], first=f is families[0])
                       for check in CHECKS for f in families],
            "bad": sum(s["bad"] for s in spec_rows),
        })
    return {
        "checks": [{"heading": heading, "span": len(families)} for heading in CHECKS.values()],
        # one unlabelled column needs no header row of its own
        "families": [{"label": label, "title": title} for _, label, title in families]
        if [f[0] for f in families] != [""] else [],
        "areas": out_areas,
        "derived": any(not isinstance(r.get("checks"), dict) for r in rows),
    }


def _cell_attrs(state: str, first: bool, span: int = 1, title: str = "") -> Markup:
    """A matrix cell's attributes, as few bytes as HTML allows (there are thousands): the
    state's class, ``g`` on the first column of a check's group, no class when absent."""
    classes = " ".join(c for c in (CELL[state][0] if state != "absent" else "",
                                   "g" if first else "") if c)
    attrs = f' class="{classes}"' if " " in classes else f" class={classes}" if classes else ""
    if span > 1:
        attrs += f" colspan={span}"
    if title:
        attrs += f' title="{escape(title)}"'
    return Markup(attrs)


def _family(variant: str) -> str:
    """The dtype family of a variant id (``float32``, ``int32-int64``, ``bool-float16``)."""
    if not variant:
        return ""
    families = {_dtype_family(dtype) for dtype in variant.split("-")}
    if "other" in families:
        return "other"
    return families.pop() if len(families) == 1 else "mixed"


def _dtype_family(dtype: str) -> str:
    if dtype in ("float16", "bfloat16", "float32", "float64", "bool"):
        return dtype
    if re.fullmatch(r"u?int(8|16|32|64)", dtype):
        return "integer"
    if dtype in ("complex64", "complex128"):
        return "complex"
    return "other"


def _worst(states) -> str:
    return min(states, key=list(CELL).index)


def _variants_title(family: str, variants: list[tuple[str, str]]) -> str:
    """A cell's variant ids by state (``fail: float32-int64; pass: 35 variants``).

    Empty when the column heading says it all. Variants that pass or are not exercised
    are counted rather than named in a cell of many (the spec's name lists them all),
    so a 36-variant spec does not repeat its list in each of its cells.
    """
    if not variants or [v for v, _ in variants] == [family]:
        return ""
    by_state: dict[str, list[str]] = defaultdict(list)
    for variant, state in sorted(variants):
        by_state[state].append(variant or "no variant")
    parts = []
    for state in CELL:
        names = by_state.get(state)
        if names and state in ("pass", "na") and len(variants) > TITLE_VARIANTS:
            parts.append(f"{CELL[state][2]}: {len(names)} variant{'s' * (len(names) != 1)}")
        elif names:
            parts.append(f"{CELL[state][2]}: {', '.join(names)}")
    return "; ".join(parts)


def _spec_title(spec: dict, families: list[tuple[str, str, str]]) -> str:
    """A matrix row's id, then its variants per column family when the label is not enough."""
    lines = [spec["id"]]
    for family, label, _ in families:
        names = sorted({v for v, _ in spec["cells"].get((next(iter(CHECKS)), family), ())})
        if names and names != [family]:
            lines.append(f"{label}: {', '.join(names)}")
    return "\n".join(lines)


def _spec_key(row: dict) -> str:
    """The spec a result belongs to: its id without the ``[variant]`` suffix."""
    node_id = str(row.get("id", ""))
    variant = row.get("variant")
    suffix = f"[{variant}]" if variant else None
    if suffix and node_id.endswith(suffix):
        return node_id[: -len(suffix)]
    return re.sub(r"\[[^\[\]]*\]$", "", node_id) if variant else node_id


def _spec_name(row: dict) -> str:
    return _spec_key(row).rpartition("::")[2] or str(row.get("name", ""))


def _check_states(row: dict) -> dict[str, str]:
    """State of each check category for one result (see CELL)."""
    outcome = row.get("outcome")
    checks = row.get("checks")
    if outcome == "error":  # the spec could not run: no check has an outcome
        return {check: "error" for check in CHECKS}
    if isinstance(checks, dict):
        states = {}
        for check in CHECKS:
            value = checks.get(check)
            if value in ("fail", "xfail"):  # the runner marks an expected divergence "xfail"
                states[check] = "xfail" if outcome == "xfailed" or value == "xfail" else "fail"
            elif value == "pass":
                states[check] = "pass"
            elif value == "n/a":
                states[check] = "na"
            else:
                states[check] = "unknown"
        return states
    failed = set()
    failure = row.get("failure") if isinstance(row.get("failure"), dict) else {}
    for d in failure.get("discrepancies") or []:
        if isinstance(d, dict) and d.get("field"):
            failed.add(check_of(str(d["field"]), str(d.get("detail") or "")))
    bad = "xfail" if outcome == "xfailed" else "fail"
    return {check: bad if check in failed else "unknown" for check in CHECKS}


def _aggregate(counts: Counter, first: bool = False) -> dict:
    """An area's cell: the worst state present, with how many specs are in it."""
    state = _worst(s for s, n in counts.items() if n)
    text = {"fail": f"{counts['fail']}✗", "error": f"{counts['error']}!",
            "xfail": f"{counts['xfail']}✗", "unknown": "?", "pass": str(counts["pass"]),
            "na": CELL["na"][1]}
    return {"text": text.get(state, ""),
            "attrs": _cell_attrs(state, first, title=_count_title(counts))}


def _count_title(counts: Counter) -> str:
    return ", ".join(f"{n} {CELL[state][2]}" for state, n in counts.items()
                     if n and state != "absent")


# --------------------------------------------------------------------------- coverage


def _coverage(rows: list[dict], engine_api: Any) -> dict | None:
    """What the specs exercise, per kind, against what the engine offers.

    The meter and the "not exercised" list count the engine's ops (``engine_api[kind]``);
    classes and dtypes it offers (``engine_api["types"]``) are not ops, but a spec using one
    does not use something missing either."""
    have = [r["coverage"] for r in rows if isinstance(r.get("coverage"), dict)]
    engine_api = engine_api if isinstance(engine_api, dict) else None
    if not have and not engine_api:
        return None
    kinds = []
    for key, heading in COVERAGE_KINDS:
        used = Counter(str(name) for c in have for name in set(c.get(key) or []))
        offered = {str(name) for name in (engine_api or {}).get(key) or []}
        known = offered | {str(name) for name in (engine_api or {}).get("types") or []
                           if key == "functions"}
        exercised = sorted(used.items(), key=lambda kv: (-kv[1], kv[0]))
        kinds.append({
            "key": key,
            "heading": heading,
            "exercised": [{"name": name, "count": n,
                           "missing": bool(engine_api) and name not in known}
                          for name, n in exercised],
            "unexercised": sorted(offered - set(used)),
            "offered": len(offered) if engine_api else None,
            "covered": len(offered & set(used)),
            "percent": round(100 * len(offered & set(used)) / len(offered)) if offered else None,
        })
    return {"kinds": kinds, "has_engine_api": bool(engine_api), "has_usage": bool(have)}


# --------------------------------------------------------------------------- margins


def _margin_list(row: dict) -> list[dict]:
    return [m for m in row.get("margins") or [] if isinstance(m, dict)]


def _margin_row(m: dict) -> dict:
    return {"variable": _text(m.get("variable"), empty=""), "field": _text(m.get("field")),
            "op": _margin_op(m), "dtype": _text(m.get("dtype"), empty=""),
            "max_abs": _num(m.get("max_abs")), "max_rel": _num(m.get("max_rel")),
            "max_ulp": _num(m.get("max_ulp")), "ratio": _num(m.get("ratio")),
            "zone": _zone(_float(m.get("ratio")))}


def _margins(rows: list[dict], specs: list[dict]) -> dict | None:
    """Per op, the worst ratio of error to tolerance over every spec, as an SVG bar chart."""
    worst: dict[str, dict] = {}
    for row, view in zip(rows, specs, strict=True):
        if row.get("outcome") == "xfailed":  # a declared divergence: over tolerance by intent
            continue
        for m in _margin_list(row):
            ratio = _float(m.get("ratio"))
            if ratio is None:
                continue
            op = _margin_op(m)
            entry = worst.setdefault(op, {"ratio": -1.0, "m": m, "view": view, "count": 0})
            entry["count"] += 1
            if _sortable(ratio) > _sortable(entry["ratio"]):
                entry.update(ratio=ratio, m=m, view=view)
    if not worst:
        return None
    g = MARGIN_GEOMETRY
    lo, hi = MARGIN_LOG_RANGE
    ordered = sorted(worst.items(), key=lambda kv: (-_sortable(kv[1]["ratio"]), kv[0]))

    def x_of(ratio: float) -> float:
        if ratio <= 0 or math.isnan(ratio):
            return 0.0
        pos = min(max(math.log10(ratio), lo), hi) if math.isfinite(ratio) else hi
        return round((pos - lo) / (hi - lo) * g["plot"], 1)

    bars = []
    for op, entry in ordered:
        ratio, m, view = entry["ratio"], entry["m"], entry["view"]
        bars.append({
            "op": op, "label": _margin_label(op), "exact": ratio == 0,
            "width": max(x_of(ratio), 1.5),
            "zone": _zone(ratio), "ratio": _num(ratio), "field": _text(m.get("field")),
            "dtype": _text(m.get("dtype"), empty=""), "variable": _text(m.get("variable")),
            "spec": view["id"], "anchor": view["anchor"] if view["has_details"] else None,
            "max_abs": _num(m.get("max_abs")), "max_rel": _num(m.get("max_rel")),
            "max_ulp": _num(m.get("max_ulp")), "count": entry["count"],
        })
    # Ops that matched PyTorch exactly on every example get one line under the chart, not a bar.
    charted = [b for b in bars if not b["exact"]] or bars
    for i, bar in enumerate(charted):
        bar["y"] = g["top"] + i * g["row"]
    ticks = [{"x": x_of(10.0 ** p), "label": "1" if p == 0 else f"1e{p}", "one": p == 0}
             for p in range(lo, hi + 1, 2 if hi - lo > 6 else 1)]
    if not any(t["one"] for t in ticks):
        ticks.append({"x": x_of(1.0), "label": "1", "one": True})
    height = g["top"] + len(charted) * g["row"] + 8
    label_w = max(g["label"],
                  math.ceil(max(len(b["label"]) for b in charted) * MARGIN_CHAR_W) + 16)
    return {
        "bars": bars, "charted": charted, "ticks": ticks, "height": height, "label_w": label_w,
        "exact": [b["op"] for b in bars if b["exact"] and b not in charted],
        "xfailed_left_out": sum(row.get("outcome") == "xfailed" for row in rows),
        "plot_w": g["plot"], "width": label_w + g["plot"] + g["value"], "row": g["row"],
        "top": g["top"], "over": sum(b["zone"] == "over" for b in bars),
        "near": sum(b["zone"] == "near" for b in bars),
    }


def _margin_op(m: dict) -> str:
    """The op a margin is attributed to; results older than attribution have null (leaves)
    or, for a grad_fn PyTorch refused to give, the error's text: never a label."""
    op = m.get("op")
    if not op:
        return "(leaf)"
    op = str(op)
    return "(unattributed)" if op.startswith("raises ") else op


def _margin_label(op: str) -> str:
    """The op as the chart shows it: at most MARGIN_LABEL_CHARS characters."""
    return op if len(op) <= MARGIN_LABEL_CHARS else op[:MARGIN_LABEL_CHARS - 1] + "…"


def _zone(ratio: float | None) -> str:
    if ratio is None or math.isnan(ratio) or ratio > 1:
        return "over"
    return "near" if ratio > 0.5 else "ok"


def _sortable(x: float) -> float:
    return math.inf if math.isnan(x) else x


# --------------------------------------------------------------------------- small helpers


def _area(row: dict) -> str:
    """The spec's folder under specs/ (from ``area``, else from its file path)."""
    if row.get("area"):
        return str(row["area"])
    parts = Path(str(row.get("file") or "")).parts
    if "specs" in parts:
        parts = parts[parts.index("specs") + 1:]
    return "/".join(parts[:-1]) or "(top level)"


def _rank(outcome: str) -> int:
    """Sort order of an outcome: unknown outcomes first, then OUTCOMES' order."""
    return OUTCOMES.index(outcome) + 1 if outcome in OUTCOMES else 0


def _file_line(program_line: int | None, statement_line: int | None) -> int | None:
    """The spec-file line of a program line; None when either end is unknown."""
    if program_line is None or statement_line is None:
        return None
    return program_line + statement_line - 1


def _location(file: str | None, line: int | None) -> str:
    if not file:
        return ""
    return f"{file}:{line}" if line is not None else str(file)


def _badge(outcome: str) -> str:
    """CSS class suffix; an outcome this version does not know gets a neutral badge."""
    return outcome if outcome in OUTCOMES else "unknown"


def _duration(seconds: float | None) -> str:
    return "—" if not isinstance(seconds, int | float) else f"{seconds:.2f} s"


def _seconds(seconds: Any) -> str | None:
    if not isinstance(seconds, int | float):
        return None
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _number(value: Any) -> str:
    """A sort key for a numeric column (empty sorts as -1)."""
    return repr(value) if isinstance(value, int | float) and not isinstance(value, bool) else "-1"


def _float(value: Any) -> float | None:
    """A float from a number or its text ('inf', 'nan', '1e-3', 'np.float64(2.0)')."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(_NP_SCALAR.sub(r"\1", value).strip())
        except ValueError:
            return None
    return None


def _num(value: Any) -> str:
    """Numbers compactly (3 significant digits); text as given; None as a dash."""
    if value is None:
        return "—"
    number = _float(value)
    if number is None:
        return str(value)
    if math.isnan(number) or math.isinf(number):
        return str(number)
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.3g}"


def _index_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return _text(value, empty="")


def _text(value: Any, empty: str = "—") -> str:
    return empty if value is None else str(value)


def _value(value: Any) -> str:
    """Observed values are normally repr strings already; show anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def _values(values: Any, dtype: Any = None) -> str:
    """JSON for input values, one outermost row per line so matrices stay readable; float16
    and float32 elements in their shortest text (results.json holds them as float64, so
    ``0.1`` comes as ``0.10000000149011612``)."""
    def dump(v: Any) -> str:
        if dtype in ("float16", "float32") and type(v) is float and math.isfinite(v):
            import numpy as np

            return str(getattr(np, dtype)(v))
        if isinstance(v, list):
            return "[" + ", ".join(dump(x) for x in v) + "]"
        return json.dumps(v)

    if isinstance(values, list) and values and all(isinstance(v, list) for v in values):
        return "[" + ",\n ".join(dump(v) for v in values) + "]"
    return dump(values)
