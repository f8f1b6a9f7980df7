"""``Dropout`` over ``F.dropout`` (torch.nn.modules.dropout): identity in eval mode."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["Dropout"]


class _DropoutNd(Module):
    __module__ = "torch.nn.modules.dropout"
    __constants__ = ["p", "inplace"]

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    __module__ = "torch.nn.modules.dropout"

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)
