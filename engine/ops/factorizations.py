"""torch.linalg's factorizations and solvers: cholesky (and _ex, torch.cholesky), solve (and
_ex), solve_triangular, triangular_solve, cholesky_solve, cholesky_inverse, inv_ex, slogdet,
logdet, eigh, eigvalsh, svd, svdvals (and torch.svd), qr (and torch.qr), matrix_exp, pinv
(and pinverse), lstsq, tensorinv, tensorsolve.

Forward values come from LAPACK through numpy/scipy, as torch's come from LAPACK; results are
laid out as torch's (each matrix column-major where LAPACK wrote it).  Failures raise torch's
LinAlgError naming the batch element.  Each backward node is torch's (LinalgCholeskyExBackward0
...), its formula FunctionsManual's, written with engine ops so create_graph records a graph.
An op with several differentiable outputs gets one node per output, named as torch's; the
formulas are linear in the output grads, so the input's grad is their sum.
"""

from __future__ import annotations

import math
import operator
import warnings
import weakref

import numpy as np
import scipy.linalg

from .. import _dtype
from .._tensor import make
from ..autograd.node import attach, backward_node
from ..runtime.quiet import silent
from . import elementwise as E
from . import rearrange as RA
from . import reductions as R
from . import shape as S
from .decompositions import (
    _SCALAR_NAMES,
    LinAlgError,
    LinalgInvExBackward0,
    column_major,
    inv,
)
from .linalg import matmul
from .operands import needs_grad

_TYPE_NAMES = {"float32": "Float", "float64": "Double", **_SCALAR_NAMES}


def _type_name(data):
    return _TYPE_NAMES.get(data.dtype.name, data.dtype.name)


# ================================================================= return types
def _return_type(name, fields):
    """A torch.return_types structseq: a tuple with named fields, printed as torch's."""

    def new(cls, *values):
        return tuple.__new__(cls, values)

    def rep(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self, strict=True))
        return f"torch.return_types.{name}(\n{body})"

    namespace = {"__slots__": (), "__module__": "torch.return_types", "__new__": new,
                 "__repr__": rep, "__str__": rep, "n_fields": len(fields),
                 "n_sequence_fields": len(fields), "n_unnamed_fields": 0}
    for i, f in enumerate(fields):
        namespace[f] = property(operator.itemgetter(i))
    return type(name, (tuple,), namespace)


_CholeskyEx = _return_type("linalg_cholesky_ex", ("L", "info"))
_SolveEx = _return_type("linalg_solve_ex", ("result", "info"))
_InvEx = _return_type("linalg_inv_ex", ("inverse", "info"))
_Slogdet = _return_type("linalg_slogdet", ("sign", "logabsdet"))
_TorchSlogdet = _return_type("slogdet", ("sign", "logabsdet"))
_Eigh = _return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
_Svd = _return_type("linalg_svd", ("U", "S", "Vh"))
_TorchSvd = _return_type("svd", ("U", "S", "V"))
_Qr = _return_type("linalg_qr", ("Q", "R"))
_TorchQr = _return_type("qr", ("Q", "R"))
_TriangularSolve = _return_type("triangular_solve", ("solution", "cloned_coefficient"))
_Lstsq = _return_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))


# ================================================================= checks
def _check_matrix(name, data, *, square=False, floating=True):
    if data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if square and data.shape[-1] != data.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{data.shape[-2]} by {data.shape[-1]} matrices")
    if floating and (data.dtype.kind != "f" or data.dtype == np.float16):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_type_name(data)}")


def _check_same_dtype(name, a, b, what="B"):
    if a.dtype != b.dtype:
        raise RuntimeError(f"{name}: Expected A and {what} to have the same dtype, but found "
                           f"A of type {_type_name(a)} and {what} of type {_type_name(b)} "
                           "instead")


def _where(data, b):
    return f"(Batch element {b}): " if data.ndim > 2 else ""


def _batches(data):
    return data.reshape((math.prod(data.shape[:-2]),) + data.shape[-2:])


def _info(data, values=None):
    shape = data.shape[:-2]
    return np.zeros(shape, np.int32) if values is None else np.asarray(
        values, np.int32).reshape(shape)


def _output(node_cls, out, inputs, **saved):
    """``out`` hung from a new ``node_cls`` holding ``saved``, or a plain tensor."""
    if needs_grad(*inputs):
        node = node_cls()
        for slot, value in saved.items():
            setattr(node, slot, value)
        return attach(node, out, inputs)
    return make(out)


def _outputs(inputs, arrays, classes, shown=None, **fields):
    """Outputs of a multi-output op, one node per output (``classes``; None: an output with
    no grad).  Each node keeps every output's array and node (``outs``), so a formula reads
    an output as torch's saved outputs are read: a tensor whose grad_fn is that output's
    node, and double backward flows through it.  Only the outputs numbered in ``shown`` are
    returned (eigvalsh computes and saves eigenvectors it does not return)."""
    shown = range(len(arrays)) if shown is None else shown
    if not needs_grad(*inputs):
        return [make(arrays[i]) for i in shown]
    results, nodes = [], []
    for data, cls in zip(arrays, classes, strict=True):
        if cls is None:
            results.append(make(data))
            nodes.append(None)
            continue
        node = cls()
        for slot, value in fields.items():
            setattr(node, slot, value)
        results.append(attach(node, data, inputs))
        nodes.append(node)
    refs = tuple((data, weakref.ref(node) if node is not None and i in shown else
                  (lambda node=node: node), cls)
                 for i, (data, node, cls) in enumerate(zip(arrays, nodes, classes, strict=True)))
    for node in nodes:
        if node is not None:
            node.outs = refs
    return [results[i] for i in shown]


def _out(n, i):
    """Output ``i`` of ``n``'s op as a tensor of the graph (constant if it has no node)."""
    data, ref, cls = n.outs[i]
    node = ref()
    if node is None and cls is not None:
        node = _revive(n, cls)
    return make(data, node is not None, node)


def _revive(n, cls):
    """The node of an output the caller dropped (so its node is gone), made again from ``n``:
    the same inputs and saved values.  torch's one node for all outputs keeps that path, so
    double backward through a formula reading the dropped output still reaches the input."""
    node = cls()
    for klass in type(n).__mro__:
        for slot in getattr(klass, "__slots__", ()):
            if slot != "__weakref__" and hasattr(n, slot):
                setattr(node, slot, getattr(n, slot))
    node._retained = None  # the hooks of n's own output are not this output's
    return node


def _mH(t):  # noqa: N802 - torch's name
    return S.transpose(t, -2, -1)


def _tril(t, k=0):
    return RA.tril(t, k)


def _triu(t, k=0):
    return RA.triu(t, k)


