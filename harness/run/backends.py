"""The two bindings of `torch` a program runs with: PyTorch itself (the oracle) and our engine.

Both are imported lazily and once per process (`import torch` costs about a second).
"""

from __future__ import annotations

import importlib
import re
import sys
import warnings
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType

import numpy as np

from harness.run.global_state import Snapshot

_GRAD_FN = re.compile(r"(Backward\d*|Backwards|^AccumulateGrad)$")


@dataclass(frozen=True)
class Backend:
    name: str  # "torch" or "engine"
    module: ModuleType  # what the program sees as `torch`
    functional: ModuleType  # what the program sees as `F`
    #: its global settings as loaded, restored after every program (harness.run.global_state)
    pristine: Snapshot | None = field(default=None, compare=False, repr=False)

    @property
    def tensor_type(self) -> type:
        return self.module.Tensor

    def make_input(self, array: np.ndarray, requires_grad: bool):
        """A leaf tensor holding a copy of the drawn array."""
        return self.module.tensor(array.copy(), requires_grad=requires_grad)

    def api(self) -> dict[str, list[str]]:
        """The API the backend offers, named as programs name it, for the report's coverage.

        - functions: the ops of every namespace a program may use (`torch`, `torch.linalg`,
          `torch.autograd`, `torch.autograd.graph`, ..., `F`): functions and context managers
          (`torch.no_grad`);
        - types: the classes and dtypes under the same names (`torch.float32`, `torch.Size`,
          `torch.autograd.graph.Node`): a program may use them, but they are not ops;
        - methods: Tensor methods and attributes (with the private ones programs may read,
          `_version`, `_base`, `_is_view`);
        - grad_fns: the graph node classes (`MulBackward0`, `AccumulateGrad`, `CopySlices`).

        Only names PyTorch has too are listed (a backend's own helpers are not API).
        """
        from harness.spec.api_names import roots
        from harness.spec.program import _PRIVATE_ALLOWED, PUBLIC_NAMESPACES

        reference = roots()["torch"]
        dtype = type(self.module.float32)
        functions, types_ = set(), set()
        for namespace in sorted(PUBLIC_NAMESPACES):
            if namespace == "torch.nn.functional":
                prefix, module, ref = "F", self.functional, roots()["F"]
            elif namespace.startswith("torch"):
                prefix, module, ref = namespace, self.module, reference
                for part in namespace.split(".")[1:]:
                    module, ref = getattr(module, part, None), getattr(ref, part, None)
            else:
                continue
            if not isinstance(module, ModuleType) or ref is None:
                continue
            for name in dir(module):  # dir, not vars: a package may load names lazily (nn)
                with warnings.catch_warnings():  # a deprecated attribute warns when read
                    warnings.simplefilter("ignore")
                    value = getattr(module, name, None)
                if name.startswith("_") or isinstance(value, ModuleType) \
                        or not hasattr(ref, name):
                    continue
                if isinstance(value, dtype) or (isinstance(value, type)
                                                and not hasattr(value, "__enter__")):
                    types_.add(f"{prefix}.{name}")
                elif callable(value):
                    functions.add(f"{prefix}.{name}")
        tensor_attrs = set(dir(reference.Tensor))
        methods = {n for n in dir(self.tensor_type)
                   if (not n.startswith("_") or n in _PRIVATE_ALLOWED) and n in tensor_attrs}
        with warnings.catch_warnings():  # as above
            warnings.simplefilter("ignore")
            grad_fns = {
                value.__name__
                for name, module in list(sys.modules.items())
                if module is not None and (name == self.name or name.startswith(self.name + "."))
                for value in list(vars(module).values())
                if isinstance(value, type) and not value.__name__.startswith("_")
                and value.__name__ != "Node"
                and (_GRAD_FN.search(value.__name__) or hasattr(value, "next_functions"))
            }
        return {"functions": sorted(functions), "types": sorted(types_),
                "methods": sorted(methods), "grad_fns": sorted(grad_fns)}

    def reset(self) -> list[str]:
        """Undo every global setting a program changed (print options, default dtype, grad
        mode, the RNG ...: harness.run.global_state); the names of those it had changed."""
        if self.pristine is None:
            self.module.set_grad_enabled(True)
            return []
        return self.pristine.restore(self.module)

    def take_changed(self) -> list[str]:
        """The settings programs left changed (and `reset` restored) since the last call."""
        return self.pristine.take_changed() if self.pristine is not None else []


@cache
def load(name: str) -> Backend:
    """Import a backend, make it single-threaded and seed its generator with 0, then take the
    snapshot of its settings that every program starts from. One thread: parallelism comes
    from pytest-xdist workers (threads inside each would fight over the cores), and a value
    never depends on how many workers ran it (a reduction split over threads rounds
    differently)."""
    module = importlib.import_module(name)
    functional = importlib.import_module(f"{name}.nn.functional")
    set_threads = getattr(module, "set_num_threads", None)
    if set_threads is not None:
        set_threads(1)
    manual_seed = getattr(module, "manual_seed", None)
    if manual_seed is not None:  # not the OS's seed: a program that draws prints the same
        manual_seed(0)           # numbers in every run (results.json is reproducible)
    return Backend(name, module, functional, Snapshot(module))


def torch_and_engine() -> tuple[Backend, Backend]:
    return load("torch"), load("engine")
