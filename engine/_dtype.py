"""Dtypes and PyTorch's type-promotion rules.

Numpy's promotion differs from torch's (int64 array + 2.5 is float64 in numpy, float32 in
torch; float16 + int64 is float64 in numpy, float16 in torch), so every op asks
``result_type`` for torch's answer and casts numpy's operands to it before computing.
"""

from __future__ import annotations

import numpy as np


class dtype:  # noqa: N801 - torch's spelling
    """One of torch's scalar types, bound to the numpy dtype that stores it."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "abbr",
                 "scalar_name", "cpp_name")
    __module__ = "torch"  # `type(engine.float32)` prints as torch's `<class 'torch.dtype'>`
    is_complex = False

    def __init__(self, name, np_dtype, scalar_name, cpp_name, abbr):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize
        self.abbr = abbr
        self.scalar_name = scalar_name  # c10 ScalarType name, used in error texts: "Long"
        self.cpp_name = cpp_name  # C++ type name, used in other error texts: "long int"

    def __repr__(self):
        return "torch." + self.name

    __str__ = __repr__

    def __copy__(self):
        return self  # dtypes are singletons: code compares them with `is`

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (_by_name, (self.name,))  # by function: the class claims module "torch"

    def to_real(self):
        return self

    def to_complex(self):
        raise NotImplementedError("complex dtypes are not supported by the engine")


bool_ = dtype("bool", np.bool_, "Bool", "bool", "b8")
uint8 = dtype("uint8", np.uint8, "Byte", "unsigned char", "u8")
int8 = dtype("int8", np.int8, "Char", "signed char", "i8")
int16 = dtype("int16", np.int16, "Short", "short int", "i16")
int32 = dtype("int32", np.int32, "Int", "int", "i32")
int64 = dtype("int64", np.int64, "Long", "long int", "i64")
float16 = dtype("float16", np.float16, "Half", "c10::Half", "f16")
float32 = dtype("float32", np.float32, "Float", "float", "f32")
float64 = dtype("float64", np.float64, "Double", "double", "f64")

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
FROM_NUMPY = {d.np: d for d in ALL}
BY_NAME = {d.name: d for d in ALL}


def _by_name(name: str) -> dtype:
    return BY_NAME[name]


def legacy_type_name(d: dtype) -> str:
    """``torch.FloatTensor`` & co: how torch's messages and ``x.type()`` name a tensor type."""
    return f"torch.{d.scalar_name}Tensor"


def check_numpy_array(array: np.ndarray) -> np.ndarray:
    """``array``, if torch has a dtype for it; torch's errors otherwise."""
    if array.dtype not in FROM_NUMPY:
        if array.dtype.byteorder not in "=|" and array.dtype.newbyteorder("=") in FROM_NUMPY:
            raise ValueError(
                "given numpy array has byte order different from the native byte order. "
                "Conversion between byte orders is currently not supported."
            )
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{array.dtype}. The only supported types "
            "are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        )
    return array


def get_default_dtype() -> dtype:
    """The dtype Python floats become (torch's default; settable there, fixed here)."""
    return float32


def from_numpy(np_dtype) -> dtype:
    try:
        return FROM_NUMPY[np_dtype]
    except KeyError:
        raise TypeError(f"engine does not support numpy dtype {np_dtype}") from None


def _promote_pair(a: dtype, b: dtype) -> dtype:
    """torch.promote_types: bool < integers < floats; numpy's lattice within a category."""
    if a is b:
        return a
    if a.is_floating_point != b.is_floating_point:
        return a if a.is_floating_point else b
    if a is bool_:
        return b
    if b is bool_:
        return a
    return FROM_NUMPY[np.promote_types(a.np, b.np)]


_PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL for b in ALL}


def promote_types(a: dtype, b: dtype) -> dtype:
    return _PROMOTE[a, b]


def scalar_dtype(value) -> dtype:
    """The category dtype of a Python scalar operand (torch's 'wrapped number')."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return float32  # wrapped floats take the default dtype
    raise TypeError(f"engine does not support scalars of type {type(value).__name__}")


def _combine(higher, lower):
    """Fold a lower-priority group's dtype into a higher one (c10's combine_categories):
    a higher group keeps its dtype unless the lower one is of a higher category."""
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return _PROMOTE[higher, lower]
    return higher


def result_type(*operands) -> dtype:
    """torch.result_type for tensors and Python scalars.

    Operands fall into three priority groups: dimensioned tensors > 0-d tensors > Python
    scalars. Within a group dtypes promote normally; a lower group only matters when it is of
    a higher category (bool < integer < floating). So int64 tensor + 2.5 is float32 (the
    default dtype), while float32 tensor + 0-d float64 tensor stays float32.
    """
    dim = zero = wrapped = None
    for op in operands:
        data = getattr(op, "_data", None)
        if data is None:
            d = scalar_dtype(op)
            wrapped = d if wrapped is None else _PROMOTE[wrapped, d]
        else:
            d = FROM_NUMPY[data.dtype]
            if data.ndim:
                dim = d if dim is None else _PROMOTE[dim, d]
            else:
                zero = d if zero is None else _PROMOTE[zero, d]
    return _combine(dim, _combine(zero, wrapped))
