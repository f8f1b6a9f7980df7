"""The allow-list means what it says: what a program may reach from `torch`, `F` and `math` cannot
be widened by holding a module or class under another name, by a format string, or by the name
check itself (which never imports or runs PyTorch code)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types

import pytest
import torch

from harness.spec import api_names
from harness.spec.program import PUBLIC_NAMESPACES, ProgramError, parse


def refused(text: str) -> str:
    with pytest.raises(ProgramError) as info:
        parse(text, {"x"})
    return str(info.value)


@pytest.mark.parametrize("text, where", [
    ("t = torch\nt.os.system('true')", "1:5"),                  # the example
    ("t = torch\nt.ones = t.zeros", "1:5"),
    ("n = torch.nn", "1:5"),
    ("f = F", "1:5"),
    ("ms = [torch, math]", "1:7"),
    ("d = {'m': math}", "1:11"),
    ("def f(m=F):\n    return m.relu(x)", "1:9"),
    ("def f():\n    return torch\ny = f().ones(2)", "2:12"),
    ("g = lambda: torch.autograd", "1:13"),
    ("y = (lambda m: m.os)(torch)", "1:22"),
    ("print(torch)", "1:7"),
    ("y = torch if x is None else F", "1:5"),
    ("for m in (torch, F):\n    y = m", "1:11"),
])
def test_a_module_cannot_be_held(text, where):
    message = refused(text)
    assert message.startswith(where) and "is a module" in message, message


@pytest.mark.parametrize("text", [
    "L = torch.nn.Linear\nL.forward = lambda self, x: x",
    "cs = [torch.Tensor]",
    "def patch(c):\n    c.add = None\npatch(torch.Tensor)",
])
def test_a_class_cannot_be_held(text):
    assert "is a class" in refused(text)


@pytest.mark.parametrize("text", [
    "g = torch.default_generator",                 # global state: read from, never held
    "l = torch.autograd.graph.log",                # a logging.Logger in a public namespace
])
def test_other_objects_cannot_be_held(text):
    assert "one of PyTorch's objects" in refused(text)


@pytest.mark.parametrize("text", [
    "torch.autograd.graph.log.disabled",
    "torch.fft.common_args.clear()",
    "y = F.relu.foo",
])
def test_chains_pass_only_through_modules_classes_and_values(text):
    assert "not one of the modules, classes or values" in refused(text)


@pytest.mark.parametrize("text", [
    "torch = 1", "def f(F):\n    return 1", "y = [1 for math in range(2)]", "del torch",
    "with torch.no_grad() as torch:\n    pass",
])
def test_the_provided_names_cannot_be_rebound(text):
    assert "provided by the harness and cannot be rebound" in refused(text)


@pytest.mark.parametrize("text, field", [
    ("s = '{0.__globals__}'.format(F.relu)", "{0.__globals__}"),
    ("s = '{f.__globals__[os]}'.format(f=F.relu)", "{f.__globals__[os]}"),
    ("s = '{0[1]}'.format([1, 2])", "{0[1]}"),
    ("s = '{:{w.real}}'.format(1, w=4)", "{w.real}"),
])
def test_format_fields_cannot_read_attributes(text, field):
    message = refused(text)
    assert f"the format field {field} reads an attribute" in message, message


@pytest.mark.parametrize("text", [
    "f = str.format", "s = 'x'.format_map({})", "t = '{}'\ns = t.format(1)",
    "s = ('{0.' + '__globals__}').format(F.relu)",
])
def test_format_only_as_a_call_on_a_literal(text):
    assert "is only allowed as a call on a string literal" in refused(text)


def test_a_bare_except_is_refused():
    message = refused("while True:\n    try:\n        y = x * 2\n    except:\n        pass")
    assert message.startswith("4:5") and "bare `except:`" in message


@pytest.mark.parametrize("text", [
    "y = F.relu(x)\nfs = [torch.sin, F.relu, math.sqrt]\nz = [f(x) for f in fs[:2]]",
    "act = torch.relu\ny = act(x)",
    "d = torch.float64\ny = x.to(d)",
    "ok = isinstance(x, torch.Tensor) and isinstance(x, (torch.Tensor, int))",
    "try:\n    y = torch.linalg.inv(x)\n"
    "except (torch.linalg.LinAlgError, RuntimeError):\n    y = x",
    "with torch.no_grad():\n    y = torch.nn.Linear(2, 2)(x)",
    "torch.default_generator.manual_seed(0)\ny = torch.Size([2]) == x.shape",
    "y = torch.float32.is_floating_point\np = math.pi",
    "s = '{} {:>8.3f} {k!r}'.format(1, 2.0, k=x.shape)\nt = f'{x.shape!r} {x.dtype}'",
    "try:\n    y = x\nexcept Exception:\n    pass",
])
def test_what_users_write_still_loads(text):
    parse(text, {"x"})


def public_names():
    for namespace in sorted(PUBLIC_NAMESPACES - {"math"}):
        module = sys.modules[namespace]
        prefix = "F" if namespace == "torch.nn.functional" else namespace
        for name in sorted(vars(module)):
            if not name.startswith("_"):
                yield f"{prefix}.{name}"


def test_every_public_name_is_either_refused_or_harmless_to_hold():
    """Bind every public name of every namespace to a variable: what loads is a function or a
    plain value (nothing whose attributes could lead outside what the allow-list checked)."""
    held = (types.FunctionType, types.BuiltinFunctionType, types.MethodDescriptorType,
            types.WrapperDescriptorType, types.GetSetDescriptorType, int, float, complex, str,
            bytes, type(None), torch.dtype, torch.layout, torch.memory_format, torch.qscheme)
    loaded = 0
    for dotted in public_names():
        try:
            parse(f"y = {dotted}")
        except ProgramError:
            continue
        root, *rest = dotted.split(".")
        value = {"torch": torch, "F": torch.nn.functional}[root]
        for part in rest:
            value = vars(value)[part] if isinstance(value, types.ModuleType) \
                else getattr(value, part)
        assert isinstance(value, held), f"{dotted} loads but is a {type(value).__name__}"
        loaded += 1
    assert loaded > 500  # the ops themselves


def test_the_name_check_never_imports(tmp_path):
    """A submodule nobody imported is a missing name, not an import (the old check imported it
    and ran its import-time code), and names computed by torch's module __getattr__ (a lazy
    import, a deprecated name whose replacement is called) are refused without calling it."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "s.yaml").write_text(textwrap.dedent("""\
        specs:
          - name: unimported
            description: a torch submodule no one imported
            inputs:
              x: {shape: [2]}
            program: |
              y = torch.utils.bottleneck.main(x)
          - name: lazy
            description: torch imports onnx on first access
            inputs:
              x: {shape: [2]}
            program: |
              y = torch.onnx.export(x)
          - name: deprecated
            description: torch.has_cuda calls a replacement function
            inputs:
              x: {shape: [2]}
            program: |
              y = torch.has_cuda
        """))
    code = textwrap.dedent("""\
        import sys, torch
        from harness.validate import validate
        before = set(sys.modules)
        outcome = validate(["specs"], run=False)
        for p in outcome.problems:
            print("PROBLEM", p)
        print("IMPORTED", sorted(m for m in set(sys.modules) - before
                                 if m.startswith(("torch.utils.bottleneck", "torch.onnx"))))
        """)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "IMPORTED []" in out.stdout, out.stdout
    problems = [line for line in out.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 3, out.stdout
    assert "torch.utils.bottleneck does not exist" in problems[0]
    assert "torch.onnx does not exist" in problems[1]
    assert "torch.has_cuda does not exist" in problems[2]


def test_lookup_reads_module_dicts_only(monkeypatch):
    calls = []
    module = types.ModuleType("fake")
    module.__getattr__ = lambda name: calls.append(name)
    assert api_names.lookup(module, "anything") is api_names.MISSING
    assert calls == []
