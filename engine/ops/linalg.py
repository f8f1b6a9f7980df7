"""Linear algebra: mm, mv, dot, bmm, addmm, outer, matmul and einsum, with their nodes.

``matmul`` is a port of torch's ``_matmul_impl`` written with the engine's ops, so it records
the same chain of nodes (DotBackward0, MvBackward0, SqueezeBackward4 after an unsqueezed mm,
MmBackward0, folded UnsafeViewBackward0, broadcast BmmBackward0 ...).  ``einsum`` is torch's
composite (diagonal, unsqueeze, permute, sum, mul, reshape, bmm, view) written with the engine's
ops, so it records torch's nodes and its grads can be differentiated again.
"""

from __future__ import annotations

import math
import string

import numpy as np

from .._tensor import Tensor, make
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import attach, backward_node
from ..runtime.quiet import silent
from . import reductions as R
from . import shape as S
from .elementwise import mul
from .operands import broadcast_error


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


MmBackward0 = backward_node("MmBackward0", saved=("self_", "mat2"), grad_order=("mat2", "self"),
                            self=lambda n, g: _mm_mat1_backward(g, n.self_, n.mat2),
                            mat2=lambda n, g: _mm_mat2_backward(g, n.self_, n.mat2))
AddmmBackward0 = backward_node(
    "AddmmBackward0", saved=("mat1", "mat2"), fields=("alpha", "beta"),
    grad_order=("mat1", "mat2", "self"),
    self=lambda n, g: g if n.beta == 1 else g * n.beta,  # the bias
    mat1=lambda n, g: _times(_mm_mat1_backward(g, n.mat1, n.mat2), n.alpha),
    mat2=lambda n, g: _times(_mm_mat2_backward(g, n.mat1, n.mat2), n.alpha))


def _times(grad, alpha):
    return grad if alpha == 1 else grad * alpha


MvBackward0 = backward_node("MvBackward0", saved=("self_", "vec"),
                            self=lambda n, g: outer(g, n.vec),
                            vec=lambda n, g: mv(S.t(n.self_), g))
DotBackward0 = backward_node("DotBackward0", saved=("self_", "tensor"),
                             self=lambda n, g: g * n.tensor,
                             tensor=lambda n, g: g * n.self_)
BmmBackward0 = backward_node("BmmBackward0", saved=("self_", "mat2"), grad_order=("mat2", "self"),
                             self=lambda n, g: bmm(g, S.transpose(n.mat2, 1, 2)),
                             mat2=lambda n, g: bmm(S.transpose(n.self_, 1, 2), g))


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
@silent  # inf * 0 is nan without numpy's RuntimeWarning, as in torch
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


@silent
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


@silent
def dot(input, tensor):
    a, b = input._data, tensor._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.dtype != b.dtype:  # torch checks the dtypes before the sizes
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{input.dtype.scalar_name} and {tensor.dtype.scalar_name}"
        )
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] "
            f"to have the same number of elements, but got {a.shape[0]} and {b.shape[0]} "
            "elements respectively"
        )
    return _node2(DotBackward0, np.asarray(np.dot(a, b)), input, tensor, ("self_", "tensor"))


@silent
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
    if a.dtype == np.bool_:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.scalar_name} but found "
                           f"{mat2.dtype.scalar_name}")
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
    if a.dtype.kind in "iu":  # ATen casts the scalars to the integer type (truncating)
        alpha, beta = int(alpha), int(beta)
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
    return mul(S.reshape(input, (-1, 1)), vec2)


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


@silent
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
        raise broadcast_error(make(np.empty(batch1)), make(np.empty(batch2))) from None
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
# torch's einsum is a composite (aten's einsum and sumproduct_pair), written here with the
# engine's ops so that it records the same nodes and its grads record a graph:
#   1. every operand is brought to one common dim order, one dim per label: output labels
#      first (in output order), then the contracted ones (ellipsis dims, then labels in
#      A-Z a-z order).  A repeated label takes a diagonal (moved back where the label first
#      was), a label the operand lacks is an unsqueezed size-1 dim, then one permute aligns it;
#   2. the operands are contracted left to right, each result going in front: a contracted
#      dim only one side holds (size != 1) and no later operand needs is summed on that side
#      first (keepdim), then the pair is multiplied (mul when no dim is summed over both,
#      else permute + reshape to 3-D + bmm + view + permute back, summed dims kept as 1);
#   3. the contracted dims, now of size 1, are dropped with a view (or summed, for one
#      operand).
# (torch.einsum contracts in opt_einsum's order when that package is installed; without it,
# as in the pinned environment, left to right as here.)
_ELLIPSIS = 52  # the label code of "...": codes 0-25 are A-Z, 26-51 a-z


