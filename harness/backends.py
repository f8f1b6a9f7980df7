"""The two bindings of `torch` a program runs with: PyTorch itself (the oracle) and our engine.

Both are imported lazily and once per process (`import torch` costs about a second).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import numpy as np


@dataclass(frozen=True)
class Backend:
    name: str  # "torch" or "engine"
    module: ModuleType  # what the program sees as `torch`
    functional: ModuleType  # what the program sees as `F`

    @property
    def tensor_type(self) -> type:
        return self.module.Tensor

    def make_input(self, array: np.ndarray, requires_grad: bool):
        """A leaf tensor holding a copy of the drawn array."""
        return self.module.tensor(array.copy(), requires_grad=requires_grad)

    def reset(self) -> None:
        """Undo global state a program may leave behind (grad mode)."""
        self.module.set_grad_enabled(True)


@cache
def load(name: str) -> Backend:
    module = importlib.import_module(name)
    functional = importlib.import_module(f"{name}.nn.functional")
    return Backend(name, module, functional)


def torch_and_engine() -> tuple[Backend, Backend]:
    return load("torch"), load("engine")
