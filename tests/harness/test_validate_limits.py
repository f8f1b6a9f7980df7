"""What a spec can do to the loader and to `parity validate` costs one line, never a hang.

Builtins that would loop or allocate in C for long are capped; a dry run that stays in one C call
past the time limit is killed (it runs in a child process); any harness failure in the dry run is
that spec's problem; a long program loads in linear time.
"""

import ast
import textwrap
import time

import pytest
import torch  # noqa: F401  imported once here, not inside a timed test

from harness.run import dryrun, strategies
from harness.spec import Spec, SpecError, api_names, load_file
from harness.spec import program as programs
from harness.spec.loader import MAX_FILE_BYTES
from harness.validate import validate

GOOD = """\
  - name: {name}
    description: fine
    inputs:
      x: {{shape: [2]}}
    program: y = x * 2
"""


def write(path, text: str):
    path.write_text(textwrap.dedent(text))
    return path


def test_a_long_program_loads_in_linear_time(tmp_path):
    # ast.get_source_segment per statement made this quadratic: 10k lines took 95 s
    line = "y = x * 2 + 1  # " + "a comment that pads the line to a realistic width " * 1 + "\n"
    count = (MAX_FILE_BYTES - 500) // (len(line) + 6)
    text = ("specs:\n  - name: long\n    description: d\n    inputs:\n      x: {shape: [2]}\n"
            "    program: |\n" + "".join("      " + line for _ in range(count)))
    path = tmp_path / "long.yaml"
    path.write_text(text)
    assert MAX_FILE_BYTES - 2_000 < path.stat().st_size <= MAX_FILE_BYTES
    start = time.process_time()  # CPU time: a busy machine does not stretch it
    [spec] = load_file(path, root=tmp_path).entries
    assert time.process_time() - start < 10
    assert isinstance(spec, Spec) and len(spec.program.statements) == count


def test_statement_sources_are_the_ast_segments():
    text = "a = 1\r\nb = ('é',\r\n     2); c = 3\rif a:\n    d = [\n1]\n\x0ce = 4\n"
    program = programs.parse(text)
    tree = ast.parse(text)
    assert [s.source for s in program.statements] == [
        ast.get_source_segment(text, node) for node in tree.body]


def run_program(text: str) -> dict:
    namespace = programs.namespace(torch, torch.nn.functional)
    for statement in programs.parse(text).statements:
        exec(statement.code, namespace)
    return namespace


@pytest.mark.parametrize("text, message", [
    ("s = sum(range(10**10))", "range(0, 10000000000) has 10000000000 elements"),
    ("s = sorted(range(10**9, 0, -1))", "range(1000000000, 0, -1) has 1000000000 elements"),
    ("s = len(range(10**30))", "has more than 2**63 elements"),
    ("a = [0] * 10**10", "repeating a list of length 1 10000000000 times"),
    ("a = 10**9 * (1, 2)", "repeating a tuple of length 2 1000000000 times"),
    ("n = 10**10\na = 'ab' * n", "repeating a str of length 2 10000000000 times"),
    ("a = [0] * 3 * 10**9", "repeating a list of length 3 1000000000 times"),
    ("def f(n):\n    return [[0] * n]\na = f(10**8)", "repeating a list of length 1"),
    ("a = 2 ** 10 ** 10", "2 ** 10000000000 has more than 1000000 bits"),
])
def test_builtins_that_would_run_long_in_c_refuse(text, message):
    start = time.perf_counter()
    with pytest.raises(programs.ProgramLimitError, match=message.replace("*", r"\*")
                       .replace("(", r"\(").replace(")", r"\)")):
        run_program(text)
    assert time.perf_counter() - start < 1


def test_capped_builtins_still_behave():
    ns = run_program("r = list(range(3, 10, 2))\nl = [0] * 3\nt = 2 * (1,)\ns = 'ab' * 2\n"
                     "p = 2 ** 10\nq = 2 ** -1\nx = torch.ones(2)\nz = [x] * 2\nw = (x * 3) ** 2\n"
                     "k = 10 ** x\nn = len(range(10**7))")
    assert (ns["r"], ns["l"], ns["t"], ns["s"], ns["p"], ns["q"]) == (
        [3, 5, 7, 9], [0, 0, 0], (1, 1), "abab", 1024, 0.5)
    assert ns["w"].tolist() == [9.0, 9.0] and ns["k"].tolist() == [10.0, 10.0]
    assert len(ns["z"]) == 2 and ns["n"] == 10**7


