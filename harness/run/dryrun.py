"""Run a spec once on PyTorch alone, under a time limit, to catch what only running shows.

`parity validate` uses this: the pinned `examples:` and one drawn example per dtype variant,
PyTorch only. PyTorch must
agree with the spec's declared errors (as in a real run) and the program must finish in time (a
`while` loop that never ends would otherwise hang the validator). `dry_runs` runs them in a child
process that is killed when one call runs past the limit (which the watchdog cannot interrupt).
"""

from __future__ import annotations

import mmap
import os
import pickle
import select
import signal
import struct
import sys
import time

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings

from harness.run import isolation, strategies
from harness.run import trace as traces
from harness.run.backends import load
from harness.run.runner import BrokenSpec, check_declared_errors
from harness.run.timeout import DEFAULT_LIMIT_S, ProgramTimeout, time_limit
from harness.spec import Spec
from harness.spec import program as programs

#: A problem: (program line, message); line None when the harness, not the program, failed.
Problem = tuple[int | None, str]
#: How long past the time limit a child may stay in one call before it is killed.
GRACE_S = 2.0
#: Address space a child may add to what it inherits: a program that asks for more gets a
#: MemoryError instead of the machine's memory (`sorted(range(10**9))` once took 23 GB).
CHILD_MEMORY_BYTES = 4 << 30


class HarnessFailure(Exception):
    """The dry run itself failed, not the program (inputs no strategy can draw, a harness bug)."""


def dry_run(spec: Spec, limit_s: float = DEFAULT_LIMIT_S,
            progress: _Progress | None = None) -> tuple[int, str] | None:
    """(program line, message) of the first problem, or None if PyTorch agrees with the spec.

    Raises HarnessFailure when an example cannot be drawn or the harness fails."""
    torch_backend = load("torch")
    requires_grad = {n: d.requires_grad for n, d in spec.model.inputs.items()}
    expected = {r.line for r in spec.model.raises}
    for inputs in _examples(spec):
        if progress is not None:
            progress.start_example()
        try:
            with time_limit(limit_s):
                trace = traces.run(spec.program, torch_backend, inputs, requires_grad, expected)
        except ProgramTimeout as exc:
            line = _statement_line(spec, _program_line(exc))
            return line, f"did not finish within {limit_s:g}s"
        except Exception as exc:
            raise HarnessFailure(f"the harness failed running the program ({_brief(exc)})") \
                from exc
        finally:
            if progress is not None:
                progress.end_example()
        for step in trace.steps:  # a capped builtin (harness.spec.program.MAX_ITEMS) said no
            if step.exception and step.exception.type == programs.ProgramLimitError.__name__ \
                    and step.line not in expected:
                return step.line, step.exception.message
        try:
            check_declared_errors(spec, trace)
        except BrokenSpec as exc:
            return exc.line or 1, str(exc)
    return None


def _examples(spec: Spec):
    """The pinned examples, then one drawn example, for each dtype variant."""
    for variant in spec.variants():
        try:
            drawn = [*strategies.pinned_examples(spec, variant), one_example(spec, variant)]
        except Exception as exc:
            raise HarnessFailure(f"could not draw an example from the inputs ({_brief(exc)})") \
                from exc
        yield from drawn


