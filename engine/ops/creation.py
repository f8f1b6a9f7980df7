"""Tensor factories: tensor(), as_tensor, from_numpy, ones/zeros/full/empty/arange/linspace/
eye, the *_like forms and the legacy ``Tensor(...)``/``FloatTensor(...)`` constructors (the
random factories are ``ops.random``'s).

Dtype inference follows torch, not numpy: Python floats become the default dtype
(float32), ints int64, bools bool; numpy arrays and numpy scalars keep their dtype.
"""

from __future__ import annotations

import math
import operator
import warnings

import numpy as np

from .._dtype import (
    ALL,
    FROM_NUMPY,
    bool_,
    check_numpy_array,
    float32,
    get_default_dtype,
    int64,
    promote_types,
)
from .._size import Size
from .._tensor import Tensor, make
from .elementwise import to
from .operands import checked_int, preserved_empty

_COPY_CONSTRUCT_WARNING = (
    "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
    "or sourceTensor.detach().clone().requires_grad_(True), rather than "
    "torch.tensor(sourceTensor)."
)


def _finish(data: np.ndarray, requires_grad: bool) -> Tensor:
    if requires_grad and data.dtype.kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    return make(data, bool(requires_grad))


# ----------------------------------------------------------------- tensor(data)
def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data``."""
    if isinstance(data, Tensor):
        warnings.warn(_COPY_CONSTRUCT_WARNING, UserWarning, stacklevel=2)
        array = data._data.copy()
    elif isinstance(data, np.ndarray):
        array = check_numpy_array(data).copy()
    else:
        array = _from_python(data, dtype)
    if dtype is not None and array.dtype != dtype.np:
        array = array.astype(dtype.np)
    return _finish(array, requires_grad)


def _from_python(data, dtype=None) -> np.ndarray:
    """Scalars and nested sequences: infer torch's dtype and check the shape is regular."""
    shape = _leading_shape(data)
    dtypes: set = set()
    has_tensors = _scan(data, 0, shape, dtypes)
    result = float32 if not dtypes else None
    for d in dtypes:
        result = d if result is None else promote_types(result, d)
    if has_tensors:
        data = _unwrap(data)
    if dtype is not None and result.is_floating_point:
        # floats go through float64, so tensor([0.1], dtype=float64) is exactly 0.1
        return np.array(data, dtype=np.float64).reshape(shape).astype(dtype.np)
    return np.array(data, dtype=result.np).reshape(shape)


def _leading_shape(obj) -> list[int]:
    """The shape, read off the first element at each depth (as torch does)."""
    shape = []
    while isinstance(obj, (list, tuple)):
        shape.append(len(obj))
        if not obj:
            break
        obj = obj[0]
    if isinstance(obj, np.ndarray):
        shape.extend(obj.shape)
    return shape


def _scan(obj, depth: int, shape: list, dtypes: set) -> bool:
    """Check ``obj`` against ``shape`` with torch's errors and collect the leaf dtypes.
    Returns whether tensors occur as leaves (they are replaced by their values)."""
    if isinstance(obj, np.ndarray):  # numpy arrays nest like sequences
        array = check_numpy_array(obj)
        if tuple(shape[depth:]) != array.shape:
            raise ValueError(
                f"expected sequence of length {shape[depth]} at dim {depth} (got "
                f"{array.shape[0] if array.ndim else 0})"
            )
        dtypes.add(FROM_NUMPY[array.dtype])
        return False
    if depth == len(shape):  # a scalar is due here
        if isinstance(obj, (list, tuple)):
            raise TypeError(f"'{type(obj).__name__}' object cannot be interpreted as an integer")
        if isinstance(obj, Tensor):  # tensors count as scalars of their dtype, as in torch
            if obj._data.size != 1:
                raise ValueError("only one element tensors can be converted to Python scalars")
            dtypes.add(FROM_NUMPY[obj._data.dtype])
            return True
        dtypes.add(_python_scalar_dtype(obj))
        return False
    if not isinstance(obj, (list, tuple)):
        raise TypeError("not a sequence")
    if len(obj) != shape[depth]:
        raise ValueError(
            f"expected sequence of length {shape[depth]} at dim {depth} (got {len(obj)})"
        )
    found = False
    for item in obj:
        found = _scan(item, depth + 1, shape, dtypes) or found
    return found


def _python_scalar_dtype(value):
    if isinstance(value, np.generic) and value.dtype in FROM_NUMPY:
        return FROM_NUMPY[value.dtype]  # before float: np.float64 subclasses float
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return get_default_dtype()
    raise RuntimeError(f"Could not infer dtype of {type(value).__name__}")


def _unwrap(obj):
    if isinstance(obj, (list, tuple)):
        return [_unwrap(item) for item in obj]
    if isinstance(obj, Tensor):
        return obj._data.item()
    return obj


