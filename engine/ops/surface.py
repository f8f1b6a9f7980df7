"""The op surface added by the family modules (``_ops_math``, ``_ops_reduce``, ``_ops_shape``,
``_indexing``, ``_ops_linalg``): Tensor methods and operators, and the ``torch.*`` call
forms, bound in one table per family.  ``engine/__init__`` re-exports ``FUNCTIONS``.

Methods map straight to the op functions where torch's argument handling allows it, so the
hot path has no wrapper frame.
"""

from __future__ import annotations

from .. import _creation_extra as C
from .. import _functions as F
from .. import linalg
from .._functions import _unary
from .._tensor import Tensor
from . import elementwise as M
from . import indexing as I
from . import linalg as L
from . import nn as N
from . import operands as O
from . import reductions as R
from . import shape as S


def _method_binary(op, name):
    """A binary op called as a method or function: torch's TypeError for a bad ``other``."""

    def method(input, other, *args, **kwargs):
        result = op(input, other, *args, **kwargs)
        if result is NotImplemented:
            raise TypeError(
                f"{name}(): argument 'other' (position 2) must be Tensor, not "
                f"{type(other).__name__}"
            )
        return result

    method.__name__ = name
    return method


def _function_binary(op, name):
    def function(input, other, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{name}(): argument 'input' (position 1) must be Tensor, not "
                f"{type(input).__name__}"
            )
        return _method_binary(op, name)(input, other, *args, **kwargs)

    function.__name__ = name
    return function


def _clamp(self, min=None, max=None):  # noqa: A002 - torch's names
    return M.clamp(self, min, max)


