"""Semantic checks of a spec: what pydantic cannot express, as (field path, message) problems.

Names must agree across fields (symbolic dims, broadcast groups, `index_for`, raises lines), sizes
stay small (a spec shows behaviour, not scale), and the declared input options must leave values
to draw for every dtype (the dtype domain of harness.spec.model, which the strategies draw from).
The loader turns a problem into a `SpecError` at its position (harness.spec.positions).
"""

from __future__ import annotations

import math
import re

from harness.spec.model import (
    DEFAULT_RANGE,
    FLOAT_DTYPES,
    FLOAT_MAX,
    INT_LIMITS,
    InputDecl,
    SameDtype,
    Spec,
    SpecModel,
    dtypes_of,
)

MAX_ELEMENTS = 100_000  # per input, with every dim at its high end


def semantic_problem(spec: Spec, node) -> tuple[tuple, str] | None:
    """Checks pydantic cannot express: names that must agree across fields."""
    m = spec.model
    for name, (lo, hi) in m.dims.items():
        if not 0 <= lo <= hi:
            return ("dims", name), f"range [{lo}, {hi}] must satisfy 0 <= low <= high"
    for name, decl in m.inputs.items():
        if isinstance(decl.dtype, SameDtype):
            target = m.inputs.get(decl.dtype.same_as)
            at = ("inputs", name, "dtype", "same_as")
            if decl.dtype.same_as == name:
                return at, "an input cannot take its dtype from itself"
            if target is None:
                return at, f"no input named {decl.dtype.same_as!r}"
            if isinstance(target.dtype, SameDtype):
                return at, (f"{decl.dtype.same_as!r} takes its dtype from "
                            f"{target.dtype.same_as!r}: name {target.dtype.same_as!r} here")
    for name, decl in m.inputs.items():
        for i, d in enumerate(decl.shape):
            if isinstance(d, str) and d not in m.dims:
                return ("inputs", name, "shape", i), f"symbolic dim {d!r} is not declared in dims"
        largest = math.prod(m.dims[d][1] if isinstance(d, str) else d for d in decl.shape)
        if largest > MAX_ELEMENTS:
            return ("inputs", name, "shape"), (
                f"up to {largest} elements; inputs are limited to {MAX_ELEMENTS} "
                "(a spec shows behaviour, not scale)")
        if decl.range is not None and decl.range[0] > decl.range[1]:
            return ("inputs", name, "range"), "range must be [low, high] with low <= high"
        if decl.range is not None and decl.fill is not None:
            return ("inputs", name, "fill"), "give either fill or range, not both"
        if decl.requires_grad and not set(dtypes_of(m, name)) <= FLOAT_DTYPES:
            return ("inputs", name, "requires_grad"), "only floating point inputs can require grad"
        if name not in spec.program.names_used:
            return ("inputs", name), "input is declared but the program never uses it"
        problem = _generation_problem(m, name, decl)
        if problem:
            return problem
    if m.broadcast is not None:
        b = m.broadcast
        for i, name in enumerate(b.inputs):
            if name not in m.inputs:
                return ("broadcast", "inputs", i), f"no input named {name!r}"
            if m.inputs[name].shape:
                return ("inputs", name, "shape"), (
                    "this input's shape is drawn by `broadcast:`; remove its shape")
        if b.min_dims > b.max_dims or b.min_side > b.max_side:
            return ("broadcast",), "min_dims <= max_dims and min_side <= max_side are required"
        if b.max_side ** b.max_dims > MAX_ELEMENTS:
            return ("broadcast", "max_side"), (
                f"up to {b.max_side ** b.max_dims} elements (max_side ** max_dims); inputs are "
                f"limited to {MAX_ELEMENTS} (a spec shows behaviour, not scale)")
    for i, example in enumerate(m.examples):
        if not set(m.inputs) <= set(example) <= set(m.inputs) | set(m.dims):
            return ("examples", i), (f"an example gives every input ({', '.join(m.inputs)}) "
                                     f"and maybe dims, not {', '.join(example) or 'nothing'}")
        problem = _example_problem(m, example)
        if problem:
            return ("examples", i, *problem[0]), problem[1]
    starts = spec.program.statement_lines
    for i, r in enumerate(m.raises):
        if r.line not in starts:
            return ("raises", i, "line"), (
                f"program line {r.line} does not start a top-level statement "
                f"(statements start at lines {sorted(starts)})")
        try:
            re.compile(r.match)
        except re.error as exc:
            return ("raises", i, "match"), f"not a valid regular expression: {exc}"
    return None


