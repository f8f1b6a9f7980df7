"""Which op produced a compared number: the key of the report's margins (docs/results.md).

A margin is attributed to the op that produced the compared number:

- a tensor's values: its grad_fn class when it has one (``ExpBackward0``), else the PyTorch
  function, Tensor method or operator the program applied last to produce the variable, read
  from the program's text (`statement_ops`): ``y = torch.exp(x)`` gives ``torch.exp``,
  ``y = x.exp()`` gives ``Tensor.exp``, ``z = a @ b`` gives ``@``, ``x += 1`` gives ``+=``,
  ``x.mul_(2)`` gives ``Tensor.mul_``, ``y = x[0]`` gives ``[]``; an input's values are
  ``(input)``;
- a ``.grad``: the backward ops that fed it in PyTorch's graph (`BackwardRecorder`): the grad_fn
  classes of the nodes whose ``next_functions`` hold the leaf's AccumulateGrad, or, for a non-leaf
  that retains its grad, the nodes that consume its grad_fn (``MulBackward0``; several joined by
  `` + ``); a grad the program assigns (``x.grad = ...``) is attributed as values are.

What cannot be attributed is ``(unattributed)``.
"""

from __future__ import annotations

import ast
import weakref
from contextlib import contextmanager
from functools import cache

from harness.spec.api_names import chain as attribute_chain

INPUT = "(input)"
AUTOGRAD_GRAD = "torch.autograd.grad"
UNATTRIBUTED = "(unattributed)"
PROVIDED_ROOTS = ("torch", "F", "math")

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
           ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}
