"""Compare two traces field by field and say what differs, where, and by how much.

Tolerances are PyTorch's `assert_close` defaults per dtype; NaN equals NaN; integers, booleans,
names, flags and messages compare exactly. Printed text compares exactly except for float numbers,
which may differ by one unit in their last printed digit: two values that agree within tolerance
can still round to different printed digits when they straddle a rounding boundary.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from harness.contract import ONE_SIDE_NONE, first_line, observed
from harness.run import attribution
from harness.run.trace import ArrayState, MappingState, Opaque, Step, TensorState, Trace
from harness.spec.program import Program

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
    measure: dict | None = None  # for float arrays: the numbers behind `detail` (results.md)
    note: str = ""  # what is known beyond the comparison: the finite-difference verdict

    @property
    def full_detail(self) -> str:
        """The detail with the note, as the terminal and results.json's `detail` show it."""
        return "; ".join(part for part in (self.detail, self.note) if part)

    def describe(self) -> str:
        where = observed(self.variable, self.field)
        text = (f"line {self.statement_line} `{first_line(self.statement)}`: {where} differs\n"
                f"    torch : {_indent(self.torch)}\n    engine: {_indent(self.engine)}")
        return text + (f"\n    {self.full_detail}" if self.full_detail else "")


def _indent(text: str) -> str:
    return text.replace("\n", "\n            ")


