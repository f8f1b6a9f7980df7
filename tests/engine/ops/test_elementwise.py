"""Elementwise ops (arithmetic, powers, unary math, comparisons, where, casts) against
torch: forward values, dtypes, grad_fn names and grads via ``check_op``."""

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


UNARY = {
    "sqrt": lambda t, x: x.abs().sqrt(), "rsqrt": lambda t, x: x.abs().rsqrt(),
    "log2": lambda t, x: x.abs().log2(), "log1p": lambda t, x: x.abs().log1p(),
    "expm1": lambda t, x: x.expm1(), "sin": lambda t, x: t.sin(x), "cos": lambda t, x: x.cos(),
    "tan": lambda t, x: x.tan(), "tanh": lambda t, x: x.tanh(),
    "sigmoid": lambda t, x: x.sigmoid(),
    "floor": lambda t, x: x.floor(), "ceil": lambda t, x: x.ceil(), "round": lambda t, x: x.round(),
    "trunc": lambda t, x: x.trunc(), "sign": lambda t, x: x.sign(),
    "square": lambda t, x: x.square(),
    "clamp": lambda t, x: x.clamp(-1, 1), "clamp_min": lambda t, x: x.clamp_min(0),
    "clamp_max": lambda t, x: t.clamp_max(x, 0.5), "clip": lambda t, x: t.clip(x, max=0.3),
}

MATH_BINARY = {
    "maximum": lambda t, x, y: t.maximum(x, y), "minimum": lambda t, x, y: t.minimum(x, y),
    "remainder": lambda t, x, y: x % y, "clamp_t": lambda t, x, y: x.clamp(min=y),
    "clamp_min_t": lambda t, x, y: x.clamp_min(y), "div_floor": lambda t, x, y: t.div(
        x, y, rounding_mode="floor"),
}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_math_unary(name, dtype):
    check_op(UNARY[name], *inputs((3, 4), dtype=dtype))


@pytest.mark.parametrize("name", MATH_BINARY)
def test_math_binary(name):
    check_op(MATH_BINARY[name], *inputs((3, 4), (4,)))
