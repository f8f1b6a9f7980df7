"""Check one spec (one dtype variant) as a Hypothesis property: PyTorch first, then the engine.

PyTorch is the oracle twice over: its trace is what the engine must reproduce, and it must agree
with what the spec itself declares (which statements raise). When PyTorch contradicts the spec, the
spec is broken, not the engine, and the result says so.
"""

from __future__ import annotations

import hashlib
import re
import time
import traceback
import zlib
from dataclasses import dataclass, field, replace

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings, target
from hypothesis import example as hypothesis_example

from harness.contract import (
    CHECKS,
    ERROR,
    FAILED,
    ONE_SIDE_NONE,
    PASSED,
    XFAILED,
    XPASSED,
    check_of,
    first_line,
    observed,
)
from harness.run import features, finite_differences, isolation, strategies
from harness.run import trace as traces
from harness.run.backends import Backend, torch_and_engine
from harness.run.compare import Comparator, Discrepancy, Margin
from harness.run.shrink import ShrinkBudget
from harness.run.timeout import DEFAULT_LIMIT_S, ProgramTimeout, time_limit
from harness.spec import Spec
from harness.spec.expectations import Expectation


class Mismatch(AssertionError):
    """The engine's trace differs from PyTorch's."""

    def __init__(self, discrepancies: list[Discrepancy], raised_line: int | None = None):
        self.discrepancies = discrepancies
        self.raised_line = raised_line  # for an exception discrepancy: the line that raised
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
    kind: str | None = None  # mismatch, broken_spec, timeout, harness_error
    message: str = ""
    statement_line: int | None = None
    discrepancies: list[Discrepancy] = field(default_factory=list)
    inputs: dict[str, np.ndarray] | None = None
    traceback: str | None = None
    checks: dict[str, str] = field(default_factory=dict)
    margins: list[Margin] = field(default_factory=list)
    grad_fns: list[str] = field(default_factory=list)
    backward_nodes: list[str] = field(default_factory=list)  # the nodes backward passes ran
    traced: list[str] = field(default_factory=list)  # harness.run.features.traced, all examples
    expectation: Expectation | None = None
    #: global settings the program changed (restored after each run: harness.run.global_state)
    left_changed: list[str] = field(default_factory=list)


def item_seed(session_seed: int | str, spec_id: str) -> int:
    """Each item's own seed, derived from the session seed so one number reproduces the run."""
    return zlib.crc32(f"{session_seed}:{spec_id}".encode())


def check(spec: Spec, variant: dict[str, str], spec_id: str, session_seed: int | str = 0,
          max_examples: int | None = None,
          backends: tuple[Backend, Backend] | None = None,
          expectation: Expectation | None = None,
          time_limit_s: float | None = DEFAULT_LIMIT_S,
          shrink_limit_s: float | None = None, targeting: bool = False) -> SpecResult:
    """Run the property; never raises for a failing engine or a broken spec.

    With an expectation (a known divergence), the shrink phase is skipped: the failure is known,
    so minimising it would only cost time. The outcome then becomes xfailed or xpassed.
    `shrink_limit_s` bounds the time spent minimising a failure (harness.run.shrink; None:
    Hypothesis's own limit, 0: no shrinking). `targeting` steers the search towards larger
    errors with Hypothesis's target phase (off by default: docs/running.md says why).
    """
    item = _Item(spec, *(backends or torch_and_engine()), time_limit_s, targeting)
    for backend in (item.oracle, item.engine):
        backend.take_changed()  # what earlier runs left is not this item's doing
    seed_value = item_seed(session_seed, spec_id)
    test = _hypothesis_test(item, variant, spec_id, seed_value,
                            max_examples or spec.model.max_examples,
                            shrink=expectation is None and shrink_limit_s != 0,
                            budget=ShrinkBudget(shrink_limit_s))
    start = time.perf_counter()
    result = _run(test)
    if result.kind == "mismatch" and item.last_failing is not None:
        result.discrepancies = _with_gradient_verdicts(item, result.discrepancies)
    result.duration_s = time.perf_counter() - start
    result.seed, result.expectation = seed_value, expectation
    result.left_changed = sorted({*item.oracle.take_changed(), *item.engine.take_changed()})
    _fill_in(result, item)
    if expectation is not None:
        _as_expected(result)
    return result


#: An item's first examples whose backward passes are recorded on PyTorch (which nodes fed each
#: grad, for the margins' op names and the suspects' backward nodes): a tenth of a run's cost,
#: and the same program builds the same graph on the next examples.
ATTRIBUTED_EXAMPLES = 3


