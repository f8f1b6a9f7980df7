"""A stand-in engine package for plugin tests: any module source, usable as --parity-engine."""

from __future__ import annotations


def engine_package(pytester, name: str, source: str) -> None:
    """A package `name` usable as --parity-engine: `source` as its module, PyTorch's F."""
    pytester.syspathinsert()
    package = pytester.path / name
    (package / "nn").mkdir(parents=True)
    (package / "__init__.py").write_text(source)
    (package / "nn" / "__init__.py").write_text("")
    (package / "nn" / "functional.py").write_text("from torch.nn.functional import *  # noqa\n")