# ================================================================= solve_triangular
def _trsm(a, b, *, upper, left, unit):
    """op(A) X = B (left) or X op(A) = B, batched, by BLAS trsm as torch (no singularity
    check: a zero on the diagonal gives inf/nan)."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    count = math.prod(batch)
    a = np.broadcast_to(a, batch + a.shape[-2:]).reshape((count,) + a.shape[-2:])
    bb = np.broadcast_to(b, batch + b.shape[-2:]).reshape((count,) + b.shape[-2:])
    out = np.empty(bb.shape, b.dtype)
    if out.size:
        trsm = scipy.linalg.blas.get_blas_funcs("trsm", (a[:1], bb[:1]))
        for i in range(out.shape[0]):
            out[i] = trsm(1.0, a[i], bb[i], side=0 if left else 1, lower=0 if upper else 1,
                          diag=1 if unit else 0)
    return column_major(out.reshape(batch + b.shape[-2:]))


def _solve_triangular_grad_b(n, g):
    return solve_triangular(_mH(n.self_), g, upper=not n.upper, left=n.left,
                            unitriangular=n.unitriangular)


def _solve_triangular_grad_a(n, g):
    gb = _solve_triangular_grad_b(n, g)
    x_h = _mH(n.result)
    ga = E.neg(matmul(gb, x_h) if n.left else matmul(x_h, gb))
    unit = int(n.unitriangular)
    return _triu(ga, unit) if n.upper else _tril(ga, -unit)


LinalgSolveTriangularBackward0 = backward_node(
    "LinalgSolveTriangularBackward0", saved=("self_", "_result"),
    fields=("upper", "left", "unitriangular"),
    self=_solve_triangular_grad_a, B=_solve_triangular_grad_b)


@silent
def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):  # noqa: N803
    a, b = A._data, B._data
    name = "linalg.solve_triangular"
    _check_matrix(name, a, square=True)
    if b.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    _check_same_dtype(name, a, b)
    if (left and a.shape[-1] != b.shape[-2]) or (not left and a.shape[-2] != b.shape[-1]):
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{equation} ({a.shape[-2]}x{a.shape[-1]} and "
                           f"{b.shape[-2]}x{b.shape[-1]})")
    result = _trsm(a, b, upper=upper, left=left, unit=unitriangular)
    return _output(LinalgSolveTriangularBackward0, result, (A, B), self_=A, _result=result,
                   upper=upper, left=left, unitriangular=unitriangular)


# ================================================================= cholesky
def _cholesky_grad(n, g):
    """cholesky_backward: gA = L^{-H} Φ(L^H gL) L^{-1}, Φ taking the lower triangle with
    half its diagonal, symmetrised."""
    L = n.result
    if n.upper:
        L, g = _mH(L), _mH(g)
    ga = _tril(matmul(_mH(L), g))
    ga = E.mul(E.add(ga, _mH(_tril(ga, -1))), 0.5)
    ga = solve_triangular(_mH(L), ga, upper=True, left=True)
    return solve_triangular(L, ga, upper=False, left=False)


LinalgCholeskyExBackward0 = backward_node(
    "LinalgCholeskyExBackward0", saved=("_result",), fields=("upper",), self=_cholesky_grad)
CholeskyBackward0 = backward_node(
    "CholeskyBackward0", saved=("_result",), fields=("upper",), self=_cholesky_grad)


def _potrf(data, upper):
    """(factor, info per matrix): numpy's batched Cholesky, LAPACK's potrf per matrix for
    the batches numpy refuses (info: the order of the first non-positive leading minor)."""
    try:
        L = np.linalg.cholesky(data)
        if np.isfinite(L).all() or not np.isfinite(data).all():
            return (np.swapaxes(L, -1, -2) if upper else L), None
    except np.linalg.LinAlgError:
        pass
    batch = _batches(data)
    out = np.zeros_like(batch)
    infos = np.zeros(batch.shape[0], np.int64)
    for i, matrix in enumerate(batch):
        c, info = scipy.linalg.lapack.get_lapack_funcs("potrf", (matrix,))(
            matrix, lower=not upper, clean=True)
        out[i], infos[i] = c, info
    return out.reshape(data.shape), infos


@silent
def _cholesky(name, A, upper, check_errors, node_cls):
    data = A._data
    _check_matrix(name, data, square=True)
    factor, infos = _potrf(data, upper)
    if check_errors and infos is not None and infos.any():
        b = int(np.flatnonzero(infos)[0])
        raise LinAlgError(
            f"{name}: {_where(data, b)}The factorization could not be completed because the "
            f"input is not positive-definite (the leading minor of order {int(infos[b])} is "
            "not positive-definite).")
    factor = column_major(factor.astype(data.dtype, copy=False))
    out = _output(node_cls, factor, (A,), _result=factor, upper=upper)
    return out, _info(data, infos)


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):  # noqa: N803
    L, info = _cholesky("linalg.cholesky_ex", A, upper, check_errors,
                        LinalgCholeskyExBackward0)
    return _CholeskyEx(L, make(info))


def linalg_cholesky(A, *, upper=False, out=None):  # noqa: N803
    return _cholesky("linalg.cholesky", A, upper, True, LinalgCholeskyExBackward0)[0]


def cholesky(input, upper=False, *, out=None):
    warnings.warn(
        "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed "
        "in a future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = "
        "torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, upper=True)\nshould be replaced "
        "with\nU = torch.linalg.cholesky(A).mH\nThis transform will produce equivalent results "
        "for all valid (symmetric positive definite) inputs.", UserWarning, stacklevel=2)
    return _cholesky("linalg.cholesky", input, upper, True, CholeskyBackward0)[0]


# ================================================================= solve
def _is_vector_rhs(a, b):
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def _solve_grad_b(n, g):
    vector = n.vector
    gb = solve(_mH(n.A), S.unsqueeze(g, -1) if vector else g, left=n.left)
    return S.squeeze(gb, -1) if vector else gb


def _solve_grad_a(n, g):
    vector = n.vector
    gb = solve(_mH(n.A), S.unsqueeze(g, -1) if vector else g, left=n.left)
    x = S.unsqueeze(n.result, -1) if vector else n.result
    return E.neg(matmul(gb, _mH(x)) if n.left else matmul(_mH(x), gb))


LinalgSolveExBackward0 = backward_node(
    "LinalgSolveExBackward0", saved=("A", "_result"), fields=("left", "vector"),
    A=_solve_grad_a, B=_solve_grad_b)


@silent
def _solve(name, A, B, left, check_errors):
    a, b = A._data, B._data
    _check_matrix("linalg.solve", a, square=True)
    _check_same_dtype("linalg.solve", a, b)
    vector = _is_vector_rhs(a, b)
    rhs = b[..., None] if vector else b
    if not left:
        rhs = np.swapaxes(rhs, -1, -2)
    if rhs.shape[-2] != a.shape[-1]:
        if vector:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                               f"Ax = b ({a.shape[-2]}x{a.shape[-1]} and {b.shape[-1]})")
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{equation} ({a.shape[-2]}x{a.shape[-1]} and "
                           f"{b.shape[-2]}x{b.shape[-1]})")
    batch = np.broadcast_shapes(a.shape[:-2], rhs.shape[:-2])
    a_b = np.broadcast_to(a if left else np.swapaxes(a, -1, -2), batch + a.shape[-2:])
    rhs = np.broadcast_to(rhs, batch + rhs.shape[-2:])
    infos = np.zeros(batch, np.int64)
    try:
        x = np.linalg.solve(a_b, rhs) if a_b.size and rhs.size else np.zeros(rhs.shape,
                                                                               a.dtype)
    except np.linalg.LinAlgError:
        x = np.empty(rhs.shape, a.dtype)
        flat_a, flat_b, flat_x = _batches(a_b), _batches(rhs), _batches(x)
        flat_info = infos.reshape(-1)
        for i in range(flat_a.shape[0]):
            lu, piv, info = scipy.linalg.lapack.get_lapack_funcs("getrf", (flat_a[i],))(
                flat_a[i])
            flat_info[i] = info
            if info == 0:
                flat_x[i] = np.linalg.solve(flat_a[i], flat_b[i])
            else:
                flat_x[i] = np.nan
        x = flat_x.reshape(rhs.shape)
    if check_errors and infos.any():
        first = int(np.flatnonzero(infos.reshape(-1))[0])
        where = f"(Batch element {first}): " if infos.ndim else ""
        raise LinAlgError(f"torch.linalg.solve: {where}The solver failed because the input "
                          "matrix is singular.")
    x = x.astype(a.dtype, copy=False)
    if not left:
        x = np.swapaxes(x, -1, -2)
        x = column_major(np.ascontiguousarray(x))
    else:
        x = column_major(x)
    if vector:
        x = x[..., 0]
        if x.ndim > 1:
            x = np.asfortranarray(x)
    out = _output(LinalgSolveExBackward0, x, (A, B), A=A, _result=x, left=left,
                  vector=vector)
    return out, infos.astype(np.int32)


def solve(A, B, *, left=True, out=None):  # noqa: N803
    return _solve("linalg.solve", A, B, left, True)[0]


def solve_ex(A, B, *, left=True, check_errors=False, out=None):  # noqa: N803
    x, info = _solve("linalg.solve_ex", A, B, left, check_errors)
    return _SolveEx(x, make(info))


# ================================================================= inv_ex
def inv_ex(A, *, check_errors=False, out=None):  # noqa: N803
    data = A._data
    _check_matrix("linalg.inv_ex", data, square=True)
    if check_errors:
        result = inv(A)
        return _InvEx(result, make(_info(data)))
    infos = np.zeros(data.shape[:-2], np.int32).reshape(-1)
    for b, matrix in enumerate(_batches(data) if data.size else ()):
        infos[b] = scipy.linalg.lapack.get_lapack_funcs("getrf", (matrix,))(matrix)[2]
    if infos.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = np.full(data.shape, np.nan, data.dtype)
            ok = (infos == 0).reshape(data.shape[:-2])
            if ok.any():
                out[ok] = np.linalg.inv(data[ok])
        out = column_major(out)
        result = _output(LinalgInvExBackward0, out, (A,), _result=out)
    else:
        result = inv(A)
    return _InvEx(result, make(infos.reshape(data.shape[:-2])))


# ================================================================= slogdet, logdet
def _slogdet_grad(n, g):
    """slogdet_backward: gA = A^{-H} g, as a solve against g on the diagonal."""
    a = n.A
    size = a._data.shape[-1]
    d = RA.diag_embed(S.expand(S.unsqueeze(g, -1), g._data.shape + (size,)))
    return solve_ex(_mH(a), d)[0]  # torch's lu_solve here checks nothing


def _slogdet_sign_grad(n, g):
    """The sign of a real determinant is locally constant: torch gives no grad."""
    return None


LinalgSlogdetBackward0 = backward_node(
    "LinalgSlogdetBackward0", saved=("A",), A=_slogdet_grad)
_SlogdetSignBackward = backward_node(
    "LinalgSlogdetBackward0", saved=("A",), A=_slogdet_sign_grad)


@silent
def _slogdet(name, A, result_type):
    data = A._data
    _check_matrix(name, data, square=True)
    sign, logabs = np.linalg.slogdet(data)
    sign = np.asarray(sign, data.dtype)
    logabs = np.asarray(logabs, data.dtype)
    return result_type(_output(_SlogdetSignBackward, sign, (A,), A=A),
                       _output(LinalgSlogdetBackward0, logabs, (A,), A=A))


def slogdet(A, *, out=None):  # noqa: N803
    return _slogdet("linalg.slogdet", A, _Slogdet)


def torch_slogdet(input, *, out=None):
    return _slogdet("linalg.slogdet", input, _TorchSlogdet)


def logdet(input):
    data = input._data
    _check_matrix("logdet", data, square=True)
    sign, logabs = _slogdet("logdet", input, _Slogdet)
    return E.where(E.eq(sign, -1.0), math.nan, logabs)


# ================================================================= eigh, eigvalsh
def _eigh_grad_values(n, g):
    v = _out(n, 1)
    return matmul(E.mul(v, S.unsqueeze(g, -2)), _mH(v))


def _off_diagonal_ones(e):
    """``e`` with ones on its diagonal (where torch fills them in)."""
    size = e._data.shape[-1]
    return E.add(e, make(np.eye(size, dtype=e._data.dtype)))


def _eigh_grad_vectors(n, g):
    lam, v = _out(n, 0), _out(n, 1)
    vhgv = matmul(_mH(v), g)
    vhgv = E.mul(E.sub(vhgv, _mH(vhgv)), 0.5)
    e = _off_diagonal_ones(E.sub(S.unsqueeze(lam, -2), S.unsqueeze(lam, -1)))
    return matmul(v, matmul(E.div(vhgv, e), _mH(v)))


LinalgEighBackward0 = backward_node(
    "LinalgEighBackward0", fields=("outs",), self=_eigh_grad_values)
_EighVectorsBackward = backward_node(
    "LinalgEighBackward0", fields=("outs",), self=_eigh_grad_vectors)


@silent
def _eigh(name, A, UPLO):  # noqa: N803
    data = A._data
    _check_matrix(name, data, square=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if not np.isfinite(data).all():
        raise LinAlgError(f"{name}: The algorithm failed to converge because the input matrix "
                          "is ill-conditioned or has too many repeated eigenvalues (error "
                          f"code: {data.shape[-1] - 1}).")
    if data.size:
        lam, vec = np.linalg.eigh(data, UPLO)
    else:
        lam, vec = np.zeros(data.shape[:-1], data.dtype), np.zeros(data.shape, data.dtype)
    return lam.astype(data.dtype, copy=False), column_major(vec.astype(data.dtype, copy=False))


def eigh(A, UPLO="L", *, out=None):  # noqa: N803
    lam, vec = _eigh("linalg.eigh", A, UPLO)
    return _Eigh(*_outputs((A,), (lam, vec), (LinalgEighBackward0, _EighVectorsBackward)))


def eigvalsh(A, UPLO="L", *, out=None):  # noqa: N803
    lam, vec = _eigh("linalg.eigvalsh", A, UPLO)
    return _outputs((A,), (lam, vec), (LinalgEighBackward0, _EighVectorsBackward),
                    shown=(0,))[0]


# ================================================================= svd, svdvals
def _svd_grad(n, gU, gS, gVh):  # noqa: N803
    """svd_backward for real inputs (torch's formula; any of the grads may be None)."""
    U, S_, Vh = _out(n, 0), _out(n, 1), _out(n, 2)
    k = S_._data.shape[-1]
    if n.full:
        U, Vh = S.narrow(U, -1, 0, k), S.narrow(Vh, -2, 0, k)
        gU = None if gU is None else S.narrow(gU, -1, 0, k)
        gVh = None if gVh is None else S.narrow(gVh, -2, 0, k)
    m, ncols = U._data.shape[-2], Vh._data.shape[-1]
    if gU is None and gVh is None:
        return matmul(U, E.mul(S.unsqueeze(gS, -1), Vh)) if m >= ncols else \
            matmul(E.mul(U, S.unsqueeze(gS, -2)), Vh)
    s2 = E.mul(S_, S_)
    e = _off_diagonal_ones(E.sub(S.unsqueeze(s2, -2), S.unsqueeze(s2, -1)))
    if gU is not None:
        uhgu = matmul(_mH(U), gU)
        uhgu = E.sub(uhgu, _mH(uhgu))
        ga = E.div(E.mul(uhgu, S.unsqueeze(S_, -2)), e)
    else:
        vhgv = matmul(Vh, _mH(gVh))
        vhgv = E.sub(vhgv, _mH(vhgv))
        ga = E.div(E.mul(S.unsqueeze(S_, -1), vhgv), e)
    if gS is not None:
        ga = E.add(ga, RA.diag_embed(gS))
    if m > ncols and gU is not None:
        ga = matmul(U, ga)
        gu_sinv = E.div(gU, S.unsqueeze(S_, -2))
        ga = E.sub(E.add(ga, gu_sinv), matmul(U, matmul(_mH(U), gu_sinv)))
        return matmul(ga, Vh)
    if m < ncols and gVh is not None:
        ga = matmul(ga, Vh)
        sinv_gvh = E.div(gVh, S.unsqueeze(S_, -1))
        ga = E.sub(E.add(ga, sinv_gvh), matmul(matmul(sinv_gvh, _mH(Vh)), Vh))
        return matmul(U, ga)
    return matmul(U, matmul(ga, Vh)) if m >= ncols else matmul(matmul(U, ga), Vh)


LinalgSvdBackward0 = backward_node(  # the grad through S
    "LinalgSvdBackward0", fields=("outs", "full"), A=lambda n, g: _svd_grad(n, None, g, None))
_SvdUBackward = backward_node(
    "LinalgSvdBackward0", fields=("outs", "full"), A=lambda n, g: _svd_grad(n, g, None, None))
_SvdVhBackward = backward_node(
    "LinalgSvdBackward0", fields=("outs", "full"), A=lambda n, g: _svd_grad(n, None, None, g))


@silent
def _svd_arrays(name, data, full_matrices, compute_uv=True):
    _check_matrix(name, data)
    if not np.isfinite(data).all():
        raise LinAlgError(f"{name}: The algorithm failed to converge because the input matrix "
                          "contained non-finite values.")
    m, n = data.shape[-2:]
    k = min(m, n)
    if data.size == 0:
        batch = data.shape[:-2]
        s = np.zeros(batch + (k,), data.dtype)
        if not compute_uv:
            return None, s, None
        u_cols, v_rows = (m, n) if full_matrices else (k, k)
        u = np.broadcast_to(np.eye(m, u_cols, dtype=data.dtype), batch + (m, u_cols)).copy()
        vh = np.broadcast_to(np.eye(v_rows, n, dtype=data.dtype), batch + (v_rows, n)).copy()
        return column_major(u), s, column_major(vh)
    if not compute_uv:
        return None, np.linalg.svd(data, compute_uv=False).astype(data.dtype), None
    u, s, vh = np.linalg.svd(data, full_matrices=full_matrices)
    return (column_major(u.astype(data.dtype, copy=False)), s.astype(data.dtype, copy=False),
            column_major(vh.astype(data.dtype, copy=False)))


def _svd_outputs(A, u, s, vh, full):  # noqa: N803
    return _outputs((A,), (u, s, vh), (_SvdUBackward, LinalgSvdBackward0, _SvdVhBackward),
                    full=full)


def svd(A, full_matrices=True, *, driver=None, out=None):  # noqa: N803
    u, s, vh = _svd_arrays("linalg.svd", A._data, full_matrices)
    return _Svd(*_svd_outputs(A, u, s, vh, full_matrices))


def svdvals(A, *, driver=None, out=None):  # noqa: N803
    data = A._data
    if not needs_grad(A):
        return make(_svd_arrays("linalg.svd", data, False, compute_uv=False)[1])
    u, s, vh = _svd_arrays("linalg.svd", data, False)
    return _outputs((A,), (u, s, vh), (_SvdUBackward, LinalgSvdBackward0, _SvdVhBackward),
                    shown=(1,), full=False)[0]


def torch_svd(input, some=True, compute_uv=True, *, out=None):
    data = input._data
    u, s, vh = _svd_arrays("linalg.svd", data, not some)
    U, S_, Vh = _svd_outputs(input, u, s, vh, not some)
    if not compute_uv:
        m, n = data.shape[-2:]
        zeros_u = np.zeros(data.shape[:-2] + (m, m if not some else min(m, n)), data.dtype)
        zeros_v = np.zeros(data.shape[:-2] + (n, n if not some else min(m, n)), data.dtype)
        return _TorchSvd(make(zeros_u), S_, make(zeros_v))
    return _TorchSvd(U, S_, _mH(Vh))


# ================================================================= qr
def _copyltu(m):
    return E.add(_tril(m), _mH(_tril(m, -1)))


def _qr_square_grad(Q, R, gQ, gR):  # noqa: N803
    """m >= n: gA = [gQ + Q copyltu(M)] R^{-H}, M = R gR^H - gQ^H Q."""
    if gR is not None:
        m = matmul(R, _mH(gR))
        if gQ is not None:
            m = E.sub(m, matmul(_mH(gQ), Q))
    else:
        m = E.neg(matmul(_mH(gQ), Q))
    ga = matmul(Q, _copyltu(m))
    if gQ is not None:
        ga = E.add(ga, gQ)
    return solve_triangular(_mH(R), ga, upper=False, left=False)


def _qr_grad(n, gQ, gR):  # noqa: N803
    if n.mode == "r":
        raise RuntimeError(
            "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
            "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
            "through linalg.qr.")
    Q, R = _out(n, 0), _out(n, 1)
    m, cols = Q._data.shape[-2], R._data.shape[-1]
    if n.mode == "complete" and m > cols:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    if m >= cols:
        return _qr_square_grad(Q, R, gQ, gR)
    # wide: A = [X | Y], X = Q U, Y = Q V
    U, V = S.narrow(R, -1, 0, m), S.narrow(R, -1, m, cols - m)
    Y = S.narrow(n.A, -1, m, cols - m)
    gU = None if gR is None else S.narrow(gR, -1, 0, m)
    gV = None if gR is None else S.narrow(gR, -1, m, cols - m)
    gQ_ = gQ
    if gV is not None:
        extra = matmul(Y, _mH(gV))
        gQ_ = extra if gQ_ is None else E.add(gQ_, extra)
    gX = _qr_square_grad(Q, U, gQ_, gU)
    gY = matmul(Q, gV) if gV is not None else make(np.zeros(Y._data.shape, Y._data.dtype))
    del V
    return S.cat([gX, gY], -1)


_QrQBackward = backward_node("LinalgQrBackward0", saved=("A",), fields=("outs", "mode"),
                             A=lambda n, g: _qr_grad(n, g, None))
LinalgQrBackward0 = backward_node("LinalgQrBackward0", saved=("A",), fields=("outs", "mode"),
                                  A=lambda n, g: _qr_grad(n, None, g))


@silent
def _qr(A, mode, result_type):
    data = A._data
    _check_matrix("linalg.qr", data)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    m, n = data.shape[-2:]
    k = min(m, n)
    batch = data.shape[:-2]
    if data.size:
        q, r = np.linalg.qr(data, "complete" if mode == "complete" else "reduced")
    else:
        q_cols = m if mode == "complete" else k
        q = np.broadcast_to(np.eye(m, q_cols, dtype=data.dtype), batch + (m, q_cols)).copy()
        r = np.zeros(batch + (q_cols if mode != "r" else k, n), data.dtype)
    q = column_major(q.astype(data.dtype, copy=False))
    r = column_major(r.astype(data.dtype, copy=False))
    if mode == "r":
        q = np.zeros((0,), data.dtype)
    return result_type(*_outputs((A,), (q, r), (None if mode == "r" else _QrQBackward,
                                                 LinalgQrBackward0), A=A, mode=mode))


def qr(A, mode="reduced", *, out=None):  # noqa: N803
    return _qr(A, mode, _Qr)


def torch_qr(input, some=True, *, out=None):
    return _qr(input, "reduced" if some else "complete", _TorchQr)


# ================================================================= matrix_exp
def _matrix_exp_grad(n, g):
    """The upper-right block of exp([[A^H, G], [0, A^H]])."""
    a_h = _mH(n.self_)
    size = a_h._data.shape[-1]
    zeros = make(np.zeros(a_h._data.shape, a_h._data.dtype))
    meta = S.cat([S.cat([a_h, g], -1), S.cat([zeros, a_h], -1)], -2)
    return S.narrow(S.narrow(matrix_exp(meta), -2, 0, size), -1, size, size)


LinalgMatrixExpBackward0 = backward_node(
    "LinalgMatrixExpBackward0", saved=("self_",), self=_matrix_exp_grad)


@silent
def matrix_exp(A):  # noqa: N803
    data = A._data
    _check_matrix("linalg.matrix_exp", data, square=True, floating=False)
    if data.dtype.kind != "f":
        raise RuntimeError(f"linalg.matrix_exp: Expected a floating point or complex tensor as "
                           f"input. Got {_type_name(data)}")
    if data.size == 0:
        out = np.zeros(data.shape, data.dtype)
    elif data.dtype in (np.float32, np.float16):
        out = scipy.linalg.expm(data.astype(np.float64)).astype(data.dtype)
    else:
        out = scipy.linalg.expm(data)
    out = np.ascontiguousarray(out, dtype=data.dtype)
    return _output(LinalgMatrixExpBackward0, out, (A,), self_=A)


# ================================================================= pinv
def _pinv_grad(n, g):
    pinv_a, a = n.result, n.self_
    m, cols = a._data.shape[-2:]
    pinv_ah, gh = _mH(pinv_a), _mH(g)
    if m <= cols:
        k = matmul(gh, pinv_a)
        k_pinv_ah = matmul(k, pinv_ah)
        return E.add(E.sub(E.add(E.neg(_mH(matmul(pinv_a, k))), k_pinv_ah),
                           matmul(matmul(a, pinv_a), k_pinv_ah)),
                     matmul(matmul(pinv_ah, pinv_a), E.sub(gh, matmul(k, a))))
    k = matmul(pinv_a, gh)
    pinv_ah_k = matmul(pinv_ah, k)
    return E.sub(E.add(E.add(E.neg(_mH(matmul(k, pinv_a))),
                             matmul(matmul(E.sub(gh, matmul(a, k)), pinv_a), pinv_ah)),
                       pinv_ah_k), matmul(matmul(pinv_ah_k, pinv_a), a))


LinalgPinvBackward0 = backward_node(
    "LinalgPinvBackward0", saved=("self_", "_result"), self=_pinv_grad)


def _tolerance(value, like):
    if value is None:
        return None
    return value._data if hasattr(value, "_data") else np.asarray(value, like.dtype)


@silent
def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):  # noqa: N803
    data = A._data
    if data.ndim < 2 or data.dtype.kind != "f" or data.dtype == np.float16:
        dims = ", ".join(map(str, data.shape))
        raise RuntimeError(f"linalg.pinv({_type_name(data)}{{[{dims}]}}): expected a tensor "
                           "with 2 or more dimensions of float, double, cfloat or cdouble "
                           "types")
    m, n = data.shape[-2:]
    atol_, rtol_ = _tolerance(atol, data), _tolerance(rtol, data)
    if rtol_ is None:
        eps = np.finfo(data.dtype).eps
        rtol_ = np.asarray(eps * max(m, n) if atol_ is None or not np.any(atol_ > 0) else 0.0)
    if atol_ is None:
        atol_ = np.asarray(0.0)
    if data.size == 0:
        out = np.zeros(data.shape[:-2] + (n, m), data.dtype)
    elif hermitian:
        lam, vec = np.linalg.eigh(data, "L")
        s_abs = np.abs(lam)
        smax = s_abs.max(-1, keepdims=True)
        thr = np.maximum(atol_[..., None] if atol_.ndim else atol_,
                         (rtol_[..., None] if rtol_.ndim else rtol_) * smax)
        sinv = np.where(s_abs > thr, 1 / np.where(lam == 0, 1, lam), 0)
        out = (vec * sinv[..., None, :]) @ np.swapaxes(vec, -1, -2)
    else:
        u, s, vh = np.linalg.svd(data, full_matrices=False)
        smax = s[..., :1]
        thr = np.maximum(atol_[..., None] if atol_.ndim else atol_,
                         (rtol_[..., None] if rtol_.ndim else rtol_) * smax)
        sinv = np.where(s > thr, 1 / np.where(s == 0, 1, s), 0)
        out = (np.swapaxes(vh, -1, -2) * sinv[..., None, :]) @ np.swapaxes(u, -1, -2)
    out = np.ascontiguousarray(out, dtype=data.dtype)
    return _output(LinalgPinvBackward0, out, (A,), self_=A, _result=out)


def pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


# ================================================================= cholesky_solve & co
def _cholesky_solve_grad_self(n, g):
    return cholesky_solve(g, n.input2, n.upper)


def _cholesky_solve_grad_input2(n, g):
    gs = cholesky_solve(g, n.input2, n.upper)
    common = matmul(gs, _mH(n.result))
    common = E.add(common, _mH(common))
    return E.neg(matmul(n.input2, common) if n.upper else matmul(common, n.input2))


CholeskySolveBackward0 = backward_node(
    "CholeskySolveBackward0", saved=("input2", "_result"), fields=("upper",),
    self=_cholesky_solve_grad_self, input2=_cholesky_solve_grad_input2)


@silent
def cholesky_solve(input, input2, upper=False, *, out=None):
    b, c = input._data, input2._data
    if b.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {b.ndim} dimensions "
                           "instead")
    if c.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {c.ndim} dimensions "
                           "instead")
    if b.dtype != c.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{_type_name(b)} and A of type {_type_name(c)} instead.")
    tri = np.swapaxes(c, -1, -2) if upper else c
    y = _trsm(tri, b, upper=False, left=True, unit=False)
    x = _trsm(np.swapaxes(tri, -1, -2), y, upper=True, left=True, unit=False)
    x = column_major(x.astype(b.dtype, copy=False))
    return _output(CholeskySolveBackward0, x, (input, input2), input2=input2, _result=x,
                   upper=upper)


