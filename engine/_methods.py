"""Binds the ops to Tensor as methods and operators, in one table.

Operators map straight to the op functions (no wrapper frame on the hot path); reflected
operators use the op whose grad_fn torch records for them, e.g. ``2 - x`` is rsub
(RsubBackward1) and ``2 ** x`` is pow with a scalar base (PowBackward2).
"""

from __future__ import annotations

from . import _functions as F
from ._tensor import Tensor
from .ops import operands as O


def _pos(self):
    return self  # torch's `+x` returns x itself


def _sum(self, dim=O._NO_DIM, keepdim=False, *, dtype=None):
    return O.sum(self, dim, keepdim, dtype=dtype)


def _mean(self, dim=O._NO_DIM, keepdim=False, *, dtype=None):
    return O.mean(self, dim, keepdim, dtype=dtype)


def _cast(dtype_name):
    def cast(self):
        from . import _dtype

        return O.to(self, getattr(_dtype, dtype_name))

    cast.__name__ = dtype_name
    return cast


OPERATORS = {
    "__add__": O.add, "__radd__": O.add,
    "__sub__": O.sub, "__rsub__": O.rsub,
    "__mul__": O.mul, "__rmul__": O.mul,
    "__truediv__": O.div, "__rtruediv__": O.rdiv,
    "__pow__": O.pow, "__rpow__": O.rpow,
    "__neg__": O.neg, "__pos__": _pos, "__abs__": O.abs,
    "__eq__": O.eq, "__ne__": O.ne, "__lt__": O.lt, "__le__": O.le,
    "__gt__": O.gt, "__ge__": O.ge,
}

METHODS = {
    # binary ops raise (rather than return NotImplemented) when called as methods
    "add": F.add, "sub": F.sub, "mul": F.mul, "div": F.div, "pow": F.pow,
    "eq": F.eq, "ne": F.ne, "lt": F.lt, "le": F.le, "gt": F.gt, "ge": F.ge,
    "neg": O.neg, "exp": O.exp, "log": O.log, "abs": O.abs, "relu": O.relu,
    "reciprocal": O.reciprocal,
    "sum": _sum, "mean": _mean, "norm": O.norm,
    "clone": O.clone, "to": O.to,
    "float": _cast("float32"), "double": _cast("float64"), "half": _cast("float16"),
    "long": _cast("int64"), "int": _cast("int32"), "bool": _cast("bool_"),
}

for _name, _fn in {**OPERATORS, **METHODS}.items():
    setattr(Tensor, _name, _fn)