# ----------------------------------------------------------------- sized factories
_RANDOM_SIGNATURES = (
    "NAME() received an invalid combination of arguments - got (), but expected one of:\n"
    " * (tuple of ints size, *, torch.Generator generator, Tensor out = None, torch.dtype dtype "
    "= None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
    "bool requires_grad = False)\n"
    " * (tuple of ints size, *, Tensor out = None, torch.dtype dtype = None, torch.layout layout "
    "= None, torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n"
)
_NO_SIZE = {"rand": _RANDOM_SIGNATURES, "randn": _RANDOM_SIGNATURES}  # torch's overloads


def _size(name: str, args: tuple, size) -> tuple[int, ...]:
    """Sizes given as varargs, one sequence, or ``size=``; torch's errors for bad ones."""
    if size is not None:
        args = (size,)
    elif not args:
        raise TypeError(_NO_SIZE.get(name, f'{name}() missing 1 required positional arguments: '
                                           '"size"').replace("NAME", name))
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
        single = False
    else:
        single = len(args) == 1
    dims = []
    for pos, value in enumerate(args):
        try:
            dims.append(operator.index(value))
        except TypeError:
            kind = type(value).__name__
            if single:
                raise TypeError(
                    f"{name}(): argument 'size' (position 1) must be tuple of ints, not {kind}"
                ) from None
            raise TypeError(
                f"{name}(): argument 'size' failed to unpack the object at pos {pos + 1} with "
                f'error "type must be tuple of ints,but got {kind}"'
            ) from None
    for d in dims:
        if d < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {d}: {dims}")
    return tuple(dims)


def ones(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    shape = _size("ones", size, kwargs.get("size"))
    data = np.empty(shape, (dtype or get_default_dtype()).np)  # np.ones is slower Python code
    data.fill(1)
    return _finish(data, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    shape = _size("zeros", size, kwargs.get("size"))
    return _finish(np.zeros(shape, (dtype or get_default_dtype()).np), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    """Zeros: torch leaves the memory uninitialised, so no program can rely on its values."""
    shape = _size("empty", size, kwargs.get("size"))
    return _finish(np.zeros(shape, (dtype or get_default_dtype()).np), requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if not isinstance(size, (tuple, list)):
        raise TypeError(
            f"full(): argument 'size' (position 1) must be tuple of ints, not "
            f"{type(size).__name__}"
        )
    shape = _size("full", (size,), None)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = _fill_dtype(fill_value)
    return _finish(np.full(shape, fill_value, dtype.np), requires_grad)


def _fill_dtype(value):
    if isinstance(value, bool):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    if isinstance(value, (float, np.generic)):
        return get_default_dtype()  # numpy floats and even numpy bools, as in torch
    raise TypeError(
        f"full(): argument 'fill_value' (position 2) must be Number, not {type(value).__name__}"
    )


def _like(name, input, dtype, requires_grad, fill, memory_format=None):
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    np_dtype = input._data.dtype if dtype is None else dtype.np
    if isinstance(fill, int) and -256 < fill < 0 and np.dtype(np_dtype).kind == "u":
        fill = np.asarray(fill).astype(np_dtype)  # torch lets a negative wrap (c10::overflows)
    return _finish(_filled_like(input, np_dtype, fill, memory_format), requires_grad)


def _filled_like(input, np_dtype, fill, memory_format):
    """``fill`` in torch's ``empty_like(input)`` layout (preserve_format: the input's)."""
    data = input._data
    if data.flags.c_contiguous or getattr(memory_format, "_name", "preserve_format") \
            != "preserve_format":
        return np.full(data.shape, fill, np_dtype)
    out = preserved_empty(data, np_dtype)
    out.fill(fill)
    return out


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None,
              **kwargs):
    return _like("ones_like", input, dtype, requires_grad, 1, memory_format)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None,
               **kwargs):
    return _like("zeros_like", input, dtype, requires_grad, 0, memory_format)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None, **kwargs):
    return _like("full_like", input, dtype, requires_grad, fill_value, memory_format)


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, (Tensor, np.generic)) else v
                        for v in (start, end, step))
    if dtype is None:
        floating = any(isinstance(v, float) for v in (start, end, step))
        dtype = get_default_dtype() if floating else int64
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if dtype.np == np.int64:  # torch checks and sizes int64 on the truncated values
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype.np == np.int64:  # C++'s integer division (truncated)
        span = end - start + step - ((step > 0) - (step < 0))
        size = abs(span) // abs(step) * (1 if span * step >= 0 else -1)
    else:
        size = math.ceil((end - start) / step)
    if not dtype.is_floating_point:  # the kernel computes start + i * step in int64
        start, step = int(start), int(step)
    index = np.arange(size, dtype=np.float64 if dtype.is_floating_point else np.int64)
    values = start + index * step
    return _finish(values.astype(dtype.np), requires_grad)


