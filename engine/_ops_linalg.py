"""Linear algebra: mm, mv, dot, bmm, addmm, outer, matmul and einsum.

``matmul`` is a port of torch's ``_matmul_impl`` written with the engine's ops, so it records
the same chain of nodes (DotBackward0, MvBackward0, SqueezeBackward4 after an unsqueezed mm,
MmBackward0, folded UnsafeViewBackward0, broadcast BmmBackward0 ...).  ``einsum`` computes
with numpy and records the node torch's decomposition ends with (a permute or a sum for one
operand, a mul when nothing is contracted, a view otherwise).
"""

from __future__ import annotations

import math
import string

import numpy as np

from . import _blas as _blas  # noqa: F401 - BLAS threads as torch's
from . import _ops as O
from . import _ops_shape as S
from ._grad_mode import state as _grad_mode
from ._node import Node, attach
from ._tensor import Tensor, make


# ================================================================= backward nodes
def _column_major(t: Tensor) -> bool:
    """torch's test in mm's backward: strides (1, rows), as a transposed matrix has."""
    data = t._data
    return data.strides == (data.itemsize, data.itemsize * data.shape[0])


def _mm_mat1_backward(grad, mat1, mat2):
    """torch's mm_mat1_backward: a column-major input gets a column-major grad (computed
    transposed), so a transposed weight's grad needs no copy when it is accumulated."""
    if _column_major(mat1):
        return S.t(mm(mat2, S.t(grad)))
    return mm(grad, S.t(mat2))


def _mm_mat2_backward(grad, mat1, mat2):
    """torch's mm_mat2_backward (see _mm_mat1_backward): `x @ w.t()` gives w.t() a
    column-major grad, hence `w` a row-major one."""
    if _column_major(mat2):
        return S.t(mm(S.t(grad), mat1))
    return mm(S.t(mat1), grad)


class MmBackward0(Node):
    __slots__ = ("self_", "mat2")
    grad_order = (1, 0)  # mat2 before self
    saved = ("self_", "mat2")
    formulas = (
        lambda n, g: _mm_mat1_backward(g, n.self_, n.mat2),    # self
        lambda n, g: _mm_mat2_backward(g, n.self_, n.mat2),    # mat2
    )


class AddmmBackward0(Node):
    __slots__ = ("mat1", "mat2", "alpha", "beta")
    grad_order = (1, 2, 0)  # mat1, mat2, self
    saved = ("mat1", "mat2")
    formulas = (
        lambda n, g: g if n.beta == 1 else g * n.beta,       # self (the bias)
        lambda n, g: _times(_mm_mat1_backward(g, n.mat1, n.mat2), n.alpha),   # mat1
        lambda n, g: _times(_mm_mat2_backward(g, n.mat1, n.mat2), n.alpha),   # mat2
    )


def _times(grad, alpha):
    return grad if alpha == 1 else grad * alpha


class MvBackward0(Node):
    __slots__ = ("self_", "vec")
    saved = ("self_", "vec")
    formulas = (
        lambda n, g: outer(g, n.vec),        # self
        lambda n, g: mv(S.t(n.self_), g),    # vec
    )


class DotBackward0(Node):
    __slots__ = ("self_", "tensor")
    saved = ("self_", "tensor")
    formulas = (
        lambda n, g: g * n.tensor,           # self
        lambda n, g: g * n.self_,            # tensor
    )


class BmmBackward0(Node):
    __slots__ = ("self_", "mat2")
    saved = ("self_", "mat2")
    formulas = (
        lambda n, g: bmm(g, S.transpose(n.mat2, 1, 2)),     # self
        lambda n, g: bmm(S.transpose(n.self_, 1, 2), g),    # mat2
    )


# ================================================================= checks
def _same_dtype(a, b):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {a.dtype.cpp_name} != "
            f"{b.dtype.cpp_name}"
        )


