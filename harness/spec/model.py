"""The spec language: the pydantic model of a spec file, the values each dtype holds, and `Spec`.

`SpecModel` is what a file may say (`extra="forbid"`: a typo is an error, never ignored); `Spec` is
one validated spec with where it came from and its parsed program; `SpecError` is one problem with
the place to fix it. The dtype domain (`DEFAULT_RANGE`, `INT_LIMITS`, `FLOAT_MAX`) is the spec
language's too: the load-time checks refuse what the strategies could not draw from it.
"""

from __future__ import annotations

import itertools
import math
import sys
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
)

from harness.spec import program as programs

DType = Literal["float16", "float32", "float64", "int32", "int64", "uint8", "bool"]
FLOAT_DTYPES = {"float16", "float32", "float64"}
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
# Numbers are strict, like booleans: a quoted "5" or a `true` where a number belongs is a mistake
# (never silently 5 or 1.0), as the JSON Schema that editors check says too.


class SpecError(Exception):
    """A spec (or a whole file) that cannot run, with the place to fix it."""

    def __init__(self, path: str, line: int, col: int, where: str, message: str,
                 spec_name: str | None = None):
        self.path, self.line, self.col, self.where, self.message = path, line, col, where, message
        self.spec_name = spec_name  # the broken spec's name, when it could be read
        super().__init__(str(self))

    def __str__(self) -> str:
        """One line, always: a multi-line message (an exception's text) is joined."""
        where = f" {self.where}:" if self.where else ""
        message = " ".join(part.strip() for part in str(self.message).splitlines() if part.strip())
        return f"{self.path}:{self.line}:{self.col}:{where} {message}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _special_name(value):
    """YAML gives `-0.0` and `0` as numbers and `nan`, `inf` as strings: one spelling for each."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value == 0:
            return "-0.0" if math.copysign(1.0, value) < 0 else "0"
        return str(value)
    return value


_SpecialName = Literal["0", "-0.0", "inf", "-inf", "nan", "tiny", "huge", "subnormal"]
SpecialValue = Annotated[
    _SpecialName,
    # the JSON Schema shows what a file may hold: the names, or the numbers 0 and -0.0
    BeforeValidator(_special_name, json_schema_input_type=_SpecialName | Literal[0]),
]


class IndexFor(_Model):
    """Integer values that are valid indices into dimension `dim` of input `input`."""

    input: Identifier
    dim: StrictInt = 0
    negative: StrictBool = False  # also draw negative indices (-size .. -1)


class SameDtype(_Model):
    """`dtype: {same_as: x}`: the input takes input x's dtype in every variant (two dtype lists
    would make their product: `[float32, float64]` twice is 4 items, tied it is 2)."""

    same_as: Identifier


class InputDecl(_Model):
    """One tensor handed to the program under its name, drawn by Hypothesis."""

    shape: list[Annotated[StrictInt, Field(ge=0)] | Identifier] = []
    dtype: DType | list[DType] | SameDtype = "float32"
    # every element drawn from these (ties and kinks on purpose: `values: [0, 1, -1]`)
    values: Annotated[list[StrictInt | StrictFloat], Field(min_length=1)] | None = None
    range: tuple[StrictFloat, StrictFloat] | None = None
    fill: StrictFloat | None = None
    nonzero: StrictBool = False  # strict: YAML 1.2 reads `no` as a string, never as false
    requires_grad: StrictBool = False
    special: list[SpecialValue] = []  # also draw these (0, -0.0, inf, -inf, nan, tiny, ...)
    distinct: StrictBool = False  # no two elements equal: no ties for max/min/sort
    avoid: list[StrictFloat] = []  # kinks to keep away from (e.g. [0] for abs, relu)
    avoid_margin: Annotated[StrictFloat, Field(gt=0)] = 1e-3
    classes: Annotated[StrictInt, Field(ge=1)] | Identifier | None = None  # class targets 0..C-1
    index_for: IndexFor | None = None


class BroadcastDecl(_Model):
    """Inputs whose shapes are drawn together as mutually broadcastable shapes."""

    inputs: Annotated[list[Identifier], Field(min_length=2)]
    min_dims: Annotated[StrictInt, Field(ge=0)] = 0
    max_dims: Annotated[StrictInt, Field(ge=0, le=6)] = 3
    min_side: Annotated[StrictInt, Field(ge=0)] = 1
    max_side: Annotated[StrictInt, Field(ge=0)] = 4


class Tolerance(_Model):
    rtol: Annotated[StrictFloat, Field(ge=0)]
    atol: Annotated[StrictFloat, Field(ge=0)]


class ToleranceOverride(_Model):
    """Looser or tighter tolerances than assert_close's defaults, always with a reason."""

    reason: Annotated[str, Field(min_length=1)]
    float16: Tolerance | None = None
    float32: Tolerance | None = None
    float64: Tolerance | None = None


