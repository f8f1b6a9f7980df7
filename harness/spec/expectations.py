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
from ruamel.yaml.reader import ReaderError

from harness.spec.loader import MAX_NESTING, AliasError, _flow_depth, plain, yaml_parser

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


#: An expectations file lists a few hundred ids at most; refuse what is clearly not one.
MAX_FILE_BYTES = 10_000_000


def _text(path: Path) -> str:
    """The file's text, or ExpectationsError saying in one line why it cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ExpectationsError(f"{path}:1:1: file is {size / 1e6:.1f} MB; an expectations "
                                    f"file is limited to {MAX_FILE_BYTES // 1_000_000} MB")
        data = path.read_bytes()
    except OSError as exc:
        raise ExpectationsError(f"{path}:1:1: cannot read file: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ExpectationsError(f"{path}:{line}:1: file is not UTF-8 ({exc.reason})") from None
    if _flow_depth(text) > MAX_NESTING:
        raise ExpectationsError(f"{path}:1:1: YAML: brackets nested more than {MAX_NESTING} "
                                "deep")
    return text


def load(path: Path) -> dict[str, Expectation]:
    """Entries by spec id; an absent file means no expectations. Any problem with the file is
    an ExpectationsError of one line (`file:line:col: what`), never another exception."""
    if not path.exists():
        return {}
    text = _text(path)
    doc = None
    try:
        doc = yaml_parser().load(text) or {}
        entries = _File.model_validate(plain(doc)).expectations
    except RecursionError:
        raise ExpectationsError(f"{path}:1:1: YAML: nested too deeply") from None
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
        if not err["loc"]:
            raise ExpectationsError(f"{path}:1:1: an expectations file is a mapping with an "
                                    "'expectations:' list") from None
        loc = ".".join(str(p) for p in err["loc"])
        line = _line_of(doc, err["loc"])
        raise ExpectationsError(f"{path}:{line}:1: {loc}: {err['msg']}") from None
    except (TypeError, ValueError, ReaderError) as exc:  # complex keys, control characters
        raise ExpectationsError(f"{path}:1:1: YAML: cannot load this file "
                                f"({' '.join(str(exc).split())})") from None
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
