"""Products and distances built on the matrix products: kron, inner, tensordot, addbmm,
baddbmm, cross (linalg.cross), vecdot, multi_dot, matrix_power, vander, cov, corrcoef, dist,
cdist.

Most are torch's composites written with the engine's ops (so they record torch's nodes:
kron's UnsafeViewBackward0, tensordot's ViewBackward0, vander's CatBackward0 ...); the fused
ones (addbmm, baddbmm, cross, dist, cdist) have their own node with derivatives.yaml's
formulas, written with engine ops so create_graph records a graph.
"""

from __future__ import annotations

import builtins
import math
import operator
import warnings

import numpy as np

from .. import _dtype
from .._memory_format import contiguous_format
from .._tensor import Tensor, make, wrap_dim
from ..autograd.inplace import check_inplace, commit, inplace_method
from ..autograd.node import attach, backward_node
from ..runtime.quiet import silent
from . import elementwise as E
from . import reductions as R
from . import shape as S
from .decompositions import inv, vdot
from .linalg import _unsafe_view, bmm, matmul, mm
from .operands import needs_grad
from .scatter import masked_fill
from .sorting import cumprod

_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
          "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _name(data):
    return _NAMES.get(data.dtype.name, data.dtype.name)


def _scaled(t, factor):
    return t if factor == 1 else t * factor


# ================================================================= kron, inner, tensordot
def kron(input, other):
    a, b = input._data, other._data
    ndim = builtins.max(a.ndim, b.ndim)
    pad_a, pad_b = ndim - a.ndim, ndim - b.ndim
    a_shape, b_shape, out_shape = [], [], []
    for i in range(ndim):
        sa = a.shape[i - pad_a] if i >= pad_a else 1
        sb = b.shape[i - pad_b] if i >= pad_b else 1
        a_shape += [sa, 1]
        b_shape += [1, sb]
        out_shape.append(sa * sb)
    return _unsafe_view(E.mul(_unsafe_view(input, a_shape), _unsafe_view(other, b_shape)),
                        out_shape)


def inner(input, other):
    if input._data.ndim == 0 or other._data.ndim == 0:
        return E.mul(input, other)
    a, b = input._data, other._data
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"[{', '.join(map(str, a.shape))}] and [{', '.join(map(str, b.shape))}]")
    return tensordot(input, other, [[-1], [-1]])


def _dim_list(dims, ndim):
    if isinstance(dims, Tensor):
        dims = dims._data.tolist()
    if isinstance(dims, int):
        dims = [dims]
    return [wrap_dim(operator.index(d), ndim) for d in dims]


