"""The backward engine: an explicit loop over the graph, no recursion.

1. Count, for every node reachable from the roots, how many edges lead into it.
2. Run ready nodes (all consumers done), latest-created first as torch's engine does, so
   grads from several consumers are summed in torch's order.  Each grad a node returns is
   summed back to its input's shape and cast to its dtype (``node.validate_grad``).
3. When a node is reached, the tensor hooks registered on its output run first, then
   ``retain_grad`` stores the (hooked) grad on that tensor; grads reaching an AccumulateGrad
   run the leaf's hooks and are added to the leaf's ``.grad``.
4. Unless the graph is retained, each node frees its saved values once it has run, so a
   second backward through it raises torch's error.
5. A grad nothing else references (``_owned``: reference counts, as torch's use_count) is
   reused: further grads for the same node are added into it in place, and a leaf's first
   grad becomes its ``.grad`` without a copy (torch's InputBuffer and AccumulateGrad "steal").

With ``inputs`` (``backward(inputs=...)`` and ``autograd.grad``) only nodes on a path to an
input run; ``autograd.grad`` captures the grads arriving at its inputs instead of
accumulating into ``.grad`` (torch's ``exec_info`` and ``captures``).
"""

from __future__ import annotations

import heapq
import sys
import warnings

import numpy as np

from .._tensor import Tensor, make, version_counter
from ..runtime.quiet import silent
from .grad_mode import state as _grad_mode
from .hooks import run_tensor_hooks
from .inplace import CopyBackwards
from .node import AccumulateGrad, accumulator, as_view, attach, output_nr, validate_grad

CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using "
    "autograd.grad when creating the graph to avoid this. If you have to use this function, "
    "make sure to reset the .grad fields of your parameters to None after use to break the "
    "cycle and avoid the leak."
)

_warned_create_graph = False  # torch warns once per process


# ----------------------------------------------------------------- argument handling
def as_tuple(tensors):
    """One tensor or a sequence of them, as a tuple (torch's ``(t,) if is_tensor(t)``)."""
    if isinstance(tensors, Tensor):
        return (tensors,)
    return tuple(tensors)


def grads_tuple(grads, length):
    """torch's ``_tensor_or_tensors_to_tuple``: a float is iterated (and fails) as in torch."""
    if grads is None:
        return (None,) * length
    if isinstance(grads, Tensor):
        return (grads,)
    return tuple(grads)


def make_grads(outputs, grads):
    """torch's ``_make_grads``: check given grads' shapes, create ones for scalar outputs."""
    new_grads = []
    for out, grad in zip(outputs, grads, strict=False):
        if not isinstance(out, Tensor):
            raise AssertionError("Expected output to be a torch.Tensor")
        if isinstance(grad, Tensor):
            if grad._data.shape != out._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{_index(grads, grad)}] has a shape of "
                    f"{grad.shape} and output[{_index(outputs, out)}] has a shape of "
                    f"{out.shape}."
                )
            new_grads.append(grad)
        elif grad is None:
            if out._requires_grad:
                if out._data.size != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if out._data.dtype.kind != "f":
                    raise RuntimeError(
                        "grad can be implicitly created only for real scalar outputs but got "
                        f"{out.dtype}"
                    )
                new_grads.append(make(np.ones_like(out._data)))
            else:
                new_grads.append(None)
        else:
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(grad).__name__}"
            )
    return tuple(new_grads)


def _index(sequence, item):
    for i, value in enumerate(sequence):
        if value is item:
            return i
    return 0  # pragma: no cover


def check_roots(tensors, grads):
    """The checks torch's C++ ``run_backward`` makes on outputs and their grads."""
    if len(tensors) != len(grads):
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grads)} gradients")
    roots = []
    for i, (t, g) in enumerate(zip(tensors, grads, strict=True)):
        if not t._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            raise RuntimeError(
                f"element {i} of gradients tuple is None, but the corresponding Tensor "
                "requires grad"
            )
        node = t.grad_fn or accumulator(t)
        if node is None:  # a view requiring grad through its base only: no edge in torch
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        roots.append((node, t, g))
    return roots


