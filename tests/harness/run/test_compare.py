"""The comparison finds every kind of difference, and only real ones."""

import numpy as np
import pytest

from harness.run.compare import (
    array_difference,
    compare,
    compare_printed,
    compare_values,
    measure,
)
from harness.run.trace import (
    ArrayState,
    ExceptionRecord,
    MappingState,
    Step,
    TensorState,
    Trace,
    WarningRecord,
    observe,
)


def tensor(values, dtype="float32", **flags):
    arr = np.asarray(values, dtype=dtype)
    state = dict(requires_grad=False, is_leaf=True, grad_fn=None, retains_grad=False, grad=None,
                 grad_warnings=())
    state.update(flags)
    return TensorState(ArrayState(arr, dtype, arr.shape), **state)


def fields(t, e):
    return [f for f, *_ in compare_values(t, e)]


def test_equal_tensors_have_no_difference():
    assert fields(tensor([1.0, 2.0]), tensor([1.0, 2.0])) == []


@pytest.mark.parametrize("dtype, delta, differs", [
    ("float32", 1e-6, False), ("float32", 1e-4, True),
    ("float64", 1e-8, False), ("float64", 1e-6, True),
    ("float16", 1e-3, False), ("float16", 1e-1, True),
])
def test_float_tolerances_are_assert_close_defaults(dtype, delta, differs):
    assert bool(array_difference(np.array([1.0], dtype), np.array([1.0 + delta], dtype), dtype)) \
        is differs


def test_integers_compare_exactly():
    assert array_difference(np.array([3]), np.array([4]), "int64")
    assert not array_difference(np.array([3]), np.array([3]), "int64")


def test_nan_equals_nan_but_not_inf():
    assert not array_difference(np.array([np.nan]), np.array([np.nan]), "float32")
    assert array_difference(np.array([np.inf]), np.array([-np.inf]), "float32")
    assert array_difference(np.array([1.0]), np.array([np.nan]), "float32")


def test_difference_detail_says_where_and_how_much():
    detail = array_difference(np.array([[1.0, 2.0]]), np.array([[1.0, 2.5]]), "float32")
    assert "1 of 2 elements" in detail and "(0, 1)" in detail and "max abs 0.5" in detail


@pytest.mark.parametrize("field, engine", [
    ("values", tensor([1.0, 3.0])),
    ("values.dtype", tensor([1.0, 2.0], dtype="float64")),
    ("values.shape", tensor([[1.0, 2.0]])),
    ("requires_grad", tensor([1.0, 2.0], requires_grad=True)),
    ("is_leaf", tensor([1.0, 2.0], is_leaf=False)),
    ("grad_fn", tensor([1.0, 2.0], grad_fn="AddBackward0")),
    ("retains_grad", tensor([1.0, 2.0], retains_grad=True)),
    ("grad", tensor([1.0, 2.0], grad=ArrayState(np.ones(2, "float32"), "float32", (2,)))),
    ("grad_warnings", tensor([1.0, 2.0], grad_warnings=("UserWarning: ...",))),
])
def test_each_tensor_field_is_compared(field, engine):
    assert fields(tensor([1.0, 2.0]), engine) == [field]


def test_python_values():
    assert fields(1.0, 1.0 + 1e-9) == []
    assert fields(1.0, 1.1) == ["value"]
    assert fields(True, 1) == ["value"]
    assert fields((1, 2), (1, 3)) == ["[1].value"]


def test_dict_values_and_keys_are_compared():
    d = lambda *items: MappingState(tuple(items))  # noqa: E731
    assert fields(d(("y", tensor([1.0]))), d(("y", tensor([1.0])))) == []
    assert fields(d(("y", tensor([1.0]))), d(("y", tensor([2.0])))) == ["['y'].values"]
    assert fields(d(("y", 1)), d(("z", 1))) == ["keys"]
    assert fields(d(("a", 1), ("b", 2)), d(("b", 2), ("a", 1))) == ["keys"]  # order is visible


def test_containers_are_observed_inside():
    from harness.run.backends import load

    backend = load("torch")
    x = backend.module.tensor([1.0, 2.0])
    seen = observe({"y": x + 2, "n": {3, 1, 2}}, backend)
    assert isinstance(seen, MappingState)
    assert [k for k, _ in seen.items] == ["y", "n"]
    assert seen.items[0][1].data.values.tolist() == [3.0, 4.0]
    assert seen.items[1][1] == (1, 2, 3)


@pytest.mark.parametrize("torch_text, engine_text, ok", [
    ("tensor([1.0000, 2.0000])", "tensor([1.0000, 2.0000])", True),
    ("Sum of the values: -8.364", "Sum of the values: -8.365", True),  # rounding boundary
    ("Sum of the values: -8.364", "Sum of the values: -8.366", False),
    ("tensor([1.0240e+02])", "tensor([1.0241e+02])", True),
    ("tensor([27., 27.])", "tensor([28., 27.])", False),  # integral floats print exactly
    ("tensor([3, 4])", "tensor([3, 5])", False),
    ("tensor([1.0000, 2.0000])", "tensor([1.0000,  2.0000])", False),
    ("grad_fn=<AddBackward0>", "grad_fn=<AddBackward1>", False),
])
def test_printed_text_rule(torch_text, engine_text, ok):
    assert (compare_printed(torch_text, engine_text) == "") is ok