class RaisesDecl(_Model):
    """The top-level statement at program line `line` must raise `type` matching `match`."""

    line: Annotated[StrictInt, Field(ge=1)]
    type: Identifier
    match: str = ""


class SpecModel(_Model):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str
    program: str
    dims: dict[Identifier, tuple[StrictInt, StrictInt]] = {}
    inputs: dict[Identifier, InputDecl] = {}
    raises: list[RaisesDecl] = []
    max_examples: Annotated[StrictInt, Field(ge=1, le=10_000)] | None = None
    broadcast: BroadcastDecl | None = None
    examples: list[dict[Identifier, Any]] = []  # pinned inputs, always run first
    tolerance: ToleranceOverride | None = None
    gradcheck: StrictBool = False  # also verify PyTorch's analytic grads by finite differences


@dataclass(frozen=True)
class Spec:
    """A validated spec, with where it came from and its parsed program."""

    model: SpecModel
    path: str
    line: int
    program_line: int  # file line of program line 1
    program: programs.Program
    program_col: int = 1  # file column of program column 1 (block scalars)
    index: int = 0  # position in the file's `specs:` list

    def file_position(self, line: int, col: int = 1) -> tuple[int, int]:
        """File (line, col) of a (line, col) inside the program."""
        return self.program_line + line - 1, self.program_col + col - 1

    @property
    def name(self) -> str:
        return self.model.name

    def variants(self) -> list[dict[str, str]]:
        """One dtype assignment per test item: the product of every input's dtype list; an
        input declared `dtype: {same_as: x}` takes x's dtype of the variant."""
        inputs = self.model.inputs
        names = [n for n, d in inputs.items() if not isinstance(d.dtype, SameDtype)]
        choices = [as_list(inputs[n].dtype) for n in names]
        out = []
        for combo in itertools.product(*choices):
            chosen = dict(zip(names, combo, strict=True))
            out.append({n: chosen[d.dtype.same_as] if isinstance(d.dtype, SameDtype)
                        else chosen[n] for n, d in inputs.items()})
        return out

    def tolerances(self) -> dict[str, tuple[float, float]]:
        """(rtol, atol) per dtype that this spec overrides."""
        override = self.model.tolerance
        if override is None:
            return {}
        return {dtype: (tol.rtol, tol.atol) for dtype in FLOAT_DTYPES
                if (tol := getattr(override, dtype)) is not None}

    def variant_id(self, variant: dict[str, str]) -> str:
        listed = [variant[n] for n, d in self.model.inputs.items() if isinstance(d.dtype, list)]
        return "-".join(listed)


@dataclass
class SpecFile:
    """What loading one file gives: the good specs and the errors, in file order."""

    path: str
    entries: list[Spec | SpecError] = field(default_factory=list)


def as_list(value):
    return value if isinstance(value, list) else [value]


def dtypes_of(model: SpecModel, name: str) -> list[str]:
    """The dtypes input `name` is drawn with, across the variants (`same_as` followed)."""
    dtype = model.inputs[name].dtype
    if isinstance(dtype, SameDtype):
        target = model.inputs.get(dtype.same_as)
        if target is None or isinstance(target.dtype, SameDtype):
            return []  # harness.spec.checks refuses these
        dtype = target.dtype
    return as_list(dtype)


#: The values an input draws when `range` is not given (harness.run.strategies).
DEFAULT_RANGE = (-10.0, 10.0)
INT_LIMITS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1), "uint8": (0, 255)}
FLOAT_MAX = {"float16": 65504.0, "float32": 3.4028234663852886e38, "float64": sys.float_info.max}
