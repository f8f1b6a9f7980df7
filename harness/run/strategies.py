"""Hypothesis strategies for a spec's inputs: numpy arrays, handed identically to both backends.

One place turns input declarations into strategies: symbolic dims are drawn once per example and
shared by every input that names them; values come from the declared range (or a constant fill,
or a declared set of values), optionally mixed with special values, kept distinct (no ties) or
away from kinks; integer inputs can be class targets or indices valid for another input's
dimension.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.internal.conjecture import providers

from harness.spec.model import DEFAULT_RANGE, INT_LIMITS, InputDecl, Spec

_FLOAT_WIDTH = {"float16": 16, "float32": 32, "float64": 64}


def without_local_constants() -> None:
    """Draw no constants from the project's own modules. Hypothesis mixes into its draws the
    literals of every "local" module loaded so far (not under site-packages): which those are
    depends on the items that ran before and on whether Parity is installed editable, so the
    same item and seed drew different inputs alone, in the suite and in CI. Its global pool of
    nasty values stays. (A private hook: tests/harness/run/test_strategies.py notices if it
    goes.)"""
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty


without_local_constants()


def inputs(spec: Spec, variant: dict[str, str]) -> st.SearchStrategy[dict[str, object]]:
    """One example: {input name: array} in declaration order, then {dim name: int} for the
    symbolic dims the program reads (a program may write `torch.ones(n, 3)`)."""
    built: dict[tuple, st.SearchStrategy] = {}

    def arrays_for(drawn: Drawn) -> st.SearchStrategy:
        # one strategy per distinct draw of sizes and shapes, built (and validated by
        # Hypothesis) once: rebuilding it for every example cost a third of the draw time
        key = (tuple(drawn[0].items()), tuple(drawn[1].items()))
        strategy = built.get(key)
        if strategy is None:
            strategy = built[key] = st.fixed_dictionaries(
                {**{name: _array(decl, variant[name], *drawn, name)
                    for name, decl in spec.model.inputs.items()},
                 **{dim: st.just(size) for dim, size in drawn[0].items()
                    if dim in spec.program.names_used}}
            )
        return strategy

    return sizes_and_shapes(spec).flatmap(arrays_for)


Drawn = tuple[dict[str, int], dict[str, tuple[int, ...]]]  # (dim sizes, shape of each input)


def sizes_and_shapes(spec: Spec) -> st.SearchStrategy[Drawn]:
    """Symbolic dims drawn once and shared; a broadcast group's shapes drawn together."""
    dims = st.fixed_dictionaries(
        {name: st.integers(lo, hi) for name, (lo, hi) in spec.model.dims.items()}
    )
    group = spec.model.broadcast
    together = st.just(None) if group is None else hnp.mutually_broadcastable_shapes(
        num_shapes=len(group.inputs), min_dims=group.min_dims, max_dims=group.max_dims,
        min_side=group.min_side, max_side=group.max_side)

    def resolve(args) -> Drawn:
        sizes, broadcast = args
        shapes = {name: tuple(sizes[d] if isinstance(d, str) else d for d in decl.shape)
                  for name, decl in spec.model.inputs.items()}
        if broadcast is not None:
            shapes.update(zip(group.inputs, broadcast.input_shapes, strict=True))
        return sizes, shapes

    return st.tuples(dims, together).map(resolve)


def _array(decl: InputDecl, dtype: str, sizes: dict[str, int],
           shapes: dict[str, tuple[int, ...]], name: str):
    shape = shapes[name]
    if decl.fill is not None:
        return st.just(np.full(shape, decl.fill, dtype=dtype))
    values = elements(decl, dtype, _integer_bounds(decl, sizes, shapes))
    return hnp.arrays(np.dtype(dtype), shape, elements=values, unique=decl.distinct)


