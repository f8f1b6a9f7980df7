"""torch.special and the wider pointwise surface against torch: every function engine.special
offers is torch.special's (values and grad_fn names), the values torch defines itself (digamma
at signed zeros, xlogy at x = 0, sinc's grad where x * x underflows), and the keyword forms
torch's argument parser takes without wrapping the ops that take none."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_oracle import check_op

import engine

UNARY_SPECIAL = ["entr", "erf", "erfc", "erfcx", "erfinv", "expit", "exp2", "expm1", "log1p",
                 "gammaln", "digamma", "psi", "i0", "i0e", "i1", "i1e", "log_ndtr", "ndtr",
                 "ndtri", "logit", "sinc", "round"]


def _domain(name):
    rng = np.random.default_rng(3)
    if name in ("erfinv", "ndtri", "logit", "entr"):
        return rng.uniform(0.05, 0.95, (2, 3))
    if name in ("gammaln", "digamma", "psi"):
        return rng.uniform(0.5, 4, (2, 3))
    return rng.uniform(-3, 3, (2, 3))


def test_special_namespace_is_torchs():
    for name in engine.special.__all__:
        assert hasattr(torch.special, name), f"torch.special.{name} does not exist"


@pytest.mark.parametrize("name", UNARY_SPECIAL)
def test_special_unary(name):
    check_op(lambda t, x: getattr(t.special, name)(x), _domain(name))


def test_special_multi_argument_forms():
    x = np.random.default_rng(4).uniform(0.5, 3, (3,))
    check_op(lambda t, a: t.special.polygamma(2, a), x)
    check_op(lambda t, a: t.special.multigammaln(a + 1, 2), x)
    check_op(lambda t, a, b: t.special.xlog1py(a, b), x, x)
    check_op(lambda t, a: t.special.softmax(a, 0), x)
    check_op(lambda t, a: t.special.log_softmax(a, 0), x)
    check_op(lambda t, a: t.special.logsumexp(a, 0), x)


def _values(lib, fn):
    out = fn(lib)
    return out.detach().numpy() if lib is torch else out._data


@pytest.mark.parametrize("fn", [
    lambda t: t.digamma(t.tensor([0.0, -0.0, -2.0, 1.0])),
    lambda t: t.xlogy(t.tensor([0.0, 0.0, 1.0]), t.tensor([0.0, float("nan"), 2.0])),
    lambda t: t.special.xlog1py(t.tensor([0.0, 2.0]), t.tensor([-1.0, float("nan")])),
    lambda t: t.sinc(t.tensor([0.0, 1e-30, 0.5])),
    lambda t: t.special.entr(t.tensor([0.0, -1.0, 0.5, float("nan")])),
    lambda t: t.polygamma(1, t.tensor([-2.5, 0.25, 3.0], dtype=t.float32)),
], ids=["digamma_zeros", "xlogy_zero", "xlog1py_edges", "sinc_zero", "entr_edges",
        "trigamma_float32"])
def test_values_torch_defines(fn):
    np.testing.assert_allclose(_values(engine, fn), _values(torch, fn), rtol=1e-6)


def test_sinc_grad_where_square_underflows():
    grads = []
    for lib in (torch, engine):
        x = lib.tensor([1e-170, 0.0, 0.5], dtype=lib.float64, requires_grad=True)
        grads.append(lib.autograd.grad(lib.sinc(x).sum(), x)[0].tolist())
    assert grads[0] == grads[1]


def test_keyword_forms_leave_ops_without_dims_unwrapped():
    # ops with no dim/keepdim parameter are bound as they are (no wrapper frame on hot ops)
    assert vars(engine.Tensor)["exp"] is engine.ops.elementwise.exp
    assert vars(engine.Tensor)["__mul__"] is engine.ops.elementwise.mul
    x = engine.ones(2, 3)
    assert x.sum(axis=1, keepdims=True).shape == (2, 1)
    assert x.view(size=(3, 2)).shape == (3, 2)


def test_round_decimals_is_round_decimals():
    for lib in (torch, engine):
        x = lib.tensor([0.123, 4.567], requires_grad=True)
        outs = [lib.round(x), lib.round(x, decimals=0), x.round(decimals=2), lib.special.round(x)]
        names = [type(out.grad_fn).__name__ for out in outs]
        assert names == ["RoundBackward0", "RoundBackward1", "RoundBackward1", "RoundBackward1"]


def test_memory_format_values():
    for name in ("contiguous_format", "preserve_format", "channels_last", "channels_last_3d"):
        assert repr(getattr(engine, name)) == repr(getattr(torch, name))
