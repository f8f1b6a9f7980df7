"""A spec's program: PyTorch code as text, checked against an allow-list before anything runs.

The program is parsed with `ast`; every node type must be on the allow-list, no name or attribute
may be a dunder, and only a small set of builtins exists. Names the program reads must be bound by
the program itself, be an input, or be one of the names the harness provides (`torch`, `F`, `math`).
"""

from __future__ import annotations

import ast
import builtins
import math
from dataclasses import dataclass

FILENAME = "<spec program>"
PROVIDED = ("torch", "F", "math")

SAFE_BUILTINS = {
    name: getattr(builtins, name)
    for name in (
        "abs all any bool dict enumerate float int isinstance len list max min print range "
        "repr reversed round sorted str sum tuple zip "
        "Exception RuntimeError ValueError TypeError IndexError KeyError ZeroDivisionError "
        "UserWarning Warning"
    ).split()
}
# The allow-list keeps programs from naming `__import__`, but C extensions (PyTorch's
# FloatTensor constructor, for one) import through the calling frame's builtins.
SAFE_BUILTINS["__import__"] = builtins.__import__

_ALLOWED_NODES = (
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Name, ast.Load, ast.Store,
    ast.Del, ast.Delete, ast.Constant, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call,
    ast.keyword, ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Dict, ast.Set,
    ast.Starred, ast.If, ast.IfExp, ast.While, ast.For, ast.Break, ast.Continue, ast.Pass, ast.With,
    ast.withitem, ast.JoinedStr, ast.FormattedValue, ast.ListComp, ast.SetComp, ast.DictComp,
    ast.GeneratorExp, ast.comprehension, ast.Lambda, ast.FunctionDef, ast.Return, ast.arguments,
    ast.arg, ast.Assert, ast.Try, ast.ExceptHandler, ast.operator, ast.unaryop, ast.boolop,
    ast.cmpop, ast.expr_context,
)
_FORBIDDEN_CALLS = {"open", "exec", "eval", "compile", "__import__", "getattr", "setattr",
                    "delattr", "globals", "locals", "vars", "input", "breakpoint", "exit", "quit"}


class ProgramError(Exception):
    """A program that must not run; line and col are 1-based inside the program."""

    def __init__(self, line: int, col: int, message: str):
        self.line, self.col, self.message = line, col, message
        super().__init__(f"{line}:{col}: {message}")


@dataclass(frozen=True)
class Statement:
    line: int
    end_line: int
    source: str
    code: object  # a code object, compiled once


@dataclass(frozen=True)
class Program:
    text: str
    statements: tuple[Statement, ...]
    names_used: frozenset[str]
    functions: frozenset[str] = frozenset()  # torch.* / F.* it uses: "torch.ones", "F.relu"
    methods: frozenset[str] = frozenset()  # attributes it reads on other objects: "backward"

    @property
    def statement_lines(self) -> set[int]:
        return {s.line for s in self.statements}


def parse(text: str, names: set[str] = frozenset()) -> Program:
    """Parse and check a program; `names` are the inputs the harness will bind."""
    if not text.strip():
        raise ProgramError(1, 1, "the program is empty")
    try:
        tree = ast.parse(text, filename=FILENAME)
    except SyntaxError as exc:
        raise ProgramError(exc.lineno or 1, exc.offset or 1, f"syntax error: {exc.msg}") from None
    except (MemoryError, RecursionError):  # CPython's parser gives up on deep nesting
        raise ProgramError(1, 1, "the program is nested too deeply to parse") from None
    _check_nodes(tree)
    used = _check_names(tree, set(names))
    try:
        statements = tuple(
            Statement(
                node.lineno,
                node.end_lineno or node.lineno,
                ast.get_source_segment(text, node) or "",
                compile(ast.Module([node], type_ignores=[]), FILENAME, "exec"),
            )
            for node in tree.body
        )
    except SyntaxError as exc:  # what the parser accepts but the compiler refuses (`y = *a`)
        raise ProgramError(exc.lineno or 1, exc.offset or 1, f"syntax error: {exc.msg}") from None
    except (MemoryError, RecursionError):
        raise ProgramError(1, 1, "the program is nested too deeply to compile") from None
    functions, methods = api_usage(tree)
    return Program(text, statements, frozenset(used), functions, methods)


def api_usage(tree: ast.AST) -> tuple[frozenset[str], frozenset[str]]:
    """The PyTorch API a program touches, for the report's coverage section."""
    functions, methods = set(), set()
    inner = set()  # attribute nodes that are part of a longer chain
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            inner.add(id(node.value))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue
        chain, base = [node.attr], node.value
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        root = base.id if isinstance(base, ast.Name) else None
        if root in ("torch", "F"):
            functions.add(".".join([root, *reversed(chain)]))
        elif root != "math":
            methods.update(chain)
    return frozenset(functions), frozenset(methods)


def _check_nodes(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ProgramError(*_pos(node), f"{_describe(node)} is not allowed in a spec program")
        if isinstance(node, ast.Attribute) and _is_dunder(node.attr):
            raise ProgramError(*_pos(node), f"dunder attribute {node.attr!r} is not allowed")
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            raise ProgramError(*_pos(node), f"name {node.id!r} is not allowed")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in _FORBIDDEN_CALLS:
                raise ProgramError(*_pos(node), f"calling {node.func.id}() is not allowed")
        if isinstance(node, ast.FunctionDef) and node.decorator_list:
            raise ProgramError(*_pos(node), "decorators are not allowed")


def _check_names(tree: ast.AST, inputs: set[str]) -> set[str]:
    """Every name read must be defined somewhere; returns the names read."""
    bound = set(inputs) | set(PROVIDED) | set(SAFE_BUILTINS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id not in bound:
                hint = f" (forbidden: {node.id}())" if node.id in _FORBIDDEN_CALLS else ""
                raise ProgramError(*_pos(node), f"name {node.id!r} is not defined{hint}")
            used.add(node.id)
    return used


def namespace(torch_module, functional) -> dict:
    """The globals a program runs in: the backend bound to `torch` and `F`, safe builtins."""
    return {"__builtins__": SAFE_BUILTINS, "torch": torch_module, "F": functional, "math": math}


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _pos(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1


def _describe(node: ast.AST) -> str:
    kinds = {ast.Import: "import", ast.ImportFrom: "import", ast.Global: "global",
             ast.Nonlocal: "nonlocal", ast.ClassDef: "a class definition", ast.Yield: "yield",
             ast.Await: "await"}
    return kinds.get(type(node), f"{type(node).__name__!r}")