class Comparator:
    """Compares traces under one tolerance policy and keeps the margins it measured.

    `margins` holds, per (variable, field, op), the worst error seen over every comparison made
    by this comparator (so over all examples of a spec), also when the check passed. The op is
    the one that produced the compared number (harness.run.attribution): with the program given,
    read from its statements and from the expected trace's `grad_ops`.
    """

    def __init__(self, tolerances: dict[str, tuple[float, float]] | None = None,
                 program: Program | None = None):
        self.tolerances = {**TOLERANCES, **(tolerances or {})}
        self.margins: dict[tuple[str, str, str], Margin] = {}
        self.worst_ratio = 0.0  # of the last compare() call: what Hypothesis's target() chases
        self._measures: dict[tuple[str, str], dict] = {}  # of failing arrays, for discrepancies
        self._statement_ops: dict[int, dict] = {}  # statement line -> {variable: op}
        if program is not None and program.tree is not None:  # once per comparator (item)
            ops = attribution.program_ops(program.tree, program.inputs)
            self._statement_ops = {s.line: o for s, o in zip(program.statements, ops, strict=True)}
        self._value_ops: dict[str, str | None] = {}  # variable -> op, as of the current step
        self._autograd_ops: dict[str, str] = {}  # of the expected trace's current step
        #: each step's autograd_ops from the last attributed trace: recording backward passes
        #: costs a tenth of a run, so only an item's first examples record them (runner.py)
        #: and later ones reuse these (the same program makes the same graph, but for
        #: data-dependent branches, where a margin's op name may then be stale)
        self._attributed: list[dict[str, str]] = []
        #: (variable, field) -> the arrays and op compared last, in this compare() call: a trace
        #: stores an unchanged value as the same object (harness.run.trace.Observer), and a pair
        #: compared without a difference is not compared again
        self._compared: dict[tuple[str, str], tuple[ArrayState, ArrayState, str]] = {}
        #: variable -> the TensorStates and ops compared last without a difference, in this
        #: compare() call: the same pair under the same ops is not compared field by field again
        self._same: dict[str, tuple[TensorState, TensorState, str, str | None]] = {}

    def compare(self, expected: Trace, actual: Trace) -> list[Discrepancy]:
        """Discrepancies of the first statement where the traces differ."""
        self.worst_ratio = 0.0
        self._value_ops = {}
        self._compared = {}
        self._same = {}
        if expected.attributed:
            self._attributed = [step.autograd_ops for step in expected.steps]
        for index, (t_step, e_step) in enumerate(zip(expected.steps, actual.steps,
                                                     strict=False)):
            if t_step.line == 0:  # the inputs
                self._value_ops = dict.fromkeys(t_step.state, attribution.INPUT)
            else:
                attribution.update(self._value_ops, self._statement_ops.get(t_step.line, {}))
            self._autograd_ops = self._attributed[index] if index < len(self._attributed) \
                else {}
            found = self.compare_steps(t_step, e_step)
            if found:
                return found
        if len(expected.steps) != len(actual.steps):
            last = (expected.steps or actual.steps)[min(len(expected.steps),
                                                         len(actual.steps)) - 1]
            return [Discrepancy(last.line, last.source, None, "steps",
                                f"{len(expected.steps)} statements ran",
                                f"{len(actual.steps)} statements ran")]
        return []

    def compare_steps(self, t: Step, e: Step) -> list[Discrepancy]:
        out: list[Discrepancy] = []

        def add(variable, field, tv, ev, detail=""):
            measure = self._measures.pop((variable, field), None)
            out.append(Discrepancy(t.line, t.source, variable, field, tv, ev, detail, measure))

        if t.exception != e.exception:
            add(None, "exception", exception_text(t.exception), exception_text(e.exception))
        if t.warnings != e.warnings:
            add(None, "warnings", _warnings(t.warnings), _warnings(e.warnings))
        detail = compare_printed(t.stdout, e.stdout)
        if detail:
            add(None, "stdout", t.stdout, e.stdout, detail)
        if list(t.state) != list(e.state):
            add(None, "variables", ", ".join(t.state), ", ".join(e.state))
        for name in [n for n in t.state if n in e.state]:  # program order, not a set's
            tv, ev = t.state[name], e.state[name]
            if type(tv) is TensorState and type(ev) is TensorState:
                value_op = self.value_op(name, tv.grad_fn)
                grad_op = None if tv.grad is None else self.grad_op(name)
                last = self._same.get(name)
                if last is not None and last[0] is tv and last[1] is ev \
                        and last[2] == value_op and last[3] == grad_op:
                    continue
                found = len(out)
                for field, tf, ef, detail in self._compare_tensors(name, tv, ev, value_op,
                                                                   grad_op):
                    add(name, field, tf, ef, detail)
                if len(out) == found:
                    self._same[name] = (tv, ev, value_op, grad_op)
                continue
            for field, tf, ef, detail in self.compare_values(name, tv, ev):
                add(name, field, tf, ef, detail)
        return out

    def compare_values(self, name: str, t, e):
        """Yield (field, torch text, engine text, detail) for every difference of one variable."""
        if isinstance(t, TensorState) and isinstance(e, TensorState):
            yield from self._compare_tensors(
                name, t, e, self.value_op(name, t.grad_fn),
                None if t.grad is None else self.grad_op(name))
        elif isinstance(t, tuple) and isinstance(e, tuple) and len(t) == len(e):
            for i, (ti, ei) in enumerate(zip(t, e, strict=True)):
                for field, tv, ev, detail in self.compare_values(f"{name}[{i}]", ti, ei):
                    yield self._inside(name, f"{name}[{i}]", f"[{i}]", field), tv, ev, detail
        elif isinstance(t, MappingState) and isinstance(e, MappingState):
            keys = [show(k) for k, _ in t.items]
            if keys != [show(k) for k, _ in e.items]:
                yield "keys", ", ".join(keys), ", ".join(show(k) for k, _ in e.items), ""
                return
            for key, (_, ti), (_, ei) in zip(keys, t.items, e.items, strict=True):
                for field, tv, ev, detail in self.compare_values(f"{name}[{key}]", ti, ei):
                    yield self._inside(name, f"{name}[{key}]", f"[{key}]", field), tv, ev, detail
        elif isinstance(t, float) and isinstance(e, float):
            rtol, atol = PYTHON_FLOAT_TOLERANCE
            if not np.isclose(e, t, rtol=rtol, atol=atol, equal_nan=True):
                yield "value", repr(t), repr(e), f"abs diff {abs(t - e):.3g}"
        elif type(t) is not type(e) or t != e:
            yield "value", show(t), show(e), ""

    def _compare_tensors(self, name: str, t: TensorState, e: TensorState, value_op: str,
                         grad_op: str | None):
        """compare_values of two tensors, the ops of their values and grad given."""
        yield from self._compare_arrays(name, "values", t.data, e.data, value_op)
        for flag in ("requires_grad", "is_leaf", "grad_fn", "retains_grad"):
            if getattr(t, flag) != getattr(e, flag):
                yield flag, repr(getattr(t, flag)), repr(getattr(e, flag)), ""
        if (t.grad is None) != (e.grad is None):
            yield "grad", show(t.grad), show(e.grad), ONE_SIDE_NONE
        elif t.grad is not None:
            yield from self._compare_arrays(name, "grad", t.grad, e.grad, grad_op)
        if t.grad_warnings != e.grad_warnings:
            yield "grad_warnings", "\n".join(t.grad_warnings) or "(none)", \
                "\n".join(e.grad_warnings) or "(none)", ""

    def _inside(self, name: str, element: str, index: str, field: str) -> str:
        """The field of a container element as seen from the container (`[0].grad` of `ws`).

        A float mismatch's measure was kept under the element's own key (`ws[0]`, `grad`); move
        it to the container's, where `compare_steps` looks for it."""
        outer = f"{index}.{field}"
        measure = self._measures.pop((element, field), None)
        if measure is not None:
            self._measures[(name, outer)] = measure
        return outer

    def _compare_arrays(self, name, field, t: ArrayState, e: ArrayState, op):
        key = (name, field)
        last = self._compared.get(key)
        if last is not None and last[0] is t and last[1] is e and last[2] == op:
            return  # these very arrays, compared at an earlier step without a difference
        if t.dtype != e.dtype:
            yield f"{field}.dtype", t.dtype, e.dtype, ""
        if t.shape != e.shape:
            yield f"{field}.shape", str(t.shape), str(e.shape), ""
            return
        if t.dtype not in self.tolerances:  # integers and bools: exact
            bad = t.values != e.values
            if bad.any():
                yield field, show(t), show(e), \
                    f"{int(bad.sum())} of {bad.size} elements differ; first at {_index(bad)}"
                return
        else:
            rtol, atol = self.tolerances[t.dtype]
            m = measure(t.values, e.values, rtol, atol) or IDENTICAL
            self._record(name, field, op, t.dtype, m)
            if m.bad is not None:
                self._measures[key] = m.as_dict(t.values, e.values, rtol, atol)
                yield field, show(t), show(e), m.describe(t.values, e.values, rtol, atol)
                return
        if t.dtype == e.dtype:
            self._compared[key] = (t, e, op)

    def value_op(self, name: str, grad_fn: str | None) -> str:
        """The op that produced a tensor's values: its grad_fn class, else the program's
        (for a torch.autograd.grad result, the backward ops that computed it)."""
        if grad_fn and not grad_fn.startswith("raises "):  # not the text of an error
            return grad_fn
        op = attribution.lookup(self._value_ops, name)
        if op == attribution.AUTOGRAD_GRAD:
            op = attribution.lookup(self._autograd_ops, name) or op
        return op or attribution.UNATTRIBUTED

    def grad_op(self, name: str) -> str:
        """The backward op(s) that produced a `.grad`, else what the program assigned to it."""
        return (attribution.lookup(self._autograd_ops, name, ".grad")
                or attribution.lookup(self._value_ops, name, ".grad")
                or attribution.UNATTRIBUTED)

    def _record(self, name, field, op, dtype, m: Measurement) -> None:
        self.worst_ratio = max(self.worst_ratio, m.ratio)
        key = (name, field, op)
        margin = self.margins.get(key)
        if margin is None:
            self.margins[key] = Margin(name, field, op, dtype, m.max_abs, m.max_rel, m.max_ulp,
                                       m.ratio)
        else:
            margin.update(m)


