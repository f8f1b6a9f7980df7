"""pytest plugin: YAML specs become test items; the controller writes one report at the end.

Every `*.yaml` under a directory named `specs` is collected (except `expectations.yaml`). Each spec,
and each dtype variant of it, is one item running its Hypothesis property. A spec that cannot load
becomes an item that errors at setup, naming file:line:col, so it fails alone. Results travel to the
controller in `report.user_properties` (plain JSON types only), which works under pytest-xdist.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import random
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from harness.contract import ERROR, PASSED, XFAILED, XPASSED
from harness.report import results as results_mod
from harness.report import suspects
from harness.run import engines, records
from harness.run.backends import Backend
from harness.run.backends import load as load_backend
from harness.run.isolation import DEFAULT_MEMORY_LIMIT_GB
from harness.run.processes import ItemProcesses
from harness.run.runner import SpecResult, check
from harness.run.shrink import DEFAULT_SHRINK_LIMIT_S
from harness.run.timeout import DEFAULT_LIMIT_S, HARD_EXIT_GRACE_S
from harness.spec import Spec, SpecError, expectations, load_file

PROPERTY = "parity"

# Hypothesis profiles: `ci` (built in: derandomized, no deadline, no database, prints the blob;
# loaded automatically when the CI environment variable is set, and by tox) and `dev`, which
# explores more examples and keeps a database. Registered at import, before profiles load, on
# Hypothesis's `default` profile: under CI (Hypothesis reads tox's copy of CI too) the default
# settings at import are `ci`'s, whose `database=None` would otherwise be inherited.
hypothesis_settings.register_profile(
    "dev", parent=hypothesis_settings.get_profile("default"), max_examples=300, deadline=None)
NOT_SPECS = {"expectations.yaml", "opinfo.yaml"}  # opinfo.yaml: the OpInfo corpus (harness.opinfo)


def pytest_addoption(parser):
    group = parser.getgroup("parity", "Parity conformance specs")
    group.addoption("--parity-report", default=None, metavar="DIR",
                    help="directory for index.html and results.json (default: reports, and "
                         "reports/partial for a run of part of the suite); '' to write nothing")
    group.addoption("--parity-engine", default=None, metavar="MODULE|PATH",
                    help="the module under test, bound to `torch` in the second run "
                         "(default: engine; any module that mirrors torch's API): a module "
                         "name, or the path of a package folder or a .py file")
    group.addoption("--parity-time-limit", type=float, default=DEFAULT_LIMIT_S, metavar="S",
                    help="seconds one example may run on one backend (default: %(default)s)")
    group.addoption("--parity-expectations", default=None, metavar="FILE",
                    help="known divergences (default: specs/expectations.yaml under rootdir)")
    group.addoption("--shard", default=None, metavar="I/N", type=_shard,
                    help="run only shard I of N (1-based): a deterministic share of the spec "
                         "items; merge the shards' results.json with `parity merge`")
    group.addoption("--parity-max-examples", type=int, default=None, metavar="N",
                    help="examples per spec (default: the Hypothesis profile's max_examples)")
    group.addoption("--parity-memory-limit", type=float, default=DEFAULT_MEMORY_LIMIT_GB,
                    metavar="GB", help="memory one spec item may allocate beyond what its "
                    "process holds (default: %(default)s; 0: no limit); more is an ERROR of "
                    "that item")
    group.addoption("--parity-in-process", action="store_true",
                    help="run spec items in the pytest process itself, not in a child it "
                         "supervises (for debuggers: a crash or a C call stuck past the time "
                         "limit then ends the run; no memory limit)")
    group.addoption("--parity-target", action="store_true",
                    help="steer each item's examples towards larger error / tolerance ratios "
                         "(Hypothesis's target phase; off by default: it found no failure "
                         "plain generation missed, docs/running.md)")
    group.addoption("--parity-shrink-limit", type=float, default=None, metavar="S",
                    help="seconds a failing item may spend minimising its example (default: "
                         f"{DEFAULT_SHRINK_LIMIT_S:g}; 0: report the first failing example)")


def pytest_configure(config):
    # `parity run` with no path runs specs/: the controller passes the paths it chose to its
    # xdist workers, which would otherwise fall back to `testpaths` (harness.cli)
    args = getattr(config, "workerinput", {}).get("parity_args")
    if args:
        config.args = list(args)
    config.pluginmanager.register(ParityPlugin(config), "parity-session")
    config.pluginmanager.register(ItemProcesses(config), "parity-isolation")


def is_collected(file_path: Path) -> bool:
    """A spec file that a run collects: `*.yaml` (`*.yml`) under a directory named `specs`."""
    return file_path.suffix in {".yaml", ".yml"} and "specs" in file_path.parts[:-1] \
        and file_path.name not in NOT_SPECS


def pytest_collect_file(file_path: Path, parent):
    if is_collected(file_path):
        return SpecFile.from_parent(parent, path=file_path)
    return None


def spec_items(path: Path, root: Path):
    """(item name, spec or SpecError, variant) for each item of a spec file, in file order.

    Results are kept by node id: every item's name must be unique in its file. The loader
    already names a second spec with a taken name `name@line`; `taken` catches the rest (a
    broken spec named like another's dtype variant, two specs on one line)."""
    taken: set[str] = set()

    def unique(name: str, line: int) -> str:
        candidates = itertools.chain([name, f"{name}@{line}"],
                                     (f"{name}@{line}.{n}" for n in itertools.count(2)))
        name = next(c for c in candidates if c not in taken)
        taken.add(name)
        return name

    for index, entry in enumerate(load_file(path, root=root).entries):
        if isinstance(entry, SpecError):
            yield unique(entry.spec_name or f"specs[{index}]", entry.line), entry, None
            continue
        for variant in entry.variants():
            suffix = entry.variant_id(variant)
            name = f"{entry.name}[{suffix}]" if suffix else entry.name
            yield unique(name, entry.line), entry, variant


class SpecFile(pytest.File):
    def collect(self):
        for name, entry, variant in spec_items(self.path, self.config.rootpath):
            if isinstance(entry, SpecError):
                yield BrokenSpecItem.from_parent(self, name=name, error=entry)
            else:
                yield SpecItem.from_parent(self, name=name, spec=entry, variant=variant)


class SpecFailure(Exception):
    """Raised by an item whose result is not a pass; carries the result for the report."""

    def __init__(self, result: SpecResult):
        self.result = result
        super().__init__(result.message)


class SpecItem(pytest.Item):
    def __init__(self, *, spec: Spec, variant: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self.spec, self.variant = spec, variant

    def check_spec(self) -> SpecResult:
        """The item's property (harness.run.runner.check), run in the child process the
        pytest process supervises (harness.run.processes)."""
        plugin: ParityPlugin = self.config.pluginmanager.get_plugin("parity-session")
        return check(self.spec, self.variant, self.nodeid, plugin.session_seed,
                     self.config.getoption("parity_max_examples"), plugin.backends(),
                     plugin.expectations.get(self.nodeid),
                     self.config.getoption("parity_time_limit"), shrink_limit(self.config),
                     self.config.getoption("parity_target"))

    def runtest(self):
        plugin: ParityPlugin = self.config.pluginmanager.get_plugin("parity-session")
        expectation = plugin.expectations.get(self.nodeid)
        seed = plugin.session_seed  # fixed here, before a child is forked: both use it
        result = self.config.pluginmanager.get_plugin("parity-isolation").run(self)
        variant = self.spec.variant_id(self.variant)
        record = records.record_for_spec(self.nodeid, self.name, self.spec, result, seed, variant,
                                         reproduce_options(self.config),
                                         engine=plugin.engine_import)
        self.user_properties.append((PROPERTY, record))
        if result.outcome == XFAILED:
            pytest.xfail(f"expected divergence: {expectation.reason}")
        if result.outcome == XPASSED and expectation.strict:
            raise SpecFailure(result)
        if result.outcome not in (PASSED, XPASSED):
            raise SpecFailure(result)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, SpecFailure):
            record = dict(self.user_properties)[PROPERTY]
            if record["outcome"] == XPASSED:
                return (f"XPASS(strict): {self.nodeid} is listed in expectations.yaml "
                        f"({record['expectation']['reason']}) but passed: remove the entry")
            return results_mod.failure_text(record)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.spec.line - 1, f"spec {self.name}"


class BrokenSpecItem(pytest.Item):
    """A spec that could not be loaded: an ERROR at setup that says where and what."""

    def __init__(self, *, error: SpecError, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def setup(self):
        record = records.record_for_broken(self.nodeid, self.name, self.error)
        self.user_properties.append((PROPERTY, record))
        pytest.fail(f"broken spec: {self.error}", pytrace=False)

    def runtest(self):  # pragma: no cover - setup always fails
        raise self.error

    def reportinfo(self):
        return self.path, self.error.line - 1, f"broken spec {self.name}"


class ParityPlugin:
    """Session state: the engine under test, the seed every item derives its own from, and (on
    the controller) the results and where the report goes."""

    def __init__(self, config):
        self.config = config
        self.records: dict[str, dict] = {}
        self.extra_metadata: dict = {}  # added by other sources of items (harness.opinfo)
        self.engine_option = config.getoption("parity_engine")
        self.engine_import = engine_module(self.engine_option,
                                           Path(config.invocation_params.dir))
        self.engine = self.engine_import[0]
        self.report_paths: tuple[Path, Path] | None = None
        self.report_error: str | None = None
        self.partial: str | None = None  # why this run covers only part of the suite
        option = config.getoption("parity_expectations")
        path = Path(option) if option else config.rootpath / "specs" / expectations.FILENAME
        try:
            self.expectations = expectations.load(path)
        except expectations.ExpectationsError as exc:
            raise pytest.UsageError(f"broken expectations file: {exc}") from None
        report = config.getoption("parity_report")
        if report is None and _runs_specs(config):
            report = DEFAULT_REPORT
        if report and not hasattr(config, "workerinput"):  # refused now, not after the run
            try:
                results_mod.check_writable(Path(config.invocation_params.dir) / report)
            except ValueError as exc:
                raise pytest.UsageError(f"--parity-report: {exc}") from None
        self.collected = 0  # spec items this run collected (after deselection)

    @functools.cached_property
    def session_seed(self):
        """Read when first needed (by an item, or as xdist starts its workers), so after every
        plugin's pytest_configure: Hypothesis loads `--hypothesis-profile` in its own, and a
        derandomized profile (`ci`) means seed 0."""
        workerinput = getattr(self.config, "workerinput", None)
        if workerinput is not None:
            return workerinput["parity_seed"]
        if self.config.getoption("hypothesis_seed", None) is not None:
            return self.config.getoption("hypothesis_seed")
        if hypothesis_settings.default.derandomize:
            return 0
        return random.randrange(2**32)

    def backends(self) -> tuple[Backend, Backend]:
        return load_backend("torch"), load_backend(self.engine)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session):
        """An engine that cannot be imported is a one-line usage error before anything runs
        (else every item would fail on it). The default engine is only checked when specs are
        among the paths: a project's unit tests need no engine."""
        if hasattr(self.config, "workerinput"):
            return
        if self.engine_option is None and not _runs_specs(self.config):
            return
        try:
            load_backend(self.engine)
        except Exception as exc:
            raise pytest.UsageError(_engine_error(self.engine_option or self.engine, self.engine,
                                                  exc)) from None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):
        """xdist: every worker uses the controller's seed, so one number reproduces the run."""
        node.workerinput["parity_seed"] = self.session_seed

    def pytest_collection_modifyitems(self, config, items):
        shard = config.getoption("shard")
        if shard:
            index, count = shard
            keep = [i for i in items if not _is_spec_id(i.nodeid)
                    or zlib.crc32(i.nodeid.encode()) % count == index - 1]
            deselected = [i for i in items if i not in keep]
            if deselected:
                config.hook.pytest_deselected(items=deselected)
                items[:] = keep

    def pytest_collection_finish(self, session):
        self.collected = sum(_is_spec_id(item.nodeid) for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        self.collected = max(self.collected, sum(map(_is_spec_id, ids)))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        """Mark a spec item's report with its Parity outcome, so pytest counts it as Parity
        does: an XPASS under a non-strict entry is pytest's xpassed, an ERROR (a broken spec,
        a harness error) found while running is an error, not a failure."""
        report = yield
        record = dict(item.user_properties).get(PROPERTY) if call.when == "call" else None
        if isinstance(record, dict):
            report.parity_outcome = record["outcome"]
            if record["outcome"] == XPASSED and report.passed:
                report.wasxfail = f"expected divergence: {record['expectation']['reason']}"
        return report

    def pytest_report_teststatus(self, report, config):
        if report.failed and getattr(report, "parity_outcome", None) == ERROR:
            return "error", "E", "ERROR"
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report):
        for key, value in report.user_properties:
            if key == PROPERTY:
                self.records[value["id"]] = value
        if not hasattr(self.config, "workerinput"):
            # Keep the record out of JUnit XML (`--junitxml` writes every user property); the
            # failure text already carries what a CI system shows.
            report.user_properties = [(k, v) for k, v in report.user_properties if k != PROPERTY]
        if (report.failed and report.nodeid not in self.records
                and _is_spec_id(report.nodeid) and "::" in report.nodeid):
            # The item's worker died (pytest-xdist reports a crash): keep an ERROR for it.
            message = str(report.longrepr).strip().splitlines()[-1] if report.longrepr else ""
            self.records[report.nodeid] = records.record_for_crash(
                report.nodeid, f"the run of this spec crashed: {message} (a worker ends when a "
                "program stays in one C call past --parity-time-limit + "
                f"{HARD_EXIT_GRACE_S:g} s, or runs out of memory)")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        target = self.config.getoption("parity_report")
        if hasattr(self.config, "workerinput") or not self.records or target == "":
            return
        from harness.report.html import write_report

        if target is None:  # the default: a partial run leaves the full run's report alone
            self.partial = _narrowed(self.config, len(self.records), self.collected)
            target = PARTIAL_REPORT if self.partial else DEFAULT_REPORT
        out_dir = Path(target)
        if not out_dir.is_absolute():
            out_dir = Path(self.config.invocation_params.dir) / out_dir
        data = results_mod.build(list(self.records.values()),
                                 {**_metadata(self), **self.extra_metadata})
        try:
            self.report_paths = write_report(data, out_dir)
        except Exception as exc:  # the results must survive a broken HTML renderer
            json_path = results_mod.write_json(data, out_dir)
            self.report_error = f"{json_path} written, but the HTML report failed: {exc!r}"

    def pytest_terminal_summary(self, terminalreporter):
        write = terminalreporter.write_line
        stale = self.stale_expectations()
        if stale:
            terminalreporter.write_sep("-", "parity: expectations that name no spec item")
            for entry in stale:
                write(f"expectations.yaml:{entry.line}: {entry.id}")
        if self.report_error:
            terminalreporter.write_sep("!", "parity: " + self.report_error, red=True)
        if not self.records or hasattr(self.config, "workerinput"):
            return
        terminalreporter.write_sep("-", "parity: " + _counts_text(list(self.records.values())))
        top = suspects.rank(list(self.records.values()))[:3]
        if top:
            write("likely culprits (what the failing items share; report: Suspects):")
            for n, s in enumerate(top, 1):
                write(f"  {n}. {s.describe()}")
        if self.report_paths:
            write(f"report: {self.report_paths[1]}")
            if self.partial:
                write(f"  part of the suite ran ({self.partial}): {DEFAULT_REPORT}/index.html is "
                      "left as it was; --parity-report DIR writes elsewhere")

    def stale_expectations(self) -> list[expectations.Expectation]:
        """Entries of expectations.yaml that name no item of the suite: their spec file is gone,
        or has no such item. An entry for an item this run did not collect is not stale."""
        root = self.config.rootpath
        items: dict[str, set[str]] = {}
        stale = []
        for spec_id, entry in self.expectations.items():
            if spec_id in self.records:
                continue
            file = spec_id.split("::", 1)[0]
            path = root / file
            if path.exists() and not is_collected(path):
                continue  # another source's items (specs/opinfo.yaml): its plugin knows them
            if file not in items:
                try:
                    items[file] = {f"{file}::{name}" for name, _, _ in spec_items(path, root)} \
                        if path.exists() else set()
                except (OSError, ValueError):
                    items[file] = set()
            if spec_id not in items[file]:
                stale.append(entry)
        return sorted(stale, key=lambda e: e.line)


