"""A fuzz campaign: generated programs run on PyTorch and the engine with the spec harness's own
trace, comparison, tolerances and time limit; each new divergence shrunk and written as a spec.

Work is done in *chunks*: one Hypothesis run of up to CHUNK programs with its own seed (derived
from the campaign's seed and the chunk's number, so a campaign of a given size is reproducible
with one worker). The test body runs a program and returns; the first divergence whose
signature is new makes it raise, and from then on it raises only for that signature, so
Hypothesis's shrinker minimises the program (statements, shapes, values) while keeping the same
divergence. Each chunk runs in a forked child (harness.run.isolation.Supervisor): a crash costs
the chunk, not the campaign. `-n` workers are that many children, fed by threads.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from harness.contract import FAILED, check_of
from harness.fuzz import program as fuzz_program
from harness.fuzz import render
from harness.fuzz.program import FuzzProgram
from harness.fuzz.summary import Stats
from harness.run import trace as traces
from harness.run.backends import Backend, load
from harness.run.compare import Comparator, Discrepancy
from harness.run.isolation import ChildDied, Supervisor, can_fork
from harness.run.timeout import DEFAULT_LIMIT_S, ProgramTimeout, time_limit

CHUNK = 50
#: Seconds spent minimising one divergence; then the smallest failing program found so far.
DEFAULT_SHRINK_LIMIT_S = 20.0
DEFAULT_OUT = Path("specs") / "found"


@dataclass(frozen=True)
class Config:
    ops: tuple[str, ...]  # op names (harness.fuzz.program.OPS)
    engine: str = "engine"  # module name of the engine under test
    time_limit_s: float | None = DEFAULT_LIMIT_S
    shrink_limit_s: float = DEFAULT_SHRINK_LIMIT_S
    max_statements: int = fuzz_program.MAX_STATEMENTS
    verify: bool = True  # run each written spec through the harness's runner
    min_statements: int = 1


@dataclass
class Outcome:
    """One program on both backends: the first differing statement's discrepancies, if any."""

    discrepancies: list[Discrepancy] = field(default_factory=list)
    signature: tuple[str, ...] | None = None
    torch_errors: dict[int, traces.ExceptionRecord] = field(default_factory=dict)
    skipped: str = ""


@dataclass
class Finding:
    signature: tuple[str, ...]
    program: FuzzProgram
    inputs: dict[str, np.ndarray]
    message: str
    name: str
    text: str  # the spec file
    verified: bool = False
    verify_message: str = ""


@dataclass
class ChunkResult:
    stats: Stats
    findings: list[Finding]


# -------------------------------------------------------------------------- one program
def run_program(program: FuzzProgram, inputs: dict[str, np.ndarray], oracle: Backend,
                engine: Backend, time_limit_s: float | None) -> Outcome:
    """Both traces, every statement allowed to raise (as the written spec declares PyTorch's
    errors), compared with the harness's Comparator and default tolerances."""
    compiled = render.compiled(program)
    lines = compiled.statement_lines
    requires_grad = {leaf.name: leaf.requires_grad for leaf in program.leaves}
    try:
        with time_limit(time_limit_s):
            expected = traces.run(compiled, oracle, inputs, requires_grad, lines)
    except ProgramTimeout:
        return Outcome(skipped="PyTorch timed out")
    torch_errors = {s.line: s.exception for s in expected.steps if s.exception and s.line}
    try:
        with time_limit(time_limit_s):
            actual = traces.run(compiled, engine, inputs, requires_grad, lines)
    except ProgramTimeout:
        return Outcome(signature=("timeout", "", "", ""), torch_errors=torch_errors,
                       discrepancies=[Discrepancy(0, "", None, "timeout", "finished",
                                                  "timed out")])
    found = Comparator().compare(expected, actual)
    outcome = Outcome(found, torch_errors=torch_errors)
    if found:
        outcome.signature = signature(program, found[0], expected, actual)
    return outcome


