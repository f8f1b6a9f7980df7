"""kthvalue's index among equal values: torch's CPU quickselect decides it, the engine
must report the same one (OpInfo draws few tied rows; this draws many)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine


@pytest.mark.parametrize("dtype", ["int64", "uint8", "float32"])
def test_kthvalue_ties_pick_torchs_index(dtype):
    rng = np.random.default_rng(7)
    for _ in range(200):
        shape = tuple(int(s) for s in rng.integers(1, 7, rng.integers(1, 4)))
        data = rng.integers(0, 3, shape).astype(dtype)
        dim = int(rng.integers(0, len(shape)))
        k = int(rng.integers(1, shape[dim] + 1))
        expected = torch.kthvalue(torch.from_numpy(data), k, dim)
        got = engine.kthvalue(engine.tensor(data), k, dim)
        np.testing.assert_array_equal(got.values.numpy(), expected.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), expected.indices.numpy())


def test_kthvalue_ties_with_nan_pick_torchs_index():
    data = np.array([[np.nan, 1.0, np.nan, 1.0, 0.0, np.nan]], np.float32)
    for k in range(1, 7):
        expected = torch.kthvalue(torch.from_numpy(data), k)
        got = engine.kthvalue(engine.tensor(data), k)
        np.testing.assert_array_equal(got.indices.numpy(), expected.indices.numpy())