def input_node(t):
    """The node whose incoming grad is ``t``'s grad (None if ``t`` is in no graph)."""
    fn = t.grad_fn
    if fn is not None:
        return fn
    ref = t._accumulator
    return None if ref is None else ref()


def warn_create_graph():
    global _warned_create_graph
    if not _warned_create_graph:
        _warned_create_graph = True
        # torch warns from its C++ engine: the warning points into torch, not at the caller
        warnings.warn(CREATE_GRAPH_WARNING, UserWarning, stacklevel=1)


# ----------------------------------------------------------------- entry points
def backward(tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """``tensor.backward(...)``: torch.autograd.backward on one tensor."""
    fn = tensor.grad_fn
    if (gradient is None and inputs is None and not create_graph and fn is not None
            and tensor._data.size == 1 and tensor._data.dtype.kind == "f"):
        # the common `loss.backward()`: the checks below cannot fail, skip them
        data = tensor._data
        seed = np.empty(data.shape, data.dtype)  # np.ones is slower Python code
        seed.fill(1)
        seed = make(seed)
        run_backward([(fn, tensor, seed)], bool(retain_graph), False)
        return
    autograd_backward(tensor, gradient, retain_graph, create_graph, inputs=inputs)


def autograd_backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
                      grad_variables=None, inputs=None):
    if grad_variables is not None:
        grad_tensors = grad_variables
    if inputs is not None and not isinstance(inputs, Tensor) and len(inputs) == 0:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    tensors = as_tuple(tensors)
    inputs = () if inputs is None else as_tuple(inputs)
    grads = make_grads(tensors, grads_tuple(grad_tensors, len(tensors)))
    if retain_graph is None:
        retain_graph = create_graph
    roots = check_roots(tensors, grads)
    targets = None
    if inputs:
        targets = {}
        for t in inputs:
            t.retain_grad()  # as torch: a non-leaf input gets its .grad
            if not t._requires_grad:  # pragma: no cover - retain_grad raised already
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            node = input_node(t)
            if node is not None:
                targets[node] = None
    if create_graph:
        warn_create_graph()
    run_backward(roots, retain_graph, create_graph, targets, capture=False)


def autograd_grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
                  only_inputs=True, allow_unused=None, is_grads_batched=False,
                  materialize_grads=False):
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    if is_grads_batched:
        raise NotImplementedError("engine does not support is_grads_batched=True")
    outputs = as_tuple(outputs)
    inputs = as_tuple(inputs)
    if not only_inputs:
        warnings.warn(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To "
            "accumulate gradient for other parts of the graph, please use "
            "torch.autograd.backward.", FutureWarning, stacklevel=3)
    grads = make_grads(outputs, grads_tuple(grad_outputs, len(outputs)))
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not isinstance(t, Tensor):
            raise RuntimeError(
                "all inputs have to be Tensors or GradientEdges, but got "
                f"{type(t).__name__}"
            )
    roots = check_roots(outputs, grads)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    targets = {}
    nodes = []
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        node = input_node(t)
        nodes.append(node)
        if node is not None:
            targets[node] = None
    captured = run_backward(roots, retain_graph, create_graph, targets, capture=True)
    result = []
    for i, (t, node) in enumerate(zip(inputs, nodes, strict=True)):
        g = captured.get(node) if node is not None else None
        if g is not None and node.multi:  # the grads of all its outputs: this one's
            g = g[output_nr(t)]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                g = make(np.zeros_like(t._data))
        result.append(g)
    return tuple(result)


