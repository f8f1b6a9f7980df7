"""How an op reads its operands and shapes its result (what torch's TensorIterator does
for an elementwise op): Python scalars and numpy values as operands, torch's result dtype,
numpy operands cast to it, torch's broadcasting error, torch's memory layout for the
result; whether an op must record a node; torch's argument TypeError.

Every op follows one shape:  operands -> torch's result dtype (``result_type``) -> numpy
operands cast to it -> numpy result -> if grad mode is on and an input requires grad, the
op's backward node wired by ``attach``; otherwise a plain tensor.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._dtype import check_numpy_array, float32
from .._tensor import Tensor, make
from ..autograd.grad_mode import state as _grad_mode
from ..runtime.quiet import QUIET, errors, silent


# ----------------------------------------------------------------- operands
def coerce(value):
    """A binary op's operand as a Tensor or a Python scalar (numpy scalars count as Python
    scalars, as in torch); NotImplemented for anything else."""
    if isinstance(value, Tensor):
        return value
    t = type(value)
    if t is float or t is int or t is bool:
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, np.ndarray):  # as torch.tensor(value) would make it
        return make(check_numpy_array(value).copy())
    return NotImplemented


def as_array(value, np_dtype):
    """A tensor's array cast to ``np_dtype``; Python scalars pass through, since numpy
    treats them as weak and computes in the array's dtype."""
    if isinstance(value, Tensor):
        data = value._data
        return data if data.dtype == np_dtype else cast(data, np_dtype)
    return value


def _shape(value):
    return value._data.shape if isinstance(value, Tensor) else ()


def broadcast_error(a, b) -> RuntimeError:
    """torch's message for shapes that do not broadcast (numpy's differs)."""
    sa, sb = _shape(a), _shape(b)
    n = builtins.max(len(sa), len(sb))
    for i in range(n - 1, -1, -1):
        da = sa[i - n + len(sa)] if i - n + len(sa) >= 0 else 1
        db = sb[i - n + len(sb)] if i - n + len(sb) >= 0 else 1
        if da != db and da != 1 and db != 1:
            return RuntimeError(
                f"The size of tensor a ({da}) must match the size of tensor b ({db}) at "
                f"non-singleton dimension {i}"
            )
    return RuntimeError(f"shapes {sa} and {sb} cannot be broadcast")  # pragma: no cover


def argument_error(name, position, param, expected, value):
    """torch's TypeError for an argument of the wrong type (the call forms raise it)."""
    return TypeError(
        f"{name}(): argument '{param}' (position {position}) must be {expected}, "
        f"not {type(value).__name__}"
    )


_CPP_INT_NAMES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int",
                  "int64": "int64_t"}


def checked_int(value, np_dtype):
    """A Python number converted to an integer dtype as c10's checked_convert does: floats
    truncated and refused outside [min, max]; ints refused out of range, except that an
    unsigned type takes a negative int down to -max and wraps it."""
    info = np.iinfo(np_dtype)
    low = -int(info.max) if info.min == 0 and not isinstance(value, float) else info.min
    if not low <= value <= info.max:
        raise RuntimeError(f"value cannot be converted to type "
                           f"{_CPP_INT_NAMES[np.dtype(np_dtype).name]} without overflow")
    return np.array(int(value)).astype(np_dtype)


def as_ndarray(out):
    """numpy returns scalars for 0-d inputs; tensors always hold arrays."""
    return out if type(out) is np.ndarray else np.asarray(out)


def reduced(out):
    """A reduction's result as torch gives it: an array (not a numpy scalar), contiguous even
    when numpy kept a permuted input's layout."""
    if type(out) is not np.ndarray:
        return np.asarray(out)
    return out if out.flags.c_contiguous else np.ascontiguousarray(out)


def needs_grad(*values) -> bool:
    """Whether an op on ``values`` records a node: grad mode is on and an input requires
    grad."""
    if not _grad_mode.enabled:
        return False
    for v in values:
        if isinstance(v, Tensor) and v._requires_grad:
            return True
    return False


def needs_grad2(input, other) -> bool:
    """``needs_grad(input, other)`` for the binary ops on every graph's hot path."""
    return _grad_mode.enabled and (
        (isinstance(input, Tensor) and input._requires_grad)
        or (isinstance(other, Tensor) and other._requires_grad))


# ----------------------------------------------------------------- binary ufuncs
@silent
def binary_ufunc(ufunc, a, b, dtype):
    x, y = as_array(a, dtype.np), as_array(b, dtype.np)
    half_scalar = dtype.np == np.float16 and not (isinstance(a, Tensor) and isinstance(b, Tensor))
    try:
        if half_scalar:  # torch computes half with a Python scalar in float, rounded once
            out = as_ndarray(ufunc(np.asarray(x, np.float32), np.asarray(y, np.float32)))
            if out.dtype == np.float32:  # a comparison's bools stay bools
                out = out.astype(np.float16)
        else:
            out = as_ndarray(ufunc(x, y))
    except ValueError:
        raise broadcast_error(a, b) from None
    return torch_layout(out, (x, y)) if strided(x, y) else out


def fast_binary_ufunc(ufunc, input, other):
    """The common cases computed directly, skipping coerce/result_type/casts: two tensors of
    one dtype, or a float tensor and a Python int or float (torch's result dtype is then
    ``input``'s, and numpy computes exactly what ``binary_ufunc`` would).  None otherwise."""
    if type(input) is not Tensor or errors is None:
        return None
    a = input._data
    kind = type(other)
    if kind is Tensor:
        b = other._data
        if b.dtype != a.dtype:
            return None
    elif (kind is float or kind is int) and a.dtype.kind == "f" and a.dtype != np.float16:
        b = other
    else:
        return None
    token = errors.set(QUIET)
    try:
        out = ufunc(a, b)
    except ValueError:
        raise broadcast_error(input, other) from None
    finally:
        errors.reset(token)
    if type(out) is not np.ndarray:
        return np.asarray(out)
    if not a.flags.c_contiguous or kind is Tensor and not b.flags.c_contiguous:
        return torch_layout(out, (a, b))
    return out


