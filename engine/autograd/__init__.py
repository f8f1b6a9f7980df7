"""``torch.autograd``: ``grad``, ``backward``, the grad-mode context managers and ``graph``.

The package also holds the autograd machinery, which the ops build on: ``grad_mode``
(whether ops record), ``node`` (Node, ``backward_node``, AccumulateGrad, ``attach``, views'
creation meta, ``validate_grad``), ``hooks`` (tensor hooks, retain_grad), ``inplace``
(checks, ``commit``, CopySlices, the in-place forms) and ``engine`` (the backward loop).
None of them imports an op: they call Tensor methods, bound once the ops are loaded.
"""

from __future__ import annotations

from . import engine as _engine
from . import graph
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate the grads of ``tensors`` into the leaves' ``.grad`` (torch's signature)."""
    _engine.autograd_backward(tensors, grad_tensors, retain_graph, create_graph,
                              grad_variables, inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The grads of ``outputs`` with respect to ``inputs``, returned rather than accumulated."""
    return _engine.autograd_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                                 only_inputs, allow_unused, is_grads_batched,
                                 materialize_grads)


__all__ = ["backward", "enable_grad", "grad", "graph", "is_grad_enabled", "no_grad",
           "set_grad_enabled"]
