"""torch.linalg: vector norms and matmul (re-exported from ``ops``)."""

from __future__ import annotations

from .ops import decompositions as _dc
from .ops.linalg import matmul as _matmul
from .ops.reductions import vector_norm as _vector_norm
from .ops.surface import checked_unary as _checked_unary


def _norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002 - torch's name
    return _vector_norm(input, ord, dim, keepdim, dtype=dtype)


vector_norm = _checked_unary(_norm, "linalg_vector_norm")
# --- linear algebra beyond products (ops/decompositions.py)
inv = _checked_unary(_dc.inv, "linalg_inv")
det = _checked_unary(_dc.det, "linalg_det")
LinAlgError = _dc.LinAlgError
matmul = _checked_unary(_matmul, "linalg_matmul")

__all__ = ["LinAlgError", "det", "inv", "matmul", "vector_norm"]
