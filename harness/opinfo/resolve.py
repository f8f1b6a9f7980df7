"""An OpInfo entry's call forms, found on the engine under test by name through its public surface.

An entry names its op on PyTorch (`torch.add`, `torch.nn.functional.relu`, `Tensor.__radd__`),
its method (`Tensor.add`), in-place (`Tensor.add_`), operator (`operator.add`, `operator.iadd`)
and alias (`torch.absolute` for `abs`) forms. Each torch-side callable is looked up by the name
PyTorch gives it (`torch.X`, `torch.nn.functional.X`, `torch.linalg.X`, `torch.special.X`,
`torch.fft.X`, `Tensor.X`); an operator works on any engine whose Tensor has the dunder.

Some entries wrap the op in a Python function that calls `torch.X` inside (`lambda x: x.T`,
`lambda tensors, equation: torch.einsum(equation, tensors)`). Such a function runs on the engine
as a copy whose globals bind `torch` to the engine: PyTorch is never called on the engine's
side. Before that copy is made, every `torch.X...` chain and every Tensor attribute its code
reads is looked up on the engine, so a missing one makes the form "not offered" instead of an
AttributeError in the middle of a run. OpInfo wraps ops that may draw random numbers in its
`wrapper_set_seed`; on the engine that wrapper seeds the engine's own generator the same way.
"""

from __future__ import annotations

import dis
import functools
import operator
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

#: Form kinds, in the order forms are listed (the first offered non-in-place one is primary).
FUNCTION, METHOD, ALIAS, ALIAS_METHOD = "function", "method", "alias", "alias_method"
OPERATOR, INPLACE, INPLACE_OPERATOR, ALIAS_INPLACE = (
    "operator", "inplace", "inplace_operator", "alias_inplace")
INPLACE_KINDS = frozenset({INPLACE, INPLACE_OPERATOR, ALIAS_INPLACE})
#: The namespaces an op is looked up in, PyTorch's spelling, in lookup order.
NAMESPACES = ("torch", "torch.nn.functional", "torch.linalg", "torch.special", "torch.fft")
_TESTING = "torch.testing."
_SEED_WRAPPER = "wrapper_set_seed"


@dataclass(frozen=True)
class Form:
    """One way to call the op: on PyTorch, and on the engine when the engine offers it."""

    kind: str
    spelling: str  # how a user writes it: torch.add, Tensor.add_, operator.iadd, lambda (T)
    torch_fn: Callable
    engine_fn: Callable | None
    missing: tuple[str, ...] = ()  # what the engine lacks for it: ("torch.linalg.lstsq",)

    @property
    def offered(self) -> bool:
        return self.engine_fn is not None

    @property
    def inplace(self) -> bool:
        return self.kind in INPLACE_KINDS


@dataclass
class Resolution:
    """The forms of one entry; `primary` is the one the checks run first (None: not offered)."""

    key: str
    forms: list[Form] = field(default_factory=list)
    seeded: bool = False  # wrapped in OpInfo's wrapper_set_seed: may draw random numbers

    @property
    def primary(self) -> Form | None:
        return next((f for f in self.forms if f.offered and not f.inplace), None)

    @property
    def offered(self) -> bool:
        return self.primary is not None

    @property
    def missing(self) -> list[str]:
        """Everything the engine lacks for any form, sorted, each once."""
        return sorted({m for f in self.forms for m in f.missing})


def resolve(info, engine) -> Resolution:
    """The forms of an OpInfo entry, each with its engine counterpart (or what is missing).

    `engine` is the module under test (bound to `torch` in its programs)."""
    import torch

    key = f"{info.name}.{info.variant_test_name}" if info.variant_test_name else info.name
    out = Resolution(key)
    default = _qualified(torch, info.name)
    spelled = f"torch.{info.name}" if default is not None and info.op is default else None
    candidates = [(FUNCTION, info.op, spelled),
                  (METHOD, info.method_variant, _method(info.method_variant, info.name)),
                  (INPLACE, info.inplace_variant, _method(info.inplace_variant, info.name + "_")),
                  (OPERATOR, info.operator_variant, None),
                  (INPLACE_OPERATOR, info.inplace_operator_variant, None)]
    for alias in info.aliases or ():
        candidates += [(ALIAS, alias.op, f"torch.{alias.name}"),
                       (ALIAS_METHOD, alias.method_variant,
                        _method(alias.method_variant, alias.name)),
                       (ALIAS_INPLACE, alias.inplace_variant,
                        _method(alias.inplace_variant, alias.name + "_"))]
    order = (FUNCTION, METHOD, ALIAS, ALIAS_METHOD, OPERATOR, INPLACE, INPLACE_OPERATOR,
             ALIAS_INPLACE)
    candidates.sort(key=lambda c: order.index(c[0]))
    for kind, fn, spelling in candidates:
        if fn is None or not callable(fn):
            continue
        form = translate(fn, engine, spelling)
        out.forms.append(Form(kind, *form))
        out.seeded = out.seeded or _uses_seed_wrapper(fn)
    return out