def step(**kw):
    return Step(line=1, source="y = x", **kw)


def test_traces_report_first_differing_statement():
    t = Trace("torch", [step(stdout="a\n"), Step(2, "z = 1", exception=ExceptionRecord("E", "m"))])
    e = Trace("engine", [step(stdout="a\n"), Step(2, "z = 1")])
    [d] = compare(t, e)
    assert (d.statement_line, d.field) == (2, "exception")
    assert "E: m" in d.torch and "no exception" in d.engine


def test_warnings_compare_category_text_and_line():
    w = WarningRecord("UserWarning", "msg", 3)
    assert compare(Trace("t", [step(warnings=(w,))]), Trace("e", [step(warnings=())]))
    moved = WarningRecord("UserWarning", "msg", None)
    assert compare(Trace("t", [step(warnings=(w,))]), Trace("e", [step(warnings=(moved,))]))


def test_missing_variable_is_reported():
    [d] = compare(Trace("t", [step(state={"y": 1})]), Trace("e", [step(state={})]))
    assert d.field == "variables"


@pytest.mark.parametrize("wrap, variable, field", [
    (lambda t: t, "x", "values"),
    (lambda t: (tensor([0.0]), t), "ws", "[1].values"),
    (lambda t: ((t,),), "ws", "[0].[0].values"),
    (lambda t: MappingState((("y", t),)), "d", "['y'].values"),
    (lambda t: (MappingState((("y", t),)),), "d", "[0].['y'].values"),
])
def test_float_mismatches_inside_containers_carry_their_measure(wrap, variable, field):
    """The abs/rel/ULP numbers and the differing elements reach the discrepancy wherever the
    tensor sits: a list element (`ws[0].grad`), a dict entry (`d['y']`), nested."""
    def trace(values):
        return Trace("t", [Step(1, "y = x", state={variable: wrap(tensor(values))})])

    [d] = compare(trace([1.0, 2.0]), trace([1.0, 2.5]))
    assert (d.variable, d.field) == (variable, field)
    assert d.measure is not None
    assert d.measure["mismatched"] == 1
    assert d.measure["elements"] == [{"index": [1], "torch": 2.0, "engine": 2.5}]


def test_list_element_grad_mismatch_carries_a_measure():
    def trace(grad):
        ws = (tensor([1.0], requires_grad=True, grad=ArrayState(np.float32([grad]), "float32",
                                                                 (1,))),)
        return Trace("t", [Step(2, "loss.backward()", state={"ws": ws})])

    [d] = compare(trace(1.0), trace(3.0))
    assert (d.variable, d.field) == ("ws", "[0].grad")
    assert d.measure is not None and d.measure["max_abs"] == 2.0
    assert d.measure["dtype"] == "float32"  # what the report shows elements in


def _same_measurement(a, b) -> bool:
    numbers = ("max_abs", "max_rel", "max_ulp", "ratio")
    return all(getattr(a, n) == getattr(b, n) for n in numbers) and (
        (a.bad is None and b.bad is None)
        or (a.bad is not None and b.bad is not None and np.array_equal(a.bad, b.bad)))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_the_fast_measure_gives_the_general_numbers(dtype):
    """measure's fast path (finite differences, atol > 0) is taken on every example of an item:
    it must give exactly the numbers of the general path, also for zeros of both signs, a
    difference against an exact zero, differences past the tolerance, and 0-d arrays."""
    from harness.run.compare import _measure_general

    rng = np.random.default_rng(0)
    fast = 0
    for trial in range(600):
        shape = [(), (1,), (4,), (2, 3)][trial % 4]
        a = (rng.standard_normal(shape) * 10.0 ** int(rng.integers(-4, 3))).astype(dtype)
        b = a.copy()
        flat_a, flat_b = a.reshape(-1), b.reshape(-1)
        i = int(rng.integers(0, flat_b.size))
        kind = trial % 5
        if kind == 0:
            flat_b[i] = np.nextafter(flat_b[i], dtype(np.inf))
        elif kind == 1:
            flat_a[i], flat_b[i] = dtype(-0.0), dtype(0.0)
        elif kind == 2:
            flat_a[i], flat_b[i] = dtype(0.0), dtype(1e-3)
        elif kind == 3:
            flat_b[:] = flat_b * dtype(1.01)
        else:
            flat_b[i] = flat_b[i] + dtype(1)
        for rtol, atol in ((1.3e-6, 1e-5), (1e-7, 1e-7), (1e-3, 1e-5)):
            m = measure(a, b, rtol, atol)
            if m is None:
                continue
            fast += 1
            general = _measure_general(a, b, a.astype(np.float64), b.astype(np.float64),
                                       rtol, atol)
            assert _same_measurement(m, general), (a, b, rtol, atol, m, general)
    assert fast > 1000
