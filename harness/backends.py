"""The two bindings of `torch` a program runs with: PyTorch itself (the oracle) and our engine.

Both are imported lazily and once per process (`import torch` costs about a second).
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import numpy as np

_GRAD_FN = re.compile(r"(Backward\d*|Backwards|^AccumulateGrad)$")


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

    def api(self) -> dict[str, list[str]]:
        """Public functions, Tensor methods and grad_fn classes, named as programs name them."""
        functions = set()
        for prefix, module in (("torch", self.module), ("F", self.functional),
                               ("torch.autograd", getattr(self.module, "autograd", None))):
            if module is None:
                continue
            for name, value in vars(module).items():
                if not name.startswith("_") and callable(value) \
                        and not isinstance(value, type(self.module.float32)):
                    functions.add(f"{prefix}.{name}")
        methods = {n for n in dir(self.tensor_type) if not n.startswith("_")}
        grad_fns = {
            value.__name__
            for name, module in list(sys.modules.items())
            if module is not None and (name == self.name or name.startswith(self.name + "."))
            for value in list(vars(module).values())
            if isinstance(value, type) and _GRAD_FN.search(value.__name__)
        }
        return {"functions": sorted(functions), "methods": sorted(methods),
                "grad_fns": sorted(grad_fns)}

    def reset(self) -> None:
        """Undo global state a program may leave behind (grad mode)."""
        self.module.set_grad_enabled(True)


@cache
def load(name: str) -> Backend:
    """Import a backend and make it single-threaded: parallelism comes from pytest-xdist
    workers (threads inside each would fight over the cores), and a value never depends on
    how many workers ran it (a reduction split over threads rounds differently)."""
    module = importlib.import_module(name)
    functional = importlib.import_module(f"{name}.nn.functional")
    set_threads = getattr(module, "set_num_threads", None)
    if set_threads is not None:
        set_threads(1)
    return Backend(name, module, functional)


def torch_and_engine() -> tuple[Backend, Backend]:
    return load("torch"), load("engine")
