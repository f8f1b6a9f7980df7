"""Results as plain JSON data: one record per spec item, and the whole run (docs/results.md).

Records are built on the worker that ran the item and must hold only plain Python types, because
they travel to the pytest-xdist controller inside `report.user_properties`.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import platform
import re
import shlex
import time
from importlib import metadata as importlib_metadata
from pathlib import Path, PurePosixPath

import numpy as np

from harness.compare import first_line, observed
from harness.runner import SpecResult
from harness.spec import Spec, SpecError

SCHEMA_VERSION = 1
OUTCOMES = ("failed", "error", "xpassed", "xfailed", "passed")
_STARTED = time.time()


def area_of(path: str) -> str:
    """The spec's folder below `specs/`: "tutorial", "ops/elementwise"; "." for specs/ itself."""
    parts = PurePosixPath(path).parts[:-1]
    if "specs" in parts:
        parts = parts[len(parts) - parts[::-1].index("specs"):]
    return "/".join(parts) or "."


def reproduce(node_id: str, session_seed, options: list[str] | tuple[str, ...] = ()) -> str:
    """The shell command that replays one item: its node id, the session seed, and the options
    of the run that change what it runs (see plugin.reproduce_options)."""
    return shlex.join(["pytest", node_id, f"--hypothesis-seed={session_seed}", *options])


def record_for_spec(node_id: str, name: str, spec: Spec, result: SpecResult,
                    session_seed, variant: str | None = None,
                    reproduce_options: list[str] | tuple[str, ...] = ()) -> dict:
    failure = None
    if result.outcome not in ("passed", "xpassed"):
        failure = {
            "kind": result.kind,
            "message": result.message,
            "statement_line": result.statement_line,
            "discrepancies": [
                {"statement_line": d.statement_line, "statement": d.statement,
                 "variable": d.variable, "field": d.field, "torch": d.torch,
                 "engine": d.engine, "detail": d.detail, "measure": d.measure}
                for d in result.discrepancies
            ],
            "inputs": _inputs(result.inputs),
            "seed": str(session_seed),
            "reproduce": reproduce(node_id, session_seed, reproduce_options),
            "snippet": snippet(spec, result.inputs),
            "traceback": result.traceback,
        }
    return {
        "id": node_id, "name": name, "file": spec.path, "line": spec.line,
        "description": spec.model.description, "outcome": result.outcome,
        "duration_s": round(result.duration_s, 4), "examples": result.examples,
        "program": spec.program.text, "program_line": spec.program_line, "failure": failure,
        "variant": variant or None, "area": area_of(spec.path), "checks": result.checks,
        "margins": [m.as_dict() for m in result.margins],
        "coverage": {"functions": sorted(spec.program.functions),
                     "methods": sorted(spec.program.methods), "grad_fns": result.grad_fns},
        "expectation": result.expectation.as_dict() if result.expectation else None,
    }


def record_for_broken(node_id: str, name: str, error: SpecError) -> dict:
    return {
        "id": node_id, "name": name, "file": error.path, "line": error.line,
        "description": "", "outcome": "error", "duration_s": 0.0, "examples": 0,
        "program": "", "program_line": None,
        "failure": {"kind": "broken_spec", "message": str(error), "statement_line": None,
                    "discrepancies": [], "inputs": None, "seed": None, "reproduce": None,
                    "snippet": None, "traceback": None},
        "variant": None, "area": area_of(error.path), "checks": {}, "margins": [],
        "coverage": {"functions": [], "methods": [], "grad_fns": []}, "expectation": None,
    }


def record_for_crash(node_id: str, message: str) -> dict:
    """An item whose worker died: only pytest's report of it is left."""
    path = node_id.split("::", 1)[0]
    name = node_id.split("::", 1)[-1]
    error = SpecError(path, 1, 1, "", message, spec_name=name)
    record = record_for_broken(node_id, name, error)
    record["failure"].update(kind="harness_error", message=message)
    return record


_NON_FINITE = re.compile(r"\b(nan|inf)\b")


def snippet(spec: Spec, inputs: dict[str, np.ndarray] | None) -> str | None:
    """The falsifying example as a standalone program that runs on either backend."""
    if inputs is None:
        return None
    lines = ["import math", "", "import numpy as np", "",
             "import torch  # or: import engine as torch",
             "import torch.nn.functional as F  # or: import engine.nn.functional as F", ""]
    for name, array in inputs.items():
        if not isinstance(array, np.ndarray):
            lines.append(f"{name} = {array!r}")
            continue
        values = _NON_FINITE.sub(r"math.\1", repr(array.tolist()))
        grad = ", requires_grad=True" if spec.model.inputs[name].requires_grad else ""
        shaped = f".reshape({array.shape})" if array.size == 0 and array.ndim > 1 else ""
        lines.append(f"{name} = torch.tensor(np.array({values}, "
                     f"dtype=np.{array.dtype}){shaped}{grad})")
    return "\n".join(lines) + "\n" + _catching_declared_raises(spec)


