"""The PyTorch API a program uses, for the report's coverage section (docs/report.md).

Two kinds are read from the program's text (the third, grad_fn classes, from PyTorch's trace):

- functions: `torch.*`, `torch.linalg.*`, `torch.autograd(.graph, ...).*` and `F.*` names the
  program reads that are callables (functions, context managers, classes) or dtypes in PyTorch,
  named as a program names them (`torch.nn.functional.relu` counts as `F.relu`); a chain that
  passes through something that is not a module stops there (`torch.float32.itemsize` is
  `torch.float32`);
- Tensor methods and attributes: `recv.name` where `torch.Tensor` has `name` and `recv` may be a
  tensor. Receivers that certainly are not are skipped: grad_fn nodes (`y.grad_fn.name()`,
  `.next_functions`, `.variable` of AccumulateGrad), the fields of named tuples
  (`torch.max(x, 0).values`), strings, lists, dicts and other Python values.
"""

from __future__ import annotations

import ast
import types
import warnings
from functools import cache

from harness.run.attribution import TUPLE_RETURNING, return_type_fields
from harness.spec.api_names import chain as attribute_chain
from harness.spec.api_names import roots, tensor_attrs

_LITERALS = (ast.Constant, ast.JoinedStr, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp,
             ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)
#: Tensor attributes and methods whose result is not a tensor (what a further `.name` reads on).
_NOT_TENSOR_ATTRS = frozenset({"shape", "dtype", "device", "layout", "names", "ndim", "is_leaf",
                               "requires_grad", "retains_grad", "_version", "is_cuda"})
_NOT_TENSOR_METHODS = frozenset("""
    name size stride tolist item dim numel nelement element_size items keys register_hook
    register_prehook register_post_accumulate_grad_hook data_ptr storage_offset is_contiguous
    is_floating_point is_complex untyped_storage
""".split()) | TUPLE_RETURNING
_NOT_TENSOR_BUILTINS = frozenset("""
    len str repr list tuple range enumerate zip sorted reversed dict isinstance bool int float
    round any all print
""".split())
NODE, NEXTS, PAIR, OTHER = "node", "next_functions", "pair", "other"
#: No information: a name's kind asked while it is being worked out, or None (which has no
#: attributes); dropped when kinds are combined.
_RECURSIVE = "recursive"