def compare(expected: Trace, actual: Trace) -> list[Discrepancy]:
    """Compare two traces under PyTorch's default tolerances."""
    return Comparator().compare(expected, actual)


def compare_values(t, e):
    return Comparator().compare_values("value", t, e)


@dataclass
class Margin:
    """How close one compared float field ran to its tolerance (worst over examples)."""

    variable: str
    field: str
    op: str | None  # the op that produced the compared number (harness.run.attribution)
    dtype: str
    max_abs: float
    max_rel: float
    max_ulp: float
    ratio: float  # max of abs_err / (atol + rtol * |expected|): <= 1 passes

    def update(self, m: Measurement) -> None:
        self.max_abs = max(self.max_abs, m.max_abs)
        self.max_rel = max(self.max_rel, m.max_rel)
        self.max_ulp = max(self.max_ulp, m.max_ulp)
        self.ratio = max(self.ratio, m.ratio)

    def as_dict(self) -> dict:
        return {"variable": self.variable, "field": self.field, "op": self.op,
                "dtype": self.dtype, "max_abs": _finite(self.max_abs),
                "max_rel": _finite(self.max_rel), "max_ulp": _finite(self.max_ulp),
                "ratio": _finite(self.ratio)}


def _finite(x: float) -> float | str:
    """JSON has no inf/nan: write them as strings."""
    return float(x) if np.isfinite(x) else str(x)


