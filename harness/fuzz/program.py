"""Random, well-formed autograd programs, as a Hypothesis strategy.

A program is its leaves (the spec's inputs: shape, dtype, requires_grad) and a list of
statements. The strategy draws a list of *genes*, each a few small integers, and reads them one
after another against a model of the program's state: each variable's shape, dtype, whether it
requires grad, is a leaf, a view (and of what), and which leaves it depends on. An integer picks
among the choices valid at that point (modulo their number), so every gene list is a program whose
shapes and dtypes fit by construction, and Hypothesis's shrinker, which deletes genes and lowers
integers, deletes statements and moves each towards the first op, the first variable, the
smallest shape. Some genes ask for an invalid statement on purpose (a bad dim, shapes that do not
broadcast): PyTorch's errors are compared too.

The model is deliberately simple. Where it cannot know what PyTorch will do (a graph freed by an
earlier backward, a tensor saved for backward and then modified in place), the statement is
marked `may_raise`; a statement not so marked must run on PyTorch (tests/harness/fuzz).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import strategies as st

LEAF_DTYPES = ("float64", "float32", "int64")
SIDES = (1, 2, 3)
LEAF_NAMES = "abc"
#: The values every input draws from (declared in the written spec, so the harness draws alike).
VALUE_RANGE = (-2.0, 2.0)
MAX_STATEMENTS = 10
GENE = 256  # each gene integer is drawn from 0..GENE-1
INVALID = 13  # a gene whose last integer % INVALID == INVALID - 1 asks for an invalid statement


@dataclass(frozen=True)
class Leaf:
    name: str
    shape: tuple[int, ...]
    dtype: str
    requires_grad: bool


@dataclass(frozen=True)
class Statement:
    source: str  # one top-level statement (a `with` block spans several lines)
    op: str  # the op or autograd feature it exercises: signatures and the histogram
    features: tuple[str, ...] = ()
    may_raise: bool = False  # PyTorch may refuse it (see the module docstring)


@dataclass(frozen=True)
class FuzzProgram:
    leaves: tuple[Leaf, ...]
    statements: tuple[Statement, ...]
    #: what it was read from (harness.fuzz.campaign deletes genes to shrink further)
    genes: tuple[tuple[int, ...], ...] = field(default=(), compare=False)

    @property
    def text(self) -> str:
        return "".join(s.source + "\n" for s in self.statements)

    def statement_at(self, line: int) -> Statement | None:
        """The statement that starts at program line `line` (1-based)."""
        start = 1
        for statement in self.statements:
            if start == line:
                return statement
            start += statement.source.count("\n") + 1
        return None

    def ops(self) -> list[str]:
        return [s.op for s in self.statements]

    def features(self) -> set[str]:
        return {f for s in self.statements for f in s.features}

    def __len__(self) -> int:
        return len(self.statements)


# ----------------------------------------------------------------------- the state model
@dataclass
class Var:
    name: str
    shape: tuple[int, ...]
    dtype: str
    rg: bool | None  # requires_grad; None: the model cannot tell
    leaf: bool
    view_of: str | None = None  # the root tensor this is a view of (autograd-tracked views)
    expanded: bool = False  # several elements share memory: in-place ops on it raise
    contiguous: bool = True
    deps: frozenset[str] = frozenset()  # the leaves requiring grad it was computed from
    order: int = 0  # how many autograd.grad calls made it (higher-order grads)
    memory: str | None = None  # the variable whose memory it shares (views, detach, .data)

    @property
    def storage(self) -> str:
        return self.memory or self.name

    @property
    def floating(self) -> bool:
        return self.dtype.startswith("float")

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


_RANK = {"int64": 0, "float32": 1, "float64": 2}


def promote(x: Var, y: Var | float | int) -> str:
    """PyTorch's result dtype: the higher category wins; within it, dimensioned tensors come
    before 0-d ones, and a Python scalar only decides the category (float: the default float32)."""
    if not isinstance(y, Var):
        return "float32" if isinstance(y, float) and not x.floating else x.dtype
    category = max(x.floating, y.floating)
    same = [v for v in (x, y) if v.floating == category]
    dimensioned = [v for v in same if v.shape]
    return max((v.dtype for v in dimensioned or same), key=_RANK.__getitem__)


def broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y) if 0 not in (x, y) else 0)
    return tuple(reversed(out))


def matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    if len(a) not in (1, 2) or len(b) not in (1, 2) or a[-1] != b[0]:
        return None
    return a[:-1] + b[1:]


class Builder:
    """The state while genes are read: variables, grad mode, names."""

    def __init__(self, leaves: tuple[Leaf, ...]):
        self.vars: dict[str, Var] = {
            leaf.name: Var(leaf.name, leaf.shape, leaf.dtype, leaf.requires_grad, True,
                           deps=frozenset({leaf.name}) if leaf.requires_grad else frozenset())
            for leaf in leaves}
        self.grad_enabled = True
        self.count = 0
        self.backwards = 0
        self.hooks: set[str] = set()

    def fresh(self, prefix: str = "t") -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def pick(self, r: int, need: Callable[[Var], bool] = lambda v: True) -> Var | None:
        candidates = [v for v in self.vars.values() if need(v)]
        return candidates[r % len(candidates)] if candidates else None

    def result(self, name: str, shape, dtype: str, operands: list[Var], **kw) -> Var:
        """A new variable computed from `operands` under the current grad mode."""
        rgs = [v.rg for v in operands]
        if not self.grad_enabled:
            rg = False
        elif any(r is True for r in rgs):
            rg = True
        elif any(r is None for r in rgs):
            rg = None
        else:
            rg = False
        if rg is not False and not dtype.startswith("float"):
            rg = False  # integer results never require grad
        deps = frozenset().union(*(v.deps for v in operands)) if rg is not False else frozenset()
        var = Var(name, tuple(shape), dtype, rg, rg is False, deps=deps,
                  order=max((v.order for v in operands), default=0), **kw)
        self.vars[name] = var
        return var


# ------------------------------------------------------------------------------- the ops
@dataclass(frozen=True)
class Op:
    name: str
    kind: str  # elementwise, reduction, matmul, view, inplace, autograd, mode, print
    build: Callable[[Builder, tuple[int, ...]], Statement | None]
    weight: int = 1
    needs: tuple[str, ...] = ()  # the engine's names it uses ("tanh", "Tensor.add_")


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return ", ".join(map(str, shape))


UNARY = {  # name: (source, float result from an int input)
    "neg": ("-{x}", False), "abs": ("{x}.abs()", False), "tanh": ("torch.tanh({x})", True),
    "sigmoid": ("{x}.sigmoid()", True), "exp": ("{x}.exp()", True),
    "sin": ("torch.sin({x})", True), "relu": ("torch.relu({x})", False),
    "square": ("{x} ** 2", False), "clone": ("{x}.clone()", False),
}


def _unary(name: str):
    source, to_float = UNARY[name]

    def build(b: Builder, g) -> Statement:
        x = b.pick(g[0])
        dtype = "float32" if to_float and not x.floating else x.dtype
        out = b.fresh()
        b.result(out, x.shape, dtype, [x])
        return Statement(f"{out} = {source.format(x=x.name)}", name, ("elementwise",))
    return build


BINARY = {"add": "{x} + {y}", "sub": "{x} - {y}", "mul": "{x} * {y}", "div": "{x} / {y}",
          "maximum": "torch.maximum({x}, {y})"}


def _binary(name: str):
    source = BINARY[name]

    def build(b: Builder, g) -> Statement:
        x = b.pick(g[0])
        invalid = g[3] % INVALID == INVALID - 1
        if invalid:
            y = b.pick(g[1], lambda v: broadcast(x.shape, v.shape) is None)
            if y is not None:
                return Statement(f"{b.fresh()} = {source.format(x=x.name, y=y.name)}", name,
                                 ("elementwise", "invalid", "broadcast"), may_raise=True)
        scalar = name != "maximum" and g[2] % 3 == 2
        features = ("elementwise",)
        if scalar:
            y = 0.5 if g[1] % 2 else 2
            shape = x.shape
            operands, text = [x], str(y)
        else:
            y = b.pick(g[1], lambda v: broadcast(x.shape, v.shape) is not None)
            shape = broadcast(x.shape, y.shape)
            operands, text = [x, y], y.name
            if shape != x.shape or shape != y.shape:
                features += ("broadcast",)
        dtype = promote(x, y)
        if name == "div" and dtype == "int64":
            dtype = "float32"
        out = b.fresh()
        b.result(out, shape, dtype, operands)
        return Statement(f"{out} = {source.format(x=x.name, y=text)}", name, features)
    return build


REDUCTIONS = ("sum", "mean", "amax", "prod", "norm")


def _reduction(name: str):
    def build(b: Builder, g) -> Statement | None:
        float_only = name in ("mean", "norm")
        x = b.pick(g[0], lambda v: v.floating or not float_only)
        if x is None:
            return None
        ndim = max(len(x.shape), 1)
        form = g[1] % 3  # all, dim, dim with keepdim
        invalid = g[3] % INVALID == INVALID - 1
        dim = g[2] % (2 * ndim) - ndim
        if invalid:
            form, dim = 1, ndim
        out = b.fresh()
        if form == 0:
            args, shape = "", ()
        else:  # norm's first positional argument is p: its dim goes by keyword
            args = ("dim=" if name == "norm" else "") + f"{dim}" + (
                ", keepdim=True" if form == 2 else "")
            axis = dim % ndim
            shape = () if not x.shape else (
                x.shape[:axis] + ((1,) if form == 2 else ()) + x.shape[axis + 1:])
        features = ("reduction",) + (("invalid",) if invalid else ())
        empty = name == "amax" and x.numel == 0  # no identity: PyTorch refuses
        if not invalid and not empty:
            b.result(out, shape, x.dtype, [x])
        return Statement(f"{out} = {x.name}.{name}({args})", name, features,
                         may_raise=invalid or empty)
    return build


def _matmul(b: Builder, g) -> Statement | None:
    x = b.pick(g[0], lambda v: len(v.shape) in (1, 2) and v.floating)
    if x is None:
        return None
    invalid = g[3] % INVALID == INVALID - 1

    def fits(v: Var) -> bool:
        return matmul_shape(x.shape, v.shape) is not None and v.dtype == x.dtype

    y = b.pick(g[1], (lambda v: not fits(v) and len(v.shape) in (1, 2)) if invalid else fits)
    out = b.fresh()
    if y is None and invalid:
        return None
    if y is None:  # with its own transpose it always fits
        other = x.name if len(x.shape) == 1 else f"{x.name}.t()"
        shape = () if len(x.shape) == 1 else (x.shape[0], x.shape[0])
        b.result(out, shape, x.dtype, [x])
        return Statement(f"{out} = {x.name} @ {other}", "matmul", ("matmul",))
    if invalid:
        return Statement(f"{out} = {x.name} @ {y.name}", "matmul", ("matmul", "invalid"),
                         may_raise=True)
    b.result(out, matmul_shape(x.shape, y.shape), x.dtype, [x, y])
    return Statement(f"{out} = {x.name} @ {y.name}", "matmul", ("matmul",))


def _view(name: str):
    def build(b: Builder, g) -> Statement | None:
        need = {"select": 1, "slice": 1, "transpose": 2, "permute": 2}.get(name, 0)
        x = b.pick(g[0], lambda v: len(v.shape) >= need and (name != "t" or len(v.shape) <= 2))
        if x is None:
            return None
        shape, contiguous, expanded = x.shape, x.contiguous, x.expanded
        may_raise = False
        invalid = g[3] % INVALID == INVALID - 1
        if name == "view":
            text, shape = f"{x.name}.view(-1)", (x.numel,)
            may_raise = not x.contiguous and sum(s != 1 for s in x.shape) > 1
        elif name == "reshape":
            shape = (x.numel,) if g[1] % 2 or not x.shape else (x.shape[0], -1)
            if invalid:
                shape, may_raise = (x.numel + 1,), True
            text = f"{x.name}.reshape({_fmt_shape(shape)})"
            if len(shape) == 2:
                shape = (x.shape[0], x.numel // x.shape[0] if x.shape[0] else 0)
            contiguous = contiguous or not may_raise
        elif name == "t":
            text, shape = f"{x.name}.t()", x.shape[::-1]
            contiguous = len(x.shape) < 2 or 1 in x.shape
        elif name == "transpose":
            text = f"{x.name}.transpose(0, 1)"
            shape = (x.shape[1], x.shape[0]) + x.shape[2:]
            contiguous = False
        elif name == "permute":
            text, shape = f"{x.name}.permute({_fmt_shape(range(len(x.shape) - 1, -1, -1))})", \
                x.shape[::-1]
            contiguous = False
        elif name == "select":
            index = g[1] % x.shape[0] if x.shape[0] else 0
            text, shape = f"{x.name}[{index}]", x.shape[1:]
            may_raise = x.shape[0] == 0
        elif name == "slice":
            text, shape = f"{x.name}[1:]", (max(x.shape[0] - 1, 0),) + x.shape[1:]
        elif name == "unsqueeze":
            dim = g[1] % (len(x.shape) + 1)
            text, shape = f"{x.name}.unsqueeze({dim})", x.shape[:dim] + (1,) + x.shape[dim:]
        elif name == "expand":
            text, shape = f"{x.name}.expand({_fmt_shape((2, *x.shape))})", (2, *x.shape)
            expanded, contiguous = True, False
        else:
            raise ValueError(name)
        out = b.fresh()
        if not may_raise:
            root = x.view_of or x.name
            b.result(out, shape, x.dtype, [x], view_of=root, contiguous=contiguous,
                     expanded=expanded, memory=x.storage)
            b.vars[out].leaf = False if x.rg else x.leaf
        features = ("view",) + (("invalid",) if invalid and may_raise else ())
        return Statement(f"{out} = {text}", name, features, may_raise=may_raise)
    return build


def _detach(name: str):
    def build(b: Builder, g) -> Statement:
        x = b.pick(g[0])
        out = b.fresh()
        text = f"{x.name}.data" if name == "data" else f"{x.name}.detach()"
        b.vars[out] = Var(out, x.shape, x.dtype, False, True, contiguous=x.contiguous,
                          expanded=x.expanded, memory=x.storage)
        return Statement(f"{out} = {text}", name, ("detach",))
    return build


INPLACE = {"add_": "{x}.add_({y})", "mul_": "{x}.mul_({y})", "zero_": "{x}.zero_()",
           "sigmoid_": "{x}.sigmoid_()", "setitem": "{x}[0] = {y}", "iadd": "{x} += {y}"}


def _inplace(name: str):
    source = INPLACE[name]

    def build(b: Builder, g) -> Statement | None:
        x = b.pick(g[0], lambda v: v.shape if name == "setitem" else True)
        if x is None:
            return None
        target = x.shape[1:] if name == "setitem" else x.shape
        y: Var | float | int | None = None
        if name in ("add_", "mul_", "setitem", "iadd"):
            if g[1] % 2:
                y = b.pick(g[2], lambda v: v.name != x.name
                           and broadcast(target, v.shape) == target)
            if y is None:
                y = 2 if name == "mul_" else 1 if name != "setitem" else 0
        text = source.format(x=x.name, y=y.name if isinstance(y, Var) else y)
        base = b.vars.get(x.view_of) if x.view_of else None
        to_float = name == "sigmoid_" or (isinstance(y, Var) and y.floating)
        refused = b.grad_enabled and (  # PyTorch refuses in-place ops on leaves needing grad
            (x.leaf and x.rg is not False)
            or (base is not None and base.leaf and base.rg is not False))
        may_raise = (
            refused or x.expanded or x.rg is None or (to_float and not x.floating)
            or (isinstance(y, Var) and (y.rg is None or y.storage == x.storage))
            or (base is not None and not base.leaf and base.rg is None))
        features = ("inplace",) + (("view",) if x.view_of else ()) + \
            (() if b.grad_enabled else ("no_grad",))
        if refused or x.expanded or (to_float and not x.floating):
            pass  # it raises: nothing changes
        elif b.grad_enabled and isinstance(y, Var) and y.rg is not False:
            if not x.rg:  # a tensor that did not require grad becomes part of the graph
                x.rg, x.leaf = y.rg, False
                for var in b.vars.values():  # its base and the other views of it: unknown
                    if x.view_of and var is not x and x.view_of in (var.name, var.view_of):
                        var.rg = None
            x.deps = x.deps | y.deps
        elif x.rg and b.grad_enabled:
            x.leaf = False
        return Statement(text, name, features, may_raise=may_raise)
    return build


def _retain_grad(b: Builder, g) -> Statement:
    x = b.pick(g[0])
    return Statement(f"{x.name}.retain_grad()", "retain_grad", ("retain_grad",),
                     may_raise=x.rg is not True)


def _grad_read(b: Builder, g) -> Statement:
    x = b.pick(g[0])
    return Statement(f"{b.fresh('g')} = {x.name}.grad", "grad_read", ("grad_read",))


HOOKS = ("g * 2", "g + 1", "-g", "None")


def _hook(b: Builder, g) -> Statement:
    x = b.pick(g[0], lambda v: v.rg is not False) or b.pick(g[0])
    body = HOOKS[g[1] % len(HOOKS)]
    b.hooks.add(x.name)
    return Statement(f"{x.name}.register_hook(lambda g: {body})", "register_hook", ("hook",),
                     may_raise=x.rg is not True)


def _backward(b: Builder, g) -> Statement:
    x = b.pick(g[0], lambda v: v.rg is not False) or b.pick(g[0])
    options = []
    if g[1] % 2:
        options.append("retain_graph=True")
    if g[1] % 5 == 4:
        options.append("create_graph=True")
    leaves = sorted(x.deps)
    if g[2] % 4 == 3 and leaves:
        options.append(f"inputs=[{leaves[g[2] % len(leaves)]}]")
    kw = ", ".join(options)
    form = g[3] % 3
    if not x.shape and form != 2:
        text = f"{x.name}.backward({kw})"
    elif form == 1:
        text = f"{x.name}.backward(torch.ones_like({x.name}){', ' + kw if kw else ''})"
    else:
        text = f"{x.name}.sum().backward({kw})"
    features = ["backward"] + [o.split("=")[0] for o in options]
    if b.backwards:
        features.append("second_backward")
    if x.order:
        features.append("higher_order")
    b.backwards += 1
    return Statement(text, "backward", tuple(features), may_raise=True)


def _autograd_grad(b: Builder, g) -> Statement | None:
    x = b.pick(g[0], lambda v: v.rg is not False and v.floating)
    if x is None:
        return None
    leaves = [v for v in b.vars.values() if v.leaf and v.rg]
    unused = g[3] % INVALID == INVALID - 1
    used = sorted(x.deps)
    pool = [n for n in (v.name for v in leaves) if n not in x.deps] if unused else used
    if not pool:
        return None
    leaf = b.vars[pool[g[1] % len(pool)]]
    create = g[2] % 2 == 1
    options = (", create_graph=True" if create else "") + \
        (", retain_graph=True" if g[2] % 4 >= 2 else "")
    target = x.name if not x.shape else f"{x.name}.sum()"
    out = b.fresh("g")
    features = ("autograd.grad",) + (("create_graph",) if create else ()) + \
        (("higher_order",) if x.order else ()) + (("invalid",) if unused else ())
    if not unused:
        grad = Var(out, leaf.shape, leaf.dtype, None if create else False, not create,
                   deps=x.deps if create else frozenset(), order=x.order + 1,
                   expanded=True)  # PyTorch's grad of a sum is an expand: in-place may raise
        b.vars[out] = grad
    return Statement(f"{out}, = torch.autograd.grad({target}, [{leaf.name}]{options})",
                     "autograd.grad", features, may_raise=True)


def _zero_grad(b: Builder, g) -> Statement | None:
    x = b.pick(g[0], lambda v: v.leaf and v.rg)
    if x is None:
        return None
    if g[1] % 2:
        return Statement(f"{x.name}.grad.zero_()", "grad.zero_", ("zero_grad",), may_raise=True)
    return Statement(f"{x.name}.grad = None", "grad=None", ("zero_grad",))


def _print(b: Builder, g) -> Statement:
    x = b.pick(g[0])
    return Statement(f"print({x.name})", "print", ("print",))


def _print_grad_fn(b: Builder, g) -> Statement:
    x = b.pick(g[0], lambda v: v.rg is not False) or b.pick(g[0])
    return Statement(f"print({x.name}.grad_fn)", "print_grad_fn", ("print",))


def _block(mode: str):
    """`with torch.no_grad():` around one statement (and `enable_grad` inside it)."""
    def build(b: Builder, g) -> Statement | None:
        inner_ops = [op for op in _BLOCK_BODIES if op.name in b.enabled] or _BLOCK_BODIES
        op = inner_ops[g[1] % len(inner_ops)]
        before = b.grad_enabled
        b.grad_enabled = mode == "enable_grad"
        try:
            inner = op.build(b, (g[2], g[0], g[3], g[1]))
        finally:
            b.grad_enabled = before
        if inner is None:
            return None
        body = "    " + inner.source.replace("\n", "\n    ")
        if mode == "enable_grad":
            body = "    with torch.enable_grad():\n    " + body.replace("\n", "\n    ")
        features = tuple(dict.fromkeys(("no_grad", *inner.features) + (
            ("enable_grad",) if mode == "enable_grad" else ())))
        return Statement(f"with torch.no_grad():\n{body}", inner.op, features,
                         may_raise=inner.may_raise)
    return build


OPS: tuple[Op, ...] = (
    *(Op(n, "elementwise", _unary(n), 2, needs) for n, needs in (
        ("neg", ("Tensor.__neg__",)), ("abs", ("Tensor.abs",)), ("tanh", ("tanh",)),
        ("sigmoid", ("Tensor.sigmoid",)), ("exp", ("Tensor.exp",)), ("sin", ("sin",)),
        ("relu", ("relu",)), ("square", ("Tensor.__pow__",)), ("clone", ("Tensor.clone",)))),
    *(Op(n, "elementwise", _binary(n), 3, needs) for n, needs in (
        ("add", ("Tensor.__add__",)), ("sub", ("Tensor.__sub__",)),
        ("mul", ("Tensor.__mul__",)), ("div", ("Tensor.__truediv__",)),
        ("maximum", ("maximum",)))),
    *(Op(n, "reduction", _reduction(n), 2, (f"Tensor.{n}",)) for n in REDUCTIONS),
    Op("matmul", "matmul", _matmul, 3, ("Tensor.__matmul__",)),
    *(Op(n, "view", _view(n), 2 if n in ("transpose", "permute") else 1, needs)
      for n, needs in (
        ("view", ("Tensor.view",)), ("reshape", ("Tensor.reshape",)), ("t", ("Tensor.t",)),
        ("transpose", ("Tensor.transpose",)), ("permute", ("Tensor.permute",)),
        ("select", ("Tensor.__getitem__",)), ("slice", ("Tensor.__getitem__",)),
        ("unsqueeze", ("Tensor.unsqueeze",)), ("expand", ("Tensor.expand",)))),
    Op("detach", "view", _detach("detach"), 1, ("Tensor.detach",)),
    Op("data", "view", _detach("data"), 1, ("Tensor.data",)),
    *(Op(n, "inplace", _inplace(n), 2, needs) for n, needs in (
        ("add_", ("Tensor.add_",)), ("mul_", ("Tensor.mul_",)), ("zero_", ("Tensor.zero_",)),
        ("sigmoid_", ("Tensor.sigmoid_",)), ("setitem", ("Tensor.__setitem__",)),
        ("iadd", ("Tensor.__iadd__",)))),
    Op("retain_grad", "autograd", _retain_grad, 2, ("Tensor.retain_grad",)),
    Op("grad_read", "autograd", _grad_read, 2, ("Tensor.grad",)),
    Op("register_hook", "autograd", _hook, 3, ("Tensor.register_hook",)),
    Op("backward", "autograd", _backward, 8, ("Tensor.backward",)),
    Op("autograd.grad", "autograd", _autograd_grad, 4, ("autograd.grad",)),
    Op("zero_grad", "autograd", _zero_grad, 1, ("Tensor.grad",)),
    Op("no_grad", "mode", _block("no_grad"), 3, ("no_grad",)),
    Op("enable_grad", "mode", _block("enable_grad"), 1, ("no_grad", "enable_grad")),
    Op("print", "print", _print, 1, ("Tensor.__repr__",)),
    Op("print_grad_fn", "print", _print_grad_fn, 1, ("Tensor.grad_fn",)),
)
BY_NAME = {op.name: op for op in OPS}
_BLOCK_BODIES = [BY_NAME[n] for n in ("mul", "add", "tanh", "view", "mul_", "add_",
                                      "setitem", "select", "sum")]
#: --ops/--exclude-ops also take these group names
KINDS = sorted({op.kind for op in OPS})


def select_ops(only: list[str] | None = None, exclude: list[str] | None = None,
               engine=None) -> tuple[Op, ...]:
    """The ops a campaign uses: named ones (or kinds), minus excluded ones, that `engine` (the
    module under test, when given) offers. ValueError for a name that is neither."""
    for name in (only or []) + (exclude or []):
        if name not in BY_NAME and name not in KINDS:
            raise ValueError(f"unknown op {name!r}: the fuzzer knows {', '.join(BY_NAME)} "
                             f"and the groups {', '.join(KINDS)}")
    chosen = [op for op in OPS if not only or op.name in only or op.kind in only]
    chosen = [op for op in chosen if not exclude or (op.name not in exclude
                                                     and op.kind not in exclude)]
    if engine is not None:
        chosen = [op for op in chosen if all(offers(engine, n) for n in op.needs)]
    if not chosen:
        raise ValueError("no op left to generate programs from")
    return tuple(chosen)


def offers(module, name: str) -> bool:
    obj = module
    for part in name.split("."):
        if part == "Tensor" and obj is module:
            obj = module.Tensor
            continue
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


# ------------------------------------------------------------------------- the strategy
def _leaf(index: int) -> st.SearchStrategy[Leaf]:
    dtypes = st.sampled_from(LEAF_DTYPES[:2] * 4 + LEAF_DTYPES[2:])
    shapes = st.integers(0, 3).flatmap(
        lambda ndim: st.tuples(*[st.sampled_from(SIDES)] * ndim))
    return st.builds(
        lambda dtype, shape, grad: Leaf(LEAF_NAMES[index], shape, dtype,
                                        dtype != "int64" and grad != 3),
        dtypes, shapes, st.integers(0, 3))


_LEAVES = [_leaf(i) for i in range(len(LEAF_NAMES))]


def _genes(ops: int, max_statements: int, min_statements: int = 1):
    """A gene: which op (an index into the weighted ops), then four integers for its choices,
    drawn as the four bytes of one integer (one draw instead of four: drawing is most of a
    program's cost, and shrinking the integer lowers every byte)."""
    return st.lists(st.tuples(st.integers(0, ops - 1), st.integers(0, GENE ** 4 - 1)).map(
        lambda g: (g[0], g[1] & 255, g[1] >> 8 & 255, g[1] >> 16 & 255, g[1] >> 24)),
        min_size=min_statements, max_size=max_statements)


def programs(ops: tuple[Op, ...] = OPS, max_statements: int = MAX_STATEMENTS,
             min_statements: int = 1) -> st.SearchStrategy[FuzzProgram]:
    """Programs of `min_statements` to `max_statements` statements over 1 to 3 leaves."""
    genes = _genes(len(weighted(ops)), max_statements, min_statements)

    @st.composite
    def program(draw) -> FuzzProgram:
        count = draw(st.integers(1, len(LEAF_NAMES)))
        leaves = tuple(draw(_LEAVES[i]) for i in range(count))
        return build(leaves, draw(genes), ops)
    return program()


def weighted(ops: tuple[Op, ...]) -> tuple[Op, ...]:
    return tuple(op for op in ops for _ in range(op.weight))


def build(leaves: tuple[Leaf, ...], genes: list[tuple[int, ...]], ops: tuple[Op, ...] = OPS
          ) -> FuzzProgram:
    """Read the genes: each picks an op (trying the next ones when it does not apply)."""
    choices = weighted(ops)
    b = Builder(leaves)
    b.enabled = frozenset(op.name for op in ops)
    statements = []
    for first, *rest in genes:
        for k in range(len(choices)):
            statement = choices[(first + k) % len(choices)].build(b, tuple(rest))
            if statement is not None:
                statements.append(statement)
                break
    return FuzzProgram(leaves, tuple(statements), tuple(map(tuple, genes)))


def without_statement(program: FuzzProgram, index: int) -> FuzzProgram:
    """The program with one statement deleted as text (no longer its genes' reading)."""
    statements = program.statements[:index] + program.statements[index + 1:]
    return FuzzProgram(program.leaves, statements)


def without_unused_leaves(program: FuzzProgram) -> FuzzProgram:
    """The program without the leaves its statements never name (same text)."""
    used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", program.text))
    leaves = tuple(leaf for leaf in program.leaves if leaf.name in used) or program.leaves[:1]
    return FuzzProgram(leaves, program.statements, program.genes)

