"""Stateful differential testing of autograd: a Hypothesis state machine that grows a graph.

Specs test programs someone wrote down; engines break on sequences nobody would write down:
a hook on a tensor that is then modified in place, `grad.zero_()` between two backward calls
through a retained graph, a view of a detached alias updated under `no_grad`.  `AutogradMachine`
keeps two parallel *worlds*, one per backend (PyTorch, the oracle, and the engine), each a list
of tensors built by the same operations, so an index (a value of the `tensors` bundle) names the
same tensor in both.  Every rule is one *step*:

1. run the operation on PyTorch, then on the engine, each inside `warnings.catch_warnings`,
   catching any exception (type name and `normalise`d message);
2. assert both raised the same exception (or none) and the same warnings; a step that raised on
   both sides adds nothing, so the worlds stay in sync;
3. observe every tensor of both worlds with `observe_tensor` and compare the pairs with a
   `Comparator` (PyTorch's `assert_close` tolerances), plus the calls the recording hooks saw.

Any difference fails the step with the step, the tensor, the field and both values, followed by
the whole program so far in PyTorch syntax (runnable as is: the reproduction).

Rules whose API the engine lacks (checked with `hasattr` when this module is imported) are
switched off by preconditions and their ops left out of the op tables, so the machine picks up
new engine features by itself.  Divergences the machine finds are fixed in the engine, or
become a spec with an entry in specs/expectations.yaml: the machine never skips a step to
avoid one.  Those it found so far are specs in specs/autograd/stateful_findings.yaml.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.stateful import Bundle, RuleBasedStateMachine, multiple, precondition, rule

from harness.run.backends import Backend, load
from harness.run.compare import Comparator, exception_text, show
from harness.run.trace import ExceptionRecord, TensorState, normalise, observe_tensor

SHAPES = [(), (3,), (2, 3)]  # all three broadcast together
# float64 only: float32 transcendental ops differ by an ULP or two between numpy and PyTorch,
# and a random chain compounds that past assert_close's float32 tolerance (exp(exp(exp(1)))
# differs by 57 ULP).  The machine tests autograd state; op accuracy is the specs' business.
DTYPES = [np.float64]
ELEMENTS = st.floats(-3, 3, width=32, allow_subnormal=False)


# ----------------------------------------------------------------- what the engine offers
@cache
def engine_has(path: str) -> bool:
    """`"tanh"` (a `torch.*` name), `"Tensor.add_"` or `"autograd.grad"`, on the engine."""
    obj = load("engine").module
    for part in path.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


@dataclass(frozen=True)
class Op:
    """One operation, as source text and as a function of (module, *tensors)."""

    name: str
    source: str  # str.format template over x, y
    apply: Callable
    needs: tuple[str, ...] = ()  # engine_has() paths

    def text(self, x: str, y: str | None = None) -> str:
        return self.source.format(x=x, y=y)

    def __repr__(self) -> str:
        return self.name

    def _repr_pretty_(self, p, cycle) -> None:  # how Hypothesis prints the falsifying steps
        p.text(self.name)


def _available(ops: list[Op]) -> list[Op]:
    return [op for op in ops if all(engine_has(n) for n in op.needs)]


UNARY = _available([
    Op("exp", "{x}.exp()", lambda m, x: x.exp(), ("Tensor.exp",)),
    Op("tanh", "torch.tanh({x})", lambda m, x: m.tanh(x), ("tanh",)),
    Op("sigmoid", "torch.sigmoid({x})", lambda m, x: m.sigmoid(x), ("sigmoid",)),
    Op("neg", "-{x}", lambda m, x: -x, ("Tensor.__neg__",)),
    Op("half", "{x} * 0.5", lambda m, x: x * 0.5, ("Tensor.__mul__",)),
    Op("double", "2 * {x}", lambda m, x: 2 * x, ("Tensor.__rmul__",)),
    Op("one_minus", "1 - {x}", lambda m, x: 1 - x, ("Tensor.__rsub__",)),
    Op("reciprocal", "1 / {x}", lambda m, x: 1 / x, ("Tensor.__rtruediv__",)),
    Op("sum", "{x}.sum()", lambda m, x: x.sum(), ("Tensor.sum",)),
    Op("mean", "{x}.mean()", lambda m, x: x.mean(), ("Tensor.mean",)),
    Op("sum_last", "{x}.sum(-1)", lambda m, x: x.sum(-1), ("Tensor.sum",)),
    Op("clone", "{x}.clone()", lambda m, x: x.clone(), ("Tensor.clone",)),
    Op("select0", "{x}[0]", lambda m, x: x[0], ("Tensor.__getitem__",)),
])
BINARY = _available([
    Op("add", "{x} + {y}", lambda m, x, y: x + y, ("Tensor.__add__",)),
    Op("sub", "{x} - {y}", lambda m, x, y: x - y, ("Tensor.__sub__",)),
    Op("mul", "{x} * {y}", lambda m, x, y: x * y, ("Tensor.__mul__",)),
    Op("div", "{x} / {y}", lambda m, x, y: x / y, ("Tensor.__truediv__",)),
])
INPLACE = _available([  # y is a tensor index, or None for the scalar forms
    Op("add_", "{x}.add_({y})", lambda m, x, y: x.add_(y), ("Tensor.add_",)),
    Op("mul_", "{x}.mul_({y})", lambda m, x, y: x.mul_(y), ("Tensor.mul_",)),
    Op("sub_", "{x}.sub_({y})", lambda m, x, y: x.sub_(y), ("Tensor.sub_",)),
    Op("div_", "{x}.div_({y})", lambda m, x, y: x.div_(y), ("Tensor.div_",)),
])
INPLACE_SCALAR = _available([
    Op("add_1", "{x}.add_(1)", lambda m, x: x.add_(1), ("Tensor.add_",)),
    Op("mul_2", "{x}.mul_(2)", lambda m, x: x.mul_(2), ("Tensor.mul_",)),
    Op("zero_", "{x}.zero_()", lambda m, x: x.zero_(), ("Tensor.zero_",)),
])


@dataclass(frozen=True)
class HookKind:
    name: str
    source: str  # the hook as written in the reproduction (`log` is a list there)

    def make(self, log: list):
        if self.name == "double":
            return lambda g: g * 2
        if self.name == "negate":
            return lambda g: -g

        def record(g):
            log.append(observe_tensor(g))

        return record

    def __repr__(self) -> str:
        return self.name

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(self.name)


HOOKS = [
    HookKind("double", "lambda g: g * 2"),
    HookKind("record", "lambda g: log.append(g.clone())"),
    HookKind("negate", "lambda g: -g"),
]

# Exceptions and warnings as the step saw them
Outcome = tuple[object, ExceptionRecord | None, tuple[tuple[str, str], ...]]


@dataclass
class World:
    """One backend's side: the tensors, hook handles and what the recording hooks saw."""

    backend: Backend
    tensors: list = field(default_factory=list)
    handles: list = field(default_factory=list)
    log: list[TensorState] = field(default_factory=list)

    @property
    def m(self):
        return self.backend.module

    def attempt(self, action: Callable[[World], object]) -> Outcome:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result, exc = action(self), None
            except Exception as e:  # the operation's own exception is an observation
                result, exc = None, ExceptionRecord(type(e).__name__, normalise(str(e)))
            finally:
                self.backend.reset()  # grad mode back on, whatever happened
        return result, exc, tuple((w.category.__name__, normalise(str(w.message)))
                                  for w in caught)


