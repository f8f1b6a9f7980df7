"""Compare two traces field by field and say what differs, where, and by how much.

Tolerances are PyTorch's `assert_close` defaults per dtype; NaN equals NaN; integers, booleans,
names, flags and messages compare exactly. Printed text compares exactly except for float numbers,
which may differ by one unit in their last printed digit: two values that agree within tolerance
can still round to different printed digits when they straddle a rounding boundary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from harness.trace import ArrayState, Opaque, Step, TensorState, Trace

# (rtol, atol) from torch.testing.assert_close
TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}
PYTHON_FLOAT_TOLERANCE = TOLERANCES["float32"]  # .item() of a float32 tensor is a Python float


@dataclass(frozen=True)
class Discrepancy:
    statement_line: int
    statement: str
    variable: str | None
    field: str  # values, shape, dtype, requires_grad, is_leaf, grad_fn, retains_grad, grad,
    #             grad_warnings, value, stdout, warnings, exception, variables, steps
    torch: str
    engine: str
    detail: str = ""

    def describe(self) -> str:
        where = f"{self.variable}.{self.field}" if self.variable else self.field
        text = (f"line {self.statement_line} `{self.statement}`: {where} differs\n"
                f"    torch : {_indent(self.torch)}\n    engine: {_indent(self.engine)}")
        return text + (f"\n    {self.detail}" if self.detail else "")


def _indent(text: str) -> str:
    return text.replace("\n", "\n            ")


def compare(expected: Trace, actual: Trace) -> list[Discrepancy]:
    """Discrepancies of the first statement where the traces differ (later ones usually follow)."""
    for t_step, e_step in zip(expected.steps, actual.steps, strict=False):
        found = compare_steps(t_step, e_step)
        if found:
            return found
    if len(expected.steps) != len(actual.steps):
        last = (expected.steps or actual.steps)[min(len(expected.steps), len(actual.steps)) - 1]
        return [Discrepancy(last.line, last.source, None, "steps",
                            f"{len(expected.steps)} statements ran",
                            f"{len(actual.steps)} statements ran")]
    return []


def compare_steps(t: Step, e: Step) -> list[Discrepancy]:
    out: list[Discrepancy] = []

    def add(variable, field, tv, ev, detail=""):
        out.append(Discrepancy(t.line, t.source, variable, field, tv, ev, detail))

    if t.exception != e.exception:
        add(None, "exception", _exc(t.exception), _exc(e.exception))
    if t.warnings != e.warnings:
        add(None, "warnings", _warnings(t.warnings), _warnings(e.warnings))
    detail = compare_printed(t.stdout, e.stdout)
    if detail:
        add(None, "stdout", t.stdout, e.stdout, detail)
    if list(t.state) != list(e.state):
        add(None, "variables", ", ".join(t.state), ", ".join(e.state))
    for name in t.state.keys() & e.state.keys():
        for field, tv, ev, detail in compare_values(t.state[name], e.state[name]):
            add(name, field, tv, ev, detail)
    return out


def compare_values(t, e):
    """Yield (field, torch text, engine text, detail) for every difference of one variable."""
    if isinstance(t, TensorState) and isinstance(e, TensorState):
        yield from _compare_arrays("values", t.data, e.data)
        for flag in ("requires_grad", "is_leaf", "grad_fn", "retains_grad"):
            if getattr(t, flag) != getattr(e, flag):
                yield flag, repr(getattr(t, flag)), repr(getattr(e, flag)), ""
        if (t.grad is None) != (e.grad is None):
            yield "grad", _show(t.grad), _show(e.grad), "one side is None"
        elif t.grad is not None:
            yield from _compare_arrays("grad", t.grad, e.grad)
        if t.grad_warnings != e.grad_warnings:
            yield "grad_warnings", "\n".join(t.grad_warnings) or "(none)", \
                "\n".join(e.grad_warnings) or "(none)", ""
    elif isinstance(t, tuple) and isinstance(e, tuple) and len(t) == len(e):
        for i, (ti, ei) in enumerate(zip(t, e, strict=True)):
            for field, tv, ev, detail in compare_values(ti, ei):
                yield f"[{i}].{field}", tv, ev, detail
    elif isinstance(t, float) and isinstance(e, float) and type(t) is type(e):
        rtol, atol = PYTHON_FLOAT_TOLERANCE
        if not np.isclose(e, t, rtol=rtol, atol=atol, equal_nan=True):
            yield "value", repr(t), repr(e), f"abs diff {abs(t - e):.3g}"
    elif type(t) is not type(e) or t != e:
        yield "value", _show(t), _show(e), ""


def _compare_arrays(field: str, t: ArrayState, e: ArrayState):
    if t.dtype != e.dtype:
        yield f"{field}.dtype", t.dtype, e.dtype, ""
    if t.shape != e.shape:
        yield f"{field}.shape", str(t.shape), str(e.shape), ""
        return
    detail = array_difference(t.values, e.values, t.dtype)
    if detail:
        yield field, _show(t), _show(e), detail


def array_difference(expected: np.ndarray, actual: np.ndarray, dtype: str) -> str:
    """Empty if close (per dtype), else where and by how much the arrays differ."""
    if dtype not in TOLERANCES:
        bad = expected != actual
        if not bad.any():
            return ""
        return f"{int(bad.sum())} of {bad.size} elements differ; first at {_index(bad)}"
    rtol, atol = TOLERANCES[dtype]
    t64, e64 = expected.astype(np.float64), actual.astype(np.float64)
    close = np.isclose(e64, t64, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return ""
    bad = ~close
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_err = np.abs(e64 - t64)
        rel_err = abs_err / np.abs(t64)
    rank = np.where(bad, np.nan_to_num(abs_err, nan=np.inf), -1.0)  # NaN vs number is worst
    worst = np.unravel_index(np.argmax(rank), bad.shape)
    return (f"{int(bad.sum())} of {bad.size} elements outside rtol={rtol:g}, atol={atol:g}; "
            f"worst at {tuple(int(i) for i in worst)}: max abs {abs_err[worst]:.3g}, "
            f"rel {rel_err[worst]:.3g}")


def _index(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0]) if mask.ndim else ()


_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def compare_printed(expected: str, actual: str) -> str:
    """Empty if the texts match under the printed-number rule, else what differs."""
    if expected == actual:
        return ""
    t_parts, e_parts = _NUMBER.split(expected), _NUMBER.split(actual)
    t_nums, e_nums = _NUMBER.findall(expected), _NUMBER.findall(actual)
    if t_parts != e_parts or len(t_nums) != len(e_nums):
        return "printed text differs"
    for tn, en in zip(t_nums, e_nums, strict=True):
        if tn != en and not _one_unit_apart(tn, en):
            return f"printed number {en} differs from {tn}"
    return ""


def _one_unit_apart(a: str, b: str) -> bool:
    """Two float literals printed with the same format, one unit of the last digit apart."""
    unit = _last_digit_unit(a)
    if unit is None or unit != _last_digit_unit(b):
        return False
    return abs(float(a) - float(b)) <= unit * (1 + 1e-9)


def _last_digit_unit(literal: str) -> float | None:
    mantissa, _, exponent = literal.lower().partition("e")
    if "." not in mantissa:
        return None  # integers print exactly
    decimals = len(mantissa.split(".")[1])
    if decimals == 0:
        return None  # "27." is an integral float: printed exactly
    return 10.0 ** (int(exponent or 0) - decimals)


def _show(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, ArrayState):
        body = np.array2string(value.values, precision=8, threshold=200, separator=", ")
        return f"{body} ({value.dtype})"
    if isinstance(value, Opaque):
        return f"<{value.kind} {value.text}>"
    if isinstance(value, TensorState):
        return _show(value.data)
    return repr(value)


def _exc(record) -> str:
    return "(no exception)" if record is None else f"{record.type}: {record.message}"


def _warnings(records) -> str:
    if not records:
        return "(no warnings)"
    return "\n".join(
        f"{w.category}: {w.message}" + (f" [line {w.line}]" if w.line else "") for w in records
    )
