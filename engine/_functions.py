"""The ``engine.add(x, y)``-style call forms: torch's argument TypeErrors, then the op.

Operators skip this layer (Python's operator protocol needs NotImplemented instead).
"""

from __future__ import annotations

import functools

from ._tensor import Tensor
from .ops import operands as O


def _type_error(name, position, param, expected, value):
    return TypeError(
        f"{name}(): argument '{param}' (position {position}) must be {expected}, "
        f"not {type(value).__name__}"
    )


def _unary(op, name):
    @functools.wraps(op)
    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise _type_error(name, 1, "input", "Tensor", input)
        return op(input, *args, **kwargs)

    function.__name__ = name
    return function


def _binary(op, name):
    @functools.wraps(op)
    def function(input, other, *args, **kwargs):
        if not isinstance(input, Tensor):
            scalar = O.coerce(input)
            if isinstance(other, Tensor) and scalar is not NotImplemented:
                return op(scalar, other, *args, **kwargs)  # a scalar input is not an edge
            raise _type_error(name, 1, "input", "Tensor", input)
        result = op(input, other, *args, **kwargs)
        if result is NotImplemented:
            raise _type_error(name, 2, "other", "Tensor", other)
        return result

    function.__name__ = name
    return function


add = _binary(O.add, "add")
sub = _binary(O.sub, "sub")
mul = _binary(O.mul, "mul")
div = _binary(O.div, "div")
eq = _binary(O.eq, "eq")
ne = _binary(O.ne, "ne")
lt = _binary(O.lt, "lt")
le = _binary(O.le, "le")
gt = _binary(O.gt, "gt")
ge = _binary(O.ge, "ge")


def pow(input, exponent):  # noqa: A001 - torch's name
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(
            "pow() received an invalid combination of arguments - got "
            f"({type(input).__name__}, {type(exponent).__name__})"
        )
    result = O.pow(input, exponent)
    if result is NotImplemented:
        raise _type_error("pow", 2, "exponent", "Tensor", exponent)
    return result


_rsub = _binary(O.rsub, "rsub")


def rsub(input, other, *args, **kwargs):
    """torch.rsub: its scalar overload ``rsub(Tensor input, Number other, Number alpha)``
    takes alpha by position too; with a tensor ``other`` alpha is keyword-only."""
    if len(args) == 1 and not isinstance(other, Tensor) and "alpha" not in kwargs:
        kwargs["alpha"] = args[0]
        args = ()
    return _rsub(input, other, *args, **kwargs)
neg = _unary(O.neg, "neg")
exp = _unary(O.exp, "exp")
log = _unary(O.log, "log")
abs = _unary(O.abs, "abs")  # noqa: A001
relu = _unary(O.relu, "relu")
reciprocal = _unary(O.reciprocal, "reciprocal")
sum = _unary(O.sum, "sum")  # noqa: A001
mean = _unary(O.mean, "mean")
norm = _unary(O.norm, "norm")
clone = _unary(O.clone, "clone")
where = O.where
