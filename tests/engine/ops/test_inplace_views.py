"""ops/inplace_views.py against torch, beyond what the OpInfo corpus checks (the in-place form
on a clone): an in-place view op on a view of a base, the base's other views seeing the
version bump, a leaf refused, and the grads through all of it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

CASES = {
    "squeeze_": lambda v: v.squeeze_(),
    "squeeze_dim": lambda v: v.squeeze_(0),
    "squeeze_dims": lambda v: v.squeeze_((0, 1)),
    "unsqueeze_": lambda v: v.unsqueeze_(-1),
    "t_": lambda v: v.squeeze_().t_(),
    "transpose_": lambda v: v.transpose_(0, 2),
    "swapdims_": lambda v: v.swapdims_(-1, 0),
}


def _run(lib, case):
    x = lib.tensor(np.arange(12.0).reshape(1, 3, 4) / 7, requires_grad=True)
    base = x * 2
    view = base[:, 1:]  # a view of a non-leaf
    other = base[0]  # another view of the same base
    out = CASES[case](view)
    loss = (out * lib.arange(float(out.numel())).reshape(out.shape)).sum() + other.sum()
    (grad,) = lib.autograd.grad(loss, x)
    return {
        "same": out is view, "shape": tuple(view.shape), "grad_fn": type(view.grad_fn).__name__,
        "next": type(view.grad_fn.next_functions[0][0]).__name__,
        "versions": (view._version, base._version),
        "other": type(other.grad_fn).__name__, "contiguous": view.is_contiguous(),
        "base_of_view": view._base is base, "grad": grad.detach().numpy().tolist(),
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_inplace_view_op_on_a_view_as_torch(case):
    assert _run(engine, case) == _run(torch, case)


@pytest.mark.parametrize("name", ["squeeze_", "unsqueeze_", "t_", "transpose_"])
def test_leaf_refused_as_torch(name):
    args = {"unsqueeze_": (0,), "transpose_": (0, 1)}.get(name, ())
    messages = []
    for lib in (torch, engine):
        leaf = lib.ones(2, 1, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            getattr(leaf, name)(*args)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
