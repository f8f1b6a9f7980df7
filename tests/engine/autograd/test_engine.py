"""Autograd behaviour against torch: graph structure, accumulation, retain_grad, freeing of
saved tensors, warnings, grad mode, deep graphs."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from engine_oracle import assert_same_tensor, strip_torch_tail, warnings_of

import engine

LIBS = [torch, engine]


# ----------------------------------------------------------------- graph structure
def _structure(fn, depth=4):
    """(name, [children]) of a grad_fn graph, with leaves as ('AccumulateGrad', index)."""
    if fn is None:
        return None
    if depth == 0:
        return "..."
    if type(fn).__name__ == "AccumulateGrad":
        return ("AccumulateGrad", fn.name(), round(float(fn.variable.detach().sum()), 4))
    return (type(fn).__name__, fn.name(),
            [(_structure(nxt, depth - 1), idx) for nxt, idx in fn.next_functions])


GRAPHS = {
    "x+2": lambda t, x, c: x + 2,
    "2+x": lambda t, x, c: 2 + x,
    "t.add(2,x)": lambda t, x, c: t.add(2, x),
    "c+x": lambda t, x, c: c + x,
    "x*x": lambda t, x, c: x * x,
    "2/x": lambda t, x, c: 2 / x,
    "2-x": lambda t, x, c: 2 - x,
    "x**2": lambda t, x, c: x ** 2,
    "x**c": lambda t, x, c: x ** c,
    "c**x": lambda t, x, c: c ** x,
    "2**x": lambda t, x, c: 2 ** x,
    "mean": lambda t, x, c: (x * 3).mean(),
    "tutorial": lambda t, x, c: ((x + 2) * (x + 2) * 3).mean(),
    "norm": lambda t, x, c: x.norm(dim=0),
    "where": lambda t, x, c: t.where(x > 1, x, c),
    "exp.log": lambda t, x, c: x.exp().log().sum(0),
    "relu": lambda t, x, c: t.nn.functional.relu(x - c),
}


@pytest.mark.parametrize("name", GRAPHS)
def test_graph_structure_matches_torch(name):
    structures = []
    for lib in LIBS:
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        c = lib.tensor([0.5, 1.5])
        structures.append(_structure(GRAPHS[name](lib, x, c).grad_fn))
    assert structures[1] == structures[0]


def test_leaf_accumulator_is_shared_and_points_at_the_leaf():
    x = engine.ones(2, requires_grad=True)
    a, b = x * 2, x + 1
    assert a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0]
    acc = a.grad_fn.next_functions[0][0]
    assert acc.variable is x and acc.next_functions == ()
    assert acc.name() == "torch::autograd::AccumulateGrad"


def test_node_and_class_reprs_look_like_torch():
    for lib in LIBS:
        y = lib.ones(2, requires_grad=True) + 2
        assert re.fullmatch(r"<AddBackward0 object at 0x[0-9a-f]+>", repr(y.grad_fn))
        assert repr(type(y.grad_fn)) == "<class 'AddBackward0'>"
        assert re.fullmatch(r"<AccumulateGrad object at 0x[0-9a-f]+>",
                            repr(y.grad_fn.next_functions[0][0]))
        assert repr(type(y)) == "<class 'torch.Tensor'>"
        assert y.grad_fn.name() == "AddBackward0"


def test_leaf_flags():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        c = lib.ones(2)
        y = x * 2
        flags = [(t.is_leaf, t.requires_grad, t.grad_fn is None) for t in (x, c, y, c * 2,
                                                                           y.detach(), x.data)]
        if lib is torch:
            want = flags
    assert flags == want


# ----------------------------------------------------------------- accumulation
def test_grads_accumulate_across_backward_calls_in_place():
    results = []
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        first = x.grad
        (x * 3).sum().backward()
        results.append((x.grad.tolist(), first is x.grad, first.tolist()))
        x.grad = lib.zeros(2)
        mine = x.grad
        (x * 2).sum().backward()
        results.append((mine.tolist(), mine is x.grad))
        x.grad = None
        (x * 2).sum().backward()
        results.append(x.grad.tolist())
    assert results[3:] == results[:3]


def test_leaf_grad_does_not_alias_the_given_gradient():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        y = lib.ones(2, requires_grad=True)
        gradient = lib.tensor([1.0, 2.0])
        (x + y).backward(gradient)
        (x + y).backward(gradient)
        assert x.grad.tolist() == [2.0, 4.0] and y.grad.tolist() == [2.0, 4.0]
        assert gradient.tolist() == [1.0, 2.0]


def test_transposed_weight_grad_is_stolen_not_copied():
    """``x @ w.t()`` hands ``w`` a view of a fresh product: nothing else holds it, so it
    becomes ``w.grad`` without a copy (torch steals it too); a hook keeping the intermediate
    grad shares that memory, so then the grad is copied."""
    from engine.autograd import engine as _autograd

    stolen = []
    accumulate = _autograd._accumulate

    def spy(leaf, grad, create_graph, steal=False):
        stolen.append(steal)
        return accumulate(leaf, grad, create_graph, steal)

    x = engine.ones(4, 3)
    w = engine.ones(5, 3, requires_grad=True)
    kept = []
    try:
        _autograd._accumulate = spy
        (x @ w.t()).sum().backward()
        wt = w.t()
        wt.register_hook(kept.append)
        (x @ wt).sum().backward()
    finally:
        _autograd._accumulate = accumulate
    assert stolen == [True, False]
    assert w.grad.tolist() == [[8.0] * 3] * 5
    assert not w.grad._is_view() and w.grad._version == 1
    assert not np.shares_memory(kept[0]._data, w.grad._data)


def test_backward_on_a_leaf():
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.backward(lib.tensor([3.0, 4.0]))
        assert x.grad.tolist() == [3.0, 4.0]
        s = lib.tensor(2.0, requires_grad=True)
        s.backward()
        assert s.grad.item() == 1.0


def test_gradient_is_cast_to_the_output_dtype():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        (x * 2).backward(lib.tensor([1, 2]))
        assert x.grad.dtype == lib.float32 and x.grad.tolist() == [2.0, 4.0]


# ----------------------------------------------------------------- retain_grad
def _tutorial_retain_grad(t):
    tensor = t.tensor([[1.0, -2.0, 3.0], [0.5, 0.25, -1.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x = tensor * 2
    sum_result = x.sum()
    before = (tensor.grad, x.grad, sum_result.grad)
    sum_result.retain_grad()
    sum_result.backward()
    return before, (tensor.grad, x.grad, sum_result.grad)


@pytest.mark.filterwarnings("ignore:The .grad attribute")
def test_tutorial_retain_grad_cell():
    t_before, t_after = _tutorial_retain_grad(torch)
    e_before, e_after = _tutorial_retain_grad(engine)
    assert e_before == (None, None, None) == t_before
    assert e_after[1] is None and t_after[1] is None
    assert_same_tensor(e_after[0], t_after[0])
    assert_same_tensor(e_after[2], t_after[2])
    assert warnings_of(_tutorial_retain_grad, engine) == warnings_of(_tutorial_retain_grad, torch)


def test_retain_grad_flags_and_accumulation():
    results = []
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.retain_grad()  # a no-op on leaves
        y = x * 2
        y.retain_grad()
        y.retain_grad()
        z = y * y + y
        s = z.sum()
        s.backward(retain_graph=True)
        first = y.grad
        s.backward()
        results.append((x.retains_grad, y.retains_grad, z.retains_grad, first.tolist(),
                        y.grad.tolist(), first is y.grad, x.grad.tolist()))
    assert results[1] == results[0]


def test_retained_grad_under_create_graph_is_a_clone():
    names = []
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        y.retain_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (y * x).sum().backward(create_graph=True)
        names.append((type(y.grad.grad_fn).__name__, type(x.grad.grad_fn).__name__))
        x.grad = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x * x).sum().backward(create_graph=True)
        names.append(type(x.grad.grad_fn).__name__)
    assert names[2:] == names[:2]


# ----------------------------------------------------------------- freeing saved tensors
TWICE = {
    "x+2": lambda x, c: x + 2, "x+c": lambda x, c: x + c, "x-c": lambda x, c: x - c,
    "-x": lambda x, c: -x, "2-x": lambda x, c: 2 - x, "mean": lambda x, c: x.mean(),
    "mean0": lambda x, c: x.mean(0), "sum0": lambda x, c: x.sum(0),
    "x*2": lambda x, c: x * 2, "x*c": lambda x, c: x * c, "c*x": lambda x, c: c * x,
    "x/2": lambda x, c: x / 2, "c/x": lambda x, c: c / x, "2/x": lambda x, c: 2 / x,
    "x**2": lambda x, c: x ** 2, "x**c": lambda x, c: x ** c, "2**x": lambda x, c: 2 ** x,
    "exp": lambda x, c: x.exp(), "log": lambda x, c: x.log(), "norm": lambda x, c: x.norm(),
    "relu": lambda x, c: x.relu(), "abs": lambda x, c: x.abs(), "x**1": lambda x, c: x ** 1,
}


@pytest.mark.parametrize("name", TWICE)
def test_second_backward_fails_exactly_when_torch_frees_saved_tensors(name):
    outcomes = []
    for lib in LIBS:
        x = lib.ones(2, 2, requires_grad=True)
        c = lib.ones(2, 2)
        y = TWICE[name](x, c).sum()
        y.backward()
        try:
            y.backward()
            outcomes.append(("ok", x.grad.tolist()))
        except RuntimeError as e:
            outcomes.append(("error", str(e)))
    assert outcomes[1] == outcomes[0]


def test_retain_graph_allows_a_second_backward():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        assert x.grad.tolist() == [4.0, 4.0]


def test_create_graph_retains_the_graph_by_default():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        y = (x * x).sum()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y.backward(create_graph=True)
            y.backward()
        assert x.grad.tolist() == [4.0, 4.0]


# ----------------------------------------------------------------- warnings
def test_non_leaf_grad_warning_matches_torch_and_points_at_the_caller():
    def read(t):
        x = t.ones(2, requires_grad=True)
        y = x * 2
        y.grad  # noqa: B018 - warns
        x.grad  # noqa: B018 - leaf: no warning
        y.retain_grad()
        y.grad  # noqa: B018 - retained: no warning
        z = x * 3
        z.grad = t.ones(2)
        z.grad  # noqa: B018 - defined: no warning

    assert warnings_of(read, engine) == warnings_of(read, torch)
    assert len(warnings_of(read, engine)) == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (engine.ones(1, requires_grad=True) * 2).grad  # noqa: B018
    assert caught[0].filename == __file__


def _first_warnings_in_fresh_process(lib_name):
    """Warnings that torch/engine emit once per process, captured in a new interpreter."""
    code = f"""
