"""PyTorch's names as a program reaches them, and the names it uses that PyTorch does not have.

The helpers (`chain`, `roots`, `tensor_attrs`) are shared by the allow-list (harness.spec.program)
and by the later analyses of a program (harness.run.attribution, .usage). The check finds names a
program uses that PyTorch does not have (`torch.foo_bar`, `x.not_a_method`): a typo in an API
name would otherwise surface as an AttributeError from PyTorch at run time, far from the line
that has it. The check is sound: it reports a name only when the program would
certainly raise AttributeError on it. `torch.X.Y` chains (and `F.*`, `math.*`) are looked up on
the real modules; `recv.name` is checked against `torch.Tensor` only when `recv` is clearly a
tensor (an input, a tensor factory, arithmetic on tensors...) or None. Statements a spec declares
as raising, and `try` bodies, are not checked.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import math
import types
import warnings
from functools import cache

# torch functions that return one tensor (or raise), whatever their arguments.
TENSOR_FUNCTIONS = set("""
    tensor as_tensor ones zeros empty full rand randn randint arange linspace logspace eye
    ones_like zeros_like empty_like full_like rand_like randn_like randint_like
    FloatTensor DoubleTensor LongTensor IntTensor HalfTensor BoolTensor ByteTensor Tensor
    add sub mul div true_divide floor_divide remainder fmod pow exp exp2 expm1 log log2 log10 log1p
    sqrt rsqrt abs neg sign sin cos tan asin acos atan atan2 sinh cosh tanh sigmoid relu
    clamp clip floor ceil round trunc frac reciprocal square erf erfc lerp where maximum minimum
    matmul mm bmm mv dot outer addmm einsum cat concat stack hstack vstack reshape flatten
    squeeze unsqueeze transpose permute t clone detach sum mean prod norm cumsum cumprod
    logsumexp softmax log_softmax dist diag tril triu flip roll gather masked_fill eq ne lt le gt
    ge isnan isinf isfinite logical_and logical_or logical_not logical_xor all any
""".split())
# torch.nn.functional functions that return one tensor.
FUNCTIONAL_TENSOR_FUNCTIONS = set("""
    relu relu6 elu selu celu gelu silu mish leaky_relu hardtanh softplus softsign tanhshrink
    sigmoid tanh softmax log_softmax softmin normalize linear bilinear dropout pad
    mse_loss l1_loss smooth_l1_loss huber_loss nll_loss cross_entropy binary_cross_entropy
    binary_cross_entropy_with_logits kl_div cosine_similarity pairwise_distance one_hot
""".split())
# Tensor methods that return a tensor (in-place ones return self).
TENSOR_METHODS = set("""
    add sub mul div pow exp log log2 log10 log1p sqrt rsqrt abs neg sign sin cos tan tanh sigmoid
    relu clamp clip floor ceil round trunc reciprocal square matmul mm mv dot sum mean prod norm
    cumsum cumprod logsumexp softmax log_softmax clone detach contiguous view view_as reshape
    reshape_as flatten squeeze unsqueeze transpose permute t expand expand_as repeat flip roll
    float double half int long bool byte to type_as masked_fill gather where eq ne lt le gt ge
    add_ sub_ mul_ div_ pow_ zero_ fill_ clamp_ copy_ requires_grad_ detach_ abs_ neg_ exp_
    sqrt_ normal_ uniform_ cpu
""".split())
TENSOR_ATTRIBUTES = {"data", "grad", "T", "mT", "H", "mH", "real"}  # a tensor, or None for grad
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)


def roots() -> dict[str, object]:
    """The objects behind the names the harness provides, in PyTorch."""
    import torch
    import torch.nn.functional

    return {"torch": torch, "F": torch.nn.functional, "math": math}


#: What `lookup` returns for a name an object does not have.
MISSING = object()


def lookup(obj, name: str):
    """`obj.name` found without importing or running PyTorch's code, or MISSING.

    A module: its own `__dict__` (a module-level `__getattr__` is never called). A class:
    `inspect.getattr_static` (no metaclass hook, no descriptor). Any other object (the allow-list
    only lets chains pass through dtypes, generators and numbers, whose attributes are C getters):
    `getattr` (another exception than AttributeError from a getter propagates)."""
    if isinstance(obj, types.ModuleType):
        return vars(obj).get(name, MISSING)
    try:
        if isinstance(obj, type):
            return inspect.getattr_static(obj, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(obj, name)
    except AttributeError:
        return MISSING


def check(tree: ast.Module, inputs: set[str], skip_lines: set[int] = frozenset()) \
        -> tuple[int, int, str] | None:
    """The first unknown name as (line, col, message) in program coordinates, or None."""
    finder = _Finder(tree, inputs)
    skipped = _skipped_lines(tree, skip_lines)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) \
                and node.end_lineno is not None and node.lineno not in skipped:
            message = finder.problem(node)
            if message:
                col = node.end_col_offset - len(node.attr) + 1
                problems.append((node.end_lineno, col, message))
    return min(problems) if problems else None


def _skipped_lines(tree: ast.Module, declared: set[int]) -> set[int]:
    """Lines where an AttributeError may be intended: declared raises and guarded try bodies."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        spans = []
        if isinstance(node, ast.stmt) and node in tree.body and node.lineno in declared:
            spans.append(node)
        if isinstance(node, ast.Try) and node.handlers:
            spans += node.body
        for s in spans:
            lines.update(range(s.lineno, (s.end_lineno or s.lineno) + 1))
    return lines