@dataclass
class Measurement:
    max_abs: float
    max_rel: float
    max_ulp: float
    ratio: float
    bad: np.ndarray | None  # mask of elements outside tolerance, None if all close

    def as_dict(self, expected, actual, rtol, atol, limit: int = 20) -> dict:
        """The numbers a report shows: summary errors and the first differing elements."""
        t64, e64 = expected.astype(np.float64), actual.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            err = _nan_to_inf(np.abs(e64 - t64))
        worst = np.unravel_index(np.argmax(np.where(self.bad, err, -1.0)), self.bad.shape)
        return {
            "dtype": str(expected.dtype),
            "mismatched": int(self.bad.sum()), "numel": int(self.bad.size), "rtol": rtol,
            "atol": atol, "max_abs": _finite(self.max_abs), "max_rel": _finite(self.max_rel),
            "max_ulp": _finite(self.max_ulp), "worst_index": [int(i) for i in worst],
            "elements": [{"index": [int(i) for i in idx], "torch": _finite(float(t64[tuple(idx)])),
                          "engine": _finite(float(e64[tuple(idx)]))}
                         for idx in np.argwhere(self.bad)[:limit]],
        }

    def describe(self, expected, actual, rtol, atol) -> str:
        bad = self.bad
        t64, e64 = expected.astype(np.float64), actual.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            err = _nan_to_inf(np.abs(e64 - t64))
        worst = np.unravel_index(np.argmax(np.where(bad, err, -1.0)), bad.shape)
        where = [tuple(int(i) for i in idx) for idx in np.argwhere(bad)[:5]]
        listed = ", ".join(
            f"{w}: {float(t64[w])!r} vs {float(e64[w])!r}" for w in where) if bad.ndim else \
            f"{t64.item()!r} vs {e64.item()!r}"
        more = " ..." if int(bad.sum()) > 5 else ""
        return (f"{int(bad.sum())} of {bad.size} elements outside rtol={rtol:g}, atol={atol:g}; "
                f"worst at {tuple(int(i) for i in worst)}; max abs {self.max_abs:.3g}, "
                f"max rel {self.max_rel:.3g}, max ULP {self.max_ulp:.0f}; "
                f"differing (torch vs engine): {listed}{more}")


IDENTICAL = Measurement(0.0, 0.0, 0.0, 0.0, None)
_INT_VIEW = {2: np.int16, 4: np.int32, 8: np.int64}


def measure(expected: np.ndarray, actual: np.ndarray, rtol: float, atol: float
            ) -> Measurement | None:
    """Errors of actual against expected; None when the arrays are bitwise identical."""
    if expected.tobytes() == actual.tobytes():
        return None
    t64, e64 = expected.astype(np.float64), actual.astype(np.float64)
    with np.errstate(all="ignore"):
        err = np.abs(e64 - t64)
        max_abs = float(err.max(initial=0.0))
        if math.isfinite(max_abs) and atol > 0:
            return _measure_finite(expected, actual, t64, err, max_abs, rtol, atol)
    return _measure_general(expected, actual, t64, e64, rtol, atol)