class _Item:
    """One item's property: the spec on its two backends, the comparator, and what the examples
    saw (how many ran, which checks PyTorch's traces exercised, the last failing inputs)."""

    def __init__(self, spec: Spec, oracle: Backend, engine: Backend, time_limit_s: float | None,
                 targeting: bool = False):
        self.spec, self.oracle, self.engine, self.time_limit_s = spec, oracle, engine, time_limit_s
        self.targeting = targeting
        self.requires_grad = {n: d.requires_grad for n, d in spec.model.inputs.items()}
        self.expected_lines = {r.line for r in spec.model.raises}
        self.comparator = Comparator(spec.tolerances(), spec.program)
        self.exercised: set[str] = set()
        self.grad_fns: set[str] = set()
        self.backward_nodes: set[str] = set()
        self.attributed = 0  # PyTorch traces whose backward passes were recorded
        self.traced: set[str] = set()
        self.examples = 0
        self.last_failing: dict[str, np.ndarray] | None = None
        self._timed_out: BaseException | None = None

    def trace(self, backend: Backend, inputs: dict[str, np.ndarray],
              limit: bool = True) -> traces.Trace:
        """The program's trace on one backend, within the time limit (once one run timed out,
        every later one fails at once: no second wait, a fast shrink)."""
        if not limit:
            return traces.run(self.spec.program, backend, inputs, self.requires_grad,
                              self.expected_lines)
        if self._timed_out is not None:
            raise self._timed_out
        try:
            attribute = backend is self.oracle and self.attributed < ATTRIBUTED_EXAMPLES
            with time_limit(self.time_limit_s):
                trace = traces.run(self.spec.program, backend, inputs, self.requires_grad,
                                   self.expected_lines, grad_ops=attribute)
            self.attributed += trace.attributed
            return trace
        except ProgramTimeout:
            on_oracle = backend is self.oracle
            who = "PyTorch" if on_oracle else "the engine"
            self._timed_out = (BrokenSpec if on_oracle else EngineTimeout)(
                f"the program did not finish within {self.time_limit_s:g} s on {who}", None)
            raise self._timed_out from None
        except MemoryError as exc:  # the harness's copies of what the program made
            who = "PyTorch" if backend is self.oracle else "the engine"
            self._timed_out = OutOfMemory(
                f"the harness ran out of memory observing the program on {who} ({exc!r}): a spec "
                f"item may use at most {isolation.limit_text()}", None)
            raise self._timed_out from None

    def _gradcheck(self, inputs: dict[str, np.ndarray]) -> None:
        """PyTorch's gradient against finite differences, within the time limit: the check
        runs the program many times (a spec whose program loops must not hang it)."""
        try:
            with time_limit(self.time_limit_s):
                problem = finite_differences.gradcheck_problem(self.spec, self.oracle, inputs)
        except ProgramTimeout:
            self._timed_out = BrokenSpec(
                f"gradcheck did not finish within {self.time_limit_s:g} s on PyTorch", None)
            raise self._timed_out from None
        if problem:
            raise BrokenSpec(problem, None)

    def example(self, inputs: dict[str, np.ndarray]) -> None:
        """One example: PyTorch as the spec declares it, then the engine as PyTorch."""
        self.examples += 1
        try:
            expected = self.trace(self.oracle, inputs)
            _check_memory(self, expected, "PyTorch")
            check_declared_errors(self.spec, expected)
            if self.spec.model.gradcheck:
                self._gradcheck(inputs)
            _scan(expected, self.exercised, self.grad_fns)
            self.backward_nodes.update(expected.backward_nodes)
            self.traced.update(features.traced(expected))
            actual = self.trace(self.engine, inputs)
            _check_memory(self, actual, "the engine")
            with time_limit(self.time_limit_s):  # bounded data, but nothing runs unlimited
                found = self.comparator.compare(expected, actual)
            if self.targeting:
                target(min(self.comparator.worst_ratio, 1e12), label="error / tolerance")
            if found:
                raise Mismatch(found, _raised_line(found[0], expected, actual))
        except BaseException:
            self.last_failing = inputs
            raise


