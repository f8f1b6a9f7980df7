"""results.json: a run's records with its metadata and counts; shards merged; a record as text.

The records themselves are built where the items ran (harness.run.records); this module only
combines, counts, writes and reads them (docs/results.md), so it needs nothing but the records.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from harness.contract import OUTCOMES, SCHEMA_VERSION, first_line, observed
from harness.report import schema

_STARTED = time.time()


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
                       "seed": d["metadata"].get("seed"),
                       "created": d.get("created"), "git_commit": d["metadata"].get("git_commit")}
                      for path, d in files]
    seeds = list(dict.fromkeys(str(s["seed"]) for s in meta["shards"]))
    if len(seeds) > 1:  # each record's reproduce command carries its own shard's seed
        meta["seed"] = ", ".join(f"{s['seed']} (shard {s['shard'] or s['file']})"
                                 for s in meta["shards"])
    meta["missing_shards"] = missing_shards(meta["shards"])
    return build(list(records.values()), meta)


def missing_shards(shards: list[dict]) -> list[str]:
    """The shards I/N of the split that no file holds ([] when all are there, or when the files
    are not shards); files of different splits (1/2 and 1/3) are refused."""
    split = {}
    for shard in shards:
        if isinstance(shard.get("shard"), str) and "/" in shard["shard"]:
            index, count = shard["shard"].split("/", 1)
            split.setdefault(count, set()).add(index)
    if len(split) > 1:
        raise MergeError("the files are shards of different splits: "
                         + ", ".join(f"?/{n}" for n in sorted(split)))
    if not split:
        return []
    [(count, present)] = split.items()
    return [f"{i}/{count}" for i in range(1, int(count) + 1) if str(i) not in present]


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


#: A results.json of the whole suite is a few MB; refuse what is clearly not one.
MAX_RESULTS_BYTES = 500_000_000


def load_results(path) -> dict:
    """Read a results.json: ValueError with one line (`path: what`) for anything that is not a
    version-1 file (unreadable, not JSON, nested too deeply for json, not of the schema,
    `harness.report.schema`), so every command that reads one fails on one line."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_RESULTS_BYTES:
            raise ValueError(f"{path}: {size / 1e6:.0f} MB is too big for a results file")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a results file: not UTF-8 ({exc.reason})") from None
    try:
        results = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a results file, invalid JSON: {exc}") from None
    except RecursionError:
        raise ValueError(f"{path}: not a results file: JSON nested too deeply") from None
    check_schema(results, source=str(path))
    return results


def check_schema(results: Any, source: str = "results") -> None:
    """Raise ValueError unless results is a version-1 results dict: the version first (a file of
    another version gets that said, not its first difference), then the whole schema, then
    the counts."""
    version = results.get("schema_version") if isinstance(results, dict) else None
    # `type(...) is int` because True == 1 in Python and must not pass as version 1.
    if type(version) is not int or version != SCHEMA_VERSION:
        raise ValueError(
            f"{source}: unsupported results schema_version {version!r}; "
            f"this version of Parity reads schema_version {SCHEMA_VERSION}"
        )
    found = schema.problem(results)
    if found:
        raise ValueError(f"{source}: not a results file: {found}")
    total = results.get("summary", {}).get("total", len(results["results"]))
    if total != len(results["results"]):
        raise ValueError(f"{source}: not a results file: summary.total is {total} but there "
                         f"are {len(results['results'])} results")


def check_writable(out_dir: Path) -> None:
    """Raise ValueError (one line) unless `out_dir` can be created and written: before a run,
    so that its results are never lost to a report path that cannot be written."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".parity-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"cannot write the report to {out_dir}: "
                         f"{exc.strerror or exc}") from None
