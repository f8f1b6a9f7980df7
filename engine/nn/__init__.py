"""engine.nn: only the functional namespace so far."""

from . import functional

__all__ = ["functional"]
