"""What an item exercised beyond API names (harness.run.features): operators and autograd
features read off the program, and the two facts PyTorch's traces show."""

from __future__ import annotations

import ast
from types import SimpleNamespace

from harness.run.features import features, operators, traced

PROGRAM = """\
y = x * 2 @ w
z = -y
print(y.grad_fn)
print(f"{z.grad_fn.next_functions[0][0]}")
x.grad.zero_()
y[0] = 3
w += 1
h = x.register_hook(lambda g: g)
z.sum().backward(retain_graph=True)
for i in range(2):
    z.sum().backward(create_graph=False)
with torch.no_grad():
    q = x > 0
"""


def test_operators_are_read_off_the_program():
    assert operators(ast.parse(PROGRAM)) == {"*", "@", "-x", "x[i]", "x[i] = v", "+=", ">"}
    assert operators(ast.parse("n = 2 * 3\nprint(-1)")) == set()  # literals alone: no operator


def test_features_are_read_off_the_program():
    assert features(ast.parse(PROGRAM), declares_errors=True) == {
        "print", "prints-grad_fn", "in-place", "hooks", "retain_graph", "backward-twice",
        "grad-mode", "declared-error"}
    assert features(ast.parse("y = x.sum()\ny.backward(create_graph=True)\nprint(y.item())")) \
        == {"create_graph", "print"}  # one backward, a float printed: no node, not twice


def test_what_pytorchs_trace_showed():
    def step(stdout="", warnings=()):
        return SimpleNamespace(stdout=stdout, warnings=warnings)

    trace = SimpleNamespace(steps=[step("3.0\n"), step(warnings=("w",)), step("tensor([1.])\n")])
    assert traced(trace) == {"warns", "prints-tensor"}
    assert traced(SimpleNamespace(steps=[step("3.0\n")])) == set()
