"""engine._tensor_str.format_tensor must print exactly what PyTorch's repr(tensor) prints."""

import importlib.util
import math
import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, from_dtype

# Load the module from its file: engine/ is being written concurrently and its __init__
# may not exist (or may import unfinished code), and this module needs none of it.
_PATH = pathlib.Path(__file__).resolve().parents[2] / "engine" / "_tensor_str.py"
_spec = importlib.util.spec_from_file_location("_engine_tensor_str_under_test", _PATH)
tensor_str = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = tensor_str
_spec.loader.exec_module(tensor_str)
format_tensor = tensor_str.format_tensor

MAX_EXAMPLES = 300

FLOAT_DTYPES = [np.float16, np.float32, np.float64]
INT_DTYPES = [np.int64, np.int32, np.int16, np.int8, np.uint8]
ALL_DTYPES = FLOAT_DTYPES + INT_DTYPES + [np.bool_]


def ours(t: torch.Tensor) -> str:
    """format_tensor fed with everything our Tensor class would know about ``t``."""
    grad_fn_name = type(t.grad_fn).__name__ if t.grad_fn is not None else None
    return format_tensor(
        t.detach().numpy(),
        str(t.dtype).removeprefix("torch."),
        grad_fn_name=grad_fn_name,
        requires_grad=t.requires_grad,
    )


def check(arr: np.ndarray) -> None:
    """Plain, requires_grad and grad_fn variants all match torch."""
    t = torch.tensor(arr)
    assert ours(t) == repr(t)
    if t.dtype.is_floating_point:
        leaf = torch.tensor(arr, requires_grad=True)
        assert ours(leaf) == repr(leaf)
        result = leaf * 1  # grad_fn=<MulBackward0>, same values (incl. -0.0, nan)
        assert ours(result) == repr(result)


nan, inf = math.nan, math.inf

TRICKY = [
    # 0-d
    np.float32(3.0),
    np.float32(0.1),
    np.float64(-0.0),
    np.float32(nan),
    np.float32(-inf),
    np.float64(1e-300),
    np.float64(5e-324),
    np.float16(65504),
    np.int64(-7),
    np.bool_(True),
    np.uint8(255),
    # 1-d
    np.array([1.0, 2.0, 3.0], np.float32),
    np.array([1.5, -2.25, 3.0], np.float32),
    np.array([0.1, 0.2, 0.3], np.float32),
    np.array([0.0, -0.0], np.float32),
    np.array([-0.0, 1.0], np.float32),
    np.array([-0.0, 1.5], np.float32),
    np.array([nan, inf, -inf], np.float32),
    np.array([nan, 1.0, -inf, 0.0], np.float64),
    np.array([nan, 1.5], np.float32),
    np.array([1e-5, 1.0], np.float32),
    np.array([1e-4, 1.0], np.float64),
    np.array([1.0, 1000.0], np.float64),
    np.array([1.0, 1000.5], np.float64),
    np.array([0.9, 1000.0], np.float64),
    np.array([1e8, 1.0e8 + 1], np.float64),
    np.array([1e8, 2e8], np.float32),
    np.array([123456789.0], np.float32),
    np.array([1e20, -1e-20], np.float32),
    np.array([1e300, 1e-300], np.float64),
    np.array([1e300, -1e300, 1e-300], np.float64),
    np.array([1e-310, 3.0], np.float64),
    np.array([9.99995, 1.0], np.float64),
    np.array([9.99994, 1.0], np.float64),
    np.array([0.00005, 0.5], np.float32),
    np.array([99999.5, 1.0], np.float64),
    np.array([9.99995e9, 1.0], np.float64),
    np.array([9.99995e-100, 1.0], np.float64),
    np.array([1.0, 2.0, 3.0], np.float16),
    np.array([0.1, 65504, -65504, 6e-8], np.float16),
    np.array([2**31 - 1, -(2**31)], np.int32),
    np.array([2**63 - 1, -(2**63)], np.int64),
    np.array([True, False], np.bool_),
    np.array([True, True], np.bool_),
    np.array([0, 255], np.uint8),
    np.array([-128, 127], np.int8),
    np.array([-5, 10000], np.int16),
    # wrapping
    np.arange(100, dtype=np.float32) / 7,
    np.arange(40, dtype=np.float64) * 1e10,
    np.arange(30, dtype=np.int64) * 10**15,
    (np.arange(60, dtype=np.float32) / 3).reshape(3, 20),
    np.arange(2 * 3 * 4 * 25, dtype=np.float64).reshape(2, 3, 4, 25) / 9,
    np.arange(1000, dtype=np.float32),
    # n-d
    np.full((2, 2), 3.0, np.float32),
    np.arange(24, dtype=np.int64).reshape(2, 3, 4),
    np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4) - 11.5,
    np.ones((1, 1, 1, 1), np.bool_),
    # suffix wrapping: the last line is close to 80 columns
    np.array([1.5] * 8, np.float64),
    np.array([1.5] * 9, np.float64),
    np.array([1.5] * 10, np.float64),
    np.array([1.5] * 11, np.float64),
    np.array([[1.5] * 8] * 2, np.float16),
    np.array([1] * 22, np.uint8),
    np.array([1] * 24, np.int32),
    # empty
    np.zeros((0,), np.float32),
    np.zeros((0,), np.float64),
    np.zeros((0,), np.int64),
    np.zeros((0,), np.bool_),
    np.zeros((2, 0), np.float32),
    np.zeros((0, 3, 4), np.int32),
    np.zeros((1, 0, 2, 0), np.float16),
    # summarization
    np.arange(1001, dtype=np.float32),
    np.arange(2000, dtype=np.int64).reshape(40, 50),
    np.linspace(-1, 1, 7**4).reshape(7, 7, 7, 7),
    np.arange(10**5, dtype=np.float64).reshape(10, 10, 1000) * 1e-3,
    np.full((3, 500), np.nan, np.float32),
    np.full((2000, 1), -0.0, np.float32),
]


