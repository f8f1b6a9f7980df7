"""Reductions (sum, mean, norms, prod, max/min, var/std, logsumexp, cumsum) against torch."""

from __future__ import annotations

import numpy as np
import pytest
from engine_oracle import check_op, inputs

REDUCTIONS = {
    "sum": lambda t, x: x.sum(),
    "t.sum": lambda t, x: t.sum(x),
    "sum0": lambda t, x: x.sum(0),
    "sum-1": lambda t, x: x.sum(-1),
    "sum(0,1)": lambda t, x: x.sum((0, 1)),
    "sum[1,0]": lambda t, x: x.sum([1, 0]),
    "sum_keepdim": lambda t, x: x.sum(1, keepdim=True),
    "sum_dim_None": lambda t, x: x.sum(dim=None),
    "sum_dim_empty": lambda t, x: x.sum(dim=[]),
    "sum_dtype": lambda t, x: x.sum(dtype=t.float64),
    "mean": lambda t, x: x.mean(),
    "t.mean": lambda t, x: t.mean(x, dim=0),
    "mean1": lambda t, x: x.mean(1),
    "mean_keepdim": lambda t, x: x.mean((0, 2), keepdim=True),
    "norm": lambda t, x: x.norm(),
    "t.norm": lambda t, x: t.norm(x),
    "norm_dim": lambda t, x: x.norm(dim=1),
    "norm_dim_keepdim": lambda t, x: x.norm(dim=(0, 2), keepdim=True),
    "norm_p1": lambda t, x: x.norm(p=1),
    "norm_p3": lambda t, x: x.norm(3, 1),
    "norm_p1.5": lambda t, x: x.norm(p=1.5),
    "norm_p0.5": lambda t, x: x.norm(p=0.5),
    "norm_inf": lambda t, x: x.norm(p=float("inf")),
    "norm_fro": lambda t, x: x.norm(p="fro"),
}


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions(name):
    check_op(REDUCTIONS[name], *inputs((2, 3, 4)))


@pytest.mark.parametrize("name", ["sum", "sum0", "sum-1", "mean", "norm", "norm_inf", "norm_p1.5"])
def test_reductions_of_0d_tensors(name):
    check_op(REDUCTIONS[name], *inputs(()))


def test_norm_of_zero_vector_has_zero_grad():
    check_op(lambda t, x: x.norm(), np.zeros(3, np.float32))
    check_op(lambda t, x: x.norm(dim=1), np.zeros((2, 3), np.float32))


def test_norm_p0():
    check_op(lambda t, x: x.norm(p=0), *inputs((4,)))


OTHER_REDUCTIONS = {
    "prod": lambda t, x: x.prod(), "prod1": lambda t, x: x.prod(1, keepdim=True),
    "max": lambda t, x: x.max(), "max_dim": lambda t, x: x.max(0).values,
    "min_dim": lambda t, x: t.min(x, 1)[0], "amax": lambda t, x: x.amax(1),
    "amin": lambda t, x: x.amin((0, 1)), "var": lambda t, x: x.var(0),
    "std": lambda t, x: x.std(),
    "logsumexp": lambda t, x: x.logsumexp(1), "cumsum": lambda t, x: x.cumsum(0),
    "norm_inf": lambda t, x: t.linalg.vector_norm(x, float("inf"), dim=1),
}


@pytest.mark.parametrize("name", OTHER_REDUCTIONS)
def test_other_reductions(name):
    check_op(OTHER_REDUCTIONS[name], *inputs((3, 4)))