def _method(fn, name: str) -> str | None:
    """`Tensor.name` when that is what `fn` is: a method is spelled by the entry's name, not by
    another name of the same object (`Tensor.positive` is also `Tensor.__pos__`)."""
    import torch

    return f"Tensor.{name}" if fn is not None and getattr(torch.Tensor, name, None) is fn \
        else None


def translate(fn: Callable, engine, spelling: str | None = None
              ) -> tuple[str, Callable, Callable | None, tuple[str, ...]]:
    """(spelling, torch's callable, the engine's or None, what the engine lacks)."""
    if isinstance(fn, functools.partial):  # `partial(F.hardsigmoid, inplace=True)`
        inner, torch_fn, found, missing = translate(fn.func, engine)
        bound = None if found is None else functools.partial(found, *fn.args, **fn.keywords)
        extra = ", ".join([*map(repr, fn.args), *(f"{k}={v!r}" for k, v in fn.keywords.items())])
        return f"{inner}(..., {extra})", fn, bound, missing
    path = spelling or torch_names().get(id(fn))
    if path is not None:
        found = lookup(engine, path)
        return path, fn, found, () if found is not None else (path,)
    if getattr(fn, "__module__", None) == "_operator" or fn in _OPERATORS:
        dunder = _dunder(fn.__name__)
        has = hasattr(engine.Tensor, dunder)
        return f"operator.{fn.__name__}", fn, fn if has else None, \
            () if has else (f"Tensor.{dunder}",)
    if isinstance(fn, types.FunctionType) and fn.__module__.startswith(_TESTING):
        missing = tuple(sorted(set(_lacking(fn, engine))))
        bound = None if missing else rebind(fn, engine)
        return f"lambda ({_source_name(fn)})", fn, bound, missing
    name = f"{type(fn).__module__}.{getattr(fn, '__qualname__', type(fn).__name__)}"
    return name, fn, None, (name,)


_OPERATORS = frozenset(v for v in vars(operator).values() if callable(v))


def _dunder(name: str) -> str:
    """operator.add -> __add__, operator.and_ -> __and__, operator.iadd -> __iadd__."""
    return name if name.startswith("__") else f"__{name.rstrip('_')}__"


def _source_name(fn: Callable) -> str:
    return f"{fn.__module__.rsplit('.', 1)[-1]}:{fn.__code__.co_firstlineno}"


def lookup(engine, path: str):
    """`torch.nn.functional.relu` or `Tensor.add_` on the engine; None when absent."""
    parts = path.split(".")
    if parts[0] == "torch":
        parts = parts[1:]
    obj = engine
    for part in parts:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _qualified(root, dotted: str):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


@cache
def torch_names() -> dict[int, str]:
    """id of every callable in PyTorch's public op namespaces and of Tensor's attributes -> its
    name (`torch.add`, `torch.nn.functional.relu`, `Tensor.add_`); the first name wins, in
    `NAMESPACES` order, then Tensor."""
    import torch

    out: dict[int, str] = {}
    for namespace in NAMESPACES:
        module = _qualified(torch, namespace.removeprefix("torch").lstrip(".")) \
            if namespace != "torch" else torch
        for name in sorted(vars(module)):
            value = vars(module)[name]
            if not name.startswith("_") and callable(value) and not isinstance(value, type):
                out.setdefault(id(value), f"{namespace}.{name}")
    for name in sorted(dir(torch.Tensor), key=lambda n: (n.startswith("_"), n)):
        value = getattr(torch.Tensor, name, None)
        if value is not None:
            out.setdefault(id(value), f"Tensor.{name}")
    return out


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _chains(code: types.CodeType) -> tuple[list[str], list[str]]:
    """(`torch.a.b` chains read from the global `torch`, other attribute names read) in code."""
    chains, attributes = [], []
    for inner in _code_objects(code):
        current: list[str] | None = None
        for ins in dis.get_instructions(inner):
            if ins.opname == "LOAD_GLOBAL" and ins.argval == "torch":
                current = ["torch"]
                continue
            if ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
                if current is not None:
                    current.append(ins.argval)
                    continue
                attributes.append(ins.argval)
                continue
            if current is not None:
                chains.append(".".join(current))
                current = None
        if current is not None:
            chains.append(".".join(current))
    return chains, attributes


