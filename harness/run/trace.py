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


def _warning_text(warning) -> str:
    """A caught warning's normalised message: the same few texts come back on every statement
    (a non-leaf's `.grad`), so each is normalised once."""
    text = str(warning.message)
    done = _WARNING_TEXTS.get(text)
    if done is None:
        if len(_WARNING_TEXTS) >= 1024:
            _WARNING_TEXTS.clear()
        done = _WARNING_TEXTS[text] = normalise(text)
    return done


_WARNING_TEXTS: dict[str, str] = {}


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
    #: whether the backward passes were recorded (`grad_ops`): steps carry `autograd_ops`
    attributed: bool = field(default=False, compare=False, repr=False)


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
        with _Capture() as capture:
            observer = Observer(backend, capture.log)
            trace.steps.append(_make_inputs(namespace, backend, inputs, requires_grad, observer))
            if trace.steps[0].exception:
                return trace
            with recording as recorder:
                ops: dict[str, str] = {}
                for statement in program.statements:
                    step = _run_statement(statement, namespace, capture)
                    step.state = observer.namespace(namespace)
                    if recorder is not None and recorder.changed:
                        ops = recorder.ops()
                    step.autograd_ops = ops
                    trace.steps.append(step)
                    if step.exception and statement.line not in expected_errors:
                        break
                if recorder is not None:
                    trace.backward_nodes = recorder.classes
                    trace.attributed = True
    finally:
        backend.reset()
    return trace


INPUTS_SOURCE = "<inputs: torch.tensor(array, requires_grad=...)>"


def _make_inputs(namespace: dict, backend: Backend, inputs: dict[str, np.ndarray],
                 requires_grad: dict[str, bool], observer: Observer) -> Step:
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
    del observer.log[:]  # what making the inputs warned is not the program's
    step.state = observer.namespace(namespace)
    return step


class _Capture:
    """What a whole program prints and warns, taken statement by statement: one redirected
    stdout and one `catch_warnings` per program (entering them per statement cost more than
    many statements do)."""

    def __enter__(self) -> _Capture:
        self._out = io.StringIO()
        self._redirect = redirect_stdout(self._out)
        self._catch = warnings.catch_warnings(record=True)
        self.log = self._catch.__enter__()
        try:
            warnings.simplefilter("always")
            self._filters = list(warnings.filters)
            self._redirect.__enter__()
        except BaseException:
            self._catch.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self._redirect.__exit__(*exc_info)
        finally:
            self._catch.__exit__(*exc_info)

    def stdout(self) -> str:
        """What was printed since the last call."""
        printed = self._out.getvalue()
        if printed:
            self._out.seek(0)
            self._out.truncate()
        return printed

    def warnings_since(self, mark: int) -> list:
        """The warnings recorded since `len(log)` was `mark`, taken out of the log."""
        caught = self.log[mark:]
        del self.log[mark:]
        return caught

    def keep_filters(self) -> None:
        """Every statement starts with "always" first, as if in its own catch_warnings: a
        statement that added a filter (PyTorch importing a module that adds one) does not
        silence the next."""
        if warnings.filters != self._filters:
            warnings.filters[:] = self._filters
            warnings._filters_mutated()


def _run_statement(statement: programs.Statement, namespace: dict, capture: _Capture) -> Step:
    step = Step(statement.line, statement.source)
    mark = len(capture.log)
    try:
        exec(statement.code, namespace)
    except Exception as exc:  # the program's own exception is an observation
        step.exception = ExceptionRecord(type(exc).__name__, normalise(str(exc)),
                                         raised_at(exc))
    printed = capture.stdout()
    step.stdout = normalise(printed) if printed else ""
    caught = capture.warnings_since(mark)
    if caught:
        step.warnings = tuple(
            WarningRecord(
                w.category.__name__,
                _warning_text(w),
                w.lineno if w.filename == programs.FILENAME else None,
            )
            for w in caught
        )
    capture.keep_filters()
    return step