# ----------------------------------------------------------------- the loop
@silent
def run_backward(roots, retain_graph: bool, create_graph: bool, targets=None,
                 capture: bool = False):
    """Backpropagate from ``roots`` (``(node, tensor, grad)`` triples).

    ``targets`` (a dict used as an ordered set of nodes, or None for "everything") restricts
    the run to nodes on a path to a target; with ``capture`` the grads arriving at targets are
    returned instead of being accumulated into leaves."""
    dependencies = _count_dependencies([r[0] for r in roots])
    needed = None if targets is None else _needed(dependencies, targets)
    captured = {} if capture else None
    previous_mode = _grad_mode.enabled
    _grad_mode.enabled = create_graph  # formulas record a graph only for create_graph
    try:
        buffers = {}
        for node, tensor, grad in roots:
            grad = validate_grad(grad, (tensor._data.shape, tensor._data.dtype))
            if node.multi:
                _add_output_grad(buffers, node, output_nr(tensor), grad)
                continue
            pending = buffers.get(node)
            buffers[node] = grad if pending is None else pending + grad
        ready = [(-node._seq, node) for node in buffers if dependencies[node] == 0]
        heapq.heapify(ready)
        pop, push = heapq.heappop, heapq.heappush
        plain = needed is None and not capture  # no run restricted to inputs: the usual case
        while ready:
            node = pop(ready)[1]
            grad = buffers.pop(node, None)
            if type(node) is AccumulateGrad:
                if grad is not None and node.variable._hooks:
                    grad = run_tensor_hooks(node.variable._hooks, grad)
                if capture:
                    if node in targets and grad is not None:
                        captured[node] = grad
                elif needed is None or node in targets:
                    # an unshared first grad becomes .grad without a copy (torch steals it;
                    # a view is stored as a detached alias, as torch's new_grad.detach())
                    steal = (grad is not None and not create_graph
                             and node.variable._grad is None and _owned(grad))
                    if steal and grad._view_of is not None:
                        grad = make(grad._data)
                    _accumulate(node.variable, grad, create_graph, steal)
                continue
            if node._retained is not None and grad is not None:
                if node.multi:
                    grad = _run_output_hooks(node, grad, create_graph)
                else:
                    grad = node._retained.run(grad, create_graph)
            if not plain:
                if capture and node in targets and grad is not None:
                    captured[node] = grad
                if needed is not None and node not in needed:
                    continue
            grads = node.apply(grad) if grad is not None else [None] * len(node._meta)
            grad = None  # a grad passed through unchanged (AddBackward0) is then unshared
            if type(grads) is not list:  # nodes with an apply of their own may give tuples
                grads = list(grads)
            metas = node._meta
            for i, (nxt, number) in enumerate(node.next_functions):
                if nxt is None:
                    continue
                g = grads[i]
                if g is not None:
                    grads[i] = None  # so that _owned sees this grad unshared
                    meta = metas[i]
                    data = g._data
                    if data.shape != meta[0] or data.dtype != meta[1]:
                        g = validate_grad(g, meta)
                    pending = None if nxt.multi else buffers.pop(nxt, None)
                    if nxt.multi:
                        _add_output_grad(buffers, nxt, number, g)
                    elif pending is None:
                        buffers[nxt] = g
                    elif not create_graph and _owned(pending):
                        # torch's InputBuffer adds into a buffer no one else holds, in place
                        np.add(pending._data, g._data, out=pending._data)
                        version_counter(pending).value += 1
                        buffers[nxt] = pending
                    else:
                        buffers[nxt] = pending + g
                    g = pending = data = None
                count = dependencies[nxt] - 1
                dependencies[nxt] = count
                if count == 0 and (plain or nxt in needed or nxt in targets):
                    push(ready, (-nxt._seq, nxt))
            if not retain_graph:
                node.release()
    finally:
        _grad_mode.enabled = previous_mode
    return captured


def _add_output_grad(buffers, node, number, grad):
    """A multi-output node's buffer: one grad per output (torch's InputBuffer)."""
    grads = buffers.get(node)
    if grads is None:
        grads = buffers[node] = [None] * node.n_outputs
    pending = grads[number]
    grads[number] = grad if pending is None else pending + grad