import warnings, {lib_name} as t
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    x = t.ones(2, requires_grad=True)
    (x * x).sum().backward(create_graph=True)
    (x * x).sum().backward(create_graph=True)
    float(t.ones((), requires_grad=True)); float(t.ones((), requires_grad=True))
for m in w:
    print(repr((m.category.__name__, str(m.message))))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return [eval(line) for line in out.splitlines()]  # noqa: S307 - our own repr output


def test_once_per_process_warnings_match_torch():
    want = [(c, strip_torch_tail(m)) for c, m in _first_warnings_in_fresh_process("torch")]
    got = _first_warnings_in_fresh_process("engine")
    assert len(want) == 2
    assert got == want


# ----------------------------------------------------------------- grad mode
def test_no_grad_forms():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            assert not lib.is_grad_enabled()
            y = x * 2
            with lib.enable_grad():
                z = x * 2
            made = lib.ones(2, requires_grad=True)
        assert lib.is_grad_enabled()
        assert (y.requires_grad, y.is_leaf, y.grad_fn) == (False, True, None)
        assert z.requires_grad and made.requires_grad

        @lib.no_grad()
        def double(v):
            return v * 2

        @lib.no_grad
        def triple(v):
            return v * 3

        assert not double(x).requires_grad and not triple(x).requires_grad

        @lib.enable_grad()
        def quad(v):
            return v * 4

        with lib.no_grad():
            assert quad(x).requires_grad
        assert lib.is_grad_enabled()