def raised_at(exc: BaseException) -> int | None:
    """The innermost frame of the program (its filename) in the exception's traceback."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == programs.FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


# Python puts __builtins__ and __warningregistry__ into a program's globals; it cannot name them.
_NOT_STATE = {"__builtins__", "__warningregistry__", *programs.PROVIDED}


class Observer:
    """What a user can see of a program's variables, step after step, storing each value once.

    A tensor is read in full after every statement (flags, `.grad` with its warnings, the bytes
    of its data and grad), because nothing short of that can be trusted: the engine under test
    may change a tensor without bumping its version, and PyTorch's `.data` writes bump none.
    What did not change is not stored again: the ArrayState of a tensor whose dtype, shape and
    bytes equal those of its previous observation is that same object, and so is a TensorState
    none of whose fields changed. A trace then holds each distinct value once (a 64 MB tensor
    followed by 30 statements is 64 MB of trace, not 2 GB), and the comparison skips pairs it
    has already compared (harness.run.compare).
    """

    def __init__(self, backend: Backend, log: list):
        self.backend = backend
        self.tensor_type = backend.tensor_type
        self.log = log  # an active catch_warnings(record=True) list, always-filtered
        #: PyTorch's tensor without requires_grad gives its numpy() without a detach() (a
        #: microsecond per tensor); an engine's is always detached first, as a user would
        self._plain_numpy = backend.name == "torch"
        self._last: dict[int, tuple[object, TensorState]] = {}  # id -> the tensor, its state
        self._now: dict[int, tuple[object, TensorState]] = {}

    def namespace(self, namespace: dict) -> dict[str, object]:
        """Every variable's state; the warnings reading them raised are kept per tensor and
        taken out of the log."""
        mark = len(self.log)
        self._now = {}
        tensor, value, tensor_type = self.tensor, self.value, self.tensor_type
        try:
            return {name: tensor(v) if isinstance(v, tensor_type) else value(v)
                    for name, v in namespace.items()
                    if name not in _NOT_STATE and not isinstance(v, types.ModuleType)}
        finally:
            del self.log[mark:]
            # tensors no longer bound are forgotten (their entry held the last reference)
            self._last = self._now

    def value(self, value):
        """What the user can see of one value, in backend-neutral form."""
        if isinstance(value, self.tensor_type):
            return self.tensor(value)
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, list | tuple):
            return tuple(self.value(v) for v in value)
        if isinstance(value, dict):
            return MappingState(tuple((self.value(k), self.value(v)) for k, v in value.items()))
        if isinstance(value, set | frozenset):  # iteration order is the hash's: sort what was seen
            return tuple(sorted((self.value(v) for v in value), key=repr))
        if hasattr(value, "next_functions"):
            return Opaque("grad_fn", type(value).__name__)
        if isinstance(value, types.FunctionType | types.LambdaType):
            return Opaque("function", value.__name__)
        if isinstance(value, type(self.backend.module.float32)):
            return Opaque("dtype", str(value))
        return Opaque("object", type(value).__name__)

    def tensor(self, t) -> TensorState:
        key = id(t)
        entry = self._now.get(key)
        if entry is not None and entry[0] is t:  # the same tensor under another name
            return entry[1]
        entry = self._last.get(key)
        previous = entry[1] if entry is not None and entry[0] is t else None
        state = _tensor_state(t, self.log, previous, self._plain_numpy)
        self._now[key] = (t, state)
        return state


def observe(value, backend: Backend, log: list | None = None):
    """What the user can see of one value, in backend-neutral form."""
    if log is None:
        with warnings.catch_warnings(record=True) as log:
            warnings.simplefilter("always")
            return Observer(backend, log).value(value)
    return Observer(backend, log).value(value)


def observe_tensor(t, log: list | None = None) -> TensorState:
    """A tensor's observable state; `log` is an active catch_warnings(record=True) list."""
    if log is None:
        with warnings.catch_warnings(record=True) as log:
            warnings.simplefilter("always")
            return _tensor_state(t, log, None)
    return _tensor_state(t, log, None)


