"""What changed against a baseline run: newly failing, newly passing, changed, added, removed."""

from __future__ import annotations

from harness.report import formatting as fmt
from harness.report import record

#: Change against a baseline run: key, heading, CSS class; listed in this order.
CHANGES = (
    ("regressed", "Newly failing", "failed"),
    ("changed", "Outcome changed", "xpassed"),
    ("fixed", "Newly passing", "passed"),
    ("added", "Added", "unknown"),
    ("removed", "Removed", "xfailed"),
)


def changes(rows: list[dict], baseline: dict | None) -> dict:
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
        elif record.unexpected(row) and not record.unexpected(old_row):
            kind = "regressed"
        elif not record.unexpected(row) and record.unexpected(old_row):
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
        "baseline": [(label, fmt.text(value)) for label, value in (
            ("finished", baseline.get("created")),
            ("commit", str(meta["git_commit"])[:10] if meta.get("git_commit") else None),
            ("spec items", len(before)))],
    }


def change_view(change: dict | None) -> dict | None:
    if not change:
        return None
    label = {kind: heading for kind, heading, _ in CHANGES}[change["kind"]].lower()
    return {"kind": change["kind"], "label": label, "before": fmt.text(change["before"])}