def _label_code(c):
    return ord(c) - ord("A") if c <= "Z" else ord(c) - ord("a") + 26


def _label_char(code):
    return chr(ord("A") + code) if code < 26 else chr(ord("a") + code - 26)


def _sublist_subscript(n):
    if n is Ellipsis:
        return "..."
    if 0 <= n < 26:
        return chr(ord("A") + n)
    if 26 <= n < 52:
        return chr(ord("a") + n - 26)
    raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")


def _einsum_args(args):
    """torch.einsum's Python wrapper: ``(equation, *operands)``, ``(equation, [operands])`` or
    the sublist form ``(op, [labels], op, [labels], ..., [output labels])``."""
    if len(args) < 2:
        raise ValueError(
            "einsum(): must specify the equation string and at least one operand, or at least "
            "one operand and its subscripts list"
        )
    if isinstance(args[0], Tensor):
        equation = ",".join("".join(_sublist_subscript(s) for s in sub) for sub in args[1::2])
        if len(args) % 2 == 1:
            equation += "->" + "".join(_sublist_subscript(s) for s in args[-1])
            operands = tuple(args[:-1:2])
        else:
            operands = tuple(args[::2])
    else:
        equation, operands = args[0], tuple(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            return _einsum_args((equation, *operands[0]))
        if not isinstance(equation, str):
            raise TypeError("einsum(): argument 'equation' (position 1) must be str, not "
                            f"{type(equation).__name__}")
    for i, op in enumerate(operands):
        if not isinstance(op, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got "
                            f"{type(op).__name__}")
    return equation, operands


def _parse_einsum(equation, operands):
    """The label codes of each operand (``_ELLIPSIS`` for "..."), with torch's errors, and
    the output part of the equation (None without "->") with its offset in the equation."""
    arrow = equation.find("->")
    lhs = equation if arrow < 0 else equation[:arrow]
    labels = [[] for _ in operands]
    current = 0
    ellipsis = False
    i = 0
    while i < len(lhs):
        c = lhs[i]
        if c == ".":
            if ellipsis:
                raise RuntimeError(f"einsum(): found '.' for operand {current} for which an "
                                   "ellipsis was already found")
            if lhs[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for operand {current} that is not part "
                                   "of any ellipsis")
            labels[current].append(_ELLIPSIS)
            ellipsis = True
            i += 2
        elif c == ",":
            current += 1
            if current >= len(operands):
                raise RuntimeError(
                    "einsum(): fewer operands were provided than specified in the equation")
            ellipsis = False
        elif c != " ":
            if c not in string.ascii_letters:
                raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the "
                                   "equation string, subscripts must be in [a-zA-Z]")
            labels[current].append(_label_code(c))
        i += 1
    if current != len(operands) - 1:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    return labels, (None if arrow < 0 else (equation[arrow + 2:], len(lhs) + 2))


