"""Linear algebra (matmul over every rank pair, einsum) against torch."""

from __future__ import annotations

import pytest
from engine_oracle import check_op, inputs

MATMUL_SHAPES = [
    ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (4,)),
    ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((4,), (2, 4, 5)), ((2, 3, 4), (2, 4, 5)),
    ((5, 2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_ranks(shapes):
    check_op(lambda t, x, y: x @ y, *inputs(*shapes))


def test_einsum():
    check_op(lambda t, x, y: t.einsum("ij,kj->ik", x, y), *inputs((3, 4), (2, 4)))
    check_op(lambda t, x, y: t.einsum("ii->", x), *inputs((3, 3), (1,)))
