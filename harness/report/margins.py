"""The report's margins: per op, the worst ratio of error to tolerance, as an SVG bar chart."""

from __future__ import annotations

import math

from harness.report import formatting as fmt
from harness.report import record

#: Margin chart: log10 of the ratio scale shown, and geometry in SVG user units. The label
#: column is as wide as the longest op label (at least "label"); labels longer than
#: MARGIN_LABEL_CHARS are cut with an ellipsis (the full op is in the bar's tooltip).
MARGIN_LOG_RANGE = (-8, 2)


MARGIN_GEOMETRY = {"label": 120, "plot": 470, "value": 80, "row": 20, "top": 24}


MARGIN_LABEL_CHARS = 48


#: Advance of one character of the chart's 12px monospace font (0.6 em), plus a margin.
MARGIN_CHAR_W = 7.3


def margin_row(m: dict) -> dict:
    return {"variable": fmt.text(m.get("variable"), empty=""), "field": fmt.text(m.get("field")),
            "op": _margin_op(m), "dtype": fmt.text(m.get("dtype"), empty=""),
            "max_abs": fmt.num(m.get("max_abs")), "max_rel": fmt.num(m.get("max_rel")),
            "max_ulp": fmt.num(m.get("max_ulp")), "ratio": fmt.num(m.get("ratio")),
            "zone": _zone(fmt.to_float(m.get("ratio")))}


def margins(rows: list[dict], specs: list[dict]) -> dict | None:
    """Per op, the worst ratio of error to tolerance over every spec, as an SVG bar chart."""
    worst: dict[str, dict] = {}
    for row, view in zip(rows, specs, strict=True):
        if row.get("outcome") == "xfailed":  # a declared divergence: over tolerance by intent
            continue
        for m in record.margin_list(row):
            ratio = fmt.to_float(m.get("ratio"))
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
            "zone": _zone(ratio), "ratio": fmt.num(ratio), "field": fmt.text(m.get("field")),
            "dtype": fmt.text(m.get("dtype"), empty=""), "variable": fmt.text(m.get("variable")),
            "spec": view["id"], "anchor": view["anchor"] if view["has_details"] else None,
            "max_abs": fmt.num(m.get("max_abs")), "max_rel": fmt.num(m.get("max_rel")),
            "max_ulp": fmt.num(m.get("max_ulp")), "count": entry["count"],
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
