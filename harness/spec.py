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
import sys
import types
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
)
from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from harness import program as programs

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


class InputDecl(_Model):
    """One tensor handed to the program under its name, drawn by Hypothesis."""

    shape: list[Annotated[StrictInt, Field(ge=0)] | Identifier] = []
    dtype: DType | list[DType] = "float32"
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


class _Constructor(RoundTripConstructor):
    """ruamel's, but a duplicate key whose value is a mapping or list is reported without the
    value: ruamel prints it, and an alias bomb's text would never end (harness.spec.plain)."""

    def check_mapping_key(self, node, key_node, mapping, key, value) -> bool:
        if key in mapping and not self.allow_duplicate_keys and any(
                isinstance(v, dict | list | tuple) for v in (key, value, mapping.get(key))):
            shown = key if isinstance(key, str | int | float) else type(key).__name__
            raise DuplicateKeyError("while constructing a mapping", node.start_mark,
                                    f'found duplicate key "{shown}"', key_node.start_mark)
        return super().check_mapping_key(node, key_node, mapping, key, value)


def yaml_parser() -> YAML:
    """YAML 1.2 with positions kept, duplicate keys refused and never printed in full."""
    parser = YAML(typ="rt")
    parser.Constructor = _Constructor
    return parser


_yaml = yaml_parser()
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
        line, col, problem = _yaml_problem(exc, text)
        result.entries.append(SpecError(shown, line, col, "", f"YAML: {problem}"))
        return result
    except ReaderError as exc:  # a control character: YAML allows only printable text
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - before.rfind("\n")
        result.entries.append(SpecError(shown, line, col, "",
                                        f"YAML: character {exc.character:#04x} is not allowed"))
        return result
    if not isinstance(doc, dict) or "specs" not in doc:
        line, col, where, message = 1, 1, "", "a spec file is a mapping with a 'specs:' list"
        if isinstance(doc, dict) and doc:
            first = next(iter(doc))
            line, col = _key_pos(doc, first)
            if {"name", "program"} <= set(map(str, doc)):
                message = "this is one spec, not a spec file: put it in a list under 'specs:'"
            else:
                where = str(first)
                message = f"unknown top-level field{_did_you_mean(first, ['specs'])}: {message}"
        result.entries.append(SpecError(shown, line, col, where, message))
        return result
    extra = [k for k in doc if k != "specs"]
    if extra:
        line, col = _key_pos(doc, extra[0])
        result.entries.append(SpecError(shown, line, col, str(extra[0]),
                                        "unknown top-level field (a spec file has only 'specs:')"))
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
        # The name is the test id: a later spec with a taken name, good or broken, is reported
        # under `name@line`, so every spec keeps an id (and a result) of its own.
        name = entry.name if isinstance(entry, Spec) else entry.spec_name
        spec_line = _item_pos(specs, index)[0]
        if name is not None and name in seen:
            taken = f"first at line {seen[name]}"
            if isinstance(entry, Spec):
                entry = SpecError(shown, *_value_pos(node, "name"), f"specs[{index}].name",
                                  f"duplicate spec name {name!r} ({taken})")
            else:
                entry.message += f"; also, the name {name!r} is already used at line {seen[name]}"
            entry.spec_name = f"{name}@{spec_line}"
        elif name is not None:
            seen[name] = spec_line
        result.entries.append(entry)
    return result


_UNCLOSED = {"while parsing a flow sequence": "'['", "while parsing a flow mapping": "'{'",
             "while scanning a quoted scalar": "quoted string"}


