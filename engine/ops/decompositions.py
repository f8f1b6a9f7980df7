"""Linear algebra beyond products: trace, inv (linalg.inv, inverse), det (linalg.det), vdot,
addmv, addr.

Forward values come from numpy's LAPACK calls, as torch's do; singular inputs raise torch's
LinAlgError with the LU diagonal element LAPACK reports (scipy's getrf gives it).  The grads
are derivatives.yaml's, written with engine ops (det's through inv, inv's through matmul), so
create_graph records a graph.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from .._tensor import make
from ..autograd.inplace import inplace_method
from ..autograd.node import attach, backward_node
from ..runtime.quiet import silent
from .linalg import matmul, mv
from .operands import needs_grad
from .scatter import index_fill
from .shape import reshape, unsqueeze

_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                 "uint8": "Byte", "bool": "Bool", "float16": "Half"}


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError (torch._C._LinAlgError)."""


LinAlgError.__name__ = LinAlgError.__qualname__ = "_LinAlgError"
LinAlgError.__module__ = "torch._C"


def _check_square(name, data):
    if data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if data.shape[-1] != data.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{data.shape[-2]} by {data.shape[-1]} matrices")
    if data.dtype.kind != "f" or data.dtype == np.float16:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_SCALAR_NAMES.get(data.dtype.name, data.dtype.name)}")


def _singular(name, data):
    """torch's message for the first singular matrix: the first zero of U's diagonal."""
    batch = data.reshape((-1,) + data.shape[-2:])
    for b, matrix in enumerate(batch):
        with warnings.catch_warnings():  # scipy's LinAlgWarning is not torch's
            warnings.simplefilter("ignore")
            lu = scipy.linalg.lu_factor(matrix, check_finite=False)[0]
        zeros = np.flatnonzero(np.diagonal(lu) == 0)
        if zeros.size:
            where = f"(Batch element {b}): " if data.ndim > 2 else ""
            return LinAlgError(
                f"{name}: {where}The diagonal element {int(zeros[0]) + 1} is zero, the "
                "inversion could not be completed because the input matrix is singular.")
    return None


def column_major(out):
    """``out`` laid out as LAPACK leaves torch's results: each matrix column-major."""
    if out.ndim < 2:
        return out
    return np.swapaxes(np.ascontiguousarray(np.swapaxes(out, -1, -2)), -1, -2)


# ================================================================= trace
def _trace_grad(n, g):
    """trace_backward: the grad index_fill-ed into the diagonal of flat zeros."""
    rows, cols = n.self_sizes
    zeros = make(np.zeros(rows * cols, g._data.dtype))
    diagonal = make(np.arange(0, min(rows, cols) * (cols + 1), cols + 1, dtype=np.int64))
    return reshape(index_fill(zeros, 0, diagonal, g), (rows, cols))


TraceBackward0 = backward_node("TraceBackward0", fields=("self_sizes",), self=_trace_grad)


def trace(input):
    data = input._data
    if data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {data.ndim}")
    kind = data.dtype.kind
    out = np.asarray(np.trace(data, dtype=np.int64 if kind in "biu" else data.dtype))
    if needs_grad(input):
        node = TraceBackward0()
        node.self_sizes = data.shape
        return attach(node, out, (input,))
    return make(out)


# ================================================================= inv, det
def _inv_grad(n, g):
    """-A^{-H} grad A^{-H}."""
    inv_t = n.result.mT
    return -matmul(matmul(inv_t, g), inv_t)


LinalgInvExBackward0 = backward_node("LinalgInvExBackward0", saved=("_result",),
                                     self=_inv_grad)


@silent
def inv(input):
    data = input._data
    _check_square("linalg.inv", data)
    try:
        out = np.linalg.inv(data)
    except np.linalg.LinAlgError:
        raise _singular("linalg.inv", data) from None
    if data.size:
        error = _singular("linalg.inv", data) if not np.isfinite(out).all() else None
        if error is not None:
            raise error
    out = column_major(out.astype(data.dtype, copy=False))
    if needs_grad(input):
        node = LinalgInvExBackward0()
        node._result = out
        return attach(node, out, (input,))
    return make(out)


def _det_grad(n, g):
    """grad * det * A^{-T}, for invertible A."""
    scaled = unsqueeze(unsqueeze(g * n.result, -1), -1)
    return scaled * inv(n.self_).mT


LinalgDetBackward0 = backward_node("LinalgDetBackward0", saved=("self_", "_result"),
                                   self=_det_grad)


@silent
def det(input):
    data = input._data
    _check_square("linalg.det", data)
    out = np.asarray(np.linalg.det(data)).astype(data.dtype, copy=False)
    if needs_grad(input):
        node = LinalgDetBackward0()
        node.self_, node._result = input, out
        return attach(node, out, (input,))
    return make(out)


# ================================================================= vdot, addmv, addr
VdotBackward0 = backward_node(
    "VdotBackward0", saved=("self_", "other"),
    self=lambda n, g: g * n.other, other=lambda n, g: g * n.self_)


