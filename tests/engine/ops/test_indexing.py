"""Indexing (``x[index]``, index_select, gather) against torch."""

from __future__ import annotations

import pytest
from engine_oracle import check_op, inputs

INDEXING = {
    "getitem": lambda t, x: x[1:, [0, 2, 2]],
    "mask": lambda t, x: x[x > 0],
    "gather": lambda t, x: x.gather(1, t.tensor([[0, 0], [1, 3], [2, 2]])),
    "index_select": lambda t, x: x.index_select(1, t.tensor([3, 0, 3])),
}


@pytest.mark.parametrize("name", INDEXING)
def test_indexing(name):
    check_op(INDEXING[name], *inputs((3, 4)))