def tensordot(a, b, dims=2, out=None):
    if isinstance(dims, Tensor):
        dims = dims._data.tolist()
    if isinstance(dims, int) or (isinstance(dims, list) and dims and isinstance(dims[0], int)
                                 and len(dims) != 2):
        if isinstance(dims, list):
            dims = dims[0]
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > builtins.min(a._data.ndim, b._data.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a = list(range(-dims, 0))
        dims_b = list(range(dims))
    else:
        dims_a, dims_b = dims
    da, db = a._data, b._data
    dims_a, dims_b = _dim_list(dims_a, da.ndim), _dim_list(dims_b, db.ndim)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if da.dtype != db.dtype:
        raise RuntimeError(f"expected scalar type {_name(da)} but found {_name(db)}")
    for i, j in zip(dims_a, dims_b, strict=False):
        sa, sb = da.shape[i], db.shape[j]
        if sa != sb:
            if sa == 1:  # torch sums the other side's dim away (kept, of size 1)
                b = R.sum(b, j, True, dtype=b.dtype)
            elif sb == 1:
                a = R.sum(a, i, True, dtype=a.dtype)
            else:
                raise RuntimeError(
                    f"contracted dimensions need to match, but first has size {sa} in dim "
                    f"{i} and second has size {sb} in dim {j}")
    da, db = a._data, b._data
    csize = math.prod(da.shape[i] for i in dims_a)
    free_a = [i for i in range(da.ndim) if i not in dims_a]
    free_b = [j for j in range(db.ndim) if j not in dims_b]
    out_shape = [da.shape[i] for i in free_a] + [db.shape[j] for j in free_b]
    size1 = math.prod(da.shape[i] for i in free_a)
    size2 = math.prod(db.shape[j] for j in free_b)
    t1 = S.reshape(S.permute(a, free_a + dims_a), (size1, csize))
    t2 = S.reshape(S.permute(b, dims_b + free_b), (csize, size2))
    return S.reshape(mm(t1, t2), out_shape)


# ================================================================= addbmm, baddbmm
def _check_batches(name, b1, b2):
    if b1.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b1.shape[0] != b2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{b1.shape[0]} and {b2.shape[0]}")
    if b1.shape[2] != b2.shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({b1.shape[1]}x{b1.shape[2]} "
                           f"and {b2.shape[1]}x{b2.shape[2]})")


def _addbmm_expand(n, g):
    return S.expand(S.unsqueeze(g, 0), (n.batch1_sizes[0], n.batch1_sizes[1],
                                         n.batch2_sizes[2]))


AddbmmBackward0 = backward_node(
    "AddbmmBackward0", saved=("batch1", "batch2"),
    fields=("alpha", "beta", "batch1_sizes", "batch2_sizes"),
    self=lambda n, g: _scaled(g, n.beta),
    batch1=lambda n, g: _scaled(bmm(_addbmm_expand(n, g), S.transpose(n.batch2, 1, 2)),
                                n.alpha),
    batch2=lambda n, g: _scaled(bmm(S.transpose(n.batch1, 1, 2), _addbmm_expand(n, g)),
                                n.alpha))


def _combine(product, x, beta, alpha, name, expected):
    """beta * x + alpha * product, as torch's kernels: integer scalars for integer tensors,
    half computed in float and rounded once."""
    dtype = x.dtype
    if dtype.kind in "biu":
        alpha, beta = int(alpha), int(beta)
    elif dtype == np.float16:
        product, x = product.astype(np.float32), x.astype(np.float32)
    if x.shape != expected:
        try:
            np.broadcast_to(x, expected)
        except ValueError:
            raise RuntimeError(
                f"The expanded size of the tensor ({expected[-1]}) must match the existing "
                f"size ({x.shape[-1]}) at non-singleton dimension {len(expected) - 1}.  "
                f"Target sizes: [{', '.join(map(str, expected))}].  Tensor sizes: "
                f"[{', '.join(map(str, x.shape))}]") from None
    if beta == 0:
        out = product * alpha if alpha != 1 else product
    else:
        out = product * alpha + x * beta if alpha != 1 else product + x * beta
    return np.ascontiguousarray(np.broadcast_to(out, expected), dtype=dtype)


@silent
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    b1, b2, x = batch1._data, batch2._data, input._data
    _check_batches("addbmm", b1, b2)
    if b1.dtype != b2.dtype or x.dtype != b1.dtype:
        raise RuntimeError(f"expected scalar type {_name(x)} but found "
                           f"{_name(b1 if b1.dtype != x.dtype else b2)}")
    expected = (b1.shape[1], b2.shape[2])
    if b1.shape[0] == 0 or b1.dtype.kind != "f":
        wide = b1.dtype
        product = np.matmul(b1, b2).sum(0, dtype=wide) if b1.shape[0] else np.zeros(
            expected, wide)
        out = _combine(product, x, beta, alpha, "addbmm", expected)
    else:
        out = _addmm_batches(x, b1, b2, beta, alpha, expected)
    if needs_grad(input, batch1, batch2):
        node = AddbmmBackward0()
        node.batch1, node.batch2, node.alpha, node.beta = batch1, batch2, alpha, beta
        node.batch1_sizes, node.batch2_sizes = b1.shape, b2.shape
        return attach(node, out, (input, batch1, batch2))
    return make(out)


def _addmm_batches(x, b1, b2, beta, alpha, expected):
    """torch's addbmm: one addmm_ per batch into the result (beta for the first only), each
    rounded to the result's dtype (half computed in float)."""
    dtype = x.dtype
    wide = np.float32 if dtype == np.float16 else dtype
    _combine(np.zeros(expected, wide), x, 1, 1, "addbmm", expected)  # the shape check
    out = np.broadcast_to(x, expected).astype(wide)
    for i in range(b1.shape[0]):
        product = np.matmul(b1[i].astype(wide, copy=False), b2[i].astype(wide, copy=False))
        if i == 0 and beta == 0:
            out = product * alpha if alpha != 1 else product
        else:
            scaled = out * beta if (i == 0 and beta != 1) else out
            out = product * alpha + scaled if alpha != 1 else product + scaled
        out = out.astype(dtype).astype(wide, copy=False)
    return np.ascontiguousarray(out, dtype=dtype)


def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    """``Tensor.addbmm_``: torch's addbmm_ resizes a self of another shape to the result's."""
    b1, b2 = batch1._data, batch2._data
    _check_batches("addbmm", b1, b2)
    expected = (b1.shape[1], b2.shape[2])
    if self._data.shape != expected and self._view_of is None:
        check_inplace(self, batch1, batch2)
        result = addbmm(self, batch1, batch2, beta=beta, alpha=alpha)
        self._data = np.empty(expected, self._data.dtype)  # resize_
        return commit(self, result)
    return _addbmm_inplace(self, batch1, batch2, beta=beta, alpha=alpha)


_addbmm_inplace = inplace_method("addbmm")


BaddbmmBackward0 = backward_node(
    "BaddbmmBackward0", saved=("batch1", "batch2"), fields=("alpha", "beta"),
    self=lambda n, g: _scaled(g, n.beta),
    batch1=lambda n, g: _scaled(bmm(g, S.transpose(n.batch2, 1, 2)), n.alpha),
    batch2=lambda n, g: _scaled(bmm(S.transpose(n.batch1, 1, 2), g), n.alpha))


@silent
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    b1, b2, x = batch1._data, batch2._data, input._data
    _check_batches("baddbmm", b1, b2)
    if b1.dtype != b2.dtype or x.dtype != b1.dtype:
        raise RuntimeError(f"expected scalar type {_name(x)} but found "
                           f"{_name(b1 if b1.dtype != x.dtype else b2)}")
    wide = np.float32 if b1.dtype == np.float16 else b1.dtype
    product = np.matmul(b1.astype(wide, copy=False), b2.astype(wide, copy=False))
    out = _combine(product, x, beta, alpha, "baddbmm", product.shape)
    if needs_grad(input, batch1, batch2):
        node = BaddbmmBackward0()
        node.batch1, node.batch2, node.alpha, node.beta = batch1, batch2, alpha, beta
        return attach(node, out, (input, batch1, batch2))
    return make(out)


def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    """``Tensor.baddbmm_``: torch's own check that self has the result's shape."""
    b1, b2 = batch1._data, batch2._data
    _check_batches("baddbmm", b1, b2)
    expected = (b1.shape[0], b1.shape[1], b2.shape[2])
    if self._data.shape != expected:
        raise RuntimeError(
            f"Bad in-place call: input tensor size [{', '.join(map(str, self._data.shape))}] "
            f"and output tensor size [{', '.join(map(str, expected))}] should match")
    return _baddbmm_inplace(self, batch1, batch2, beta=beta, alpha=alpha)


_baddbmm_inplace = inplace_method("baddbmm")


# ================================================================= cross, vecdot
LinalgCrossBackward0 = backward_node(
    "LinalgCrossBackward0", saved=("self_", "other"), fields=("dim",),
    self=lambda n, g: linalg_cross(n.other, g, dim=n.dim),
    other=lambda n, g: linalg_cross(g, n.self_, dim=n.dim))


def linalg_cross(input, other, *, dim=-1):
    a, b = input._data, other._data
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {_name(a)} but found {_name(b)}")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[dim]} and {b.shape[dim]}") from None
    d = wrap_dim(dim, len(shape))
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    out = np.cross(np.broadcast_to(a, shape), np.broadcast_to(b, shape), axis=d)
    out = np.ascontiguousarray(out, dtype=a.dtype)
    if needs_grad(input, other):
        node = LinalgCrossBackward0()
        node.self_, node.other, node.dim = input, other, d
        return attach(node, out, (input, other))
    return make(out)


