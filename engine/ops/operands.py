"""Forward ops: numpy computes, torch's rules decide dtypes, errors and the grad_fn.

Every op follows one shape:  operands -> torch's result dtype (``result_type``) -> numpy
operands cast to it -> numpy result -> if grad mode is on and an input requires grad, a node
from ``_derivatives`` wired by ``attach``; otherwise a plain tensor.

Binary ops return NotImplemented for operand types they do not take, so Python's operator
protocol raises torch's TypeError; ``_functions`` turns that into an error for the
``engine.add(...)`` call forms.
"""

from __future__ import annotations

import builtins
import functools
import math

import numpy as np

from .._dtype import FROM_NUMPY, bool_, float32, result_type
from .._dtype import dtype as _dtype_class
from .._tensor import Tensor, as_view, make, wrap_dim
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import attach
from ..runtime import malloc as _malloc  # noqa: F401 - reuse freed memory for large results
from ..runtime import parallel as _parallel
from . import formulas as D

try:  # setting numpy's error-state context variable directly costs ~70 ns, errstate ~1 us
    from numpy._core._ufunc_config import _extobj_contextvar as _np_errors

    with np.errstate(all="ignore"):
        _NP_QUIET = _np_errors.get()
except ImportError:  # pragma: no cover - private numpy API moved
    _np_errors = None


def silent(fn):
    """Run ``fn`` with numpy's floating-point warnings off: torch never warns about
    overflow, 0/0 or log(0), so numpy's RuntimeWarnings must not leak to the user."""
    if _np_errors is None:  # pragma: no cover
        return np.errstate(all="ignore")(fn)

    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        token = _np_errors.set(_NP_QUIET)
        try:
            return fn(*args, **kwargs)
        finally:
            _np_errors.reset(token)

    return quiet


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
    if isinstance(value, np.ndarray):
        from .creation import tensor

        return tensor(value)
    return NotImplemented


def as_array(value, np_dtype):
    """A tensor's array cast to ``np_dtype``; Python scalars pass through, since numpy
    treats them as weak and computes in the array's dtype."""
    if isinstance(value, Tensor):
        data = value._data
        return data if data.dtype == np_dtype else data.astype(np_dtype)
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


def _wrap(out):
    """numpy returns scalars for 0-d inputs; tensors always hold arrays."""
    return out if type(out) is np.ndarray else np.asarray(out)


def reduced(out):
    """A reduction's result as torch gives it: an array (not a numpy scalar), contiguous even
    when numpy kept a permuted input's layout."""
    if type(out) is not np.ndarray:
        return np.asarray(out)
    return out if out.flags.c_contiguous else np.ascontiguousarray(out)


def _needs_grad(*values) -> bool:
    if not _grad_mode.enabled:
        return False
    for v in values:
        if isinstance(v, Tensor) and v._requires_grad:
            return True
    return False


def _needs_grad2(input, other) -> bool:
    """``_needs_grad(input, other)`` for the binary ops on every graph's hot path."""
    return _grad_mode.enabled and (
        (isinstance(input, Tensor) and input._requires_grad)
        or (isinstance(other, Tensor) and other._requires_grad))


@silent
def _binary(ufunc, a, b, dtype):
    x, y = as_array(a, dtype.np), as_array(b, dtype.np)
    try:
        out = _wrap(ufunc(x, y))
    except ValueError:
        raise broadcast_error(a, b) from None
    return torch_layout(out, (x, y)) if _strided(x, y) else out


def _fast_binary(ufunc, input, other):
    """The common cases computed directly, skipping coerce/result_type/casts: two tensors of
    one dtype, or a float tensor and a Python int or float (torch's result dtype is then
    ``input``'s, and numpy computes exactly what ``_binary`` would).  None otherwise."""
    if type(input) is not Tensor or _np_errors is None:
        return None
    a = input._data
    kind = type(other)
    if kind is Tensor:
        b = other._data
        if b.dtype != a.dtype:
            return None
    elif (kind is float or kind is int) and a.dtype.kind == "f":
        b = other
    else:
        return None
    token = _np_errors.set(_NP_QUIET)
    try:
        out = ufunc(a, b)
    except ValueError:
        raise broadcast_error(input, other) from None
    finally:
        _np_errors.reset(token)
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


