"""Hypothesis: random expressions over broadcastable shapes and dtypes agree with torch."""

from __future__ import annotations

import numpy as np
from engine_oracle import check_op
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

BINARY = {
    "+": lambda t, x, y: x + y,
    "-": lambda t, x, y: x - y,
    "*": lambda t, x, y: x * y,
    "/": lambda t, x, y: x / (y.abs() + 0.5),
    "**": lambda t, x, y: (x.abs() + 0.5) ** y,
    "where": lambda t, x, y: t.where(x > y, x * y, y),
}
UNARY = {
    "exp": lambda t, v: (v / 4).exp(),
    "log": lambda t, v: (v.abs() + 0.1).log(),
    "relu": lambda t, v: v.relu(),
    "neg": lambda t, v: -v,
    "sum": lambda t, v: v.sum(),
    "mean(-1, keepdim)": lambda t, v: v.mean(-1, keepdim=True),
    "norm(0)": lambda t, v: v.norm(dim=0),
    "scalar mix": lambda t, v: 2 - 3 * v / 4 + 1.5,
}

_values = st.floats(-3, 3, width=32).filter(lambda v: abs(v) > 1e-3)


@st.composite
def _case(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3,
                                                    max_side=3))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    arrays = [draw(hnp.arrays(dtype, s, elements=_values, unique=True))
              for s in shapes.input_shapes]
    return arrays, draw(st.sampled_from(sorted(BINARY))), draw(st.sampled_from(sorted(UNARY)))


@settings(max_examples=150, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_case())
def test_random_expressions_match_torch(case):
    (x, y), binary, unary = case

    def fn(t, a, b):
        return UNARY[unary](t, BINARY[binary](t, a, b))

    check_op(fn, x, y, rtol=1e-4, atol=1e-5)
