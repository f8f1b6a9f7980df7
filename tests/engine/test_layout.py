"""The engine's layout keeps its promises: layers import only from the layers above them (no
import cycle, no import inside a function), autograd reaches ops only through Tensor
methods, Tensor gets its attributes from its class body and the surface binder alone, and
every module says in its first docstring line what it owns."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import engine
from engine import _tensor
from engine.ops import surface

ROOT = Path(engine.__file__).parent
# the layout this test guards; nn's modules, optim and utils are built on the public API
# and have their own rules
LAYOUT = ["__init__.py", "_device.py", "_dtype.py", "_memory_format.py", "_return_types.py",
          "_sampling.py", "_size.py", "_tensor.py", "_tensor_str.py", "linalg.py",
          "nn/functional.py", "random.py", "special.py", "autograd", "ops", "runtime"]
# a module may import only from its own layer and the layers before it
LAYERS = [
    {"engine._device", "engine._dtype", "engine._memory_format", "engine._return_types",
     "engine._sampling", "engine._size", "engine._tensor_str", "engine.runtime"},
    {"engine._tensor", "engine.random"},  # the generator's state is read as a uint8 tensor
    {"engine.autograd"},
    {"engine.ops"},
    {"engine", "engine.linalg", "engine.nn.functional", "engine.special"},
]


def _files():
    for entry in LAYOUT:
        path = ROOT / entry
        yield from sorted(path.glob("*.py")) if path.is_dir() else [path]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """(line, imported module, at module level?) for every engine import in ``path``."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from . import x` imports the submodule x; `from .x import y` imports x
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module
                       for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for target in targets:
            if target == "engine" or target.startswith("engine."):
                yield node.lineno, target, id(node) in top


MODULES = {_module_name(p): p for p in _files()}


def _resolve(target: str) -> str | None:
    """The layout module ``target`` names (``engine.ops.elementwise.add`` -> the module)."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def _layer(module: str) -> int:
    for level, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes if p != "engine"):
            return level
    return len(LAYERS) - 1  # the engine package itself


@pytest.mark.parametrize("path", list(_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_says_what_it_owns(path):
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc and len(doc.splitlines()[0].split()) >= 3, "no first docstring line"


@pytest.mark.parametrize("path", list(_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_are_module_level_and_come_from_layers_above(path):
    name = _module_name(path)
    for line, target, top_level in _imports(path):
        assert top_level, f"{name}:{line} imports {target} inside a function"
        module = _resolve(target)
        if module is None or module == name:
            continue
        assert _layer(module) <= _layer(name), f"{name}:{line} imports {module}, a layer below"


def test_no_import_cycle():
    graph = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for _, target, _ in _imports(path):
            module = _resolve(target)
            if module is not None and module != name:
                graph[name].add(module)
    # importing a submodule runs its package's __init__ first: a package's __init__ must not
    # lead back into a module of the same package that imports it
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            assert state.get(nxt) != "open", " -> ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_autograd_imports_no_op():
    for path in (ROOT / "autograd").glob("*.py"):
        for line, target, _ in _imports(path):
            assert not target.startswith("engine.ops"), f"{path.name}:{line} imports {target}"


def test_tensor_attributes_come_from_the_class_body_or_the_binder():
    [cls] = [node for node in ast.parse(Path(_tensor.__file__).read_text()).body
             if isinstance(node, ast.ClassDef) and node.name == "Tensor"]
    body = {node.name for node in cls.body if isinstance(node, ast.FunctionDef)}
    body |= set(_tensor.Tensor.__slots__) | {"__slots__", "__module__", "__array_ufunc__",
                                             "__array_priority__", "is_cuda", "device",
                                             "ndimension", "nelement", "__str__", "__doc__",
                                             "__weakref__", "__firstlineno__",
                                             "__static_attributes__"}
    bound = {"__new__"}
    for op in surface.OPS:
        bound |= set(op.methods())
    assert set(vars(_tensor.Tensor)) <= body | bound
    assert not body & bound - {"__new__"}, "an attribute both in the class body and the table"
    for name in bound:
        assert name in vars(_tensor.Tensor), name


def test_only_the_binder_sets_tensor_attributes():
    for path in _files():
        if path == ROOT / "ops" / "surface.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr":
                assert ast.unparse(node.args[0]) != "Tensor", f"{path.name}:{node.lineno}"
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                for target in getattr(node, "targets", [getattr(node, "target", None)]):
                    text = ast.unparse(target) if target is not None else ""
                    assert not text.startswith("Tensor."), f"{path.name}:{node.lineno}"
