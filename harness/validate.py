"""`parity validate`: every check a spec can get without the engine, one error per broken spec.

It combines stages, as the CLI does: loading gives YAML, schema and allow-list errors
(harness.spec); on top of that every name the program takes from PyTorch must exist
(harness.spec.api_names), and the pinned examples plus one drawn example must run on PyTorch as
the spec declares, within the time limit (harness.run.dryrun). Problems are `SpecError`s, so
they print as `file:line:col: field: what is wrong`, like the loader's.
An `expectations.yaml` found in a validated directory must load, and name specs that exist.
`specs/opinfo.yaml` (the OpInfo corpus, harness.opinfo) must load; its items are what
expectations may name under it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.opinfo import config as opinfo_config
from harness.run import backends, dryrun, engines
from harness.run.timeout import DEFAULT_LIMIT_S
from harness.spec import Spec, SpecError, api_names, expectations, load_file

#: YAML files under specs/ that are not spec files.
NOT_SPECS = (expectations.FILENAME, opinfo_config.FILENAME)


@dataclass
class Outcome:
    files: int = 0
    valid: int = 0
    problems: list[SpecError] = field(default_factory=list)
    #: names a valid spec's program uses that the engine under test does not offer
    warnings: list[SpecError | str] = field(default_factory=list)


def spec_files(paths: Iterable[str | Path]) -> list[Path]:
    """Spec files under `paths` (files as given, directories searched), each once."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*.y*ml") if f.name not in NOT_SPECS)
        elif p.name not in NOT_SPECS:  # named on its own: checked as what it is
            files.append(p)
    return _unique(files)


def opinfo_files(paths: Iterable[str | Path]) -> list[Path]:
    """OpInfo corpus files under `paths` (specs/opinfo.yaml), each once."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(p.rglob(opinfo_config.FILENAME))
        elif p.name == opinfo_config.FILENAME and p.is_file():
            files.append(p)
    return _unique(files)


def _unique(files: list[Path]) -> list[Path]:
    seen, unique = set(), []
    for f in files:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            unique.append(f)
    return unique


def validate(paths: Iterable[str | Path], root: Path | None = None, run: bool = True,
             time_limit: float = DEFAULT_LIMIT_S, engine: str | None = None) -> Outcome:
    """`engine`: the engine under test (a module name or path, harness.run.engines; None: the
    default), whose missing names are warnings."""
    paths = list(paths)
    outcome = Outcome()
    backend, cannot = _engine(engine)
    if cannot:
        outcome.warnings.append(cannot)
    ids: dict[str, set[str]] = {}  # file -> the item ids of its good specs
    loaded = [load_file(path, root=root).entries for path in spec_files(paths)]
    # checked together: the dry runs share one child process and its warm caches
    good = [e for entries in loaded for e in entries if not isinstance(e, SpecError)]
    found = dict(zip(map(id, good), check_specs(good, run, time_limit), strict=True))
    for entries in loaded:
        outcome.files += 1
        for entry in entries:
            problem = entry if isinstance(entry, SpecError) else found[id(entry)]
            if problem:
                outcome.problems.append(problem)
            else:
                outcome.valid += 1
                ids.setdefault(entry.path, set()).update(item_ids(entry))
                outcome.warnings += engine_warnings(entry, backend) if backend else []
    for path in opinfo_files(paths):
        outcome.files += 1
        problem, names = check_opinfo(path, root)
        if problem:
            outcome.problems.append(problem)
        else:
            ids[names[0]] = names[1]
    for p in map(Path, paths):
        if (p / expectations.FILENAME).exists():
            outcome.problems += check_expectations(p / expectations.FILENAME, ids)
        elif p.name == expectations.FILENAME and p.is_file():
            # named on its own: the specs it may name are those of its directory
            outcome.problems += check_expectations(p, _loadable_ids(p.parent, root))
    return outcome


def _loadable_ids(directory: Path, root: Path | None) -> dict[str, set[str]]:
    """Item ids of the specs under `directory` that load (no dry run)."""
    ids: dict[str, set[str]] = {}
    for path in spec_files([directory]):
        for entry in load_file(path, root=root).entries:
            if not isinstance(entry, SpecError):
                ids.setdefault(entry.path, set()).update(item_ids(entry))
    for path in opinfo_files([directory]):
        problem, (shown, names) = check_opinfo(path, root)
        if problem is None:
            ids[shown] = names
    return ids


def item_ids(spec: Spec) -> set[str]:
    """The pytest ids of a spec's items (`file::name[variant]`), as expectations name them."""
    out = set()
    for variant in spec.variants():
        suffix = spec.variant_id(variant)
        out.add(f"{spec.path}::{spec.name}" + (f"[{suffix}]" if suffix else ""))
    return out


