"""Margins are attributed to the op that produced the compared number (harness.run.attribution).

Values: the grad_fn class, else the function, method or operator the program applied last.
Gradients: the backward nodes that fed them in PyTorch's graph. Never "(leaf)", never the text
of an exception.
"""

from __future__ import annotations

import ast
import json

import numpy as np
import pytest
import torch

from engine.ops import elementwise as _derivatives
from harness.contract import FAILED, PASSED
from harness.run import attribution
from harness.run import trace as traces
from harness.run.backends import load
from harness.run.compare import Comparator
from harness.run.runner import check
from harness.spec import Spec, load_file
from harness.spec.program import parse


def spec_from(tmp_path, inputs: dict, program: str) -> Spec:
    spec = {"name": "s", "description": "d", "inputs": inputs, "program": program}
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps({"specs": [spec]}, indent=1))
    [loaded] = load_file(path, root=tmp_path).entries
    assert isinstance(loaded, Spec), loaded
    return loaded


def run(spec: Spec, examples: int = 5):
    [variant, *_] = spec.variants()
    return check(spec, variant, "s", session_seed=0, max_examples=examples)


def by_op(result) -> dict[tuple[str, str], float]:
    """(op, field) -> worst ratio."""
    out: dict[tuple[str, str], float] = {}
    for m in result.margins:
        out[m.op, m.field] = max(out.get((m.op, m.field), 0.0), m.ratio)
    return out


PROGRAM = """\
z = torch.exp(c)
q = c.exp() + 1
p = c @ c
y = x * w
y.sum().backward()
"""
INPUTS = {"x": {"shape": [3], "dtype": "float32", "range": [-2, 2], "requires_grad": True},
          "w": {"shape": [3], "dtype": "float32", "range": [1, 2]},
          "c": {"shape": [3], "dtype": "float32", "range": [-2, 2]}}


def test_broken_mul_gradient_lands_on_mul_backward(tmp_path, monkeypatch):
    monkeypatch.setattr(_derivatives.MulBackward0, "formulas", (
        lambda n, g: g * n.other + g,  # d(a*b)/da is b, not b + 1
        lambda n, g: g * n.self_,
    ))
    result = run(spec_from(tmp_path, INPUTS, PROGRAM))
    assert result.outcome == FAILED
    ratios = by_op(result)
    assert ratios["MulBackward0", "grad"] > 1  # the broken formula's own bar
    assert ratios["MulBackward0", "values"] <= 1  # the forward product is right
    assert all(r <= 1 for (op, _), r in ratios.items() if op != "MulBackward0")
    [grad] = [m for m in result.margins if m.field == "grad"]
    assert (grad.variable, grad.op) == ("x", "MulBackward0")


def test_values_without_grad_fn_land_on_the_function_applied(tmp_path):
    result = run(spec_from(tmp_path, INPUTS, PROGRAM))
    assert result.outcome == PASSED
    ops = {(m.variable, m.field): m.op for m in result.margins}
    assert ops == {("z", "values"): "torch.exp", ("q", "values"): "+", ("p", "values"): "@",
                   ("y", "values"): "MulBackward0", ("x", "grad"): "MulBackward0",
                   ("x", "values"): "(input)", ("w", "values"): "(input)",
                   ("c", "values"): "(input)"}


def test_program_ops_name_the_last_op_applied():
    program = parse("""\
a = torch.exp(x)
b = x.exp().sum()
c = a @ b
d = -a
e = a[0]
f = x.max(0).values
g, = torch.autograd.grad(a.sum(), x)
h = [a * 2, torch.relu(a)]
k = x.detach().requires_grad_()
a += 1
b.mul_(2)
x.data[0] = 1
x.grad = b * 2
m = F.relu(x)
n = torch.nn.functional.relu(x)
""", {"x"})
    ops: dict = {}
    for statement_ops in attribution.program_ops(program.tree, program.inputs):
        attribution.update(ops, statement_ops)
    lookup = {name: attribution.lookup(ops, name) for name in
              ("a", "b", "c", "d", "e", "f", "g", "h[0]", "h[1]", "k", "x", "m", "n")}
    assert lookup == {"a": "+=", "b": "Tensor.mul_", "c": "@", "d": "unary -", "e": "[]",
                      "f": "Tensor.max", "g": "torch.autograd.grad", "h[0]": "*",
                      "h[1]": "torch.relu", "k": "(input)", "x": "[]=", "m": "F.relu",
                      "n": "F.relu"}
    assert attribution.lookup(ops, "x", ".grad") == "*"


