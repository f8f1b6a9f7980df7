"""Check one spec (one dtype variant) as a Hypothesis property: PyTorch first, then the engine.

PyTorch is the oracle twice over: its trace is what the engine must reproduce, and it must agree
with what the spec itself declares (which statements raise). When PyTorch contradicts the spec, the
spec is broken, not the engine, and the result says so.
"""

from __future__ import annotations

import re
import time
import traceback
import zlib
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, given, seed, settings

from harness import strategies
from harness import trace as traces
from harness.backends import Backend, torch_and_engine
from harness.compare import Discrepancy, compare
from harness.spec import Spec

PASSED, FAILED, ERROR = "passed", "failed", "error"


class Mismatch(AssertionError):
    """The engine's trace differs from PyTorch's."""

    def __init__(self, discrepancies: list[Discrepancy]):
        self.discrepancies = discrepancies
        super().__init__("\n".join(d.describe() for d in discrepancies))


class BrokenSpec(Exception):
    """PyTorch itself contradicts what the spec declares."""

    def __init__(self, message: str, line: int | None):
        self.line = line
        super().__init__(message)


@dataclass
class SpecResult:
    outcome: str
    examples: int = 0
    duration_s: float = 0.0
    seed: int | None = None
    kind: str | None = None  # mismatch, broken_spec, harness_error
    message: str = ""
    statement_line: int | None = None
    discrepancies: list[Discrepancy] = field(default_factory=list)
    inputs: dict[str, np.ndarray] | None = None
    traceback: str | None = None


def item_seed(session_seed: int | str, spec_id: str) -> int:
    """Each item's own seed, derived from the session seed so one number reproduces the run."""
    return zlib.crc32(f"{session_seed}:{spec_id}".encode())


def check(spec: Spec, variant: dict[str, str], spec_id: str, session_seed: int | str = 0,
          max_examples: int | None = None,
          backends: tuple[Backend, Backend] | None = None) -> SpecResult:
    """Run the property; never raises for a failing engine or a broken spec."""
    oracle, engine = backends or torch_and_engine()
    requires_grad = {n: d.requires_grad for n, d in spec.model.inputs.items()}
    expected_lines = {r.line for r in spec.model.raises}
    examples = 0
    last_failing: dict[str, np.ndarray] | None = None

    def one_example(inputs: dict[str, np.ndarray]) -> None:
        nonlocal examples, last_failing
        examples += 1
        try:
            expected = traces.run(spec.program, oracle, inputs, requires_grad, expected_lines)
            check_declared_errors(spec, expected)
            actual = traces.run(spec.program, engine, inputs, requires_grad, expected_lines)
            found = compare(expected, actual)
            if found:
                raise Mismatch(found)
        except BaseException:
            last_failing = inputs
            raise

    # Each item gets its own example-database key and its own seed (see docs/architecture.md).
    one_example._hypothesis_internal_add_digest = spec_id.encode()
    item = item_seed(session_seed, spec_id)
    options = {"deadline": None, "report_multiple_bugs": False,
               "suppress_health_check": [HealthCheck.too_slow, HealthCheck.differing_executors]}
    if max_examples or spec.model.max_examples:
        options["max_examples"] = max_examples or spec.model.max_examples
    prop = seed(item)(settings(**options)(given(strategies.inputs(spec, variant))(one_example)))

    start = time.perf_counter()
    result = SpecResult(PASSED, seed=item)
    try:
        prop()
    except Mismatch as exc:
        result.outcome, result.kind = FAILED, "mismatch"
        result.discrepancies = exc.discrepancies
        result.statement_line = exc.discrepancies[0].statement_line
        result.message = _summary(exc.discrepancies)
    except BrokenSpec as exc:
        result.outcome, result.kind, result.message = ERROR, "broken_spec", str(exc)
        result.statement_line = exc.line
    except Exception as exc:  # a bug in the harness (or in the strategies): an ERROR of this spec
        result.outcome, result.kind = ERROR, "harness_error"
        result.message = f"{type(exc).__name__}: {exc}"
        result.traceback = "".join(traceback.format_exception(exc))
    result.duration_s = time.perf_counter() - start
    result.examples = examples
    if result.outcome != PASSED:
        result.inputs = last_failing
    return result


def check_declared_errors(spec: Spec, oracle: traces.Trace) -> None:
    """PyTorch must raise exactly where the spec says, with the declared type and message."""
    declared = {r.line: r for r in spec.model.raises}
    for step in oracle.steps:
        exc, want = step.exception, declared.pop(step.line, None)
        if exc and not want:
            raise BrokenSpec(f"PyTorch raised {exc.type}: {exc.message} at program line "
                             f"{step.line}, but the spec declares no error there", step.line)
        if want and not exc:
            raise BrokenSpec(f"the spec says line {step.line} raises {want.type}, "
                             "but PyTorch raised nothing", step.line)
        if want and (exc.type != want.type or not re.search(want.match, exc.message)):
            raise BrokenSpec(f"the spec says line {step.line} raises {want.type} matching "
                             f"{want.match!r}, but PyTorch raised {exc.type}: {exc.message}",
                             step.line)
    if declared:
        line = min(declared)
        raise BrokenSpec(f"the spec says line {line} raises {declared[line].type}, "
                         "but PyTorch never ran it", line)


def _summary(found: list[Discrepancy]) -> str:
    first = found[0]
    where = f"{first.variable}.{first.field}" if first.variable else first.field
    more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
    return f"line {first.statement_line} `{first.statement}`: {where} differs{more}"
