"""The generator: every program it makes passes the spec allow-list and runs on PyTorch, raising
only where the program model says PyTorch may refuse (or after such a statement, whose variable
is then missing); its ops come from the engine's op table."""

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.ops.surface import OPS as SURFACE
from harness.fuzz import program, render
from harness.run import strategies
from harness.run import trace as traces
from harness.run.backends import load

RUNS = Counter()


@settings(max_examples=500, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_programs_pass_the_guard_and_run_on_pytorch(data):
    fuzzed = data.draw(program.programs())
    spec = render.spec(fuzzed)  # the allow-list (harness.spec.program) accepts it
    assert [s.line for s in spec.program.statements] == [
        line for line in range(1, fuzzed.text.count("\n") + 1) if fuzzed.statement_at(line)]
    inputs = data.draw(strategies.inputs(spec, {leaf.name: leaf.dtype
                                                for leaf in fuzzed.leaves}))
    trace = traces.run(spec.program, load("torch"), inputs,
                       {leaf.name: leaf.requires_grad for leaf in fuzzed.leaves},
                       spec.program.statement_lines)
    assert len(trace.steps) == len(fuzzed) + 1  # every statement ran
    refused = False  # once PyTorch refused a statement, later ones may miss its variable
    for step in trace.steps[1:]:
        statement = fuzzed.statement_at(step.line)
        RUNS.update({statement.op, *statement.features})
        if step.exception:
            assert statement.may_raise or refused, (fuzzed.text, step.line, step.exception)
            refused = True


def test_the_programs_above_used_every_op():
    """(Runs after the property.) A generator change that makes an op unreachable fails here."""
    if not RUNS:
        pytest.skip("run with the property test")
    assert set(RUNS) >= {op.name for op in program.OPS}, \
        {op.name for op in program.OPS} - set(RUNS)


def test_every_op_is_on_the_engines_op_table():
    """The generator draws from the engine's public surface: each name an op needs is a
    function or Tensor attribute the op table (engine/ops/surface.py) or the engine defines."""
    functions = {n for op in SURFACE for n in op.functions()}
    methods = {n for op in SURFACE for n in op.methods()}
    engine = load("engine").module
    for op in program.OPS:
        for name in op.needs:
            if name.startswith("Tensor."):
                attr = name.removeprefix("Tensor.")
                assert attr in methods or hasattr(engine.Tensor, attr), name
            else:
                assert name in functions or program.offers(engine, name), name


def test_select_ops():
    assert {op.name for op in program.select_ops(["add", "view"])} == \
        {"add"} | {op.name for op in program.OPS if op.kind == "view"}
    assert "backward" not in {op.name for op in program.select_ops(exclude=["autograd"])}
    with pytest.raises(ValueError, match="unknown op 'nope'"):
        program.select_ops(["nope"])
    with pytest.raises(ValueError, match="no op left"):
        program.select_ops(["add"], ["add"])


def test_an_engine_without_an_op_does_not_get_it():
    class Tensor:
        def __add__(self, other): ...

    class Engine:
        pass

    Engine.Tensor = Tensor
    assert {op.name for op in program.select_ops(engine=Engine)} == {"add", "print"}


def test_building_is_deterministic_and_each_gene_is_a_statement():
    leaves = (program.Leaf("a", (2, 3), "float64", True),
              program.Leaf("b", (3,), "float32", False))
    genes = [(i * 7, i, 2 * i, 3 * i, 5 * i) for i in range(10)]
    first, second = program.build(leaves, genes), program.build(leaves, genes)
    assert first.text == second.text and len(first) == 10


def test_broadcast_and_promotion_rules():
    assert program.broadcast((2, 1), (3,)) == (2, 3)
    assert program.broadcast((2,), (3,)) is None
    f32 = program.Var("x", (3,), "float32", True, True)
    f64_0d = program.Var("y", (), "float64", True, True)
    i64 = program.Var("z", (3,), "int64", False, True)
    assert program.promote(f32, f64_0d) == "float32"  # a 0-d tensor does not promote
    assert program.promote(i64, f64_0d) == "float64"  # unless it is of a higher category
    assert program.promote(i64, 0.5) == "float32"