def _generation_problem(m: SpecModel, name: str, decl: InputDecl):
    """Input options that contradict each other or the rest of the spec."""
    at = ("inputs", name)
    dtypes = set(dtypes_of(m, name))
    if decl.values is not None:
        return _values_kind_problem(at, decl, dtypes_of(m, name), _most_elements(m, name, decl))
    if decl.special and not dtypes <= FLOAT_DTYPES:
        return at + ("special",), "special values need a floating point dtype"
    integer_only = {"classes": decl.classes, "index_for": decl.index_for}
    for option, value in integer_only.items():
        if value is not None and dtypes & (FLOAT_DTYPES | {"bool"}):
            return at + (option,), f"{option} needs an integer dtype (int64, int32, uint8)"
    if decl.classes is not None and decl.index_for is not None:
        return at + ("classes",), "give either classes or index_for, not both"
    if isinstance(decl.classes, str) and decl.classes not in m.dims:
        return at + ("classes",), f"symbolic dim {decl.classes!r} is not declared in dims"
    if decl.index_for is not None:
        target = m.inputs.get(decl.index_for.input)
        if target is None:
            return at + ("index_for", "input"), f"no input named {decl.index_for.input!r}"
        if not -len(target.shape) <= decl.index_for.dim < len(target.shape):
            return at + ("index_for", "dim"), (
                f"dim {decl.index_for.dim} is out of range for {decl.index_for.input!r}, "
                f"which has {len(target.shape)} dims")
    if decl.fill is not None and (decl.distinct or decl.special):
        return at + ("fill",), "fill gives one value: it cannot be distinct or special"
    if decl.range is not None and any(math.isnan(v) for v in decl.range):
        return at + ("range",), "range cannot contain nan: give [low, high] as numbers"
    for i, kink in enumerate(decl.avoid):
        if math.isnan(kink):
            return at + ("avoid", i), "nan cannot be avoided: every value would be refused"
    if isinstance(decl.classes, str) and m.dims[decl.classes][0] < 1:
        return at + ("classes",), (
            f"dim {decl.classes!r} can be {m.dims[decl.classes][0]}, and a class target needs at "
            "least 1 class: make its low end 1 or more")
    for dtype in dtypes_of(m, name):
        problem = _values_problem(m, name, decl, dtype)
        if problem:
            return at + (problem[0],), problem[1]
    return None


#: Options that say how to draw values, which `values:` (the set to draw from) replaces.
_NOT_WITH_VALUES = ("range", "fill", "special", "avoid", "nonzero", "classes", "index_for")


def _values_kind_problem(at: tuple, decl: InputDecl, dtypes: list[str], most: int):
    """`values:` must hold values of every dtype of the input, alone among the drawing
    options, and enough of them for `distinct`."""
    for option in _NOT_WITH_VALUES:
        value = getattr(decl, option)
        if value not in (None, [], False):
            return (*at, option), f"values gives the set to draw from: drop {option}"
    for dtype in dtypes:
        problem = _example_value_problem(decl.values, dtype)
        if problem:
            return (*at, "values"), problem
    if decl.distinct and len(set(decl.values)) < most:
        return (*at, "distinct"), (f"distinct: true needs up to {most} different values, but "
                                   f"values holds {len(set(decl.values))}")
    return None


def _example_problem(m: SpecModel, example: dict) -> tuple[tuple, str] | None:
    """A pinned example must be numbers of each input's shape, in range of each of its dtypes."""
    sizes: dict[str, tuple[int, str]] = {}  # dim -> (size, who set it)
    for dim in m.dims:
        if dim in example:
            value = example[dim]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return (dim,), f"dim {dim} must be a size (an integer >= 0), not {value!r}"
            sizes[dim] = value, "the example"
    for name, decl in m.inputs.items():
        shape, values = _nested(example[name])
        if isinstance(shape, str):
            return (name,), shape
        drawn = m.broadcast is not None and name in m.broadcast.inputs
        if not drawn:
            declared = "[" + ", ".join(map(str, decl.shape)) + "]"
            if len(shape) != len(decl.shape) or any(
                    isinstance(d, int) and d != n for d, n in zip(decl.shape, shape, strict=True)):
                return (name,), (f"the example has shape {list(shape)}, but {name} has shape "
                                 f"{declared}")
            for d, n in zip(decl.shape, shape, strict=True):
                if isinstance(d, str):
                    size, who = sizes.setdefault(d, (n, name))
                    if size != n:
                        return (name,), (f"the example makes {d} = {n} here, but {size} in {who}")
        for dtype in dtypes_of(m, name):
            problem = _example_value_problem(values, dtype)
            if problem:
                return (name,), problem
    return None


def _nested(value) -> tuple[tuple[int, ...] | str, list]:
    """(shape, flat values) of a number or nested list of numbers, or (what is wrong, [])."""
    if isinstance(value, bool | int | float):
        return (), [value]
    if isinstance(value, str):
        return f"{value!r} is text; an example gives numbers (nested lists of them)", []
    if not isinstance(value, list):
        return f"{value!r} is not a number or a list of numbers", []
    shapes, values = set(), []
    for item in value:
        shape, flat = _nested(item)
        if isinstance(shape, str):
            return shape, []
        shapes.add(shape)
        values += flat
    if len(shapes) > 1:
        return "a ragged list: its rows have different lengths", []
    return (len(value), *(shapes.pop() if shapes else ())), values


