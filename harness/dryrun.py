"""Run a spec once on PyTorch alone, under a time limit, to catch what only running shows.

`parity validate` uses this: the pinned `examples:` and one drawn example per dtype variant,
PyTorch only. PyTorch must
agree with the spec's declared errors (as in a real run) and the program must finish in time (a
`while` loop that never ends would otherwise hang the validator).
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings

from harness import program as programs
from harness import strategies
from harness import trace as traces
from harness.backends import load
from harness.runner import BrokenSpec, check_declared_errors
from harness.spec import Spec
from harness.timeout import DEFAULT_LIMIT_S, ProgramTimeout, time_limit


def dry_run(spec: Spec, limit_s: float = DEFAULT_LIMIT_S) -> tuple[int, str] | None:
    """(program line, message) of the first problem, or None if PyTorch agrees with the spec."""
    torch_backend = load("torch")
    requires_grad = {n: d.requires_grad for n, d in spec.model.inputs.items()}
    expected = {r.line for r in spec.model.raises}
    runs = ((v, inputs) for v in spec.variants()
            for inputs in [*strategies.pinned_examples(spec, v), one_example(spec, v)])
    for _, inputs in runs:
        try:
            with time_limit(limit_s):
                trace = traces.run(spec.program, torch_backend, inputs, requires_grad, expected)
        except ProgramTimeout as exc:
            line = _statement_line(spec, _program_line(exc))
            return line, f"did not finish within {limit_s:g}s"
        try:
            check_declared_errors(spec, trace)
        except BrokenSpec as exc:
            return exc.line or 1, str(exc)
    return None


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