_UNARY = {ast.USub: "unary -", ast.UAdd: "unary +", ast.Invert: "~", ast.Not: "not"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
            ast.GtE: ">=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
#: In-place methods that leave the values as they are.
_KEEPS_VALUES = frozenset({"requires_grad_", "share_memory_", "detach_"})
#: Functions and methods that return a tuple of tensors: `y = x.chunk(2)[0]` is chunk's.
TUPLE_RETURNING = frozenset("""
    chunk split tensor_split unbind hsplit vsplit dsplit meshgrid broadcast_tensors grad
""".split())


@cache
def return_type_fields() -> dict[str, frozenset[str]]:
    """Functions returning a named tuple (`torch.return_types`) -> its field names."""
    import torch

    out: dict[str, set[str]] = {}
    for name in dir(torch.return_types):
        cls = getattr(torch.return_types, name)
        fields = getattr(cls, "__match_args__", None)
        if name.startswith("_") or name.endswith("_out") or not isinstance(fields, tuple):
            continue
        out.setdefault(name.removeprefix("linalg_"), set()).update(fields)
    return {name: frozenset(fields) for name, fields in out.items()}


def program_ops(tree: ast.Module, inputs=()) -> list[dict[str, str | None]]:
    """Per top-level statement, the variables it binds or modifies -> the op that did it."""
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    known: dict[str, str | None] = dict.fromkeys(inputs, INPUT)
    out = []
    for node in tree.body:
        ops = _Ops(functions, known).statement(node)
        known.update(ops)
        out.append(ops)
    return out


class _Ops:
    def __init__(self, functions: dict[str, ast.FunctionDef], known: dict[str, str | None]):
        self.functions = functions
        self.known = dict(known)  # ops bound so far, for `y = x` (a copy keeps x's op)
        self.ops: dict[str, str | None] = {}
        self._calling: set[str] = set()

    def statement(self, node: ast.stmt) -> dict[str, str | None]:
        self._statement(node)
        return self.ops

    def _bind(self, key: str, op: str | None) -> None:
        self.ops[key] = self.known[key] = op

    def _statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._assign(target, node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self._assign(node.target, node.value)
        elif isinstance(node, ast.AugAssign):
            root = _root_key(node.target)
            if root:
                self._bind(root, _BINARY.get(type(node.op), "?") + "=")
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            self._inplace_call(node.value)
        elif isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple | ast.List) \
                and node.iter.elts:  # `for t in (s, e)`: t ends as the last element
            self._assign(node.target, node.iter.elts[-1])
            for child in (*node.body, *node.orelse):
                self._statement(child)
        elif isinstance(node, ast.For | ast.While | ast.If | ast.With | ast.Try):
            for child in (*getattr(node, "body", ()), *getattr(node, "orelse", ()),
                          *(s for h in getattr(node, "handlers", ()) for s in h.body),
                          *getattr(node, "finalbody", ())):
                self._statement(child)

    def _assign(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            if isinstance(value, ast.List | ast.Tuple):
                self._bind(target.id, None)
                for i, element in enumerate(value.elts):
                    self._bind(f"{target.id}[{i}]", self.op(element))
            elif isinstance(value, ast.Dict):
                self._bind(target.id, None)
                for key, element in zip(value.keys, value.values, strict=True):
                    if isinstance(key, ast.Constant):
                        self._bind(f"{target.id}[{key.value!r}]", self.op(element))
            else:
                self._bind(target.id, self.op(value))
        elif isinstance(target, ast.Tuple | ast.List):
            pairs = value.elts if isinstance(value, ast.Tuple | ast.List) \
                and len(value.elts) == len(target.elts) else None
            for i, t in enumerate(target.elts):
                t = t.value if isinstance(t, ast.Starred) else t
                if pairs is not None:
                    self._assign(t, pairs[i])
                elif isinstance(t, ast.Name):
                    self._bind(t.id, self.op(value))
        elif isinstance(target, ast.Subscript):
            root = _root_key(target)
            if root:
                self._bind(root, "[]=")
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            if target.attr == "grad":
                self._bind(f"{target.value.id}.grad", self.op(value))
            elif target.attr == "data":
                self._bind(target.value.id, "Tensor.data=")

    def _inplace_call(self, call: ast.Call) -> None:
        """`x.add_(1)`, `x.data.mul_(2)`, `x.grad.zero_()`, `torch.nn.init.ones_(x)`;
        `ws.append(y)` (the list's elements are then attributed to y's op)."""
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("append", "insert") \
                and isinstance(func.value, ast.Name) and call.args:
            self._bind(func.value.id, self.op(call.args[-1]))
            return
        if not (isinstance(func, ast.Attribute) and func.attr.endswith("_")
                and not func.attr.startswith("_") and func.attr not in _KEEPS_VALUES):
            return
        chain = attribute_chain(func)
        if chain and chain[0] in PROVIDED_ROOTS:
            if call.args and _root_key(call.args[0]):
                self._bind(_root_key(call.args[0]), self.op(call))
            return
        root = _root_key(func.value)
        if root:
            self._bind(root, f"Tensor.{func.attr}")

    def op(self, e: ast.expr) -> str | None:
        """The op an expression applies last; None when it applies none we can name."""
        if isinstance(e, ast.Call):
            return self._call(e)
        if isinstance(e, ast.BinOp):
            return _BINARY.get(type(e.op))
        if isinstance(e, ast.UnaryOp):
            return _UNARY.get(type(e.op))
        if isinstance(e, ast.Compare):
            return _COMPARE.get(type(e.ops[0]))
        if isinstance(e, ast.Subscript):
            picked = self._tuple_source(e.value)
            return picked if picked is not None else "[]"
        if isinstance(e, ast.Attribute):
            chain = attribute_chain(e)
            if chain and chain[0] in PROVIDED_ROOTS:
                return None  # a constant such as torch.pi
            fields = self._fields(e.value)
            if fields and e.attr in fields:  # torch.max(x, 0).values: max's
                return self.op(e.value)
            if isinstance(e.value, ast.Name) and e.attr == "grad":
                return self.known.get(f"{e.value.id}.grad") or "Tensor.grad"
            return f"Tensor.{e.attr}"
        if isinstance(e, ast.Name):
            return self.known.get(e.id)
        if isinstance(e, ast.IfExp):
            return self.op(e.body)
        if isinstance(e, ast.ListComp | ast.GeneratorExp):
            return self.op(e.elt)
        return None

    def _call(self, call: ast.Call) -> str | None:
        func = call.func
        if isinstance(func, ast.Attribute):
            chain = attribute_chain(func)
            if chain and chain[0] in PROVIDED_ROOTS:
                dotted = ".".join(chain)
                return "F." + dotted[len("torch.nn.functional."):] \
                    if dotted.startswith("torch.nn.functional.") else dotted
            if func.attr in _KEEPS_VALUES or func.attr == "detach":
                return self.op(func.value) or f"Tensor.{func.attr}"
            return f"Tensor.{func.attr}"
        if isinstance(func, ast.Name):
            fn = self.functions.get(func.id)
            if fn is not None and func.id not in self._calling:
                self._calling.add(func.id)
                try:
                    returns = [n.value for n in ast.walk(fn)
                               if isinstance(n, ast.Return) and n.value is not None]
                    op = self.op(returns[-1]) if returns else None
                finally:
                    self._calling.discard(func.id)
                return op or f"{func.id}()"
            return f"{func.id}()"
        return None

    def _fields(self, e: ast.expr) -> frozenset[str] | None:
        """The field names when `e` is a call that returns a named tuple."""
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute):
            return return_type_fields().get(e.func.attr)
        return None

    def _tuple_source(self, e: ast.expr) -> str | None:
        """For `f(...)[i]` where f returns a tuple, f's op (the subscript only picks)."""
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) \
                and (e.func.attr in TUPLE_RETURNING or e.func.attr in return_type_fields()):
            return self.op(e)
        return None



