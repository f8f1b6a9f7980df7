"""Run a program statement by statement on one backend and record what a user could observe.

After every top-level statement the trace holds: the text it printed, the warnings and the
exception it raised, and the state of every variable: for tensors their values, shape, dtype,
requires_grad, is_leaf, grad_fn class name, retains_grad and `.grad` (None or values, plus the
warnings that reading it raised). Addresses and PyTorch's "(Triggered internally at ...)" tails
are normalised here, so the comparison never sees them.
"""

from __future__ import annotations

import contextlib
import io
import re
import types
import warnings
from contextlib import redirect_stdout
from dataclasses import dataclass, field

import numpy as np

from harness.run import attribution
from harness.run.backends import Backend
from harness.spec import program as programs

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_TRIGGERED = re.compile(r"\s*\(Triggered internally at [^)]*\)\.?\s*$")


def normalise(text: str) -> str:
    """Remove what legitimately differs between runs: object addresses and C++ build paths."""
    return _ADDRESS.sub("0x…", _TRIGGERED.sub("", text))


# ArrayState and TensorState are built for every tensor after every statement: slots and no
# frozen __setattr__ make that cheaper by half (observation is a quarter of a run's time).
@dataclass(slots=True)
class ArrayState:
    """A tensor's data as the user sees it (used for values and for `.grad`)."""

    values: np.ndarray
    dtype: str  # "float32" (without the "torch." prefix)
    shape: tuple[int, ...]


@dataclass(slots=True)
class TensorState:
    data: ArrayState
    requires_grad: bool
    is_leaf: bool | str  # str: the error reading it raised
    grad_fn: str | None
    retains_grad: bool
    grad: ArrayState | None
    grad_warnings: tuple[str, ...]


@dataclass(frozen=True)
class Opaque:
    """A value compared by a short description only (a grad_fn node, a dtype, a function)."""

    kind: str
    text: str


@dataclass(frozen=True)
class MappingState:
    """A dict's items in insertion order, keys and values both observed."""

    items: tuple[tuple[object, object], ...]


@dataclass(frozen=True)
class WarningRecord:
    category: str
    message: str
    line: int | None  # program line the warning points at, None if it points elsewhere


@dataclass(frozen=True)
class ExceptionRecord:
    type: str
    message: str
    # the innermost program line in the traceback (inside a loop, a `with` block, a function the
    # program defines), None if no program frame: where to point, never part of the comparison
    line: int | None = field(default=None, compare=False)


@dataclass
class Step:
    line: int
    source: str
    stdout: str = ""
    warnings: tuple[WarningRecord, ...] = ()
    exception: ExceptionRecord | None = None
    state: dict[str, object] = field(default_factory=dict)
    #: "x.grad" -> the backward ops that fed x's .grad so far, "g" -> those that computed a
    #: torch.autograd.grad result bound to g (PyTorch's trace, when recorded:
    #: harness.run.attribution); not an observation, so never compared
    autograd_ops: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class Trace:
    backend: str
    steps: list[Step] = field(default_factory=list)
    #: grad_fn classes of the nodes the backward passes went through (when recorded)
    backward_nodes: set[str] = field(default_factory=set, compare=False, repr=False)


def run(program: programs.Program, backend: Backend, inputs: dict[str, np.ndarray],
        requires_grad: dict[str, bool], expected_errors: set[int] = frozenset(),
        grad_ops: bool = False) -> Trace:
    """Run every statement; stop after an exception unless the spec expects one on that line.

    With `grad_ops` (PyTorch's run), each step also carries which backward ops produced each
    gradient (`Step.autograd_ops`), for the margins."""
    namespace = programs.namespace(backend.module, backend.functional)
    trace = Trace(backend.name)
    recording = attribution.recording(backend.module, namespace) if grad_ops \
        else contextlib.nullcontext()
    try:
        trace.steps.append(_make_inputs(namespace, backend, inputs, requires_grad))
        if trace.steps[0].exception:
            return trace
        with recording as recorder:
            ops: dict[str, str] = {}
            for statement in program.statements:
                step = _run_statement(statement, namespace)
                step.state = observe_namespace(namespace, backend)
                if recorder is not None and recorder.changed:
                    ops = recorder.ops()
                step.autograd_ops = ops
                trace.steps.append(step)
                if step.exception and statement.line not in expected_errors:
                    break
            if recorder is not None:
                trace.backward_nodes = recorder.classes
    finally:
        backend.reset()
    return trace


INPUTS_SOURCE = "<inputs: torch.tensor(array, requires_grad=...)>"


