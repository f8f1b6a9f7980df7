"""Facts read off one result record: whether it is unexpected, its rank, badge, area and spec.

The plugin's rule for what fails a run is written here once for the report (an XPASS under a
non-strict expectation does not); a record missing a field gets a neutral answer, not an error.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.contract import OUTCOMES

#: Outcomes that need no attention; anything else (even an unknown outcome) sorts first,
#: except an XPASS under a non-strict expectation, which does not fail the run either.
EXPECTED = frozenset({"passed", "xfailed"})


def sort_key(row: dict) -> tuple[bool, str]:
    """Unexpected outcomes first, then by node id."""
    return (not unexpected(row), str(row.get("id", "")))


def unexpected(row: dict) -> bool:
    """Whether a result fails the run, by the plugin's rule (docs/running.md, expectations)."""
    outcome = row.get("outcome")
    if outcome == "xpassed":
        expectation = row.get("expectation")
        return not isinstance(expectation, dict) or expectation.get("strict", True) is not False
    return outcome not in EXPECTED


def rank(outcome: str) -> int:
    """Sort order of an outcome: unknown outcomes first, then OUTCOMES' order."""
    return OUTCOMES.index(outcome) + 1 if outcome in OUTCOMES else 0


def badge(outcome: str) -> str:
    """CSS class suffix; an outcome this version does not know gets a neutral badge."""
    return outcome if outcome in OUTCOMES else "unknown"


def area(row: dict) -> str:
    """The spec's folder under specs/ (from ``area``, else from its file path)."""
    if row.get("area"):
        return str(row["area"])
    parts = Path(str(row.get("file") or "")).parts
    if "specs" in parts:
        parts = parts[parts.index("specs") + 1:]
    return "/".join(parts[:-1]) or "(top level)"


def spec_key(row: dict) -> str:
    """The spec a result belongs to: its id without the ``[variant]`` suffix."""
    node_id = str(row.get("id", ""))
    variant = row.get("variant")
    suffix = f"[{variant}]" if variant else None
    if suffix and node_id.endswith(suffix):
        return node_id[: -len(suffix)]
    return re.sub(r"\[[^\[\]]*\]$", "", node_id) if variant else node_id


def spec_name(row: dict) -> str:
    return spec_key(row).rpartition("::")[2] or str(row.get("name", ""))


def margin_list(row: dict) -> list[dict]:
    return [m for m in row.get("margins") or [] if isinstance(m, dict)]