def _integer_bounds(decl: InputDecl, sizes, shapes) -> tuple[int, int] | None:
    """Class targets are 0..C-1; indices are valid for the target dimension's size."""
    if decl.classes is not None:
        classes = sizes[decl.classes] if isinstance(decl.classes, str) else decl.classes
        return 0, classes - 1
    if decl.index_for is not None:
        target_shape = shapes[decl.index_for.input]
        size = target_shape[decl.index_for.dim] if target_shape else 1
        return (-size if decl.index_for.negative else 0), max(size - 1, 0)
    return None


def elements(decl: InputDecl, dtype: str, bounds: tuple[int, int] | None = None):
    """Scalar values of one element; finite, normal floats unless `special` asks otherwise;
    one of `values` when the spec lists them."""
    if decl.values is not None:  # each as the dtype holds it (0.1 is not a float32)
        return st.sampled_from(list(dict.fromkeys(
            np.asarray(v, dtype=dtype).item() for v in decl.values)))
    if dtype == "bool":
        values = st.booleans()
    elif dtype in _FLOAT_WIDTH:
        lo, hi = _representable(decl.range or DEFAULT_RANGE, dtype)
        values = st.floats(lo, hi, width=_FLOAT_WIDTH[dtype], allow_nan=False,
                           allow_infinity=False, allow_subnormal=False)
        kind = np.dtype(dtype).type  # the distance as the dtype computes it: float32's 0.1
        margin = kind(decl.avoid_margin)  # is not past a margin of 0.1
        for kink in map(kind, decl.avoid):
            values = values.filter(lambda v, k=kink: abs(kind(v) - k) > margin)
        if decl.special:
            values = st.one_of(values, st.sampled_from(special_values(decl.special, dtype)))
    else:
        if bounds is None:
            lo, hi = decl.range or DEFAULT_RANGE
            bounds = int(np.ceil(lo)), int(np.floor(hi))
        tlo, thi = INT_LIMITS[dtype]
        values = st.integers(max(bounds[0], tlo), min(bounds[1], thi))
    if decl.nonzero:
        values = values.filter(lambda v: v != 0)
    return values


def _representable(bounds: tuple[float, float], dtype: str) -> tuple[float, float]:
    """The range rounded inwards to values the dtype holds (0.1 is not a float32)."""
    lo, hi = (np.asarray(b, dtype=dtype) for b in bounds)
    if float(lo) < bounds[0]:
        lo = np.nextafter(lo, np.asarray(np.inf, dtype=dtype))
    if float(hi) > bounds[1]:
        hi = np.nextafter(hi, np.asarray(-np.inf, dtype=dtype))
    return float(lo), float(hi)


def special_values(names: list[str], dtype: str) -> list[float]:
    info = np.finfo(dtype)
    table = {
        "0": [0.0], "-0.0": [-0.0], "inf": [np.inf], "-inf": [-np.inf], "nan": [np.nan],
        "tiny": [float(info.smallest_normal), -float(info.smallest_normal)],
        "huge": [float(info.max), -float(info.max)],
        "subnormal": [float(info.smallest_subnormal), -float(info.smallest_subnormal)],
    }
    return [v for name in names for v in table[name]]


def pinned_examples(spec: Spec, variant: dict[str, str]) -> list[dict[str, np.ndarray]]:
    """The spec's `examples:`, as arrays of each input's dtype, run before any drawn example."""
    out = []
    for example in spec.model.examples:
        arrays = {name: np.asarray(example[name], dtype=variant[name])
                  for name in spec.model.inputs}
        dims = {d: int(example[d]) for d in spec.model.dims if d in example}
        for name, decl in spec.model.inputs.items():  # dims not given: read off the shapes
            for axis, d in enumerate(decl.shape):
                if isinstance(d, str) and axis < arrays[name].ndim:
                    dims.setdefault(d, arrays[name].shape[axis])
        out.append({**arrays, **{d: v for d, v in dims.items()
                                 if d in spec.program.names_used}})
    return out
