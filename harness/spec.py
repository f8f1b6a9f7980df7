"""The spec model and its loader.

A spec file is YAML 1.2 (ruamel.yaml, which keeps line and column of every node and refuses
duplicate keys). Each spec in it is validated on its own by pydantic, so one broken spec fails
alone; every problem becomes a `SpecError` that names `file:line:col`, the field and what is wrong.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from harness import program as programs

DType = Literal["float16", "float32", "float64", "int32", "int64", "uint8", "bool"]
FLOAT_DTYPES = {"float16", "float32", "float64"}
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class SpecError(Exception):
    """A spec (or a whole file) that cannot run, with the place to fix it."""

    def __init__(self, path: str, line: int, col: int, where: str, message: str,
                 spec_name: str | None = None):
        self.path, self.line, self.col, self.where, self.message = path, line, col, where, message
        self.spec_name = spec_name  # the broken spec's name, when it could be read
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{self.path}:{self.line}:{self.col}:{where} {self.message}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _special_name(value):
    """YAML gives `-0.0` and `0` as numbers and `nan`, `inf` as strings: one spelling for each."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value == 0:
            return "-0.0" if math.copysign(1.0, value) < 0 else "0"
        return str(value)
    return value


SpecialValue = Annotated[
    Literal["0", "-0.0", "inf", "-inf", "nan", "tiny", "huge", "subnormal"],
    BeforeValidator(_special_name),
]


class IndexFor(_Model):
    """Integer values that are valid indices into dimension `dim` of input `input`."""

    input: Identifier
    dim: int = 0
    negative: StrictBool = False  # also draw negative indices (-size .. -1)


class InputDecl(_Model):
    """One tensor handed to the program under its name, drawn by Hypothesis."""

    shape: list[Annotated[int, Field(ge=0)] | Identifier] = []
    dtype: DType | list[DType] = "float32"
    range: tuple[float, float] | None = None
    fill: float | None = None
    nonzero: StrictBool = False  # strict: YAML 1.2 reads `no` as a string, never as false
    requires_grad: StrictBool = False
    special: list[SpecialValue] = []  # also draw these (0, -0.0, inf, -inf, nan, tiny, ...)
    distinct: StrictBool = False  # no two elements equal: no ties for max/min/sort
    avoid: list[float] = []  # kinks to keep away from (e.g. [0] for abs, relu)
    avoid_margin: Annotated[float, Field(gt=0)] = 1e-3
    classes: Annotated[int, Field(ge=1)] | Identifier | None = None  # class targets 0..C-1
    index_for: IndexFor | None = None


class BroadcastDecl(_Model):
    """Inputs whose shapes are drawn together as mutually broadcastable shapes."""

    inputs: Annotated[list[Identifier], Field(min_length=2)]
    min_dims: Annotated[int, Field(ge=0)] = 0
    max_dims: Annotated[int, Field(ge=0, le=6)] = 3
    min_side: Annotated[int, Field(ge=0)] = 1
    max_side: Annotated[int, Field(ge=0)] = 4


class Tolerance(_Model):
    rtol: Annotated[float, Field(ge=0)]
    atol: Annotated[float, Field(ge=0)]


class ToleranceOverride(_Model):
    """Looser or tighter tolerances than assert_close's defaults, always with a reason."""

    reason: Annotated[str, Field(min_length=1)]
    float16: Tolerance | None = None
    float32: Tolerance | None = None
    float64: Tolerance | None = None


class RaisesDecl(_Model):
    """The top-level statement at program line `line` must raise `type` matching `match`."""

    line: Annotated[int, Field(ge=1)]
    type: Identifier
    match: str = ""


class SpecModel(_Model):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str
    program: str
    dims: dict[Identifier, tuple[int, int]] = {}
    inputs: dict[Identifier, InputDecl] = {}
    raises: list[RaisesDecl] = []
    max_examples: Annotated[int, Field(ge=1, le=10_000)] | None = None
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
        """One dtype assignment per test item: the product of every input's dtype list."""
        names = list(self.model.inputs)
        choices = [_as_list(self.model.inputs[n].dtype) for n in names]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*choices)]

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


def _as_list(value):
    return value if isinstance(value, list) else [value]


_yaml = YAML(typ="rt")
MAX_FILE_BYTES = 1_000_000  # a spec file is a few KB; refuse anything that is clearly not one
MAX_ELEMENTS = 100_000  # per input, with every dim at its high end
MAX_NESTING = 100  # ruamel's scanner is quadratic in bracket depth: refuse before it stalls


