"""Text of numbers, values and places as the report shows them; tolerant of any input type.

Records may come from an older or another producer: every helper takes what it is given (None,
text, numbers, nested lists) and returns text, never raising.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_NP_SCALAR = re.compile(r"np\.\w+\(([^()]*)\)")


def file_line(program_line: int | None, statement_line: int | None) -> int | None:
    """The spec-file line of a program line; None when either end is unknown."""
    if program_line is None or statement_line is None:
        return None
    return program_line + statement_line - 1


def location(file: str | None, line: int | None) -> str:
    if not file:
        return ""
    return f"{file}:{line}" if line is not None else str(file)


def duration(seconds: float | None) -> str:
    return "—" if not isinstance(seconds, int | float) else f"{seconds:.2f} s"


def seconds(seconds: Any) -> str | None:
    if not isinstance(seconds, int | float):
        return None
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def sort_number(value: Any) -> str:
    """A sort key for a numeric column (empty sorts as -1)."""
    return repr(value) if isinstance(value, int | float) and not isinstance(value, bool) else "-1"


def to_float(value: Any) -> float | None:
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


def num(value: Any) -> str:
    """Numbers compactly (3 significant digits); text as given; None as a dash."""
    if value is None:
        return "—"
    number = to_float(value)
    if number is None:
        return str(value)
    if math.isnan(number) or math.isinf(number):
        return str(number)
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.3g}"


def index_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return text(value, empty="")


def text(value: Any, empty: str = "—") -> str:
    return empty if value is None else str(value)


def value_text(value: Any) -> str:
    """Observed values are normally repr strings already; show anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def input_values(values: Any, dtype: Any = None) -> str:
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