def _lacking(fn: types.FunctionType, engine) -> list[str]:
    """The torch names a testing function reads that the engine does not offer."""
    import torch

    chains, attributes = _chains(fn.__code__)
    missing = []
    for chain in chains:
        if chain == "torch":
            continue
        if _qualified(torch, chain.removeprefix("torch.")) is None:
            continue  # not PyTorch's either: an attribute of a result (torch.X(...).y)
        # check the longest prefix that PyTorch itself has as a namespace or callable
        if lookup(engine, chain) is None:
            missing.append(chain.replace("torch.Tensor.", "Tensor."))
    for name in attributes:
        if hasattr(torch.Tensor, name) and not hasattr(engine.Tensor, name):
            missing.append(f"Tensor.{name}")
    for name in fn.__code__.co_names:
        value = fn.__globals__.get(name)
        if isinstance(value, types.FunctionType) and value.__module__.startswith(_TESTING) \
                and name != _SEED_WRAPPER:
            missing += _lacking(value, engine)
    if fn.__closure__:
        for cell in fn.__closure__:
            value = cell.cell_contents
            if isinstance(value, types.FunctionType) and value.__module__.startswith(_TESTING):
                missing += _lacking(value, engine)
            elif callable(value) and id(value) in torch_names() \
                    and lookup(engine, torch_names()[id(value)]) is None:
                missing.append(torch_names()[id(value)])
    return missing


def _uses_seed_wrapper(fn) -> bool:
    code = getattr(fn, "__code__", None)
    return code is not None and any(_SEED_WRAPPER in c.co_names for c in _code_objects(code))


_REBOUND: dict[tuple[int, int], dict] = {}


def rebind(fn: types.FunctionType, engine) -> types.FunctionType:
    """A copy of a testing function whose globals bind `torch` (and `torch.nn.functional`
    under any name) to the engine, with the testing helpers it calls rebound the same way.
    One rebound globals dict per (module, engine), shared by the functions rebound into it."""
    import torch

    key = (id(fn.__globals__), id(engine))
    namespace = _REBOUND.get(key)
    if namespace is None:
        namespace = dict(fn.__globals__)
        for name, value in fn.__globals__.items():
            if value is torch:
                namespace[name] = engine
            elif value is torch.nn.functional:
                namespace[name] = engine.nn.functional
        namespace[_SEED_WRAPPER] = _seed_wrapper(engine)
        _REBOUND[key] = namespace
    for name in fn.__code__.co_names:
        value = fn.__globals__.get(name)
        if isinstance(value, types.FunctionType) and value.__module__.startswith(_TESTING) \
                and name != _SEED_WRAPPER and namespace.get(name) is value:
            namespace[name] = rebind(value, engine)
    closure = None
    if fn.__closure__:
        closure = tuple(types.CellType(_rebound_value(c.cell_contents, engine))
                        for c in fn.__closure__)
    copy = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, closure)
    copy.__kwdefaults__ = fn.__kwdefaults__
    return copy


def _rebound_value(value, engine):
    if isinstance(value, types.FunctionType) and value.__module__.startswith(_TESTING):
        return rebind(value, engine)
    if callable(value) and id(value) in torch_names():
        return lookup(engine, torch_names()[id(value)])
    return value


def _seed_wrapper(engine):
    """OpInfo's `wrapper_set_seed` for the engine: seed the engine's generator as PyTorch's
    is seeded (42), call."""

    def wrapper_set_seed(op, *args, **kwargs):
        engine.manual_seed(42)
        return op(*args, **kwargs)

    return wrapper_set_seed
