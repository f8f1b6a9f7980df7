"""``torch.utils.hooks``: the one ``RemovableHandle`` every hook registration returns (it
lives with the tensor hooks in ``engine.autograd.hooks``; Module and Optimizer hooks use it too)."""

from __future__ import annotations

from ..autograd.hooks import RemovableHandle

__all__ = ["RemovableHandle"]
