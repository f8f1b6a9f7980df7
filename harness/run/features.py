"""Operators and autograd features a program uses, for the report's suspects (what the failing
items share): read off the program's AST once per item, like harness.run.usage's API names.

Operators are Python's (`*`, `@`, `x[i]`, `x[i] = v`, `+=`), whatever the operands: a
program's arithmetic on plain numbers counts too, which only makes an operator a weaker suspect.
Features are the parts of autograd a program leans on beyond single ops:

- `create_graph`, `retain_graph`: the keyword given (to backward or autograd.grad) and not False;
- `backward-twice`: more than one backward/autograd.grad call, or one inside a loop;
- `hooks`: register_hook and its kin; `retain_grad`;
- `grad-mode`: no_grad, enable_grad, set_grad_enabled, inference_mode;
- `in-place`: a Tensor method ending in `_`, an augmented assignment, an item or attribute
  assignment (`x[0] = 1`, `x.data = y`, `x.grad = None`);
- `print`: the program prints; `prints-grad_fn`: it prints a graph node itself (its repr:
  `print(y.grad_fn)`, an f-string of `next_functions`), not just its name;
- `declared-error`: the spec declares an exception (raises:).

Two more are facts of PyTorch's traces (`traced`), seen on every example: `prints-tensor` (the
program printed a tensor), `warns` (a statement of the program gave a warning).
"""

from __future__ import annotations

import ast

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
           ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}
_UNARY = {ast.USub: "-x", ast.Invert: "~x", ast.UAdd: "+x"}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_HOOKS = {"register_hook", "register_post_accumulate_grad_hook", "register_prehook",
          "register_multi_grad_hook", "saved_tensors_hooks"}
_GRAD_MODE = {"no_grad", "enable_grad", "set_grad_enabled", "inference_mode"}
_BACKWARD = {"backward", "grad"}


def operators(tree: ast.AST) -> set[str]:
    """Python operators the program applies to something other than two literals."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and not _literals(node.left, node.right):
            out.add(_BINARY.get(type(node.op), "?"))
        elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY \
                and not isinstance(node.operand, ast.Constant):
            out.add(_UNARY[type(node.op)])
        elif isinstance(node, ast.Compare) and not _literals(node.left, *node.comparators):
            out.update(_COMPARE[type(op)] for op in node.ops if type(op) in _COMPARE)
        elif isinstance(node, ast.AugAssign):
            out.add(_BINARY.get(type(node.op), "?") + "=")
        elif isinstance(node, ast.Subscript):
            out.add("x[i] = v" if isinstance(node.ctx, ast.Store) else "x[i]")
    out.discard("?")
    out.discard("?=")
    return out


def features(tree: ast.AST, declares_errors: bool = False) -> set[str]:
    """The autograd features (module docstring) the program uses."""
    out = {"declared-error"} if declares_errors else set()
    backward_calls = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _called_name(node.func)
            if name in _BACKWARD:
                backward_calls += 1 + _in_loop(tree, node)
            if name in _HOOKS:
                out.add("hooks")
            elif name == "retain_grad":
                out.add("retain_grad")
            elif name in _GRAD_MODE:
                out.add("grad-mode")
            elif name == "print":
                out.add("print")
                if any(_is_node(arg) for arg in node.args):
                    out.add("prints-grad_fn")
            elif name in ("repr", "str", "format") and any(_is_node(a) for a in node.args):
                out.add("prints-grad_fn")
            elif isinstance(node.func, ast.Attribute) and name.endswith("_") \
                    and not name.startswith("_"):
                out.add("in-place")
            for keyword in node.keywords:
                if keyword.arg in ("create_graph", "retain_graph") and not (
                        isinstance(keyword.value, ast.Constant) and not keyword.value.value):
                    out.add(keyword.arg)
        elif isinstance(node, ast.FormattedValue) and _is_node(node.value):
            out.add("prints-grad_fn")
        elif isinstance(node, ast.AugAssign):
            out.add("in-place")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Subscript | ast.Attribute) for t in targets):
                out.add("in-place")
    if backward_calls > 1:
        out.add("backward-twice")
    return out


def traced(trace) -> set[str]:
    """The features PyTorch's trace of one example shows (harness.run.trace.Trace)."""
    out = set()
    for step in trace.steps:
        if step.warnings:
            out.add("warns")
        if "tensor(" in step.stdout:
            out.add("prints-tensor")
    return out


def _is_node(expression: ast.AST) -> bool:
    """`y.grad_fn`, `y.grad_fn.next_functions`, `...next_functions[0][0]`: a graph node (or
    nodes) itself, whose repr is printed, rather than `y.grad_fn.name()`."""
    while isinstance(expression, ast.Subscript):
        expression = expression.value
    return isinstance(expression, ast.Attribute) and expression.attr in ("grad_fn",
                                                                         "next_functions")


def _literals(*nodes: ast.AST) -> bool:
    return all(isinstance(n, ast.Constant) for n in nodes)


def _called_name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _in_loop(tree: ast.AST, target: ast.AST) -> bool:
    """Whether `target` sits inside a for/while loop (or a comprehension) of the program."""
    for node in ast.walk(tree):
        if isinstance(node, ast.For | ast.While | ast.ListComp | ast.SetComp | ast.DictComp
                      | ast.GeneratorExp):
            if any(child is target for child in ast.walk(node)):
                return True
    return False
