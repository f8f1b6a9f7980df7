"""ops/fused.py against torch: add/sub with alpha, addcmul, addcdiv and lerp round as torch's
fused kernels do (compared bit for bit, across the sizes of its vector loops and their
tails), with torch's nodes, double backward and errors; detach_ and Tensor._make_subclass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

OPS = {
    "add_alpha": lambda t, a, b, c, w: t.add(a, b, alpha=0.3),
    "sub_alpha": lambda t, a, b, c, w: t.sub(a, b, alpha=1.7),
    "rsub_alpha": lambda t, a, b, c, w: t.rsub(a, b, alpha=0.7),
    "add_": lambda t, a, b, c, w: a.clone().add_(b, alpha=-0.01),
    "addcmul": lambda t, a, b, c, w: t.addcmul(a, b, c, value=0.7),
    "addcmul_": lambda t, a, b, c, w: a.clone().addcmul_(b, c, value=-0.1),
    "addcdiv": lambda t, a, b, c, w: t.addcdiv(a, b, c, value=-0.3),
    "addcdiv_": lambda t, a, b, c, w: a.clone().addcdiv_(b, c),
    "lerp_small": lambda t, a, b, c, w: t.lerp(a, b, 0.3),
    "lerp_large": lambda t, a, b, c, w: t.lerp(a, b, 0.8),
    "lerp_tensor": lambda t, a, b, c, w: t.lerp(a, b, w),
    "lerp_": lambda t, a, b, c, w: a.clone().lerp_(b, 0.1),
    "broadcast": lambda t, a, b, c, w: t.addcmul(a[:1], b, c[:1], value=2.5),
}


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 3, 16, 37, 1000])
def test_bits_as_torch(name, dtype, n):
    rng = np.random.default_rng(n)
    arrays = [rng.standard_normal(n).astype(dtype) for _ in range(3)]
    arrays.append(rng.uniform(-1, 2, n).astype(dtype))
    got = OPS[name](engine, *(engine.from_numpy(a.copy()) for a in arrays)).numpy()
    want = OPS[name](torch, *(torch.from_numpy(a.copy()) for a in arrays)).numpy()
    assert got.tobytes() == want.tobytes()


GRADS = {
    "addcmul": lambda t, a, b, c: t.addcmul(a, b, c, value=0.5),
    "addcdiv": lambda t, a, b, c: t.addcdiv(a, b, c, value=2),
    "lerp_scalar": lambda t, a, b, c: t.lerp(a, b, 0.25),
    "lerp_tensor": lambda t, a, b, c: t.lerp(a, b, c),
    "add_alpha": lambda t, a, b, c: t.add(a, b, alpha=3),
}


@pytest.mark.parametrize("name", GRADS)
def test_nodes_grads_and_double_backward(name):
    out = {}
    for lib in (torch, engine):
        xs = [lib.tensor(v, dtype=lib.float64, requires_grad=True)
              for v in ([0.5, -1.5, 2.0], [1.5, 0.25, -2.0], [0.3, 0.9, -0.4])]
        y = GRADS[name](lib, *xs)
        grads = lib.autograd.grad(y.sum(), xs, create_graph=True, allow_unused=True)
        total = sum((g * g).sum() for g in grads if g is not None and g.requires_grad)
        second = lib.autograd.grad(total, xs, allow_unused=True) if torch.is_tensor(total) or \
            isinstance(total, engine.Tensor) else [None] * 3
        out[lib.__name__] = (type(y.grad_fn).__name__, y.tolist(),
                             [None if g is None else g.tolist() for g in grads],
                             [None if g is None else g.tolist() for g in second])
    assert out["engine"][0] == out["torch"][0]
    np.testing.assert_allclose(out["engine"][1], out["torch"][1], rtol=1e-12)
    for e, t in zip(out["engine"][2:], out["torch"][2:], strict=True):
        for ge, gt in zip(e, t, strict=True):
            assert (ge is None) == (gt is None)
            if ge is not None:
                np.testing.assert_allclose(ge, gt, rtol=1e-12)


ERRORS = [
    "t.addcdiv(t.tensor([1, 2]), t.tensor([1, 2]), t.tensor([3, 4]))",
    "t.addcmul(t.tensor([True]), t.tensor([True]), t.tensor([True]))",
    "t.addcmul(t.ones(3), t.ones(2), t.ones(3))",
    "t.ones(3).addcmul_(t.ones(3), t.ones(3, 3))",
    "t.lerp(t.ones(3), t.ones(3, dtype=t.float64), 0.5)",
    "t.lerp(t.ones(3), t.ones(3), t.ones(3, dtype=t.float64))",
    "t.lerp(t.tensor([1, 2]), t.tensor([1, 2]), 0.5)",
    "t.add(t.tensor([1, 2]), t.tensor([1, 2]), alpha=0.5)",
    "t.ones(2, requires_grad=True).addcmul_(t.ones(2), t.ones(2))",
]


@pytest.mark.parametrize("code", ERRORS)
def test_errors_as_torch(code):
    outcome = {}
    for t in (torch, engine):
        try:
            eval(code, {"t": t})
            outcome[t.__name__] = None
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            outcome[t.__name__] = (type(e).__name__, str(e))
    assert outcome["engine"] == outcome["torch"]


def test_detach_():
    for t in (torch, engine):
        x = t.ones(3, requires_grad=True)
        y = x * 2
        assert y.detach_() is y and not y.requires_grad and y.grad_fn is None and y.is_leaf
        with pytest.raises(RuntimeError, match="Can't detach views in-place"):
            (x * 2)[1:].detach_()
        assert x.detach_() is x and not x.requires_grad


def test_make_subclass_shares_storage_and_version():
    base = engine.zeros(3)
    p = engine.Tensor._make_subclass(engine.nn.Parameter, base, True)
    assert type(p) is engine.nn.Parameter and p.requires_grad and p.is_leaf
    with engine.no_grad():
        p.add_(1)
    assert base.tolist() == [1.0, 1.0, 1.0] and base._version == p._version == 1
    with pytest.raises(RuntimeError, match="floating point"):
        engine.Tensor._make_subclass(engine.nn.Parameter, engine.zeros(2, dtype=engine.int64),
                                     True)