def _strided(*values) -> bool:
    """Whether an operand array of two or more dims is not C-contiguous."""
    for v in values:
        if type(v) is np.ndarray and v.ndim > 1 and not v.flags.c_contiguous:
            return True
    return False


def _float_dtype(dtype):
    """Ops like exp and true division compute integers in the default float dtype."""
    return dtype if dtype.is_floating_point else float32


# ----------------------------------------------------------------- arithmetic
def add(input, other, *, alpha=1):
    out = _fast_binary(np.add, input, other) if alpha == 1 else None
    if out is None:
        other = coerce(other)
        if other is NotImplemented:
            return other
        dtype = result_type(input, other)
        out = _binary(np.add, input, _scaled(other, alpha, dtype), dtype)
    if _needs_grad2(input, other):
        node = D.AddBackward0()
        node.alpha = alpha
        return attach(node, out, (input, other))
    return make(out)


def sub(input, other, *, alpha=1):
    out = None
    if alpha == 1 and type(input) is Tensor and input._data.dtype.kind == "f":
        out = _fast_binary(np.subtract, input, other)  # no bool operand: nothing to reject
    if out is None:
        other = coerce(other)
        if other is NotImplemented:
            return other
        dtype = result_type(input, other)
        _check_sub(input, other)
        out = _binary(np.subtract, input, _scaled(other, alpha, dtype), dtype)
    if _needs_grad2(input, other):
        node = D.SubBackward0()
        node.alpha = alpha
        return attach(node, out, (input, other))
    return make(out)


@silent
def _scaled(value, alpha, dtype):
    """``alpha * value`` as a numpy operand (torch folds alpha into add/sub)."""
    if alpha == 1:
        return value
    _check_alpha(alpha, dtype)
    return as_array(value, dtype.np) * alpha


@silent
def rsub(input, other, *, alpha=1):
    """``other - alpha * input``; with a scalar ``other`` this is ``2 - x`` (RsubBackward1)."""
    other = coerce(other)
    if other is NotImplemented:
        return other
    dtype = result_type(input, other)
    _check_sub(input, other)
    out = _binary(np.subtract, other, _scaled(input, alpha, dtype), dtype)
    if isinstance(other, Tensor):
        if _needs_grad2(input, other):
            node = D.RsubBackward0()
            node.alpha = alpha
            return attach(node, out, (input, other))
    elif _needs_grad(input):
        node = D.RsubBackward1()
        node.alpha = alpha
        return attach(node, out, (input,))
    return make(out)


def _check_sub(a, b):
    a_bool = _dtype_of(a) is bool_
    b_bool = _dtype_of(b) is bool_
    if a_bool and b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if a_bool or b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator "
            "instead."
        )


def _check_alpha(alpha, dtype):
    if alpha == 1:
        return
    if not dtype.is_floating_point and isinstance(alpha, float):
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number."
        )
    if isinstance(alpha, bool) and dtype is not bool_:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")


def _dtype_of(value):
    if isinstance(value, Tensor):
        return FROM_NUMPY[value._data.dtype]
    return bool_ if isinstance(value, bool) else None


def mul(input, other):
    out = _fast_binary(np.multiply, input, other)
    if out is None:
        other = coerce(other)
        if other is NotImplemented:
            return other
        out = _binary(np.multiply, input, other, result_type(input, other))
    if _needs_grad2(input, other):
        node = D.MulBackward0()
        node.self_ = input
        node.other = other
        return attach(node, out, (input, other))
    return make(out)


def div(input, other):
    out = None
    if type(input) is Tensor and input._data.dtype.kind == "f":  # ints divide in float32
        out = _fast_binary(np.true_divide, input, other)
    if out is None:
        other = coerce(other)
        if other is NotImplemented:
            return other
        out = _binary(np.true_divide, input, other, _float_dtype(result_type(input, other)))
    if _needs_grad2(input, other):
        node = D.DivBackward0()
        node.self_ = input
        node.other = other
        return attach(node, out, (input, other))
    return make(out)


