"""The engine under test: where it is (`--parity-engine NAME|PATH`) and what it offers.

An engine is a module that mirrors PyTorch's API. It is named by its module name, or by the path
of its package folder (or module file) when it is not importable as it is (not installed, not on
PYTHONPATH: tox drops PYTHONPATH). `parity validate` asks what it offers, so that a program
using a name the engine lacks is a warning before the run, not an AttributeError in every item.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path
from types import ModuleType

from harness.run import usage

DEFAULT = "engine"


def resolve(option: str | None, base: Path) -> tuple[str, str | None]:
    """(module name, folder put first on sys.path, or None). A value with a `/` or ending in
    `.py` is a path, from `base`: a package folder or a module file (ValueError if neither)."""
    if option is None:
        return DEFAULT, None
    if "/" not in option and os.sep not in option and not option.endswith(".py"):
        return option, None
    path = (base / option).resolve()
    if path.suffix == ".py" and path.is_file():
        folder, name = path.parent, path.stem
    elif (path / "__init__.py").is_file():
        folder, name = path.parent, path.name
    else:
        raise ValueError(f"{path} is neither a package folder (with __init__.py) nor a .py file")
    if not name.isidentifier():
        raise ValueError(f"{name!r} cannot be a module name")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return name, str(folder)


def missing_names(tree: ast.AST, module: ModuleType, functional: ModuleType
                  ) -> list[tuple[str, int, int]]:
    """(name, program line, column) of each PyTorch name the program uses (harness.run.usage)
    that the engine does not offer: `torch.x`, `F.x`, `Tensor.x`."""
    functions, methods = usage.api_usage(tree)
    missing = [name for name in sorted(functions) if not _offers(module, functional, name)]
    missing += [f"Tensor.{name}" for name in sorted(methods)
                if not hasattr(module.Tensor, name)]
    return [(name, *_position(tree, name.rsplit(".", 1)[-1])) for name in missing]


def _offers(module: ModuleType, functional: ModuleType, name: str) -> bool:
    root, *parts = name.split(".")
    value = functional if root == "F" else module
    for part in parts:
        value = getattr(value, part, None)
        if value is None:
            return False
    return True


def _position(tree: ast.AST, attribute: str) -> tuple[int, int]:
    """Where the program first reads `.attribute` (line, column of the name), else (1, 1)."""
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == attribute
             and n.end_col_offset is not None]
    if not found:
        return 1, 1
    first = min(found, key=lambda n: (n.lineno, n.col_offset))
    return first.end_lineno, first.end_col_offset - len(attribute) + 1
