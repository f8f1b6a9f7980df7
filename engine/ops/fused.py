"""Fused pointwise ops rounded as torch's CPU kernels round them: ``addcmul``, ``addcdiv``,
``lerp`` (and ``fma``, the one rounding ``add``/``sub`` with ``alpha`` use).

torch's kernels are compiled with FMA contraction: ``add(a, b, alpha=s)`` is
``fma(b, s, a)``, ``addcmul`` is ``fma(value * t1, t2, self)``, ``lerp`` is ``fma(w, end -
self, self)`` for ``|w| < 0.5`` and ``fma(-(end - self), 1 - w, end)`` otherwise;
``addcdiv`` is ``self + (value * t1) / t2`` (no fusion through a division).  Scalars are
rounded to the tensor's dtype first, as the kernels do.  Two roundings (numpy's ``a + b *
s``) differ from torch in about 2 % of the elements, which an optimizer step compounds.
The fused multiply-add is ``engine._sampling``'s exact emulation (float32 through float64
rounded to odd, float64 through error-free transformations).

The nodes are torch's (AddcmulBackward0, AddcdivBackward0, LerpBackward0/1), their
formulas derivatives.yaml's, written with Tensor operators (this module imports no op
family, so ``elementwise`` can use ``fma``).
"""

from __future__ import annotations

import numpy as np

from .._dtype import FROM_NUMPY, result_type
from .._sampling import _C_NAME, fma32, fma64
from .._tensor import Tensor, make
from ..autograd.node import attach, backward_node
from ..runtime.quiet import silent
from .formulas import constant, mul_scalar
from .operands import argument_error, as_array, broadcast_error, needs_grad, torch_layout


def fma(x, y, z, np_dtype) -> np.ndarray:
    """``x * y + z`` rounded once in ``np_dtype`` (half precision computes in float32, its
    opmath type); operands broadcast."""
    if np_dtype == np.float16:  # operands in float, as given (a float product stays exact)
        x, y, z = (np.asarray(v).astype(np.float32) for v in (x, y, z))
        return np.asarray(fma32(x, y, z)).astype(np.float16)
    x, y, z = (np.asarray(v, np_dtype) for v in (x, y, z))
    if np_dtype == np.float64:
        out = np.asarray(fma64(x, y, z))
        spoilt = ~np.isfinite(out)  # the emulation's splits turn infinities into NaN
        if spoilt.any():
            out = np.where(spoilt, x * y + z, out)
        return out
    return np.asarray(fma32(x, y, z))


def _number(value):
    """A Scalar argument: a Python number, or the item of a one-element tensor."""
    return value.item() if isinstance(value, Tensor) else value


def _arrays(name, dtype, *tensors):
    """The operands cast to ``dtype`` and broadcast together (torch's error otherwise)."""
    arrays = [as_array(t, dtype.np) for t in tensors]
    try:
        return np.broadcast_arrays(*arrays)
    except ValueError:
        for i in range(len(tensors)):
            for j in range(i + 1, len(tensors)):
                try:
                    np.broadcast_shapes(np.shape(arrays[i]), np.shape(arrays[j]))
                except ValueError:
                    raise broadcast_error(tensors[i], tensors[j]) from None
        raise


def _finish(out, arrays):
    out = np.asarray(out)
    if out.ndim > 1 and any(a.ndim > 1 and not a.flags.c_contiguous for a in arrays):
        out = torch_layout(out, arrays)
    return out


def _check(name, args):
    for i, (param, value) in enumerate(args):
        if not isinstance(value, Tensor):
            raise argument_error(name, i + 1, param, "Tensor", value)


# ================================================================= addcmul
AddcmulBackward0 = backward_node(
    "AddcmulBackward0", saved=("tensor1", "tensor2"), fields=("value",),
    self=lambda n, g: g,
    tensor1=lambda n, g: g * mul_scalar(n.tensor2, n.value),
    tensor2=lambda n, g: g * mul_scalar(n.tensor1, n.value))


@silent
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 * tensor2``."""
    _check("addcmul", (("input", input), ("tensor1", tensor1), ("tensor2", tensor2)))
    value = _number(value)
    dtype = result_type(input, tensor1, tensor2)
    if dtype.np == np.bool_:
        raise NotImplementedError("\"addcmul_cpu_out\" not implemented for 'Bool'")
    a, b, c = _arrays("addcmul", dtype, input, tensor1, tensor2)
    if dtype.is_floating_point:
        op = np.float32 if dtype.np == np.float16 else dtype.np  # half computes in float
        result = fma(np.asarray(value, op) * b.astype(op), c, a, dtype.np)
    else:
        result = (a + np.asarray(int(value), dtype.np) * b * c).astype(dtype.np)
    result = _finish(result, (a, b, c))
    if needs_grad(input, tensor1, tensor2):
        node = AddcmulBackward0()
        node.tensor1, node.tensor2, node.value = tensor1, tensor2, value
        return attach(node, result, (input, tensor1, tensor2))
    return make(result)


# ================================================================= addcdiv
def _addcdiv_tensor1(n, g):
    """``grad * (value / tensor2)``; a number over a tensor is ``tensor2.reciprocal() *
    value`` in torch's C++."""
    return g * mul_scalar(n.tensor2.reciprocal(), n.value)


