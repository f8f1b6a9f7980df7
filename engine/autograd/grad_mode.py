"""Grad mode: whether ops record a backward graph. Thread-local, as in torch."""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True  # class default: every new thread starts with grad mode on


state = _State()


def is_grad_enabled() -> bool:
    return state.enabled


class _DecoratorContextManager:
    """A context manager that also decorates functions (each call runs inside it)."""

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        return type(self)()


class no_grad(_DecoratorContextManager):  # noqa: N801 - torch's spelling
    """Disable recording; usable as ``with no_grad():``, ``@no_grad()`` and ``@no_grad``."""

    __module__ = "torch.autograd.grad_mode"  # reprs print as torch's

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __init__(self, orig_func=None):
        self.prev = False

    def __enter__(self):
        self.prev = state.enabled
        state.enabled = False

    def __exit__(self, *exc):
        state.enabled = self.prev


class enable_grad(no_grad):  # noqa: N801
    """Re-enable recording inside a no_grad region."""

    __module__ = "torch.autograd.grad_mode"

    def __enter__(self):
        self.prev = state.enabled
        state.enabled = True


class set_grad_enabled(_DecoratorContextManager):  # noqa: N801
    """Sets the mode immediately (works as a plain call) and restores it on exit."""

    __module__ = "torch.autograd.grad_mode"

    def __init__(self, mode: bool):
        self.prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def __call__(self, func):
        state.enabled = self.prev  # used as a decorator: undo the eager switch
        return super().__call__(func)

    def __enter__(self):
        state.enabled = self.mode

    def __exit__(self, *exc):
        state.enabled = self.prev

    def clone(self):
        return set_grad_enabled(self.mode)

    def __repr__(self):
        return f"torch.autograd.grad_mode.set_grad_enabled(mode={self.mode})"
