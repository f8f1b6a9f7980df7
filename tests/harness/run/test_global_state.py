"""Every global setting a program can change is restored after its run and named, on both
backends; a setter PyTorch adds in a later version fails `test_every_reachable_setter_is_covered`
until it is restored (harness/run/global_state.py) or listed as no state."""

from __future__ import annotations

import re
import sys
import types

import numpy as np
import pytest
import torch

from harness.run import global_state
from harness.run import trace as traces
from harness.run.backends import load
from harness.run.runner import check
from harness.spec import Spec, load_file
from harness.spec.program import PUBLIC_NAMESPACES, ProgramError, parse

SETTER = re.compile(r"^(set_|use_|enable|disable|register|manual_seed|seed$|fork_rng|enter_|"
                    r"exit_|allow|detect|inference|autocast|swap|increment)")


def reachable_setters():
    for namespace in sorted(PUBLIC_NAMESPACES - {"math"}):
        module = sys.modules[namespace]
        for name, value in sorted(vars(module).items()):
            if name.startswith("_") or not callable(value) \
                    or isinstance(value, types.ModuleType) or not SETTER.match(name):
                continue
            dotted = f"{namespace}.{name}"
            try:
                parse(f"y = {dotted}(1)")
            except ProgramError:
                continue  # the allow-list keeps programs from it
            yield dotted


def test_every_reachable_setter_is_covered():
    covered = {s.name for s in global_state.SETTINGS} | set(global_state.NOT_STATE)
    missing = [name for name in reachable_setters() if name not in covered]
    assert not missing, f"global state a program can change but nobody restores: {missing}"


def run(program: str, backend_name: str = "torch") -> list[str]:
    backend = load(backend_name)
    backend.take_changed()
    traces.run(parse(program), backend, {}, {})
    return backend.take_changed()


FLIPS = {  # setting -> a program that changes it
    "torch.set_grad_enabled": "torch.set_grad_enabled(False)",
    "torch.set_anomaly_enabled": "torch.autograd.set_detect_anomaly(True, check_nan=False)",
    "torch.autograd.set_multithreading_enabled":
        "torch.autograd.set_multithreading_enabled(False)",
    "torch.autograd.forward_ad.enter_dual_level":
        "level = torch.autograd.forward_ad.enter_dual_level()",
    "torch.autograd.graph.set_warn_on_accumulate_grad_stream_mismatch":
        "torch.autograd.graph.set_warn_on_accumulate_grad_stream_mismatch("
        f"{not torch._C._warn_on_accumulate_grad_stream_mismatch()})",
    "torch.autograd.graph.set_override_stale_capture_stream":
        "torch.autograd.graph.set_override_stale_capture_stream(True)",
    "torch.set_printoptions": "torch.set_printoptions(precision=1, sci_mode=True)",
    "torch.set_default_dtype": "torch.set_default_tensor_type('torch.DoubleTensor')",
    "torch.set_default_device": "torch.set_default_device('meta')",
    "torch.set_flush_denormal": "ok = torch.set_flush_denormal(True)",
    "torch.use_deterministic_algorithms": "torch.use_deterministic_algorithms(True)",
    "torch.set_float32_matmul_precision": "torch.set_float32_matmul_precision('medium')",
    "torch.set_warn_always": "torch.set_warn_always(True)",
    "torch.set_autocast_enabled": "torch.set_autocast_enabled('xla', True)\n"
                                  "n = torch.autocast_increment_nesting()",
    "torch.set_num_threads": "torch.set_num_threads(2)",
}


def observe() -> tuple:
    return (torch.get_default_dtype(), str(torch.tensor([1.23456])), torch.rand(2).tolist(),
            torch.is_grad_enabled(), torch.are_deterministic_algorithms_enabled(),
            torch.get_default_device(), torch.get_num_threads(),
            torch.is_autocast_enabled("xla"), torch.is_warn_always_enabled(),
            torch.autograd.forward_ad._current_level, 5e-324 * float(np.float64(1.0)))


def test_each_setting_is_restored_and_named():
    backend = load("torch")
    assert set(FLIPS) | {"torch.inference_mode", "torch.set_num_interop_threads",
                         "torch.manual_seed"} == {s.name for s in global_state.SETTINGS}
    backend.reset()
    before = observe()
    for name, program in FLIPS.items():
        assert run(program) == [name], program
        assert observe() == before, name


def test_the_generator_is_restored_silently_on_both_backends():
    for name in ("torch", "engine"):
        backend = load(name)
        backend.reset()
        first = backend.module.rand(3).tolist()
        backend.reset()
        assert run("a = torch.rand(5)\ntorch.manual_seed(7)\nb = torch.rand(2)", name) == []
        assert backend.module.rand(3).tolist() == first
        backend.reset()


def test_the_engine_names_what_it_has():
    assert run("torch.set_grad_enabled(False)", "engine") == ["torch.set_grad_enabled"]
    assert load("engine").module.is_grad_enabled()


SPECS = """\
specs:
  - name: leaker
    description: leaves print options and the default dtype changed
    inputs:
      x: {shape: [2]}
    program: |
      torch.set_printoptions(precision=1)
      torch.set_default_dtype(torch.float64)
      y = x * 2
  - name: victim
    description: prints a tensor it makes
    inputs:
      x: {shape: [2], range: [0.1234, 0.9876]}
    program: |
      print(x / 3)
      y = torch.tensor([1.5, 2.25])
      print(y.dtype, y)
"""


def test_a_spec_cannot_change_a_later_specs_verdict(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "s.yaml").write_text(SPECS)
    leaker, victim = load_file(tmp_path / "specs" / "s.yaml", root=tmp_path).entries
    assert isinstance(leaker, Spec) and isinstance(victim, Spec)
    backends = (load("torch"), load("engine"))
    [victim_variant], [leaker_variant] = victim.variants(), leaker.variants()
    alone = check(victim, victim_variant, "victim", max_examples=3, backends=backends)
    first = check(leaker, leaker_variant, "leaker", max_examples=3, backends=backends)
    after = check(victim, victim_variant, "victim", max_examples=3, backends=backends)
    assert (alone.outcome, after.outcome) == ("passed", "passed"), after.message
    assert after.left_changed == []
    assert first.left_changed == ["torch.set_default_dtype", "torch.set_printoptions"]


@pytest.fixture(autouse=True)
def pristine():
    yield
    load("torch").reset()
    load("engine").reset()