def rdiv(input, other):
    """``other / input`` for a scalar ``other``: torch computes ``input.reciprocal() *
    other``, which is why ``2 / x`` has grad_fn MulBackward0."""
    other = coerce(other)
    if other is NotImplemented:
        return other
    return mul(reciprocal(input), other)


@silent
def pow(input, exponent):  # noqa: A001 - torch's name
    """``tensor ** scalar`` (PowBackward0), ``tensor ** tensor`` (PowBackward1) and, via
    ``rpow``, ``scalar ** tensor`` (PowBackward2)."""
    if not isinstance(input, Tensor):
        return rpow(exponent, input)
    exponent = coerce(exponent)
    if exponent is NotImplemented:
        return exponent
    dtype = result_type(input, exponent)
    if isinstance(exponent, Tensor):
        out = _power(input, exponent, dtype)
        if _needs_grad(input, exponent):
            node = D.PowBackward1()
            node.self_ = input
            node.exponent = exponent
            node._result = out
            return attach(node, out, (input, exponent))
        return make(out)
    if not dtype.is_floating_point and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    out = _power(input, exponent, dtype)
    if _needs_grad(input):
        node = D.PowBackward0()
        node.self_ = input
        node.exponent = exponent
        return attach(node, out, (input,))
    return make(out)


@silent
def rpow(input, base):
    """``base ** input`` for a scalar ``base`` (PowBackward2)."""
    base = coerce(base)
    if base is NotImplemented:
        return base
    if isinstance(base, Tensor):
        return pow(base, input)
    out = _power(base, input, result_type(base, input))
    if _needs_grad(input):
        node = D.PowBackward2()
        node.base = base
        node.exponent = input
        node._result = out
        return attach(node, out, (input,))
    return make(out)


def _power(base, exponent, dtype):
    try:
        return _binary(np.power, base, exponent, dtype)
    except ValueError as e:  # numpy: integers to negative integer powers
        raise RuntimeError(str(e)) from None


# ----------------------------------------------------------------- comparisons
def _comparison(ufunc):
    def compare(input, other):
        out = _fast_binary(ufunc, input, other)
        if out is None:
            other = coerce(other)
            if other is NotImplemented:
                return other
            out = _binary(ufunc, input, other, result_type(input, other))
        return make(out)

    compare.__name__ = ufunc.__name__
    return compare


eq = _comparison(np.equal)
ne = _comparison(np.not_equal)
lt = _comparison(np.less)
le = _comparison(np.less_equal)
gt = _comparison(np.greater)
ge = _comparison(np.greater_equal)


# ----------------------------------------------------------------- unary
@silent
def neg(input):
    if input._data.dtype == np.bool_:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    out = _wrap(np.negative(input._data))
    if _needs_grad(input):
        return attach(D.NegBackward0(), out, (input,))
    return make(out)


def _float_input(input):
    """The input array in the dtype a floating-point unary op computes in."""
    data = input._data
    return data if data.dtype.kind == "f" else data.astype(np.float32)


@silent
def exp(input):
    out = _wrap(_parallel.unary(np.exp, _float_input(input)))
    if _needs_grad(input):
        node = D.ExpBackward0()
        node._result = out
        return attach(node, out, (input,))
    return make(out)


@silent
def log(input):
    out = _wrap(np.log(_float_input(input)))
    if _needs_grad(input):
        node = D.LogBackward0()
        node.self_ = input
        return attach(node, out, (input,))
    return make(out)


@silent
def reciprocal(input):
    out = _wrap(np.reciprocal(_float_input(input)))
    if _needs_grad(input):
        node = D.ReciprocalBackward0()
        node._result = out
        return attach(node, out, (input,))
    return make(out)


@silent
def abs(input):  # noqa: A001 - torch's name
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    out = _wrap(np.abs(input._data))
    if _needs_grad(input):
        node = D.AbsBackward0()
        node.self_ = input
        return attach(node, out, (input,))
    return make(out)