def _silent_grad(t):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return t.grad


def _warnings_text(records) -> str:
    return "\n".join(f"{c}: {m}" for c, m in records) or "(no warnings)"


def _indent(text: str, by: str = "            ") -> str:
    return text.replace("\n", "\n" + by)


def _leaf_arrays():
    return st.tuples(st.sampled_from(DTYPES), st.sampled_from(SHAPES)).flatmap(
        lambda ds: hnp.arrays(ds[0], ds[1], elements=ELEMENTS))


def _with_no_grad(source: str, no_grad: bool) -> str:
    return f"with torch.no_grad(): {source}" if no_grad else source


# Mostly grad mode on; shrinks towards it.
GRAD_MODE = st.sampled_from([False, False, False, True])


class AutogradMachine(RuleBasedStateMachine):
    """Grows a random autograd graph on PyTorch and the engine at once; see the module doc."""

    tensors = Bundle("tensors")  # indices into both worlds' tensor lists
    hooks = Bundle("hooks")  # indices into both worlds' handle lists

    def __init__(self):
        super().__init__()
        self.worlds = (World(load("torch")), World(load("engine")))
        self.comparator = Comparator()
        self.program = ["import torch", "log = []"]
        self.raised = False  # whether the last step raised (on both sides)

    # ------------------------------------------------------------- the step
    def _step(self, source: str, action: Callable[[World], object]) -> tuple[object, object]:
        """Run `action` on both worlds, compare what it raised and warned, then every tensor."""
        self.program.append(source)
        (t_res, t_exc, t_warn), (e_res, e_exc, e_warn) = (w.attempt(action) for w in self.worlds)
        problems = []
        if t_exc != e_exc:
            problems.append(("exception", exception_text(t_exc), exception_text(e_exc), ""))
        if t_warn != e_warn:
            problems.append(("warnings", _warnings_text(t_warn), _warnings_text(e_warn), ""))
        if problems:
            self._fail(problems)
        self.raised = t_exc is not None
        return t_res, e_res

    def _check_state(self) -> None:
        torch_w, engine_w = self.worlds
        problems = []
        for i, (t, e) in enumerate(zip(torch_w.tensors, engine_w.tensors, strict=True)):
            t_obs, e_obs = observe_tensor(t), observe_tensor(e)
            for fld, tv, ev, detail in self.comparator.compare_values(f"t{i}", t_obs, e_obs):
                problems.append((f"t{i}.{fld}", tv, ev, detail))
        if len(torch_w.log) != len(engine_w.log):
            problems.append(("log (recording hook calls)", f"{len(torch_w.log)} calls",
                             f"{len(engine_w.log)} calls", ""))
        for j, (t_obs, e_obs) in enumerate(zip(torch_w.log, engine_w.log, strict=False)):
            for fld, tv, ev, detail in self.comparator.compare_values(f"log[{j}]", t_obs, e_obs):
                problems.append((f"log[{j}].{fld}", tv, ev, detail))
        if problems:
            self._fail(problems)

    def _fail(self, problems) -> None:
        number = len(self.program) - 2
        lines = [f"step {number} `{self.program[-1]}`:"]
        for where, tv, ev, detail in problems:
            lines.append(f"  {where} differs\n    torch : {_indent(tv)}\n    engine: {_indent(ev)}"
                         + (f"\n    {detail}" if detail else ""))
        lines.append("program (PyTorch syntax; the engine ran the same steps):")
        lines.extend(f"    {line}" for line in self.program)
        raise AssertionError("\n".join(lines))

    def _add_result(self, results) -> object:
        """Append a step's results to both worlds (nothing if it raised on both sides)."""
        if self.raised:
            self._check_state()
            return multiple()
        t_res, e_res = results
        torch_w, engine_w = self.worlds
        t_is, e_is = isinstance(t_res, torch_w.m.Tensor), isinstance(e_res, engine_w.m.Tensor)
        if t_is != e_is:
            self._fail([("result", show(t_res), show(e_res), "one side is not a tensor")])
        if not t_is:
            self._check_state()
            return multiple()
        index = len(torch_w.tensors)
        torch_w.tensors.append(t_res)
        engine_w.tensors.append(e_res)
        self._check_state()
        return index

    def _next_name(self) -> str:
        return f"t{len(self.worlds[0].tensors)}"

    # ------------------------------------------------------------- graph growth
    @rule(target=tensors, array=_leaf_arrays(), requires_grad=st.booleans())
    def leaf(self, array, requires_grad):
        dtype = f"torch.{array.dtype}"
        source = (f"{self._next_name()} = torch.tensor({array.tolist()!r}, dtype={dtype}, "
                  f"requires_grad={requires_grad})")
        results = self._step(source, lambda w: w.m.tensor(array.copy(),
                                                          requires_grad=requires_grad))
        return self._add_result(results)

    @precondition(lambda self: UNARY)
    @rule(target=tensors, op=st.sampled_from(UNARY or [None]), x=tensors, no_grad=GRAD_MODE)
    def unary(self, op, x, no_grad):
        source = _with_no_grad(f"{self._next_name()} = {op.text(f't{x}')}", no_grad)
        results = self._step(source, lambda w: self._maybe_no_grad(
            w, no_grad, lambda: op.apply(w.m, w.tensors[x])))
        return self._add_result(results)

    @precondition(lambda self: BINARY)
    @rule(target=tensors, op=st.sampled_from(BINARY or [None]), x=tensors, y=tensors,
          no_grad=GRAD_MODE)
    def binary(self, op, x, y, no_grad):
        source = _with_no_grad(f"{self._next_name()} = {op.text(f't{x}', f't{y}')}", no_grad)
        results = self._step(source, lambda w: self._maybe_no_grad(
            w, no_grad, lambda: op.apply(w.m, w.tensors[x], w.tensors[y])))
        return self._add_result(results)

    @precondition(lambda self: engine_has("Tensor.detach"))
    @rule(target=tensors, x=tensors)
    def detach(self, x):
        source = f"{self._next_name()} = t{x}.detach()"
        return self._add_result(self._step(source, lambda w: w.tensors[x].detach()))

    @staticmethod
    def _maybe_no_grad(w: World, no_grad: bool, thunk):
        if not no_grad:
            return thunk()
        with w.m.no_grad():
            return thunk()

    # ------------------------------------------------------------- in-place ops
    @precondition(lambda self: INPLACE)
    @rule(op=st.sampled_from(INPLACE or [None]), x=tensors, y=tensors, no_grad=GRAD_MODE)
    def inplace(self, op, x, y, no_grad):
        """On any tensor: on a leaf that requires grad both sides must raise (unless no_grad)."""
        source = _with_no_grad(op.text(f"t{x}", f"t{y}"), no_grad)
        self._step(source, lambda w: self._maybe_no_grad(
            w, no_grad, lambda: op.apply(w.m, w.tensors[x], w.tensors[y])))
        self._check_state()

    @precondition(lambda self: INPLACE_SCALAR)
    @rule(op=st.sampled_from(INPLACE_SCALAR or [None]), x=tensors, no_grad=GRAD_MODE)
    def inplace_scalar(self, op, x, no_grad):
        source = _with_no_grad(op.text(f"t{x}"), no_grad)
        self._step(source, lambda w: self._maybe_no_grad(
            w, no_grad, lambda: op.apply(w.m, w.tensors[x])))
        self._check_state()

    # ------------------------------------------------------------- backward
    @rule(x=tensors, retain_graph=st.booleans())
    def backward(self, x, retain_graph):
        """`backward()` on a scalar: the tensor itself if 0-d, else its sum."""
        scalar = self.worlds[0].tensors[x].dim() == 0
        target = f"t{x}" if scalar else f"t{x}.sum()"
        source = f"{target}.backward(retain_graph={retain_graph})"

        def action(w):
            t = w.tensors[x]
            (t if scalar else t.sum()).backward(retain_graph=retain_graph)

        self._step(source, action)
        self._check_state()

    @precondition(lambda self: engine_has("autograd.grad"))
    @rule(target=tensors, y=tensors, x=tensors, retain_graph=st.booleans(),
          create_graph=st.booleans())
    def autograd_grad(self, y, x, retain_graph, create_graph):
        """`torch.autograd.grad(y.sum(), x)`; the grad joins the worlds (with create_graph it
        has a graph of its own, so later steps differentiate through a backward pass)."""
        source = (f"({self._next_name()},) = torch.autograd.grad(t{y}.sum(), t{x}, "
                  f"retain_graph={retain_graph}, create_graph={create_graph}, "
                  "allow_unused=True)")

        def action(w):
            (g,) = w.m.autograd.grad(w.tensors[y].sum(), w.tensors[x], retain_graph=retain_graph,
                                     create_graph=create_graph, allow_unused=True)
            return g

        return self._add_result(self._step(source, action))

    # ------------------------------------------------------------- .grad
    def _with_grad(self) -> list[int]:
        return [i for i, t in enumerate(self.worlds[0].tensors) if _silent_grad(t) is not None]

    @rule(x=tensors)
    def grad_none(self, x):
        source = f"t{x}.grad = None"

        def action(w):
            w.tensors[x].grad = None

        self._step(source, action)
        self._check_state()

    @precondition(lambda self: engine_has("ones_like"))
    @rule(x=tensors)
    def grad_assign(self, x):
        source = f"t{x}.grad = torch.ones_like(t{x})"

        def action(w):
            t = w.tensors[x]
            t.grad = w.m.ones_like(t)

        self._step(source, action)
        self._check_state()

    @precondition(lambda self: engine_has("Tensor.zero_") and self._with_grad())
    @rule(pick=st.integers(0, 63))
    def grad_zero(self, pick):
        """`x.grad.zero_()` on a tensor (picked by PyTorch's side) whose grad is not None."""
        candidates = self._with_grad()
        x = candidates[pick % len(candidates)]
        self._step(f"t{x}.grad.zero_()", lambda w: w.tensors[x].grad.zero_())
        self._check_state()

    @precondition(lambda self: engine_has("Tensor.retain_grad"))
    @rule(x=tensors)
    def retain_grad(self, x):
        self._step(f"t{x}.retain_grad()", lambda w: w.tensors[x].retain_grad())
        self._check_state()

    @precondition(lambda self: engine_has("Tensor.requires_grad_"))
    @rule(x=tensors, flag=st.booleans())
    def requires_grad_(self, x, flag):
        self._step(f"t{x}.requires_grad_({flag})", lambda w: w.tensors[x].requires_grad_(flag))
        self._check_state()

    # ------------------------------------------------------------- hooks
    @precondition(lambda self: engine_has("Tensor.register_hook"))
    @rule(target=hooks, x=tensors, kind=st.sampled_from(HOOKS))
    def register_hook(self, x, kind):
        torch_w = self.worlds[0]
        source = f"h{len(torch_w.handles)} = t{x}.register_hook({kind.source})"
        results = self._step(source, lambda w: w.tensors[x].register_hook(kind.make(w.log)))
        self._check_state()
        if self.raised:
            return multiple()
        for w, handle in zip(self.worlds, results, strict=True):
            w.handles.append(handle)
        return len(torch_w.handles) - 1

    @precondition(lambda self: engine_has("Tensor.register_hook"))
    @rule(h=hooks)
    def remove_hook(self, h):
        self._step(f"h{h}.remove()", lambda w: w.handles[h].remove())
        self._check_state()