def _node2(node_cls, out, a, b, names):
    if (a._requires_grad or b._requires_grad) and _grad_mode.enabled:
        node = node_cls()
        setattr(node, names[0], a)
        setattr(node, names[1], b)
        return attach(node, out, (a, b))
    return make(out)


# ================================================================= mm / mv / dot / bmm
def mm(input, mat2):
    a, b = input._data, mat2._data
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
            f"{b.shape[0]}x{b.shape[1]})"
        )
    if a.dtype != b.dtype:
        _same_dtype(input, mat2)
    return _node2(MmBackward0, a @ b, input, mat2, ("self_", "mat2"))


def mv(input, vec):
    a, v = input._data, vec._data
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.ndim}, {v.ndim}")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), "
            f"vec ({v.shape[0]})"
        )
    if a.dtype != v.dtype:
        raise RuntimeError(
            "addmv input tensors must have the same dtype, but got "
            f"{vec.dtype.scalar_name}, {input.dtype.scalar_name}, and {vec.dtype.scalar_name}"
        )
    return _node2(MvBackward0, a @ v, input, vec, ("self_", "vec"))


def dot(input, tensor):
    a, b = input._data, tensor._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] "
            f"to have the same number of elements, but got {a.shape[0]} and {b.shape[0]} "
            "elements respectively"
        )
    if a.dtype != b.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{input.dtype.scalar_name} and {tensor.dtype.scalar_name}"
        )
    return _node2(DotBackward0, np.asarray(np.dot(a, b)), input, tensor, ("self_", "tensor"))


def bmm(input, mat2):
    a, b = input._data, mat2._data
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b.shape[0] != a.shape[0] or b.shape[1] != a.shape[2]:
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}]."
        )
    if a.dtype != b.dtype:
        _same_dtype(input, mat2)
    return _node2(BmmBackward0, np.matmul(a, b), input, mat2, ("self_", "mat2"))


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    a, b = mat1._data, mat2._data
    if a.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {a.ndim}-D tensor")
    if b.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {b.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
            f"{b.shape[0]}x{b.shape[1]})"
        )
    product = a @ b
    if alpha != 1:
        product = product * alpha
    bias = input._data if beta == 1 else input._data * beta
    out = np.add(product, bias, out=product) if bias.dtype == product.dtype else product + bias
    if (input._requires_grad or mat1._requires_grad or mat2._requires_grad) and \
            _grad_mode.enabled:
        node = AddmmBackward0()
        node.mat1, node.mat2, node.alpha, node.beta = mat1, mat2, alpha, beta
        return attach(node, out, (input, mat1, mat2))
    return make(out)


def outer(input, vec2):
    return O.mul(S.reshape(input, (-1, 1)), vec2)


# ================================================================= matmul
def _unsafe_view(input, shape):
    out = input._data.reshape(shape)
    if input._requires_grad and _grad_mode.enabled:
        node = S.UnsafeViewBackward0()
        node.self_sizes = input._data.shape
        return attach(node, out, (input,))
    return make(out)


def _squeeze_inplace(input, dim):
    """``squeeze_(dim)`` on a fresh result: recorded as SqueezeBackward4."""
    data = input._data
    out = data.reshape(data.shape[:dim] + data.shape[dim + 1:])
    if input._requires_grad and _grad_mode.enabled:
        node = S.SqueezeBackward4()
        node.self_sizes = data.shape
        return attach(node, out, (input,))
    return make(out)


def _should_fold(t1_, t2_):
    larger = t1_._data.ndim >= t2_._data.ndim
    t1 = t1_._data if larger else np.swapaxes(t2_._data, -1, -2)
    dim_t2 = t2_._data.ndim if larger else t1_._data.ndim
    if not (t1.ndim >= 3 and dim_t2 <= 2):
        return False
    t2_requires_grad = t2_._requires_grad if larger else t1_._requires_grad
    if t2_requires_grad:
        return True
    if t1_._data.ndim == 2:
        return False
    if t1.size == 0:
        return True
    shape, strides = t1.shape, t1.strides
    for i in range(t1.ndim - 2):
        if strides[i] != strides[i + 1] * shape[i + 1]:
            return False
    return True


