"""pytest plugin: PyTorch's OpInfo corpus as items of the ordinary run.

`specs/opinfo.yaml` (harness.opinfo.config) is collected as a file whose items are the corpus:
for every entry of the pinned PyTorch's `op_db` whose op the engine under test offers, one item per
dtype it supports among those configured (`specs/opinfo.yaml::add[float32]`,
`div[floor_rounding-float64]`) and one for its error inputs (`add[errors]`). `-k`, node ids,
`--shard`, `-n` and the expectations file work on them as on specs; `--parity-opinfo-samples`,
`--parity-opinfo-dtypes` and `--parity-opinfo-ops` narrow or widen one run.

Items run on the workers and hand their records to the session's `ParityPlugin` (harness.run.plugin)
as spec items do. Each worker also sends, with its first OpInfo item, the corpus coverage (every
entry, offered or not); the controller puts it into the results' metadata (`opinfo`) and prints
the headline at the end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.contract import PASSED, XFAILED, XPASSED
from harness.opinfo import config as config_mod

# Registered through an entry point, this module is imported by every pytest session in the
# environment: what a run of the corpus needs (PyTorch's test internals, the runner) is imported
# by the hooks that use it, once an OpInfo file is collected.

COVERAGE = "parity-opinfo-coverage"  # the user property that carries the corpus coverage
SESSION = "parity-opinfo-session"


def pytest_addoption(parser):
    group = parser.getgroup("parity", "Parity conformance specs")
    group.addoption("--parity-opinfo-samples", default=None, metavar="N|all",
                    help="OpInfo samples per item: the first N sample inputs, or 'all' (every "
                         "sample and reference input); 0 collects no OpInfo item "
                         "(default: specs/opinfo.yaml's `samples`)")
    group.addoption("--parity-opinfo-dtypes", default=None, metavar="LIST",
                    help="OpInfo dtypes, comma-separated, 'errors' for the error-input items "
                         "(default: specs/opinfo.yaml's `dtypes`)")
    group.addoption("--parity-opinfo-ops", default=None, metavar="PATTERNS",
                    help="OpInfo entries, comma-separated fnmatch patterns of their keys: "
                         "'add,nn.functional.*,div.*' (default: specs/opinfo.yaml's `ops`)")


def pytest_configure(config):
    config.pluginmanager.register(OpInfoSession(config), SESSION)


def is_opinfo_file(path: Path) -> bool:
    return path.name == config_mod.FILENAME and "specs" in path.parts[:-1]


def pytest_collect_file(file_path: Path, parent):
    if is_opinfo_file(file_path):
        return OpInfoFile.from_parent(parent, path=file_path)
    return None


def _options(config) -> dict:
    return {"samples": config.getoption("parity_opinfo_samples"),
            "dtypes": config.getoption("parity_opinfo_dtypes"),
            "ops": config.getoption("parity_opinfo_ops")}


class OpInfoFile(pytest.File):
    def collect(self):
        from harness.opinfo import corpus

        try:
            settings = config_mod.load(self.path).override(**_options(self.config))
        except config_mod.ConfigError as exc:
            raise self.CollectError(f"broken OpInfo config: {exc}") from None
        session: OpInfoSession = self.config.pluginmanager.get_plugin(SESSION)
        session.settings = settings
        if settings.samples == 0:
            return
        engine = session.engine()
        for entry in corpus.entries():
            if not settings.wants(entry.key):
                continue
            resolution = session.resolution(entry, engine)
            if not resolution.offered:
                continue
            for dtype in entry.dtypes():
                if dtype in settings.dtypes:
                    yield OpInfoItem.from_parent(self, name=entry.item_name(dtype), entry=entry,
                                                 dtype=dtype)
            if settings.errors and entry.info.error_inputs_func is not None:
                yield OpInfoItem.from_parent(self, name=entry.item_name(corpus.ERRORS),
                                             entry=entry, dtype=corpus.ERRORS)


class OpInfoFailure(Exception):
    """Raised by an item whose outcome is not a pass; the record says what differed."""


class OpInfoItem(pytest.Item):
    def __init__(self, *, entry, dtype: str, **kwargs):
        super().__init__(**kwargs)
        self.entry, self.dtype = entry, dtype

    def runtest(self):
        from harness.opinfo import records
        from harness.opinfo.runner import run_item
        from harness.run.plugin import PROPERTY, reproduce_options

        parity = self.config.pluginmanager.get_plugin("parity-session")
        session: OpInfoSession = self.config.pluginmanager.get_plugin(SESSION)
        oracle, engine = parity.backends()
        expectation = parity.expectations.get(self.nodeid)
        result = run_item(self.entry, self.dtype, oracle.module, engine.module,
                          session.settings.samples, self.config.getoption("parity_time_limit"),
                          resolution=session.resolution(self.entry, engine.module))
        path = self.path.relative_to(self.config.rootpath).as_posix() \
            if self.path.is_relative_to(self.config.rootpath) else str(self.path)
        record = records.record(self.nodeid, self.name, path, self.entry, result,
                                parity.session_seed, expectation,
                                reproduce_options(self.config) + session.options())
        self.user_properties.append((PROPERTY, record))
        if not session.coverage_sent:
            session.coverage_sent = True
            self.user_properties.append((COVERAGE, session.coverage(engine.module)))
        if record["outcome"] == XFAILED:
            pytest.xfail(f"expected divergence: {expectation.reason}")
        if record["outcome"] == XPASSED and expectation.strict:
            raise OpInfoFailure(record)
        if record["outcome"] not in (PASSED, XPASSED):
            raise OpInfoFailure(record)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, OpInfoFailure):
            record = excinfo.value.args[0]
            if record["outcome"] == XPASSED:
                return (f"XPASS(strict): {self.nodeid} is listed in expectations.yaml "
                        f"({record['expectation']['reason']}) but passed: remove the entry")
            from harness.report.results import failure_text

            return failure_text(record) + _counts_text(record)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"opinfo {self.name}"


def _counts_text(record: dict) -> str:
    counts = record["opinfo"]["counts"]
    cells = [f"{check} {c['conforming']}/{c['run']}" for check, c in counts.items()]
    return "\nSamples conforming per check: " + ", ".join(cells) if cells else ""


class OpInfoSession:
    """Per process: the settings, resolutions (once per entry), the coverage to send; on the
    controller, the coverage received, handed to the results' metadata."""

    def __init__(self, config):
        self.config = config
        self.settings: config_mod.Config | None = None
        self._resolutions: dict[str, object] = {}
        self._coverage: dict | None = None
        self.coverage_sent = False
        self.received: dict | None = None

    def engine(self):
        return self.config.pluginmanager.get_plugin("parity-session").backends()[1].module

    def resolution(self, entry, engine):
        from harness.opinfo.resolve import resolve

        found = self._resolutions.get(entry.key)
        if found is None:
            found = self._resolutions[entry.key] = resolve(entry.info, engine)
        return found

    def coverage(self, engine) -> dict:
        from harness.opinfo import corpus, records

        if self._coverage is None:
            self._coverage = records.coverage_summary(engine, corpus.entries(), self.settings,
                                                      self._resolutions)
        return self._coverage

    def options(self) -> list[str]:
        given = _options(self.config)
        return [f"--parity-opinfo-{k}={v}" for k, v in given.items() if v is not None]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report):
        for key, value in report.user_properties:
            if key == COVERAGE:
                self.received = value
        if not hasattr(self.config, "workerinput"):
            report.user_properties = [(k, v) for k, v in report.user_properties
                                      if k != COVERAGE]

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session):
        parity = self.config.pluginmanager.get_plugin("parity-session")
        if self.received is not None and parity is not None:
            parity.extra_metadata["opinfo"] = self.received  # before the report is written

    def pytest_terminal_summary(self, terminalreporter):
        parity = self.config.pluginmanager.get_plugin("parity-session")
        if self.received is None or parity is None:
            return
        from harness.opinfo import records

        mine = [r for r in parity.records.values() if r.get("area") == records.AREA]
        for line in records.headline(self.received, mine):
            terminalreporter.write_line(line)
