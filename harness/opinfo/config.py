"""`specs/opinfo.yaml`: how much of PyTorch's OpInfo corpus a run takes.

The file is what makes a run collect the corpus (a run of `specs/` finds it, `--ignore` leaves it
out), and its node id prefix names the items: `specs/opinfo.yaml::add[float32]`. It holds the
defaults a team agrees on for CI; the `--parity-opinfo-*` options override them for one run.
Read like spec files (YAML 1.2, duplicate keys and unknown fields refused, `file:line:col`).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError
from ruamel.yaml.error import MarkedYAMLError

from harness.opinfo.corpus import DTYPES
from harness.spec.loader import AliasError, plain, yaml_parser

FILENAME = "opinfo.yaml"

Dtype = Literal["float16", "float32", "float64", "int64", "int32", "uint8", "bool"]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # per item: the first N sample inputs; "all": every sample and reference input
    samples: Annotated[int, Field(ge=0)] | Literal["all"] = 20
    dtypes: list[Dtype] = list(DTYPES)
    ops: list[str] = ["*"]  # fnmatch patterns of entry keys (`add`, `nn.functional.*`)
    errors: StrictBool = True  # an item per entry for its error inputs


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opinfo: _Options = _Options()


class ConfigError(Exception):
    """The file is broken: `file:line:col: field: what`."""


@dataclass(frozen=True)
class Config:
    samples: int | None  # None: all (sample and reference inputs)
    dtypes: tuple[str, ...]
    ops: tuple[str, ...]
    errors: bool

    def wants(self, key: str) -> bool:
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self.ops)

    def override(self, samples: str | None = None, dtypes: str | None = None,
                 ops: str | None = None) -> Config:
        """The config with a run's `--parity-opinfo-*` options applied (comma lists)."""
        out = self
        if samples is not None:
            out = replace(out, samples=parse_samples(samples))
        if dtypes is not None:
            wanted = [d.strip() for d in dtypes.split(",") if d.strip()]
            unknown = sorted(set(wanted) - set(DTYPES) - {"errors"})
            if unknown:
                raise ConfigError(f"--parity-opinfo-dtypes: unknown dtype {unknown[0]!r} "
                                  f"(one of {', '.join(DTYPES)}, errors)")
            out = replace(out, dtypes=tuple(d for d in DTYPES if d in wanted),
                          errors="errors" in wanted)
        if ops is not None:
            out = replace(out, ops=tuple(p.strip() for p in ops.split(",") if p.strip()))
        return out


def parse_samples(text: str) -> int | None:
    if text == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(f"--parity-opinfo-samples: expected a count >= 0 or 'all', got {text!r}")
    return value


def load(path: Path) -> Config:
    try:
        doc = yaml_parser().load(path.read_text(encoding="utf-8")) or {}
        options = _File.model_validate(plain(doc)).opinfo
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ConfigError(f"{path}:{mark.line + 1}:{mark.column + 1}: {exc.problem}") from None
    except AliasError as exc:
        raise ConfigError(f"{path}:1:1: {exc.message}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{path}:{_line_of(doc, err['loc'])}:1: {loc}: {err['msg']}") \
            from None
    return Config(None if options.samples == "all" else options.samples,
                  tuple(d for d in DTYPES if d in options.dtypes), tuple(options.ops),
                  options.errors)


def _line_of(doc, loc) -> int:
    line = 1
    for part in loc:
        try:
            line = (doc.lc.item(part) if isinstance(doc, list) else doc.lc.key(part))[0] + 1
            doc = doc[part]
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line
