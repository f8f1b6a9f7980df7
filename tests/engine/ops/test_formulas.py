"""Higher-order grads: the formulas are written with engine ops, so a grad taken with
``create_graph=True`` is itself differentiable, as torch's."""

from __future__ import annotations

import numpy as np
import pytest
from engine_oracle import inputs


@pytest.mark.filterwarnings("ignore:Using backward")
def test_double_backward_matches_torch():
    import torch

    import engine

    for lib in (torch, engine):
        x = lib.tensor([0.5, 1.5, -2.0], requires_grad=True)
        y = (x ** 3 + x.exp() * x + 2 / x).sum()
        y.backward(create_graph=True)
        g1 = x.grad
        x.grad = None
        g1.sum().backward()
        if lib is torch:
            want = (g1.detach().numpy(), x.grad.numpy())
        else:
            got = (g1.detach().numpy(), x.grad.numpy())
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5)


@pytest.mark.filterwarnings("ignore:Using backward")
@pytest.mark.parametrize("name", ["x**y", "norm", "mean1", "relu_sq", "div", "sum_keepdim"])
def test_second_order_grads(name):
    """create_graph=True: the grad is itself differentiable, through broadcasting too."""
    import torch

    import engine

    fns = {
        "x**y": lambda t, x, y: (x.abs() + 0.5) ** y,
        "norm": lambda t, x, y: x.norm(dim=1) * y.sum(),
        "mean1": lambda t, x, y: (x * x).mean(1) * y.sum(),
        "relu_sq": lambda t, x, y: (x * y).relu() ** 2,
        "div": lambda t, x, y: x / (y * y + 1),
        "sum_keepdim": lambda t, x, y: (x ** 3).sum(0, keepdim=True) * y,
    }
    arrays = inputs((2, 3), (3,))
    results = {}
    for lib in (torch, engine):
        x, y = (lib.tensor(a, requires_grad=True) for a in arrays)
        out = fns[name](lib, x, y)
        out.sum().backward(create_graph=True)
        gx, gy = x.grad, y.grad
        x.grad = y.grad = None
        (gx * gx).sum().backward(retain_graph=True)
        (gy.sum() * 2).backward()
        results[lib.__name__] = [x.grad.detach().numpy(), y.grad.detach().numpy()]
    for got, want in zip(results["engine"], results["torch"], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