def _example_value_problem(values: list, dtype: str) -> str | None:
    if dtype in FLOAT_DTYPES:
        return None
    if dtype == "bool":
        bad = next((v for v in values if v not in (0, 1)), None)
        return None if bad is None else f"{bad!r} is not a bool value (true or false)"
    tlo, thi = INT_LIMITS[dtype]
    for v in values:
        whole = isinstance(v, int) or (math.isfinite(v) and v == int(v))
        if not (whole and tlo <= v <= thi):
            return f"{v!r} is not a {dtype} value (integers {tlo}..{thi})"
    return None


def _values_problem(m: SpecModel, name: str, decl: InputDecl, dtype: str):
    """(field, message) when the declared options leave too few values of `dtype` to draw."""
    lo, hi = decl.range or DEFAULT_RANGE
    shown = f"range [{lo:g}, {hi:g}]" if decl.range else f"the default range [{lo:g}, {hi:g}]"
    if decl.fill is not None:
        return _fill_problem(decl, dtype)
    if dtype == "bool":
        count, what = 2 - decl.nonzero, "a bool input has only " + (
            "1 value (True) with nonzero" if decl.nonzero else "2 values")
    elif dtype in FLOAT_DTYPES:
        if lo > FLOAT_MAX[dtype] or hi < -FLOAT_MAX[dtype]:
            return "range", f"{shown} holds no finite {dtype} value (at most {FLOAT_MAX[dtype]:g})"
        if decl.nonzero and lo == hi == 0:
            return "nonzero", f"nonzero: true, but {shown} holds only 0"
        if _covered(lo, hi, [(k - decl.avoid_margin, k + decl.avoid_margin) for k in decl.avoid]):
            return "avoid", (f"every value of {shown} is within avoid_margin "
                             f"{decl.avoid_margin:g} of an avoided value: nothing is left to draw")
        count, what = (1, f"{shown} holds only {lo:g}") if lo == hi else (math.inf, "")
    elif decl.index_for is not None:
        return None  # bounds come from the target's size, drawn with it
    else:
        if decl.classes is not None:
            lo = 0
            hi = (decl.classes if isinstance(decl.classes, int) else m.dims[decl.classes][0]) - 1
            shown = f"classes {decl.classes}"
        elif not (math.isfinite(lo) and math.isfinite(hi)):
            return "range", f"{shown} is not finite: an integer input needs finite bounds"
        tlo, thi = INT_LIMITS[dtype]
        ilo, ihi = max(math.ceil(lo), tlo), min(math.floor(hi), thi)
        if ilo > ihi:
            holds = "no integer" if math.ceil(lo) > math.floor(hi) else \
                f"no {dtype} value ({dtype} is {tlo}..{thi})"
            return "range", f"{shown} holds {holds}"
        count = ihi - ilo + 1 - (decl.nonzero and ilo <= 0 <= ihi)
        if count == 0:
            return "nonzero", f"nonzero: true, but {shown} holds only 0"
        what = f"{shown} holds only {count} {dtype} value{'s' * (count != 1)}" + (
            " other than 0" if decl.nonzero and ilo <= 0 <= ihi else "")
    needed = _most_elements(m, name, decl)
    if isinstance(decl.classes, str):
        return None  # shape and classes often share the dim (n targets of n classes)
    if decl.distinct and count < needed:
        return "distinct", f"distinct: true needs up to {needed} different values, but {what}"
    return None


def _fill_problem(decl: InputDecl, dtype: str):
    value = decl.fill
    if decl.nonzero and value == 0:
        return "fill", "fill 0 contradicts nonzero: true"
    for kink in decl.avoid:
        if abs(value - kink) <= decl.avoid_margin:
            return "fill", f"fill {value:g} is within avoid_margin of the avoided value {kink:g}"
    if dtype == "bool" and value not in (0, 1):
        return "fill", f"fill {value:g} is not a bool value (0 or 1)"
    if dtype in INT_LIMITS:
        tlo, thi = INT_LIMITS[dtype]
        if not (math.isfinite(value) and value == int(value) and tlo <= value <= thi):
            return "fill", f"fill {value:g} is not a {dtype} value (integers {tlo}..{thi})"
    return None


def _covered(lo: float, hi: float, gaps: list[tuple[float, float]]) -> bool:
    """Whether the closed intervals `gaps` cover all of [lo, hi]."""
    at = lo  # the lowest point not yet known to be covered (or the end of the last gap)
    for start, end in sorted(gaps):
        if end < at:
            continue
        if start > at:
            return False
        at = end
        if at >= hi:
            return True
    return False


def _most_elements(m: SpecModel, name: str, decl: InputDecl) -> int:
    """Elements of the largest draw of an input: every dim at its high end."""
    if m.broadcast is not None and name in m.broadcast.inputs:
        return m.broadcast.max_side ** m.broadcast.max_dims
    return math.prod(m.dims[d][1] if isinstance(d, str) else d for d in decl.shape)
