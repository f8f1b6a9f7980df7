"""A spec's program: PyTorch code checked against an allow-list and compiled, once, at load time.

The program is parsed with `ast`; every node type must be on the allow-list, no name or attribute
may be a dunder or private (beyond the few PyTorch users read, `x._version`), and only a small set
of builtins exists. Names the program reads must be bound by the program itself, be an input, or
be one of the names the harness provides (`torch`, `F`, `math`). Attribute chains from those names
stay inside PyTorch's public namespaces (`torch.nn.functional`, `torch.autograd`, ...), checked
on PyTorch's real modules: `torch.sys` or `torch.jit` are refused, as are PyTorch's file and
code-loading functions and assignments to the provided modules.

This keeps programs to what a PyTorch user writes and makes mistakes fail at load time; it is
not a sandbox against a hostile author (CPython has none): review specs as you review code.
What the report wants to know about a program (which op made each variable, which PyTorch API
it uses) is worked out later, from `Program.tree`, by harness.run.attribution and .usage.
"""

from __future__ import annotations

import ast
import builtins
import copy
import math
import re
import string
import types
from dataclasses import dataclass, field
from functools import cache

from harness.spec.api_names import chain as attribute_chain

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

#: The most items one builtin call may walk or make. `sum(range(10**10))` or `[0] * 10**10`
#: loops in C, where the time limit (harness.run.timeout) cannot stop it, and can fill the memory.
MAX_ITEMS = 10_000_000
#: The most bits of an int made by `**` on an int literal (`2 ** 10 ** 10` would run for hours).
MAX_INT_BITS = 1_000_000


class ProgramLimitError(ValueError):
    """A builtin asked for more than MAX_ITEMS items (or an int of more than MAX_INT_BITS)."""


def _range(*args):
    r = builtins.range(*args)
    try:
        size = len(r)
    except OverflowError:  # more than sys.maxsize
        size = None
    if size is None or size > MAX_ITEMS:
        raise ProgramLimitError(
            f"{r!r} has {size or 'more than 2**63'} elements; a spec program may range over "
            f"at most {MAX_ITEMS} (a builtin looping over more can outlast the time limit)")
    return r


def _times(a, b):
    """`a * b` where one side is a list, tuple or string literal: repetition, capped."""
    for seq, n in ((a, b), (b, a)):
        if isinstance(seq, str | bytes | list | tuple) and isinstance(n, int) \
                and len(seq) * n > MAX_ITEMS:
            raise ProgramLimitError(
                f"repeating a {type(seq).__name__} of length {len(seq)} {n} times makes "
                f"{len(seq) * n} items; a spec program may make at most {MAX_ITEMS}")
    return a * b


def _power(a, b):
    """`a ** b` where `a` is an int literal: the result's size, capped."""
    if isinstance(a, int) and isinstance(b, int) and abs(a) > 1 \
            and b * (abs(a).bit_length() - 1) > MAX_INT_BITS:
        raise ProgramLimitError(f"{a} ** {b} has more than {MAX_INT_BITS} bits; a spec program "
                                "may not compute it (it could outlast the time limit)")
    return a ** b