class _Finder:
    def __init__(self, tree: ast.Module, inputs: set[str]):
        bindings = _bindings(tree)
        self.stored_attrs = {n.attr for n in ast.walk(tree)
                             if isinstance(n, ast.Attribute) and not isinstance(n.ctx, ast.Load)}
        self.roots = {k: v for k, v in roots().items() if k not in bindings}
        self.tensors = self._tensor_names(bindings, inputs)

    def _tensor_names(self, bindings: dict[str, list], inputs: set[str]) -> set[str]:
        """Names whose every binding is a tensor (or None): the greatest fixed point."""
        names = {n for n, values in bindings.items() if None not in values} | set(inputs)
        names -= {n for n, values in bindings.items() if None in values}
        changed = True
        while changed:
            self.tensors = names
            keep = {n for n in names if all(self.is_tensor(v) for v in bindings.get(n, []))}
            changed, names = keep != names, keep
        return names

    def is_tensor(self, e: ast.expr) -> bool:
        """True if `e` can only evaluate to a tensor or None (or raise)."""
        if isinstance(e, ast.Name):
            return e.id in self.tensors
        if isinstance(e, ast.Constant):
            return e.value is None
        if isinstance(e, ast.BinOp) and isinstance(e.op, _ARITHMETIC):
            left, right = self.is_tensor(e.left), self.is_tensor(e.right)
            return (left or right) and (left or _is_number(e.left)) \
                and (right or _is_number(e.right))
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub | ast.UAdd | ast.Invert):
            return self.is_tensor(e.operand)
        if isinstance(e, ast.Subscript):
            return self.is_tensor(e.value)
        if isinstance(e, ast.IfExp):
            return self.is_tensor(e.body) and self.is_tensor(e.orelse)
        if isinstance(e, ast.Attribute):
            return e.attr in TENSOR_ATTRIBUTES and self.is_tensor(e.value)
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute):
            f = e.func
            if isinstance(f.value, ast.Name) and f.value.id in self.roots:
                table = {"torch": TENSOR_FUNCTIONS, "F": FUNCTIONAL_TENSOR_FUNCTIONS}
                return f.attr in table.get(f.value.id, ())
            return f.attr in TENSOR_METHODS and self.is_tensor(f.value)
        return False

    def problem(self, node: ast.Attribute) -> str | None:
        if node.attr in self.stored_attrs:
            return None
        if self.is_tensor(node.value):
            if node.attr in tensor_attrs():
                return None
            return f"torch.Tensor has no attribute {node.attr!r}" + _hint(node.attr,
                                                                         tensor_attrs())
        parts = chain(node)
        if parts and parts[0] in self.roots:
            return _resolve(self.roots[parts[0]], parts)
        return None


def _is_number(e: ast.expr) -> bool:
    if isinstance(e, ast.UnaryOp):
        e = e.operand
    return isinstance(e, ast.Constant) and type(e.value) in (int, float, bool)


def chain(node: ast.expr) -> list[str] | None:
    """`torch.nn.functional.relu` -> ['torch', 'nn', 'functional', 'relu']; None if not a chain."""
    parts = []
    e: ast.expr = node
    while isinstance(e, ast.Attribute):
        parts.append(e.attr)
        e = e.value
    return [e.id, *reversed(parts)] if isinstance(e, ast.Name) else None


def _resolve(obj, chain: list[str]) -> str | None:
    for i, name in enumerate(chain[1:], start=1):
        try:
            value = lookup(obj, name)
        except Exception:  # a getter that fails: not our business
            return None
        if value is not MISSING:
            obj = value
            continue
        return missing(obj, chain[: i + 1])
    return None


def missing(owner, chain: list[str] | tuple[str, ...]) -> str:
    """The message for `chain`, whose last name `owner` does not have (what a module's
    `__getattr__` would compute on access, a lazy import or a deprecated name, is not there
    either: spec programs cannot have it)."""
    dotted, name = ".".join(chain), chain[-1]
    names = [n for n in vars(owner) if not n.startswith("_")] \
        if isinstance(owner, types.ModuleType) else [n for n in dir(owner) if not n.startswith("_")]
    return f"{dotted} does not exist ({'.'.join(chain[:-1])} has no attribute {name!r})" \
        + _hint(name, names)


def _hint(name: str, names) -> str:
    close = difflib.get_close_matches(name, list(names), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@cache
def tensor_attrs() -> frozenset[str]:
    import torch

    return frozenset(dir(torch.Tensor))


def _bindings(tree: ast.Module) -> dict[str, list]:
    """Every name the program binds -> the expressions bound to it (None: something else)."""
    out: dict[str, list] = {}

    def bind(target: ast.expr, value: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            out.setdefault(target.id, []).append(value)
        elif isinstance(target, ast.Tuple | ast.List):
            for t in target.elts:
                bind(t.value if isinstance(t, ast.Starred) else t, None)
        elif isinstance(target, ast.Starred):
            bind(target.value, None)

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bind(target, node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            bind(node.target, node.value)
        elif isinstance(node, ast.For | ast.comprehension):
            bind(node.target, None)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            bind(node.optional_vars, None)
        elif isinstance(node, ast.FunctionDef):
            out.setdefault(node.name, []).append(None)
        elif isinstance(node, ast.arg):
            out.setdefault(node.arg, []).append(None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.setdefault(node.name, []).append(None)
    return out