def cross(input, other, dim=None):
    if dim is None:
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either "
            "pass the dim explicitly or simply use torch.linalg.cross.\nThe default value of "
            "dim will change to agree with that of linalg.cross in a future release.",
            UserWarning, stacklevel=2)
        a, b = input._data, other._data
        shape = np.broadcast_shapes(a.shape, b.shape) if a.ndim == b.ndim else a.shape
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim)


def vecdot(x, y, *, dim=-1):
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but "
                           f"found x of type {_name(x._data)} and y of type {_name(y._data)} "
                           "instead")
    if x._data.ndim == 1 and y._data.ndim == 1 and wrap_dim(dim, 1) == 0:
        return vdot(x, y)
    return R.sum(E.mul(x, y), dim)


# ================================================================= multi_dot
def _chain_order(shapes):
    n = len(shapes)
    p = [shapes[0][0]] + [s[1] for s in shapes]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(tensors, split, i, j):
    if i == j:
        return tensors[i]
    k = split[i][j]
    return mm(_chain(tensors, split, i, k), _chain(tensors, split, k + 1, j))


def multi_dot(tensors):
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    first, last = tensors[0]._data, tensors[-1]._data
    if first.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got "
                           f"{first.ndim}D")
    if last.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got "
                           f"{last.ndim}D")
    for i in range(1, n - 1):
        if tensors[i]._data.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got "
                               f"{tensors[i]._data.ndim}D")
    dtype = first.dtype
    for i, t in enumerate(tensors):
        if t._data.dtype != dtype:
            raise RuntimeError(
                f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                f"{_name(first)} and tensor {i} {_name(t._data)}")
    out_shape = ([first.shape[0]] if first.ndim == 2 else []) + \
        ([last.shape[1]] if last.ndim == 2 else [])
    mats = list(tensors)
    if first.ndim == 1:
        mats[0] = S.unsqueeze(mats[0], 0)
    if last.ndim == 1:
        mats[-1] = S.unsqueeze(mats[-1], -1)
    for i in range(n - 1):
        a, b = mats[i]._data.shape, mats[i + 1]._data.shape
        if a[1] != b[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {i} and {i + 1} with shapes "
                f"[{', '.join(map(str, tensors[i]._data.shape))}] and "
                f"[{', '.join(map(str, tensors[i + 1]._data.shape))}] cannot be multiplied")
    if n == 2:
        result = mm(mats[0], mats[1])
    elif n == 3:
        a, b, c = (m._data.shape for m in mats)
        cost1 = a[0] * c[0] * (a[1] + c[1])
        cost2 = a[1] * c[1] * (a[0] + c[0])
        result = mm(mm(mats[0], mats[1]), mats[2]) if cost1 < cost2 else \
            mm(mats[0], mm(mats[1], mats[2]))
    else:
        result = _chain(mats, _chain_order([m._data.shape for m in mats]), 0, n - 1)
    return S.view(result, out_shape)