@silent
def relu(input):
    data = input._data
    if data.dtype == np.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    out = _wrap(np.maximum(data, data.dtype.type(0)))  # propagates NaN, as torch does
    if _needs_grad(input):
        node = D.ReluBackward0()
        node._result = out
        return attach(node, out, (input,))
    return make(out)


def sgn(input):
    """The sign, as derivative formulas use it: SgnBackward0, whose derivative is zero."""
    out = _wrap(np.sign(input._data))
    if _needs_grad(input):
        return attach(D.SgnBackward0(), out, (input,))
    return make(out)


# ----------------------------------------------------------------- reductions
_NO_DIM = object()  # tells ``x.sum()`` (SumBackward0) from ``x.sum(dim=None)`` (SumBackward1)


def reduction_dims(dim, ndim: int) -> tuple[int, ...]:
    """Normalised dims to reduce; None or [] means all, as in torch."""
    if dim is None or dim is _NO_DIM:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = wrap_dim(dim, ndim)
        return (dim,) if ndim else ()
    dims = tuple(wrap_dim(d, ndim) for d in dim)
    if not dims:
        return tuple(range(ndim))
    if len(set(dims)) != len(dims):
        seen = set()
        for d in dims:
            if d in seen:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
            seen.add(d)
    return dims if ndim else ()


def _backward_dims(dim, dims) -> tuple[int, ...]:
    """The dims sum_backward unsqueezes: none for dim=None or [] (torch then expands the
    grad as it is), else the normalised ones."""
    if dim is None or dim is _NO_DIM or (not isinstance(dim, int) and len(dim) == 0):
        return ()
    return dims


def keepdim_shape(shape, dims) -> tuple[int, ...]:
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


@silent
def sum(input, dim=_NO_DIM, keepdim=False, *, dtype=None):  # noqa: A001 - torch's name
    data = input._data
    if dtype is None:
        out_np = data.dtype if data.dtype.kind == "f" else np.dtype(np.int64)
    else:
        out_np = dtype.np
    dims = reduction_dims(dim, data.ndim)
    acc_np = np.float32 if out_np == np.float16 else out_np  # torch accumulates half in float
    # np.add.reduce is what np.sum calls, without its Python-level dispatch
    out = reduced(np.add.reduce(data, dims, acc_np, None, keepdim).astype(out_np, copy=False))
    if _needs_grad(input):
        node = D.SumBackward0() if dim is _NO_DIM else D.SumBackward1()
        node.self_sizes = data.shape
        node.dims = _backward_dims(dim, dims)
        node.keepdim = keepdim
        return attach(node, out, (input,))
    return make(out)


def mean(input, dim=_NO_DIM, keepdim=False, *, dtype=None):
    data = input._data
    if (dim is _NO_DIM and dtype is None and data.dtype.kind == "f" and data.itemsize > 2
            and _np_errors is not None):
        # `x.mean()` of a float tensor: the general path below, minus its argument handling
        count = data.size
        token = _np_errors.set(_NP_QUIET)
        try:
            out = _wrap(np.true_divide(np.add.reduce(data, _all_dims(data.ndim)), count))
        finally:
            _np_errors.reset(token)
        if _grad_mode.enabled and input._requires_grad:
            node = D.MeanBackward0()
            node.self_sizes = data.shape
            node.dims = _backward_dims(dim, ())  # what _mean records: () for a whole mean
            node.keepdim = False
            node.count = count
            return attach(node, out, (input,))
        return make(out)
    return _mean(input, dim, keepdim, dtype)


def _all_dims(ndim: int) -> tuple[int, ...]:
    return _ALL_DIMS[ndim] if ndim < len(_ALL_DIMS) else tuple(range(ndim))


_ALL_DIMS = [tuple(range(n)) for n in range(9)]