def _cholesky_inverse_grad(n, g):
    common = E.add(g, _mH(g))
    common = matmul(n.result, matmul(common, n.result))
    return E.neg(matmul(n.self_, common) if n.upper else matmul(common, n.self_))


CholeskyInverseBackward0 = backward_node(
    "CholeskyInverseBackward0", saved=("self_", "_result"), fields=("upper",),
    self=_cholesky_inverse_grad)


@silent
def cholesky_inverse(input, upper=False, *, out=None):
    data = input._data
    if data.ndim < 2:
        raise RuntimeError("cholesky_inverse: The input tensor A must have at least 2 "
                           "dimensions.")
    _check_matrix("cholesky_inverse", data, square=True)
    eye = np.broadcast_to(np.eye(data.shape[-1], dtype=data.dtype), data.shape)
    tri = np.swapaxes(data, -1, -2) if upper else data
    y = _trsm(tri, eye, upper=False, left=True, unit=False)
    x = _trsm(np.swapaxes(tri, -1, -2), y, upper=True, left=True, unit=False)
    x = column_major(x.astype(data.dtype, copy=False))
    return _output(CholeskyInverseBackward0, x, (input,), self_=input, _result=x, upper=upper)


def _triangular_solve_grad_b(n, g):
    A = n.A
    return triangular_solve(g, A, n.upper, not n.transpose, n.unitriangular)[0]