_range.__name__ = _range.__qualname__ = "range"
SAFE_BUILTINS["range"] = _range
# Names a program cannot write (dunders are refused): parse() routes `[0] * n`, `"s" * n` and
# `10 ** n` through them.
SAFE_BUILTINS["__parity_times__"] = _times
SAFE_BUILTINS["__parity_power__"] = _power

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
#: Private attributes PyTorch users do read (version counters, view bases, saved tensors).
_PRIVATE_ALLOWED = {"_version", "_base", "_is_view"}
_PRIVATE_ALLOWED_PREFIXES = ("_saved_", "_raw_saved_")
#: Attributes of frames, generators, coroutines, tracebacks and code objects: the way from any
#: value back to the interpreter's globals.
_INTERPRETER_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_")
#: Functions that read or write files or load code (PyTorch's and numpy's, via `.numpy()`).
_FILE_AND_CODE = {"save", "load", "load_library", "from_file", "compile", "tofile", "dump"}
#: The modules a chain from `torch`, `F` or `math` may pass through or name.
PUBLIC_NAMESPACES = frozenset({
    "math", "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.autograd",
    "torch.autograd.graph", "torch.autograd.functional", "torch.autograd.forward_ad",
    "torch.linalg", "torch.special", "torch.fft", "torch.testing", "torch.random",
    "torch.utils", "torch.utils.hooks", "torch.nn.utils", "torch.nn.utils.rnn", "torch.optim",
    "torch.optim.lr_scheduler", "torch.utils.data",
})


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
    inputs: frozenset[str] = frozenset()  # the names the harness binds (inputs and dims)
    #: the parsed module, for analyses after the run (attribution, usage); never mutated
    tree: ast.Module | None = field(default=None, compare=False, hash=False, repr=False)

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
    _check_chains(tree)
    lines = _source_lines(text)  # once: get_source_segment splits the whole text per call
    try:
        statements = tuple(
            Statement(
                node.lineno,
                node.end_lineno or node.lineno,
                _segment(lines, node),
                compile(ast.Module([_guarded(node)], type_ignores=[]), FILENAME, "exec"),
            )
            for node in tree.body
        )
    except SyntaxError as exc:  # what the parser accepts but the compiler refuses (`y = *a`)
        raise ProgramError(exc.lineno or 1, exc.offset or 1, f"syntax error: {exc.msg}") from None
    except (MemoryError, RecursionError):
        raise ProgramError(1, 1, "the program is nested too deeply to compile") from None
    return Program(text, statements, frozenset(used), frozenset(names), tree)


def _guarded(node: ast.stmt) -> ast.stmt:
    """The statement to compile: a copy with `*` on a sequence literal and `**` on an int literal
    turned into calls that refuse results too big to make in time (SAFE_BUILTINS)."""
    if not any(_guard_call(n) for n in ast.walk(node)):
        return node
    return ast.fix_missing_locations(_Guard().visit(copy.deepcopy(node)))


def _guard_call(node: ast.AST) -> str | None:
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Mult) and (_sequence(node.left) or _sequence(node.right)):
            return "__parity_times__"
        if isinstance(node.op, ast.Pow) and isinstance(node.left, ast.Constant) \
                and type(node.left.value) is int:
            return "__parity_power__"
    return None


def _sequence(node: ast.AST) -> bool:
    """A list, tuple or string literal, or a repetition of one (`[0] * 3 * n`)."""
    if isinstance(node, ast.List | ast.Tuple | ast.ListComp | ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str | bytes)
    return isinstance(node, ast.BinOp) and _guard_call(node) == "__parity_times__"


