"""torch.linalg: vector norms and matmul (re-exported from ``ops``)."""

from __future__ import annotations

from .ops import decompositions as _dc
from .ops import products as _pr
from .ops import shape as _shape
from .ops.linalg import matmul as _matmul
from .ops.reductions import vector_norm as _vector_norm
from .ops.surface import checked_unary as _checked_unary


def _diagonal(A, *, offset=0, dim1=-2, dim2=-1):  # noqa: N803 - torch's name
    return _shape.diagonal(A, offset, dim1, dim2)


def _norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002 - torch's name
    return _vector_norm(input, ord, dim, keepdim, dtype=dtype)


vector_norm = _checked_unary(_norm, "linalg_vector_norm")
# --- linear algebra beyond products (ops/decompositions.py)
inv = _checked_unary(_dc.inv, "linalg_inv")
det = _checked_unary(_dc.det, "linalg_det")
LinAlgError = _dc.LinAlgError
# --- products (ops/products.py)
cross = _checked_unary(_pr.linalg_cross, "linalg_cross")
vecdot = _pr.vecdot
multi_dot = _pr.multi_dot
matrix_power = _checked_unary(_pr.matrix_power, "linalg_matrix_power")
vander = _checked_unary(_pr.vander, "linalg_vander")
diagonal = _checked_unary(_diagonal, "linalg_diagonal")
matmul = _checked_unary(_matmul, "linalg_matmul")

__all__ = ["LinAlgError", "cross", "det", "diagonal", "inv", "matmul", "matrix_power",
           "multi_dot", "vander", "vecdot", "vector_norm"]