def test_rebinding_a_list_forgets_its_elements():
    ops: dict = {}
    attribution.update(ops, {"ws": None, "ws[0]": "*"})
    attribution.update(ops, {"ws": "torch.exp"})
    assert attribution.lookup(ops, "ws[0]") == "torch.exp"


def run_torch(text: str, inputs: dict[str, np.ndarray], requires_grad: dict[str, bool]):
    program = parse(text, set(inputs))
    return program, traces.run(program, load("torch"), inputs, requires_grad, grad_ops=True)


def test_grads_land_on_the_nodes_that_fed_them():
    x = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    _, trace = run_torch("y = x * w + x.exp()\ny.retain_grad()\ny.sum().backward()\n"
                         "x.grad = None\n(x * 3).sum().backward()\n",
                         {"x": x, "w": x.copy()}, {"x": True, "w": True})
    after_first, after_second = trace.steps[3].autograd_ops, trace.steps[5].autograd_ops
    assert after_first == {"x.grad": "ExpBackward0 + MulBackward0", "w.grad": "MulBackward0",
                           "y.grad": "SumBackward0"}
    assert after_second["x.grad"] == "MulBackward0"  # .grad was reset: only the new pass
    assert trace.backward_nodes >= {"AddBackward0", "MulBackward0", "ExpBackward0",
                                    "SumBackward0"}


def test_the_root_of_a_backward_gets_the_seed():
    x = np.array([0.5, 1.0], dtype=np.float32)
    _, trace = run_torch("y = x * 2\ny.retain_grad()\ny.backward(g)\nx.backward(g)\n",
                         {"x": x, "g": x.copy()}, {"x": True, "g": False})
    assert trace.steps[3].autograd_ops == {"y.grad": attribution.SEED, "x.grad": "MulBackward0"}
    assert trace.steps[4].autograd_ops["x.grad"] == f"{attribution.SEED} + MulBackward0"


def test_autograd_grad_results_land_on_the_nodes_that_computed_them():
    x = np.array([0.5, 1.0, 2.0], dtype=np.float64)
    program, trace = run_torch("(g,) = torch.autograd.grad((x * x).sum(), x)\n"
                               "h = torch.autograd.grad(x.exp().sum(), x)[0]\n",
                               {"x": x}, {"x": True})
    comparator = Comparator(program=program)
    assert comparator.compare(trace, trace) == []
    ops = {m.variable: m.op for m in comparator.margins.values()}
    assert ops == {"x": "(input)", "g": "MulBackward0", "h": "ExpBackward0"}


def test_recording_leaves_pytorch_and_its_trace_as_they_were():
    before = torch.autograd._engine_run_backward
    spec = [s for s in load_file("specs/tutorial/03_gradients.yaml").entries
            if s.name == "print_gradients"][0]
    inputs, requires_grad = {}, {}
    plain = traces.run(spec.program, load("torch"), inputs, requires_grad)
    recorded = traces.run(spec.program, load("torch"), inputs, requires_grad, grad_ops=True)
    assert torch.autograd._engine_run_backward is before
    comparator = Comparator()
    assert comparator.compare(plain, recorded) == []  # the same observations
    assert all(m.ratio == 0 for m in comparator.margins.values())
    assert [s.stdout for s in recorded.steps] == [s.stdout for s in plain.steps]
    assert recorded.steps[-1].autograd_ops == {"x.grad": "AddBackward0"}
    assert plain.steps[-1].autograd_ops == {}


def test_an_error_text_is_never_an_op():
    program = parse("v = y[0]\n", {"y"})
    comparator = Comparator(program=program)
    comparator._value_ops = {"v": "[]"}
    assert comparator.value_op("v", "raises RuntimeError: A view was created in no_grad "
                                    "mode ...") == "[]"
    assert comparator.value_op("w", "raises RuntimeError: ...") == attribution.UNATTRIBUTED
    assert comparator.value_op("v", "SelectBackward0") == "SelectBackward0"


@pytest.mark.parametrize("source, expected", [
    ("torch.max(x, 0)", {"values", "indices"}),
    ("torch.linalg.slogdet(a)", {"sign", "logabsdet"}),
])
def test_named_tuple_fields_come_from_pytorch(source, expected):
    call = ast.parse(source, mode="eval").body
    assert attribution.return_type_fields()[call.func.attr] == expected
