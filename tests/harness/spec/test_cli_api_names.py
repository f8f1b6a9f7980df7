"""`parity validate`'s PyTorch-name check: real typos are found, valid programs never flagged."""

import ast

import pytest

from harness.spec.api_names import check


def problem(program: str, inputs=("x",), raises=()):
    return check(ast.parse(program), set(inputs), set(raises))


@pytest.mark.parametrize("program, line, col, text", [
    ("y = torch.foo_bar(x)", 1, 11, "torch.foo_bar does not exist"),
    ("y = torch.nn.functionl.relu(x)", 1, 14, "torch.nn.functionl does not exist"),
    ("y = F.rleu(x)", 1, 7, "did you mean 'relu'?"),
    ("y = math.tau2", 1, 10, "math.tau2"),
    ("x.not_a_method()", 1, 3, "torch.Tensor has no attribute 'not_a_method'"),
    ("y = x * 2\nz = y.sum().bakward()", 2, 13, "did you mean 'backward'?"),
    ("y = torch.ones(2)\ny.requires_grad_(True).gradd", 2, 24, "'gradd'"),
    ("y = (x + 1)[0]\ny.itme()", 2, 3, "did you mean 'item'?"),
    ("y = None\nfor i in range(2):\n    y = x if y is None else y * x\ny.foo", 4, 3, "'foo'"),
    ("print(x.grad.dat)", 1, 14, "'dat'"),
])
def test_finds_unknown_names(program, line, col, text):
    found = problem(program)
    assert found is not None, program
    assert found[:2] == (line, col) and text in found[2], found


@pytest.mark.parametrize("program", [
    "y = x * 2\ny.backward(torch.ones_like(y))\nprint(x.grad.data.norm())",
    "x.foo = 1\nprint(x.foo)",                               # attributes a program sets
    "torch.my_helper = 1\nprint(torch.my_helper)",
    "try:\n    x.not_a_method()\nexcept AttributeError:\n    pass",  # an error on purpose
    "y = x.size()\nprint(y.numel())",                        # torch.Size, not a tensor
    "y = x.max(0)\nprint(y.values, y.indices)",              # a named tuple
    "y = x.tolist()\ny.append(1)",                           # a list
    "x = [1, 2]\nx.append(3)",                               # the input rebound to a list
    "def f(x):\n    return x.append(1)\nf([])\ny = x",         # a parameter shadows the input
    "n = [0] * x\nn.append(1)",                              # list * tensor is a list
    "y = x.grad_fn\nprint(y.next_functions)",                # a node, not a tensor
    "print(torch.float32.is_floating_point)",
    "g = torch.utils.checkpoint.checkpoint",                 # a submodule
    "torch = 3\nprint(torch.real)",                          # torch rebound
    "with torch.no_grad():\n    y = x * 2",
    "y, z = x.split(1)\nprint(y.foo)",                       # unpacking: not tracked
])
def test_valid_programs_are_never_flagged(program):
    assert problem(program) is None


def test_declared_raises_are_not_checked():
    program = "y = x * 2\nx.not_a_method()"
    assert problem(program, raises=[2]) is None
    assert problem(program) is not None