@pytest.mark.parametrize("arr", TRICKY, ids=lambda a: f"{a.dtype}{list(np.shape(a))}")
def test_tricky_cases(arr):
    check(np.asarray(arr))


class AFunctionWithAnUnusuallyLongNameForTesting(torch.autograd.Function):
    """Its grad_fn name is long enough to push the suffix onto its own line."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad


@pytest.mark.parametrize("n", [1, 5, 9, 12])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_long_grad_fn_name_wraps_like_torch(n, dtype):
    x = torch.full((n,), 1.5, dtype=dtype, requires_grad=True)
    y = AFunctionWithAnUnusuallyLongNameForTesting.apply(x)
    assert type(y.grad_fn).__name__ == "AFunctionWithAnUnusuallyLongNameForTestingBackward"
    assert ours(y) == repr(y)


SPECIALS = st.sampled_from([nan, inf, -inf, 0.0, -0.0, 1.0, -1.0])


@st.composite
def tensors(draw, min_side=0, max_side=5):
    """Arrays of every supported dtype, shapes up to 4-d (incl. zero-size).

    Floats are drawn from one "style" per array so that each layout torch can pick
    (integer mode, fixed, scientific) is hit often, not only scientific.
    """
    dtype = np.dtype(draw(st.sampled_from(ALL_DTYPES)))
    shape = draw(array_shapes(min_dims=0, max_dims=4, min_side=min_side, max_side=max_side))
    if dtype.kind != "f":
        return draw(arrays(dtype, shape))
    width = dtype.itemsize * 8
    style = draw(st.sampled_from(["any", "integral", "moderate", "small", "decimal"]))
    base = {
        "any": st.floats(width=width),
        "integral": st.integers(-2048, 2048).map(float),
        "moderate": st.floats(-2048.0, 2048.0, width=width),
        "small": st.floats(-1.0, 1.0, width=width),
        "decimal": st.integers(-99999, 99999).map(lambda i: i / 1000),
    }[style]
    elements = st.one_of(base, SPECIALS) if draw(st.booleans()) else base
    return draw(arrays(dtype, shape, elements=elements))


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(tensors())
def test_matches_torch(arr):
    check(arr)


@st.composite
def large_tensors(draw):
    """Over THRESHOLD elements, rows wide enough to wrap: values from a small drawn pool."""
    dims = draw(st.lists(st.integers(1, 40), min_size=1, max_size=4))
    if math.prod(dims) <= 1000:
        dims[0] = 1000 // math.prod(dims[1:]) + 1
    dtype = np.dtype(draw(st.sampled_from(ALL_DTYPES)))
    if dtype.kind == "f":
        pool_elems = st.one_of(st.floats(width=dtype.itemsize * 8), SPECIALS)
    else:
        pool_elems = from_dtype(dtype)
    pool = np.array(draw(st.lists(pool_elems, min_size=1, max_size=8)), dtype=dtype)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.choice(pool, size=tuple(dims))


@settings(max_examples=MAX_EXAMPLES // 3, deadline=None)
@given(large_tensors())
def test_summarized_matches_torch(arr):
    assert arr.size > 1000
    check(arr)