# ================================================================= matrix_power, vander
def _check_square(name, data):
    if data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if data.shape[-1] != data.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{data.shape[-2]} by {data.shape[-1]} matrices")


def matrix_power(input, n):
    data = input._data
    _check_square("linalg.matrix_power", data)
    n = operator.index(n)
    if n == 0:
        eye = np.broadcast_to(np.eye(data.shape[-1], dtype=data.dtype), data.shape)
        return E.copy_(_contiguous_clone(input), make(eye))
    a = input
    if n < 0:
        a, n = inv(input), -n
        if n == 1:
            return a
    if n == 1:
        return _contiguous_clone(a)
    if n == 2:
        return matmul(a, a)
    if n == 3:
        return matmul(matmul(a, a), a)
    z = result = None
    while n > 0:
        bit, n = n % 2, n // 2
        z = a if z is None else matmul(z, z)
        if bit:
            result = z if result is None else matmul(result, z)
    return result


def _contiguous_clone(t):
    """``t.clone(memory_format=torch.contiguous_format)``."""
    return S.clone(t, memory_format=contiguous_format)


def vander(x, N=None):  # noqa: N803 - torch's name
    if x._data.ndim == 0:
        x = S.unsqueeze(x, 0)
    data = x._data
    n = data.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    if data.dtype.kind in "biu":
        x = E.to(x, _dtype.int64)
    shape = data.shape + (n - 1,)
    powers = cumprod(S.expand(S.unsqueeze(x, -1), shape), -1)
    ones = make(np.ones(data.shape + (1,), powers._data.dtype))
    return S.cat([ones, powers], -1)