def _measure_general(expected, actual, t64, e64, rtol, atol) -> Measurement:
    """`measure` for any pair: NaN, infinities, a tolerance without an absolute part."""
    both_nan = np.isnan(t64) & np.isnan(e64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        err = np.where(both_nan | (t64 == e64), 0.0, np.abs(e64 - t64))
        err = _nan_to_inf(err)
        rel = np.where(err == 0, 0.0, err / np.abs(t64))
        allowed = atol + rtol * np.abs(t64)
        ratio = _nan_to_inf(np.where(err == 0, 0.0, err / allowed))  # inf/inf
        rel = _nan_to_inf(rel)
    bad = ratio > 1
    return Measurement(float(err.max(initial=0.0)), float(rel.max(initial=0.0)),
                       ulp_distance(expected, actual), float(ratio.max(initial=0.0)),
                       bad if bad.any() else None)


def _measure_finite(expected, actual, t64, err, max_abs, rtol, atol) -> Measurement:
    """`measure` when every difference is finite (no NaN, no infinity on either side) and the
    tolerance has an absolute part: the same numbers with a third of the array operations (an
    item measures its float results on every example, most of them a few ULPs apart).
    Called under np.errstate(all="ignore")."""
    magnitude = np.abs(t64)
    # where err is 0 the quotient is 0 or (for 0/0) NaN, which fmax skips: measure's 0 there
    max_rel = float(np.fmax.reduce(err / magnitude, axis=None, initial=0.0))
    ratio = err / (atol + rtol * magnitude)  # positive denominator: 0 where err is 0
    max_ratio = float(ratio.max(initial=0.0))
    max_ulp = float(np.abs(_ordered(expected) - _ordered(actual.astype(expected.dtype, copy=False))
                           ).max(initial=0.0))
    return Measurement(max_abs, max_rel, max_ulp, max_ratio,
                       ratio > 1 if max_ratio > 1 else None)


def _nan_to_inf(x: np.ndarray) -> np.ndarray:
    """NaN means "not comparable": the worst possible error (np.nan_to_num would clip infs)."""
    return np.where(np.isnan(x), np.inf, x)


def ulp_distance(expected: np.ndarray, actual: np.ndarray) -> float:
    """Largest number of representable floats between paired elements.

    NaN against NaN is 0, NaN against a number is infinite; -0.0 and 0.0 are 0 apart.
    """
    if expected.size == 0:
        return 0.0
    a, b = _ordered(expected), _ordered(actual.astype(expected.dtype))
    distance = np.abs(a - b)
    nan_a, nan_b = np.isnan(expected), np.isnan(actual)
    distance = np.where(nan_a & nan_b, 0.0, np.where(nan_a | nan_b, np.inf, distance))
    return float(distance.max())


def _ordered(values: np.ndarray) -> np.ndarray:
    """Float bit patterns as numbers monotonic in the float value (as float64, no overflow)."""
    width = values.dtype.itemsize
    bits = values.view(_INT_VIEW[width]).astype(np.float64)
    lowest = -(2.0 ** (8 * width - 1))
    return np.where(bits < 0, lowest - bits, bits)


def array_difference(expected: np.ndarray, actual: np.ndarray, dtype: str) -> str:
    """Empty if close (per dtype), else where and by how much the arrays differ."""
    if dtype not in TOLERANCES:
        bad = expected != actual
        if not bad.any():
            return ""
        return f"{int(bad.sum())} of {bad.size} elements differ; first at {_index(bad)}"
    rtol, atol = TOLERANCES[dtype]
    m = measure(expected, actual, rtol, atol)
    if m is None or m.bad is None:
        return ""
    return m.describe(expected, actual, rtol, atol)


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


def show(value) -> str:
    """An observed value as a discrepancy prints it."""
    if value is None:
        return "None"
    if isinstance(value, ArrayState):
        body = np.array2string(value.values, precision=8, threshold=200, separator=", ")
        return f"{body} ({value.dtype})"
    if isinstance(value, Opaque):
        return f"<{value.kind} {value.text}>"
    if isinstance(value, TensorState):
        return show(value.data)
    return repr(value)


def exception_text(record) -> str:
    """An exception record as both sides show it (also the state machine's)."""
    return "(no exception)" if record is None else f"{record.type}: {record.message}"


def _warnings(records) -> str:
    if not records:
        return "(no warnings)"
    return "\n".join(
        f"{w.category}: {w.message}" + (f" [line {w.line}]" if w.line else "") for w in records
    )