def signature(program: FuzzProgram, d: Discrepancy, expected: traces.Trace,
              actual: traces.Trace) -> tuple[str, str, str, str]:
    """What makes two divergences the same: the check, the op of the statement, the grad_fn
    PyTorch gave the variable, and the exception types on each side."""
    statement = program.statement_at(d.statement_line)
    op = statement.op if statement else "inputs"
    grad_fn, raised = "", []
    for trace in (expected, actual):
        step = next((s for s in trace.steps if s.line == d.statement_line), None)
        raised.append(step.exception.type if step and step.exception else "-")
        if trace is expected and step and d.variable:
            state = step.state.get(d.variable.split("[")[0])
            if isinstance(state, traces.TensorState) and state.grad_fn:
                grad_fn = state.grad_fn
    return check_of(d.field, d.detail), op, grad_fn, "/".join(raised)


def spec_name(sig: tuple[str, ...]) -> str:
    words = "_".join(part for part in sig[:3] if part).replace(".", "_").replace("=", "")
    digest = hashlib.sha1("|".join(sig).encode()).hexdigest()[:8]
    return f"fuzz_{''.join(c if c.isalnum() or c == '_' else '_' for c in words)}_{digest}"


def message(d: list[Discrepancy]) -> str:
    return d[0].describe() + (f" (+{len(d) - 1} more)" if len(d) > 1 else "")


# ---------------------------------------------------------------------------- one chunk
_STRATEGIES: dict[tuple, object] = {}


def run_chunk(config: Config, chunk_seed: int, count: int, seen: frozenset,
              stop_at: float | None = None) -> ChunkResult:
    """Up to `count` programs; stops at the first new divergence, shrunk (see module doc)."""
    if count <= 0:
        return ChunkResult(Stats(), [])
    oracle, engine = load("torch"), load(config.engine)
    key = (config.ops, config.max_statements, config.min_statements)
    if key not in _STRATEGIES:
        ops = tuple(fuzz_program.BY_NAME[n] for n in config.ops)
        _STRATEGIES[key] = fuzz_program.programs(ops, config.max_statements,
                                                 config.min_statements)
    programs_strategy = _STRATEGIES[key]
    stats = Stats()
    state: dict = {"target": None, "best": None, "first": None}

    def body(data) -> None:
        if stop_at is not None and state["target"] is None and time.time() >= stop_at:
            return  # the campaign's time is up: the rest of the chunk costs only its draws
        shrinking = state["target"] is not None
        if shrinking and time.perf_counter() - state["first"] > config.shrink_limit_s:
            # shrink budget spent: pass at once, before paying for a draw, so that Hypothesis's
            # shrinker stops within a few cheap calls; the smallest failing example seen is
            # kept in state["best"] (Hypothesis's own replay of it then passes: ignored below)
            return
        program = data.draw(programs_strategy)
        inputs = data.draw(render.inputs(program))
        try:
            outcome = run_program(program, inputs, oracle, engine, config.time_limit_s)
        except Exception as exc:  # the harness failed on this program: count it, go on
            outcome = Outcome(skipped=f"harness: {type(exc).__name__}: {exc}"[:200])
        if shrinking:
            stats.shrink_runs += 1
        else:
            _count(stats, program, outcome)
        sig = outcome.signature
        if sig is None:
            return
        if state["target"] is None and sig not in seen:
            state["target"], state["first"] = sig, time.perf_counter()
        if sig == state["target"]:
            state["best"] = (program, inputs, outcome)
            raise _Diverged()

    test = given(st.data())(body)
    test = settings(max_examples=count, database=None, deadline=None,
                    phases=[Phase.generate, Phase.shrink] if config.shrink_limit_s > 0
                    else [Phase.generate], report_multiple_bugs=False,
                    suppress_health_check=list(HealthCheck), print_blob=False)(test)
    test = seed(chunk_seed)(test)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        test()
    except Exception:  # noqa: BLE001  _Diverged, or Hypothesis's own complaint about a replay
        pass
    findings = []
    if state["best"] is not None:
        ops = tuple(fuzz_program.BY_NAME[n] for n in config.ops)
        best = minimise(ops, state["target"], *state["best"], oracle, engine, config, stats)
        findings.append(finding(config, state["target"], *best, oracle, engine))
    stats.busy_s = time.perf_counter() - start
    stats.cpu_s = time.process_time() - cpu
    return ChunkResult(stats, findings)