def _hypothesis_test(item: _Item, variant: dict[str, str], spec_id: str, seed_value: int,
                     max_examples: int | None, shrink: bool,
                     budget: ShrinkBudget | None = None):
    """The item as a Hypothesis test: the spec's pinned examples first, then drawn ones."""
    run_example = budget.wrap(item.example) if budget else item.example

    def one_example(inputs: dict[str, np.ndarray]) -> None:
        run_example(inputs)

    # Each item gets its own example-database key and its own seed (see docs/architecture.md).
    one_example._hypothesis_internal_add_digest = spec_id.encode()
    options = {"deadline": None, "report_multiple_bugs": False,
               "suppress_health_check": [HealthCheck.too_slow, HealthCheck.differing_executors]}
    if max_examples:
        options["max_examples"] = max_examples
    if not shrink:
        options["phases"] = [Phase.explicit, Phase.reuse, Phase.generate]
    test = given(strategies.inputs(item.spec, variant))(one_example)
    for example in strategies.pinned_examples(item.spec, variant):
        test = hypothesis_example(example)(test)
    test = seed(seed_value)(settings(**options)(test))
    # seed() also turns the example database off: keep the profile's (None under `ci`), so the
    # `dev` profile replays an item's last failing example first (docs/running.md), with
    # --hypothesis-seed too (Hypothesis then gives a test no database key of its own)
    test._hypothesis_internal_use_settings = settings(
        test._hypothesis_internal_use_settings, database=settings.default.database)
    test._hypothesis_internal_database_key = hashlib.sha384(spec_id.encode()).digest()
    return test


def _run(test) -> SpecResult:
    """The outcome of running the test: what it raised, as a result."""
    result = SpecResult(PASSED)
    try:
        test()
    except Mismatch as exc:
        result.outcome, result.kind = FAILED, "mismatch"
        result.discrepancies = exc.discrepancies
        result.statement_line = exc.raised_line or exc.discrepancies[0].statement_line
        result.message = _summary(exc.discrepancies, exc.raised_line)
    except EngineTimeout as exc:
        result.outcome, result.kind, result.message = FAILED, "timeout", str(exc)
    except BrokenSpec as exc:
        result.outcome, result.kind, result.message = ERROR, "broken_spec", str(exc)
        result.statement_line = exc.line
    except OutOfMemory as exc:
        result.outcome, result.kind, result.message = ERROR, "memory_limit", str(exc)
        result.statement_line = exc.line
    except MemoryError as exc:  # the harness's own work on a program's values ran out
        result.outcome, result.kind = ERROR, "memory_limit"
        result.message = (f"the harness ran out of memory running this spec ({exc!r}): a spec "
                          f"item may use at most {isolation.limit_text()}")
    except Exception as exc:  # a bug in the harness (or in the strategies): an ERROR of this spec
        result.outcome, result.kind = ERROR, "harness_error"
        result.message = f"{type(exc).__name__}: {exc}"
        result.traceback = "".join(traceback.format_exception(exc))
    return result


def _fill_in(result: SpecResult, item: _Item) -> None:
    """What the examples saw: their count, margins, grad_fns, each check's state, the inputs."""
    result.examples = item.examples
    result.margins = sorted(item.comparator.margins.values(), key=lambda m: -m.ratio)
    result.grad_fns = sorted(item.grad_fns)
    result.backward_nodes = sorted(item.backward_nodes)
    result.traced = sorted(item.traced)
    failing = {check_of(d.field, d.detail) for d in result.discrepancies}
    if result.kind == "timeout":
        failing.add("errors")
    result.checks = {c: "fail" if c in failing else "pass" if c in item.exercised else "n/a"
                     for c in CHECKS}
    if result.outcome != PASSED:
        result.inputs = item.last_failing


def _as_expected(result: SpecResult) -> None:
    """Under a declared divergence, a pass is an XPASS and a failure an XFAIL."""
    if result.outcome in (PASSED, FAILED):
        result.outcome = XPASSED if result.outcome == PASSED else XFAILED
        if result.outcome == XFAILED:
            result.checks = {c: "xfail" if v == "fail" else v for c, v in result.checks.items()}


def _with_gradient_verdicts(item: _Item, found: list[Discrepancy]) -> list[Discrepancy]:
    """Note the finite-difference verdict on each leaf-grad discrepancy right after a backward,
    within the time limit (it reruns both programs and finite differences); the verdicts are
    notes: past the limit the failure is reported without them."""
    spec, inputs = item.spec, item.last_failing
    out = []
    traces_ = None
    try:
        with time_limit(item.time_limit_s):
            for d in found:
                decl = spec.model.inputs.get(d.variable or "")
                if d.field == "grad" and d.detail != ONE_SIDE_NONE and decl \
                        and decl.requires_grad:
                    if traces_ is None:
                        traces_ = [item.trace(b, inputs, limit=False)
                                   for b in (item.oracle, item.engine)]
                    grads = [_grad_change(t, d.statement_line, d.variable) for t in traces_]
                    if all(g is not None for g in grads):
                        said = finite_differences.verdict(spec, item.oracle, d.statement_line,
                                                          inputs, d.variable, *grads)
                        if said:
                            d = replace(d, note=said)
                out.append(d)
    except ProgramTimeout:
        return found
    return out


