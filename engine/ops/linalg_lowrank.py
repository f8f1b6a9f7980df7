"""``torch.svd_lowrank`` and ``torch.pca_lowrank``: torch's Python composites (Halko et al.'s
randomized range finder, then an SVD of the projection), written with engine ops so the
values, the random draws (``randn`` on the engine's bit-exact generator) and the graph are
torch's.  Dense tensors only (the engine has no sparse layout).
"""

from __future__ import annotations

from .. import _dtype
from . import elementwise as E
from . import factorizations as FA
from . import joins as J
from . import random as RND
from . import reductions as R
from . import shape as S
from .linalg import matmul


def _floating(A):  # noqa: N803
    """torch._linalg_utils.get_floating_dtype: integer inputs draw float32."""
    dtype = A.dtype
    return dtype if dtype in (_dtype.float16, _dtype.float32, _dtype.float64) else _dtype.float32


def _approximate_basis(A, q, niter, M):  # noqa: N803
    """q orthonormal columns Q with Q Q^T (A - M) close to A - M (Algorithm 4.4)."""
    niter = 2 if niter is None else niter
    R_ = RND.randn(A.shape[-1], q, dtype=_floating(A))  # noqa: N806

    def project(X, Y):  # noqa: N803
        P = matmul(X, Y)  # noqa: N806
        return P if M is None else E.sub(P, matmul(M if X is A else S.mT(M), Y))

    Q = FA.qr(project(A, R_)).Q  # noqa: N806
    for _ in range(niter):
        Q = FA.qr(project(S.mT(A), Q)).Q  # noqa: N806
        Q = FA.qr(project(A, Q)).Q  # noqa: N806
    return Q


def _svd_lowrank(A, q=6, niter=2, M=None):  # noqa: N803
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = J.broadcast_to(M, A.shape)  # noqa: N806
    if m < n:
        A = S.mT(A)  # noqa: N806
        if M is not None:
            M = S.mT(M)  # noqa: N806
    Q = _approximate_basis(A, q, niter, M)  # noqa: N806
    B = matmul(S.mT(Q), A)  # noqa: N806
    if M is not None:
        B = E.sub(B, matmul(S.mT(Q), M))  # noqa: N806
    U, S_, Vh = FA.svd(B, full_matrices=False)  # noqa: N806
    V = S.mT(Vh)  # noqa: N806
    U = matmul(Q, U)  # noqa: N806
    if m < n:
        U, V = V, U  # noqa: N806
    return U, S_, V


def svd_lowrank(A, q=6, niter=2, M=None):  # noqa: N803
    return _svd_lowrank(A, q=q, niter=niter, M=M)


def pca_lowrank(A, q=None, center=True, niter=2):  # noqa: N803
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(
            f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter=niter, M=None)
    C = R.mean(A, (-2,), keepdim=True)  # noqa: N806
    return _svd_lowrank(E.sub(A, C), q, niter=niter, M=None)


__all__ = ["pca_lowrank", "svd_lowrank"]
