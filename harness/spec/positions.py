"""Where in a spec file a problem is: 1-based (line, col) of YAML nodes, keys, values and aliases.

ruamel.yaml keeps the position of every node (`.lc`); these helpers walk a data path (the field
path of an error: `("inputs", "x", "shape", 1)`) down the YAML tree to the deepest node that
exists, so every `SpecError` points at the place to fix.
"""

from __future__ import annotations

import re

from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString


def alias_pos(node, loc: tuple, anchor: str | None, lines: list[str],
               default: tuple[int, int]) -> tuple[int, int]:
    """1-based (line, col) of the alias at `loc`: ruamel gives an alias its anchor's position, so
    a mapping's alias is found at its key and a list's by its `*name` after the list's start."""
    parent = node
    for part in loc[:-1]:
        parent = parent[part]
    last = loc[-1] if loc else None
    if isinstance(parent, dict) and last in parent:
        return key_pos(parent, last)
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
    return item_pos(parent, last)


def field_path(loc: tuple) -> str:
    """('inputs', 'x', 'shape', 1) -> '.inputs.x.shape[1]'"""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def data_path(node, loc: tuple, missing: bool = False) -> tuple:
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


def locate(node, loc: tuple, default: tuple[int, int], at_key: bool = False) -> tuple[int, int]:
    """1-based (line, col) of the deepest node along loc that the YAML tree knows."""
    pos = default
    cur = node
    for i, part in enumerate(loc):
        if isinstance(cur, dict) and part in cur:
            key = isinstance(cur[part], dict | list) or (at_key and i == len(loc) - 1)
            pos = key_pos(cur, part) if key else value_pos(cur, part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            pos = item_pos(cur, part)
            cur = cur[part]
        else:
            break
    return pos


def key_pos(mapping, key) -> tuple[int, int]:
    try:
        line, col = mapping.lc.key(key)
    except KeyError:  # a key merged in from an anchor (`<<: *base`): point at the mapping
        line, col = mapping.lc.line, mapping.lc.col
    return line + 1, col + 1


def value_pos(mapping, key) -> tuple[int, int]:
    try:
        line, col = mapping.lc.value(key)
    except KeyError:
        line, col = mapping.lc.line, mapping.lc.col
    return line + 1, col + 1


def item_pos(seq, index) -> tuple[int, int]:
    line, col = seq.lc.item(index)
    return line + 1, col + 1


def program_start(node, lines: list[str]) -> tuple[int, int]:
    """File (line, col) of program line 1; block scalars start on the line after `|`."""
    line, col = value_pos(node, "program")
    if isinstance(node["program"], LiteralScalarString | FoldedScalarString):
        for offset, text in enumerate(lines[line:], start=line + 1):
            if text.strip():
                return offset, len(text) - len(text.lstrip()) + 1
        return line + 1, col
    quoted = lines[line - 1][col - 1 : col] in {'"', "'"}
    return line, col + (1 if quoted else 0)