def _yaml_problem(exc: MarkedYAMLError, text: str) -> tuple[int, int, str]:
    """(line, col, message) of a YAML error, at the mistake rather than where ruamel noticed it.

    ruamel's problem mark is where parsing failed, often lines below the mistake: a key without
    its ':' fails at the next line, an unclosed '[' or quote at the next key or the file's end.
    The context mark (where the key, bracket or quote began) is the place to fix then.
    """
    def pos(mark):
        return mark.line + 1, mark.column + 1

    problem = exc.problem or exc.context or "invalid YAML"
    context, cmark, pmark = exc.context or "", exc.context_mark, exc.problem_mark
    if exc.problem and context.startswith("expected"):
        problem = f"{context}, {exc.problem}"  # "expected a single document, but..."
    if pmark is None:
        return (*pos(cmark), problem) if cmark else (1, 1, problem)
    line, col = pos(pmark)
    cline, ccol = pos(cmark) if cmark else (line, col)
    if context.startswith("while scanning a simple key"):
        return cline, ccol, ("this line is read as a key but has no ':' after it (a missing "
                             "':', or a line of a `|` block indented less than the block)")
    if context in _UNCLOSED:
        thing = _UNCLOSED[context]
        if cline == line:
            return line, col, f"{problem} (the {thing} at column {ccol} is not closed)"
        return cline, ccol, f"this {thing} is never closed ({problem} at line {line}:{col})"
    if context.startswith("while scanning") and cline != line:
        return cline, ccol, f"{context.removeprefix('while ')} that starts here: {problem} " \
                            f"at line {line}:{col}"
    if not context.startswith(("while constructing", "while composing")):
        quoted = _multiline_quote_before(text, pmark.index)  # a quote closed lines too late
        if quoted and quoted[0][0] != line:
            (qline, qcol), (eline, ecol) = quoted
            return qline, qcol, (f"this quoted string runs on to line {eline}:{ecol}, where "
                                 f"the next quote closes it; is its closing quote missing? "
                                 f"({problem} at line {line}:{col})")
    return line, col, problem


def _multiline_quote_before(text: str, index: int):
    """Start and end (line, col) of a quoted scalar spanning lines just before `index`, if any."""
    last = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for token in YAML(typ="rt").scan(text):
                if token.start_mark.index >= index:
                    break
                last = token
    except Exception:  # the scanner fails at or after the error: keep the tokens before it
        pass
    if last is None or getattr(last, "style", None) not in {'"', "'"}:
        return None
    start, end = last.start_mark, last.end_mark
    if start.line == end.line:
        return None
    return (start.line + 1, start.column + 1), (end.line + 1, end.column)


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
    except AliasError as exc:
        return SpecError(path, *_alias_pos(node, exc.loc, exc.anchor, lines, (line, col)),
                         where + field_path(exc.loc), exc.message)
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
        if b.max_side ** b.max_dims > MAX_ELEMENTS:
            return ("broadcast", "max_side"), (
                f"up to {b.max_side ** b.max_dims} elements (max_side ** max_dims); inputs are "
                f"limited to {MAX_ELEMENTS} (a spec shows behaviour, not scale)")
    for i, example in enumerate(m.examples):
        if not set(m.inputs) <= set(example) <= set(m.inputs) | set(m.dims):
            return ("examples", i), (f"an example gives every input ({', '.join(m.inputs)}) "
                                     f"and maybe dims, not {', '.join(example) or 'nothing'}")
        problem = _example_problem(m, example)
        if problem:
            return ("examples", i, *problem[0]), problem[1]
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
    if decl.range is not None and any(math.isnan(v) for v in decl.range):
        return at + ("range",), "range cannot contain nan: give [low, high] as numbers"
    for i, kink in enumerate(decl.avoid):
        if math.isnan(kink):
            return at + ("avoid", i), "nan cannot be avoided: every value would be refused"
    if isinstance(decl.classes, str) and m.dims[decl.classes][0] < 1:
        return at + ("classes",), (
            f"dim {decl.classes!r} can be {m.dims[decl.classes][0]}, and a class target needs at "
            "least 1 class: make its low end 1 or more")
    for dtype in _as_list(decl.dtype):
        problem = _values_problem(m, name, decl, dtype)
        if problem:
            return at + (problem[0],), problem[1]
    return None


def _example_problem(m: SpecModel, example: dict) -> tuple[tuple, str] | None:
    """A pinned example must be numbers of each input's shape, in range of each of its dtypes."""
    sizes: dict[str, tuple[int, str]] = {}  # dim -> (size, who set it)
    for dim in m.dims:
        if dim in example:
            value = example[dim]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return (dim,), f"dim {dim} must be a size (an integer >= 0), not {value!r}"
            sizes[dim] = value, "the example"
    for name, decl in m.inputs.items():
        shape, values = _nested(example[name])
        if isinstance(shape, str):
            return (name,), shape
        drawn = m.broadcast is not None and name in m.broadcast.inputs
        if not drawn:
            declared = "[" + ", ".join(map(str, decl.shape)) + "]"
            if len(shape) != len(decl.shape) or any(
                    isinstance(d, int) and d != n for d, n in zip(decl.shape, shape, strict=True)):
                return (name,), (f"the example has shape {list(shape)}, but {name} has shape "
                                 f"{declared}")
            for d, n in zip(decl.shape, shape, strict=True):
                if isinstance(d, str):
                    size, who = sizes.setdefault(d, (n, name))
                    if size != n:
                        return (name,), (f"the example makes {d} = {n} here, but {size} in {who}")
        for dtype in _as_list(decl.dtype):
            problem = _example_value_problem(values, dtype)
            if problem:
                return (name,), problem
    return None


