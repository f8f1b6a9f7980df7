"""The OpInfo corpus in a report: the coverage headline, samples conforming per op and per check,
the entries the engine does not offer, and the failures grouped by kind.

Read from plain results data only: `metadata.opinfo` (the coverage a run's workers measured) and
the records that carry an `opinfo` object (docs/results.md).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from harness.contract import OPINFO_CHECKS


def records_of(data: dict) -> list[dict]:
    return [r for r in data.get("results") or [] if isinstance(r.get("opinfo"), dict)]


def summary(data: dict) -> dict | None:
    """Everything the report's OpInfo section shows; None when the run had no OpInfo item."""
    meta = (data.get("metadata") or {}).get("opinfo")
    rows = records_of(data)
    if not rows and not isinstance(meta, dict):
        return None
    ops: dict[str, dict] = {}
    checks = {c: [0, 0] for c in OPINFO_CHECKS}
    kinds: Counter = Counter()
    kind_items: dict[str, set[str]] = defaultdict(set)
    levels: Counter = Counter()
    for r in sorted(rows, key=lambda r: r["id"]):
        info = r["opinfo"]
        op = ops.setdefault(info["key"], {"key": info["key"], "run": 0, "conforming": 0,
                                          "items": [], "differentiable": info["differentiable"]})
        op["run"] += info["samples_run"]
        op["conforming"] += info["samples_conforming"]
        if info["samples_run"]:  # an entry's error inputs may all be for other devices
            op["items"].append({"dtype": info["dtype"], "outcome": r["outcome"],
                                "run": info["samples_run"],
                                "conforming": info["samples_conforming"]})
        for check, counts in info["counts"].items():
            if check in checks:
                checks[check][0] += counts["conforming"]
                checks[check][1] += counts["run"]
        for kind, n in info["kinds"].items():
            kinds[kind] += n
            kind_items[kind].add(r["name"])
        levels.update(info.get("message_levels") or {})
    not_offered = [o for o in (meta or {}).get("ops", []) if not o["offered"]]
    return {
        "meta": meta,
        "samples_run": sum(o["run"] for o in ops.values()),
        "samples_conforming": sum(o["conforming"] for o in ops.values()),
        "ops": sorted(ops.values(), key=lambda o: (o["conforming"] - o["run"], o["key"])),
        "checks": [{"check": c, "conforming": n[0], "run": n[1]} for c, n in checks.items()
                   if n[1]],
        "kinds": [{"kind": k, "samples": n, "items": len(kind_items[k])}
                  for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))],
        "message_levels": dict(levels),
        "not_offered": not_offered,
    }


def headline(view: dict) -> str:
    meta = view["meta"] or {}
    offered = (f"{meta['differentiable_offered']} of {meta['differentiable']} differentiable "
               f"OpInfo ops offered ({meta['offered']} of {meta['entries']} entries, torch "
               f"{meta['torch']}); " if meta else "")
    return (f"{offered}samples conforming: {view['samples_conforming']} of "
            f"{view['samples_run']}")


def coverage_text(data: dict) -> str:
    """`parity opinfo-coverage`: the headline, per op samples conforming / run, the entries not
    offered (differentiable ones marked)."""
    view = summary(data)
    if view is None:
        return "no OpInfo items in these results\n"
    lines = [headline(view), "", "samples conforming / run per op (worst first):"]
    for op in view["ops"]:
        per = ", ".join(f"{i['dtype']} {i['conforming']}/{i['run']}" for i in op["items"])
        lines.append(f"  {op['key']:40} {op['conforming']:6}/{op['run']:<6} {per}")
    lines += ["", "samples conforming / run per check:"]
    lines += [f"  {c['check']:20} {c['conforming']}/{c['run']}" for c in view["checks"]]
    if view["not_offered"]:
        lines += ["", f"{len(view['not_offered'])} entries not offered by the engine "
                      "(* differentiable):"]
        lines += [f"  {'*' if o['differentiable'] else ' '} {o['key']}"
                  + (f"  (lacks {', '.join(o['missing'][:3])})" if o["missing"] else "")
                  for o in view["not_offered"]]
    return "\n".join(lines) + "\n"


def failures_markdown(data: dict, examples: int = 3) -> str:
    """The OpInfo failures grouped by kind, most frequent first, with examples: a list to work
    through (`parity opinfo-failures`)."""
    view = summary(data)
    if view is None:
        return "# OpInfo failures\n\nNo OpInfo items in these results.\n"
    rows = [r for r in records_of(data) if r.get("failure")]
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        for kind in r["opinfo"]["kinds"]:
            by_kind[kind].append(r)
    meta = (data.get("metadata") or {})
    lines = ["# OpInfo failures", "",
             f"Run of {data.get('created', '?')} (engine `{meta.get('engine', '?')}`, git "
             f"{str(meta.get('git_commit') or '?')[:10]}): {headline(view)}.", "",
             "Samples conforming / run per check: "
             + ", ".join(f"{c['check']} {c['conforming']}/{c['run']}" for c in view["checks"])
             + ".", "",
             "Kinds are `check: what differed`, counted in failing samples (a sample counts once "
             "per kind). Items are node ids under `specs/opinfo.yaml::`.", ""]
    for entry in view["kinds"]:
        kind = entry["kind"]
        items = sorted(by_kind[kind], key=lambda r: r["id"])
        lines.append(f"## {kind}: {entry['samples']} samples in {entry['items']} items")
        lines.append("")
        lines.append("Items: " + ", ".join(f"`{r['name']}`" for r in items[:40])
                     + (f" and {len(items) - 40} more" if len(items) > 40 else ""))
        lines.append("")
        shown = 0
        for r in items:
            example = _example(r, kind)
            if example is None:
                continue
            lines += [f"- `{r['name']}` {example}"]
            shown += 1
            if shown >= examples:
                break
        lines.append("")
    return "\n".join(lines)


def _example(record: dict, kind: str) -> str | None:
    check, _, what = kind.partition(": ")
    for d in (record.get("failure") or {}).get("discrepancies") or []:
        if d["field"] == check and (d.get("note") or "").startswith(what):
            text = f"{d['statement']} — {d['variable']}: torch {_short(d['torch'])}, " \
                   f"engine {_short(d['engine'])}"
            return text + (f"; {_short(d['detail'], 160)}" if d.get("detail") else "")
    return None


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return f"`{text if len(text) <= limit else text[:limit - 1] + '…'}`"
