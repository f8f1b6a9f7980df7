"""``torch.nn.Parameter`` and ``torch.nn.Buffer``: tensors a Module registers by assignment.

A Parameter shares its storage and version counter with the tensor it wraps (torch's
``Tensor._make_subclass``) and prints as ``Parameter containing:`` followed by the tensor.
"""

from __future__ import annotations

import weakref

import engine
from engine import Tensor

__all__ = ["Buffer", "Parameter"]


class Parameter(Tensor):
    """A Tensor that a Module lists among its parameters when assigned as an attribute."""

    __module__ = "torch.nn.parameter"

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = engine.empty(0)
        return Tensor._make_subclass(cls, data, requires_grad)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach().numpy(), self.requires_grad))


def _rebuild_parameter(array, requires_grad):
    return Parameter(engine.tensor(array), requires_grad)


_buffer_marks = {}  # id(tensor) -> (weak reference, persistent): tensors made by Buffer(...)


def _buffer_mark(tensor):
    """``(persistent,)`` if ``tensor`` came from ``Buffer(...)``, else None."""
    entry = _buffer_marks.get(id(tensor))
    if entry is not None and entry[0]() is tensor:
        return (entry[1],)
    return None


class _BufferMeta(type):
    """``isinstance(t, Buffer)`` asks whether ``t`` was made by ``Buffer(...)``, as torch's
    metaclass asks for its ``_is_buffer`` flag."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and _buffer_mark(instance) is not None


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute.

    As in torch, ``Buffer(t)`` returns a plain Tensor (``t`` detached, keeping its
    ``requires_grad``); torch sets ``persistent``/``_is_buffer`` attributes on it, the
    engine's Tensor takes no attributes, so the mark is kept beside it (weakly)."""

    __module__ = "torch.nn.parameter"

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = engine.empty(0)
        out = data.detach().requires_grad_(data.requires_grad)
        key = id(out)
        _buffer_marks[key] = (weakref.ref(out, lambda _: _buffer_marks.pop(key, None)),
                              persistent)
        return out


def buffer_persistent(tensor) -> bool:
    """The ``persistent`` flag given to ``Buffer(...)`` for ``tensor``."""
    return _buffer_mark(tensor)[0]