def torch_layout(out: np.ndarray, operands) -> np.ndarray:
    """``out``, an elementwise result, in the memory layout torch's TensorIterator gives it:
    dims ordered by the strides of the first operand that orders them (broadcast dims do not
    count), where numpy falls back to C order when its operands disagree.  Called when an
    operand is not C-contiguous; copies only if the layouts differ."""
    shape = out.shape
    ndim = len(shape)
    if ndim < 2 or out.size == 0:
        return out
    strides = []
    for op in operands:
        if isinstance(op, np.ndarray) and op.ndim:  # a scalar broadcasts along every dim
            lead = ndim - op.ndim
            strides.append([0] * lead + [
                0 if have == 1 and want != 1 else stride
                for have, want, stride in zip(op.shape, shape[lead:], op.strides, strict=True)])
    return iterator_layout(out, strides)


def iterator_layout(out: np.ndarray, strides) -> np.ndarray:
    """``out`` laid out as TensorIterator's output for operands of these strides (one list
    per operand, one stride per dim of ``out``; 0 where it broadcasts), in bytes."""
    shape = out.shape
    ndim = len(shape)
    if ndim < 2 or out.size == 0:
        return out

    def order(d0, d1):  # 1: d0 is the faster-moving dim; -1: d1 is; 0: undecided
        for st in strides:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return -1 if s0 < s1 else 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = list(range(ndim - 1, -1, -1))  # innermost first, as torch's perm_
    for i in range(1, ndim):  # torch's insertion sort, which tolerates undecided pairs
        d1 = i
        for d0 in range(i - 1, -1, -1):
            decided = order(perm[d0], perm[d1])
            if decided > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif decided < 0:
                break
    want = [0] * ndim
    step = out.itemsize
    for d in perm:
        want[d] = step
        step *= shape[d]
    if list(out.strides) == want:
        return out
    outer_first = perm[::-1]
    fixed = np.empty([shape[d] for d in outer_first], out.dtype)
    fixed = fixed.transpose([outer_first.index(d) for d in range(ndim)])
    fixed[...] = out
    return fixed


def strided(*values) -> bool:
    """Whether an operand array of two or more dims is not C-contiguous."""
    for v in values:
        if type(v) is np.ndarray and v.ndim > 1 and not v.flags.c_contiguous:
            return True
    return False


# ----------------------------------------------------------------- layouts
def dense(a: np.ndarray) -> bool:
    """torch's is_non_overlapping_and_dense: the elements fill their memory exactly once,
    in some dim order (size-1 dims do not count)."""
    if a.flags.c_contiguous:
        return True
    require = a.itemsize
    for stride, size in sorted((st, n) for n, st in zip(a.shape, a.strides, strict=True)
                               if n != 1):
        if stride != require:
            return False
        require *= size
    return True


def _preserving(out: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``out``, a copy of ``a`` numpy made in order "K", laid out as torch's empty_like
    (preserve_format) lays out a copy of ``a``: an array that fills its memory keeps its
    strides (numpy's "K" copy already has them), any other (expanded, gappy) gets dense
    strides in its dims' order (infer_dense_strides, the TensorIterator order)."""
    if a.flags.c_contiguous or a.ndim < 2 or dense(a):
        return out
    return torch_layout(out, (a,))


def to_channels_last(a: np.ndarray) -> np.ndarray:
    """``a`` in channels-last memory order (a permuted view of an NHWC array)."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)


def preserved(a: np.ndarray) -> np.ndarray:
    """A copy of ``a`` as torch's ``clone()`` lays it out (and an integer ``ceil``, which
    copies)."""
    return _preserving(a.copy(order="K"), a)


def preserved_empty(a: np.ndarray, np_dtype) -> np.ndarray:
    """An array shaped as ``a`` in ``np_dtype``, laid out as torch's ``empty_like(a)`` (and
    zeros_like, rand_like...); its values are unspecified."""
    return _preserving(np.empty_like(a, np_dtype), a)


def cast(a: np.ndarray, np_dtype) -> np.ndarray:
    """``a`` in ``np_dtype`` laid out as torch's ``a.to(dtype)``: torch's iterator casts a
    promoted operand so, and the result's layout follows from it."""
    if a.dtype == np_dtype:
        return a
    return _preserving(a.astype(np_dtype, order="K"), a)


def copy_in_format(a: np.ndarray, np_dtype, layout: str) -> np.ndarray:
    """A copy of ``a`` in ``np_dtype`` laid out in torch's memory format named ``layout``
    (``clone``'s and ``to``'s ``memory_format=``), with torch's rank error for channels-last."""
    if layout.startswith("channels_last"):
        rank = 4 if layout == "channels_last" else 5
        if a.ndim != rank:
            raise RuntimeError(f"required rank {rank} tensor to use {layout} format")
        return to_channels_last(a.astype(np_dtype, copy=False))
    if layout == "contiguous_format":
        return a.astype(np_dtype, order="C", copy=True)
    return preserved(a) if a.dtype == np_dtype else cast(a, np_dtype)  # preserve_format


def float_dtype(dtype):
    """Ops like exp and true division compute integers in the default float dtype."""
    return dtype if dtype.is_floating_point else float32

