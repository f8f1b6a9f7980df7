"""The backward engine: an explicit loop over the graph, no recursion.

1. Count, for every node reachable from the root, how many edges lead into it.
2. Run ready nodes (all consumers done), latest-created first as torch's engine does, so
   grads from several consumers are summed in torch's order.  Each grad a node returns is
   summed back to its input's shape and cast to its dtype here, in one place.
3. Grads reaching an AccumulateGrad are added to the leaf's ``.grad``; a node with a
   retained output copies its incoming grad to that tensor's ``.grad``.
4. Unless the graph is retained, each node frees its saved values once it has run, so a
   second backward through it raises torch's error.
"""

from __future__ import annotations

import heapq
import warnings

import numpy as np

from . import _ops as O
from ._dtype import FROM_NUMPY
from ._grad_mode import state as _grad_mode
from ._node import AccumulateGrad, accumulator
from ._tensor import Tensor, make

CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using "
    "autograd.grad when creating the graph to avoid this. If you have to use this function, "
    "make sure to reset the .grad fields of your parameters to None after use to break the "
    "cycle and avoid the leak."
)

_warned_create_graph = False  # torch warns once per process


def backward(tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """``tensor.backward(...)``: check arguments as torch does, then run the engine."""
    global _warned_create_graph
    if inputs is not None:
        raise NotImplementedError("engine does not support backward(inputs=...)")
    if gradient is not None and not isinstance(gradient, Tensor):
        gradient = _single_gradient(gradient)
    if gradient is None:
        if tensor._requires_grad and tensor._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
    elif gradient._data.shape != tensor._data.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[0] has a shape of {gradient.shape} and "
            f"output[0] has a shape of {tensor.shape}."
        )
    if not tensor._requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        gradient = make(np.ones_like(tensor._data))
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph and not _warned_create_graph:
        _warned_create_graph = True
        warnings.warn(CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    run_backward(tensor, gradient, retain_graph, create_graph)


def _single_gradient(gradient):
    """torch accepts a sequence holding one gradient; anything else fails as in torch."""
    items = tuple(gradient)  # a float raises "'float' object is not iterable", as in torch
    for item in items:
        if item is not None and not isinstance(item, Tensor):
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(item).__name__}"
            )
    return items[0] if items else None


@O.silent
def run_backward(root_tensor, grad, retain_graph: bool, create_graph: bool):
    root = root_tensor._grad_fn or accumulator(root_tensor)
    grad = _validate(grad, (root_tensor._data.shape, root_tensor._data.dtype))
    dependencies = _count_dependencies(root)
    previous_mode = _grad_mode.enabled
    _grad_mode.enabled = create_graph  # formulas record a graph only for create_graph
    try:
        buffers = {root: grad}
        ready = [(-root._seq, id(root), root)]
        while ready:
            node = heapq.heappop(ready)[2]
            grad = buffers.pop(node, None)
            if node._retained is not None:
                _retain(node, grad, create_graph)
            if type(node) is AccumulateGrad:
                _accumulate(node.variable, grad, create_graph)
                continue
            grads = node.apply(grad) if grad is not None else (None,) * len(node._meta)
            for (nxt, _), g, meta in zip(node.next_functions, grads, node._meta, strict=True):
                if nxt is None:
                    continue
                if g is not None:
                    if g._data.shape != meta[0] or g._data.dtype != meta[1]:
                        g = _validate(g, meta)
                    pending = buffers.get(nxt)
                    buffers[nxt] = g if pending is None else pending + g
                dependencies[nxt] -= 1
                if dependencies[nxt] == 0:
                    heapq.heappush(ready, (-nxt._seq, id(nxt), nxt))
            if not retain_graph:
                node.release()
    finally:
        _grad_mode.enabled = previous_mode


def _count_dependencies(root) -> dict:
    """Number of edges into each node reachable from ``root`` (iterative DFS)."""
    dependencies = {root: 0}
    stack = [root]
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is None:
                continue
            if nxt in dependencies:
                dependencies[nxt] += 1
            else:
                dependencies[nxt] = 1
                stack.append(nxt)
    return dependencies


def _validate(grad, meta):
    """Bring a grad to its input's shape (sum over broadcast dims) and dtype."""
    shape, np_dtype = meta
    if grad._data.shape != shape:
        grad = O.sum_to(grad, shape)
    if grad._data.dtype != np_dtype:
        grad = O.to(grad, FROM_NUMPY[np_dtype])
    return grad


def _accumulate(leaf, grad, create_graph: bool):
    """AccumulateGrad: store a fresh copy the first time, then add (in place, as torch does,
    unless a graph is being built)."""
    if grad is None:
        return
    old = leaf._grad
    if old is None:
        leaf._grad = O.copy_for_grad(grad) if create_graph else make(grad._data.copy())
    elif create_graph:
        leaf._grad = old + grad
    elif old._data.flags.writeable:
        old._data += grad._data
    else:
        leaf._grad = make(old._data + grad._data)


def _retain(node, grad, create_graph: bool):
    """The retain_grad hook: the tensor whose grad_fn is ``node`` keeps the grad it gets."""
    tensor = node._retained()
    if tensor is None or grad is None:
        return
    if tensor._grad is None:
        tensor._grad = O.clone(grad) if create_graph else make(grad._data.copy())
    else:
        tensor._grad = tensor._grad + grad
