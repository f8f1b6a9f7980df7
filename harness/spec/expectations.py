"""Known divergences: `specs/expectations.yaml`, spec ids the engine is expected to fail.

A side table: each entry names an item and gives a reason (and maybe a link).

An expected failure runs without Hypothesis's shrink phase (it is known; minimising it only costs
time) and is reported XFAIL; one that passes is XPASS, which fails the run when the entry is strict
(the default), so fixed divergences get their entry removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError
from ruamel.yaml.error import MarkedYAMLError

from harness.spec.loader import AliasError, plain, yaml_parser

FILENAME = "expectations.yaml"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    reason: str
    link: str = ""
    strict: StrictBool = True


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expectations: list[_Entry] = []


@dataclass(frozen=True)
class Expectation:
    id: str
    reason: str
    link: str
    strict: bool
    line: int

    def as_dict(self) -> dict:
        return {"reason": self.reason, "link": self.link, "strict": self.strict}


class ExpectationsError(Exception):
    """The expectations file is broken: `file:line:col: what`."""


def load(path: Path) -> dict[str, Expectation]:
    """Entries by spec id; an absent file means no expectations."""
    if not path.exists():
        return {}
    try:
        doc = yaml_parser().load(path.read_text(encoding="utf-8")) or {}
        entries = _File.model_validate(plain(doc)).expectations
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}"
        raise ExpectationsError(f"{where}: {exc.problem}") from None
    except AliasError as exc:  # an alias bomb: refused at the alias, never expanded
        loc = ".".join(str(p) for p in exc.loc)
        raise ExpectationsError(f"{path}:{_line_of(doc, exc.loc)}:1: {loc}: {exc.message}") \
            from None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        line = _line_of(doc, err["loc"])
        raise ExpectationsError(f"{path}:{line}:1: {loc}: {err['msg']}") from None
    out: dict[str, Expectation] = {}
    for index, entry in enumerate(entries):
        line = doc["expectations"].lc.item(index)[0] + 1
        if entry.id in out:
            raise ExpectationsError(f"{path}:{line}:1: duplicate id {entry.id!r}")
        out[entry.id] = Expectation(entry.id, entry.reason, entry.link, entry.strict, line)
    return out


def _line_of(doc, loc) -> int:
    line = 1
    for part in loc:
        try:
            if isinstance(doc, list):
                line = doc.lc.item(part)[0] + 1
            elif isinstance(doc, dict):
                line = doc.lc.key(part)[0] + 1
            doc = doc[part]
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line
