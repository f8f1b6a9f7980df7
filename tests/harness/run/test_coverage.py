"""Coverage: what a program uses (harness.run.usage) and what the engine offers (Backend.api).

A name counts as a Tensor method only if `torch.Tensor` has it and the program reads it on
something that may be a tensor; functions are the callables and dtypes a program names under
`torch`, `torch.linalg`, `torch.autograd...` and `F`; the engine's API splits ops from classes
and dtypes, and lists every graph node class it has.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness.run.backends import load
from harness.run.usage import api_usage
from harness.spec import Spec, load_file
from harness.spec.program import parse

SPECS = Path(__file__).parents[3] / "specs"

PROGRAM = """\
def tree(fn):
    if fn is None:
        return "None"
    return fn.name() + "(" + ", ".join(tree(f) for f, i in fn.next_functions) + ")"
names = []
names.append(1)
names.extend([2])
names.remove(2)
names.pop()
r = torch.max(x, 0)
print(r.values, r.indices, x.max(1).values, torch.sort(x).indices.sum())
y = x.to(torch.float64).exp()
print(tree(y.grad_fn), y._version, y._base, y._is_view)
acc = y.grad_fn.next_functions[0][0]
print(acc.name(), acc.variable.grad, acc.next_functions)
fn = y.grad_fn
while fn is not None:
    fn = fn.next_functions[0][0] if len(fn.next_functions) else None
print(isinstance(fn, torch.autograd.graph.Node), torch.linalg.vector_norm(x), x.dtype.itemsize)
print(", ".join(["a", "b"]), {"a": x}.values(), torch.nn.functional.relu(x), F.gelu(x))
print(torch.tensor([1, 2], dtype=torch.int64).float(), torch.pi)
with torch.no_grad():
    x.grad = None
"""


def test_api_usage_counts_tensor_attributes_read_on_tensors_only():
    functions, methods = api_usage(ast.parse(PROGRAM))
    assert methods == {"max", "sum", "to", "exp", "grad_fn", "_version", "_base", "_is_view",
                       "grad", "float", "dtype"}
    for not_tensor in ("append", "extend", "remove", "pop", "join", "name", "next_functions",
                       "variable", "values", "indices", "itemsize"):
        assert not_tensor not in methods


def test_api_usage_names_functions_and_dtypes_as_the_engine_api_does():
    functions, _ = api_usage(ast.parse(PROGRAM))
    assert functions == {"torch.max", "torch.sort", "torch.float64", "torch.autograd.graph.Node",
                         "torch.linalg.vector_norm", "F.relu", "F.gelu", "torch.tensor",
                         "torch.int64", "torch.no_grad"}  # torch.pi is a constant


@pytest.fixture(scope="module")
def engine_api() -> dict[str, list[str]]:
    return load("engine").api()


def test_engine_api_lists_dtypes_submodules_and_every_node_class(engine_api):
    assert {"torch.float64", "torch.float32", "torch.int64", "torch.bool",
            "torch.autograd.graph.Node", "torch.Size", "torch.Generator", "F.Tensor",
            "torch.FloatTensor"} <= set(engine_api["types"])
    assert {"torch.linalg.vector_norm", "torch.no_grad", "torch.autograd.grad",
            "F.relu"} <= set(engine_api["functions"])
    assert not set(engine_api["types"]) & set(engine_api["functions"])  # ops only
    assert {"CopySlices", "AccumulateGrad", "NotImplemented", "MulBackward0"} \
        <= set(engine_api["grad_fns"])
    assert {"_version", "_base", "_is_view", "backward", "grad"} <= set(engine_api["methods"])
    assert "Node" not in engine_api["grad_fns"]


def test_every_name_the_specs_use_is_in_the_engine_api(engine_api):
    """Nothing the suite uses shows as missing in the report: every spec passes on the engine,
    so a "missing" name is a coverage bug (a dtype, a list method, a grad_fn attribute)."""
    known_functions = set(engine_api["functions"]) | set(engine_api["types"])
    missing: dict[str, set[str]] = {"functions": set(), "methods": set()}
    for path in sorted(SPECS.rglob("*.yaml")):
        for spec in load_file(path, root=SPECS.parent).entries:
            if not isinstance(spec, Spec):
                continue
            functions, methods = api_usage(spec.program.tree)
            missing["functions"] |= functions - known_functions
            missing["methods"] |= methods - set(engine_api["methods"])
    assert missing == {"functions": set(), "methods": set()}


def test_usage_is_read_off_the_parsed_program():
    program = parse("y = x.exp()\nnames = []\nnames.append(y.grad_fn.name())\n", {"x"})
    functions, methods = api_usage(program.tree)
    assert functions == frozenset()
    assert methods == {"exp", "grad_fn"}