# ================================================================= cov, corrcoef
def cov(input, *, correction=1, fweights=None, aweights=None):
    data = input._data
    if data.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {data.ndim} dimensions")
    x = S.view(input, (1, -1)) if data.ndim < 2 else input
    observations = x._data.shape[1]
    w = None
    if fweights is not None:
        f = fweights._data
        if f.ndim > 1:
            raise RuntimeError(f"cov(): expected fweights to have one or fewer dimensions but "
                               f"got fweights with {f.ndim} dimensions")
        if f.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got "
                               f"fweights with {_name(f)} dtype")
        if f.size != observations:
            raise RuntimeError(f"cov(): expected fweights to have the same numel as there are "
                               f"observations in the input but got {f.size} != {observations}")
        if (f < 0).any():
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights
    if aweights is not None:
        a = aweights._data
        if a.ndim > 1:
            raise RuntimeError(f"cov(): expected aweights to have one or fewer dimensions but "
                               f"got aweights with {a.ndim} dimensions")
        if a.dtype.kind != "f":
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got "
                               f"aweights with {_name(a)} dtype")
        if a.size != observations:
            raise RuntimeError(f"cov(): expected aweights to have the same numel as there are "
                               f"observations in the input but got {a.size} != {observations}")
        if (a < 0).any():
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights if w is None else E.mul(w, aweights)
    if w is None:
        w_sum = make(np.asarray(observations, np.int64))
        avg = E.div(R.sum(x, 1), w_sum)
    else:
        w_sum = R.sum(w)
        avg = E.div(R.sum(E.mul(x, w), 1), w_sum)
    if w is not None and correction != 0:
        if aweights is None:
            norm_factor = E.sub(w_sum, correction)
        else:
            norm_factor = E.sub(w_sum, E.div(R.sum(E.mul(w, aweights)), w_sum) * correction)
    else:
        norm_factor = E.sub(w_sum, correction)
    if (norm_factor._data <= 0).all():
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm_factor = make(np.zeros_like(norm_factor._data))
    x = E.sub(x, S.unsqueeze(avg, 1))
    c = mm(x, S.t(x if w is None else E.mul(x, w)))
    return S.squeeze(E.div(c, norm_factor))


def corrcoef(input):
    data = input._data
    if data.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but "
                           f"got an input with {data.ndim} dimensions")
    c = cov(input)
    if c._data.ndim == 0:
        return E.div(c, c)
    d = S.diagonal(c)
    stddev = E.sqrt(d)
    c = E.div(c, S.view(stddev, (-1, 1)))
    c = E.div(c, S.view(stddev, (1, -1)))
    return E.clamp(c, -1, 1)


# ================================================================= dist, cdist
def _dist_grad(n, g):
    diff = E.sub(n.self_, n.other)
    return R._norm_backward(g, diff, n.p, n.result, (), False)


DistBackward0 = backward_node(
    "DistBackward0", saved=("self_", "other", "_result"), fields=("p",),
    self=_dist_grad, other=lambda n, g: E.neg(_dist_grad(n, g)))


@silent
def dist(input, other, p=2):
    a, b = input._data, other._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {_name(a)} but found {_name(b)}")
    diff = np.subtract(a, b)  # torch: norm(self - other), the difference in the inputs' dtype
    p = float(p)
    out = R._vector_norm(diff, p, tuple(range(diff.ndim)), False)
    out = np.asarray(out, dtype=a.dtype)
    if needs_grad(input, other):
        node = DistBackward0()
        node.self_, node.other, node._result, node.p = input, other, out, p
        return attach(node, out, (input, other))
    return make(out)


def _cdist_backward(g, x1, x2, p, dist):
    """∂/∂x1 of sum(g * ||x1_i - x2_j||_p), with engine ops (torch's _cdist_backward)."""
    diff = E.sub(S.unsqueeze(x1, -2), S.unsqueeze(x2, -3))  # (.., r1, r2, m)
    g3 = S.unsqueeze(g, -1)
    d3 = S.unsqueeze(dist, -1)
    zero = d3._data == 0
    if p == 0:
        return E.mul(R.sum(E.mul(g3, diff), -2), 0)
    if p == 1:
        return R.sum(E.mul(g3, E.sign(diff)), -2)
    if p == 2:
        ratio = E.div(diff, d3)
    elif math.isinf(p):
        absdiff = E.abs(diff)
        ratio = E.mul(E.sign(diff), E.eq(absdiff, d3).to(diff.dtype))
    elif p < 2:
        ratio = E.div(E.mul(E.sign(diff), E.pow(E.abs(diff), p - 1)), E.pow(d3, p - 1))
    else:
        ratio = E.div(E.mul(diff, E.pow(E.abs(diff), p - 2)), E.pow(d3, p - 1))
    ratio = masked_fill(ratio, make(np.broadcast_to(zero, ratio._data.shape)), 0)
    return R.sum(E.mul(g3, ratio), -2)