def _nested(value) -> tuple[tuple[int, ...] | str, list]:
    """(shape, flat values) of a number or nested list of numbers, or (what is wrong, [])."""
    if isinstance(value, bool | int | float):
        return (), [value]
    if isinstance(value, str):
        return f"{value!r} is text; an example gives numbers (nested lists of them)", []
    if not isinstance(value, list):
        return f"{value!r} is not a number or a list of numbers", []
    shapes, values = set(), []
    for item in value:
        shape, flat = _nested(item)
        if isinstance(shape, str):
            return shape, []
        shapes.add(shape)
        values += flat
    if len(shapes) > 1:
        return "a ragged list: its rows have different lengths", []
    return (len(value), *(shapes.pop() if shapes else ())), values


def _example_value_problem(values: list, dtype: str) -> str | None:
    if dtype in FLOAT_DTYPES:
        return None
    if dtype == "bool":
        bad = next((v for v in values if v not in (0, 1)), None)
        return None if bad is None else f"{bad!r} is not a bool value (true or false)"
    tlo, thi = _INT_LIMITS[dtype]
    for v in values:
        whole = isinstance(v, int) or (math.isfinite(v) and v == int(v))
        if not (whole and tlo <= v <= thi):
            return f"{v!r} is not a {dtype} value (integers {tlo}..{thi})"
    return None


DEFAULT_RANGE = (-10.0, 10.0)  # as harness.strategies draws when `range` is not given
_INT_LIMITS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1), "uint8": (0, 255)}
_FLOAT_MAX = {"float16": 65504.0, "float32": 3.4028234663852886e38, "float64": sys.float_info.max}


def _values_problem(m: SpecModel, name: str, decl: InputDecl, dtype: str):
    """(field, message) when the declared options leave too few values of `dtype` to draw."""
    lo, hi = decl.range or DEFAULT_RANGE
    shown = f"range [{lo:g}, {hi:g}]" if decl.range else f"the default range [{lo:g}, {hi:g}]"
    if decl.fill is not None:
        return _fill_problem(decl, dtype)
    if dtype == "bool":
        count, what = 2 - decl.nonzero, "a bool input has only " + (
            "1 value (True) with nonzero" if decl.nonzero else "2 values")
    elif dtype in FLOAT_DTYPES:
        if lo > _FLOAT_MAX[dtype] or hi < -_FLOAT_MAX[dtype]:
            return "range", f"{shown} holds no finite {dtype} value (at most {_FLOAT_MAX[dtype]:g})"
        if decl.nonzero and lo == hi == 0:
            return "nonzero", f"nonzero: true, but {shown} holds only 0"
        if _covered(lo, hi, [(k - decl.avoid_margin, k + decl.avoid_margin) for k in decl.avoid]):
            return "avoid", (f"every value of {shown} is within avoid_margin "
                             f"{decl.avoid_margin:g} of an avoided value: nothing is left to draw")
        count, what = (1, f"{shown} holds only {lo:g}") if lo == hi else (math.inf, "")
    elif decl.index_for is not None:
        return None  # bounds come from the target's size, drawn with it
    else:
        if decl.classes is not None:
            lo = 0
            hi = (decl.classes if isinstance(decl.classes, int) else m.dims[decl.classes][0]) - 1
            shown = f"classes {decl.classes}"
        elif not (math.isfinite(lo) and math.isfinite(hi)):
            return "range", f"{shown} is not finite: an integer input needs finite bounds"
        tlo, thi = _INT_LIMITS[dtype]
        ilo, ihi = max(math.ceil(lo), tlo), min(math.floor(hi), thi)
        if ilo > ihi:
            holds = "no integer" if math.ceil(lo) > math.floor(hi) else \
                f"no {dtype} value ({dtype} is {tlo}..{thi})"
            return "range", f"{shown} holds {holds}"
        count = ihi - ilo + 1 - (decl.nonzero and ilo <= 0 <= ihi)
        if count == 0:
            return "nonzero", f"nonzero: true, but {shown} holds only 0"
        what = f"{shown} holds only {count} {dtype} value{'s' * (count != 1)}" + (
            " other than 0" if decl.nonzero and ilo <= 0 <= ihi else "")
    needed = _most_elements(m, name, decl)
    if isinstance(decl.classes, str):
        return None  # shape and classes often share the dim (n targets of n classes)
    if decl.distinct and count < needed:
        return "distinct", f"distinct: true needs up to {needed} different values, but {what}"
    return None


