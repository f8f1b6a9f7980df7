"""Tensor hooks: ``register_hook``, ``retain_grad`` and the handles that remove hooks.

A leaf keeps its hooks on the tensor (``_hooks``); the engine runs them on the grad that
reaches the leaf's AccumulateGrad.  A non-leaf's hooks live on its grad_fn (in
``node._retained``, a ``NodeHooks``), so they still run after the tensor object is gone, and
they stay with that node when an in-place op gives the tensor a new grad_fn, as in torch.
The tensor's ``_hooks`` refers to the dict it registers into (torch's ``_backward_hooks``),
dropped when its grad_fn changes.
``retain_grad`` always runs after the hooks, whatever the registration order.
"""

from __future__ import annotations

import itertools
import weakref

from .._dtype import legacy_type_name
from .._tensor import Tensor, make

_next_id = itertools.count()


class RemovableHandle:
    """What every hook registration returns (tensor, Module and Optimizer hooks, as torch's
    ``torch.utils.hooks.RemovableHandle``): ``remove()`` deletes the hook's id from the dict
    that holds it and from the extra dicts that flag it (``with_kwargs`` ...); twice is fine."""

    __slots__ = ("hooks_dict_ref", "extra_dict_ref", "id", "__weakref__")
    __module__ = "torch.utils.hooks"

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(_next_id)
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (weakref.ref(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)
        else:
            self.extra_dict_ref = ()

    def remove(self):
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            hooks = ref()
            if hooks is not None and self.id in hooks:
                del hooks[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _HookDict(dict):
    """A dict that handles can refer to weakly."""

    __slots__ = ("__weakref__",)


class NodeHooks:
    """A non-leaf's hooks and its retain_grad, run when its grad_fn receives a grad."""

    __slots__ = ("hooks", "retain")

    def __init__(self):
        self.hooks = None
        self.retain = None  # weakref to the tensor that retains its grad

    def run(self, grad, create_graph: bool):
        if self.hooks:
            grad = run_tensor_hooks(self.hooks, grad)
        if self.retain is not None:
            tensor = self.retain()
            if tensor is not None:
                retain(tensor, grad, create_graph)
        return grad


def node_hooks(node, number: int = 0) -> NodeHooks:
    """The hooks of output ``number`` of ``node`` (a multi-output node keeps one per output)."""
    if node.multi:
        per_output = node._retained
        if per_output is None:
            per_output = node._retained = [None] * node.n_outputs
        hooks = per_output[number]
        if hooks is None:
            hooks = per_output[number] = NodeHooks()
        return hooks
    hooks = node._retained
    if hooks is None:
        hooks = node._retained = NodeHooks()
    return hooks


def _number(tensor, fn) -> int:
    return tensor._output_nr if fn.multi else 0


def _hook_name(hook) -> str:
    return getattr(hook, "__name__", "<unknown>")


def run_tensor_hooks(hooks, grad):
    """Each hook in registration order; a hook returning a tensor replaces the grad."""
    for hook in tuple(hooks.values()):
        result = hook(grad)
        if result is None:
            continue
        if not isinstance(result, Tensor):
            raise TypeError(
                f"expected Variable, but hook returned '{type(result).__name__}'"
            )
        if result._data.dtype != grad._data.dtype:
            raise RuntimeError(
                f"hook '{_hook_name(hook)}' has changed the type of value (was "
                f"{legacy_type_name(grad.dtype)} got {legacy_type_name(result.dtype)})"
            )
        if result._data.shape != grad._data.shape:
            raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")
        grad = result
    return grad


def register_hook(tensor, hook) -> RemovableHandle:
    """``Tensor.register_hook``."""
    if not tensor._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    hooks = tensor._hooks
    if hooks is None:  # torch's _backward_hooks: made first, then grad_fn is read (only now)
        hooks = tensor._hooks = _HookDict()
        fn = tensor.grad_fn  # a stale view's is regenerated (or refused) here
        if fn is not None:
            owner = node_hooks(fn, _number(tensor, fn))
            if owner.hooks is None:
                owner.hooks = hooks
            else:
                hooks = tensor._hooks = owner.hooks
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def retain(tensor, grad, create_graph: bool):
    """The retain_grad hook: ``tensor`` keeps the grad its grad_fn receives."""
    if tensor._grad is None:
        tensor._grad = grad.clone() if create_graph else make(grad._data.copy())
    else:
        tensor._grad = tensor._grad + grad


def retain_grad(tensor):
    """``Tensor.retain_grad``: a no-op on leaves."""
    if not tensor._requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if tensor._grad_fn is None or tensor._retains_grad:
        return
    fn = tensor.grad_fn  # a stale view's is regenerated (or refused) first, as in torch
    tensor._retains_grad = True
    node_hooks(fn, _number(tensor, fn)).retain = weakref.ref(tensor)


def move_retain(tensor, old_fn, new_fn):
    """After an in-place op the retained grad is the grad of the tensor's new version; hooks
    stay with the old history (torch's update_tensor_hooks_on_new_gradfn), so a former leaf's
    AccumulateGrad runs them no more."""
    tensor._hooks = None
    if tensor._retains_grad and old_fn is not None and old_fn._retained is not None:
        node_hooks(old_fn, _number(tensor, old_fn)).retain = None
    if tensor._retains_grad:
        node_hooks(new_fn).retain = weakref.ref(tensor)
