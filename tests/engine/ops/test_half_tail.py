"""Half kernels whose scalar tail rounds differently from their vectorized loop (rsqrt rounds
its square root to half there): the engine picks each element's path as TensorIterator does,
for dense, sliced, transposed and broadcast layouts, and matches torch bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

LAYOUTS = {
    "short": lambda v: v[:7],
    "tail": lambda v: v[:100],
    "rows": lambda v: v[:3000].reshape(30, 100)[:, :70],
    "transposed": lambda v: v[:300].reshape(3, 100).t()[:70],
    "strided": lambda v: v[:200][::2],
    "expanded": lambda v: v[:35].reshape(1, 5, 7).expand(3, 5, 7),
    "scalar": lambda v: v[:1].reshape(()),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_rsqrt_half_matches_torch_bit_for_bit(layout):
    pool = np.random.default_rng(0).uniform(0.01, 10, 40000).astype(np.float16)
    root = np.sqrt(pool.astype(np.float32))
    once, twice = 1 / root, 1 / root.astype(np.float16).astype(np.float32)
    values = pool[once.astype(np.float16) != twice.astype(np.float16)][:4000]  # paths differ
    view = LAYOUTS[layout]
    expected = torch.rsqrt(view(torch.from_numpy(values))).numpy()
    got = engine.rsqrt(view(engine.tensor(values))).numpy()
    np.testing.assert_array_equal(got, expected)
