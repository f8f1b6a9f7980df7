"""Hypothesis strategies for a spec's inputs: numpy arrays, handed identically to both backends.

One place turns input declarations into strategies: symbolic dims are drawn once per example and
shared by every input that names them; values come from the declared range (or a constant fill).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from harness.spec import InputDecl, Spec

DEFAULT_RANGE = (-10.0, 10.0)
_FLOAT_WIDTH = {"float16": 16, "float32": 32, "float64": 64}
_INT_LIMITS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1), "uint8": (0, 255)}


def inputs(spec: Spec, variant: dict[str, str]) -> st.SearchStrategy[dict[str, np.ndarray]]:
    """All inputs of one example, as {name: array} in declaration order."""
    dims = st.fixed_dictionaries(
        {name: st.integers(lo, hi) for name, (lo, hi) in spec.model.dims.items()}
    )
    return dims.flatmap(
        lambda sizes: st.fixed_dictionaries(
            {
                name: _array(decl, variant[name], sizes)
                for name, decl in spec.model.inputs.items()
            }
        )
    )


def _array(decl: InputDecl, dtype: str, sizes: dict[str, int]) -> st.SearchStrategy[np.ndarray]:
    shape = tuple(sizes[d] if isinstance(d, str) else d for d in decl.shape)
    if decl.fill is not None:
        return st.just(np.full(shape, decl.fill, dtype=dtype))
    return hnp.arrays(np.dtype(dtype), shape, elements=elements(decl, dtype))


def elements(decl: InputDecl, dtype: str) -> st.SearchStrategy:
    """Scalar values of one element; finite, normal floats unless a later option asks otherwise."""
    if dtype == "bool":
        values = st.booleans()
    elif dtype in _FLOAT_WIDTH:
        lo, hi = decl.range or DEFAULT_RANGE
        values = st.floats(lo, hi, width=_FLOAT_WIDTH[dtype], allow_nan=False,
                           allow_infinity=False, allow_subnormal=False)
    else:
        lo, hi = decl.range or DEFAULT_RANGE
        tlo, thi = _INT_LIMITS[dtype]
        values = st.integers(max(int(np.ceil(lo)), tlo), min(int(np.floor(hi)), thi))
    if decl.nonzero:
        values = values.filter(lambda v: v != 0)
    return values
