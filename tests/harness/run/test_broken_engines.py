"""Proof that the harness can fail: break the engine on purpose, one behaviour at a time, and check
that the tutorial specs report each break as a failure that names the right statement and field,
and that over the tutorial and autograd specs the report's first suspect is what was broken.

A harness that passes a broken engine is the worst bug this project can have.
"""

import functools
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import engine
from engine import _tensor
from engine.autograd import node as _node
from engine.ops import elementwise as _derivatives
from harness.contract import FAILED, PASSED
from harness.report.suspects import rank
from harness.run.plugin import spec_items
from harness.run.records import record_for_spec
from harness.run.runner import check
from harness.spec import Spec, SpecError, load_file

ROOT = Path(__file__).parents[3]
TUTORIAL = ROOT / "specs" / "tutorial"


def tutorial_spec(file: str, name: str) -> Spec:
    [spec] = [s for s in load_file(TUTORIAL / file).entries if s.name == name]
    return spec


def run(file: str, name: str):
    spec = tutorial_spec(file, name)
    [variant, *_] = spec.variants()
    return check(spec, variant, f"{file}::{name}", session_seed=0, max_examples=10)


def wrong_mul_gradient(mp):
    mp.setattr(_derivatives.MulBackward0, "formulas", (
        lambda n, g: g * n.other + g,  # d(a*b)/da is b, not b + 1
        lambda n, g: g * n.self_,
    ))


def wrong_add_forward(mp):
    add = engine.Tensor.__add__
    mp.setattr(engine.Tensor, "__add__", lambda self, other: add(add(self, other), 0.5))


def non_leaf_grad_filled_in(mp):
    real = _tensor.Tensor.grad

    def grad(self):
        if self._grad is None and self._grad_fn is not None:
            return _tensor.make(np.ones_like(self._data))
        return real.fget(self)

    mp.setattr(_tensor.Tensor, "grad", property(grad, real.fset, real.fdel))


def no_non_leaf_warning(mp):
    mp.setattr(_tensor, "warnings", SimpleNamespace(warn=lambda *args, **kwargs: None))


def second_backward_does_not_raise(mp):
    mp.setattr(_node.Node, "release", lambda self: None)


def warning_points_at_engine_code(mp):
    import warnings

    def warn(message, category, stacklevel=1):
        warnings.warn(message, category, stacklevel=1)  # should point at the user's line

    mp.setattr(_tensor, "warnings", SimpleNamespace(warn=warn))


def wrong_grad_fn_name(mp):
    renamed = type("AddBackward1", (_derivatives.AddBackward0,), {"__slots__": ()})
    mp.setattr(_derivatives, "AddBackward0", renamed)


def node_repr_with_module(mp):
    mp.setattr(_node.Node, "__repr__",
               lambda self: f"<engine.{type(self).__name__} object at {hex(id(self))}>")


def wrong_exception_message(mp):
    mp.setattr(_node, "SECOND_BACKWARD", "Trying to backward through the graph twice.")


def slightly_wrong_sum(mp):
    real = engine.Tensor.sum
    mp.setattr(engine.Tensor, "sum", lambda self, *a, **k: real(self, *a, **k) + 0.0009)


def wrong_print(mp):
    import engine._tensor_str as tensor_str

    real = tensor_str.format_tensor
    mp.setattr(tensor_str, "format_tensor", lambda *a, **k: real(*a, **k).replace(", ", ","))


BREAKS = [
    # (break, spec file, spec name, program line, variable, field)
    (wrong_mul_gradient, "03_gradients.yaml", "print_gradients", 5, "x", "grad"),
    (wrong_mul_gradient, "05_retain_grad.yaml", "retain_grad_assignment", 17, "tensor", "grad"),
    (wrong_add_forward, "01_tensor.yaml", "add_creates_grad_fn", 2, "y", "values"),
    (non_leaf_grad_filled_in, "05_retain_grad.yaml", "retain_grad_assignment", 4, "x", "grad"),
    (no_non_leaf_warning, "05_retain_grad.yaml", "retain_grad_assignment", 4, "x",
     "grad_warnings"),
    (warning_points_at_engine_code, "05_retain_grad.yaml", "retain_grad_assignment", 12, None,
     "warnings"),
    (second_backward_does_not_raise, "03_gradients.yaml", "backward_twice_raises", 6, None,
     "exception"),
    (wrong_grad_fn_name, "01_tensor.yaml", "add_creates_grad_fn", 2, "y", "grad_fn"),
    (node_repr_with_module, "01_tensor.yaml", "print_grad_fn", 3, None, "stdout"),
    (wrong_exception_message, "03_gradients.yaml", "backward_twice_raises", 6, None,
     "exception"),
    (wrong_print, "01_tensor.yaml", "create_tensor_requiring_grad", 2, None, "stdout"),
    (slightly_wrong_sum, "02_sum_assignment.yaml", "sum_assignment", 3, "total", "values"),
]