def _flow_depth(text: str) -> int:
    """The deepest run of unclosed [ and { (an over-estimate is fine: real specs nest ~3 deep)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def load_file(path: str | Path, root: Path | None = None) -> SpecFile:
    """Load every spec in a file; never raises for bad content (errors become entries)."""
    path = Path(path)
    shown = _display_path(path, root)
    result = SpecFile(shown)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            result.entries.append(SpecError(
                shown, 1, 1, "", f"file is {size / 1e6:.1f} MB; spec files are limited to 1 MB"))
            return result
        data = path.read_bytes()
    except OSError as exc:
        result.entries.append(SpecError(shown, 1, 1, "", f"cannot read file: {exc.strerror}"))
        return result
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        result.entries.append(SpecError(shown, line, col, "",
                                        f"file is not UTF-8 ({exc.reason})"))
        return result
    if not text.strip():
        result.entries.append(SpecError(shown, 1, 1, "", "the file is empty: a spec file is a "
                                        "mapping with a 'specs:' list"))
        return result
    if _flow_depth(text) > MAX_NESTING:
        result.entries.append(SpecError(shown, 1, 1, "", f"YAML: brackets nested more than "
                                        f"{MAX_NESTING} deep"))
        return result
    directive = re.search(r"^%YAML[ \t]+(\S*)", text, re.M)
    if directive and directive[1] != "1.2":
        line = text.count("\n", 0, directive.start()) + 1
        result.entries.append(SpecError(shown, line, 1, "", "YAML: spec files are YAML 1.2 "
                                        f"(`no` is a string, not false): remove {directive[0]!r}"))
        return result
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ruamel's warnings (reused anchors) are no errors
            doc = _yaml.load(text)
    except RecursionError:
        result.entries.append(SpecError(shown, 1, 1, "", "YAML: nested too deeply"))
        return result
    except (TypeError, ValueError) as exc:  # ruamel on complex keys (`? {a: 1}`), and the like
        result.entries.append(SpecError(shown, 1, 1, "", f"YAML: cannot load this file ({exc}); "
                                        "mapping keys must be plain words"))
        return result
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context.startswith("expected"):
            problem = f"{exc.context}, {exc.problem}"  # "expected a single document, but..."
        result.entries.append(SpecError(shown, line, col, "", f"YAML: {problem}"))
        return result
    except ReaderError as exc:  # a control character: YAML allows only printable text
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - before.rfind("\n")
        result.entries.append(SpecError(shown, line, col, "",
                                        f"YAML: character {exc.character:#04x} is not allowed"))
        return result
    if not isinstance(doc, dict) or "specs" not in doc:
        line, col, message = 1, 1, "a spec file is a mapping with a 'specs:' list"
        if isinstance(doc, dict) and doc:
            first = next(iter(doc))
            line, col = _key_pos(doc, first)
            message = f"unknown top-level field {str(first)!r}: {message}"
        result.entries.append(SpecError(shown, line, col, "", message))
        return result
    extra = [k for k in doc if k != "specs"]
    if extra:
        line, col = _key_pos(doc, extra[0])
        result.entries.append(SpecError(shown, line, col, extra[0], "unknown top-level field"))
    specs = doc["specs"]
    if not isinstance(specs, list) or not specs:
        line, col = _value_pos(doc, "specs")
        result.entries.append(SpecError(shown, line, col, "specs", "must be a non-empty list"))
        return result
    lines = text.splitlines()
    seen: dict[str, int] = {}
    for index, node in enumerate(specs):
        try:
            entry = _load_spec(node, index, specs, shown, lines)
        except RecursionError:
            line, col = _item_pos(specs, index)
            entry = SpecError(shown, line, col, f"specs[{index}]", "nested too deeply")
        if isinstance(entry, SpecError) and not entry.spec_name and isinstance(node, dict):
            name = node.get("name")
            entry.spec_name = name if isinstance(name, str) and name.strip() else None
        if isinstance(entry, Spec):
            if entry.name in seen:
                entry = SpecError(shown, *_value_pos(node, "name"), f"specs[{index}].name",
                                  f"duplicate spec name {entry.name!r} (first at line "
                                  f"{seen[entry.name]})", spec_name=f"{entry.name}@{entry.line}")
            else:
                seen[entry.name] = entry.line
        result.entries.append(entry)
    return result


def _display_path(path: Path, root: Path | None) -> str:
    try:
        return str(path.resolve().relative_to((root or Path.cwd()).resolve()))
    except ValueError:
        return str(path)


def _load_spec(node: Any, index: int, parent, path: str, lines: list[str]) -> Spec | SpecError:
    line, col = _item_pos(parent, index)
    where = f"specs[{index}]"
    if not isinstance(node, dict):
        return SpecError(path, line, col, where, "each spec is a mapping")
    try:
        model = SpecModel.model_validate(plain(node))
    except ValidationError as exc:
        return _from_validation_error(exc, node, path, where, line, col)
    program_line, program_col = _program_start(node, lines)
    try:
        program = programs.parse(model.program, names=set(model.inputs) | set(model.dims))
    except programs.ProgramError as exc:
        return SpecError(path, program_line + exc.line - 1, program_col + exc.col - 1,
                         f"{where}.program", exc.message)
    spec = Spec(model, path, line, program_line, program, program_col, index)
    problem = _semantic_problem(spec, node)
    if problem:
        loc, message = problem
        pline, pcol = _locate(node, loc, (line, col))
        return SpecError(path, pline, pcol, where + field_path(loc), message)
    return spec


def _semantic_problem(spec: Spec, node) -> tuple[tuple, str] | None:
    """Checks pydantic cannot express: names that must agree across fields."""
    m = spec.model
    for name, (lo, hi) in m.dims.items():
        if not 0 <= lo <= hi:
            return ("dims", name), f"range [{lo}, {hi}] must satisfy 0 <= low <= high"
    for name, decl in m.inputs.items():
        for i, d in enumerate(decl.shape):
            if isinstance(d, str) and d not in m.dims:
                return ("inputs", name, "shape", i), f"symbolic dim {d!r} is not declared in dims"
        largest = math.prod(m.dims[d][1] if isinstance(d, str) else d for d in decl.shape)
        if largest > MAX_ELEMENTS:
            return ("inputs", name, "shape"), (
                f"up to {largest} elements; inputs are limited to {MAX_ELEMENTS} "
                "(a spec shows behaviour, not scale)")
        if decl.range is not None and decl.range[0] > decl.range[1]:
            return ("inputs", name, "range"), "range must be [low, high] with low <= high"
        if decl.range is not None and decl.fill is not None:
            return ("inputs", name, "fill"), "give either fill or range, not both"
        if decl.requires_grad and not set(_as_list(decl.dtype)) <= FLOAT_DTYPES:
            return ("inputs", name, "requires_grad"), "only floating point inputs can require grad"
        if name not in spec.program.names_used:
            return ("inputs", name), "input is declared but the program never uses it"
        problem = _generation_problem(m, name, decl)
        if problem:
            return problem
    if m.broadcast is not None:
        b = m.broadcast
        for i, name in enumerate(b.inputs):
            if name not in m.inputs:
                return ("broadcast", "inputs", i), f"no input named {name!r}"
            if m.inputs[name].shape:
                return ("inputs", name, "shape"), (
                    "this input's shape is drawn by `broadcast:`; remove its shape")
        if b.min_dims > b.max_dims or b.min_side > b.max_side:
            return ("broadcast",), "min_dims <= max_dims and min_side <= max_side are required"
    for i, example in enumerate(m.examples):
        if not set(m.inputs) <= set(example) <= set(m.inputs) | set(m.dims):
            return ("examples", i), (f"an example gives every input ({', '.join(m.inputs)}) "
                                     f"and maybe dims, not {', '.join(example) or 'nothing'}")
    starts = spec.program.statement_lines
    for i, r in enumerate(m.raises):
        if r.line not in starts:
            return ("raises", i, "line"), (
                f"program line {r.line} does not start a top-level statement "
                f"(statements start at lines {sorted(starts)})")
        try:
            re.compile(r.match)
        except re.error as exc:
            return ("raises", i, "match"), f"not a valid regular expression: {exc}"
    return None


def _generation_problem(m: SpecModel, name: str, decl: InputDecl):
    """Input options that contradict each other or the rest of the spec."""
    at = ("inputs", name)
    dtypes = set(_as_list(decl.dtype))
    if decl.special and not dtypes <= FLOAT_DTYPES:
        return at + ("special",), "special values need a floating point dtype"
    integer_only = {"classes": decl.classes, "index_for": decl.index_for}
    for option, value in integer_only.items():
        if value is not None and dtypes & (FLOAT_DTYPES | {"bool"}):
            return at + (option,), f"{option} needs an integer dtype (int64, int32, uint8)"
    if decl.classes is not None and decl.index_for is not None:
        return at + ("classes",), "give either classes or index_for, not both"
    if isinstance(decl.classes, str) and decl.classes not in m.dims:
        return at + ("classes",), f"symbolic dim {decl.classes!r} is not declared in dims"
    if decl.index_for is not None:
        target = m.inputs.get(decl.index_for.input)
        if target is None:
            return at + ("index_for", "input"), f"no input named {decl.index_for.input!r}"
        if not -len(target.shape) <= decl.index_for.dim < len(target.shape):
            return at + ("index_for", "dim"), (
                f"dim {decl.index_for.dim} is out of range for {decl.index_for.input!r}, "
                f"which has {len(target.shape)} dims")
    if decl.fill is not None and (decl.distinct or decl.special):
        return at + ("fill",), "fill gives one value: it cannot be distinct or special"
    return None


def plain(node):
    """ruamel's commented containers as plain dicts/lists (pydantic wants builtins)."""
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, LiteralScalarString | FoldedScalarString):
        return str(node)
    return node