def _root_key(target: ast.expr) -> str | None:
    """The variable an in-place write lands in: `x[0]`, `x.data[0]` -> x; `x.grad[0]` -> x.grad."""
    node, through_grad = target, False
    while isinstance(node, ast.Attribute | ast.Subscript):
        if isinstance(node, ast.Attribute):
            if node.attr == "grad":
                through_grad = True
            elif node.attr != "data":
                return None
        node = node.value
    if not isinstance(node, ast.Name) or node.id in PROVIDED_ROOTS:
        return None
    return f"{node.id}.grad" if through_grad else node.id


def lookup(ops: dict[str, str | None], name: str, suffix: str = "") -> str | None:
    """The op recorded for `name` + `suffix` ("ws[0]", "x.grad"), else for the variable
    `name` is part of ("ws")."""
    while True:
        if name + suffix in ops:
            return ops[name + suffix]
        cut = name.rfind("[")
        if cut <= 0:
            return None
        name = name[:cut]


def update(ops: dict[str, str | None], new: dict[str, str | None]) -> None:
    """Apply one statement's ops; rebinding `ws` forgets what `ws[0]` held."""
    for key in new:
        if "[" not in key and "." not in key:
            for stale in [k for k in ops if k.startswith((key + "[", key + "."))]:
                del ops[stale]
    ops.update(new)


# --------------------------------------------------------------------------- gradients

SEED = "(backward seed)"  # the grad of a backward's own root: the given gradient, or ones


