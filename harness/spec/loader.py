"""Loading spec files: hardened YAML 1.2 (ruamel.yaml) into validated `Spec`s or `SpecError`s.

A spec file is YAML 1.2 (ruamel.yaml, which keeps line and column of every node and refuses
duplicate keys). Each spec in it is validated on its own by pydantic, then by the semantic checks
(harness.spec.checks), so one broken spec fails alone; every problem becomes a `SpecError` that
names `file:line:col`, the field and what is wrong. Files that would stall or exhaust the parser
(huge files, deep brackets, alias bombs) are refused before they can.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
import warnings
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from harness.spec import program as programs
from harness.spec.checks import semantic_problem
from harness.spec.model import Spec, SpecError, SpecFile, SpecModel
from harness.spec.positions import (
    alias_pos,
    data_path,
    field_path,
    item_pos,
    key_pos,
    locate,
    program_start,
    value_pos,
)


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
            line, col = key_pos(doc, first)
            if {"name", "program"} <= set(map(str, doc)):
                message = "this is one spec, not a spec file: put it in a list under 'specs:'"
            else:
                where = str(first)
                message = f"unknown top-level field{_did_you_mean(first, ['specs'])}: {message}"
        result.entries.append(SpecError(shown, line, col, where, message))
        return result
    extra = [k for k in doc if k != "specs"]
    if extra:
        line, col = key_pos(doc, extra[0])
        result.entries.append(SpecError(shown, line, col, str(extra[0]),
                                        "unknown top-level field (a spec file has only 'specs:')"))
    specs = doc["specs"]
    if not isinstance(specs, list) or not specs:
        line, col = value_pos(doc, "specs")
        result.entries.append(SpecError(shown, line, col, "specs", "must be a non-empty list"))
        return result
    lines = text.splitlines()
    seen: dict[str, int] = {}
    for index, node in enumerate(specs):
        try:
            entry = _load_spec(node, index, specs, shown, lines)
        except RecursionError:
            line, col = item_pos(specs, index)
            entry = SpecError(shown, line, col, f"specs[{index}]", "nested too deeply")
        if isinstance(entry, SpecError) and not entry.spec_name and isinstance(node, dict):
            name = node.get("name")
            entry.spec_name = name if isinstance(name, str) and name.strip() else None
        # The name is the test id: a later spec with a taken name, good or broken, is reported
        # under `name@line`, so every spec keeps an id (and a result) of its own.
        name = entry.name if isinstance(entry, Spec) else entry.spec_name
        spec_line = item_pos(specs, index)[0]
        if name is not None and name in seen:
            taken = f"first at line {seen[name]}"
            if isinstance(entry, Spec):
                entry = SpecError(shown, *value_pos(node, "name"), f"specs[{index}].name",
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
    if not context.startswith(("while constructing", "while composing", "while scanning")):
        quoted = _multiline_quote_before(text, pmark.index)  # a quote closed lines too late
        if quoted and quoted[0][0] != line:
            (qline, qcol), (eline, ecol) = quoted
            return qline, qcol, (f"this quoted string runs on to line {eline}:{ecol}, where "
                                 f"the next quote closes it; is its closing quote missing? "
                                 f"({problem} at line {line}:{col})")
    if problem.startswith("expected <block end>, but found") \
            or problem == "mapping values are not allowed here":
        return line, col, _indentation_problem(text, pmark.line, col, problem)
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
    return line, col, problem


_KEY = re.compile(r"^(\s*)(-\s+)?([A-Za-z_][\w.-]*)\s*:(\s|$)")


def _indentation_problem(text: str, line_index: int, col: int, problem: str) -> str:
    """The parser's "expected <block end>" or "mapping values are not allowed here" in words:
    a line indented to a column where no key above it starts (or further than the key it
    belongs with), named with the block it is in and the columns its keys start at."""
    lines = text.splitlines()
    current = lines[line_index] if line_index < len(lines) else ""
    indent = len(current) - len(current.lstrip()) + 1
    keys = []  # (column, key) of the mapping keys above, nearest first
    for above in reversed(lines[:line_index]):
        m = _KEY.match(above)
        if m:
            keys.append((len(m[1]) + len(m[2] or "") + 1, m[3]))
    m = _KEY.match(current)
    name = f"`{m[3]}:`" if m else "this line"
    if problem == "mapping values are not allowed here":
        peer = next(((c, k) for c, k in keys if c < indent), None)
        where = f", further than `{peer[1]}:` at column {peer[0]} above it," if peer else ""
        return (f"{name} is indented to column {indent}{where} so it reads as part of the value "
                "above: give the keys of one entry the same indentation (or quote a value "
                "that holds ': ')")
    block = next(((c, k) for c, k in keys if c < indent), None)
    columns: dict[int, list[str]] = {}
    for column, key in keys:
        if block and column <= block[0]:
            break
        columns.setdefault(column, []).append(f"`{key}:`")
    inside = f", inside `{block[1]}:`" if block else ""
    starts = "; ".join(f"column {c} ({', '.join(dict.fromkeys(k))})"
                       for c, k in sorted(columns.items()))
    return (f"{name} is indented to column {indent}, where no key above it starts{inside}"
            + (f" (its keys start at {starts})" if starts else "")
            + ": the keys of one mapping, and the '-' of one list, line up in one column")


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
    line, col = item_pos(parent, index)
    where = f"specs[{index}]"
    if not isinstance(node, dict):
        return SpecError(path, line, col, where, "each spec is a mapping")
    try:
        model = SpecModel.model_validate(plain(node))
    except ValidationError as exc:
        return _from_validation_error(exc, node, path, where, line, col)
    except AliasError as exc:
        return SpecError(path, *alias_pos(node, exc.loc, exc.anchor, lines, (line, col)),
                         where + field_path(exc.loc), exc.message)
    program_line, program_col = program_start(node, lines)
    try:
        program = programs.parse(model.program, names=set(model.inputs) | set(model.dims))
    except programs.ProgramError as exc:
        return SpecError(path, program_line + exc.line - 1, program_col + exc.col - 1,
                         f"{where}.program", exc.message)
    spec = Spec(model, path, line, program_line, program, program_col, index)
    problem = semantic_problem(spec, node)
    if problem:
        loc, message = problem
        pline, pcol = locate(node, loc, (line, col))
        return SpecError(path, pline, pcol, where + field_path(loc), message)
    return spec


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


def _from_validation_error(exc: ValidationError, node, path, where, line, col) -> SpecError:
    # An unknown field usually explains a missing one ("programm:"), so report it first.
    errors = exc.errors()
    err = min(errors, key=lambda e: e["type"] != "extra_forbidden")
    # pydantic reports union members as extra loc parts ("int", "str"...): keep the data path.
    data_loc = data_path(node, tuple(err["loc"]), err["type"] == "missing")
    # One value, several union members (`dtype: X | list[X]`): the member that got furthest into
    # the data explains it (`dtype: [float32, flaot64]` -> the bad element, not "not a dtype").
    for other in errors:
        other_loc = data_path(node, tuple(other["loc"]), other["type"] == "missing")
        if len(other_loc) > len(data_loc) and other_loc[: len(data_loc)] == data_loc:
            err, data_loc = other, other_loc
    # pydantic's "Input should be ..." reads as if it meant the `inputs:` field
    message = re.sub(r"^Input (should|must|is)\b", r"the value \1", err["msg"])
    if message != err["msg"] and isinstance(err.get("input"), str | int | float) \
            and err["type"] != "literal_error":
        message += f", not {err['input']!r}"
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
    pline, pcol = locate(node, data_loc, (line, col), at_key=err["type"] == "extra_forbidden")
    return SpecError(path, pline, pcol, where + field_path(data_loc), message)


_DTYPE_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "int": "int32",
                  "long": "int64", "torch.float32": "float32", "torch.float64": "float64"}


def _did_you_mean(word, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


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