def _from_validation_error(exc: ValidationError, node, path, where, line, col) -> SpecError:
    # An unknown field usually explains a missing one ("programm:"), so report it first.
    err = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    loc = tuple(err["loc"])
    # pydantic reports union members as extra loc parts ("int", "str"...): keep the data path.
    data_loc = _data_path(node, loc)
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown field"
        close = difflib.get_close_matches(str(data_loc[-1]), _known_fields(data_loc[:-1]), n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    elif err["type"] == "missing":
        message = "field required"
    elif err["type"].startswith("bool") and isinstance(err["input"], str):
        message = f"must be true or false, not the string {err['input']!r}"
    pline, pcol = _locate(node, data_loc, (line, col), at_key=err["type"] == "extra_forbidden")
    return SpecError(path, pline, pcol, where + field_path(data_loc), message)


def field_path(loc: tuple) -> str:
    """('inputs', 'x', 'shape', 1) -> '.inputs.x.shape[1]'"""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def _known_fields(loc: tuple) -> list[str]:
    if not loc:
        return list(SpecModel.model_fields)
    if loc[0] == "inputs" and len(loc) == 2:
        return list(InputDecl.model_fields)
    if loc[0] == "raises" and len(loc) == 2:
        return list(RaisesDecl.model_fields)
    return []


def _data_path(node, loc: tuple) -> tuple:
    """The prefix of a pydantic loc that exists in the data, plus a missing key if any."""
    out, cur = [], node
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str) and part not in _UNION_TAGS:
            out.append(part)  # a missing field: point at its parent mapping
            break
    return tuple(out)