def _div_function(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        return F.div(input, other)  # accepts a scalar input, as torch.div does
    return _function_binary(M.div, "div")(input, other, rounding_mode=rounding_mode)


def _true_divide(self, other):
    return _method_binary(O.div, "true_divide")(self, other)


# ----------------------------------------------------------------- elementwise math
_MATH_UNARY = (
    "sqrt", "rsqrt", "log2", "log1p", "expm1", "sin", "cos", "tan", "tanh", "sigmoid",
    "floor", "ceil", "round", "trunc", "sign", "square", "logical_not", "bitwise_not",
    "isnan", "isinf", "isfinite",
)
_MATH_BINARY = (
    "maximum", "minimum", "floor_divide", "remainder", "logical_and", "logical_or",
    "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "clamp_min", "clamp_max",
)

METHODS = {name: getattr(M, name) for name in _MATH_UNARY}
METHODS.update({name: _method_binary(getattr(M, name), name) for name in _MATH_BINARY})
METHODS.update({
    "clamp": _clamp, "clip": _clamp, "true_divide": _true_divide,
    "div": _method_binary(M.div, "div"), "divide": _method_binary(M.div, "divide"),
})

OPERATORS = {
    "__floordiv__": M.floor_divide, "__rfloordiv__": M.rfloordiv,
    "__mod__": M.remainder, "__rmod__": M.rremainder,
    "__and__": M.bitwise_and, "__rand__": M.bitwise_and,
    "__or__": M.bitwise_or, "__ror__": M.bitwise_or,
    "__xor__": M.bitwise_xor, "__rxor__": M.bitwise_xor,
    "__invert__": M.bitwise_not,
}

FUNCTIONS = {name: _unary(getattr(M, name), name) for name in _MATH_UNARY}
FUNCTIONS.update({name: _function_binary(getattr(M, name), name) for name in _MATH_BINARY})
FUNCTIONS.update({
    "clamp": _unary(_clamp, "clamp"), "clip": _unary(_clamp, "clip"),
    "true_divide": _function_binary(O.div, "true_divide"),
    "div": _div_function, "divide": _div_function,
})


# ----------------------------------------------------------------- reductions
def _max_fn(name, op):
    def function(input, dim=O._NO_DIM, keepdim=False, *, out=None):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return op(input, dim, keepdim)

    function.__name__ = name
    return function


_REDUCE = ("prod", "amax", "amin", "argmax", "argmin", "var", "std", "logsumexp", "cumsum",
           "all", "any")
METHODS.update({name: getattr(R, name) for name in _REDUCE})
METHODS.update({"max": R.max, "min": R.min})
FUNCTIONS.update({name: _unary(getattr(R, name), name) for name in _REDUCE})
FUNCTIONS.update({"max": _max_fn("max", R.max), "min": _max_fn("min", R.min)})


# ----------------------------------------------------------------- shape
def _reshape_as(self, other):
    return S.reshape(self, other._data.shape)


def _swap(self, dim0, dim1):
    return S.transpose(self, dim0, dim1)


def _flatten_fn(input, start_dim=0, end_dim=-1):
    return S.flatten(input, start_dim, end_dim)


def _iter(self):
    if self._data.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(S.unbind(self, 0))


_SHAPE = ("view", "view_as", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "t",
          "transpose", "permute", "expand", "expand_as", "repeat", "flip", "split", "chunk",
          "unbind", "narrow", "select", "contiguous", "is_contiguous")
METHODS.update({name: getattr(S, name) for name in _SHAPE})
METHODS.update({"reshape_as": _reshape_as, "swapaxes": _swap, "swapdims": _swap,
                "__iter__": _iter})
FUNCTIONS.update({name: _unary(getattr(S, name), name) for name in _SHAPE
                  if name not in ("view", "view_as", "expand", "expand_as", "repeat",
                                  "contiguous", "is_contiguous")})
FUNCTIONS.update({"cat": S.cat, "concat": S.cat, "concatenate": S.cat, "stack": S.stack,
                  "swapaxes": _unary(_swap, "swapaxes"), "swapdims": _unary(_swap, "swapdims")})
Tensor.T = property(S.T)
Tensor.mT = property(S.mT)


# ----------------------------------------------------------------- indexing
METHODS.update({"__getitem__": I.getitem, "index_select": I.index_select, "gather": I.gather})
FUNCTIONS.update({"index_select": _unary(I.index_select, "index_select"),
                  "gather": _unary(I.gather, "gather")})


# ----------------------------------------------------------------- linear algebra
METHODS.update({"matmul": _method_binary(L.matmul, "matmul"), "mm": L.mm, "mv": L.mv,
                "dot": L.dot, "bmm": L.bmm, "outer": L.outer, "ger": L.outer,
                "addmm": L.addmm})
OPERATORS.update({"__matmul__": L.matmul, "__rmatmul__": L.rmatmul})
FUNCTIONS.update({"matmul": _function_binary(L.matmul, "matmul"), "mm": _unary(L.mm, "mm"),
                  "mv": _unary(L.mv, "mv"), "dot": _unary(L.dot, "dot"),
                  "bmm": _unary(L.bmm, "bmm"), "outer": _unary(L.outer, "outer"),
                  "addmm": _unary(L.addmm, "addmm"), "einsum": L.einsum})


# ----------------------------------------------------------------- nn ops as methods
def _softmax(self, dim=None, dtype=None):
    return N.softmax(self, dim, 4, dtype)


def _log_softmax(self, dim=None, dtype=None):
    return N.log_softmax(self, dim, 4, dtype)


METHODS.update({"softmax": _softmax, "log_softmax": _log_softmax})
FUNCTIONS.update({"softmax": _unary(_softmax, "softmax"),
                  "log_softmax": _unary(_log_softmax, "log_softmax")})


FUNCTIONS["linalg"] = linalg


# ----------------------------------------------------------------- creation and conversions
FUNCTIONS.update({name: getattr(C, name) for name in C.__all__})


def _type_as(self, other):
    return O.to(self, other.dtype)


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """``x.type()`` names the legacy type; ``x.type(dtype or name)`` converts."""
    if dtype is None:
        return S.legacy_type_name(self)
    if isinstance(dtype, str):
        from .creation import LEGACY_TYPES

        name = dtype.removeprefix("torch.")
        if name not in LEGACY_TYPES:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = LEGACY_TYPES[name].dtype
    return O.to(self, dtype)


def _to(self, *args, **kwargs):
    """``x.to(dtype)``, ``x.to(other)``, ``x.to('cpu')``: device moves are no-ops."""
    args = tuple(a.dtype if isinstance(a, Tensor) else a for a in args)
    return O.to(self, *args, **kwargs)


def _cpu(self, memory_format=None):
    return self


def _element_size(self):
    return self._data.itemsize


METHODS.update({"type_as": _type_as, "type": _type, "to": _to, "cpu": _cpu,
                "element_size": _element_size})


def bind():
    for name, fn in {**OPERATORS, **METHODS}.items():
        setattr(Tensor, name, fn)


bind()
__all__ = sorted(FUNCTIONS)  # noqa: PLE0605 - built from the tables
globals().update(FUNCTIONS)
