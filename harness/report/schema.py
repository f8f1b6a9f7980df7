"""The JSON Schema of results.json (schema_version 1, docs/results.md), which every file a command
reads is checked against before anything uses it (`parity report`, `--baseline`, `parity merge`).

It requires only what the report cannot do without (the version; each result's id and
outcome; a failure's kind and message) and types every documented field where present: another
producer may leave the rest out (the summary is then counted from the results), fields added
within version 1 are absent from older files, and unknown fields are allowed (a later version-1
writer may add some). A file that does not conform gets one line naming the place and the
problem, never a traceback further on.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from harness.contract import OUTCOMES, SCHEMA_VERSION

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NUM = {"type": "number"}
_STR_OR_NULL = {"type": ["string", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}
_STRINGS = {"type": "array", "items": _STR}
_SHARD = {"type": ["string", "null"], "pattern": "^[0-9]+/[0-9]+$"}  # "I/N", --shard


def _object(required: dict, optional: dict | None = None) -> dict:
    return {"type": "object", "required": list(required),  # the first missing one is named
            "properties": {**required, **(optional or {})}}


_FLOAT = {"type": ["number", "string"]}  # non-finite numbers are written "inf", "nan"
_MEASURE = {"type": ["object", "null"], "properties": {
    "dtype": _STR, "mismatched": _INT, "numel": _INT, "rtol": _FLOAT, "atol": _FLOAT,
    "max_abs": _FLOAT, "max_rel": _FLOAT, "max_ulp": _FLOAT,
    "worst_index": {"type": ["array", "null"], "items": _INT},
    "elements": {"type": "array", "items": _object(
        {}, {"index": {"type": "array", "items": _INT}, "torch": _FLOAT, "engine": _FLOAT})}}}

_DISCREPANCY = _object(
    {"statement_line": _INT_OR_NULL, "statement": _STR, "variable": _STR_OR_NULL,
     "field": _STR, "torch": _STR, "engine": _STR, "detail": _STR},
    {"measure": _MEASURE, "note": _STR},
)

_FAILURE = _object(
    {"kind": _STR, "message": _STR},
    {"statement_line": _INT_OR_NULL,
     "discrepancies": {"type": "array", "items": _DISCREPANCY},
     "inputs": {"type": ["object", "null"], "additionalProperties": {"type": "object"}},
     "seed": _STR_OR_NULL, "reproduce": _STR_OR_NULL, "traceback": _STR_OR_NULL,
     "snippet": _STR_OR_NULL},
)

_RESULT = _object(
    {"id": _STR, "outcome": {"enum": list(OUTCOMES)}},
    {"name": _STR, "file": _STR, "line": _INT, "description": _STR, "duration_s": _NUM,
     "examples": {"type": "integer", "minimum": 0}, "program": _STR,
     "program_line": _INT_OR_NULL, "failure": {"oneOf": [{"type": "null"}, _FAILURE]},
     "variant": _STR_OR_NULL, "area": _STR,
     "checks": {"type": "object", "additionalProperties": _STR},
     "margins": {"type": "array", "items": {"type": "object"}},
     "coverage": {"type": "object", "additionalProperties": _STRINGS},
     "expectation": {"oneOf": [{"type": "null"}, _object(
         {"reason": _STR}, {"link": _STR, "strict": {"type": "boolean"}})]},
     "warnings": _STRINGS},
)

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": f"Parity results.json, schema_version {SCHEMA_VERSION}",
    **_object(
        {"results": {"type": "array", "items": _RESULT},
         "schema_version": {"const": SCHEMA_VERSION}},
        {"summary": {"type": "object", "required": ["total"],
                     "additionalProperties": {"type": "integer", "minimum": 0}},
         "metadata": {"type": "object", "properties": {
             "hypothesis_profile": _STR, "seed": _STR, "engine": _STR,
             "duration_s": _NUM, "examples": _INT, "git_commit": _STR_OR_NULL,
             "shard": _SHARD, "engine_api": {"type": "object"},
             "shards": {"type": "array", "items": {"type": "object",
                                                   "properties": {"shard": _SHARD}}}}},
         "created": _STR},
    ),
}


@cache
def _validator():
    import jsonschema  # ~90 ms: only the commands that read a file pay for it

    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(SCHEMA)


def problem(data: Any) -> str | None:
    """The most relevant way `data` fails the schema, as `place: what` on one line; or None."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is None:
        return None
    place = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    what = " ".join(error.message.split())
    if len(what) > 200:
        what = what[:200] + " …"
    return f"{place.lstrip('.') or 'the top level'}: {what}"