def _triangular_solve_grad_a(n, g):
    gb = _triangular_solve_grad_b(n, g)
    x = n.result
    ga = E.neg(matmul(x, S.mT(gb)) if n.transpose else matmul(gb, _mH(x)))
    unit = int(n.unitriangular)
    return _triu(ga, unit) if n.upper else _tril(ga, -unit)


_TRI_SAVED = ("A", "_result")
TriangularSolveBackward0 = backward_node(
    "TriangularSolveBackward0", saved=_TRI_SAVED,
    fields=("upper", "transpose", "unitriangular"),
    self=_triangular_solve_grad_b, A=_triangular_solve_grad_a)
_TriangularCoefficientBackward = backward_node(  # the cloned coefficient's grad is A's
    "TriangularSolveBackward0", saved=_TRI_SAVED,
    fields=("upper", "transpose", "unitriangular"),
    self=lambda n, g: None, A=lambda n, g: g)


@silent
def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):  # noqa: N803
    b, a = input._data, A._data
    if b.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, "
                           f"but it has {b.ndim} dimensions instead")
    if a.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected A to have at least 2 dimensions, "
                           f"but it has {a.ndim} dimensions instead")
    tri = np.swapaxes(a, -1, -2) if transpose else a
    x = _trsm(tri, b, upper=upper != transpose, left=True, unit=unitriangular)
    x = column_major(x.astype(b.dtype, copy=False))
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    coefficient = column_major(np.broadcast_to(a, batch + a.shape[-2:]).copy())
    saved = {"A": A, "_result": x, "upper": upper, "transpose": transpose,
             "unitriangular": unitriangular}
    return _TriangularSolve(
        _output(TriangularSolveBackward0, x, (input, A), **saved),
        _output(_TriangularCoefficientBackward, coefficient, (input, A), **saved))


# ================================================================= lstsq
def _lstsq_grad_a(n, g):
    a, b = n.self_, n.b
    vector = b._data.ndim == a._data.ndim - 1
    gx = S.unsqueeze(g, -1) if vector else g
    bb = S.unsqueeze(b, -1) if vector else b
    return _pinv_grad_of(matmul(gx, _mH(bb)), pinv(a), a)


def _pinv_grad_of(g, pinv_a, a):
    holder = _PinvHolder(pinv_a, a)
    return _pinv_grad(holder, g)


class _PinvHolder:
    __slots__ = ("result", "self_")

    def __init__(self, result, a):
        self.result, self.self_ = result, a


def _lstsq_grad_b(n, g):
    a, b = n.self_, n.b
    vector = b._data.ndim == a._data.ndim - 1
    gx = S.unsqueeze(g, -1) if vector else g
    gb = matmul(_mH(pinv(a)), gx)
    return S.squeeze(gb, -1) if vector else gb


def _lstsq_residual(n, g):
    """(2 r gR, r) with r = AX - B: the residuals' grads (X is optimal, so dX drops out)."""
    a, b = n.self_, n.b
    x = _out(n, 0)
    if b._data.ndim == a._data.ndim - 1:
        x, b = S.unsqueeze(x, -1), S.unsqueeze(b, -1)
    r = E.sub(matmul(a, x), b)
    return E.mul(E.mul(r, S.unsqueeze(g, -2)), 2), x


def _lstsq_residual_grad_a(n, g):
    if n.outs[1][0].size == 0:  # no residuals were computed: no grad
        return None
    scaled, x = _lstsq_residual(n, g)
    return matmul(scaled, _mH(x))


