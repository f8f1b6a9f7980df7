"""The report's matrix: area -> spec rows x (check x dtype family) columns of cell states.

Checks and their order come from harness.contract (CHECKS); a record without `checks` has its
failing checks read off its discrepancies' fields (contract.check_of), the rest "not reported".
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from markupsafe import Markup, escape

from harness.contract import CHECKS, check_of
from harness.report import formatting as fmt
from harness.report import record

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


def matrix(rows: list[dict], specs: list[dict], checks: dict[str, str] = CHECKS
           ) -> dict | None:
    """Area → spec rows × (check × dtype family) columns of pass / fail / xfail cells.

    `checks` (name -> heading) are the columns: a spec's (contract.CHECKS) by default, an
    OpInfo item's (contract.OPINFO_CHECKS) for the corpus's own matrix.

    A spec's variants are grouped by dtype family (FAMILIES), so the width is bounded by
    the checks × the families that occur, however many variant ids a suite has. A cell
    shows the worst state of the family's variants, and its title lists them.
    """
    if not rows:
        return None
    specs_by_key: dict[tuple[str, str], dict] = {}
    for row, view in zip(rows, specs, strict=True):
        key = (view["area"], record.spec_key(row))
        spec = specs_by_key.setdefault(key, {
            "name": record.spec_name(row), "id": key[1], "cells": defaultdict(list),
            "anchor": None, "worst": 9})
        variant = fmt.text(row.get("variant"), empty="")
        family = _family(variant)
        for check, state in _check_states(row, checks).items():
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
        totals = {(check, f[0]): Counter() for check in checks for f in families}
        for spec in area_specs:
            cells, bad = [], False
            for check in checks:
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
                              "title": _spec_title(spec, families, checks), "cells": cells,
                              "bad": bad})
        out_areas.append({
            "name": area,
            "specs": spec_rows,
            "totals": [_aggregate(totals[(check, f[0])], first=f is families[0])
                       for check in checks for f in families],
            "bad": sum(s["bad"] for s in spec_rows),
        })
    return {
        "checks": [{"heading": heading, "span": len(families)} for heading in checks.values()],
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


def _spec_title(spec: dict, families: list[tuple[str, str, str]],
                checks: dict[str, str] = CHECKS) -> str:
    """A matrix row's id, then its variants per column family when the label is not enough."""
    lines = [spec["id"]]
    for family, label, _ in families:
        names = sorted({v for v, _ in spec["cells"].get((next(iter(checks)), family), ())})
        if names and names != [family]:
            lines.append(f"{label}: {', '.join(names)}")
    return "\n".join(lines)


def _check_states(row: dict, columns: dict[str, str] = CHECKS) -> dict[str, str]:
    """State of each check category for one result (see CELL)."""
    outcome = row.get("outcome")
    checks = row.get("checks")
    if outcome == "error":  # the spec could not run: no check has an outcome
        return {check: "error" for check in columns}
    if isinstance(checks, dict):
        states = {}
        for check in columns:
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
    return {check: bad if check in failed else "unknown" for check in columns}


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
