"""pytest plugin: YAML specs become test items; the controller writes one report at the end.

Every `*.yaml` under a directory named `specs` is collected (except `expectations.yaml`). Each spec,
and each dtype variant of it, is one item running its Hypothesis property. A spec that cannot load
becomes an item that errors at setup, naming file:line:col, so it fails alone. Results travel to the
controller in `report.user_properties` (plain JSON types only), which works under pytest-xdist.
"""

from __future__ import annotations

import argparse
import itertools
import random
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from harness.contract import PASSED, XFAILED, XPASSED
from harness.report import results as results_mod
from harness.run import records
from harness.run.backends import Backend
from harness.run.backends import load as load_backend
from harness.run.isolation import DEFAULT_MEMORY_LIMIT_GB
from harness.run.processes import ItemProcesses
from harness.run.runner import SpecResult, check
from harness.run.timeout import DEFAULT_LIMIT_S, HARD_EXIT_GRACE_S
from harness.spec import Spec, SpecError, expectations, load_file

PROPERTY = "parity"

# Hypothesis profiles: `ci` (built in: derandomized, no deadline, no database, prints the blob;
# loaded automatically when the CI environment variable is set, and by tox) and `dev`, which
# explores more examples and keeps a database. Registered at import, before profiles load.
hypothesis_settings.register_profile("dev", max_examples=300, deadline=None)
NOT_SPECS = {"expectations.yaml", "opinfo.yaml"}  # opinfo.yaml: the OpInfo corpus (harness.opinfo)


def pytest_addoption(parser):
    group = parser.getgroup("parity", "Parity conformance specs")
    group.addoption("--parity-report", default="reports", metavar="DIR",
                    help="directory for index.html and results.json (default: reports); "
                         "'' to write nothing")
    group.addoption("--parity-engine", default="engine", metavar="MODULE",
                    help="the module under test, bound to `torch` in the second run "
                         "(default: engine; any module that mirrors torch's API)")
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


def pytest_configure(config):
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


class SpecFile(pytest.File):
    def collect(self):
        # Results are kept by node id: every item's name must be unique in its file. The loader
        # already names a second spec with a taken name `name@line`; `taken` catches the rest
        # (a broken spec named like another's dtype variant, two specs on one line).
        taken: set[str] = set()

        def unique(name: str, line: int) -> str:
            candidates = itertools.chain([name, f"{name}@{line}"],
                                         (f"{name}@{line}.{n}" for n in itertools.count(2)))
            name = next(c for c in candidates if c not in taken)
            taken.add(name)
            return name

        for index, entry in enumerate(load_file(self.path, root=self.config.rootpath).entries):
            if isinstance(entry, SpecError):
                name = unique(entry.spec_name or f"specs[{index}]", entry.line)
                yield BrokenSpecItem.from_parent(self, name=name, error=entry)
                continue
            for variant in entry.variants():
                suffix = entry.variant_id(variant)
                name = f"{entry.name}[{suffix}]" if suffix else entry.name
                yield SpecItem.from_parent(self, name=unique(name, entry.line), spec=entry,
                                           variant=variant)


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
                     self.config.getoption("parity_time_limit"))

    def runtest(self):
        plugin: ParityPlugin = self.config.pluginmanager.get_plugin("parity-session")
        expectation = plugin.expectations.get(self.nodeid)
        result = self.config.pluginmanager.get_plugin("parity-isolation").run(self)
        variant = self.spec.variant_id(self.variant)
        record = records.record_for_spec(self.nodeid, self.name, self.spec, result,
                                         plugin.session_seed, variant,
                                         reproduce_options(self.config))
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
    """Session state: the seed every item derives its own from, and (on the controller) results."""

    def __init__(self, config):
        self.config = config
        self.records: dict[str, dict] = {}
        self.extra_metadata: dict = {}  # added by other sources of items (harness.opinfo)
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None:
            self.session_seed = workerinput["parity_seed"]
        elif config.getoption("hypothesis_seed", None) is not None:
            self.session_seed = config.getoption("hypothesis_seed")
        elif hypothesis_settings.default.derandomize:
            self.session_seed = 0
        else:
            self.session_seed = random.randrange(2**32)
        self.report_paths: tuple[Path, Path] | None = None
        self.report_error: str | None = None
        option = config.getoption("parity_expectations")
        path = Path(option) if option else config.rootpath / "specs" / expectations.FILENAME
        try:
            self.expectations = expectations.load(path)
        except expectations.ExpectationsError as exc:
            raise pytest.UsageError(f"broken expectations file: {exc}") from None
        report = config.getoption("parity_report")
        if report and workerinput is None:  # refused now, not after the run
            try:
                results_mod.check_writable(Path(config.invocation_params.dir) / report)
            except ValueError as exc:
                raise pytest.UsageError(f"--parity-report: {exc}") from None
        self.collected: set[str] = set()

    def backends(self) -> tuple[Backend, Backend]:
        return load_backend("torch"), load_backend(self.config.getoption("parity_engine"))

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
        self.collected = {item.nodeid for item in items}

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
        if hasattr(self.config, "workerinput") or not self.records or not target:
            return
        from harness.report.html import write_report

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
        ran = set(self.records) | self.collected
        unknown = sorted(i for i in self.expectations if i not in ran)
        if unknown and self.records:
            terminalreporter.write_sep("-", "parity: expectations for specs that did not run")
            for spec_id in unknown:
                line = self.expectations[spec_id].line
                terminalreporter.write_line(f"expectations.yaml:{line}: {spec_id}")
        if self.report_error:
            terminalreporter.write_sep("!", "parity: " + self.report_error, red=True)
        if self.report_paths:
            counts = results_mod.summarise(list(self.records.values()))
            text = ", ".join(f"{n} {k}" for k, n in counts.items() if n and k != "total")
            terminalreporter.write_sep("-", f"parity: {text}")
            terminalreporter.write_line(f"report: {self.report_paths[1]}")


def reproduce_options(config) -> list[str]:
    """This run's options that change what an item runs, where they differ from the defaults:
    a failure's reproduce command carries them. (--parity-report and --shard do not change
    an item; the command names the item, and a shard could deselect it.)"""
    options = []
    engine = config.getoption("parity_engine")
    if engine != "engine":
        options.append(f"--parity-engine={engine}")
    max_examples = config.getoption("parity_max_examples")
    if max_examples is not None:
        options.append(f"--parity-max-examples={max_examples}")
    time_limit = config.getoption("parity_time_limit")
    if time_limit != DEFAULT_LIMIT_S:
        options.append(f"--parity-time-limit={time_limit:g}")
    memory_limit = config.getoption("parity_memory_limit")
    if memory_limit != DEFAULT_MEMORY_LIMIT_GB:  # it decides whether a big program errs
        options.append(f"--parity-memory-limit={memory_limit:g}")
    expectations_file = config.getoption("parity_expectations")
    if expectations_file:  # it decides xfail and whether the shrink phase runs
        path = Path(config.invocation_params.dir, expectations_file).resolve()
        if path.is_relative_to(config.rootpath.resolve()):
            path = path.relative_to(config.rootpath.resolve())
        options.append(f"--parity-expectations={path}")
    profile = hypothesis_settings.get_current_profile_name()
    if profile != "default":  # `ci` also when loaded by the CI environment variable
        options.append(f"--hypothesis-profile={profile}")
    return options


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
        engine=plugin.config.getoption("parity_engine"),
        # the engine only: importing torch here would cost the controller a second or two
        engine_api=load_backend(plugin.config.getoption("parity_engine")).api(),
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