class BackwardRecorder:
    """Which backward nodes produce each gradient, seen in PyTorch's graph.

    While active, every backward pass (`Tensor.backward`, `torch.autograd.backward` and
    `torch.autograd.grad` all go through `torch.autograd._engine_run_backward`) walks its graph
    once before it runs and records, per variable of the program's namespace (and per input of
    `torch.autograd.grad`), the grad_fn classes of the nodes that send it a gradient. `ops`
    maps "x.grad" to those of x's `.grad`, and "g" to those of a `torch.autograd.grad` result
    bound to g. The walk visits each graph node once and keeps none alive after it.
    """

    def __init__(self, namespace: dict, tensor_type: type):
        self.namespace = namespace
        self.tensor_type = tensor_type
        self.grads: dict[str, set[str]] = {}
        self.results: dict[str, str] = {}
        self._pending: list[tuple[weakref.ref, str]] = []  # autograd.grad results, unnamed yet
        self.classes: set[str] = set()  # of every node a walk went through
        self.changed = False

    def ops(self) -> dict[str, str]:
        """The labels so far (call after a statement): "x.grad" and result keys."""
        if self._pending:
            self._name_results()
        self.changed = False
        out = {f"{name}.grad": " + ".join(sorted(ops)) for name, ops in self.grads.items()}
        out.update(self.results)
        return out

    def _tensors(self):
        """(name, tensor) for the namespace's tensors and its lists' and tuples' elements."""
        tensor = self.tensor_type
        for name, value in self.namespace.items():
            if isinstance(value, tensor):
                yield name, value
            elif isinstance(value, list | tuple):
                for i, v in enumerate(value):
                    if isinstance(v, tensor):
                        yield f"{name}[{i}]", v

    def _name_results(self) -> None:
        pending = {id(t): (t, label) for ref, label in self._pending
                   if (t := ref()) is not None}
        self._pending = []
        for name, t in self._tensors():
            found = pending.get(id(t))
            if found is not None and found[0] is t:
                self.results[name] = found[1]
                self.changed = True

    def before(self, roots, inputs, accumulate: bool) -> list[str | None] | None:
        """Walk the graph about to run and name what it will produce: the `.grad` of the
        namespace's leaves and retained non-leaves (`accumulate`, a backward) or, for
        `torch.autograd.grad`, the grad of each input (returned, one label per input)."""
        tensor = self.tensor_type
        to_leaf: dict[int, set[str]] = {}  # id(leaf) -> grad_fn classes of its consumers
        to_node: dict[int, set[str]] = {}  # id(node) -> grad_fn classes of its consumers
        keep = []  # the leaves and nodes those ids stand for, alive until the walk is done
        stack = []
        for root in roots if isinstance(roots, list | tuple) else (roots,):
            if isinstance(root, tensor):
                node = _grad_fn(root)
                if node is None and root.requires_grad:  # a leaf's own backward
                    to_leaf.setdefault(id(root), set()).add(SEED)
                elif node is not None:
                    to_node.setdefault(id(node), set()).add(SEED)
            else:
                node = getattr(root, "node", None)  # a GradientEdge
            if node is not None:
                stack.append(node)
        seen: dict[int, object] = {}
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen[id(node)] = node
            label = type(node).__name__
            self.classes.add(label)
            for child, _ in node.next_functions:
                if child is None:
                    continue
                variable = getattr(child, "variable", None)
                if variable is not None:  # AccumulateGrad of a leaf
                    keep.append(variable)
                    to_leaf.setdefault(id(variable), set()).add(label)
                else:
                    to_node.setdefault(id(child), set()).add(label)
                    stack.append(child)

        def labels_of(t) -> set[str] | None:
            found = to_leaf.get(id(t))
            if found is None and (t.retains_grad or id(t) in wanted):
                node = _grad_fn(t)
                found = to_node.get(id(node)) if node is not None else None
            return found

        wanted = {id(t) for t in inputs or () if isinstance(t, tensor)}
        for name, t in self._tensors():  # the .grad the pass fills
            if accumulate and wanted and id(t) not in wanted:
                continue
            if not accumulate and id(t) in to_leaf:
                continue  # torch.autograd.grad fills no leaf's .grad
            found = labels_of(t) if accumulate or t.retains_grad else None
            if not found:
                continue
            # A .grad that was None holds this pass's grads only (a non-retained non-leaf in
            # `inputs` has none: reading it would warn).
            fresh = not (id(t) in to_leaf or t.retains_grad) or t.grad is None
            if fresh or name not in self.grads:
                self.grads[name] = set(found)
            else:
                self.grads[name].update(found)
            self.changed = True
        if accumulate:
            return None
        labels = []
        for t in inputs or ():
            found = labels_of(t) if isinstance(t, tensor) else None
            labels.append(" + ".join(sorted(found)) if found else None)
        return labels

    def after(self, result, labels: list[str | None]) -> None:
        """Remember `torch.autograd.grad`'s results, to name them after the statement."""
        for t, label in zip(result or (), labels, strict=False):
            if label is not None and isinstance(t, self.tensor_type):
                self._pending.append((weakref.ref(t), label))
                self.changed = True


def _grad_fn(t):
    """A tensor's grad_fn; None where reading it raises (a stale no_grad view)."""
    try:
        return t.grad_fn
    except RuntimeError:
        return None


_active: list[BackwardRecorder] = []


@contextmanager
def recording(torch_module, namespace: dict):
    """Record backward passes on PyTorch while the block runs (a no-op for other backends)."""
    autograd = getattr(torch_module, "autograd", None)
    original = getattr(autograd, "_engine_run_backward", None)
    if original is None or getattr(torch_module, "__name__", "") != "torch":
        yield None
        return
    recorder = BackwardRecorder(namespace, torch_module.Tensor)

    def run_backward(t_outputs, *args, **kwargs):
        active = _active[-1] if _active else None
        labels = None
        if active is not None:
            inputs = args[3] if len(args) > 3 else kwargs.get("inputs")
            try:
                labels = active.before(t_outputs, inputs,
                                       kwargs.get("accumulate_grad", True) is not False)
            except Exception:  # attribution must never change what the program observes
                labels = None
        result = original(t_outputs, *args, **kwargs)
        if labels:
            active.after(result, labels)
        return result

    _active.append(recorder)
    autograd._engine_run_backward = run_backward
    try:
        yield recorder
    finally:
        autograd._engine_run_backward = original
        _active.pop()
