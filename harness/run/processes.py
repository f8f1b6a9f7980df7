"""Spec items run in a child process that the pytest process supervises (harness.run.isolation):
the pytest side, one `ItemProcesses` per pytest process (the run without -n, or each
pytest-xdist worker), registered by the plugin as "parity-isolation"."""

from __future__ import annotations

import time

from harness.contract import ERROR
from harness.run.isolation import ChildDied, Supervisor, can_fork
from harness.run.runner import SpecResult


class ItemProcesses:
    """The pytest side: spec items run in the Supervisor's child, one per pytest process (the
    run without -n, or each pytest-xdist worker). `--parity-in-process` (and `--pdb`, `--trace`,
    a platform without fork) runs them in the pytest process itself, with no memory cap and the
    environment untouched."""

    def __init__(self, config):
        self.config = config
        self.items: dict[str, object] = {}
        self.supervisor: Supervisor | None = None
        self.in_process = not can_fork() or bool(
            config.getoption("parity_in_process") or config.getoption("usepdb", False)
            or config.getoption("trace", False))

    def pytest_collection_finish(self, session) -> None:
        self.items = {item.nodeid: item for item in session.items
                      if hasattr(item, "check_spec")}

    def run(self, item) -> SpecResult:
        """`item.check_spec()`, in the child; an ERROR result (kind `crashed`) saying how the
        child died if it did (the next item gets a new child)."""
        if self.in_process:
            return item.check_spec()
        if self.supervisor is None:
            limit = int(self.config.getoption("parity_memory_limit") * 2**30)
            self.supervisor = Supervisor(lambda node_id: self.items[node_id].check_spec(),
                                         limit)
        start = time.perf_counter()
        try:
            return self.supervisor.call(item.nodeid)
        except ChildDied as exc:
            return SpecResult(ERROR, kind="crashed", duration_s=time.perf_counter() - start,
                              message=f"the run of this spec crashed: its process {exc}; "
                                      "the run went on in a new process")

    def pytest_unconfigure(self, config) -> None:
        if self.supervisor is not None:
            self.supervisor.close(kill=True)
