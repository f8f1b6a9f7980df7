"""Graph nodes and their wiring: Node (and ``backward_node``, which declares one in a line
or three), AccumulateGrad, ``attach`` (an op's output hung from its node), views' creation
meta, and what a grad goes through before it reaches a node's input (``validate_grad``).

A node knows its inputs only through ``next_functions`` (one ``(node or None, 0)`` pair per
input, None for inputs that need no grad) and ``_meta`` (each input's shape and numpy dtype,
which the engine uses to sum broadcast grads back and to cast them).  Saved values are
plain slots listed in ``saved``; ``release`` drops them after a backward that does not
retain the graph, and a later backward through the node raises torch's error.

Autograd computes nothing itself: where it needs an op (``sum_to``'s sum and reshape, a
cast) it calls the Tensor method, bound by the layer above, as torch's autograd calls ATen.
"""

from __future__ import annotations

import dis
import itertools
import sys
import weakref

from .._dtype import FROM_NUMPY, legacy_type_name
from .._tensor import Tensor, make, register_view, version_counter
from .grad_mode import state as _grad_mode

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)

_sequence = itertools.count()  # creation order: the engine runs later nodes first, as torch


class Node:
    """A backward function. Subclasses set ``formulas``: one ``f(node, grad)`` per input
    (most are declared with ``backward_node``)."""

    __slots__ = ("next_functions", "_meta", "_seq", "_freed", "_retained", "_versions",
                 "_out_vc", "_out_version", "__weakref__")
    __module__ = "builtins"  # torch's node classes are builtins: <class 'AddBackward0'>
    saved: tuple[str, ...] = ()  # slot names of saved values (freed after backward)
    formulas: tuple = ()
    inputs: tuple[str, ...] = ()  # derivatives.yaml's names of the inputs, one per formula
    # The order torch's generated code computes the input grads in, when it is not input order
    # (alphabetical by derivatives.yaml's input names: `other` before `self`).  With
    # create_graph the order decides which graph nodes come first.
    grad_order: tuple[int, ...] | None = None
    multi = False  # one node for several outputs (MultiOutputNode)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__module__ = "builtins"

    def name(self) -> str:
        return type(self).__name__

    def __lt__(self, other) -> bool:
        """Never less: in the ready heap's ``(-sequence_nr, node)`` entries, nodes with equal
        sequence numbers (every AccumulateGrad) then tie, and Python's heapq, the same
        algorithm as libstdc++'s push_heap/pop_heap, pops them in the order torch's
        std::priority_queue does."""
        return False

    def apply(self, grad):
        """Grads for each input (a list the engine may clear as it goes), computed only for
        inputs that need one."""
        if self._freed:
            raise RuntimeError(SECOND_BACKWARD)
        if self.saved:
            check_saved_versions(self)
        edges = self.next_functions
        count = len(edges)
        if count == 1:  # the common unary and binary cases, without the loop's overhead
            return [None if edges[0][0] is None else self.formulas[0](self, grad)]
        if count == 2:
            first, second = self.formulas[0], self.formulas[1]
            if self.grad_order is None:
                return [None if edges[0][0] is None else first(self, grad),
                        None if edges[1][0] is None else second(self, grad)]
            other = None if edges[1][0] is None else second(self, grad)  # order (1, 0)
            return [None if edges[0][0] is None else first(self, grad), other]
        if self.grad_order is not None:
            grads = [None] * count
            for i in self.grad_order:
                if edges[i][0] is not None:
                    grads[i] = self.formulas[i](self, grad)
            return grads
        return [None if nxt is None else f(self, grad)
                for f, (nxt, _) in zip(self.formulas, edges, strict=False)]

    def release(self):
        if self.saved:
            for slot in self.saved:
                setattr(self, slot, None)
            self._freed = True

    @property
    def result(self):
        """The saved output, rebuilt as a tensor whose grad_fn is this node (as torch's
        SavedVariable does), so the node holds an array and not its own output tensor."""
        return make(self._result, True, self)


def backward_node(name: str, *, saved=(), fields=(), grad_order=None, base=Node, **inputs):
    """A Node subclass named ``name`` (torch's grad_fn name), declared as derivatives.yaml
    declares an op's derivatives: one formula ``f(node, grad)`` per input, keyed by the
    input's name, in ``next_functions`` order.  ``saved`` are the slots a backward without
    ``retain_graph`` frees (tensors, and ``_result`` for a saved output, read as
    ``node.result``); ``fields`` are the slots it keeps (sizes, dims, scalars).
    ``grad_order`` names the inputs in the order torch's generated code computes their
    grads, when that is not input order."""
    names = tuple(inputs)
    namespace = {"__slots__": tuple(saved) + tuple(fields), "saved": tuple(saved),
                 "formulas": tuple(inputs.values()), "inputs": names}
    if grad_order is not None:
        namespace["grad_order"] = tuple(names.index(i) for i in grad_order)
    return type(name, (base,), namespace)


