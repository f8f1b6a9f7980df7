"""pytest plugin: YAML specs become test items; the controller writes one report at the end.

Every `*.yaml` under a directory named `specs` is collected (except `expectations.yaml`). Each spec,
and each dtype variant of it, is one item running its Hypothesis property. A spec that cannot load
becomes an item that errors at setup, naming file:line:col, so it fails alone. Results travel to the
controller in `report.user_properties` (plain JSON types only), which works under pytest-xdist.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from harness import results as results_mod
from harness.backends import Backend
from harness.backends import load as load_backend
from harness.runner import PASSED, SpecResult, check
from harness.spec import Spec, SpecError, load_file

PROPERTY = "parity"
NOT_SPECS = {"expectations.yaml"}


def pytest_addoption(parser):
    group = parser.getgroup("parity", "Parity conformance specs")
    group.addoption("--parity-report", default="reports", metavar="DIR",
                    help="directory for index.html and results.json (default: reports); "
                         "'' to write nothing")
    group.addoption("--parity-engine", default="engine", metavar="MODULE",
                    help="the module under test, bound to `torch` in the second run "
                         "(default: engine; any module that mirrors torch's API)")
    group.addoption("--parity-max-examples", type=int, default=None, metavar="N",
                    help="examples per spec (default: the Hypothesis profile's max_examples)")


def pytest_configure(config):
    config.pluginmanager.register(ParityPlugin(config), "parity-session")


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix in {".yaml", ".yml"} and "specs" in file_path.parts[:-1] \
            and file_path.name not in NOT_SPECS:
        return SpecFile.from_parent(parent, path=file_path)
    return None


class SpecFile(pytest.File):
    def collect(self):
        for index, entry in enumerate(load_file(self.path, root=self.config.rootpath).entries):
            if isinstance(entry, SpecError):
                name = entry.spec_name or f"specs[{index}]"
                yield BrokenSpecItem.from_parent(self, name=name, error=entry)
                continue
            for variant in entry.variants():
                suffix = entry.variant_id(variant)
                name = f"{entry.name}[{suffix}]" if suffix else entry.name
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

    def runtest(self):
        plugin: ParityPlugin = self.config.pluginmanager.get_plugin("parity-session")
        result = check(self.spec, self.variant, self.nodeid, plugin.session_seed,
                       self.config.getoption("parity_max_examples"), plugin.backends())
        record = results_mod.record_for_spec(self.nodeid, self.name, self.spec, result,
                                             plugin.session_seed)
        self.user_properties.append((PROPERTY, record))
        if result.outcome != PASSED:
            raise SpecFailure(result)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, SpecFailure):
            record = dict(self.user_properties)[PROPERTY]
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
        record = results_mod.record_for_broken(self.nodeid, self.name, self.error)
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

    def backends(self) -> tuple[Backend, Backend]:
        return load_backend("torch"), load_backend(self.config.getoption("parity_engine"))

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):
        """xdist: every worker uses the controller's seed, so one number reproduces the run."""
        node.workerinput["parity_seed"] = self.session_seed

    def pytest_runtest_logreport(self, report):
        for key, value in report.user_properties:
            if key == PROPERTY:
                self.records[value["id"]] = value

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        target = self.config.getoption("parity_report")
        if hasattr(self.config, "workerinput") or not self.records or not target:
            return
        from harness.report import write_report

        out_dir = Path(target)
        if not out_dir.is_absolute():
            out_dir = Path(self.config.invocation_params.dir) / out_dir
        data = results_mod.build(list(self.records.values()), _metadata(self))
        self.report_paths = write_report(data, out_dir)

    def pytest_terminal_summary(self, terminalreporter):
        if self.report_paths:
            counts = results_mod.summarise(list(self.records.values()))
            text = ", ".join(f"{n} {k}" for k, n in counts.items() if n and k != "total")
            terminalreporter.write_sep("-", f"parity: {text}")
            terminalreporter.write_line(f"report: {self.report_paths[1]}")


def _metadata(plugin: ParityPlugin) -> dict:
    return results_mod.metadata(
        profile=hypothesis_settings.get_current_profile_name(),
        seed=plugin.session_seed,
        engine=plugin.config.getoption("parity_engine"),
        git_commit=_git_commit(plugin.config.rootpath),
    )


def _git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