class _Guard(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        name = _guard_call(node)  # decided before the operands become calls
        self.generic_visit(node)
        if name is None:
            return node
        func = ast.copy_location(ast.Name(name, ast.Load()), node)
        return ast.copy_location(ast.Call(func, [node.left, node.right], []), node)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _source_lines(text: str) -> list[str]:
    """The program's lines as `ast.get_source_segment` splits them (only \\r\\n, \\r, \\n)."""
    return _LINE.findall(text)


def _segment(lines: list[str], node: ast.stmt) -> str:
    """`ast.get_source_segment(text, node)` on lines split once (columns are UTF-8 offsets)."""
    first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
    start, end = node.col_offset, node.end_col_offset
    if end is None or last >= len(lines):
        return ""
    if first == last:
        return lines[first].encode()[start:end].decode()
    return "".join([lines[first].encode()[start:].decode(), *lines[first + 1 : last],
                    lines[last].encode()[:end].decode()])


def _check_nodes(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ProgramError(*_pos(node), f"{_describe(node)} is not allowed in a spec program")
        if isinstance(node, ast.Attribute):
            _check_attribute(node)
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            raise ProgramError(*_pos(node), f"name {node.id!r} is not allowed")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in _FORBIDDEN_CALLS:
                raise ProgramError(*_pos(node), f"calling {node.func.id}() is not allowed")
        if isinstance(node, ast.FunctionDef) and node.decorator_list:
            raise ProgramError(*_pos(node), "decorators are not allowed")
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            raise ProgramError(*_pos(node), "a bare `except:` would also catch the harness's "
                               "time limit: name the exceptions (`except Exception:`)")
    _check_formats(tree)


#: str methods that read attributes and items of their arguments from the format string.
_FORMAT_METHODS = {"format", "format_map"}


def _check_formats(tree: ast.AST) -> None:
    """`"{0.attr}".format(obj)` reads attributes the allow-list never sees (`{0.__globals__}`):
    `.format` is only allowed on a string literal whose fields name no attribute or item."""
    literal_calls = {id(n.func) for n in ast.walk(tree)
                     if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                     and n.func.attr == "format" and isinstance(n.func.value, ast.Constant)
                     and isinstance(n.func.value.value, str)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or node.attr not in _FORMAT_METHODS:
            continue
        if id(node) not in literal_calls:
            raise ProgramError(*_pos(node), f".{node.attr}() is only allowed as a call on a "
                               "string literal (\"{}\".format(x)); use an f-string")
        field = _attribute_field(node.value.value)
        if field is not None:
            raise ProgramError(*_pos(node), f"the format field {{{field}}} reads an attribute "
                               "or item; use an f-string")


def _attribute_field(text: str, depth: int = 0) -> str | None:
    """The first field of a format string that reads an attribute or an item, or None."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return None  # a malformed format string: .format() raises ValueError at run time
    for _, name, spec, _ in parsed:
        if name and ("." in name or "[" in name):
            return name
        if spec and depth < 2:
            inner = _attribute_field(spec, depth + 1)
            if inner is not None:
                return inner
    return None


def _check_attribute(node: ast.Attribute) -> None:
    name = node.attr
    if _is_dunder(name):
        raise ProgramError(*_pos(node), f"dunder attribute {name!r} is not allowed")
    if name.startswith("_") and name not in _PRIVATE_ALLOWED \
            and not name.startswith(_PRIVATE_ALLOWED_PREFIXES):
        raise ProgramError(*_pos(node), f"private attribute {name!r} is not allowed (allowed: "
                           f"{', '.join(sorted(_PRIVATE_ALLOWED))}, _saved_*)")
    if name.startswith(_INTERPRETER_PREFIXES):
        raise ProgramError(*_pos(node), f"attribute {name!r} reaches the interpreter's "
                           "internals and is not allowed")
    if name in _FILE_AND_CODE:
        raise ProgramError(*_pos(node), f"{name}() reads or writes files or loads code "
                           "and is not allowed")


def _check_chains(tree: ast.AST) -> None:
    """Chains from the provided modules stay in PyTorch's public namespaces, only read, and pass
    through modules, classes and a few value types only. What a chain names may be held (bound
    to a name, put in a container, passed, returned, a default) only if it is a plain value or a
    function: a module, a class or another of PyTorch's objects can only be read from (and a class
    or object called), because once held under another name the allow-list could not follow it
    (`t = torch; t.os.system(...)`, `L = torch.nn.Linear; L.forward = f`)."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name | ast.Attribute):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Attribute):
            continue  # part of a longer chain, checked with it
        chain = tuple(attribute_chain(node) or ())
        if not chain or chain[0] not in PROVIDED:
            continue
        if not isinstance(node.ctx, ast.Load):
            raise ProgramError(*_pos(node), f"assigning to {'.'.join(chain)} would change "
                               f"{chain[0]} for every later spec and is not allowed")
        problem, kind = _chain(chain)
        if problem:
            at = node
            for _ in range(len(chain) - problem[1]):  # down to the name it is about
                at = at.value
            where = (at.end_lineno, at.end_col_offset - len(at.attr) + 1) \
                if isinstance(at, ast.Attribute) and problem[2] else _pos(at)
            raise ProgramError(*where, problem[0])
        if kind in _HELD_ONLY_AS and not _read_in_place(node, parent, parents, kind):
            raise ProgramError(*_pos(node), _HELD_ONLY_AS[kind].format(".".join(chain)))


_HELD_ONLY_AS = {
    "module": "{0} is a module: a program may name what is in it ({0}.NAME) but not hold the "
              "module itself (in a variable, container, argument, default or return value)",
    "class": "{0} is a class: a program may call it, read from it ({0}.NAME) or name it in "
             "isinstance() and except, but not hold it (it could change the class for every "
             "later spec)",
    "object": "{0} is one of PyTorch's objects: a program may call it or read from it, but not "
              "hold it",
}


def _read_in_place(node: ast.expr, parent: ast.AST | None, parents: dict, kind: str) -> bool:
    """Whether a module, class or object is used where it stands, not held."""
    if isinstance(parent, ast.Attribute):
        return True
    if kind == "module":
        return False
    if isinstance(parent, ast.Call) and parent.func is node:
        return True
    if kind != "class":
        return False
    if isinstance(parent, ast.Tuple):  # isinstance(x, (A, B)), except (A, B):
        node, parent = parent, parents.get(parent)
    if isinstance(parent, ast.ExceptHandler) and parent.type is node:
        return True
    return isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) \
        and parent.func.id == "isinstance" and len(parent.args) == 2 and parent.args[1] is node


@cache
def _chain(chain: tuple[str, ...]) -> tuple[tuple[str, int, bool] | None, str | None]:
    """(why `chain` is refused: the message, how many of its names it is about and whether at
    the last one's name, or None; what it names: module, class, object, value or None when
    unknown), looked up on PyTorch without importing or running anything
    (harness.spec.api_names.lookup)."""
    from harness.spec.api_names import MISSING, lookup, missing, roots

    obj = roots()[chain[0]]
    for i, name in enumerate(chain[1:], start=1):
        dotted, owner = ".".join(chain[: i + 1]), ".".join(chain[:i])
        if not isinstance(obj, (types.ModuleType, type, *_readable_values())):
            return (f"{dotted}: {owner} is a {type(obj).__name__}, not one of the modules, "
                    "classes or values a spec program may read attributes of", i + 1, False), None
        try:
            value = lookup(obj, name)
        except Exception:  # a getter that fails: the program will see it fail
            return None, None
        if value is MISSING:
            if isinstance(obj, types.ModuleType) and "__getattr__" in vars(obj):
                # its __getattr__ may import code, or compute the name: never call it
                return (missing(obj, chain[: i + 1]), i + 1, True), None
            return None, None  # a missing name is validate's to report (api_names)
        obj = value
        if isinstance(obj, types.ModuleType) and obj.__name__ not in PUBLIC_NAMESPACES:
            who = "Python's" if not obj.__name__.startswith("torch") else "PyTorch's"
            return (f"{dotted} is {who} module {obj.__name__!r}, outside the namespaces a spec "
                    "program may use", i + 1, False), None
    if isinstance(obj, types.ModuleType):
        return None, "module"
    if isinstance(obj, type):
        return None, "class"
    return None, "value" if isinstance(obj, _HELD_VALUES + _readable_values()[:-1]) else "object"


#: What a program may hold (bind, pass, return) from a chain: functions and plain values.
_HELD_VALUES = (
    types.FunctionType, types.BuiltinFunctionType, types.MethodDescriptorType,
    types.WrapperDescriptorType, types.GetSetDescriptorType, types.MemberDescriptorType,
    types.ClassMethodDescriptorType, property, staticmethod, classmethod,
    int, float, complex, str, bytes, type(None),
)


@cache
def _readable_values() -> tuple[type, ...]:
    """Values whose attributes a chain may read (all C getters), the generator last (it is read
    from, `torch.default_generator.manual_seed(0)`, but not held: it is global state)."""
    import torch

    return (torch.dtype, torch.layout, torch.memory_format, torch.qscheme, int, float, complex,
            str, bool, torch.Generator)


def _check_names(tree: ast.AST, inputs: set[str]) -> set[str]:
    """Every name read must be defined somewhere; returns the names read."""
    bound = set(inputs) | set(PROVIDED) | set(SAFE_BUILTINS)
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            name = node.id
        elif isinstance(node, ast.FunctionDef):
            name = node.name
        elif isinstance(node, ast.arg):
            name = node.arg
        elif isinstance(node, ast.ExceptHandler) and node.name:
            name = node.name
        if name in PROVIDED:  # the chain checks look `torch.X` up on PyTorch: keep it PyTorch
            raise ProgramError(*_pos(node), f"{name!r} is provided by the harness and cannot be "
                               "rebound")
        if name is not None:
            bound.add(name)
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