def minimise(ops, sig: tuple[str, ...], program: FuzzProgram, inputs: dict[str, np.ndarray],
             outcome: Outcome, oracle: Backend, engine: Backend, config: Config,
             stats: Stats) -> tuple[FuzzProgram, dict[str, np.ndarray], Outcome]:
    """After Hypothesis: delete statements one at a time (its shrinker lowers values and
    shapes well but often keeps leading statements), then the leaves no statement names,
    keeping each deletion that keeps the signature. Nothing with a shrink limit of 0."""
    if config.shrink_limit_s == 0:
        return program, inputs, outcome
    def attempt(candidate: FuzzProgram, values: dict[str, np.ndarray]) -> Outcome | None:
        stats.shrink_runs += 1
        try:
            render.spec(candidate)  # a deletion may leave a name undefined: not a program
            result = run_program(candidate, values, oracle, engine, config.time_limit_s)
        except Exception:  # noqa: BLE001  a candidate the harness cannot run is no smaller
            return None
        return result if result.signature == sig else None

    changed = True
    while changed and len(program.genes) > 1:  # deleting genes keeps programs well-formed
        changed = False
        for i in reversed(range(len(program.genes))):
            genes = program.genes[:i] + program.genes[i + 1:]
            candidate = fuzz_program.build(program.leaves, genes, ops)
            if (found := attempt(candidate, inputs)) is not None:
                program, outcome, changed = candidate, found, True
    changed = True
    while changed and len(program) > 1:  # then statements as text: later picks stay put
        changed = False
        for i in reversed(range(len(program))):
            candidate = fuzz_program.without_statement(program, i)
            if (found := attempt(candidate, inputs)) is not None:
                program, outcome, changed = candidate, found, True
    candidate = fuzz_program.without_unused_leaves(program)
    if candidate.leaves != program.leaves:
        values = {leaf.name: inputs[leaf.name] for leaf in candidate.leaves}
        if (found := attempt(candidate, values)) is not None:
            program, inputs, outcome = candidate, values, found
    return program, inputs, outcome


class _Diverged(Exception):
    """Raised by a chunk's test body for the divergence being shrunk."""


def _count(stats: Stats, program: FuzzProgram, outcome: Outcome) -> None:
    if outcome.skipped:
        stats.skipped += 1
        stats.skip_reasons[outcome.skipped] += 1
        return
    stats.programs += 1
    stats.statements += len(program)
    stats.ops.update(program.ops())
    stats.features.update(program.features())
    stats.diverged += outcome.signature is not None
    stats.torch_raised += bool(outcome.torch_errors)


def finding(config: Config, sig: tuple[str, ...], program: FuzzProgram,
            inputs: dict[str, np.ndarray], outcome: Outcome, oracle: Backend,
            engine: Backend) -> Finding:
    """The shrunk divergence as a spec file, checked by the harness's runner when asked."""
    name = spec_name(sig)
    raises = [render.raises_entry(line, exc.type, exc.message)
              for line, exc in sorted(outcome.torch_errors.items())]
    text_message = message(outcome.discrepancies)
    description = (f"Found by parity fuzz: {text_message.splitlines()[0]} (signature: "
                   f"{' | '.join(sig)}). The example is the shrunk failing input; the harness "
                   f"also draws new values in the declared range.")
    text = render.yaml_text(program, name, description, raises, render.example_of(inputs),
                            header=f"parity fuzz finding {' | '.join(sig)}")
    found = Finding(sig, program, inputs, text_message, name, text)
    if config.verify:
        found.verified, found.verify_message = verify(text, outcome.discrepancies[0],
                                                      oracle, engine)
    return found