@silent
def _mean(input, dim, keepdim, dtype):
    data = input._data
    if dtype is None and data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {FROM_NUMPY[data.dtype].scalar_name}"
        )
    if dtype is not None:
        data = data.astype(dtype.np, copy=False)
    dims = reduction_dims(dim, data.ndim)
    count = data.size if len(dims) == data.ndim else math.prod(data.shape[d] for d in dims)
    # sum / count rather than np.mean, which warns on empty input; half sums in float
    acc = np.float32 if data.dtype == np.float16 else data.dtype
    total = np.add.reduce(data, dims, acc, None, keepdim)  # np.sum without its dispatch
    out = reduced(np.true_divide(total, count).astype(data.dtype, copy=False))
    if _needs_grad(input):
        node = D.MeanBackward0() if dim is _NO_DIM else D.MeanBackward1()
        node.self_sizes = input._data.shape
        node.dims = _backward_dims(dim, dims)
        node.keepdim = keepdim
        node.count = count
        return attach(node, out, (input,))
    return make(out)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm``: vector norms only (what ``linalg.vector_norm`` computes)."""
    if isinstance(p, str):
        if p != "fro":
            raise NotImplementedError(f"engine does not implement the {p!r} matrix norm")
        p = 2.0
    elif p is None:
        p = 2.0
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    data = input._data
    if (ord == 2 and dim is None and dtype is None and data.dtype.kind == "f" and data.size > 1
            and _np_errors is not None):
        # `x.norm()`: what _vector_norm computes, minus its argument handling (x * x is
        # |x| * |x|; one element takes the general path, which returns |x| unsquared)
        token = _np_errors.set(_NP_QUIET)
        try:
            out = np.asarray(np.sqrt(np.add.reduce(data * data, None)))
        finally:
            _np_errors.reset(token)
    else:
        out = _vector_norm_result(input, ord, dim, keepdim, dtype)
    if _grad_mode.enabled and input._requires_grad:
        node = D.LinalgVectorNormBackward0()
        node.self_ = input
        node._result = out
        node.ord = float(ord)
        node.dims = _backward_dims(dim, reduction_dims(dim, data.ndim))
        node.keepdim = keepdim
        return attach(node, out, (input,))
    return make(out)


@silent
def _vector_norm_result(input, ord, dim, keepdim, dtype):
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {FROM_NUMPY[data.dtype].scalar_name}"
        )
    if dtype is not None:
        data = data.astype(dtype.np)
    dims = reduction_dims(dim, data.ndim)
    if data.size == 0 and (ord < 0 or ord == math.inf):
        _check_norm_identity(data, float(ord), dim, dims)
    return reduced(_vector_norm(data, float(ord), dims, keepdim))


def _check_norm_identity(data, ord, dim, dims):
    """torch's errors for a max-like norm (inf, negative orders) over an empty reduction:
    such a reduction has no identity.  A dim is named as the caller wrote it."""
    text = "inf" if ord == math.inf else "-inf" if ord == -math.inf else f"{ord:g}"
    if dim is None:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {text} norm on an empty "
                           "tensor because the operation does not have an identity")
    written = (dim,) if isinstance(dim, int) else tuple(dim)
    for given, d in zip(written, dims, strict=False):
        if data.shape[d] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {text} norm on the dimension "
                f"{given}because this dimension is empty and the operation does not have an "
                "identity")


def _vector_norm(data, ord, dims, keepdim):
    a = np.abs(data)
    if ord != 0.0 and data.size and math.prod(data.shape[d] for d in dims) == 1:
        return a if keepdim else a.reshape([s for i, s in enumerate(a.shape) if i not in dims])
    if ord == 2.0:  # np.add.reduce is np.sum without its Python-level dispatch
        return np.sqrt(np.add.reduce(a * a, dims, None, None, keepdim))
    if ord == 1.0:
        return np.add.reduce(a, dims, None, None, keepdim)
    if ord == np.inf:
        return np.max(a, axis=dims, keepdims=keepdim, initial=data.dtype.type(0))
    if ord == -np.inf:
        return np.min(a, axis=dims, keepdims=keepdim, initial=data.dtype.type(np.inf))
    if ord == 0.0:
        return np.sum(a != 0, axis=dims, keepdims=keepdim, dtype=data.dtype)
    return np.sum(a ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)


# ----------------------------------------------------------------- structure
def broadcast_view(data: np.ndarray, shape: tuple) -> np.ndarray:
    """``np.broadcast_to(data, shape)`` (a read-only view) without its Python-level cost: the
    strides are computed here, 0 along broadcast dims.  Falls back to numpy for arrays that
    do not expose a plain buffer (non-contiguous ones) and for shapes numpy must reject."""
    src = data.shape
    lead = len(shape) - len(src)
    if lead < 0 or not data.flags.c_contiguous:
        return np.broadcast_to(data, shape)
    strides = [0] * lead
    for have, want, stride in zip(src, shape[lead:], data.strides, strict=True):
        if have == want:
            strides.append(stride)
        elif have == 1:
            strides.append(0)
        else:
            return np.broadcast_to(data, shape)  # numpy raises its error
    out = np.ndarray(shape, data.dtype, data, 0, strides)
    out.flags.writeable = False
    return out


def expand(input, shape):
    """A read-only broadcast view, as torch's expand (no copy)."""
    out = broadcast_view(input._data, shape)
    if _needs_grad(input):
        node = D.ExpandBackward0()
        node.self_sizes = input._data.shape
        return attach(node, out, (input,))
    return _view_result(out, input)


