"""A failing sample becomes a snippet that runs on both backends from literal values (no OpInfo
import) and shows the divergence, and a YAML spec that `parity validate` accepts."""

import math
import re

import numpy as np
import pytest
import torch

import engine
from harness.opinfo import checks, corpus, records, repro, runner
from harness.validate import validate


def _failing(monkeypatch, key, dtype, check):
    """A broken engine's first failure of `check` for the entry: (ctx, sample, form)."""
    entry = corpus.find(key)
    result = runner.run_item(entry, dtype, torch, engine, limit=6)
    for failure in result.failures:
        for finding in failure.result.findings:
            if finding.check == check:
                form = next(f for f in result.resolution.forms if f.spelling == finding.form)
                ctx = checks.Context.make(torch, engine, result.resolution, entry, dtype,
                                          corpus.seed_for(entry.key, dtype))
                return ctx, failure.sample, form
    raise AssertionError(f"no {check} failure: {dict(result.kinds)}")


def _double_exp_grad(monkeypatch):
    exp = engine.exp

    def wrong(x, *args, **kwargs):
        y = exp(x, *args, **kwargs)
        if y.requires_grad:
            y.register_hook(lambda g: g * 2)
        return y

    monkeypatch.setattr(engine, "exp", wrong)


def _run_snippet(text, module):
    assert "opinfo" not in text.split("\n", 1)[1].lower()  # only the title names OpInfo
    namespace = {}
    exec(text.replace("import torch  # or: import engine as torch", ""),
         dict(namespace, torch=module, math=math, print=lambda *a: None), namespace)
    return namespace


def test_vjp_snippet_shows_the_divergence_on_both_backends(monkeypatch):
    _double_exp_grad(monkeypatch)
    ctx, sample, form = _failing(monkeypatch, "exp", "float64", "vjp")
    prog = repro.program(ctx, sample, form, "vjp")
    assert prog.complete and prog.raises == []
    text = repro.snippet(prog, f"exp[float64] {sample.label}")
    on_torch, on_engine = _run_snippet(text, torch), _run_snippet(text, engine)
    t_grad = on_torch["grads"][0].numpy()
    e_grad = on_engine["grads"][0].detach().numpy()
    np.testing.assert_allclose(e_grad, 2 * t_grad, rtol=1e-7)  # the broken gradient, reproduced
    np.testing.assert_allclose(on_torch["out"].detach().numpy(),
                               on_engine["out"].detach().numpy(), rtol=1e-7)


def test_spec_of_a_failing_sample_validates(tmp_path, monkeypatch):
    _double_exp_grad(monkeypatch)
    ctx, sample, form = _failing(monkeypatch, "exp", "float64", "vjp")
    prog = repro.program(ctx, sample, form, "gradgrad")
    text = repro.spec(prog, f"opinfo_exp_float64_{sample.label}", "exp, a sample of OpInfo",
                      "written by parity opinfo-spec")
    path = tmp_path / "specs" / "found" / "opinfo_exp.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    outcome = validate([path], root=tmp_path)
    assert outcome.problems == [] and outcome.valid == 1, [str(p) for p in outcome.problems]
    assert "grads2 = torch.autograd.grad(" in text and "create_graph=True" in text


def test_error_sample_spec_declares_pytorchs_raise(tmp_path):
    entry = corpus.find("maximum")
    drawn = next(iter(corpus.error_samples(entry)))
    from harness.opinfo import resolve
    from harness.opinfo import samples as literals

    sample = literals.describe(drawn)
    resolution = resolve.resolve(entry.info, engine)
    ctx = checks.Context.make(torch, engine, resolution, entry, "float32", 0)
    prog = repro.program(ctx, sample, resolution.primary)
    assert len(prog.raises) == 1 and prog.raises[0]["line"] == len(sample.tensors) + 1
    path = tmp_path / "specs" / "opinfo_maximum_errors.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(repro.spec(prog, "opinfo_maximum_errors_e0", "maximum, error input e0",
                               "written by parity opinfo-spec"))
    outcome = validate([path], root=tmp_path)
    assert outcome.problems == [], [str(p) for p in outcome.problems]
    snippet = repro.snippet(prog, "maximum e0")
    assert re.search(r"try:\n    out = torch\.maximum\(", snippet)


@pytest.mark.parametrize("key, kind, expected", [
    ("__radd__", "function", r"out = .+ \+ t0"),  # Tensor.__radd__(t0, x) is x + t0
    ("__rmod__", "function", r"out = .+ % t0"),
    ("add", "operator", r"out = t0 \+ .+"),
    ("add", "inplace_operator", r"x = t0\.clone\(\)\nx \+= .+\nout = x"),
    ("add", "inplace", r"x = t0\.clone\(\)\nout = x\.add_\(.+\)"),
    ("add", "method", r"out = t0\.add\(.+\)"),
    ("T", "function", r"op = lambda x: x\.T\nout = op\(t0\)"),
    ("nn.functional.dropout", "function", r"def wrapper_set_seed\(op, \*args, \*\*kwargs\)"),
])
def test_call_forms_as_a_user_writes_them(key, kind, expected):
    from harness.opinfo import resolve
    from harness.opinfo import samples as literals

    entry = corpus.find(key)
    form = next(f for f in resolve.resolve(entry.info, torch).forms if f.kind == kind)
    drawn = corpus.samples(entry, "float32", limit=2)[1]
    lines, complete = repro._call(form, literals.describe(drawn))
    assert complete and re.search(expected, "\n".join(lines)), lines


def test_snippet_is_of_the_smallest_failing_sample_and_never_huge(monkeypatch):
    _double_exp_grad(monkeypatch)
    entry = corpus.find("exp")
    result = runner.run_item(entry, "float64", torch, engine, limit=6)
    sizes = [f.elements for f in result.failures]
    assert len(set(sizes)) > 1  # the samples differ in size, so the choice shows
    smallest = min(result.failures, key=lambda f: f.elements)
    assert result.smallest_failure is smallest
    text = records.first_snippet(entry, result)
    assert f"sample {smallest.sample.label}:" in text.splitlines()[0]
    assert "torch.tensor(" in text

    monkeypatch.setattr(records, "SNIPPET_ELEMENTS", min(sizes) - 1)
    text = records.first_snippet(entry, result)
    assert "torch.tensor(" not in text  # too large to write out: named, with its commands
    assert f"--sample {smallest.sample.label}" in text
    assert "pytest 'specs/opinfo.yaml::exp[float64]' --parity-opinfo-samples all" in text