def matmul(tensor1, tensor2):
    if not isinstance(tensor2, Tensor):
        return NotImplemented
    d1, d2 = tensor1._data.ndim, tensor2._data.ndim
    if d1 == 0 or d2 == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {d1}D and {d2}D")
    if d1 == 1 and d2 == 1:
        return dot(tensor1, tensor2)
    if d1 == 2 and d2 == 1:
        return mv(tensor1, tensor2)
    if d1 == 1 and d2 == 2:
        return _squeeze_inplace(mm(S.unsqueeze(tensor1, 0), tensor2), 0)
    if d1 == 2 and d2 == 2:
        return mm(tensor1, tensor2)
    if _should_fold(tensor1, tensor2):
        transpose = d2 > d1
        t1 = S.mT(tensor2) if transpose else tensor1
        t2 = (S.t(tensor1) if d1 == 2 else tensor1) if transpose else tensor2
        sizes_1 = t1._data.shape
        output_shape = list(sizes_1[:-1])
        folded = math.prod(output_shape)
        t2_is_matrix = t2._data.ndim == 2
        if t2_is_matrix:
            output_shape.append(t2._data.shape[1])
        t1_folded = S.reshape(t1, (folded, sizes_1[-1]))
        if t2_is_matrix:
            output = _unsafe_view(mm(t1_folded, t2), tuple(output_shape))
            return S.contiguous(S.mT(output)) if transpose else output
        return _unsafe_view(mv(t1_folded, t2), tuple(output_shape))
    s1, s2 = tensor1._data.shape, tensor2._data.shape
    n = s1[-2] if d1 > 1 else 1
    m1 = s1[-1]
    batch1 = s1[:max(d1 - 2, 0)]
    m2 = s2[-2] if d2 > 1 else s2[0]
    p = s2[-1] if d2 > 1 else 1
    batch2 = s2[:max(d2 - 2, 0)]
    if d1 == 3 and d2 == 3 and batch1[0] != batch2[0]:
        if batch1[0] == 1 and tensor1._requires_grad:
            return matmul(S.squeeze(tensor1, 0), tensor2)
        if batch2[0] == 1 and tensor2._requires_grad:
            return matmul(tensor1, S.squeeze(tensor2, 0))
    try:
        output_shape = list(np.broadcast_shapes(batch1, batch2))
    except ValueError:
        raise O.broadcast_error(make(np.empty(batch1)), make(np.empty(batch2))) from None
    if m1 != m2:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{math.prod(output_shape)}, {m1}] but got: [{math.prod(output_shape)}, {m2}]."
        )
    product = math.prod(output_shape)
    t1e = S.reshape(S.expand(tensor1, tuple(output_shape) + (n, m1)), (product, n, m1))
    vector_rhs = d2 == 1
    if vector_rhs:
        t2e = S.expand(tensor2, tuple(output_shape) + (m2,))
        t2e = S.unsqueeze(S.reshape(t2e, (product, m2)), 2)
    else:
        t2e = S.reshape(S.expand(tensor2, tuple(output_shape) + (m2, p)), (product, m2, p))
    if d1 > 1:
        output_shape.append(n)
    if d2 > 1:
        output_shape.append(p)
    if t1e._data.dtype != t2e._data.dtype:
        _same_dtype(tensor1, tensor2)
    result = bmm(t1e, t2e)
    if vector_rhs:
        result = S.squeeze(result, -1)
    return _unsafe_view(result, tuple(output_shape))