CdistBackward0 = backward_node(
    "CdistBackward0", saved=("x1", "x2", "_result"), fields=("p",),
    x1=lambda n, g: _cdist_backward(g, n.x1, n.x2, n.p, n.result),
    x2=lambda n, g: _cdist_backward(S.mT(g), n.x2, n.x1, n.p, S.mT(n.result)))


def _euclidean_dist_grads(n, g):
    """torch's _euclidean_dist_backward (a zero subgradient where the distance is 0)."""
    ratio = masked_fill(g / n.result, make(np.asarray(n.result._data == 0)), 0)
    x1, x2 = n.x1, n.x2
    return (x1 * R.sum(ratio, -1, True) - matmul(ratio, x2),
            x2 * S.unsqueeze(R.sum(ratio, -2), -1) - matmul(S.mT(ratio), x1))


EuclideanDistBackward0 = backward_node(
    "EuclideanDistBackward0", saved=("x1", "x2", "_result"),
    x1=lambda n, g: _euclidean_dist_grads(n, g)[0],
    x2=lambda n, g: _euclidean_dist_grads(n, g)[1])

_CDIST_MODES = {None: 0, "use_mm_for_euclid_dist_if_necessary": 0,
                "use_mm_for_euclid_dist": 1, "donot_use_mm_for_euclid_dist": 2}


def _euclidean_dist(x1, x2):
    """ATen's _euclidean_dist: |a|^2 - 2 a.b + |b|^2 as one matmul of padded operands, the
    negatives of rounding clamped to 0 before the root."""
    a, b = x1._data, x2._data
    a_norm = np.square(a).sum(-1, keepdims=True)
    b_norm = np.square(b).sum(-1, keepdims=True)
    a_ = np.concatenate([a * a.dtype.type(-2), a_norm, np.ones_like(a_norm)], -1)
    b_ = np.concatenate([b, np.ones_like(b_norm), b_norm], -1)
    out = np.sqrt(np.maximum(np.matmul(a_, np.swapaxes(b_, -1, -2)), 0))
    if needs_grad(x1, x2):
        node = EuclideanDistBackward0()
        node.x1, node.x2, node._result = x1, x2, out
        return attach(node, out, (x1, x2))
    return make(out)


def _cdist_mm(x1, x2):
    """cdist by matmul, as torch's composite for p=2 in mm mode: the batch dims expanded and
    flattened to one, _euclidean_dist, a view to the output shape (ViewBackward0)."""
    a, b = x1._data, x2._data
    batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    product = math.prod(batch)
    shape = batch + (a.shape[-2], b.shape[-2])
    if product != 1:
        x1 = S.view(S.contiguous(S.expand(x1, batch + a.shape[-2:])), (product,) + a.shape[-2:])
        x2 = S.view(S.contiguous(S.expand(x2, batch + b.shape[-2:])), (product,) + b.shape[-2:])
    return S.view(_euclidean_dist(x1, x2), shape)


@silent
def cdist(x1, x2, p=2.0, compute_mode=None):
    a, b = x1._data, x2._data
    if a.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D")
    if b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {b.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{a.shape[-1]} X2: {b.shape[-1]}")
    if a.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {_name(a)}")
    if b.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X2 got: {_name(b)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    mode = _CDIST_MODES.get(compute_mode, compute_mode)
    r1, r2 = a.shape[-2], b.shape[-2]
    if (p == 2 and a.size and b.size and a.shape[-1]
            and (mode == 1 or (mode == 0 and (r1 > 25 or r2 > 25)))):
        return _cdist_mm(x1, x2)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    diff = np.abs(a[..., :, None, :] - b[..., None, :, :])
    p = float(p)
    if p == 0:
        out = (diff != 0).sum(-1).astype(a.dtype)
    elif p == 1:
        out = diff.sum(-1)
    elif p == 2:
        out = np.sqrt((diff * diff).sum(-1))
    elif math.isinf(p):
        out = diff.max(-1) if diff.shape[-1] else diff.sum(-1)
    else:
        out = np.power(np.power(diff, p).sum(-1), 1 / p)
    out = np.ascontiguousarray(out, dtype=a.dtype)
    if needs_grad(x1, x2):
        node = CdistBackward0()
        node.x1, node.x2, node._result, node.p = x1, x2, out, p
        return attach(node, out, (x1, x2))
    return make(out)


__all__ = ["addbmm", "baddbmm", "cdist", "corrcoef", "cov", "cross", "dist", "inner", "kron",
           "linalg_cross", "matrix_power", "multi_dot", "tensordot", "vander", "vecdot"]
