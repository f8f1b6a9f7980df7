"""``torch.autograd.graph``: the ``Node`` base class of every grad_fn."""

from __future__ import annotations

from .node import Node

__all__ = ["Node"]