def _fill_problem(decl: InputDecl, dtype: str):
    value = decl.fill
    if decl.nonzero and value == 0:
        return "fill", "fill 0 contradicts nonzero: true"
    for kink in decl.avoid:
        if abs(value - kink) <= decl.avoid_margin:
            return "fill", f"fill {value:g} is within avoid_margin of the avoided value {kink:g}"
    if dtype == "bool" and value not in (0, 1):
        return "fill", f"fill {value:g} is not a bool value (0 or 1)"
    if dtype in _INT_LIMITS:
        tlo, thi = _INT_LIMITS[dtype]
        if not (math.isfinite(value) and value == int(value) and tlo <= value <= thi):
            return "fill", f"fill {value:g} is not a {dtype} value (integers {tlo}..{thi})"
    return None


def _covered(lo: float, hi: float, gaps: list[tuple[float, float]]) -> bool:
    """Whether the closed intervals `gaps` cover all of [lo, hi]."""
    at = lo  # the lowest point not yet known to be covered (or the end of the last gap)
    for start, end in sorted(gaps):
        if end < at:
            continue
        if start > at:
            return False
        at = end
        if at >= hi:
            return True
    return False


def _most_elements(m: SpecModel, name: str, decl: InputDecl) -> int:
    """Elements of the largest draw of an input: every dim at its high end."""
    if m.broadcast is not None and name in m.broadcast.inputs:
        return m.broadcast.max_side ** m.broadcast.max_dims
    return math.prod(m.dims[d][1] if isinstance(d, str) else d for d in decl.shape)


MAX_ALIAS_VALUES = 100_000  # values aliases may add to one spec; an alias bomb adds billions


class AliasError(ValueError):
    """Aliases that expand a spec too far, or into itself; `loc` is the repeat, inside the spec."""

    def __init__(self, loc: tuple, anchor: str | None, message: str):
        self.loc, self.anchor, self.message = loc, anchor, message
        super().__init__(message)


def plain(node, budget: int = MAX_ALIAS_VALUES):
    """ruamel's commented containers as plain dicts/lists (pydantic wants builtins).

    An alias is its anchor's container itself, so each container is converted once and shared;
    every repeat costs its expanded size against `budget` (nine levels of ten aliases would be
    10**9 values from 600 bytes, for pydantic to walk), and a container inside itself is refused.
    """
    done: dict[int, tuple[Any, int]] = {}  # id of a container -> (plain value, expanded size)
    active: set[int] = set()
    spent = 0

    def convert(value, loc: tuple) -> tuple[Any, int]:
        nonlocal spent
        if not isinstance(value, dict | list):
            if isinstance(value, LiteralScalarString | FoldedScalarString):
                return str(value), 1
            return value, 1
        key = id(value)
        if key in done:
            out, size = done[key]
            spent += size
            if spent > budget:
                raise AliasError(loc, _anchor(value), (
                    f"alias{_star(value)} expands to {size} values here; aliases may expand a "
                    f"spec by at most {budget} values"))
            return out, size
        if key in active:
            raise AliasError(loc, _anchor(value),
                             f"alias{_star(value)} refers to a value that contains it")
        active.add(key)
        size = 1
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                out[k], n = convert(v, (*loc, k))
                size += n
        else:
            out = []
            for i, v in enumerate(value):
                item, n = convert(v, (*loc, i))
                out.append(item)
                size += n
        active.discard(key)
        done[key] = out, size
        return out, size

    return convert(node, ())[0]


def _anchor(value) -> str | None:
    anchor = getattr(value, "anchor", None)
    return getattr(anchor, "value", None)


def _star(value) -> str:
    return f" *{_anchor(value)}" if _anchor(value) else ""