@pytest.mark.parametrize("file, name", sorted({(b[1], b[2]) for b in BREAKS}))
def test_unbroken_engine_passes(file, name):
    """The control: without a break, these specs pass (so a failure below is the break's)."""
    assert run(file, name).outcome == PASSED


@pytest.mark.parametrize(
    "break_engine, file, name, line, variable, field", BREAKS,
    ids=[f"{b[0].__name__}-{b[2]}-{b[5]}" for b in BREAKS],
)
def test_broken_engine_is_reported(monkeypatch, break_engine, file, name, line, variable, field):
    break_engine(monkeypatch)
    result = run(file, name)
    assert result.outcome == FAILED, result.message
    assert result.kind == "mismatch"
    assert result.statement_line == line, result.message
    found = {(d.variable, d.field) for d in result.discrepancies}
    assert (variable, field) in found, found
    assert result.inputs is not None  # the falsifying example travels with the failure
    # Every break here fails on any input, so Hypothesis shrinks to its simplest one: zeros.
    assert all(not np.asarray(array).any() for array in result.inputs.values()), result.inputs


# -- the culprit: over many specs, the report's first suspect is what the break broke ----------

#: Each break, and the names its culprit goes by in the suspects ranking (harness.report.suspects):
#: the broken op under any of its names, or the behaviour the break changes.
CULPRITS = [
    (wrong_mul_gradient, {"MulBackward0"}),
    (wrong_add_forward, {"+", "AddBackward0"}),
    (non_leaf_grad_filled_in, {"none_grads"}),
    (no_non_leaf_warning, {"none_grads"}),
    (warning_points_at_engine_code, {"warns"}),
    (second_backward_does_not_raise, {"declared-error"}),
    (wrong_grad_fn_name, {"AddBackward0"}),
    (node_repr_with_module, {"prints-grad_fn"}),
    (wrong_exception_message, {"declared-error"}),
    (wrong_print, {"prints-tensor"}),
    (slightly_wrong_sum, {"SumBackward0", "Tensor.sum"}),
]
assert {b for b, _ in CULPRITS} == {b[0] for b in BREAKS}  # every break has its culprit


@functools.cache
def spectrum_items() -> list[tuple[str, str, Spec, dict]]:
    """The tutorial's and the autograd specs' items: enough passing items for a spectrum."""
    files = sorted(TUTORIAL.glob("*.yaml")) + sorted((ROOT / "specs" / "autograd").glob("*.yaml"))
    return [(f"{f.relative_to(ROOT).as_posix()}::{name}", name, entry, variant)
            for f in files for name, entry, variant in spec_items(f, ROOT)
            if not isinstance(entry, SpecError)]


def spectrum() -> list[dict]:
    """Every item once, on its first examples, unshrunk: which fail is all a ranking needs."""
    rows = []
    for node_id, name, spec, variant in spectrum_items():
        result = check(spec, variant, node_id, session_seed=0, max_examples=2, shrink_limit_s=0)
        rows.append(record_for_spec(node_id, name, spec, result, 0, spec.variant_id(variant)))
    return rows


@pytest.fixture(scope="module")
def failing_unbroken() -> set[str]:
    """Items that do not pass on the engine as it is (a known divergence): left out."""
    return {r["id"] for r in spectrum() if r["outcome"] != PASSED}


@pytest.mark.parametrize("break_engine, culprit", CULPRITS,
                         ids=[b.__name__ for b, _ in CULPRITS])
def test_the_first_suspect_is_what_was_broken(monkeypatch, failing_unbroken, break_engine,
                                              culprit):
    break_engine(monkeypatch)
    rows = [r for r in spectrum() if r["id"] not in failing_unbroken]
    ranked = rank(rows)
    assert ranked, "the break made nothing fail"
    assert ranked[0].name in culprit, [s.describe() for s in ranked[:4]]