def _modified_error(shape, np_dtype, fn, version, expected) -> RuntimeError:
    """torch's SavedVariable error; it names the grad_fn without "Backward"/"Backward0"."""
    which = ""
    if fn is not None:
        which = f", which is output 0 of {short_name(fn)},"
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{legacy_type_name(FROM_NUMPY[np_dtype])} "
        f"[{', '.join(map(str, shape))}]]{which} is at version {version}; expected version "
        f"{expected} instead. Hint: enable anomaly detection to find the operation that "
        "failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, "
        "check_nan=False)."
    )


def short_name(fn) -> str:
    """How torch's messages name a grad_fn: ``MulBackward0`` is ``Mul``, ``SumBackward1``
    ``Sum1``."""
    name = fn.name()
    i = name.rfind("Backward")
    if i > 0 and name[i + 8:].isdigit():
        digits = name[i + 8:]
        return name[:i] + ("" if digits == "0" else digits)
    return name


_formula_slots: dict = {}  # node class -> per input, the saved slots its formula reads


def _slots_read(cls):
    """Which saved slots each formula reads (from the names its code looks up), so that, as
    in torch, only values needed for the grads being computed are checked."""
    per_input = []
    for f in cls.formulas:
        code = getattr(f, "__code__", None)
        if code is None or _passes_node_on(code):
            per_input.append(frozenset(cls.saved))
            continue
        names = set(code.co_names)
        if "result" in names:
            names.add("_result")
        per_input.append(frozenset(n for n in cls.saved if n in names))
    _formula_slots[cls] = per_input
    return per_input


def _passes_node_on(code) -> bool:
    """Whether a formula hands the node itself to another function (then it may read any
    saved value)."""
    node_arg = code.co_varnames[0] if code.co_argcount else None
    instructions = list(dis.get_instructions(code))
    for ins, nxt in zip(instructions, instructions[1:], strict=False):
        if ins.opname.startswith("LOAD_FAST") and ins.argval == node_arg:
            if nxt.opname not in ("LOAD_ATTR", "LOAD_METHOD"):
                return True
    return False


_unpack_orders: dict = {}  # node class -> its saved input slots in torch's unpack order


def _unpack_order(cls) -> tuple[str, ...]:
    """torch's generated apply() unpacks saved inputs sorted by name (``other`` before
    ``self``), then saved outputs: the first modified one is the one its error names."""
    order = _unpack_orders.get(cls)
    if order is None:
        inputs = [slot for slot in cls.saved if slot != "_result"]
        order = _unpack_orders[cls] = tuple(sorted(inputs, key=lambda s: s.rstrip("_")))
    return order


def check_saved_versions(node):
    """Raise torch's error if a tensor the node saved was modified in place since."""
    out_vc = getattr(node, "_out_vc", None)
    if out_vc is None:  # fast path: no saved tensor was ever modified or shared
        for slot in node.saved:
            value = getattr(node, slot, None)
            if isinstance(value, Tensor) and value._vc is not None:
                break
        else:
            return
    per_input = _formula_slots.get(type(node)) or _slots_read(type(node))
    needed = set()
    for (nxt, _), slots in zip(node.next_functions, per_input, strict=False):
        if nxt is not None:
            needed |= slots
    versions = getattr(node, "_versions", None)
    for slot in _unpack_order(type(node)):
        if slot not in needed:
            continue
        value = getattr(node, slot)
        if isinstance(value, Tensor):
            vc = value._vc
            if vc is not None:
                expected = versions.get(id(value), 0) if versions else 0
                if vc.value != expected:
                    raise _modified_error(value._data.shape, value._data.dtype,
                                          value.grad_fn, vc.value, expected)
    if out_vc is not None:  # torch saves outputs whichever input needs a grad
        expected = node._out_version
        if out_vc.value != expected:
            result = node._result
            raise _modified_error(result.shape, result.dtype, node, out_vc.value, expected)