class _Scopes:
    """Where each name's values come from, per scope (module, function, lambda,
    comprehension): an expression, ("iter", iterable, index path) for loop and comprehension
    targets, ("arg", function, position) for parameters, or None (unknown)."""

    def __init__(self, tree: ast.AST):
        self.bindings: dict[tuple[int, str], list] = {}
        self.scope_of: dict[int, int] = {}  # id(Name node) -> the scope it is read in
        self.parent: dict[int, int | None] = {0: None}
        self._visit(tree, 0)
        self.names = {name for _, name in self.bindings}

    def resolve(self, node: ast.Name) -> tuple[int, str] | None:
        scope = self.scope_of.get(id(node), 0)
        while scope is not None:
            if (scope, node.id) in self.bindings:
                return scope, node.id
            scope = self.parent[scope]
        return None

    def _bind(self, scope: int, target: ast.expr, source) -> None:
        if isinstance(target, ast.Name):
            self.bindings.setdefault((scope, target.id), []).append(source)
        elif isinstance(target, ast.Tuple | ast.List):
            for i, t in enumerate(target.elts):
                if isinstance(t, ast.Starred):
                    self._bind(scope, t.value, None)
                elif source is not None and not isinstance(source, ast.expr) \
                        and source[0] == "iter":
                    self._bind(scope, t, ("iter", source[1], (*source[2], i)))
                else:
                    self._bind(scope, t, None)
        elif isinstance(target, ast.Starred):
            self._bind(scope, target.value, None)

    def _new(self, node: ast.AST, scope: int) -> int:
        self.parent[id(node)] = scope
        return id(node)

    def _visit(self, node: ast.AST, scope: int) -> None:
        if isinstance(node, ast.Name):
            self.scope_of[id(node)] = scope
            return
        if isinstance(node, ast.FunctionDef | ast.Lambda):
            if isinstance(node, ast.FunctionDef):
                self.bindings.setdefault((scope, node.name), []).append(None)
            for default in (*node.args.defaults, *node.args.kw_defaults):
                if default is not None:
                    self._visit(default, scope)
            inner = self._new(node, scope)
            args = node.args
            for i, arg in enumerate(args.args):
                source = ("arg", node.name, i) if isinstance(node, ast.FunctionDef) else None
                self.bindings.setdefault((inner, arg.arg), []).append(source)
            for arg in (*args.posonlyargs, *args.kwonlyargs, args.vararg, args.kwarg):
                if arg is not None:
                    self.bindings.setdefault((inner, arg.arg), []).append(None)
            for child in node.body if isinstance(node.body, list) else [node.body]:
                self._visit(child, inner)
            return
        if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            inner = self._new(node, scope)
            for comp in node.generators:
                self._visit(comp.iter, inner)
                self._bind(inner, comp.target, ("iter", comp.iter, ()))
                for cond in comp.ifs:
                    self._visit(cond, inner)
                self._visit(comp.target, inner)
            for child in (node.key, node.value) if isinstance(node, ast.DictComp) \
                    else (node.elt,):
                self._visit(child, inner)
            return
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._bind(scope, target, node.value if isinstance(target, ast.Name) else None)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self._bind(scope, node.target, node.value)
        elif isinstance(node, ast.For):
            self._bind(scope, node.target, ("iter", node.iter, ()))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            self._bind(scope, node.optional_vars, None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            self.bindings.setdefault((scope, node.name), []).append(None)
        for child in ast.iter_child_nodes(node):
            self._visit(child, scope)


def _calls(tree: ast.AST) -> dict[str, list[ast.Call]]:
    """Calls of the program's own functions, by name."""
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    out: dict[str, list[ast.Call]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in defined:
            out.setdefault(node.func.id, []).append(node)
    return out


def api_usage(tree: ast.AST) -> tuple[frozenset[str], frozenset[str]]:
    """(functions, Tensor methods and attributes) the program uses."""
    scopes = _Scopes(tree)
    kinds = _Kinds(scopes, _calls(tree))
    functions, methods = set(), set()
    inner = {id(n.value) for n in ast.walk(tree)
             if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute)}
    on_tensor = tensor_attrs()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain = attribute_chain(node)
        if chain and chain[0] in ("torch", "F", "math") and chain[0] not in scopes.names:
            if id(node) not in inner and chain[0] != "math":
                name = function_name(tuple(chain))
                if name:
                    functions.add(name)
            continue
        if node.attr not in on_tensor:
            continue
        kind = kinds.of(node.value)
        if kind in (None, _RECURSIVE) or (isinstance(kind, frozenset) and node.attr not in kind):
            methods.add(node.attr)
    return frozenset(functions), frozenset(methods)


@cache
def function_name(chain: tuple[str, ...]) -> str | None:
    """`torch.nn.functional.relu` -> "F.relu": the callable or dtype a chain names in PyTorch,
    cut where the chain leaves PyTorch's modules; None for constants and modules."""
    obj = roots()[chain[0]]
    used = [chain[0]]
    for name in chain[1:]:
        if not isinstance(obj, types.ModuleType):
            break
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj = getattr(obj, name)
        except Exception:
            return None
        used.append(name)
    if isinstance(obj, types.ModuleType) or not (callable(obj) or _is_dtype(obj)):
        return None
    dotted = ".".join(used)
    if dotted.startswith("torch.nn.functional."):
        dotted = "F." + dotted[len("torch.nn.functional."):]
    return dotted


def _is_dtype(obj) -> bool:
    import torch

    return isinstance(obj, torch.dtype)




class _Kinds:
    """What an expression evaluates to, as far as the text tells: None when it may be a tensor,
    else NODE (a grad_fn), NEXTS / PAIR (next_functions and its entries), the field names of a
    named tuple (a frozenset), or OTHER (a Python value, a module, a function)."""

    def __init__(self, scopes: _Scopes, calls: dict[str, list[ast.Call]]):
        self.scopes = scopes
        self.bound = scopes.names
        self.calls = calls
        self._visiting: set[tuple] = set()
        self._known: dict[tuple, object] = {}  # names worked out from the top (no cycle cut)

    def _union(self, kinds) -> object:
        found = {k for k in kinds if k != _RECURSIVE}
        if not found:
            return _RECURSIVE if kinds else None
        return found.pop() if len(found) == 1 else None

    def _source(self, source):
        if isinstance(source, ast.expr):
            return self.of(source)
        if source[0] == "arg":
            _, function, position = source
            args = [c.args[position] for c in self.calls.get(function, ())
                    if position < len(c.args) and not isinstance(c.args[position], ast.Starred)]
            if len(args) != len(self.calls.get(function, ())):
                return None  # called with the argument by keyword, or not called
            return self._union([self.of(a) for a in args])
        _, iterable, path = source  # an element of an iterable, then indexed by path
        inside = self.of(iterable)
        if inside == _RECURSIVE:
            return _RECURSIVE
        if isinstance(iterable, ast.Tuple | ast.List) and not path:
            return self._union([self.of(e) for e in iterable.elts]) if iterable.elts else None
        kind = PAIR if inside == NEXTS else None
        for i in path:
            kind = (NODE if i == 0 else OTHER) if kind == PAIR else None
        return kind

    def of(self, e: ast.expr):
        if isinstance(e, ast.Constant) and e.value is None:
            return _RECURSIVE  # None has no attributes to read: no information
        if isinstance(e, _LITERALS):
            return OTHER
        if isinstance(e, ast.IfExp):
            return self._union([self.of(e.body), self.of(e.orelse)])
        if isinstance(e, ast.Name):
            return self._name(e)
        if isinstance(e, ast.Attribute):
            return self._attribute(e)
        if isinstance(e, ast.Subscript):
            inside = self.of(e.value)
            if inside == _RECURSIVE:
                return _RECURSIVE
            return PAIR if inside == NEXTS else NODE if inside == PAIR else None
        if isinstance(e, ast.Call):
            return self._call(e)
        return None

    def _name(self, node: ast.Name):
        if node.id in ("torch", "F", "math") and node.id not in self.bound:
            return OTHER
        name = self.scopes.resolve(node)
        sources = self.scopes.bindings.get(name) if name else None
        if not sources or None in sources:
            return None
        if name in self._known:
            return self._known[name]
        if name in self._visiting:
            return _RECURSIVE
        top = not self._visiting
        self._visiting.add(name)
        try:
            kind = self._union([self._source(s) for s in sources])
        finally:
            self._visiting.discard(name)
        if top:
            self._known[name] = kind
        return kind

    def _attribute(self, e: ast.Attribute):
        if e.attr == "grad_fn":
            return NODE
        chain = attribute_chain(e)
        if chain and chain[0] in ("torch", "F", "math") and chain[0] not in self.bound:
            return OTHER
        inside = self.of(e.value)
        if inside == _RECURSIVE:
            return _RECURSIVE
        if inside == NODE:
            if e.attr == "next_functions":
                return NEXTS
            return None if e.attr == "variable" or e.attr.startswith("_saved_") else OTHER
        if isinstance(inside, frozenset) and e.attr in inside:
            return None
        if inside in (NEXTS, PAIR, OTHER):
            return OTHER
        return OTHER if e.attr in _NOT_TENSOR_ATTRS else None

    def _call(self, e: ast.Call):
        func = e.func
        if isinstance(func, ast.Name):
            return OTHER if func.id in _NOT_TENSOR_BUILTINS and func.id not in self.bound \
                else None
        if not isinstance(func, ast.Attribute):
            return None
        fields = return_type_fields().get(func.attr)
        if fields is not None:
            return fields
        chain = attribute_chain(func)
        if chain and chain[0] in ("torch", "F") and chain[0] not in self.bound:
            return OTHER if func.attr in TUPLE_RETURNING else None
        inside = self.of(func.value)
        if inside == _RECURSIVE:
            return _RECURSIVE
        if inside in (NODE, OTHER, NEXTS, PAIR):
            return OTHER
        return OTHER if func.attr in _NOT_TENSOR_METHODS else None
