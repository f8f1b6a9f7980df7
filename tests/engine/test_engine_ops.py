"""Forward values, dtypes, grad_fn names and grads of every op, against torch."""

from __future__ import annotations

import numpy as np
import pytest
from engine_oracle import check_op, inputs

BROADCAST_PAIRS = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((4, 1, 3), (2, 3)), ((), (2,)),
                   ((2, 3), ())]

BINARY = {
    "add": lambda t, x, y: x + y,
    "sub": lambda t, x, y: x - y,
    "mul": lambda t, x, y: x * y,
    "div": lambda t, x, y: x / y,
    "add_alpha": lambda t, x, y: t.add(x, y, alpha=2.5),
    "sub_alpha": lambda t, x, y: x.sub(y, alpha=-3),
    "fn_add": lambda t, x, y: t.add(x, y),
    "fn_mul": lambda t, x, y: t.mul(x, y),
    "fn_div": lambda t, x, y: t.div(x, y),
    "method_div": lambda t, x, y: x.div(y),
    "where": lambda t, x, y: t.where(x > 0, x, y),
}


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_broadcasting(name, shapes):
    check_op(BINARY[name], *inputs(*shapes))


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_pow_tensor_tensor(shapes):
    base, exponent = inputs(*shapes, positive=True)
    check_op(lambda t, x, y: x ** y, base, exponent)


SCALAR_OPS = {
    "x+2": lambda t, x: x + 2,
    "2+x": lambda t, x: 2 + x,
    "x+2.5": lambda t, x: x + 2.5,
    "x+True": lambda t, x: x + True,
    "x-2": lambda t, x: x - 2,
    "2-x": lambda t, x: 2 - x,
    "2.5-x": lambda t, x: 2.5 - x,
    "x*3": lambda t, x: x * 3,
    "3*x": lambda t, x: 3 * x,
    "x/4": lambda t, x: x / 4,
    "2/x": lambda t, x: 2 / x,
    "x**2": lambda t, x: x ** 2,
    "x**3": lambda t, x: x ** 3,
    "x**0": lambda t, x: x ** 0,
    "x**1": lambda t, x: x ** 1,
    "x**-1": lambda t, x: x ** -1,
    "x**0.5": lambda t, x: x.abs() ** 0.5,
    "2**x": lambda t, x: 2 ** x,
    "0.5**x": lambda t, x: 0.5 ** x,
    "0**x": lambda t, x: 0 ** x,
    "-x": lambda t, x: -x,
    "+x": lambda t, x: +x,
    "abs": lambda t, x: abs(x),
    "x.abs()": lambda t, x: x.abs(),
    "exp": lambda t, x: x.exp(),
    "t.exp": lambda t, x: t.exp(x),
    "log": lambda t, x: x.abs().log(),
    "t.log": lambda t, x: t.log(x.abs()),
    "relu": lambda t, x: x.relu(),
    "t.relu": lambda t, x: t.relu(x),
    "F.relu": lambda t, x: t.nn.functional.relu(x),
    "reciprocal": lambda t, x: x.reciprocal(),
    "neg": lambda t, x: x.neg(),
    "t.neg": lambda t, x: t.neg(x),
    "np.float64*x": lambda t, x: np.float64(1.5) * x,
    "x*np.float64": lambda t, x: x * np.float64(1.5),
    "t.sub(2,x)": lambda t, x: t.sub(2, x),
    "t.mul(2,x)": lambda t, x: t.mul(2, x),
    "t.div(2,x)": lambda t, x: t.div(2, x),
    "t.pow(x,2)": lambda t, x: t.pow(x, 2),
    "t.pow(2,x)": lambda t, x: t.pow(2, x),
    "t.rsub(x,2)": lambda t, x: t.rsub(x, 2),
    "clone": lambda t, x: x.clone(),
    "to64": lambda t, x: x.to(t.float64),
    "double": lambda t, x: x.double() * 2,
    "chain": lambda t, x: ((x * 2 + 1) ** 2 / 3 - x).exp().mean(),
}


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)], ids=str)
@pytest.mark.parametrize("name", SCALAR_OPS)
def test_unary_and_scalar_ops(name, shape):
    check_op(SCALAR_OPS[name], *inputs(shape))


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


def test_relu_at_zero_and_abs_at_zero():
    x = np.array([-1.0, 0.0, 2.0], np.float32)
    check_op(lambda t, x: x.relu(), x)
    check_op(lambda t, x: x.abs(), x)


def test_special_values_forward():
    x = np.array([0.0, -1.0, np.inf, -np.inf, np.nan, 1e38], np.float32)
    for fn in (lambda t, x: x.log(), lambda t, x: x.exp(), lambda t, x: x / 0,
               lambda t, x: x * x, lambda t, x: 1 / x, lambda t, x: x.relu()):
        check_op(fn, x, grad=False)


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_other_float_dtypes(dtype):
    x, y = inputs((2, 3), (3,), dtype=dtype)
    check_op(lambda t, x, y: (x * y + 2).exp().sum(0), x, y)
    check_op(lambda t, x, y: (x / y - 1) ** 2, x, y)


def test_mixed_float_dtypes_cast_grads_back():
    x, = inputs((2, 3))
    y, = inputs((3,), dtype=np.float64)
    check_op(lambda t, x, y: x * y, x, y)
    z = np.array(1.5, np.float64)
    check_op(lambda t, x, z: x * z, x, z)  # 0-d float64 does not promote float32


def test_integer_tensor_ops_forward():
    i = np.array([[1, 2, 3], [4, 5, 6]], np.int64)
    for fn in (lambda t, a: a + 2, lambda t, a: a * 2.5, lambda t, a: a / 2,
               lambda t, a: 2 / a, lambda t, a: a ** 2, lambda t, a: 2 ** a,
               lambda t, a: a.sum(), lambda t, a: a.sum(1), lambda t, a: a.exp(),
               lambda t, a: a.log(), lambda t, a: -a, lambda t, a: a.abs(),
               lambda t, a: a.relu(), lambda t, a: a - 1, lambda t, a: 1 - a,
               lambda t, a: a < 3, lambda t, a: a.float().mean(), lambda t, a: a == 2.0,
               lambda t, a: a.mean(dtype=t.float64)):
        check_op(fn, i, grad=False)


def test_bool_tensor_ops_forward():
    b = np.array([True, False, True])
    for fn in (lambda t, a: a + a, lambda t, a: a * a, lambda t, a: a + 1, lambda t, a: a * 2.5,
               lambda t, a: a.sum(), lambda t, a: a ** 2, lambda t, a: a / a, lambda t, a: a == a,
               lambda t, a: a.exp()):
        check_op(fn, b, grad=False)


COMPARISONS = {
    "<": lambda t, x, y: x < y, "<=": lambda t, x, y: x <= y, ">": lambda t, x, y: x > y,
    ">=": lambda t, x, y: x >= y, "==": lambda t, x, y: x == y, "!=": lambda t, x, y: x != y,
    "t.lt": lambda t, x, y: t.lt(x, y), "x.ge": lambda t, x, y: x.ge(y),
    "scalar": lambda t, x, y: x < 0.5, "rscalar": lambda t, x, y: 0.5 < x,
}


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons(name):
    x, y = inputs((2, 3), (3,))
    y[0] = x[0, 0]  # one tie
    check_op(COMPARISONS[name], x, y)


def test_shared_input_grads_accumulate_inside_one_graph():
    check_op(lambda t, x: x * x + x / (x + 3), *inputs((3,)))
    check_op(lambda t, x, y: (x + y) * (x - y) * x, *inputs((2, 3), (3,)))


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