def _addcdiv_tensor2(n, g):
    """``-grad * (value * tensor1 / (tensor2 * tensor2))``, right operands first."""
    square = n.tensor2 * n.tensor2
    ratio = mul_scalar(n.tensor1, n.value) / square
    return -g * ratio


AddcdivBackward0 = backward_node(
    "AddcdivBackward0", saved=("tensor1", "tensor2"), fields=("value",),
    self=lambda n, g: g, tensor1=_addcdiv_tensor1, tensor2=_addcdiv_tensor2)

_INTEGER_ADDCDIV = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
    "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
    "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
    "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
    "addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
    "tensor2), for all dtypes.")


@silent
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 / tensor2``."""
    _check("addcdiv", (("input", input), ("tensor1", tensor1), ("tensor2", tensor2)))
    if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError(_INTEGER_ADDCDIV)
    value = _number(value)
    dtype = result_type(input, tensor1, tensor2)
    arrays = _arrays("addcdiv", dtype, input, tensor1, tensor2)
    op = np.float32 if dtype.np == np.float16 else dtype.np  # half computes in float
    a, b, c = (v.astype(op, copy=False) for v in arrays)
    result = _finish((a + (np.asarray(value, op) * b) / c).astype(dtype.np), arrays)
    if needs_grad(input, tensor1, tensor2):
        node = AddcdivBackward0()
        node.tensor1, node.tensor2, node.value = tensor1, tensor2, value
        return attach(node, result, (input, tensor1, tensor2))
    return make(result)


# ================================================================= lerp
LerpBackward0 = backward_node(  # a scalar weight
    "LerpBackward0", fields=("weight",),
    self=lambda n, g: mul_scalar(g, 1 - n.weight),
    end=lambda n, g: mul_scalar(g, n.weight))
LerpBackward1 = backward_node(  # a tensor weight
    "LerpBackward1", saved=("self_", "end", "weight"),
    self=lambda n, g: g * (constant(1, n.weight) - n.weight),
    end=lambda n, g: g * n.weight,
    weight=lambda n, g: g * (n.end - n.self_))


def _lerp_values(start, end, weight, np_dtype):
    """torch's lerp: from ``start`` for small weights, from ``end`` for the others (half in
    float)."""
    if np_dtype == np.float16:
        start, end = start.astype(np.float32), end.astype(np.float32)
        weight = np.asarray(weight).astype(np.float32)
        return _lerp_values(start, end, weight, np.float32).astype(np.float16)
    diff = (end - start).astype(np_dtype)
    one = np.asarray(1, np_dtype)
    low = fma(weight, diff, start, np_dtype)
    high = fma(-diff, (one - weight).astype(np_dtype), end, np_dtype)
    return np.where(np.abs(weight) < 0.5, low, high).astype(np_dtype)


@silent
def lerp(input, end, weight, *, out=None):
    """``input + weight * (end - input)``, weight a number or a tensor."""
    _check("lerp", (("input", input), ("end", end)))
    np_dtype = input._data.dtype
    name = FROM_NUMPY[np_dtype]
    if end._data.dtype != np_dtype:
        raise RuntimeError(f"expected dtype {_short(name)} for `end` but got dtype "
                           f"{_short(end.dtype)}")
    tensor_weight = isinstance(weight, Tensor)
    if tensor_weight and weight._data.ndim and weight._data.dtype != np_dtype:
        raise RuntimeError(f"expected dtype {_short(name)} for `weight` but got dtype "
                           f"{_short(weight.dtype)}")
    if np_dtype.kind != "f":
        kernel = "lerp_kernel_tensor" if tensor_weight else "lerp_kernel_scalar"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name.scalar_name}'")
    if tensor_weight:
        a, b, w = _arrays("lerp", name, input, end, weight)
    else:
        a, b = _arrays("lerp", name, input, end)
        w = np.asarray(weight, np.float32 if np_dtype == np.float16 else np_dtype)
    result = _finish(_lerp_values(a, b, w, np_dtype), (a, b))
    if tensor_weight:
        if needs_grad(input, end, weight):
            node = LerpBackward1()
            node.self_, node.end, node.weight = input, end, weight
            return attach(node, result, (input, end, weight))
    elif needs_grad(input, end):
        node = LerpBackward0()
        node.weight = weight
        return attach(node, result, (input, end))
    return make(result)


def _short(dtype) -> str:
    """A dtype as torch's C++ messages name it (``float``, ``double``, ``long int``)."""
    return _C_NAME[dtype.np.name]
