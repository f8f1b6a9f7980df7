"""The OpInfo checks can fail: each break of the engine, one behaviour at a time, fails the check
that names it (and the healthy engine passes it on the same samples)."""

import numpy as np
import pytest
import torch

import engine
from harness.opinfo import checks, corpus, runner


def _run(key, dtype, limit=6):
    return runner.run_item(corpus.find(key), dtype, torch, engine, limit)


def _conforms(result, check):
    conforming, run = result.counts[check]
    assert run > 0, f"{check} never ran"
    return conforming == run


def _patch_function(monkeypatch, name, make):
    original = getattr(engine, name)
    monkeypatch.setattr(engine, name, make(original))


def test_healthy_engine_passes_exp():
    result = _run("exp", "float64")
    assert result.harness_error is None
    for check in ("values", "shape", "dtype", "requires_grad", "grad_fn", "contiguity", "vjp",
                  "vjp_none", "gradgrad"):
        assert _conforms(result, check), check


def test_wrong_forward_fails_values(monkeypatch):
    _patch_function(monkeypatch, "exp", lambda exp: lambda x, *a, **k: exp(x * 1.001, *a, **k))
    result = _run("exp", "float64")
    assert not _conforms(result, "values")
    assert _conforms(result, "grad_fn") and _conforms(result, "shape")
    finding = next(f for f in result.failures[0].result.findings if f.check == "values")
    assert finding.form == "torch.exp" and finding.kind == "values differ"
    assert "elements outside rtol=1e-07" in finding.detail


def _hooked(hook):
    def make(exp):
        def wrong(x, *args, **kwargs):
            y = exp(x, *args, **kwargs)
            if y.requires_grad:
                y.register_hook(hook)
            return y

        return wrong

    return make


def test_wrong_gradient_fails_vjp(monkeypatch):
    _patch_function(monkeypatch, "exp", _hooked(lambda g: g * 2))
    result = _run("exp", "float64")
    assert _conforms(result, "values") and _conforms(result, "grad_fn")
    assert not _conforms(result, "vjp")
    assert "vjp: grad values differ" in result.kinds


def test_wrong_double_gradient_fails_gradgrad_only(monkeypatch):
    # the hook keeps the grad's value and doubles its derivative with respect to the cotangent
    _patch_function(monkeypatch, "exp", _hooked(lambda g: g.detach() + (g - g.detach()) * 2))
    result = _run("exp", "float64")
    assert _conforms(result, "vjp") and _conforms(result, "values")
    assert not _conforms(result, "gradgrad")
    wheres = {f.where for fail in result.failures for f in fail.result.findings}
    assert "gradgrad cotangent out" in wheres


def test_renamed_grad_fn_fails_grad_fn(monkeypatch):
    _patch_function(monkeypatch, "exp", lambda exp: lambda x, *a, **k: exp(x, *a, **k).clone())
    result = _run("exp", "float64")
    assert _conforms(result, "values") and _conforms(result, "vjp")
    assert not _conforms(result, "grad_fn")
    finding = next(f for f in result.failures[0].result.findings if f.check == "grad_fn")
    assert (finding.torch, finding.engine) == ("'ExpBackward0'", "'CloneBackward0'")


def test_missing_error_fails_error_type(monkeypatch):
    healthy = _run("maximum", corpus.ERRORS, limit=None)
    assert healthy.samples_run > 0 and _conforms(healthy, "error_type")

    def make(maximum):
        def lenient(*args, **kwargs):
            try:
                return maximum(*args, **kwargs)
            except Exception:
                return engine.zeros(1)

        return lenient

    _patch_function(monkeypatch, "maximum", make)
    result = _run("maximum", corpus.ERRORS, limit=None)
    assert not _conforms(result, "error_type")
    assert result.kinds["error_type: engine did not raise"] == result.samples_run
    assert result.levels["none"] == result.samples_run


def test_inplace_on_an_input_that_would_broadcast_must_raise(monkeypatch):
    result = _run("add", "float64", limit=None)
    assert result.counts["inplace_broadcast"][1] > 0

    def add_(self, other, *, alpha=1):  # out of place: never refuses to broadcast
        return self.add(other, alpha=alpha)

    monkeypatch.setattr(engine.Tensor, "add_", add_)
    broken = _run("add", "float64", limit=None)
    assert broken.counts["inplace_broadcast"][0] < result.counts["inplace_broadcast"][0]
    assert "inplace_broadcast: engine did not raise" in broken.kinds


def test_a_form_the_engine_lacks_fails_variants(monkeypatch):
    monkeypatch.delattr(engine.Tensor, "exp_")
    result = _run("exp", "float64")
    assert not _conforms(result, "variants")
    assert "variants: form not offered" in result.kinds


def test_float32_differences_are_arbitrated_in_float64(monkeypatch):
    _patch_function(monkeypatch, "exp", lambda exp: lambda x, *a, **k: exp(x, *a, **k) * 1.0001)
    result = _run("exp", "float32")
    findings = [f for fail in result.failures for f in fail.result.findings
                if f.check == "values"]
    assert findings and all(f.closer == "torch" for f in findings)
    assert "values: values differ (torch closer to float64)" in result.kinds


def test_closer_side():
    reference = np.array([1.0, 2.0, np.nan])
    assert checks._closer(np.array([1.0, 2.1, np.nan]), np.array([1.0, 2.01, np.nan]),
                          reference) == "engine"
    assert checks._closer(np.array([1.0, 2.0, np.nan]), np.array([1.0, 2.0, 0.0]),
                          reference) == "torch"
    assert checks._closer(np.array([1.5]), np.array([0.5]), np.array([1.0])) == "tie"


@pytest.mark.parametrize("engine_message, level", [
    ("dot : expected both vectors to have same dtype, but found Float and Half", "exact"),
    ("dot : expected both vectors to have same dtype, got float and half", "pattern"),
    ("vectors must have one dtype", "class"),
])
def test_message_levels(engine_message, level):
    torch_message = "dot : expected both vectors to have same dtype, but found Float and Half"
    pattern = "dot : expected both vectors to have same dtype"
    assert checks.message_level(torch_message, engine_message, pattern) == level


def test_samples_and_cotangents_are_deterministic():
    first = corpus.samples(corpus.find("mul"), "float32", limit=5)
    second = corpus.samples(corpus.find("mul"), "float32", limit=5)
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a.sample.input, b.sample.input)
    assert np.array_equal(checks.cotangent(7, (3,), "float32"),
                          checks.cotangent(7, (3,), "float32"))
    assert not np.allclose(checks.cotangent(7, (3,), "float32"), 1.0)
