"""``out=`` of gather/take/masked_select/cat: the result written into the given tensor
(resized with torch's warning when its shape differs), as torch does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine


def _run(lib, out_shape):
    x = lib.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    index = lib.tensor([[0, 1], [2, 0], [1, 1]])
    calls = {
        "gather": lambda out: lib.gather(x, 1, index, out=out),
        "take": lambda out: lib.take(x, index, out=out),
        "masked_select": lambda out: lib.masked_select(x, x > 5, out=out),
        "cat": lambda out: lib.cat([x, x], out=out),
    }
    results = {}
    for name, call in calls.items():
        out = lib.zeros(out_shape)
        returned = call(out)
        results[name] = (returned is out, out.numpy().copy())
    return results


@pytest.mark.filterwarnings("ignore:An output with one or more elements was resized")
@pytest.mark.parametrize("out_shape", [(0,), (2,), (3, 2)])
def test_out_is_written_as_torch_writes_it(out_shape):
    expected, got = _run(torch, out_shape), _run(engine, out_shape)
    for name, (same, values) in expected.items():
        assert got[name][0] == same, name
        np.testing.assert_array_equal(got[name][1], values, err_msg=name)


def test_resizing_a_nonempty_out_warns():
    with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
        engine.cat([engine.ones(2), engine.ones(2)], out=engine.zeros(3))