def _lstsq_residual_grad_b(n, g):
    if n.outs[1][0].size == 0:
        return None
    scaled = _lstsq_residual(n, g)[0]
    if n.b._data.ndim == n.self_._data.ndim - 1:
        scaled = S.squeeze(scaled, -1)
    return E.neg(scaled)


LinalgLstsqBackward0 = backward_node(
    "LinalgLstsqBackward0", saved=("self_", "b"), fields=("outs",), self=_lstsq_grad_a,
    b=_lstsq_grad_b)
_LstsqResidualsBackward = backward_node(
    "LinalgLstsqBackward0", saved=("self_", "b"), fields=("outs",),
    self=_lstsq_residual_grad_a, b=_lstsq_residual_grad_b)


@silent
def lstsq(A, B, rcond=None, *, driver=None):  # noqa: N803
    a, b = A._data, B._data
    name = "torch.linalg.lstsq"
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if a.dtype != b.dtype:
        raise RuntimeError(f"{name}: Expected input and other to have the same dtype, but got "
                           f"input's dtype {_dtype.FROM_NUMPY[a.dtype]} and other's dtype "
                           f"{_dtype.FROM_NUMPY[b.dtype]}")
    vector = b.ndim == a.ndim - 1
    rhs = b[..., None] if vector else b
    if a.shape[-2] != rhs.shape[-2]:
        raise RuntimeError(f"{name}: input.size(-2) should match other.size(-2)" if not vector
                           else f"{name}: input.size(-2) should match other.size(-1)")
    drivers = ("gels", "gelsy", "gelsd", "gelss")
    if driver is not None and driver not in drivers:
        raise RuntimeError(f"{name}: parameter `driver` should be one of (gels, gelsy, gelsd, "
                           f"gelss)")
    driver = driver or "gelsy"
    m, n = a.shape[-2:]
    batch = np.broadcast_shapes(a.shape[:-2], rhs.shape[:-2])
    a_b = np.broadcast_to(a, batch + a.shape[-2:]).reshape((-1, m, n))
    b_b = np.broadcast_to(rhs, batch + rhs.shape[-2:]).reshape((-1, m, rhs.shape[-1]))
    eps = np.finfo(a.dtype).eps
    cond = rcond if rcond is not None else eps * max(m, n)
    xs, ranks, svs, residuals = [], [], [], []
    for i in range(a_b.shape[0]):
        if driver == "gels":
            x = np.linalg.lstsq(a_b[i], b_b[i], rcond=None)[0]
            rank, sv = None, None
        else:
            x, res, rank, sv = np.linalg.lstsq(a_b[i], b_b[i], rcond=cond)
        xs.append(x)
        ranks.append(rank)
        svs.append(sv)
        residuals.append(((a_b[i] @ x - b_b[i]) ** 2).sum(-2))
    rows = n
    x = np.stack(xs).reshape(batch + (rows, rhs.shape[-1])) if xs else np.zeros(
        batch + (rows, rhs.shape[-1]), a.dtype)
    x = column_major(x.astype(a.dtype, copy=False))
    if vector:
        x = x[..., 0]
    empty = np.zeros((0,), a.dtype)
    rank = np.zeros((0,), np.int64)
    if driver != "gels":
        rank = np.asarray(ranks, np.int64).reshape(batch)
    sv = empty
    if driver in ("gelsd", "gelss"):
        sv = np.stack(svs).reshape(batch + (min(m, n),)).astype(a.dtype) if svs else \
            np.zeros(batch + (min(m, n),), a.dtype)
    res = empty
    if m > n and driver != "gelsy" and all(r == n for r in ranks if r is not None):
        res = np.stack(residuals).reshape(batch + (rhs.shape[-1],)).astype(a.dtype) \
            if residuals else empty
    solution, residual = _outputs((A, B), (x, res), (LinalgLstsqBackward0,
                                                     _LstsqResidualsBackward),
                                  self_=A, b=B)
    return _Lstsq(solution, residual, make(rank), make(sv))


# ================================================================= tensorinv, tensorsolve
def tensorinv(A, ind=2, *, out=None):  # noqa: N803
    data = A._data
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape = data.shape[ind:] + data.shape[:ind]
    rows = math.prod(data.shape[:ind])
    cols = math.prod(data.shape[ind:])
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           "prod(self.shape[:ind]), but got "
                           f"{cols} != {rows}")
    return S.reshape(inv(S.reshape(A, (rows, cols))), out_shape)


def tensorsolve(A, B, dims=None, *, out=None):  # noqa: N803
    a = A._data
    if dims is not None:
        ndim = a.ndim
        dims = [d % ndim for d in dims]
        rest = [d for d in range(ndim) if d not in dims]
        A = S.permute(A, rest + list(dims))
        a = A._data
    b = B._data
    result_shape = a.shape[b.ndim:]
    result_product = math.prod(result_shape)
    other_product = math.prod(b.shape)
    expected = math.prod(a.shape[:b.ndim])
    if not (result_product == other_product and a.shape[:b.ndim] == b.shape) \
            and expected != other_product:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            "prod(self.shape[:other.ndim]), but got "
            f"{result_product} != {expected}")
    if result_product != expected:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            "prod(self.shape[:other.ndim]), but got "
            f"{result_product} != {expected}")
    a2 = S.reshape(A, (expected, result_product))
    b1 = S.reshape(B, (other_product,))
    return S.view(solve(a2, b1), result_shape)


__all__ = ["cholesky", "cholesky_ex", "cholesky_inverse", "cholesky_solve", "cond", "eigh",
           "eigvalsh", "inv_ex", "linalg_cholesky", "linalg_norm", "logdet", "lstsq",
           "matrix_exp", "matrix_norm", "pinv", "pinverse", "qr", "slogdet", "solve", "solve_ex",
           "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "torch_norm",
           "torch_qr", "torch_slogdet", "torch_svd", "triangular_solve"]


# ================================================================= matrix_norm, norm, cond
def _order(ord):  # noqa: A002 - torch's name
    """An order as torch prints it: 2, -1, inf, 2.5."""
    if isinstance(ord, str):
        return ord
    value = float(ord)
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return str(int(value)) if value == int(value) else str(value)


def _backshift(dim0, dim1, ndim):
    return [d for d in range(ndim) if d not in (dim0, dim1)] + [dim0, dim1]


def _svdvals_reduced(A, dims, keepdim, reduce):  # noqa: N803
    perm = _backshift(dims[0], dims[1], A._data.ndim)
    result = reduce(svdvals(S.permute(A, perm)), -1, keepdim)
    if keepdim:
        reverse = [perm.index(d) for d in range(len(perm))]
        result = S.permute(S.unsqueeze(result, -1), reverse)
    return result


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):  # noqa: A002, N803
    data = A._data
    name = "linalg.matrix_norm"
    if data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"{name}: Order {ord} not supported.")
        low_precision = ord != "nuc"
    else:
        abs_ord = abs(float(ord))
        if abs_ord not in (2.0, 1.0, math.inf):
            raise RuntimeError(f"{name}: Order {_order(ord)} not supported.")
        low_precision = abs_ord != 2.0
    dims = [dim] if isinstance(dim, int) else list(dim)
    if len(dims) != 2:
        shown = str(dims[0]) if len(dims) == 1 else f"[{', '.join(map(str, dims))}]"
        raise RuntimeError(f"{name}: dim must be a 2-tuple. Got {shown}")
    dims = [d % data.ndim if -data.ndim <= d < data.ndim else d for d in dims]
    for d in dims:
        if not 0 <= d < data.ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-data.ndim}, {data.ndim - 1}], but got {d})")
    if dims[0] == dims[1]:
        raise RuntimeError(f"{name}: dims must be different. Got ({dims[0]}, {dims[1]})")
    if data.dtype.kind != "f" or (data.dtype == np.float16 and not low_precision):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_type_name(data)}")
    if ord == "fro":
        return R.vector_norm(A, 2, dims, keepdim, dtype=dtype)
    source = A if dtype is None else E.to(A, dtype)
    if ord == "nuc":
        return _svdvals_reduced(source, dims, keepdim, R.sum)
    extreme = R.amax if float(ord) > 0 else R.amin
    if abs_ord == 2.0:
        return _svdvals_reduced(source, dims, keepdim, extreme)
    d0, d1 = dims
    if abs_ord == math.inf:
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:
        d1 -= 1
    return extreme(R.vector_norm(A, 1.0, (d0,), keepdim, dtype=dtype), d1, keepdim)


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):  # noqa: A002, N803
    data = A._data
    dims = None if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    if isinstance(ord, str):
        if dims is not None:
            if len(dims) not in (1, 2):
                raise RuntimeError(f"linalg.norm: If dim is specified, it mut be of length 1 "
                                   f"or 2. Got [{', '.join(map(str, dims))}]")
        elif data.ndim not in (1, 2):
            raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input "
                               f"must be 1D or 2D. Got {data.ndim}D.")
        return matrix_norm(A, ord, dims if dims is not None else [0, 1], keepdim, dtype=dtype)
    if dims is not None:
        if len(dims) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or "
                               f"2. Got [{', '.join(map(str, dims))}]")
    elif ord is not None and data.ndim not in (1, 2):
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {data.ndim}D.")
    if ord is not None and ((dims is not None and len(dims) == 2) or
                            (dims is None and data.ndim == 2)):
        return matrix_norm(A, ord, dims if dims is not None else [0, 1], keepdim, dtype=dtype)
    return R.vector_norm(A, 2.0 if ord is None else ord, dims, keepdim, dtype=dtype)


