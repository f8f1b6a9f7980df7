"""Write a conformance run as results.json (for machines) and index.html (for people).

The results dict is the contract between the pytest plugin and every consumer, so
it is written exactly as given; its schema is documented in docs/results.md. The
HTML is one self-contained file that works offline and as a CI artifact. All
shaping of data for display happens here, in ``_context``, so the template stays
a plain rendering of a view model and can grow without growing logic.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

SCHEMA_VERSION = 1
#: Display order for counts: outcomes that need a person's attention come first.
OUTCOMES = ("failed", "error", "xpassed", "xfailed", "passed")
#: Outcomes that need no attention; anything else (even an unknown outcome) sorts first.
EXPECTED = frozenset({"passed", "xfailed"})
#: Outcomes whose details start expanded: these are what the reader came for.
OPEN_DETAILS = frozenset({"failed", "error"})


def write_report(results: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write out_dir/results.json (the dict as given) and out_dir/index.html; return both paths.

    The HTML is rendered before anything is written, so a dict the template cannot
    handle leaves no half-written report behind.
    """
    html = render_html(results)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "results.json"
    html_path = out_dir / "index.html"
    json_path.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    html_path.write_text(html, encoding="utf-8")
    return json_path, html_path


def render_html(results: dict) -> str:
    """Render the self-contained HTML report for a schema-1 results dict."""
    check_schema(results)
    return _environment().get_template("report.html.j2").render(_context(results))


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
        loader=PackageLoader("harness", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _context(results: dict) -> dict:
    """Turn the results dict into the view model the template renders."""
    rows = sorted(results.get("results") or [], key=_sort_key)
    specs = [_spec_view(index, row) for index, row in enumerate(rows)]
    return {
        "created": _text(results.get("created")),
        "metadata": [(key, _text(value)) for key, value in (results.get("metadata") or {}).items()],
        "summary": _summary(results.get("summary"), rows),
        "specs": specs,
        "outcomes": OUTCOMES,
    }


def _sort_key(row: dict) -> tuple[bool, str]:
    """Unexpected outcomes first, then by node id."""
    return (row.get("outcome") in EXPECTED, str(row.get("id", "")))


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
    return {"counts": counts, "total": total}


def _spec_view(index: int, row: dict) -> dict:
    outcome = str(row.get("outcome", "unknown"))
    program_line = row.get("program_line")
    failure = row.get("failure") or None
    statement_line = failure.get("statement_line") if failure else None
    return {
        "anchor": f"spec-{index}",
        "id": str(row.get("id", "")),
        "description": _text(row.get("description"), empty=""),
        "outcome": outcome,
        "badge": _badge(outcome),
        "examples": _text(row.get("examples")),
        "duration": _duration(row.get("duration_s")),
        "location": _location(row.get("file"), row.get("line")),
        "program": _program_lines(row.get("program") or "", program_line, statement_line),
        "failure": _failure_view(failure, row) if failure else None,
        "has_details": outcome != "passed",
        "open": outcome in OPEN_DETAILS,
    }


def _failure_view(failure: dict, row: dict) -> dict:
    program_line = row.get("program_line")
    statement_line = failure.get("statement_line")
    file_line = _file_line(program_line, statement_line)
    return {
        "kind": _text(failure.get("kind"), empty=""),
        "message": _text(failure.get("message"), empty=""),
        "statement_line": statement_line,
        "statement_location": _location(row.get("file"), file_line) if file_line else "",
        "discrepancies": [
            {
                "file_line": _file_line(program_line, d.get("statement_line")),
                "statement": _text(d.get("statement"), empty=""),
                "variable": _text(d.get("variable"), empty=""),
                "field": _text(d.get("field"), empty=""),
                "torch": _value(d.get("torch")),
                "engine": _value(d.get("engine")),
                "detail": _text(d.get("detail"), empty=""),
            }
            for d in failure.get("discrepancies") or []
        ],
        "inputs": [_input_view(name, v) for name, v in (failure.get("inputs") or {}).items()],
        "seed": _text(failure.get("seed"), empty=""),
        "reproduce": _text(failure.get("reproduce"), empty=""),
        "traceback": _text(failure.get("traceback"), empty=""),
    }


def _input_view(name: str, value: Any) -> dict:
    """A tensor input shows dtype and shape; anything else just its value.

    The key is "data", not "values": in Jinja ``i.values`` would find dict.values.
    """
    if isinstance(value, dict) and "values" in value:
        return {
            "name": name,
            "dtype": _text(value.get("dtype"), empty=""),
            "shape": json.dumps(value.get("shape")) if "shape" in value else "",
            "data": _values(value["values"]),
        }
    return {"name": name, "dtype": "", "shape": "", "data": _value(value)}


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
    return "—" if seconds is None else f"{seconds:.2f} s"


def _text(value: Any, empty: str = "—") -> str:
    return empty if value is None else str(value)


def _value(value: Any) -> str:
    """Observed values are normally repr strings already; show anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def _values(values: Any) -> str:
    """JSON for input values, one outermost row per line so matrices stay readable."""
    if isinstance(values, list) and values and all(isinstance(v, list) for v in values):
        return "[" + ",\n ".join(json.dumps(v) for v in values) + "]"
    return json.dumps(values)