def vdot(input, other):
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.dtype != b.dtype:
        raise RuntimeError("dot : expected both vectors to have same dtype, but found "
                           f"{_name(a)} and {_name(b)}")
    if a.size != b.size:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.size}] and src "
                           f"[{b.size}] to have the same number of elements, but got {a.size} "
                           f"and {b.size} elements respectively")
    out = np.asarray(np.dot(a, b)).astype(a.dtype, copy=False)
    if needs_grad(input, other):
        node = VdotBackward0()
        node.self_, node.other = input, other
        return attach(node, out, (input, other))
    return make(out)


def _name(data):
    return {"float32": "Float", "float64": "Double"}.get(
        data.dtype.name, _SCALAR_NAMES.get(data.dtype.name, data.dtype.name))


def _scaled(t, factor):
    return t if factor == 1 else t * factor


AddmvBackward0 = backward_node(
    "AddmvBackward0", saved=("mat", "vec"), fields=("alpha", "beta"),
    self=lambda n, g: _scaled(g, n.beta),
    mat=lambda n, g: _scaled(matmul(unsqueeze(g, 1), unsqueeze(n.vec, 0)), n.alpha),
    vec=lambda n, g: _scaled(mv(n.mat.t(), g), n.alpha))


@silent
def addmv(input, mat, vec, *, beta=1, alpha=1):
    m, v, x = mat._data, vec._data, input._data
    if m.ndim != 2 or v.ndim != 1 or m.shape[1] != v.shape[0] or (
            x.ndim and x.shape[-1] not in (1, m.shape[0])) or x.ndim > 1:
        raise RuntimeError(f"size mismatch, got input ({', '.join(map(str, x.shape))}), "
                           f"mat ({m.shape[0]}x{m.shape[1]}), vec ({v.shape[0]})")
    if m.dtype.kind in "iu":  # ATen casts the scalars to the integer type (truncating)
        alpha, beta = int(alpha), int(beta)
    if m.dtype == np.float16:  # ATen's half gemv: beta * input rounded to half, then the
        f32 = np.float32       # float sums scaled by alpha added to it, rounded once
        bias = 0 if beta == 0 else (x.astype(f32) * f32(beta)).astype(np.float16).astype(f32)
        prod = (m.astype(f32) @ v.astype(f32)) * f32(alpha)
    else:
        bias = 0 if beta == 0 else x * beta
        prod = (m @ v) * alpha
    out = np.asarray(np.broadcast_to(prod + bias, prod.shape), dtype=mat._data.dtype).copy()
    if needs_grad(input, mat, vec):
        node = AddmvBackward0()
        node.mat, node.vec, node.alpha, node.beta = mat, vec, alpha, beta
        return attach(node, out, (input, mat, vec))
    return make(out)


AddrBackward0 = backward_node(
    "AddrBackward0", saved=("vec1", "vec2"), fields=("alpha", "beta"),
    self=lambda n, g: _scaled(g, n.beta),
    vec1=lambda n, g: _scaled(mv(g, n.vec2), n.alpha),
    vec2=lambda n, g: _scaled(mv(g.t(), n.vec1), n.alpha))


@silent
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    a, b, x = vec1._data, vec2._data, input._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {a.ndim}-D"
                           if a.ndim != 1 else
                           f"addr: Expected 1-D argument vec2, but got {b.ndim}-D")
    if a.dtype == np.float16:  # ATen's kernel on c10::Half: beta * self + alpha * vec1 *
        half = np.float16        # vec2, in that order, each step rounded to half
        prod = (a * half(alpha))[:, None] * b
        out = prod if beta == 0 else x * half(beta) + prod
    else:
        prod = np.outer(a, b)
        out = prod * alpha + (0 if beta == 0 else x * beta)
    out = np.asarray(np.broadcast_to(out, prod.shape), dtype=prod.dtype).copy()
    if needs_grad(input, vec1, vec2):
        node = AddrBackward0()
        node.vec1, node.vec2, node.alpha, node.beta = vec1, vec2, alpha, beta
        return attach(node, out, (input, vec1, vec2))
    return make(out)


_addr_committed = inplace_method("addr")


def addr_(self, vec1, vec2, *, beta=1, alpha=1):
    """``Tensor.addr_``: once the vectors pass addr's checks, self must already be the
    outer product's matrix (torch's messages, not a broadcast error)."""
    a, b, x = vec1._data, vec2._data, self._data
    if a.ndim == 1 and b.ndim == 1:
        if x.ndim != 2:
            raise RuntimeError(f"2D tensor expected, got {x.ndim}D tensor for input")
        if x.shape != (a.shape[0], b.shape[0]):
            raise RuntimeError(f"size mismatch, input: {list(x.shape)}, v1: [{a.shape[0]}], "
                               f"v2: [{b.shape[0]}]")
    return _addr_committed(self, vec1, vec2, beta=beta, alpha=alpha)