def torch_norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm (torch/functional.py): vector_norm, or matrix_norm for 'nuc' and the
    matrix orders."""
    dims = None if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return R.vector_norm(input, 2, dims, keepdim, dtype=dtype)
        if dims is None:
            dims = list(range(input._data.ndim))
        return matrix_norm(input, p, dims, keepdim, dtype=dtype)
    return R.vector_norm(input, 2.0 if p is None else p, dims, keepdim, dtype=dtype)


def cond(A, p=None, *, out=None):  # noqa: N803
    data = A._data
    if p is None:
        p = 2
    if isinstance(p, str):
        if p not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
        _check_matrix(f"linalg.cond(ord={p})", data, square=True, floating=False)
    else:
        if abs(float(p)) not in (1.0, 2.0, math.inf):
            raise RuntimeError(f"linalg.cond got an invalid norm type: {_order(p)}")
        if data.ndim < 2:
            raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if data.size == 0:
        return make(np.zeros(data.shape[:-2], data.dtype if data.dtype.kind == "f"
                             else np.float32))
    if not isinstance(p, str) and abs(float(p)) == 2.0:
        values = svdvals(A)
        s_max, s_min = S.narrow(values, -1, 0, 1), S.narrow(values, -1, -1, 1)
        result = E.div(s_min, s_max) if float(p) == -2.0 else E.div(s_max, s_min)
        return S.squeeze(result, -1)
    if not isinstance(p, str):
        _check_matrix(f"linalg.cond(ord={_order(p)})", data, square=True, floating=False)
    if p == "nuc":
        values = svdvals(A)
        return E.mul(R.sum(values, -1), R.sum(E.reciprocal(values), -1))
    inverse, info = inv_ex(A)
    inverse.masked_fill_(make(info._data[..., None, None] > 0), math.inf)
    result = E.mul(matrix_norm(A, p), matrix_norm(inverse, p))
    return result.nan_to_num_(math.inf, math.inf, -math.inf)


# ================================================================= LU
_LuFactor = _return_type("linalg_lu_factor", ("LU", "pivots"))
_LuFactorEx = _return_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))
_Lu = _return_type("linalg_lu", ("P", "L", "U"))
_LuUnpack = _return_type("lu_unpack", ("P", "L", "U"))


def _getrf(data):
    """(LU, 1-based int32 pivots, info) per matrix, LAPACK's getrf as torch's."""
    m, n = data.shape[-2:]
    k = min(m, n)
    batch = data.shape[:-2]
    flat = _batches(data)
    lu = np.empty(flat.shape, data.dtype)
    piv = np.empty((flat.shape[0], k), np.int32)
    info = np.zeros(flat.shape[0], np.int32)
    if flat.size:
        getrf = scipy.linalg.lapack.get_lapack_funcs("getrf", (flat[:1],))
        for i, matrix in enumerate(flat):
            lu[i], p, info[i] = getrf(matrix)
            piv[i] = p[:k] + 1
    else:
        piv[:] = np.arange(1, k + 1, dtype=np.int32)
    return (column_major(lu.reshape(data.shape)), piv.reshape(batch + (k,)),
            info.reshape(batch))


def _permutation(pivots, m, dtype):
    """The P of A = P L U from LAPACK's row interchanges."""
    batch = pivots.shape[:-1]
    flat = pivots.reshape(math.prod(batch), pivots.shape[-1])
    out = np.zeros((flat.shape[0], m, m), dtype)
    for b, piv in enumerate(flat):
        perm = np.arange(m)
        for i, p in enumerate(piv):
            j = int(p) - 1
            perm[i], perm[j] = perm[j], perm[i]
        out[b, perm, np.arange(m)] = 1
    return out.reshape(batch + (m, m))


def _unpack(lu):
    m, n = lu.shape[-2:]
    k = min(m, n)
    L = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
    U = np.triu(lu[..., :k, :])
    return np.ascontiguousarray(L), np.ascontiguousarray(U)


def _lu_backward(L_grad, U_grad, P, L, U, pivot):  # noqa: N803
    """linalg_lu_backward: the grad of A = P L U from those of L and U (either may be
    None)."""
    m, n = L._data.shape[-2], U._data.shape[-1]
    k = min(m, n)
    if m == n:
        ga = None if L_grad is None else _tril(matmul(_mH(L), L_grad), -1)
        if U_grad is not None:
            term = _triu(matmul(U_grad, _mH(U)))
            ga = term if ga is None else E.add(ga, term)
        ga = solve_triangular(_mH(U), ga, upper=False, left=False)
        ga = solve_triangular(_mH(L), ga, upper=True, left=True, unitriangular=True)
    elif m < n:
        U1, U2 = S.narrow(U, -1, 0, k), S.narrow(U, -1, k, n - k)
        ga = None if L_grad is None else matmul(_mH(L), L_grad)
        if U_grad is not None:
            term = matmul(_triu(U_grad), _mH(U))
            ga = E.neg(term) if ga is None else E.sub(ga, term)
        ga = solve_triangular(_mH(U1), _tril(ga, -1), upper=False, left=False)
        if U_grad is not None:
            ga = S.cat([E.add(ga, _triu(S.narrow(U_grad, -1, 0, k))),
                        S.narrow(U_grad, -1, k, n - k)], -1)
        ga = solve_triangular(_mH(L), ga, upper=True, left=True, unitriangular=True)
        if U_grad is None:
            ga = S.cat([ga, make(np.zeros(U2._data.shape, U2._data.dtype))], -1)
    else:
        L1, L2 = S.narrow(L, -2, 0, k), S.narrow(L, -2, k, m - k)
        ga = None if U_grad is None else matmul(U_grad, _mH(U))
        if L_grad is not None:
            term = matmul(_mH(L), _tril(L_grad, -1))
            ga = E.neg(term) if ga is None else E.sub(ga, term)
        ga = solve_triangular(_mH(L1), _triu(ga), upper=True, left=True, unitriangular=True)
        if L_grad is not None:
            ga = S.cat([E.add(ga, _tril(S.narrow(L_grad, -2, 0, k), -1)),
                        S.narrow(L_grad, -2, k, m - k)], -2)
        ga = solve_triangular(_mH(U), ga, upper=False, left=False)
        if L_grad is None:
            ga = S.cat([ga, make(np.zeros(L2._data.shape, L2._data.dtype))], -2)
    return matmul(P, ga) if pivot else ga


def _lu_factor_grad(n, g):
    lu = n.result
    m, cols = lu._data.shape[-2:]
    k = min(m, cols)
    L = E.add(_tril(S.narrow(lu, -1, 0, k), -1), make(np.eye(m, k, dtype=lu._data.dtype)))
    U = _triu(S.narrow(lu, -2, 0, k))
    P = make(_permutation(n.pivots, m, lu._data.dtype))
    return _lu_backward(S.narrow(g, -1, 0, k), S.narrow(g, -2, 0, k), P, L, U, n.pivot)