def test_set_grad_enabled_forms():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        lib.set_grad_enabled(False)
        assert not (x * 2).requires_grad
        lib.set_grad_enabled(True)
        with lib.set_grad_enabled(False):
            assert not lib.is_grad_enabled()
        assert lib.is_grad_enabled()

        @lib.set_grad_enabled(False)
        def f(v):
            return v * 2

        assert lib.is_grad_enabled()
        assert not f(x).requires_grad
        assert lib.is_grad_enabled()


def test_backward_of_graph_built_before_no_grad():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        with lib.no_grad():
            y.backward(lib.ones(2))
        assert x.grad.tolist() == [2.0, 2.0]


def test_y_data_norm_loop_from_the_tutorial():
    results = []
    for lib in LIBS:
        x = lib.tensor([0.0475, -0.6505, -1.0864], requires_grad=True)
        y = x * 2
        while y.data.norm() < 1000:
            y = y * 2
        y.backward(lib.FloatTensor([0.1, 1.0, 0.0001]))
        results.append((y.detach().numpy().copy(), x.grad.numpy().copy(), type(y.grad_fn).__name__))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-6)
    assert results[1][2] == results[0][2]


# ----------------------------------------------------------------- deep graphs
def test_chain_of_10000_ops_backpropagates_without_recursion():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(10000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10000] * 2, rtol=1e-3)
    del y  # dropping a 20000-node graph must not overflow the C stack either


def test_wide_fan_in_accumulates_like_torch():
    results = []
    for lib in LIBS:
        x = lib.tensor([0.1, 0.2, 0.3], requires_grad=True)
        total = x * 0
        for i in range(50):
            total = total + (x * (i + 0.1)).exp() / 7.0
        total.sum().backward()
        results.append(x.grad.numpy().copy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)