_UNION_TAGS = {"int", "str", "float", "bool", "list[...]", "tuple[...]", "constrained-str",
               "literal['float16','float32','float64','int32','int64','uint8','bool']"}


def _locate(node, loc: tuple, default: tuple[int, int], at_key: bool = False) -> tuple[int, int]:
    """1-based (line, col) of the deepest node along loc that the YAML tree knows."""
    pos = default
    cur = node
    for i, part in enumerate(loc):
        if isinstance(cur, dict) and part in cur:
            key = isinstance(cur[part], dict | list) or (at_key and i == len(loc) - 1)
            pos = _key_pos(cur, part) if key else _value_pos(cur, part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            pos = _item_pos(cur, part)
            cur = cur[part]
        else:
            break
    return pos


def _key_pos(mapping, key) -> tuple[int, int]:
    try:
        line, col = mapping.lc.key(key)
    except KeyError:  # a key merged in from an anchor (`<<: *base`): point at the mapping
        line, col = mapping.lc.line, mapping.lc.col
    return line + 1, col + 1


def _value_pos(mapping, key) -> tuple[int, int]:
    try:
        line, col = mapping.lc.value(key)
    except KeyError:
        line, col = mapping.lc.line, mapping.lc.col
    return line + 1, col + 1


def _item_pos(seq, index) -> tuple[int, int]:
    line, col = seq.lc.item(index)
    return line + 1, col + 1


def _program_start(node, lines: list[str]) -> tuple[int, int]:
    """File (line, col) of program line 1; block scalars start on the line after `|`."""
    line, col = _value_pos(node, "program")
    if isinstance(node["program"], LiteralScalarString | FoldedScalarString):
        for offset, text in enumerate(lines[line:], start=line + 1):
            if text.strip():
                return offset, len(text) - len(text.lstrip()) + 1
        return line + 1, col
    quoted = lines[line - 1][col - 1 : col] in {'"', "'"}
    return line, col + (1 if quoted else 0)