LinalgLuFactorExBackward0 = backward_node(
    "LinalgLuFactorExBackward0", saved=("_result",), fields=("pivots", "pivot"),
    A=_lu_factor_grad)


@silent
def _lu_factor(name, A, pivot):  # noqa: N803
    data = A._data
    if data.ndim < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got "
                           f"size: [{', '.join(map(str, data.shape))}] instead")
    if data.dtype.kind != "f" or data.dtype == np.float16:
        raise NotImplementedError(f'"lu_cpu" not implemented for \'{_type_name(data)}\'')
    if not pivot:
        raise RuntimeError(f"{name}: LU without pivoting is not implemented on the CPU")
    lu, piv, info = _getrf(data)
    out = _output(LinalgLuFactorExBackward0, lu, (A,), _result=lu, pivots=piv, pivot=pivot)
    return out, make(piv), info


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):  # noqa: N803
    lu, piv, info = _lu_factor("linalg.lu_factor_ex", A, pivot)
    return _LuFactorEx(lu, piv, make(info))


def lu_factor(A, *, pivot=True, out=None):  # noqa: N803
    lu, piv, info = _lu_factor("linalg.lu_factor", A, pivot)
    if info.any():
        flat = info.reshape(-1)
        b = int(np.flatnonzero(flat)[0])
        where = f"(Batch element {b}): " if info.ndim else ""
        i = int(flat[b])
        raise RuntimeError(
            f"torch.linalg.lu_factor: {where}U[{i},{i}] is zero and using it on lu_solve would "
            "result in a division by zero. If you still want to perform the factorization, "
            "consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return _LuFactor(lu, piv)


def torch_lu(A, pivot=True, get_infos=False, out=None):  # noqa: N803
    warnings.warn(
        "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex "
        "and will be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, "
        "compute_pivots)\nshould be replaced with\nLU, pivots = torch.linalg.lu_factor(A, "
        "compute_pivots)\nand\nLU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)"
        "\nshould be replaced with\nLU, pivots, info = torch.linalg.lu_factor_ex(A, "
        "compute_pivots)", UserWarning, stacklevel=2)
    lu, piv, info = _lu_factor("torch.lu", A, pivot)
    return (lu, piv, make(info)) if get_infos else (lu, piv)


_LU_FIELDS = ("outs", "pivot")
_LuLBackward = backward_node(
    "LinalgLuBackward0", fields=_LU_FIELDS,
    A=lambda n, g: _lu_backward(g, None, _out(n, 0), _out(n, 1), _out(n, 2), n.pivot))
LinalgLuBackward0 = backward_node(
    "LinalgLuBackward0", fields=_LU_FIELDS,
    A=lambda n, g: _lu_backward(None, g, _out(n, 0), _out(n, 1), _out(n, 2), n.pivot))


@silent
def lu(A, *, pivot=True, out=None):  # noqa: N803
    data = A._data
    if data.ndim < 2:
        raise RuntimeError(f"linalg.lu: Expected tensor with 2 or more dimensions. Got size: "
                           f"[{', '.join(map(str, data.shape))}] instead")
    if data.dtype.kind != "f" or data.dtype == np.float16:
        raise NotImplementedError(f'"lu_cpu" not implemented for \'{_type_name(data)}\'')
    if not pivot:
        raise RuntimeError("linalg.lu: LU without pivoting is not implemented on the CPU")
    lu_, piv, _ = _getrf(data)
    L, U = _unpack(lu_)
    P = _permutation(piv, data.shape[-2], data.dtype)
    return _Lu(*_outputs((A,), (P, L, U), (None, _LuLBackward, LinalgLuBackward0),
                         pivot=pivot))


def _lu_unpack_grad(n, g, lower):
    m, cols = n.sizes
    k = min(m, cols)
    part = _tril(g, -1) if lower else _triu(g)
    shape = list(part._data.shape)
    if lower and cols > k:  # wide: pad L's grad with zero columns
        shape[-1] = cols - k
        return S.cat([part, make(np.zeros(shape, g._data.dtype))], -1)
    if not lower and m > k:  # tall: pad U's grad with zero rows
        shape[-2] = m - k
        return S.cat([part, make(np.zeros(shape, g._data.dtype))], -2)
    return part


_LuUnpackLBackward = backward_node(
    "LuUnpackBackward0", fields=("outs", "sizes"),
    LU_data=lambda n, g: _lu_unpack_grad(n, g, True))
LuUnpackBackward0 = backward_node(
    "LuUnpackBackward0", fields=("outs", "sizes"),
    LU_data=lambda n, g: _lu_unpack_grad(n, g, False))


@silent
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):  # noqa: N803
    data = LU_data._data
    m, n = data.shape[-2:]
    L, U = _unpack(data) if unpack_data else (np.zeros((0,), data.dtype),) * 2
    P = _permutation(LU_pivots._data, m, data.dtype) if unpack_pivots else np.zeros(
        (0,), data.dtype)
    classes = (None, _LuUnpackLBackward, LuUnpackBackward0) if unpack_data else (None,) * 3
    return _LuUnpack(*_outputs((LU_data,), (P, L, U), classes, sizes=(m, n)))


def _lu_solve_grad_b(n, g):
    return lu_solve(n.LU, make(n.pivots), g, left=n.left, adjoint=not n.adjoint)


def _lu_solve_grad_lu(n, g):
    LU, x = n.LU, n.result
    m = LU._data.shape[-1]
    L = E.add(_tril(LU, -1), make(np.eye(m, dtype=LU._data.dtype)))
    U = _triu(LU)
    left, adjoint = n.left, n.adjoint
    if left != adjoint:
        rhs = E.neg(matmul(g if left else _mH(g), _mH(x) if left else x))
        gr = solve_triangular(_mH(U), rhs, upper=False)
        gl = _tril(solve_triangular(_mH(L), matmul(gr, _mH(U)), upper=True, left=True,
                                    unitriangular=True), -1)
        return E.add(gl, _triu(gr))
    P = make(_permutation(n.pivots, m, LU._data.dtype))
    gr = E.neg(matmul(matmul(matmul(S.mT(P), x if left else _mH(x)),
                             _mH(g) if left else g), P))
    gr = solve_triangular(_mH(L), gr, upper=True, left=False, unitriangular=True)
    gu = _triu(solve_triangular(_mH(U), matmul(_mH(L), gr), upper=False, left=False))
    return E.add(_tril(gr, -1), gu)


LinalgLuSolveBackward0 = backward_node(
    "LinalgLuSolveBackward0", saved=("LU", "_result"), fields=("pivots", "left", "adjoint"),
    LU=_lu_solve_grad_lu, B=_lu_solve_grad_b)


@silent
def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):  # noqa: N803
    lu_, b = LU._data, B._data
    name = "linalg.lu_solve"
    if lu_.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor LU must have at least 2 dimensions.")
    if b.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    n = lu_.shape[-1]
    if (left and n != b.shape[-2]) or (not left and n != b.shape[-1]):
        equation = ("A^H" if adjoint else "A") + "X = B" if left else \
            "X" + ("A^H" if adjoint else "A") + " = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{equation} ({lu_.shape[-2]}x{n} and {b.shape[-2]}x{b.shape[-1]})")
    L, U = _unpack(lu_)
    P = _permutation(pivots._data, n, lu_.dtype)
    a = P @ L @ U
    if adjoint:
        a = np.swapaxes(a, -1, -2)
    if left:
        x = np.linalg.solve(a, b) if a.size and b.size else np.zeros(
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], b.dtype)
    else:
        x = np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1,
                        -2) if a.size and b.size else np.zeros(
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], b.dtype)
    x = np.ascontiguousarray(x, dtype=b.dtype)
    if left:
        x = column_major(x)
    return _output(LinalgLuSolveBackward0, x, (LU, B), LU=LU, _result=x,
                   pivots=pivots._data, left=left, adjoint=adjoint)


def torch_lu_solve(b, LU_data, LU_pivots, *, out=None):  # noqa: N803
    warnings.warn(
        "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in "
        "a future PyTorch release.\nNote that torch.linalg.lu_solve has its arguments "
        "reversed.\nX = torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = "
        "torch.linalg.lu_solve(LU, pivots, B)", UserWarning, stacklevel=2)
    return lu_solve(LU_data, LU_pivots, b)