def _make_inputs(namespace: dict, backend: Backend, inputs: dict[str, np.ndarray],
                 requires_grad: dict[str, bool]) -> Step:
    """Step 0: the inputs created from the drawn arrays; the backend's tensor() may fail too."""
    step = Step(0, INPUTS_SOURCE)
    try:
        for name, value in inputs.items():
            if isinstance(value, np.ndarray):
                namespace[name] = backend.make_input(value, requires_grad[name])
            else:  # a symbolic dim's drawn size
                namespace[name] = value
    except Exception as exc:
        step.exception = ExceptionRecord(type(exc).__name__, normalise(str(exc)))
    step.state = observe_namespace(namespace, backend)
    return step


def _run_statement(statement: programs.Statement, namespace: dict) -> Step:
    step = Step(statement.line, statement.source)
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, redirect_stdout(out):
        warnings.simplefilter("always")
        try:
            exec(statement.code, namespace)
        except Exception as exc:  # the program's own exception is an observation
            step.exception = ExceptionRecord(type(exc).__name__, normalise(str(exc)),
                                             raised_at(exc))
    printed = out.getvalue()
    step.stdout = normalise(printed) if printed else ""
    step.warnings = tuple(
        WarningRecord(
            w.category.__name__,
            normalise(str(w.message)),
            w.lineno if w.filename == programs.FILENAME else None,
        )
        for w in caught
    )
    return step


def raised_at(exc: BaseException) -> int | None:
    """The innermost frame of the program (its filename) in the exception's traceback."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == programs.FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def observe_namespace(namespace: dict, backend: Backend) -> dict[str, object]:
    # One warnings context for the whole step (entering one costs more than observing a tensor).
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        return {
            name: observe(value, backend, log)
            for name, value in namespace.items()
            if name not in _NOT_STATE and not isinstance(value, types.ModuleType)
        }


# Python puts __builtins__ and __warningregistry__ into a program's globals; it cannot name them.
_NOT_STATE = {"__builtins__", "__warningregistry__", *programs.PROVIDED}


def observe(value, backend: Backend, log: list | None = None):
    """What the user can see of one value, in backend-neutral form."""
    if isinstance(value, backend.tensor_type):
        return observe_tensor(value, log)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return tuple(observe(v, backend, log) for v in value)
    if isinstance(value, dict):
        return MappingState(tuple((observe(k, backend, log), observe(v, backend, log))
                                  for k, v in value.items()))
    if isinstance(value, set | frozenset):  # iteration order is the hash's: sort what was seen
        return tuple(sorted((observe(v, backend, log) for v in value), key=repr))
    if hasattr(value, "next_functions"):
        return Opaque("grad_fn", type(value).__name__)
    if isinstance(value, types.FunctionType | types.LambdaType):
        return Opaque("function", value.__name__)
    if isinstance(value, type(backend.module.float32)):
        return Opaque("dtype", str(value))
    return Opaque("object", type(value).__name__)


def observe_tensor(t, log: list | None = None) -> TensorState:
    """A tensor's observable state; `log` is an active catch_warnings(record=True) list."""
    if log is None:
        with warnings.catch_warnings(record=True) as log:
            warnings.simplefilter("always")
            return observe_tensor(t, log)
    seen = len(log)
    grad = t.grad
    caught = log[seen:]
    return TensorState(
        data=_array_state(t),
        requires_grad=bool(t.requires_grad),
        is_leaf=_or_error(lambda: bool(t.is_leaf)),
        grad_fn=_or_error(lambda: None if t.grad_fn is None else type(t.grad_fn).__name__),
        retains_grad=bool(t.retains_grad),
        grad=None if grad is None else _array_state(grad),
        grad_warnings=tuple(normalise(str(w.message)) for w in caught),
    )


def _or_error(read):
    """A flag's value, or the error reading it raised: PyTorch refuses to give the grad_fn
    (and is_leaf) of a view made in no_grad mode whose base was modified in place since."""
    try:
        return read()
    except RuntimeError as e:
        return f"raises RuntimeError: {normalise(str(e))}"


def _array_state(t) -> ArrayState:
    values = np.array(t.detach().numpy(), copy=True)
    return ArrayState(values, _dtype_name(t.dtype), tuple(t.shape))


_DTYPE_NAMES: dict[object, str] = {}


def _dtype_name(dtype) -> str:
    """"float32" for torch.float32 (and the engine's float32), computed once per dtype."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype).removeprefix("torch.")
    return name