def rmatmul(input, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(other, input)


# ================================================================= einsum
class EinsumBackward(Node):
    """Grads of an einsum, computed with numpy einsum (first-order only)."""

    __slots__ = ("operands", "subscripts", "output")
    saved = ("operands",)

    def apply(self, grad):
        if self._freed:
            return Node.apply(self, grad)
        g = grad._data
        out = []
        for k, (nxt, _) in enumerate(self.next_functions):
            if nxt is None:
                out.append(None)
                continue
            out.append(make(_einsum_grad(g, self.output, self.operands, self.subscripts, k)))
        return tuple(out)


_EINSUM_NODES: dict[str, type] = {}


def _einsum_node(name):
    cls = _EINSUM_NODES.get(name)
    if cls is None:
        cls = type(name, (EinsumBackward,), {"__slots__": ()})
        _EINSUM_NODES[name] = cls
    return cls()


def _einsum_grad(g, output, operands, subscripts, k):
    target = subscripts[k]
    data = operands[k]._data
    sizes = {}
    for sub, op in zip(subscripts, operands, strict=True):
        for letter, size in zip(sub, op._data.shape, strict=True):
            sizes[letter] = size
    unique = "".join(dict.fromkeys(target))
    terms = [output]
    arrays = [g]
    for j, (sub, op) in enumerate(zip(subscripts, operands, strict=True)):
        if j != k:
            terms.append(sub)
            arrays.append(op._data)
    present = set("".join(terms))
    for letter in unique:
        if letter not in present:
            terms.append(letter)
            arrays.append(np.ones(sizes[letter], g.dtype))
    reduced = np.einsum(",".join(terms) + "->" + unique, *arrays)
    if unique == target:
        return np.asarray(reduced, data.dtype)
    result = np.zeros(data.shape, data.dtype)
    view = np.einsum(target + "->" + unique, result)
    view[...] = reduced
    return result


def _parse_einsum(equation, operands):
    equation = equation.replace(" ", "")
    if "->" in equation:
        lhs, rhs = equation.split("->")
    else:
        lhs, rhs = equation, None
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    used = set(equation)
    spare = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in used]
    ell_ndim = 0
    for term, op in zip(terms, operands, strict=True):
        if "..." in term:
            ell_ndim = max(ell_ndim, op._data.ndim - (len(term) - 3))
    ell = "".join(spare[:ell_ndim])
    expanded = []
    for term, op in zip(terms, operands, strict=True):
        if "..." in term:
            k = op._data.ndim - (len(term) - 3)
            term = term.replace("...", ell[ell_ndim - k:])
        expanded.append(term)
    if rhs is None:
        counts = {}
        for c in "".join(expanded):
            counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        rhs = rhs.replace("...", ell)
    return expanded, rhs


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    terms, output = _parse_einsum(equation, operands)
    sizes = {}
    for k, (term, op) in enumerate(zip(terms, operands, strict=True)):
        for letter, size in zip(term, op._data.shape, strict=True):
            seen = sizes.get(letter)
            if seen is not None and seen != size and size != 1 and seen != 1:
                raise RuntimeError(
                    f"einsum(): subscript {letter} has size {size} for operand {k} which does "
                    f"not broadcast with previously seen size {seen}"
                )
            sizes[letter] = size
    dtype = operands[0]._data.dtype
    with np.errstate(all="ignore"):
        out = np.asarray(np.einsum(",".join(terms) + "->" + output,
                                   *(op._data for op in operands), optimize=len(operands) > 2))
    out = out.astype(dtype, copy=False)
    if any(op._requires_grad for op in operands) and _grad_mode.enabled:
        contracted = set("".join(terms)) - set(output)
        if len(operands) == 1:
            name = "SumBackward1" if contracted else "PermuteBackward0"
        elif not contracted:
            name = "MulBackward0"
        else:
            name = "ViewBackward0"
        node = _einsum_node(name)
        node.operands, node.subscripts, node.output = operands, terms, output
        return attach(node, out, operands)
    return make(out)
