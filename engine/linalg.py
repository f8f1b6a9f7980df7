"""torch.linalg: vector norms and matmul."""

from __future__ import annotations

from ._functions import _unary
from .ops.linalg import matmul as _matmul
from .ops.operands import vector_norm as _vector_norm


def _norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002 - torch's name
    return _vector_norm(input, ord, dim, keepdim, dtype=dtype)


vector_norm = _unary(_norm, "linalg_vector_norm")
matmul = _unary(_matmul, "linalg_matmul")

__all__ = ["matmul", "vector_norm"]
