"""torch.linalg: vector norms and matmul (re-exported from ``ops``)."""

from __future__ import annotations

from .ops import decompositions as _dc
from .ops import factorizations as _fa
from .ops import linalg_householder as _lh
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
# --- factorizations and solvers (ops/factorizations.py)
cholesky = _checked_unary(_fa.linalg_cholesky, "linalg_cholesky")
cholesky_ex = _checked_unary(_fa.cholesky_ex, "linalg_cholesky_ex")
solve = _checked_unary(_fa.solve, "linalg_solve")
solve_ex = _checked_unary(_fa.solve_ex, "linalg_solve_ex")
solve_triangular = _checked_unary(_fa.solve_triangular, "linalg_solve_triangular")
inv_ex = _checked_unary(_fa.inv_ex, "linalg_inv_ex")
slogdet = _checked_unary(_fa.slogdet, "linalg_slogdet")
eigh = _checked_unary(_fa.eigh, "linalg_eigh")
eigvalsh = _checked_unary(_fa.eigvalsh, "linalg_eigvalsh")
svd = _checked_unary(_fa.svd, "linalg_svd")
svdvals = _checked_unary(_fa.svdvals, "linalg_svdvals")
qr = _checked_unary(_fa.qr, "linalg_qr")
matrix_exp = _checked_unary(_fa.matrix_exp, "linalg_matrix_exp")
pinv = _checked_unary(_fa.pinv, "linalg_pinv")
lstsq = _checked_unary(_fa.lstsq, "linalg_lstsq")
tensorinv = _checked_unary(_fa.tensorinv, "linalg_tensorinv")
tensorsolve = _checked_unary(_fa.tensorsolve, "linalg_tensorsolve")
matrix_norm = _checked_unary(_fa.matrix_norm, "linalg_matrix_norm")
norm = _checked_unary(_fa.linalg_norm, "linalg_norm")
cond = _checked_unary(_fa.cond, "linalg_cond")
lu = _checked_unary(_fa.lu, "linalg_lu")
lu_factor = _checked_unary(_fa.lu_factor, "linalg_lu_factor")
lu_factor_ex = _checked_unary(_fa.lu_factor_ex, "linalg_lu_factor_ex")
lu_solve = _checked_unary(_fa.lu_solve, "linalg_lu_solve")
matmul = _checked_unary(_matmul, "linalg_matmul")
# --- Householder products (ops/linalg_householder.py)
householder_product = _checked_unary(_lh.householder_product, "linalg_householder_product")

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
           "eigvalsh", "householder_product", "inv", "inv_ex", "lstsq", "lu", "lu_factor",
           "lu_factor_ex", "lu_solve",
           "matmul", "matrix_exp", "matrix_norm", "matrix_power", "multi_dot", "norm", "pinv",
           "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals",
           "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm"]