def _einsum_layout(labels, rhs, operands):
    """Where each label goes in the common dim order: ``(position of each label code,
    start of the ellipsis dims, number of ellipsis dims, number of output dims, number of
    dims)``, with torch's errors."""
    count = [0] * _ELLIPSIS
    ell_num_dim = 0
    for i, (op_labels, op) in enumerate(zip(labels, operands, strict=True)):
        ndim = op._data.ndim
        named = len(op_labels)
        has_ellipsis = _ELLIPSIS in op_labels
        if has_ellipsis:
            named -= 1
            ell_num_dim = max(ell_num_dim, ndim - named)
        for code in op_labels:
            if code != _ELLIPSIS:
                count[code] += 1
        if has_ellipsis and named > ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) is "
                               f"more than the number of dimensions ({ndim}) for operand {i}")
        if not has_ellipsis and named != ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) does not match "
                f"the number of dimensions ({ndim}) for operand {i} and no ellipsis was given")
    position = [-1] * _ELLIPSIS
    n = 0
    ell_index = 0
    ell_in_output = False
    if rhs is None:  # implicit output: the ellipsis dims, then labels seen once, sorted
        n = ell_num_dim
        ell_in_output = True
        for code in range(_ELLIPSIS):
            if count[code] == 1:
                position[code] = n
                n += 1
    else:
        text, base = rhs
        i = 0
        while i < len(text):
            c = text[i]
            if c == ".":
                if ell_in_output:
                    raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) "
                                       "was already found")
                if text[i:i + 3] != "...":
                    raise RuntimeError("einsum(): found '.' for output that is not part of any "
                                       "ellipsis (...)")
                ell_index = n
                n += ell_num_dim
                ell_in_output = True
                i += 2
            elif c != " ":
                if c not in string.ascii_letters:
                    raise RuntimeError(
                        f"einsum(): invalid subscript given at index {base + i} in the equation "
                        "string, subscripts must be in [a-zA-Z]")
                code = _label_code(c)
                if count[code] == 0 or position[code] != -1:
                    reason = ("appears more than once in the output" if position[code] != -1
                              else "does not appear in the equation for any input operand")
                    raise RuntimeError(f"einsum(): output subscript {c} {reason}")
                position[code] = n
                n += 1
            i += 1
    out_num_dim = n
    if not ell_in_output:  # the ellipsis dims are contracted
        ell_index = n
        n += ell_num_dim
    for code in range(_ELLIPSIS):
        if count[code] and position[code] == -1:
            position[code] = n
            n += 1
    return position, ell_index, ell_num_dim, out_num_dim, n


def _einsum_align(labels, operands, layout):
    """Each operand with one dim per position of the common order (diagonals taken,
    missing labels unsqueezed, permuted), and for each position the number of operands
    whose dim there is not 1."""
    position, ell_index, ell_num_dim, _, n = layout
    label_size = [1] * _ELLIPSIS
    ell_sizes = [1] * ell_num_dim
    dim_counts = [0] * n
    aligned = []
    for i, (op_labels, op) in enumerate(zip(labels, operands, strict=True)):
        permutation = [-1] * n
        dim = 0
        for code in op_labels:
            if code == _ELLIPSIS:
                covered = operands[i]._data.ndim - (len(op_labels) - 1)
                for j in range(ell_num_dim - covered, ell_num_dim):
                    size = op._data.shape[dim]
                    if size != 1:
                        if ell_sizes[j] not in (1, size):
                            raise RuntimeError(
                                f"einsum(): dimension {dim} covered by ellipsis in operand {i}has "
                                f"size {size} which does not broadcast with previously seen "
                                f"ellipsis with size {ell_sizes[j]} for the respective dimension")
                        ell_sizes[j] = size
                        dim_counts[ell_index + j] += 1
                    permutation[ell_index + j] = dim
                    dim += 1
            elif permutation[position[code]] == -1:
                size = op._data.shape[dim]
                if size != 1:
                    if label_size[code] not in (1, size):
                        raise RuntimeError(
                            f"einsum(): subscript {_label_char(code)} has size {size} for operand "
                            f"{i} which does not broadcast with previously seen size "
                            f"{label_size[code]}")
                    label_size[code] = size
                    dim_counts[position[code]] += 1
                permutation[position[code]] = dim
                dim += 1
            else:  # a repeated label: its diagonal, where the label first was
                first = permutation[position[code]]
                size, seen = op._data.shape[dim], op._data.shape[first]
                if size != seen:
                    raise RuntimeError(
                        f"einsum(): subscript {_label_char(code)} is repeated for operand {i} but "
                        f"the sizes don't match, {size} != {seen}")
                op = S.movedim(S.diagonal(op, 0, first, dim), -1, first)
        for k in range(n):
            if permutation[k] == -1:
                op = S.unsqueeze(op, dim)
                permutation[k] = dim
                dim += 1
        aligned.append(S.permute(op, tuple(permutation)))
    return aligned, dim_counts


