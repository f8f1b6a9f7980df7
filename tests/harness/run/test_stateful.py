"""Stateful differential testing of autograd (harness/run/stateful.py): the machine passes on the
engine as it is, and fails, naming the field, on an engine broken on purpose."""

from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from engine import _tensor
from engine.ops import elementwise as _derivatives
from harness.run.stateful import AutogradMachine

TestAutogradStateMachine = AutogradMachine.TestCase
TestAutogradStateMachine.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def wrong_mul_gradient(mp):
    mp.setattr(_derivatives.MulBackward0, "formulas", (
        lambda n, g: g * n.other + g,  # d(a*b)/da is b, not b + 1
        lambda n, g: g * n.self_,
    ))


def no_non_leaf_warning(mp):
    mp.setattr(_tensor, "warnings", SimpleNamespace(warn=lambda *args, **kwargs: None))


# Derandomized (the same programs every run: a random seed missed a break about once in 40
# runs), enough examples to find each break; no database, so the broken engine's failures are
# neither replayed from nor saved into the real test's examples.
BROKEN = settings(max_examples=300, stateful_step_count=30, deadline=None, database=None,
                  derandomize=True,
                  phases=[Phase.generate, Phase.shrink],
                  suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("break_engine, field", [
    (wrong_mul_gradient, ".grad differs"),
    (no_non_leaf_warning, ".grad_warnings differs"),
])
def test_broken_engine_fails(monkeypatch, break_engine, field):
    break_engine(monkeypatch)
    with pytest.raises(AssertionError) as failure:
        run_state_machine_as_test(AutogradMachine, settings=BROKEN)
    message = str(failure.value)
    assert field in message
    assert "program (PyTorch syntax" in message