def test_validate_kills_a_dry_run_stuck_in_one_c_call(tmp_path):
    write(tmp_path / "c.yaml", "specs:\n" + GOOD.format(name="before") + """\
  - name: factorial
    description: one call in C that runs for minutes
    inputs:
      x: {shape: [2]}
    program: |
      y = x * 2
      f = math.factorial(10**8)
""" + GOOD.format(name="after"))
    start = time.perf_counter()
    outcome = validate([tmp_path], root=tmp_path, time_limit=1.0)
    elapsed = time.perf_counter() - start
    [problem] = outcome.problems
    assert str(problem).startswith("c.yaml:13:7: specs[1].program: dry run on PyTorch: did not "
                                   "finish within 1s")
    assert outcome.valid == 2  # the specs after it were still checked
    assert elapsed < 1.0 + dryrun.GRACE_S + 15


def test_a_harness_failure_in_the_dry_run_is_that_specs_problem(tmp_path, monkeypatch):
    write(tmp_path / "a.yaml", "specs:\n" + GOOD.format(name="boom") + GOOD.format(name="ok"))
    write(tmp_path / "b.yaml", "specs:\n" + GOOD.format(name="fine"))
    real = strategies.inputs

    def inputs(spec, variant):
        if spec.name == "boom":
            raise RuntimeError("no strategy for this\nsecond line")
        return real(spec, variant)

    monkeypatch.setattr(strategies, "inputs", inputs)
    outcome = validate([tmp_path], root=tmp_path, time_limit=2.0)
    [problem] = outcome.problems
    assert isinstance(problem, SpecError) and problem.spec_name == "boom"
    assert str(problem) == ("a.yaml:6:14: specs[0].program: dry run on PyTorch: could not draw "
                            "an example from the inputs (RuntimeError: no strategy for this)")
    assert outcome.valid == 2 and outcome.files == 2


def test_a_harness_failure_checking_names_is_that_specs_problem(tmp_path, monkeypatch):
    write(tmp_path / "a.yaml", "specs:\n" + GOOD.format(name="one"))

    def check(*args):
        raise KeyError("oops")

    monkeypatch.setattr(api_names, "check", check)
    [problem] = validate([tmp_path], root=tmp_path, time_limit=2.0).problems
    assert "the harness failed checking names (KeyError: 'oops')" in problem.message


@pytest.mark.parametrize("inputs", [
    "{shape: [3], dtype: uint8}",  # the default range [-10, 10] clipped to 0..10
    "{shape: [3], dtype: int64, range: [-0.5, 0.5]}",  # only 0, and that is fine
    "{shape: [2], dtype: bool, distinct: true}",
    "{shape: [11], dtype: uint8, distinct: true}",
    "{shape: [2], range: [-1, 1], avoid: [0], avoid_margin: 0.999}",
    "{shape: [2], range: [0, 0]}",
    "{shape: [2], fill: 3, dtype: [int64, float32]}",
    "{shape: [2], dtype: int64, classes: 3, distinct: true, nonzero: true}",
])
def test_options_that_leave_values_to_draw_load(tmp_path, inputs):
    write(tmp_path / "s.yaml", f"""\
specs:
  - name: s
    description: d
    inputs:
      x: {inputs}
    program: y = x + 1
""")
    [spec] = validate([tmp_path], root=tmp_path, time_limit=5.0).problems or [None]
    assert spec is None


def test_examples_that_fit_load(tmp_path):
    write(tmp_path / "s.yaml", """\
specs:
  - name: s
    description: d
    dims: {n: [1, 3]}
    inputs:
      x: {shape: [n, 2], dtype: [float32, int64]}
      m: {shape: [], dtype: bool}
    examples:
      - {x: [[1, 2.0], [3, -4]], m: true, n: 2}
      - {x: [[0, 0]], m: 0}
    program: y = x.sum() if m else n
""")
    assert validate([tmp_path], root=tmp_path, time_limit=5.0).problems == []


def test_examples_whose_dims_disagree_are_refused(tmp_path):
    write(tmp_path / "s.yaml", """\
specs:
  - name: s
    description: d
    dims: {n: [1, 3]}
    inputs:
      x: {shape: [n]}
      v: {shape: [n]}
    examples:
      - {x: [1, 2], v: [1, 2, 3]}
    program: y = x.sum() + v.sum()
""")
    [error] = load_file(tmp_path / "s.yaml", root=tmp_path).entries
    assert str(error) == ("s.yaml:9:21: specs[0].examples[0].v: the example makes n = 3 here, "
                          "but 2 in x")
