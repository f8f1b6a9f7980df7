"""One OpInfo item: an entry's samples in one dtype (or its error inputs), every check of each.

The item's result counts, per check, the samples that exercised it and those that conformed, and
keeps the findings of the first failing samples (with the sample, to print a repro or write a
spec). A sample that cannot be written as literals is counted as skipped, with the reason.
"""

from __future__ import annotations

import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

from harness.opinfo import corpus
from harness.opinfo import samples as literals
from harness.opinfo.checks import CHECKS, FAIL, NA, Context, Finding, SampleResult, check_sample
from harness.opinfo.resolve import Resolution, resolve
from harness.run.timeout import DEFAULT_LIMIT_S, ProgramTimeout, time_limit

#: Failing samples whose findings an item keeps in full (the counts cover all of them).
KEPT_FAILURES = 5


@dataclass
class Failure:
    """A failing sample: its description (to rebuild it) and what differed."""

    sample: literals.Sample
    result: SampleResult

    @property
    def elements(self) -> int:
        """The elements of the sample's tensors: how large a snippet of it would be."""
        return sum(t.values.size for t in self.sample.tensors)


@dataclass
class ItemResult:
    key: str  # the entry's key
    dtype: str  # a dtype, or corpus.ERRORS
    resolution: Resolution | None = None
    samples_run: int = 0
    samples_passed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (label, why)
    counts: dict[str, list[int]] = field(default_factory=dict)  # check -> [conforming, run]
    kinds: Counter = field(default_factory=Counter)  # failure kind -> samples
    levels: Counter = field(default_factory=Counter)  # error samples: message level -> count
    failures: list[Failure] = field(default_factory=list)
    grad_fns: set[str] = field(default_factory=set)  # of PyTorch's outputs
    duration_s: float = 0.0
    harness_error: str | None = None  # a bug of the bridge (traceback)
    context: Context | None = None  # what the samples shared (to rebuild one for a repro)

    @property
    def failed(self) -> bool:
        return self.samples_passed < self.samples_run

    @property
    def smallest_failure(self) -> Failure | None:
        """The kept failing sample that reads best: the smallest (the first may hold a million
        elements)."""
        return min(self.failures, key=lambda f: f.elements, default=None)

    @property
    def checks(self) -> dict[str, str]:
        """check -> fail / pass / n/a over all samples."""
        return {c: NA if c not in self.counts else
                FAIL if self.counts[c][0] < self.counts[c][1] else "pass" for c in CHECKS}


def run_item(entry: corpus.Entry, dtype: str, torch, engine, limit: int | None = None,
             time_limit_s: float | None = DEFAULT_LIMIT_S, only: str | None = None,
             resolution: Resolution | None = None) -> ItemResult:
    """Run every sample of the item; never raises for a failing engine. `only` runs one
    sample (its label, `s3`); `resolution` saves resolving the entry again.

    Everything is a function of the entry and dtype: the samples (seeded by corpus) and the
    cotangents (seeded by the item), so a node id alone replays an item, in any run."""
    result = ItemResult(entry.key, dtype)
    start = time.perf_counter()
    try:
        result.resolution = resolution or resolve(entry.info, engine)
        if not result.resolution.offered:
            return result
        seed = corpus.seed_for(entry.key, dtype)
        ctx = result.context = Context.make(torch, engine, result.resolution, entry,
                                            "float32" if dtype == corpus.ERRORS else dtype,
                                            seed)
        drawn = corpus.error_samples(entry, limit) if dtype == corpus.ERRORS \
            else corpus.samples(entry, dtype, limit)
        for one in drawn:
            if only is not None and one.label != only:
                continue
            _one(ctx, one, result, time_limit_s)
    except Exception as exc:  # a bug of the bridge: the item is an ERROR, not a failure
        result.harness_error = "".join(traceback.format_exception(exc))
    finally:
        result.duration_s = time.perf_counter() - start
    return result


def _one(ctx: Context, drawn: corpus.Drawn, result: ItemResult, limit: float | None) -> None:
    try:
        sample = literals.describe(drawn)
    except literals.NotLiteral as exc:
        result.skipped.append((drawn.label, str(exc)))
        return
    try:
        with time_limit(limit):
            outcome = check_sample(ctx, sample)
    except ProgramTimeout:
        outcome = SampleResult(sample.label)
        outcome.add(Finding("values", ctx.resolution.primary.spelling, "sample",
                            "finished", f"did not finish within {limit:g} s", kind="timeout"))
    if outcome.skipped:
        result.skipped.append((sample.label, outcome.skipped))
        return
    result.samples_run += 1
    result.grad_fns |= outcome.grad_fns
    result.samples_passed += outcome.passed
    for check, state in outcome.checks.items():
        if state != NA:
            counts = result.counts.setdefault(check, [0, 0])
            counts[0] += state != FAIL
            counts[1] += 1
    for kind in sorted({f"{f.check}: {f.kind}" for f in outcome.findings}):
        result.kinds[kind] += 1
    if outcome.message_level:
        result.levels[outcome.message_level] += 1
    if outcome.findings and len(result.failures) < KEPT_FAILURES:
        result.failures.append(Failure(sample, outcome))