def _brief(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def dry_runs(specs: list[Spec], limit_s: float = DEFAULT_LIMIT_S) -> list[Problem | None]:
    """Each spec's dry run, in order, in a child process when the platform can fork.

    The watchdog (harness.run.timeout) stops Python loops, but not a single call that runs long in C
    (a huge matmul, a builtin over a huge iterable): the parent kills a child whose program stays
    in one example GRACE_S past the limit, reports that spec at the line it was running, and goes
    on with the next spec in a new child. A child's memory is capped (CHILD_MEMORY_BYTES)."""
    if not specs:
        return []
    if not _can_fork():
        return [_guarded(spec, limit_s) for spec in specs]
    results: dict[int, Problem | None] = {}
    start = 0
    while start < len(specs):
        start = _one_child(specs, start, limit_s, results)
    return [results[i] for i in range(len(specs))]


def _guarded(spec: Spec, limit_s: float, progress: _Progress | None = None) -> Problem | None:
    try:
        return dry_run(spec, limit_s, progress)
    except HarnessFailure as exc:
        return None, str(exc)
    except Exception as exc:  # anything else: still this spec's problem, never a traceback
        return None, f"the harness failed ({_brief(exc)})"


def _can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform.startswith("linux")


class _Progress:
    """What a child is doing, in memory shared with its parent: the spec (its position in the
    list), how many examples it started, whether a program is running, and the top-level program
    line it is on (followed with sys.settrace while a program runs)."""

    _FIELDS = struct.Struct("qqqq")

    def __init__(self):
        self._memory = mmap.mmap(-1, self._FIELDS.size)  # anonymous and shared across fork

    def read(self) -> tuple[int, int, int, int]:
        return self._FIELDS.unpack_from(self._memory)

    def start_spec(self, position: int) -> None:
        self._FIELDS.pack_into(self._memory, 0, position, 0, 0, 0)

    def start_example(self) -> None:
        position, started, _, _ = self.read()
        self._FIELDS.pack_into(self._memory, 0, position, started + 1, 1, 0)
        sys.settrace(self._on_call)

    def end_example(self) -> None:
        sys.settrace(None)
        struct.pack_into("q", self._memory, 16, 0)

    def _on_call(self, frame, event, arg):
        code = frame.f_code
        if code.co_filename == programs.FILENAME and code.co_name == "<module>":
            return self._on_line  # a top-level statement: follow its lines
        return None

    def _on_line(self, frame, event, arg):
        if event == "line":
            struct.pack_into("q", self._memory, 24, frame.f_lineno)
        return self._on_line


def _one_child(specs: list[Spec], start: int, limit_s: float,
               results: dict[int, Problem | None]) -> int:
    """Dry-run specs[start:] in one child; returns where the next child starts (len when done)."""
    progress = _Progress()
    progress.start_spec(start)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(read_end)
            _child(specs, start, limit_s, progress, write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    buffer, seen, since, killed, done = b"", None, time.monotonic(), None, False
    try:
        while True:
            if select.select([read_end], [], [], 0.05)[0]:
                chunk = os.read(read_end, 1 << 16)
                if not chunk:
                    done = True  # the child is done (or died)
                    break
                buffer += chunk
                while len(buffer) >= 4 and len(buffer) >= 4 + int.from_bytes(buffer[:4], "big"):
                    size = int.from_bytes(buffer[:4], "big")
                    position, result = pickle.loads(buffer[4 : 4 + size])
                    results[position] = result
                    buffer = buffer[4 + size :]
            position, started, running, line = progress.read()
            if (position, started) != seen:
                seen, since = (position, started), time.monotonic()
            elif running and limit_s and time.monotonic() - since > limit_s + GRACE_S:
                killed = position, line
                break
            elif limit_s and time.monotonic() - since > max(60.0, 6 * limit_s):
                killed = position, None  # stuck drawing or checking an example
                break
    finally:  # also on KeyboardInterrupt: never leave a child running
        if not done:
            os.kill(pid, signal.SIGKILL)
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
    if killed is not None:
        position, line = killed
        results[position] = (
            (_statement_line(specs[position], line or None),
             f"did not finish within {limit_s:g}s (stopped in a single long call, which the "
             "time limit cannot interrupt)") if line is not None else
            (None, f"the harness did not finish drawing or checking an example in "
                   f"{max(60.0, 6 * limit_s):g}s"))
        return position + 1
    missing = next((i for i in range(start, len(specs)) if i not in results), None)
    if missing is None:
        return len(specs)
    _, _, _, line = progress.read()
    how = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
           else f"exit status {os.waitstatus_to_exitcode(status)}")
    results[missing] = (_statement_line(specs[missing], line or None),
                        f"the dry run's process died ({how}; out of memory?)")
    return missing + 1


def _child(specs: list[Spec], start: int, limit_s: float, progress: _Progress,
           out: int) -> None:
    import torch

    torch.set_num_threads(1)  # OpenMP's thread pool does not survive fork: it would hang
    isolation.scrub_environment()  # as a run's items: no secrets for the programs
    isolation.cap_memory(CHILD_MEMORY_BYTES)
    for position in range(start, len(specs)):
        progress.start_spec(position)
        result = _guarded(specs[position], limit_s, progress)
        data = pickle.dumps((position, result))
        data = len(data).to_bytes(4, "big") + data
        while data:
            data = data[os.write(out, data):]


def one_example(spec: Spec, variant: dict[str, str]) -> dict[str, np.ndarray]:
    """One example from the spec's strategy, deterministically (the first Hypothesis tries)."""
    drawn: list[dict[str, np.ndarray]] = []

    @settings(max_examples=1, database=None, derandomize=True, phases=[Phase.generate],
              deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategies.inputs(spec, variant))
    def draw(inputs):
        drawn.append(inputs)

    draw()
    return drawn[0]


def _statement_line(spec: Spec, line: int | None) -> int:
    for s in spec.program.statements:
        if line is not None and s.line <= line <= s.end_line:
            return s.line
    return spec.program.statements[0].line


def _program_line(exc: BaseException) -> int | None:
    """The top-level program line that was running when the time ran out."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == programs.FILENAME and line is None:
            line = tb.tb_lineno  # the outermost program frame: a top-level statement
        tb = tb.tb_next
    return line
