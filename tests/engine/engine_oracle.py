"""Run the same code on torch and on the engine and compare what a user could observe.

``check_op`` is tinygrad's ``helper_test_op`` for this engine: one lambda, the same numpy
inputs for both libraries, then forward values, dtypes, shapes, grad_fn names and input
grads are compared.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

import engine

TOLERANCE = {  # torch.testing.assert_close defaults per dtype
    "float16": (1e-3, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}


def inputs(*shapes, seed=0, low=-2.0, high=2.0, dtype=np.float32, positive=False):
    """Tie-free random arrays (no exact zeros), optionally positive."""
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        a = rng.uniform(low, high, size=shape)
        a = np.where(np.abs(a) < 0.1, 0.5, a)  # keep away from kinks at 0
        if positive:
            a = np.abs(a) + 0.1
        out.append(a.astype(dtype))
    return out


def grad_fn_name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def graph_names(t, depth):
    """The class names of the backward graph under ``t``, level by level, ``depth`` levels."""
    levels, frontier = [], [t.grad_fn]
    for _ in range(depth):
        levels.append(tuple(type(f).__name__ for f in frontier if f is not None))
        frontier = [n for f in frontier if f is not None for n, _ in f.next_functions
                    if n is not None]
    return levels


def assert_same_tensor(e, t, what="value", rtol=None, atol=None):
    """An engine tensor equals a torch tensor: dtype, shape and values."""
    assert isinstance(e, engine.Tensor), f"{what}: engine gave {type(e).__name__}"
    assert str(e.dtype) == str(t.dtype), f"{what}: dtype {e.dtype} != {t.dtype}"
    assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {e.shape} != {t.shape}"
    got = e.detach().numpy()
    want = t.detach().numpy()
    if got.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    default_rtol, default_atol = TOLERANCE[got.dtype.name]
    np.testing.assert_allclose(
        got, want, rtol=rtol or default_rtol, atol=atol or default_atol, err_msg=what,
        equal_nan=True,
    )


def run_both(fn, arrays, requires_grad=True):
    """``fn(lib, *tensors)`` on both libraries; returns (torch_inputs, torch_out, engine_...)."""
    t_in = [torch.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f") for a in arrays]
    e_in = [engine.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f") for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = fn(torch, *t_in)
        e_out = fn(engine, *e_in)
    return t_in, t_out, e_in, e_out


def check_op(fn, *arrays, grad=True, rtol=None, atol=None, seed=1):
    """Compare forward and backward of ``fn(lib, *tensors)`` on torch and on the engine."""
    t_in, t_out, e_in, e_out = run_both(fn, arrays, requires_grad=grad)
    assert_same_tensor(e_out, t_out, "forward", rtol, atol)
    assert grad_fn_name(e_out) == grad_fn_name(t_out), "grad_fn name"
    assert e_out.requires_grad == t_out.requires_grad, "requires_grad"
    if not grad or not t_out.requires_grad:
        return
    g = inputs(tuple(t_out.shape), seed=seed, dtype=t_out.detach().numpy().dtype)[0]
    t_out.backward(torch.tensor(g))
    e_out.backward(engine.tensor(g))
    for i, (ti, ei) in enumerate(zip(t_in, e_in, strict=True)):
        if ti.grad is None:
            assert ei.grad is None, f"grad of input {i}: expected None"
        else:
            assert ei.grad is not None, f"grad of input {i}: engine gave None"
            assert_same_tensor(ei.grad, ti.grad, f"grad of input {i}", rtol, atol)


def raised(fn, lib):
    """(exception type name, message) that ``fn(lib)`` raises, or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(lib)
    except Exception as e:  # noqa: BLE001 - that is the point
        return type(e).__name__, str(e)
    return None


def strip_torch_tail(message: str) -> str:
    """Drop the ' (Triggered internally at ...)' tail torch's C++ warnings carry."""
    i = message.find(" (Triggered internally at ")
    return message if i < 0 else message[:i]


def warnings_of(fn, lib):
    """Texts and categories of the warnings ``fn(lib)`` emits (tails stripped)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(lib)
    return [(w.category.__name__, strip_torch_tail(str(w.message))) for w in caught]