DEFAULT_REPORT = "reports"
#: Where a run of part of the suite writes when --parity-report is not given.
PARTIAL_REPORT = "reports/partial"
#: Options that leave out part of the suite, as a user types them (pytest's `dest` -> flag).
_NARROWING = {"keyword": "-k", "markexpr": "-m", "shard": "--shard", "lf": "--lf",
              "deselect": "--deselect", "stepwise": "--sw"}


def _narrowed(config, ran: int, collected: int) -> str | None:
    """Why this run covers only part of the suite, or None for a whole run: an option that
    selects (-k, -m, --shard, --lf ...), paths that do not include the specs folder, or items
    that never ran (-x, --maxfail, an interrupt)."""
    given = [flag for dest, flag in _NARROWING.items() if config.getoption(dest, None)]
    if given:
        return " ".join(given)
    specs = config.rootpath / "specs"
    base = Path(config.invocation_params.dir)
    paths = [(base / arg).resolve() for arg in config.args if "::" not in arg]
    if len(paths) < len(config.args) or not any(p == specs or specs.is_relative_to(p)
                                                for p in paths):
        return "paths"
    if ran < collected:
        return f"{ran} of {collected} items"
    return None


def _runs_specs(config) -> bool:
    """Whether the paths of the run may hold specs (the default engine is checked only then)."""
    base = Path(config.invocation_params.dir)
    for arg in config.args:
        path = (base / arg.split("::", 1)[0]).resolve()
        if "specs" in path.parts or (path / "specs").is_dir():
            return True
    return False


