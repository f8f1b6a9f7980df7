"""A trace stores what is compared, once: a value that did not change between statements is the
same object (and memory) in every step that observes it, and a value that changed, in any way a
user can see, is observed again, on both backends."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from harness.run import trace as traces
from harness.run.backends import load
from harness.spec.program import parse

MB = 1 << 20


def run(program: str, backend: str, inputs: dict, requires_grad: dict | None = None):
    requires_grad = requires_grad or dict.fromkeys(inputs, False)
    return traces.run(parse(program, set(inputs)), load(backend), inputs,
                      requires_grad)


def stored_bytes(trace: traces.Trace) -> int:
    """Bytes of the distinct arrays a trace holds."""
    arrays = {}
    for step in trace.steps:
        for state in step.state.values():
            if isinstance(state, traces.TensorState):
                for array in (state.data, state.grad):
                    if array is not None:
                        arrays[id(array.values)] = array.values.nbytes
    return sum(arrays.values())


@pytest.mark.parametrize("backend", ["torch", "engine"])
def test_a_big_tensor_is_stored_once(backend):
    """Issue #12: one 64 MB tensor and 30 trivial statements peaked at 4.3 GB (a copy of every
    tensor after every statement, on both backends). Now the trace holds it once, and a run's
    peak is near twice the tensor: the program's own tensor and the trace's copy."""
    big = np.ones(16 * MB, dtype=np.float32)  # 64 MB
    program = "y = x\n" + "".join(f"a{i} = {i}\n" for i in range(30))
    tracemalloc.start()
    try:
        trace = run(program, backend, {"x": big})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(trace.steps) == 32
    assert stored_bytes(trace) == big.nbytes
    # numpy's allocations are traced, PyTorch's own are not: the engine's tensor, the input's
    # copy and the trace's copy (each 1x) may coexist for a moment; 30 copies may not
    assert peak < 3.5 * big.nbytes, peak / big.nbytes
    assert trace.steps[-1].state["y"] is trace.steps[1].state["x"]


@pytest.mark.parametrize("backend", ["torch", "engine"])
def test_what_changes_is_observed_again(backend):
    """Every way a statement can change what a user sees of a tensor, including those that
    bump no version counter (`.data` writes) or leave the tensor object in place."""
    program = "\n".join([
        "y = x * 2",            # 1: a new tensor
        "z = y",                # 2: nothing changes
        "x.data.mul_(3)",       # 3: values, no version bump
        "y.retain_grad()",      # 4: a flag
        "y.sum().backward()",   # 5: grads (x's, y's)
        "w = 1",                # 6: nothing changes
        "x.grad.zero_()",       # 7: the grad in place
        "x.grad = None",        # 8: the grad gone
        "x.data = x.data[:1]",  # 9: new data, other shape
        "x.requires_grad_(False)",  # 10: a flag
    ])
    x = np.array([1.0, 2.0], dtype=np.float32)
    trace = run(program, backend, {"x": x}, {"x": True})
    steps = trace.steps
    assert [s.line for s in steps] == list(range(11))
    assert all(s.exception is None for s in steps), [s.exception for s in steps]

    def x_at(i):
        return steps[i].state["x"]

    assert x_at(1) is x_at(0) and x_at(2) is x_at(1)  # unchanged: the same object
    assert steps[2].state["z"] is steps[2].state["y"] is steps[1].state["y"]
    assert x_at(3).data.values.tolist() == [3.0, 6.0] and x_at(3) is not x_at(2)
    assert steps[4].state["y"].retains_grad and steps[4].state["y"] is not steps[3].state["y"]
    assert x_at(5).grad.values.tolist() == [2.0, 2.0]
    assert steps[5].state["y"].grad.values.tolist() == [1.0, 1.0]
    assert x_at(6) is x_at(5) and steps[6].state["y"] is steps[5].state["y"]
    assert x_at(7).grad.values.tolist() == [0.0, 0.0]
    assert x_at(8).grad is None
    assert x_at(9).data.values.tolist() == [3.0] and x_at(9).data.shape == (1,)
    assert x_at(10).requires_grad is False and x_at(10).data is x_at(9).data


@pytest.mark.parametrize("backend", ["torch", "engine"])
def test_a_non_leaf_grad_warns_after_every_statement(backend):
    """Reading a non-leaf's `.grad` warns each time: the warning is part of every step's
    observation, not only of the first (and never of the statement's own warnings)."""
    x = np.array([1.0, 2.0], dtype=np.float32)
    trace = run("y = x * 2\nw = 1\nv = 2", backend, {"x": x}, {"x": True})
    for step in trace.steps[1:]:
        assert step.state["y"].grad_warnings and "not a leaf" in step.state["y"].grad_warnings[0]
        assert step.warnings == ()


@pytest.mark.parametrize("backend", ["torch", "engine"])
def test_output_and_warnings_are_taken_per_statement(backend):
    x = np.array([1.0, 2.0], dtype=np.float32)
    program = "print(1)\ny = x * 2\nprint(2)\nprint(3)\nz = y.grad\nw = 0"
    trace = run(program, backend, {"x": x}, {"x": True})
    assert [s.stdout for s in trace.steps] == ["", "1\n", "", "2\n", "3\n", "", ""]
    assert [len(s.warnings) for s in trace.steps] == [0, 0, 0, 0, 0, 1, 0]
    assert trace.steps[5].warnings[0].line == 5


def test_same_bits():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert traces.same_bits(a, a.copy())
    assert not traces.same_bits(a, a.astype(np.float64))
    assert not traces.same_bits(a, a.reshape(3, 2))
    assert traces.same_bits(a.T.copy(), a.T)  # a view in another memory order
    nan = np.array([np.nan, -0.0], dtype=np.float32)
    assert traces.same_bits(nan, nan.copy())  # NaN equals itself bit for bit
    assert not traces.same_bits(nan, np.array([np.nan, 0.0], dtype=np.float32))
    big = np.zeros(3 * MB, dtype=np.uint8)  # compared block by block
    other = big.copy()
    assert traces.same_bits(big, other)
    other[-1] = 1
    assert not traces.same_bits(big, other)


@pytest.mark.parametrize("backend", ["torch", "engine"])
def test_tensors_and_grads_that_require_grad_are_observed(backend):
    """PyTorch's tensors that need no grad are read without detach(): one that does, and a
    `.grad` made with create_graph (which requires grad itself), are still read."""
    program = ("y = (x * x).sum()\ny.backward(create_graph=True)\nz = x.grad * 2\n"
               "w = x.detach()")
    trace = run(program, backend, {"x": np.array([1.0, 2.0], dtype=np.float32)},
                {"x": True})
    assert [s.exception for s in trace.steps] == [None] * 5
    last = trace.steps[-1].state
    assert last["x"].grad.values.tolist() == [2.0, 4.0]
    assert last["z"].requires_grad and last["z"].data.values.tolist() == [4.0, 8.0]
    assert not last["w"].requires_grad and last["w"].data.values.tolist() == [1.0, 2.0]