def _sumproduct_pair(left, right, sum_dims):
    """torch's sumproduct_pair with keepdim: ``(left * right).sum(sum_dims, keepdim=True)``
    of two aligned operands, as a bmm of the dims both hold (batch), the dims only left
    holds (rows), the summed dims and the dims only right holds (columns); the operands
    swap when every dim only right holds comes before those only left holds."""
    if not sum_dims:
        return mul(left, right)
    lshape, rshape = left._data.shape, right._data.shape
    lro, lo, ro = [], [], []
    lro_size = lo_size = ro_size = sum_size = 1
    for d in range(len(lshape)):
        in_left, in_right = lshape[d] != 1, rshape[d] != 1
        if d in sum_dims:
            if in_left and in_right:
                if lshape[d] != rshape[d]:
                    raise RuntimeError("non-broadcast dimensions must match")
                sum_size *= lshape[d]
            elif in_left:
                left = R.sum(left, d, keepdim=True)
            elif in_right:
                right = R.sum(right, d, keepdim=True)
        elif in_left and in_right:
            if lshape[d] != rshape[d]:
                raise RuntimeError("non-broadcast dimensions must match")
            lro.append(d)
            lro_size *= lshape[d]
        elif in_left:
            lo.append(d)
            lo_size *= lshape[d]
        else:
            ro.append(d)
            ro_size *= rshape[d]
    if lo and ro and ro[-1] < lo[0]:  # right's dims all come first: bmm(right, left)
        left, right, lo, ro, lo_size, ro_size = right, left, ro, lo, ro_size, lo_size
        lshape, rshape = rshape, lshape
    out_order = lro + lo + sum_dims + ro
    out_size = ([lshape[d] for d in lro] + [lshape[d] for d in lo] + [1] * len(sum_dims)
                + [rshape[d] for d in ro])
    inverse = [0] * len(out_order)
    for k, d in enumerate(out_order):
        inverse[d] = k
    left = S.reshape(S.permute(left, tuple(out_order)), (lro_size, lo_size, sum_size))
    right = S.reshape(S.permute(right, tuple(lro + sum_dims + ro + lo)),
                      (lro_size, sum_size, ro_size))
    return S.permute(S.view(bmm(left, right), tuple(out_size)), tuple(inverse))


def _contract(ops, dim_counts, out_num_dim):
    """Contract the aligned operands left to right (``dim_counts`` is updated as dims are
    summed away)."""
    n = len(dim_counts)
    while len(ops) > 1:
        a, b = ops.pop(0), ops.pop(0)
        ashape, bshape = a._data.shape, b._data.shape
        sum_dims, a_dims, b_dims = [], [], []
        for d in range(out_num_dim, n):
            if ashape[d] != 1 and bshape[d] != 1:
                dim_counts[d] -= 1
                if dim_counts[d] == 1:  # no later operand holds it: sum it in this product
                    sum_dims.append(d)
                    dim_counts[d] = 0
            elif dim_counts[d] == 1:  # only one side holds it, and nothing later
                if ashape[d] != 1:
                    a_dims.append(d)
                    dim_counts[d] = 0
                elif bshape[d] != 1:
                    b_dims.append(d)
                    dim_counts[d] = 0
        if a_dims:
            a = R.sum(a, a_dims, keepdim=True)
        if b_dims:
            b = R.sum(b, b_dims, keepdim=True)
        ops.insert(0, _sumproduct_pair(a, b, sum_dims))
    return ops[0]


def einsum(*args):
    equation, operands = _einsum_args(args)
    labels, rhs = _parse_einsum(equation, operands)
    layout = _einsum_layout(labels, rhs, operands)
    out_num_dim, n = layout[3], layout[4]
    ops, dim_counts = _einsum_align(labels, operands, layout)
    result = _contract(ops, dim_counts, out_num_dim)
    if n == out_num_dim:
        return result
    if len(operands) > 1:  # every contracted dim is 1 by now: drop them
        return S.view(result, result._data.shape[:out_num_dim])
    return R.sum(result, list(range(out_num_dim, n)))
