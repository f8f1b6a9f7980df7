"""A failure's discrepancies and inputs as a card shows them: values, stats, differing elements.

The numbers come from each discrepancy's `measure` object (harness.run.compare writes it for
float arrays); the text of `detail` is shown as it is, never parsed back. What the measure
already shows is replaced by the discrepancy's `note` (the finite-difference verdict).
"""

from __future__ import annotations

import json
import math
from typing import Any

from harness.contract import first_line
from harness.report import formatting as fmt
from harness.report import record

#: A card lists this many differing elements (the rest are counted), and a printed value
#: this many characters (the rest are in results.json): hundreds of failing cards must keep
#: the page small enough to open fast.
ELEMENTS_SHOWN = 8


VALUE_CHARS = 1200


def discrepancy_view(d: dict, program_line: int | None, dtype: str | None) -> dict:
    detail = fmt.text(d.get("detail"), empty="")
    measured = d.get("measure") if isinstance(d.get("measure"), dict) else {}
    elements = _elements(measured.get("elements") or [], dtype)
    stats = _stats(measured)
    mismatched = fmt.to_float(measured.get("mismatched"))
    more = int(mismatched) - len(elements) if mismatched is not None else 0
    return {
        "file_line": fmt.file_line(program_line, d.get("statement_line")),
        "statement": first_line(fmt.text(d.get("statement"), empty="")),
        "variable": fmt.text(d.get("variable"), empty=""),
        "field": fmt.text(d.get("field"), empty=""),
        "torch": _clip(fmt.value_text(d.get("torch"))),
        "engine": _clip(fmt.value_text(d.get("engine"))),
        # what the numbers above do not already say (the finite-difference verdict)
        "detail": fmt.text(d.get("note"), empty="") if measured else detail,
        "stats": stats,
        "elements": elements,
        "more_elements": more if more > 0 else bool(measured.get("more")),
    }


def _clip(text: str) -> dict:
    """A printed value, cut at a line end near VALUE_CHARS; ``more`` counts what was cut."""
    if len(text) <= VALUE_CHARS:
        return {"text": text, "more": 0}
    cut = text.rfind("\n", 0, VALUE_CHARS)
    cut = cut if cut > VALUE_CHARS // 2 else VALUE_CHARS
    return {"text": text[:cut], "more": len(text) - cut}


def input_view(name: str, value: Any) -> dict:
    """A tensor input shows dtype and shape; anything else just its value.

    The key is "data", not "values": in Jinja ``i.values`` would find dict.values.
    """
    if isinstance(value, dict) and "values" in value:
        return {
            "name": name,
            "dtype": fmt.text(value.get("dtype"), empty=""),
            "shape": json.dumps(value.get("shape")) if "shape" in value else "",
            "data": fmt.input_values(value["values"], value.get("dtype")),
        }
    return {"name": name, "dtype": "", "shape": "", "data": fmt.value_text(value)}


def _stats(measured: dict) -> list[tuple[str, str]]:
    stats = []
    if measured.get("mismatched") is not None:
        stats.append(("outside tolerance",
                      f"{measured['mismatched']} of {measured.get('numel', '?')} elements"))
    for key, label in (("max_abs", "max abs"), ("max_rel", "max rel"), ("max_ulp", "max ULP"),
                       ("worst_index", "worst at"), ("rtol", "rtol"), ("atol", "atol")):
        if measured.get(key) is not None:
            value = measured[key]
            stats.append((label, fmt.index_text(value) if key == "worst_index" else fmt.num(value)))
    return stats


def _elements(elements: list, dtype: str | None) -> list[dict]:
    out = []
    for e in elements[:ELEMENTS_SHOWN]:
        if not isinstance(e, dict):
            continue
        t, g = fmt.to_float(e.get("torch")), fmt.to_float(e.get("engine"))
        abs_err = rel_err = ulp = None
        if t is not None and g is not None:
            abs_err = abs(g - t) if math.isfinite(g - t) else math.inf
            rel_err = abs_err / abs(t) if t else (0.0 if abs_err == 0 else math.inf)
            ulp = _ulp(t, g, dtype)
        out.append({
            "index": fmt.index_text(e.get("index")),
            "torch": _element_value(e.get("torch"), t, dtype),
            "engine": _element_value(e.get("engine"), g, dtype),
            "abs": fmt.num(abs_err), "rel": fmt.num(rel_err), "ulp": fmt.num(ulp),
        })
    return out


def _element_value(raw: Any, value: float | None, dtype: str | None) -> str:
    """An element as the shortest text that gives back the same value in its dtype: the
    harness hands float32 elements over as float64 (``0.10000000149011612`` is ``0.1``)."""
    if value is not None and dtype in ("float16", "float32") and math.isfinite(value):
        import numpy as np

        return str(getattr(np, dtype)(value))
    return fmt.text(raw, empty="")


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


def dtype_hint(d: dict, row: dict) -> str | None:
    """The dtype of a discrepancy's values: its measure's, else the margin measured for that
    variable (records written before measures named a dtype), else the variant."""
    measure = d.get("measure")
    if isinstance(measure, dict) and measure.get("dtype"):
        return str(measure["dtype"])
    field = "grad" if d.get("field") == "grad" else "values"
    for m in record.margin_list(row):
        if m.get("variable") == d.get("variable") and m.get("field") == field:
            return m.get("dtype")
    variant = str(row.get("variant") or "")
    return variant if variant in ("float32", "float64") else None