def verify(text: str, first: Discrepancy, oracle: Backend, engine: Backend) -> tuple[bool, str]:
    """Whether the written spec loads and fails on the engine as the campaign saw it (same
    statement, same check) when the spec runner runs it."""
    from harness.run.runner import check
    from harness.spec import SpecError, load_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "finding.yaml"
        path.write_text(text, encoding="utf-8")
        [entry] = load_file(path).entries
    if isinstance(entry, SpecError):
        return False, f"the written spec does not load: {entry}"
    [variant] = entry.variants()
    result = check(entry, variant, "fuzz::verify", max_examples=5, shrink_limit_s=0,
                   backends=(oracle, engine))
    if result.outcome != FAILED:
        return False, f"the spec runner says {result.outcome}: {result.message}"
    if first.field == "timeout":
        return result.kind == "timeout", result.message
    d = result.discrepancies[0] if result.discrepancies else None
    same = d is not None and d.statement_line == first.statement_line and \
        check_of(d.field, d.detail) == check_of(first.field, first.detail)
    return same, result.message


# ------------------------------------------------------------------------- the campaign
@dataclass
class Result:
    stats: Stats
    findings: list[Finding]  # new, one per signature
    duplicates: int
    seconds: float
    written: dict[str, Path]  # finding name -> file


def chunk_seed(campaign_seed: int, index: int) -> int:
    return zlib.crc32(f"parity-fuzz:{campaign_seed}:{index}".encode())


def run(config: Config, *, programs: int | None = None, minutes: float | None = None,
        campaign_seed: int = 0, workers: int = 1, out: Path | None = DEFAULT_OUT,
        isolate: bool = True, progress=None) -> Result:
    """Chunks until `programs` generated programs ran or `minutes` passed (either or both).
    Findings whose spec file already exists under `out` count as duplicates; new ones are
    written there when verified (or when verification is off)."""
    if programs is None and minutes is None:
        raise ValueError("give a number of programs or of minutes")
    load("torch"), load(config.engine)  # imported once, before the children fork
    start = time.time()
    stop_at = start + minutes * 60 if minutes is not None else None
    lock = threading.Lock()
    total = Stats()
    seen: set[tuple] = set()
    findings: list[Finding] = []
    written: dict[str, Path] = {}
    state = {"next": 0, "duplicates": 0, "issued": 0}

    def next_chunk() -> tuple[int, int] | None:
        with lock:
            if stop_at is not None and time.time() >= stop_at:
                return None
            done = total.programs + total.skipped + state["issued"]
            if programs is not None and done >= programs:
                return None
            count = CHUNK if programs is None else min(CHUNK, programs - done)
            index = state["next"]
            state["next"] += 1
            state["issued"] += count
            return index, count

    def work(runner) -> None:
        while (job := next_chunk()) is not None:
            index, count = job
            request = (chunk_seed(campaign_seed, index), count, frozenset(seen), stop_at)
            try:
                result = runner(request)
            except ChildDied:
                result = ChunkResult(Stats(crashed=1), [])
            with lock:
                state["issued"] -= count
                total.merge(result.stats)
                for found in result.findings:
                    if found.signature in seen or (out is not None and
                                                   (out / f"{found.name}.yaml").exists()):
                        state["duplicates"] += 1
                        seen.add(found.signature)
                        continue
                    seen.add(found.signature)
                    findings.append(found)
                    if out is not None and (found.verified or not config.verify):
                        out.mkdir(parents=True, exist_ok=True)
                        path = out / f"{found.name}.yaml"
                        path.write_text(found.text, encoding="utf-8")
                        written[found.name] = path
                if progress is not None:
                    progress(total, findings)

    def handler(request):
        return run_chunk(config, *request)

    if isolate and can_fork():
        supervisors = [Supervisor(handler) for _ in range(workers)]
        for supervisor in supervisors:  # forked now, from this thread
            supervisor.call((0, 0, frozenset(), None))
        runners = [supervisor.call for supervisor in supervisors]
    else:
        supervisors, runners = [], [handler] * workers
    try:
        if workers == 1:
            work(runners[0])
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(work, runners))
    finally:
        for supervisor in supervisors:
            supervisor.close(kill=True)
    return Result(total, findings, state["duplicates"], time.time() - start, written)
