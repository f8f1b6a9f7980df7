"""Big elementwise ops split over threads give exactly the values of one numpy call."""

import warnings

import numpy as np
import pytest

import engine
from engine.runtime import parallel as _parallel

BIG = 3 * _parallel.GRAIN + 17  # three grains and a ragged end


@pytest.fixture
def two_threads():
    before = engine.get_num_threads()
    engine.set_num_threads(2)
    yield
    engine.set_num_threads(before)


def _split_calls(monkeypatch):
    """Count the slices computed, to show the split really happened."""
    calls = []
    real = _parallel._slice_call

    def counting(*args):
        calls.append(args[3:5])
        return real(*args)

    monkeypatch.setattr(_parallel, "_slice_call", counting)
    return calls


@pytest.mark.parametrize("shapes", [
    ((BIG,), (BIG,)),
    ((BIG,), ()),  # a Python scalar
    ((4, BIG // 4), (BIG // 4,)),  # broadcast along the split axis
    ((4, BIG // 4), (4, 1)),
    ((1, BIG), (3, 1)),  # the first operand broadcasts along axis 0
])
@pytest.mark.parametrize("ufunc", [np.add, np.multiply, np.true_divide])
def test_split_equals_one_call(two_threads, monkeypatch, shapes, ufunc):
    rng = np.random.default_rng(0)
    ops = [rng.standard_normal(s).astype(np.float32) if s else 2.5 for s in shapes]
    calls = _split_calls(monkeypatch)
    out = _parallel.elementwise(ufunc, *ops)
    expected = ufunc(*ops)
    assert out.dtype == expected.dtype and out.shape == expected.shape
    assert np.array_equal(out, expected)
    assert len(calls) == 2


def test_four_threads_split_in_four(monkeypatch):
    before = engine.get_num_threads()
    engine.set_num_threads(4)
    try:
        calls = _split_calls(monkeypatch)
        x = np.random.default_rng(3).standard_normal(4 * _parallel.GRAIN + 5).astype(np.float32)
        with warnings.catch_warnings(), np.errstate(over="ignore"):
            warnings.simplefilter("error")  # a worker without the caller's error state warns
            assert np.array_equal(_parallel.elementwise(np.exp, x * 100), np.exp(x * 100))
        assert len(calls) == 4
    finally:
        engine.set_num_threads(before)


def test_small_results_are_not_split(two_threads, monkeypatch):
    calls = _split_calls(monkeypatch)
    a = np.ones(_parallel.GRAIN, np.float32)
    assert np.array_equal(_parallel.elementwise(np.add, a, a), a + a)
    assert calls == []


def test_one_thread_is_not_split(monkeypatch):
    before = engine.get_num_threads()
    engine.set_num_threads(1)
    try:
        calls = _split_calls(monkeypatch)
        a = np.ones(BIG, np.float32)
        assert np.array_equal(_parallel.elementwise(np.multiply, a, 3.0), a * 3.0)
        assert calls == []
    finally:
        engine.set_num_threads(before)


def test_engine_ops_split_quietly(two_threads, monkeypatch):
    """exp of a big tensor goes through the split; overflow warns on no thread (torch never
    warns), and the chain's values and grads are numpy's arithmetic."""
    calls = _split_calls(monkeypatch)
    x = (np.random.default_rng(1).standard_normal(BIG) * 100).astype(np.float32)
    t = engine.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = t.exp() * t
        y.sum().backward()
    with np.errstate(all="ignore"):
        e = np.exp(x)
        assert np.array_equal(y.detach().numpy(), e * x)
        assert np.array_equal(t.grad.numpy(), np.ones_like(x) * x * e + np.ones_like(x) * e)
    assert len(calls) == 2  # exp: binary ops are not split (memory-bound)


@pytest.mark.parametrize("op", ["tanh", "sigmoid", "sqrt", "sin"])
def test_unary_family_splits(two_threads, monkeypatch, op):
    calls = _split_calls(monkeypatch)
    x = np.random.default_rng(2).uniform(0.1, 3, BIG).astype(np.float32)
    out = getattr(engine, op)(engine.tensor(x)).numpy()
    single = engine.set_num_threads(1) or getattr(engine, op)(engine.tensor(x)).numpy()
    assert np.array_equal(out, single)
    assert len(calls) == (2 if isinstance(getattr(np, op, None), np.ufunc) else 0)