def engine_module(option: str | None, base: Path) -> tuple[str, str | None]:
    """(module name, folder put on sys.path or None) for --parity-engine (harness.run.engines);
    in every process, xdist workers too."""
    try:
        return engines.resolve(option, base)
    except ValueError as exc:
        raise pytest.UsageError(f"--parity-engine {option}: {exc}") from None


def _engine_error(option: str, name: str, exc: Exception) -> str:
    where = "" if option == name else f" (from {option})"
    return (f"--parity-engine {option}: cannot import {name}{where}: {type(exc).__name__}: "
            f"{exc}. Give an importable module, or the path of the engine's package folder "
            "(--parity-engine path/to/pkg); see docs/running.md, 'An engine elsewhere'")


def _counts_text(rows: list[dict]) -> str:
    counts = results_mod.summarise(rows)
    strict = sum(1 for r in rows if r["outcome"] == XPASSED
                 and (r.get("expectation") or {}).get("strict", True))
    parts = [f"{n} {k}" for k, n in counts.items() if n and k != "total"]
    if strict:
        parts.append(f"({strict} xpassed under a strict entry: failed)")
    return ", ".join(parts)


def shrink_limit(config) -> float | None:
    """Seconds an item may shrink: the option, else the default (unbounded is not offered:
    Hypothesis's own limit is five minutes per item)."""
    option = config.getoption("parity_shrink_limit")
    return DEFAULT_SHRINK_LIMIT_S if option is None else option


