"""`parity run`'s progress bar: one line, redrawn in place, instead of pytest's rows of dots.

    [###########.........................]  212/634   2 failed, 1 error   0:41

On a terminal the line is redrawn after every spec item; in a log (CI) it is printed at every
tenth of the run. pytest's own summary follows it unchanged. With `-v` pytest's per-item lines
are kept and the bar is off. Under pytest-xdist it runs on the controller, which sees every
item's report.
"""

from __future__ import annotations

import sys
import time

import pytest

WIDTH = 36


class ProgressBar:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.total = self.done = 0
        self.counts = {"failed": 0, "error": 0}
        self.start = time.monotonic()
        self.printed_tenth = -1
        self.active = False

    def pytest_configure(self, config):
        self.active = config.get_verbosity() <= 0 and not config.getoption("collectonly")

    def pytest_collection_finish(self, session):
        self.total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        self.total = max(self.total, len(ids))

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report, config):
        """Keep the outcome category (pytest's summary counts it), drop the dot and the word."""
        category, letter, word = yield
        return (category, "", "") if self.active else (category, letter, word)

    def pytest_runtest_logreport(self, report):
        if not self.active:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.done += 1
            if report.failed:
                # a broken spec found while running is an error too (harness.run.plugin marks it)
                error = report.when != "call" or getattr(report, "parity_outcome", "") == "error"
                self.counts["error" if error else "failed"] += 1
            self.draw()

    def pytest_sessionfinish(self):
        if self.active and self.done:
            self.draw(final=True)

    def line(self) -> str:
        total = max(self.total, self.done)
        filled = WIDTH * self.done // total if total else WIDTH
        bad = ", ".join(f"{n} {what}" for what, n in self.counts.items() if n)
        elapsed = int(time.monotonic() - self.start)
        width = len(str(total))
        return (f"[{'#' * filled}{'.' * (WIDTH - filled)}] {self.done:>{width}}/{total}"
                f"   {bad or 'nothing unexpected'}   {elapsed // 60}:{elapsed % 60:02d}")

    def draw(self, final: bool = False) -> None:
        if self.stream.isatty():
            self.stream.write("\r" + self.line() + ("\n" if final else ""))
        else:
            tenth = 10 * self.done // max(self.total, self.done, 1)
            if tenth == self.printed_tenth and not final:
                return
            if final and tenth == self.printed_tenth:
                return  # the last tenth's line already says it
            self.printed_tenth = tenth
            self.stream.write(self.line() + "\n")
        self.stream.flush()