class AccumulateGrad(Node):
    """The node standing for a leaf; the engine adds the grad it receives to ``.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor):
        self.variable = variable
        self.next_functions = ()
        self._meta = ()
        self._seq = sys.maxsize  # as in torch: leaves accumulate as soon as they are ready
        self._freed = False
        self._retained = None
        self._versions = None
        self._out_vc = None

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"


def accumulator(leaf: Tensor) -> AccumulateGrad:
    """The leaf's AccumulateGrad, shared by every op that uses the leaf while a graph holds it
    (the tensor refers to it weakly, as torch does, so no reference cycle forms)."""
    ref = leaf._accumulator
    acc = None if ref is None else ref()
    if acc is None:
        if leaf._view_of is not None and not leaf._own_requires_grad:
            return None  # a view requiring grad through its base only: torch's null edge
        acc = AccumulateGrad(leaf)
        leaf._accumulator = weakref.ref(acc)
    return acc


_NO_EDGE = (None, 0)  # shared: one tuple fewer per constant operand


def attach(node: Node, data, inputs) -> Tensor:
    """Wire ``node`` to its inputs (tensors or Python scalars) and return the output tensor."""
    edges = []
    meta = []
    versions = None
    for t in inputs:
        if isinstance(t, Tensor):
            vc = t._vc
            if vc is not None:  # modified or shared before: remember its version
                if versions is None:
                    versions = {}
                versions[id(t)] = vc.value
            if t._requires_grad:
                if t._view_of is not None and vc.value != t._view_version:
                    t.grad_fn  # noqa: B018 - its base was modified in place since: regenerated
                fn = t._grad_fn
                if fn is None:
                    edges.append((accumulator(t), 0))
                else:
                    edges.append((fn, t._output_nr if fn.multi else 0))
                meta.append((t._data.shape, t._data.dtype))
                continue
        edges.append(_NO_EDGE)
        meta.append(None)
    node.next_functions = tuple(edges)
    node._meta = tuple(meta)  # a tuple of untracked tuples: the cycle GC stops scanning it
    node._seq = next(_sequence)
    node._freed = False
    node._retained = None
    node._versions = versions
    node._out_vc = None
    out = make(data, True, node)
    if data.base is not None:  # numpy made a view: of an input? then so is the tensor
        link_view(out, inputs)
    return out


class MultiOutputNode(Node):
    """One node for all outputs of an op (split, unbind ...), as torch's: each output's
    grad_fn is the node and its edges in consumers carry the output's number.  The engine
    gathers the grads of all outputs into one list (None for outputs no grad reached) and
    calls each formula with that list."""

    __slots__ = ("n_outputs",)
    multi = True


def attach_outputs(node: MultiOutputNode, arrays, inputs) -> list:
    """Wire ``node`` to ``inputs`` once and hang every array from it as one output."""
    node.n_outputs = len(arrays)
    outs = []
    for number, data in enumerate(arrays):
        if number == 0:
            out = attach(node, data, inputs)
        else:
            out = make(data, True, node)
            if data.base is not None:
                link_view(out, inputs)
        out._output_nr = number
        outs.append(out)
    return outs


def output_nr(t: Tensor) -> int:
    """The number of ``t`` among its grad_fn's outputs (0 unless a multi-output node)."""
    fn = t._grad_fn
    return t._output_nr if fn is not None and fn.multi else 0


def link_view(out: Tensor, inputs) -> Tensor:
    """Mark ``out`` as a view of the input whose memory its array views (torch's ``_base``
    and shared version counter)."""
    owner = out._data.base
    for t in inputs:
        if isinstance(t, Tensor):
            data = t._data
            if owner is data or (owner is data.base and owner is not None):
                return as_view(out, t)
    return out


def as_view(out: Tensor, base: Tensor) -> Tensor:
    """Mark ``out`` (whose array is a numpy view of ``base``'s) as a view of ``base``: it
    shares the version counter and remembers the root base, so in-place ops on it are
    checked and recorded as torch does (CopySlices).  View ops call this."""
    root = base._view_of
    if root is None:
        root = base
        out._no_grad_view = not _grad_mode.enabled
        out._multi_output = None
    else:  # torch's propagate_creation_meta: a view of a no_grad view is one too, and a view
        # made with grad mode on of one output of split/unbind is such an output too
        out._no_grad_view = base._no_grad_view or not _grad_mode.enabled
        out._multi_output = None if out._no_grad_view or base._multi_output is None else 0
    out._view_of = root
    out._own_requires_grad = False
    vc = out._vc = version_counter(base)
    out._view_version = vc.value  # the version its grad_fn is current for
    if out._grad_fn is None:
        register_view(out, root, vc)
    return out


def mark_multi_output(outputs) -> tuple:
    """The outputs of split/chunk/unbind made with grad mode on: torch's MULTI_OUTPUT_NODE
    views, which refuse in-place changes (each remembers its output number for the error)."""
    if _grad_mode.enabled:
        for number, out in enumerate(outputs):
            if out._view_of is not None:
                out._multi_output = number
    return tuple(outputs)


# ----------------------------------------------------------------- a grad meets its input
def validate_grad(grad, meta):
    """Bring a grad to its input's shape (summed over broadcast dims) and dtype: torch's
    validate_outputs, the engine's one place for both, so formulas may return a grad of the
    output's broadcast shape or of a wider dtype."""
    shape, np_dtype = meta
    if grad._data.shape != shape:
        grad = sum_to(grad, shape)
    if grad._data.dtype != np_dtype:
        grad = grad.to(FROM_NUMPY[np_dtype])
    return grad


def sum_to(grad, shape):
    """Sum a broadcast grad back to an input's shape (torch's at::sum_to: sum the expanded
    dims keeping them, then drop the leading ones)."""
    have = grad._data.shape
    if have == shape:
        return grad
    if not shape:  # torch's sum_to sums everything with sum(): SumBackward0, not a view
        return grad.sum()
    lead = len(have) - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and have[lead + i] != 1
    )
    if dims:
        grad = grad.sum(dims, keepdim=True)
    return grad.reshape(shape) if lead else grad