def _tensor_state(t, log: list, previous: TensorState | None,
                  plain_numpy: bool = False) -> TensorState:
    """A tensor's observable state, `previous` itself (or its arrays) where nothing changed.
    `plain_numpy`: a tensor that does not require grad is read without detach() (PyTorch's)."""
    seen = len(log)
    grad = t.grad
    grad_warnings = tuple(_warning_text(w) for w in log[seen:]) if len(log) > seen else ()
    requires_grad = bool(t.requires_grad)
    try:
        is_leaf = bool(t.is_leaf)
    except RuntimeError as e:
        is_leaf = _raised(e)
    try:
        node = t.grad_fn
        grad_fn = None if node is None else type(node).__name__
    except RuntimeError as e:
        grad_fn = _raised(e)
    retains_grad = bool(t.retains_grad)
    detach = not plain_numpy or requires_grad
    if previous is None:
        data = _array_state(t, None, detach)
        grad_state = None if grad is None else _array_state(grad, None)
        return TensorState(data, requires_grad, is_leaf, grad_fn, retains_grad, grad_state,
                           grad_warnings)
    data = _array_state(t, previous.data, detach)
    grad_state = None if grad is None else _array_state(grad, previous.grad)
    if (data is previous.data and grad_state is previous.grad
            and requires_grad == previous.requires_grad and is_leaf == previous.is_leaf
            and grad_fn == previous.grad_fn and retains_grad == previous.retains_grad
            and grad_warnings == previous.grad_warnings):
        return previous
    return TensorState(data, requires_grad, is_leaf, grad_fn, retains_grad, grad_state,
                       grad_warnings)


def _raised(e: RuntimeError) -> str:
    """A flag PyTorch refuses to give (the grad_fn and is_leaf of a view made in no_grad mode
    whose base was modified in place since): the error, as the flag's value."""
    text = str(e)
    done = _RAISED_TEXTS.get(text)
    if done is None:  # the same few errors come back on every statement: normalised once
        if len(_RAISED_TEXTS) >= 1024:
            _RAISED_TEXTS.clear()
        done = _RAISED_TEXTS[text] = f"raises RuntimeError: {normalise(text)}"
    return done


_RAISED_TEXTS: dict[str, str] = {}


def _array_state(t, previous: ArrayState | None, detach: bool = True) -> ArrayState:
    """A tensor's data as an ArrayState: `previous` when dtype, shape and bytes are the same.
    `detach` False: `t` is known not to require grad, and is read as it is."""
    view = (t.detach() if detach else t).numpy()
    dtype = _DTYPE_NAMES.get(t.dtype) or _dtype_name(t.dtype)
    shape = t.shape
    if previous is not None and previous.dtype == dtype and previous.shape == shape \
            and same_bits(previous.values, view):
        return previous
    return ArrayState(np.array(view, copy=True, order="C"), dtype, tuple(shape))


_BLOCK = 1 << 20  # bytes compared at once: no temporary as big as a big tensor


def same_bits(stored: np.ndarray, current: np.ndarray) -> bool:
    """Whether two arrays hold the same dtype, shape and bytes (NaN payloads and -0.0 too)."""
    if stored.dtype != current.dtype or stored.shape != current.shape:
        return False
    if stored.nbytes <= _BLOCK or not (stored.flags.c_contiguous
                                       and current.flags.c_contiguous):
        return stored.tobytes() == current.tobytes()
    a, b = stored.reshape(-1).view(np.uint8), current.reshape(-1).view(np.uint8)
    return all(np.array_equal(a[i:i + _BLOCK], b[i:i + _BLOCK])
               for i in range(0, a.size, _BLOCK))


_DTYPE_NAMES: dict[object, str] = {}


def _dtype_name(dtype) -> str:
    """"float32" for torch.float32 (and the engine's float32), computed once per dtype."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype).removeprefix("torch.")
    return name