def _alias_pos(node, loc: tuple, anchor: str | None, lines: list[str],
               default: tuple[int, int]) -> tuple[int, int]:
    """1-based (line, col) of the alias at `loc`: ruamel gives an alias its anchor's position, so
    a mapping's alias is found at its key and a list's by its `*name` after the list's start."""
    parent = node
    for part in loc[:-1]:
        parent = parent[part]
    last = loc[-1] if loc else None
    if isinstance(parent, dict) and last in parent:
        return _key_pos(parent, last)
    if not isinstance(parent, list) or not isinstance(last, int):
        return default
    if anchor:
        before = sum(item is parent[last] for item in parent[:last])
        token = re.compile(rf"\*{re.escape(anchor)}(?![^\s,\[\]{{}}])")
        line, col = parent.lc.line, parent.lc.col
        for number, text in enumerate(lines[line:], start=line):
            for m in token.finditer(text, col if number == line else 0):
                if before == 0:
                    return number + 1, m.start() + 1
                before -= 1
    return _item_pos(parent, last)


def _from_validation_error(exc: ValidationError, node, path, where, line, col) -> SpecError:
    # An unknown field usually explains a missing one ("programm:"), so report it first.
    errors = exc.errors()
    err = min(errors, key=lambda e: e["type"] != "extra_forbidden")
    # pydantic reports union members as extra loc parts ("int", "str"...): keep the data path.
    data_loc = _data_path(node, tuple(err["loc"]), err["type"] == "missing")
    # One value, several union members (`dtype: X | list[X]`): the member that got furthest into
    # the data explains it (`dtype: [float32, flaot64]` -> the bad element, not "not a dtype").
    for other in errors:
        other_loc = _data_path(node, tuple(other["loc"]), other["type"] == "missing")
        if len(other_loc) > len(data_loc) and other_loc[: len(data_loc)] == data_loc:
            err, data_loc = other, other_loc
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown field" + _did_you_mean(data_loc[-1], _known_fields(data_loc[:-1]))
    elif err["type"] == "literal_error" and isinstance(err["input"], str):
        expected = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        alias = _DTYPE_ALIASES.get(err["input"])
        message += (f" (did you mean {alias!r}?)" if alias in expected
                    else _did_you_mean(err["input"], expected))
    elif err["type"] == "missing":
        message = "field required"
    elif err["type"].startswith("bool") and isinstance(err["input"], str):
        message = f"must be true or false, not the string {err['input']!r}"
    pline, pcol = _locate(node, data_loc, (line, col), at_key=err["type"] == "extra_forbidden")
    return SpecError(path, pline, pcol, where + field_path(data_loc), message)


_DTYPE_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "int": "int32",
                  "long": "int64", "torch.float32": "float32", "torch.float64": "float64"}


def _did_you_mean(word, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def field_path(loc: tuple) -> str:
    """('inputs', 'x', 'shape', 1) -> '.inputs.x.shape[1]'"""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def _known_fields(loc: tuple, model: type[BaseModel] = SpecModel) -> list[str]:
    """The field names of the model(s) at data path `loc`, found by walking the model's types:
    ('inputs', 'x', 'index_for') -> IndexFor's fields."""
    found: list = [model]
    for part in loc:
        found = [step for t in found for step in _type_step(t, part)]
    return [name for t in found for leaf in _union_leaves(t)
            if isinstance(leaf, type) and issubclass(leaf, BaseModel)
            for name in leaf.model_fields]


def _union_leaves(tp) -> list:
    """Annotated[X, ...] -> [X]; X | Y | None -> [X, Y, None]."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _union_leaves(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [leaf for arg in typing.get_args(tp) for leaf in _union_leaves(arg)]
    return [tp]


def _type_step(tp, part) -> list:
    """The types one data path step below `tp`: a model's field, a dict's value, a list's item."""
    out = []
    for leaf in _union_leaves(tp):
        origin, args = typing.get_origin(leaf), typing.get_args(leaf)
        if isinstance(leaf, type) and issubclass(leaf, BaseModel):
            if isinstance(part, str) and part in leaf.model_fields:
                out.append(leaf.model_fields[part].annotation)
        elif origin is dict and isinstance(part, str) and len(args) == 2:
            out.append(args[1])
        elif origin is list and isinstance(part, int) and args:
            out.append(args[0])
    return out


def _data_path(node, loc: tuple, missing: bool = False) -> tuple:
    """The prefix of a pydantic loc that exists in the data, plus the key of a missing field.

    Other loc parts that are not in the data name union members ("int", "constrained-str",
    "list[literal[...]]"): skipped."""
    out, cur = [], node
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            out.append(part)
            cur = cur[part]
        elif missing and isinstance(cur, dict) and isinstance(part, str):
            out.append(part)  # a missing field: point at its parent mapping
            break
    return tuple(out)


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