def reshape(input, shape):
    out = input._data.reshape(shape)
    if _needs_grad(input):
        node = D.ViewBackward0()
        node.self_sizes = input._data.shape
        return attach(node, out, (input,))
    return _view_result(out, input)


def _view_result(out, input):
    """A view made without a graph (in a backward formula, say) is still a view of its
    input, as torch's: an in-place op on an ``autograd.grad`` result sees that.  (``out``
    has a base only when numpy could view ``input``'s memory.)"""
    if out.base is None:
        return make(out)
    return as_view(make(out), input)


def sum_to(grad, shape):
    """Sum a broadcast grad back to an input's shape: the engine's one place for broadcast
    reduction (torch's at::sum_to: sum the expanded dims keeping them, then drop the
    leading ones)."""
    have = grad._data.shape
    if have == shape:
        return grad
    if not shape:  # torch's sum_to sums everything with sum(): SumBackward0, not a view
        return sum(grad)
    lead = len(have) - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and have[lead + i] != 1
    )
    if dims:
        grad = sum(grad, dims, keepdim=True)
    return reshape(grad, shape) if lead else grad


@silent
def where(condition, input, other):
    dtype = result_type(input, other)
    cond = condition._data if isinstance(condition, Tensor) else condition
    operands = (cond, as_array(input, dtype.np), as_array(other, dtype.np))
    try:
        out = _wrap(np.where(*operands))
    except ValueError:
        raise broadcast_error(input, other) from None
    if _strided(*operands):
        out = torch_layout(out, operands)
    if _needs_grad2(input, other):
        node = D.WhereBackward0()
        node.condition = cond
        return attach(node, out, (input, other))  # condition is no edge
    return make(out)


def clone(input):
    out = input._data.copy()
    if _needs_grad(input):
        return attach(D.CloneBackward0(), out, (input,))
    return make(out)


def to(input, *args, dtype=None, **kwargs):
    """``x.to(dtype)``: the same tensor if the dtype does not change, else a copy
    (ToCopyBackward0). Device arguments are accepted and ignored: everything is on the CPU."""
    for arg in args:
        if isinstance(arg, _dtype_class):
            dtype = arg
    if dtype is None or input._data.dtype == dtype.np:
        return input
    out = input._data.astype(dtype.np)
    if dtype.is_floating_point and _needs_grad(input):
        node = D.ToCopyBackward0()
        node.self_dtype = FROM_NUMPY[input._data.dtype]
        return attach(node, out, (input,))
    return make(out)


def copy_for_grad(grad):
    """The copy AccumulateGrad stores on a leaf under create_graph (CopyBackwards)."""
    out = grad._data.copy()
    if _needs_grad(grad):
        return attach(D.CopyBackwards(), out, (None, grad))
    return make(out)