def _grad_change(trace: traces.Trace, line: int, name: str) -> np.ndarray | None:
    """What the statement at `line` added to `name`.grad (grads accumulate across backwards)."""
    before = after = None
    for step in trace.steps:
        state = step.state.get(name)
        grad = state.grad.values if isinstance(state, traces.TensorState) and state.grad else None
        if step.line == line:
            after = grad
            break
        before = grad
    if after is None:
        return None
    return after if before is None else after.astype(np.float64) - before


class OutOfMemory(Exception):
    """A program's allocation failed: past the memory cap (harness.run.isolation)."""

    def __init__(self, message: str, line: int | None):
        self.line = line
        super().__init__(message)


def _check_memory(item: _Item, trace: traces.Trace, who: str) -> None:
    """An allocation that failed in the program is the memory cap's doing, on either side: an
    ERROR of the spec, not a difference between PyTorch and the engine. As after a timeout,
    every later example of the item fails at once (no second wait for the allocation)."""
    for step in trace.steps:
        exc = step.exception
        if exc is not None and isolation.out_of_memory(exc.type, exc.message):
            line = exc.line or step.line
            item._timed_out = OutOfMemory(
                f"the program ran out of memory on {who} at program line {line} ({exc.type}: "
                f"{first_line(exc.message)}): a spec item may use at most "
                f"{isolation.limit_text()}", line)
            raise item._timed_out


class EngineTimeout(Exception):
    """The engine did not finish a program that PyTorch finished."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)


def _scan(trace: traces.Trace, exercised: set[str], grad_fns: set[str]) -> None:
    """Which check categories PyTorch's trace exercised, and the grad_fn classes it produced
    (those of its variables, and those its backward passes went through)."""
    grad_fns.update(trace.backward_nodes)
    scanned: set[int] = set()  # a tensor unchanged since the step before is the same object
    for step in trace.steps:
        if step.stdout:
            exercised.add("prints")
        if step.exception:
            exercised.add("errors")
        if step.warnings:
            exercised.add("none_grads")
        for value in step.state.values():
            if isinstance(value, traces.TensorState):
                if id(value) in scanned:
                    continue
                scanned.add(id(value))
                exercised.update(("values", "flags"))
                if value.grad is not None:
                    exercised.add("grads")
                if value.grad_warnings or (value.requires_grad and not value.is_leaf):
                    exercised.add("none_grads")
                if value.grad_fn and not value.grad_fn.startswith("raises "):
                    grad_fns.add(value.grad_fn)
            elif isinstance(value, traces.Opaque):
                if value.kind == "grad_fn":
                    grad_fns.add(value.text)
            elif value is not None:
                exercised.add("values")


def check_declared_errors(spec: Spec, oracle: traces.Trace) -> None:
    """PyTorch must raise exactly where the spec says, with the declared type and message."""
    declared = {r.line: r for r in spec.model.raises}
    for step in oracle.steps:
        exc, want = step.exception, declared.pop(step.line, None)
        raised = (exc.line if exc else None) or step.line  # inside a loop, a block, a def
        inside = f" (in the statement at line {step.line})" if raised != step.line else ""
        if exc and not want:
            raise BrokenSpec(f"PyTorch raised {exc.type}: {exc.message} at program line "
                             f"{raised}{inside}, but the spec declares no error there", raised)
        if want and not exc:
            raise BrokenSpec(f"the spec says line {step.line} raises {want.type}, "
                             "but PyTorch raised nothing", step.line)
        if want and (exc.type != want.type or not re.search(want.match, exc.message)):
            at = f" at line {raised}" if raised != step.line else ""
            raise BrokenSpec(f"the spec says line {step.line} raises {want.type} matching "
                             f"{want.match!r}, but PyTorch raised {exc.type}{at}: {exc.message}",
                             raised)
    if declared:
        line = min(declared)
        raise BrokenSpec(f"the spec says line {line} raises {declared[line].type}, "
                         "but PyTorch never ran it", line)


def _summary(found: list[Discrepancy], raised_line: int | None = None) -> str:
    first = found[0]
    where = observed(first.variable, first.field)
    more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
    raised = f" (raised at line {raised_line})" \
        if raised_line and raised_line != first.statement_line else ""
    return (f"line {first.statement_line} `{first_line(first.statement)}`: {where} differs"
            f"{raised}{more}")


def _raised_line(first: Discrepancy, expected: traces.Trace, actual: traces.Trace) -> int | None:
    """For an exception discrepancy, the program line that raised: the engine's if it raised,
    else PyTorch's (so the line PyTorch raised at and the engine did not)."""
    if first.field != "exception":
        return None
    for trace in (actual, expected):
        for step in trace.steps:
            if step.line == first.statement_line and step.exception is not None:
                return step.exception.line or step.line
    return None
