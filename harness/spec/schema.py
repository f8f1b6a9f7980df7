"""The JSON Schema of a spec file, generated from the pydantic model so the two cannot drift.

Editors use it (through the YAML language server) to underline mistakes while a spec is typed;
`docs/spec.schema.json` is this schema, committed, and a test keeps it up to date.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict

from harness.spec.model import SpecModel

SCHEMA_PATH = "docs/spec.schema.json"


class SpecFileModel(BaseModel):
    """A spec file: one key, `specs`, a non-empty list of specs."""

    model_config = ConfigDict(extra="forbid", title="Parity spec file")
    specs: list[SpecModel]


def schema() -> dict:
    out = SpecFileModel.model_json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["properties"]["specs"]["minItems"] = 1
    return out


def schema_text() -> str:
    return json.dumps(schema(), indent=2) + "\n"