def check_specs(specs: list[Spec], run: bool = True,
                time_limit: float = DEFAULT_LIMIT_S) -> list[SpecError | None]:
    """The first problem of each loaded spec: an unknown PyTorch name, then the dry run. The dry
    runs share one child process (harness.run.dryrun), and whatever goes wrong becomes that
    spec's problem, never an exception."""
    out: list[SpecError | None] = []
    for spec in specs:
        try:
            out.append(_name_problem(spec))
        except Exception as exc:  # a harness bug: still one line about this spec
            out.append(_error(spec, 1, 1, f"the harness failed checking names "
                                          f"({type(exc).__name__}: {exc})"))
    to_run = [i for i, problem in enumerate(out) if problem is None] if run else []
    try:
        found = dryrun.dry_runs([specs[i] for i in to_run], time_limit)
    except Exception as exc:
        found = [(None, f"the harness failed ({type(exc).__name__}: {exc})")] * len(to_run)
    for i, problem in zip(to_run, found, strict=True):
        if problem is not None:
            line, message = problem
            out[i] = _error(specs[i], line or 1, 1, f"dry run on PyTorch: {message}")
    return out


def engine_warnings(spec: Spec, backend: backends.Backend) -> list[SpecError]:
    """A warning for each PyTorch name the program uses that the engine under test lacks:
    every item of the spec would fail on it with an AttributeError."""
    return [_error(spec, line, col, f"warning: the engine under test ({backend.name}) has no "
                                    f"{missing}: every item of this spec will fail on it")
            for missing, line, col in engines.missing_names(spec.program.tree, backend.module,
                                                            backend.functional)]


def _engine(engine: str | None) -> tuple[backends.Backend | None, str | None]:
    """(the engine under test, or None and why it cannot be asked)."""
    try:
        return backends.load(engines.resolve(engine, Path.cwd())[0]), None
    except Exception as exc:
        return None, (f"warning: cannot ask the engine {engine or engines.DEFAULT} which names "
                      f"it offers ({type(exc).__name__}: {exc})")


def _name_problem(spec: Spec) -> SpecError | None:
    tree = spec.program.tree
    declared = {r.line for r in spec.model.raises}
    found = api_names.check(tree, set(spec.model.inputs), declared)
    if found:
        line, col, message = found
        return _error(spec, line, col, message)
    return None


def _error(spec: Spec, line: int, col: int, message: str) -> SpecError:
    return SpecError(spec.path, *spec.file_position(line, col), f"specs[{spec.index}].program",
                     message, spec.name)


def check_opinfo(path: Path, root: Path | None) -> tuple[SpecError | None,
                                                        tuple[str, set[str]]]:
    """(the file's problem or None, (its display path, the ids of the items it may collect))."""
    shown = str(path)
    try:
        shown = str(path.resolve().relative_to((root or Path.cwd()).resolve()))
    except ValueError:
        pass
    try:
        settings = opinfo_config.load(path)
    except opinfo_config.ConfigError as exc:
        m = re.match(r".*?:(\d+):(\d+): (.*)", str(exc), re.S)
        problem = SpecError(shown, int(m[1]), int(m[2]), "", m[3]) if m else \
            SpecError(shown, 1, 1, "", str(exc))
        return problem, (shown, set())
    except (OSError, UnicodeDecodeError) as exc:
        return SpecError(shown, 1, 1, "", f"cannot read: {exc}"), (shown, set())
    from harness.opinfo import corpus

    names = corpus.item_names(settings.wants, settings.dtypes, settings.errors)
    return None, (shown, {f"{shown}::{name}" for name in names})


def check_expectations(path: Path, ids: dict[str, set[str]]) -> list[SpecError]:
    """The file loads, and every id whose spec file was validated names one of its items."""
    try:
        entries = expectations.load(path)
    except expectations.ExpectationsError as exc:
        m = re.match(r"(.*?):(\d+):(\d+): (.*)", str(exc), re.S)
        if not m:
            return [SpecError(str(path), 1, 1, "", str(exc))]
        return [SpecError(m[1], int(m[2]), int(m[3]), "", m[4])]
    except Exception as exc:  # aliases expanding too far (harness.spec.plain), and the like
        return [SpecError(str(path), 1, 1, "", f"cannot load expectations: "
                                             f"{type(exc).__name__}: {exc}")]
    problems = []
    for entry in entries.values():
        file = entry.id.split("::")[0]
        if file in ids and entry.id not in ids[file]:
            problems.append(SpecError(str(path), entry.line, 1, "id",
                                      f"no spec item has the id {entry.id!r}"))
    return problems
