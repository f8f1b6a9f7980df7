"""Graph nodes: the base class every backward node derives from, and AccumulateGrad.

A node knows its inputs only through ``next_functions`` (one ``(node or None, 0)`` pair per
input, None for inputs that need no grad) and ``_meta`` (each input's shape and numpy dtype,
which the engine uses to sum broadcast grads back and to cast them).  Saved values are
plain slots listed in ``saved``; ``release`` drops them after a backward that does not
retain the graph, and a later backward through the node raises torch's error.
"""

from __future__ import annotations

import itertools
import sys
import weakref

from ._tensor import Tensor, make

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)

_sequence = itertools.count()  # creation order: the engine runs later nodes first, as torch


class Node:
    """A backward function. Subclasses set ``formulas``: one ``f(node, grad)`` per input."""

    __slots__ = ("next_functions", "_meta", "_seq", "_freed", "_retained", "__weakref__")
    __module__ = "builtins"  # torch's node classes are builtins: <class 'AddBackward0'>
    saved: tuple[str, ...] = ()  # slot names of saved values (freed after backward)
    formulas: tuple = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__module__ = "builtins"

    def name(self) -> str:
        return type(self).__name__

    def apply(self, grad):
        """Grads for each input, computed only for inputs that need one."""
        if self._freed:
            raise RuntimeError(SECOND_BACKWARD)
        return tuple(
            None if nxt is None else f(self, grad)
            for f, (nxt, _) in zip(self.formulas, self.next_functions, strict=True)
        )

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

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"


def accumulator(leaf: Tensor) -> AccumulateGrad:
    """The leaf's AccumulateGrad, shared by every op that uses the leaf while a graph holds it
    (the tensor refers to it weakly, as torch does, so no reference cycle forms)."""
    ref = leaf._accumulator
    acc = None if ref is None else ref()
    if acc is None:
        acc = AccumulateGrad(leaf)
        leaf._accumulator = weakref.ref(acc)
    return acc


def attach(node: Node, data, inputs) -> Tensor:
    """Wire ``node`` to its inputs (tensors or Python scalars) and return the output tensor."""
    edges = []
    meta = []
    for t in inputs:
        if isinstance(t, Tensor) and t._requires_grad:
            edges.append((t._grad_fn or accumulator(t), 0))
            meta.append((t._data.shape, t._data.dtype))
        else:
            edges.append((None, 0))
            meta.append(None)
    node.next_functions = tuple(edges)
    node._meta = meta
    node._seq = next(_sequence)
    node._freed = False
    node._retained = None
    return make(data, True, node)
