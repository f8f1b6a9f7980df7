"""Proof that an OpInfo item can fail: break the engine on purpose, one behaviour at a time, the
way tests/harness/run/test_broken_engines.py does for specs, and check that the item's record
(what the pytest item and the report show) is a FAILED mismatch that names the broken check.

Each break is made inside the engine (a formula, a node class, an op of its namespace), not by
wrapping what the harness calls, and each item passes on the healthy engine (the control).
"""

import pytest
import torch

import engine
from engine.ops import elementwise as _derivatives
from harness.contract import FAILED, PASSED
from harness.opinfo import corpus, records, runner

SAMPLES = 4  # enough for every break below to show, few enough to keep the file fast


def run(key: str, dtype: str) -> dict:
    """The item's record, as the plugin builds it for the report (no expectation)."""
    entry = corpus.find(key)
    result = runner.run_item(entry, dtype, torch, engine, SAMPLES)
    assert result.harness_error is None, result.harness_error
    return records.record(f"specs/opinfo.yaml::{entry.item_name(dtype)}",
                          entry.item_name(dtype), "specs/opinfo.yaml", entry, result, 0)


def wrong_forward(mp):
    mul = engine.mul
    mp.setattr(engine, "mul", lambda input, other, **kw: mul(input, other, **kw) * 1.001)


def wrong_gradient(mp):
    mp.setattr(_derivatives.MulBackward0, "formulas", (
        lambda n, g: g * n.other + g,  # d(a*b)/da is b, not b + 1
        lambda n, g: g * n.self_,
    ))


def wrong_double_gradient(mp):
    # the first grads keep their values; their derivative with respect to the other factor
    # is lost, which only a double backward sees
    mp.setattr(_derivatives.MulBackward0, "formulas", (
        lambda n, g: g * n.other.detach(),
        lambda n, g: g * n.self_.detach(),
    ))


def missing_error(mp):
    maximum = engine.maximum

    def lenient(input, other, **kwargs):
        try:
            return maximum(input, other, **kwargs)
        except (RuntimeError, TypeError):  # a scalar operand, say: answer anyway
            return input

    mp.setattr(engine, "maximum", lenient)


def renamed_grad_fn(mp):
    renamed = type("MulBackward1", (_derivatives.MulBackward0,), {"__slots__": ()})
    mp.setattr(_derivatives, "MulBackward0", renamed)


BREAKS = [
    # (break, entry, dtype, check that must fail, a failure kind it must report)
    (wrong_forward, "mul", "float64", "values", "values: values differ"),
    (wrong_gradient, "mul", "float64", "vjp", "vjp: grad values differ"),
    (wrong_double_gradient, "mul", "float64", "gradgrad", None),
    (missing_error, "maximum", corpus.ERRORS, "error_type", "error_type: engine did not raise"),
    (renamed_grad_fn, "mul", "float64", "grad_fn", "grad_fn: grad_fn differs"),
]


@pytest.mark.parametrize("key, dtype", sorted({(b[1], b[2]) for b in BREAKS}))
def test_unbroken_engine_passes(key, dtype):
    """The control: on the healthy engine these items pass (so a failure below is the
    break's)."""
    record = run(key, dtype)
    assert record["outcome"] == PASSED, record["failure"] and record["failure"]["message"]


@pytest.mark.parametrize("break_engine, key, dtype, check, kind", BREAKS,
                         ids=[b[0].__name__ for b in BREAKS])
def test_broken_engine_fails_the_item(monkeypatch, break_engine, key, dtype, check, kind):
    break_engine(monkeypatch)
    record = run(key, dtype)
    assert record["outcome"] == FAILED
    assert record["failure"]["kind"] == "mismatch"
    assert record["checks"][check] == "fail", record["checks"]
    assert record["opinfo"]["counts"][check]["conforming"] < \
        record["opinfo"]["counts"][check]["run"]
    if kind is not None:
        assert kind in record["opinfo"]["kinds"], record["opinfo"]["kinds"]
    assert record["failure"]["discrepancies"], "a failure names what differed"
    assert record["failure"]["snippet"], "a failure carries a standalone repro"


def test_wrong_double_gradient_leaves_the_first_order_checks_passing(monkeypatch):
    wrong_double_gradient(monkeypatch)
    checks = run("mul", "float64")["checks"]
    assert checks["values"] == checks["vjp"] == "pass"
    assert checks["gradgrad"] == "fail"