# ----------------------------------------------------------------- more factories
_LINSPACE_REST = ("int steps, *, Tensor out = None, torch.dtype dtype = None, torch.layout "
                  "layout = None, torch.device device = None, bool pin_memory = False, "
                  "bool requires_grad = False")


def _linspace_checks(start, end, steps):
    """torch's argument parser (steps an int) and linspace's 0-d check on tensor ends."""
    if isinstance(steps, (bool, float)) or not hasattr(steps, "__index__"):
        got = ", ".join(type(v).__name__ for v in (start, end, steps))
        overloads = "".join(f" * ({a} start, {b} end, {_LINSPACE_REST})\n" for a, b in (
            ("Tensor", "Tensor"), ("Number", "Tensor"), ("Tensor", "Number"),
            ("Number", "Number")))
        raise TypeError(f"linspace() received an invalid combination of arguments - got "
                        f"({got}), but expected one of:\n{overloads}")
    ends = [(name, v._data.ndim) for name, v in (("start", start), ("end", end))
            if isinstance(v, Tensor)]
    if any(ndim for _, ndim in ends):
        got = " and ".join(f"{name} with {ndim} dimension(s)" for name, ndim in ends)
        raise RuntimeError(
            f"linspace only supports 0-dimensional start and end tensors, but got {got}.")


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None):
    _linspace_checks(start, end, steps)
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    steps = operator.index(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or get_default_dtype()
    if dtype.is_floating_point:
        t = dtype.np.type
        s, e = t(start), t(end)
        if steps == 1:
            values = np.full(1, s, dtype.np)
        else:
            step = (e - s) / t(steps - 1)
            i = np.arange(steps)
            half = steps // 2
            values = np.where(i < half, s + step * i.astype(dtype.np),
                              e - step * (steps - i - 1).astype(dtype.np)).astype(dtype.np)
    else:  # torch's kernel: the ends truncated to the dtype, a double step, from both ends
        s, e = (checked_int(v, dtype.np).astype(np.float64) for v in (start, end))
        i = np.arange(steps, dtype=np.float64)
        step = (e - s) / (steps - 1) if steps > 1 else 0.0
        values = np.where((i < steps // 2) | (steps == 1), s + step * i,
                          e - step * (steps - i - 1))
        values = np.trunc(values).astype(np.int64).astype(dtype.np)
    return _finish(values, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None):
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    return _finish(np.eye(n, n if m is None else m, dtype=(dtype or get_default_dtype()).np),
                   requires_grad)


def _like_dtype(input, dtype):
    return FROM_NUMPY[input._data.dtype] if dtype is None else dtype


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None,
               **kwargs):
    """Zeros (as ``empty``) in torch's ``empty_like`` layout."""
    np_dtype = _like_dtype(input, dtype).np
    return _finish(_filled_like(input, np_dtype, 0, memory_format), requires_grad)


def from_numpy(array):
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if array.dtype not in FROM_NUMPY:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{array.dtype}. The only supported types "
            "are: float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
            "uint64, uint32, uint16, uint8, and bool."
        )
    return make(array)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        if dtype is None or data._data.dtype == dtype.np:
            return data
        return to(data, dtype)
    if isinstance(data, np.ndarray) and data.dtype in FROM_NUMPY:
        if dtype is None or data.dtype == dtype.np:
            return make(data)
        return make(data.astype(dtype.np))
    return tensor(data, dtype=dtype)


# ----------------------------------------------------------------- legacy constructors
def legacy_new(cls, dtype, args):
    """``Tensor(...)``/``FloatTensor(...)``: sizes give a zero tensor (torch leaves it
    uninitialised), one sequence gives that data in ``dtype``."""
    if len(args) == 1 and isinstance(args[0], Size):
        args = tuple(args[0])
    if len(args) == 1 and not isinstance(args[0], int):
        data = args[0]
        if isinstance(data, Tensor):
            if data._data.dtype != dtype.np:
                raise TypeError(f"expected {dtype} tensor (got {data.dtype} tensor)")
            return data
        if not isinstance(data, (list, tuple, np.ndarray)):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        return tensor(data, dtype=dtype)
    shape = _size("new", args, None) if args else (0,)
    return make(np.zeros(shape, dtype.np))


class _LegacyTensorType(type):
    """Metaclass of FloatTensor & co: calling builds a Tensor, isinstance checks the dtype."""

    def __call__(cls, *args):
        return legacy_new(Tensor, cls.dtype, args)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.np


def _legacy_type(name, dtype):
    return _LegacyTensorType(name, (), {"dtype": dtype, "__module__": "torch"})


LEGACY_TYPES = {f"{d.scalar_name}Tensor": _legacy_type(f"{d.scalar_name}Tensor", d) for d in ALL}


def legacy_constructor(cls, *args):
    """``Tensor.__new__``: ``Tensor([1, 2])`` (float32 data) or ``Tensor(2, 3)``."""
    return legacy_new(cls, float32, args)