def reproduce_options(config) -> list[str]:
    """This run's options that change what an item runs, where they differ from the defaults:
    a failure's reproduce command carries them. (--parity-report and --shard do not change
    an item; the command names the item, and a shard could deselect it.)"""
    options = []
    engine = config.getoption("parity_engine")
    if engine is not None and engine != "engine":
        options.append(f"--parity-engine={_from_root(config, engine)}"
                       if engine_module(engine, Path(config.invocation_params.dir))[1]
                       else f"--parity-engine={engine}")
    max_examples = config.getoption("parity_max_examples")
    if max_examples is not None:
        options.append(f"--parity-max-examples={max_examples}")
    time_limit = config.getoption("parity_time_limit")
    if time_limit != DEFAULT_LIMIT_S:
        options.append(f"--parity-time-limit={time_limit:g}")
    memory_limit = config.getoption("parity_memory_limit")
    if memory_limit != DEFAULT_MEMORY_LIMIT_GB:  # it decides whether a big program errs
        options.append(f"--parity-memory-limit={memory_limit:g}")
    if config.getoption("parity_target"):  # it decides which examples run
        options.append("--parity-target")
    expectations_file = config.getoption("parity_expectations")
    if expectations_file:  # it decides xfail and whether the shrink phase runs
        options.append(f"--parity-expectations={_from_root(config, expectations_file)}")
    profile = hypothesis_settings.get_current_profile_name()
    if profile != "default":  # `ci` also when loaded by the CI environment variable
        options.append(f"--hypothesis-profile={profile}")
    return options


def _from_root(config, path: str) -> str:
    """A path given on the command line, as the reproduce command (run from the rootdir)
    spells it: relative to the rootdir when below it, else absolute."""
    resolved = Path(config.invocation_params.dir, path).resolve()
    root = config.rootpath.resolve()
    return str(resolved.relative_to(root) if resolved.is_relative_to(root) else resolved)


def _shard(text: str) -> tuple[int, int]:
    """'2/4' -> (2, 4)."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N like 2/4, got {text!r}") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"shard {index}/{count}: I must be in 1..N")
    return index, count


def _is_spec_id(node_id: str) -> bool:
    path = Path(node_id.split("::", 1)[0])
    return path.suffix in {".yaml", ".yml"} and "specs" in path.parts[:-1]


def _metadata(plugin: ParityPlugin) -> dict:
    return results_mod.metadata(
        profile=hypothesis_settings.get_current_profile_name(),
        seed=plugin.session_seed,
        engine=plugin.engine,
        # the engine only: importing torch here would cost the controller a second or two
        engine_api=load_backend(plugin.engine).api(),
        shard=plugin.config.getoption("shard"),
        git_commit=_git_commit(plugin.config.rootpath),
    )


def _git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