def _run_output_hooks(node, grads, create_graph):
    """Each output's tensor hooks and retain_grad, on that output's grad."""
    for number, hooks in enumerate(node._retained):
        if hooks is not None and grads[number] is not None:
            grads[number] = hooks.run(grads[number], create_graph)
    return grads


def _count_dependencies(roots) -> dict:
    """Number of edges into each node reachable from ``roots`` (iterative DFS)."""
    dependencies = dict.fromkeys(roots, 0)
    stack = list(dependencies)
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


def _needed(dependencies, targets) -> set:
    """Nodes that must run because a target lies below them (torch's exec_info)."""
    needed = set()
    done = set()
    for start in dependencies:
        if start in done:
            continue
        stack = [(start, iter(start.next_functions))]
        done.add(start)
        while stack:
            node, children = stack[-1]
            for nxt, _ in children:
                if nxt is not None and nxt not in done:
                    done.add(nxt)
                    stack.append((nxt, iter(nxt.next_functions)))
                    break
            else:
                stack.pop()
                for nxt, _ in node.next_functions:
                    if nxt is not None and (nxt in needed or nxt in targets):
                        needed.add(node)
                        break
    return needed


def _owned(t, probe: bool = False) -> bool:
    """Whether the caller's local variable is the only reference to grad ``t``, and ``t`` the
    only one to its array (no view, alias or hook kept either), so it may be reused in place."""
    refs = (sys.getrefcount(t), sys.getrefcount(t._data))
    if probe:
        return refs
    if refs != _SOLE_REFS or t._requires_grad:  # an alias would hold t or t._data
        return False
    data = t._data
    if data.base is not None and not _sole_view(t, data.base):
        return False
    return data.flags.c_contiguous and data.flags.writeable


def _sole_view(t, base, probe: bool = False):
    """Whether view ``t`` is all that holds its base tensor and array: the transposed grad
    that ``x @ w.t()`` gives ``w`` is such a view of a fresh product (torch steals it too)."""
    root = t._view_of
    if root is None or root._data is not base:
        return False
    refs = (sys.getrefcount(root), sys.getrefcount(base))
    if probe:
        return refs
    return refs == _SOLE_VIEW_REFS and base.size == t._data.size


def _sole_refs():
    t = make(np.zeros((1, 2)))  # held by one local variable only, as the loop holds a grad
    sole = _owned(t, probe=True)
    view = as_view(make(t._data.T), t)  # the view alone holds its base
    t = None
    return sole, _sole_view(view, view._data.base, probe=True)


# measured, not assumed: the counts differ between Pythons
_SOLE_REFS, _SOLE_VIEW_REFS = _sole_refs()


def _accumulate(leaf, grad, create_graph: bool, steal: bool = False):
    """AccumulateGrad: store the grad the first time (a copy unless ``steal``), then add (in
    place, as torch does, unless a graph is being built).  Like torch's, it checks the leaf
    still requires grad: requires_grad_(False) after the graph was built drops the grad."""
    if grad is None:
        return
    if leaf._grad_fn is not None:  # requires_grad_(False), then an in-place op gave it one
        raise RuntimeError("leaf variable has been moved into the graph interior")
    if not leaf._requires_grad:
        return
    old = leaf._grad
    if old is None:
        if steal:
            leaf._grad = grad
        else:
            leaf._grad = _copy_for_grad(grad) if create_graph else make(grad._data.copy())
    elif create_graph:
        leaf._grad = old + grad
    else:
        try:
            old._data += grad._data
        except ValueError:  # a read-only (e.g. expanded) grad assigned by the user
            leaf._grad = make(old._data + grad._data)
        else:
            version_counter(old).value += 1  # an in-place add, as torch's


def _copy_for_grad(grad):
    """The copy AccumulateGrad stores on a leaf under create_graph (CopyBackwards)."""
    out = grad._data.copy()
    if _grad_mode.enabled and grad._requires_grad:
        return attach(CopyBackwards(), out, (None, grad))
    return make(out)
