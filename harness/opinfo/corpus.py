"""PyTorch's OpInfo database (`op_db`) as entries, dtypes and samples in a fixed order.

Every worker under pytest-xdist builds the same items in the same order, and a sample is the same
on every machine and in every process: entries are sorted by key, dtypes follow `DTYPES`, and
PyTorch's (and Python's and numpy's) random generators are seeded from the item before its samples
are drawn (OpInfo's own per-sample seeding depends on the calling test's name, so it is off).
Importing `op_db` needs the `expecttest` package and takes a few seconds: once per process.
"""

from __future__ import annotations

import random
import re
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np

#: The dtypes items run in, in item order: floating, integer and bool types (PyTorch names).
DTYPES = ("float16", "float32", "float64", "int64", "int32", "uint8", "bool")
FLOATING = ("float16", "float32", "float64")
#: Where a sample came from: `sample_inputs`, `reference_inputs` (the larger set some entries
#: define, which usually repeats the sample inputs first) or `error_inputs`.
SAMPLE, REFERENCE, ERROR = "sample", "reference", "error"
#: The pseudo-dtype of an entry's error-inputs item: error inputs do not depend on a dtype.
ERRORS = "errors"
#: Why `empty*` values are no contract, whatever generator state they are made in.
UNINITIALISED = "uninitialised memory"


@cache
def op_db() -> tuple:
    """PyTorch's OpInfo entries (imported once per process)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.testing._internal.common_methods_invocations import op_db as entries
    return tuple(entries)


@dataclass(frozen=True)
class Entry:
    """One OpInfo entry: an op (`name`) in one of its sample sets (`variant`, often "")."""

    info: object  # torch.testing._internal.opinfo.core.OpInfo

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def variant(self) -> str:
        return self.info.variant_test_name

    @property
    def key(self) -> str:
        """`add`, `div.floor_rounding`: unique in op_db."""
        return f"{self.name}.{self.variant}" if self.variant else self.name

    @property
    def differentiable(self) -> bool:
        return bool(self.info.supports_autograd)

    def dtypes(self) -> list[str]:
        """The dtypes of `DTYPES` the entry supports on CPU, in `DTYPES` order."""
        supported = {str(d).removeprefix("torch.") for d in self.info.supported_dtypes("cpu")}
        return [d for d in DTYPES if d in supported]

    def backward_dtypes(self) -> list[str]:
        if not self.differentiable:
            return []
        supported = {str(d).removeprefix("torch.")
                     for d in self.info.supported_backward_dtypes("cpu")}
        return [d for d in DTYPES if d in supported and d in FLOATING]

    @property
    def values_unspecified(self) -> str:
        """Why PyTorch's values of this op are no contract ("" if they are): `empty*` returns
        uninitialised memory, and PyTorch's own tests skip comparing others across devices
        because they are "non-deterministic" (random ops) or "undefined" (shifts past the
        width, overflowing downcasts)."""
        if re.search(r"(^|_)empty", self.name):
            return UNINITIALISED
        for decorator in self.info.decorators or ():
            if getattr(decorator, "test_name", None) != "test_compare_cpu":
                continue
            for inner in getattr(decorator, "decorators", None) or ():
                for cell in getattr(inner, "__closure__", None) or ():
                    text = cell.cell_contents
                    if isinstance(text, str) and re.search(r"non-deterministic|undefined",
                                                           text):
                        return text
        return ""

    def item_name(self, dtype: str) -> str:
        """The pytest item name: `add[float32]`, `div[floor_rounding-float64]`, `add[errors]`."""
        return f"{self.name}[{self.variant}-{dtype}]" if self.variant else f"{self.name}[{dtype}]"


def entries(differentiable: bool | None = None) -> list[Entry]:
    """The entries of op_db sorted by key; with `differentiable`, only those that do (not)
    support autograd."""
    out = [Entry(info) for info in op_db()]
    if differentiable is not None:
        out = [e for e in out if e.differentiable == differentiable]
    return sorted(out, key=lambda e: e.key)


def seed_for(*parts: str) -> int:
    """A 32-bit seed from names (crc32: the same in every process, unlike `hash`)."""
    return zlib.crc32("|".join(parts).encode())


def _seed_all(seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


@dataclass(frozen=True)
class Drawn:
    """One sample as OpInfo gives it, with where it came from."""

    source: str  # SAMPLE, REFERENCE or ERROR
    index: int  # position in its source's sequence
    sample: object  # SampleInput (for ERROR: the ErrorInput's sample_input)
    error_type: type | None = None  # ERROR only
    error_regex: str = ""

    @property
    def label(self) -> str:
        """`s3`, `r12`, `e0`: short, stable, and what a user passes to `parity opinfo-spec`."""
        return f"{self.source[0]}{self.index}"


def samples(entry: Entry, dtype: str, limit: int | None = None) -> list[Drawn]:
    """The entry's samples in `dtype`: its `sample_inputs`, then, when no `limit` is given and
    the entry defines them, its `reference_inputs`; at most `limit` in all.

    Float tensors require grad when the entry is differentiable in this dtype (as PyTorch's
    own tests make them); a sample function that refuses that for this dtype (it would make an
    integer tensor require grad) is asked again without.
    """
    requires_grad = dtype in entry.backward_dtypes()
    sources = [(SAMPLE, entry.info.sample_inputs)]
    if limit is None and entry.info.reference_inputs_func is not None:
        sources.append((REFERENCE, entry.info.reference_inputs))
    out: list[Drawn] = []
    for source, make in sources:
        if limit is not None and len(out) >= limit:
            break
        room = None if limit is None else limit - len(out)
        try:
            drawn = _draw(entry, dtype, source, make, requires_grad, room)
        except ValueError:
            if not requires_grad:
                raise
            drawn = _draw(entry, dtype, source, make, False, room)
        out.extend(drawn)
    return out


def _draw(entry: Entry, dtype: str, source: str, make, requires_grad: bool,
          limit: int | None) -> list[Drawn]:
    import torch

    _seed_all(seed_for(entry.key, dtype, source))
    out = []
    for index, sample in enumerate(make("cpu", getattr(torch, dtype),
                                        requires_grad=requires_grad, set_seed=False)):
        if limit is not None and index >= limit:
            break
        out.append(Drawn(source, index, sample))
    return out


def error_samples(entry: Entry, limit: int | None = None) -> Iterator[Drawn]:
    """The entry's error inputs: each a sample with the exception type and message pattern
    PyTorch's own tests expect."""
    if entry.info.error_inputs_func is None:
        return
    _seed_all(seed_for(entry.key, ERRORS))
    for index, error in enumerate(entry.info.error_inputs("cpu", set_seed=False)):
        if limit is not None and index >= limit:
            return
        yield Drawn(ERROR, index, error.sample_input, error.error_type,
                    error.error_regex or "")


def find(key: str) -> Entry:
    """The entry with this key (`add`, `div.floor_rounding`)."""
    for entry in entries():
        if entry.key == key:
            return entry
    raise KeyError(f"no OpInfo entry {key!r} in this PyTorch")


def item_names(wants, dtypes, errors: bool) -> set[str]:
    """The names of the items a configuration can collect (`add[float32]`, `add[errors]`),
    whatever the engine offers: what an expectation may name."""
    out = set()
    for entry in entries():
        if not wants(entry.key):
            continue
        out.update(entry.item_name(d) for d in entry.dtypes() if d in dtypes)
        if errors and entry.info.error_inputs_func is not None:
            out.add(entry.item_name(ERRORS))
    return out