def _catching_declared_raises(spec: Spec) -> str:
    """The program with each statement the spec declares under `raises:` in a try/except that
    prints the exception, so the snippet runs on past it to the end, as the harness does."""
    text = spec.program.text
    declared = {r.line: r.type for r in spec.model.raises}
    if not declared:
        return text
    # `except ... as name` unbinds name after the handler: take one the program never uses
    name = next(n for n in ("e", "error", *(f"error{i}" for i in range(1, 1000)))
                if not re.search(rf"\b{n}\b", text))
    lines = text.splitlines()
    ends: dict[int, int] = {}  # first line -> last line of the statements starting there
    for statement in spec.program.statements:
        ends[statement.line] = max(ends.get(statement.line, 0), statement.end_line)
    for start in sorted(ends, reverse=True):
        kind = declared.get(start)
        if kind is None:
            continue
        first, last = start - 1, ends[start]
        builtin = getattr(builtins, kind, None)
        if isinstance(builtin, type) and issubclass(builtin, BaseException):
            handler = f"except {kind} as {name}:  # the spec declares this {kind}"
        else:  # a PyTorch-specific class the snippet's namespace does not name
            handler = f"except Exception as {name}:  # the spec declares {kind}"
        lines[first:last] = ["try:", *("    " + line if line.strip() else line
                                       for line in lines[first:last]),
                             handler, f"    print(type({name}).__name__, {name})"]
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def _inputs(inputs: dict[str, np.ndarray] | None) -> dict | None:
    if inputs is None:
        return None
    arrays = {name: np.asarray(a) for name, a in inputs.items()}  # dims are Python ints
    return {name: {"dtype": str(a.dtype), "shape": list(a.shape), "values": a.tolist()}
            for name, a in arrays.items()}


def summarise(records: list[dict]) -> dict[str, int]:
    counts = {outcome: 0 for outcome in reversed(OUTCOMES)}
    for r in records:
        counts[r["outcome"]] += 1
    counts["total"] = len(records)
    return counts


def build(records: list[dict], meta: dict) -> dict:
    order = {o: i for i, o in enumerate(OUTCOMES)}
    records = sorted(records, key=lambda r: (order[r["outcome"]], r["id"]))
    meta = dict(meta, examples=sum(r["examples"] for r in records))
    return {
        "schema_version": SCHEMA_VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "metadata": meta,
        "summary": summarise(records),
        "results": records,
    }


class MergeError(Exception):
    """Results files that cannot be combined."""


def merge(files: list[tuple[Path, dict]]) -> dict:
    """One results dict from several shards: every record once, metadata of the first file.

    A spec id that appears in two files with different outcomes means the files are not shards
    of one run (or the suite is flaky): that is an error, not something to paper over.
    """
    records: dict[str, dict] = {}
    for path, data in files:
        for record in data["results"]:
            seen = records.get(record["id"])
            if seen is not None and seen["outcome"] != record["outcome"]:
                raise MergeError(f"{record['id']} is {seen['outcome']} in one file and "
                                 f"{record['outcome']} in {path}")
            records[record["id"]] = record
    first = files[0][1]["metadata"]
    meta = dict(first, duration_s=round(sum(d["metadata"].get("duration_s", 0)
                                            for _, d in files), 2))
    meta["shards"] = [{"file": str(path), "shard": d["metadata"].get("shard"),
                       "created": d.get("created"), "git_commit": d["metadata"].get("git_commit")}
                      for path, d in files]
    return build(list(records.values()), meta)


def write_json(data: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path


def metadata(profile: str, seed, git_commit: str | None, engine: str = "engine",
             engine_api: dict | None = None, shard: tuple[int, int] | None = None) -> dict:
    return {"engine_api": engine_api or {}, "shard": "/".join(map(str, shard)) if shard else None,
        "engine": engine, "python": platform.python_version(), "platform": platform.platform(),
        "torch": _version("torch"), "numpy": _version("numpy"),
        "hypothesis": _version("hypothesis"), "parity": _version("parity"),
        "git_commit": git_commit, "hypothesis_profile": profile, "seed": str(seed),
        "duration_s": round(time.time() - _STARTED, 2),
    }


def _version(dist: str) -> str | None:
    try:
        return importlib_metadata.version(dist)
    except importlib_metadata.PackageNotFoundError:
        return None


def failure_text(record: dict) -> str:
    """What the terminal shows for a failing item: the discrepancies, inputs and a repro."""
    f = record["failure"]
    line = record["line"]
    if f["statement_line"] and record["program_line"]:
        line = record["program_line"] + f["statement_line"] - 1
    lines = [f"{record['file']}:{line}: {record['outcome'].upper()} ({f['kind']}): {f['message']}"]
    for d in f["discrepancies"]:
        where = observed(d["variable"], d["field"])
        lines.append(f"  line {d['statement_line']} `{first_line(d['statement'])}`: {where}")
        lines.append("    torch : " + d["torch"].replace("\n", "\n            "))
        lines.append("    engine: " + d["engine"].replace("\n", "\n            "))
        if d["detail"]:
            lines.append(f"    {d['detail']}")
    if f["inputs"]:
        lines.append("Falsifying inputs:")
        for name, value in f["inputs"].items():
            lines.append(f"  {name} = np.array({value['values']!r}, dtype={value['dtype']!r})")
    if f["traceback"]:
        lines.append(f["traceback"])
    if f["reproduce"]:
        lines.append(f"Reproduce: {f['reproduce']}")
    if f.get("snippet"):
        lines.append("Standalone snippet (PyTorch; swap the import for the engine):")
        lines.append(f["snippet"])
    return "\n".join(lines)
