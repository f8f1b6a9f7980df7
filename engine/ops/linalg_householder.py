"""Products of Householder reflectors: ``torch.linalg.householder_product`` (and its older
name ``torch.orgqr``) and ``torch.ormqr``.

The values are LAPACK's orgqr/ormqr (through scipy), as torch's are, laid out column-major as
LAPACK leaves them; the checks and messages are torch's, in its order.  Both backward nodes use
FunctionsManual's ``householder_product_backward`` (ormqr's by swapping the roles of grad and
result), written out of place with engine ops so that create_graph records a graph.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg.lapack as lapack

from .._tensor import make
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import backward_node
from ..runtime.quiet import silent
from . import elementwise as E
from . import rearrange as RA
from . import reductions as R
from . import shape as S
from .decompositions import column_major
from .factorizations import _output, _type_name
from .linalg import matmul


# ================================================================= checks
def _check_dtypes(kernel, a):
    if a.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{_type_name(a)}\'')


def _check_batch(name, what, a, b):
    """``b``'s batch dims (all but its last ``b.ndim - a.ndim + 2``) must be ``a``'s."""
    if a.ndim > 2:
        got = b.shape[:a.ndim - 2]
        if got != a.shape[:-2]:
            raise RuntimeError(f"{name}: Expected batch dimensions of {what} to be equal to "
                               f"input.shape[:-2], but got [{', '.join(map(str, got))}]")


def _last(t, name):
    if not t.ndim:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    return t.shape[-1]


# ================================================================= backward
def _reflect(v, t, K, left):  # noqa: N803
    """``(I - t v v^T) K`` (``left``) or ``K (I - t v v^T)``: one Householder reflector applied
    to ``K`` (``v`` a column ``(..., m, 1)``, ``t`` a ``(..., 1)`` scalar)."""
    t = S.unsqueeze(t, -1)
    if left:
        return E.sub(K, E.mul(E.mul(t, v), matmul(S.mT(v), K)))
    return E.sub(K, E.mul(matmul(K, E.mul(t, v)), S.mT(v)))


def householder_product_backward(grad, result, input, tau, flip=False):
    """Grads of ``input`` and ``tau`` (None, None for empty inputs): K = result grad^T is
    carried through the reflectors, H_{i+1}^{-1} K H_i at each step, and each step's
    column of ``input`` and entry of ``tau`` read off it."""
    if input._data.size == 0 or tau._data.size == 0:
        return None, None
    if not _grad_mode.enabled:  # no graph to record: torch's in-place first-order loop
        return _householder_backward_arrays(grad._data, result._data, input._data,
                                            tau._data, flip)
    m, n = input._data.shape[-2:]
    k = tau._data.shape[-1]
    dtype = input._data.dtype
    V = E.add(RA.tril(input, -1), make(np.eye(m, n, dtype=dtype)))  # noqa: N806
    first = S.narrow(V, -1, 0, k)
    sigma = E.div(tau, E.sub(E.mul(tau, R.sum(E.mul(first, first), -2)), 1.0))
    K = matmul(result, S.mT(grad))  # noqa: N806
    order = range(k - 1, -1, -1) if flip else range(k)
    left = not flip

    def column(i):
        return S.narrow(V, -1, i, 1)

    K = _reflect(column(order[0]), S.narrow(sigma, -1, order[0], 1), K, left)  # noqa: N806
    input_grads, tau_grads = [None] * k, [None] * k
    for step, i in enumerate(order):
        v, t = column(i), S.narrow(tau, -1, i, 1)
        tail = S.narrow(v, -2, i, m - i)
        vHK = matmul(S.mT(tail), S.narrow(K, -2, i, m - i))  # noqa: N806
        Kv = matmul(S.narrow(K, -1, i, m - i), tail)  # noqa: N806
        t1 = S.unsqueeze(t, -1)
        v_grad = E.sub(S.squeeze(E.mul(E.neg(t1), vHK), -2), S.squeeze(E.mul(t1, Kv), -1))
        input_grads[i] = S.unsqueeze(v_grad, -1)
        tau_grads[i] = S.squeeze(E.neg(matmul(S.narrow(vHK, -1, i, m - i), tail)), -1)
        if step + 1 < k:
            nxt = order[step + 1]
            K = _reflect(column(nxt), S.narrow(sigma, -1, nxt, 1), K, left)  # noqa: N806
            K = _reflect(v, t, K, not left)  # noqa: N806
    if k < n:
        input_grads.append(make(np.zeros(input._data.shape[:-1] + (n - k,), dtype)))
    return RA.tril(S.cat(input_grads, -1), -1), S.cat(tau_grads, -1)


def _householder_backward_arrays(grad, result, input, tau, flip):
    """householder_product_backward as torch runs it without create_graph: K modified in
    place, each reflector applied only to the rows (columns) its vector is nonzero in."""
    m, n = input.shape[-2:]
    k = tau.shape[-1]
    V = np.tril(input, -1)  # noqa: N806
    V[..., range(min(m, n)), range(min(m, n))] = 1
    first = V[..., :k]
    sigma = tau / (tau * (first * first).sum(-2) - 1)
    K = result @ np.swapaxes(grad, -1, -2)  # noqa: N806

    def reflect(i, t, left):
        v = V[..., i:, i:i + 1]
        t = t[..., i:i + 1, None]
        if left:
            K[..., i:, :] -= (t * v) * (np.swapaxes(v, -1, -2) @ K[..., i:, :])
        else:
            K[..., :, i:] -= (K[..., :, i:] @ (t * v)) * np.swapaxes(v, -1, -2)

    order = range(k - 1, -1, -1) if flip else range(k)
    left = not flip
    reflect(order[0], sigma, left)
    input_grad = np.zeros(input.shape, input.dtype)
    tau_grad = np.zeros(tau.shape, tau.dtype)
    for step, i in enumerate(order):
        v = V[..., i:, i:i + 1]
        t = tau[..., i:i + 1, None]
        vHK = np.swapaxes(v, -1, -2) @ K[..., i:, :]  # noqa: N806
        Kv = K[..., :, i:] @ v  # noqa: N806
        input_grad[..., i] = (-t * vHK)[..., 0, :] - (t * Kv)[..., 0]
        tau_grad[..., i] = -(vHK[..., :, i:] @ v)[..., 0, 0]
        if step + 1 < k:
            reflect(order[step + 1], sigma, left)
            reflect(i, tau, not left)
    return make(np.tril(input_grad, -1)), make(tau_grad)


def _shared(n, g, which):
    """Input ``which``'s grad: the node's grads are computed once (``n.grads``) by the first
    formula run and kept for the others the same apply runs (one per edge needing a grad)."""
    kept = n.kept
    if kept is None:
        kept = n.kept = [*n.grads(n, g), sum(e[0] is not None for e in n.next_functions)]
    kept[-1] -= 1
    if kept[-1] == 0:
        n.kept = None
    return kept[which]


def _hp_grads(n, g):
    return householder_product_backward(g, n.result, n.input, n.tau)


LinalgHouseholderProductBackward0 = backward_node(
    "LinalgHouseholderProductBackward0", saved=("input", "tau", "_result"),
    fields=("kept", "grads"),
    input=lambda n, g: _shared(n, g, 0),
    tau=lambda n, g: _shared(n, g, 1))


# ================================================================= forward
def _per_matrix(fn, *arrays):
    """``fn`` on each matrix of the batch (all arrays share the batch dims)."""
    batch = arrays[0].shape[:-2]
    count = math.prod(batch)
    flat = [a.reshape((count,) + a.shape[len(batch):]) for a in arrays]
    results = [fn(*(f[b] for f in flat)) for b in range(count)]
    return results, batch


@silent
def householder_product(input, tau, *, out=None):
    a, t = input._data, tau._data
    name = "torch.linalg.householder_product"
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    m, n = a.shape[-2:]
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if n < _last(t, name):
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if a.ndim - t.ndim != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {t.ndim} and input.ndim is equal to {a.ndim}")
    _check_batch(name, "tau", a, t)
    if t.dtype != a.dtype:
        raise RuntimeError(f"{name}: tau dtype {_type_name(t)} does not match input dtype "
                           f"{_type_name(a)}")
    _check_dtypes("orgqr", a)
    k = t.shape[-1]
    if a.size == 0:
        q = np.zeros(a.shape, a.dtype)
    elif k == 0:
        q = np.broadcast_to(np.eye(m, n, dtype=a.dtype), a.shape).copy()
    else:
        orgqr = lapack.sorgqr if a.dtype == np.float32 else lapack.dorgqr
        results, batch = _per_matrix(
            lambda x, y: orgqr(x, y, lwork=max(1, 64 * n))[0], a, t)
        q = np.stack(results).reshape(a.shape)
    q = column_major(q.astype(a.dtype, copy=False))
    return _output(LinalgHouseholderProductBackward0, q, (input, tau), input=input, tau=tau,
                   _result=q, kept=None, grads=_hp_grads)


def orgqr(input, input2, *, out=None):
    """torch.orgqr: householder_product under its LAPACK name (the same node)."""
    return householder_product(input, input2)


# ================================================================= ormqr
def _ormqr_grads(n, g):
    """ormqr_backward: other's grad is ormqr with the transpose flipped; input's and tau's
    are householder_product_backward's, with grad and result swapped and the order
    reversed when ``left == transpose``."""
    result = n.result
    if n.left != n.transpose:
        hg, hr = (g, result) if not n.transpose else (S.mT(g), S.mT(result))
        flip = False
    else:
        hg, hr = (S.mT(result), S.mT(g)) if not n.transpose else (result, g)
        flip = True
    need = n.next_functions[0][0] is not None or n.next_functions[1][0] is not None
    grads = householder_product_backward(hg, hr, n.self_, n.input2, flip) if need else \
        (None, None)
    other = None
    if n.next_functions[2][0] is not None:
        other = ormqr(n.self_, n.input2, g, n.left, not n.transpose)
    return grads + (other,)


OrmqrBackward0 = backward_node(
    "OrmqrBackward0", saved=("self_", "input2", "input3", "_result"),
    fields=("left", "transpose", "kept", "grads"),
    self=lambda n, g: _shared(n, g, 0),
    input2=lambda n, g: _shared(n, g, 1),
    input3=lambda n, g: _shared(n, g, 2))


@silent
def ormqr(input, input2, input3, left=True, transpose=False, *, out=None):
    a, t, c = input._data, input2._data, input3._data
    name = "torch.ormqr"
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if c.ndim < 2:
        raise RuntimeError(f"{name}: other must have at least 2 dimensions.")
    side = -2 if left else -1
    if c.shape[side] != a.shape[-2]:
        raise RuntimeError(f"{name}: other.shape[{side}] must be equal to input.shape[-2]")
    if _last(t, name) != min(c.shape[side], a.shape[-1]):
        raise RuntimeError(f"{name}: tau.shape[-1] must be equal to min(other.shape[{side}], "
                           "input.shape[-1])")
    if a.ndim - t.ndim != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {t.ndim} and input.ndim is equal to {a.ndim}")
    if a.ndim != c.ndim:
        raise RuntimeError(f"{name}: Expected other to have the same number of dimensions as "
                           f"input, but got other.ndim equal to {c.ndim} and input.ndim is "
                           f"equal to {a.ndim}")
    _check_batch(name, "tau", a, t)
    _check_batch(name, "other", a, c)
    for other, what in ((t, "tau"), (c, "other")):
        if other.dtype != a.dtype:
            raise RuntimeError(f"{name}: Expected input and {what} to have the same dtype, but "
                               f"input has dtype{_type_name(a)} and {what} has dtype "
                               f"{_type_name(other)}")
    _check_dtypes("ormqr", a)
    k = t.shape[-1]
    if c.size == 0 or k == 0:
        res = c.copy()
    else:
        fn = lapack.sormqr if a.dtype == np.float32 else lapack.dormqr
        lwork = max(1, 64 * max(c.shape[-2:]))
        results, _ = _per_matrix(
            lambda x, y, z: fn("L" if left else "R", "T" if transpose else "N",
                               x[:, :k], y, z, lwork)[0], a, t, c)
        res = np.stack(results).reshape(c.shape)
    res = column_major(res.astype(a.dtype, copy=False))
    return _output(OrmqrBackward0, res, (input, input2, input3), self_=input, input2=input2,
                   input3=input3, _result=res, left=bool(left), transpose=bool(transpose),
                   kept=None, grads=_ormqr_grads)


__all__ = ["householder_product", "householder_product_backward", "orgqr", "ormqr"]
