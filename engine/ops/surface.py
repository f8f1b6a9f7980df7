"""The public surface in one table, and the one binder that attaches it.

Every op is declared once, in ``OPS``, with its variants: the ``torch.X`` function, the
``Tensor.X`` method, the in-place ``Tensor.X_``, Python's operators and protocol methods
(``__add__``, ``__radd__``, ``__iadd__``, ``__getitem__`` ...) and aliases (``clip`` for
``clamp``).  ``bind`` attaches the methods to Tensor and the functions to the engine
namespace; nothing else adds to Tensor.  The table is data other code reads (the harness's
coverage, an OpInfo bridge): ``Op.functions()`` and ``Op.methods()`` name every callable an
entry defines.

The call forms differ as torch's argument parsing does: a function checks its first
argument is a tensor (torch's TypeError), a binary method turns a NotImplemented into the
TypeError for ``other``; operators get the op itself, whose NotImplemented lets Python
raise its own TypeError, and methods get the op itself where torch's argument handling
allows it, so the hot path has no wrapper frame.  Reflected operators use the op whose
grad_fn torch records for them: ``2 - x`` is rsub (RsubBackward1), ``2 ** x`` is pow with
a scalar base (PowBackward2), ``2 / x`` is ``x.reciprocal() * 2`` (MulBackward0).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .. import _dtype
from .. import random as _random
from .._dtype import legacy_type_name
from .._tensor import Tensor
from ..autograd import engine as _engine
from ..autograd import hooks as _hooks
from ..autograd import node as _node
from ..autograd.inplace import (
    check_inplace,
    check_overlap,
    commit,
    descriptor_error,
    grad_fn,
    inplace_method,
    inplace_operator,
)
from . import activations as A
from . import conv as CV
from . import creation as C
from . import decompositions as DC
from . import elementwise as E
from . import embedding as EM
from . import factorizations as FA
from . import fused as FU
from . import indexing as I
from . import inplace_views as IV
from . import joins as J
from . import linalg as L
from . import linalg_householder as LH
from . import linalg_lowrank as LR
from . import losses as LO
from . import nn as N
from . import nn_native as NN
from . import normalization as NO
from . import numeric as NU
from . import out as OUT
from . import pointwise as P
from . import pooling as PL
from . import products as PR
from . import quantile as QU
from . import random as RND
from . import rearrange as RA
from . import reduce_scatter as RSC
from . import reductions as R
from . import resampling as RS
from . import scatter as SC
from . import shape as S
from . import sorting as SO
from . import special as SP
from .operands import argument_error, coerce


@dataclass(frozen=True)
class Op:
    """One op of the public surface and its variants (each None when torch has none)."""

    name: str  # torch's name; for an entry that only groups operators, the aten op's name
    function: Callable | None = None  # engine.<name>
    method: Callable | property | None = None  # Tensor.<name>
    inplace: Callable | None = None  # Tensor.<name>_
    operators: Mapping[str, Callable] = field(default_factory=dict)  # Tensor.__add__ ...
    aliases: tuple[str, ...] = ()  # other names of the function and the method

    def __post_init__(self):
        names = (self.name, *self.aliases)
        functions = {} if self.function is None else {
            name: keyword_forms(renamed(self.function, name), name) for name in names}
        methods = {} if self.method is None else {
            name: keyword_forms(renamed(self.method, name), name) for name in names}
        if self.inplace is not None:  # torch's aliases have the in-place form too
            methods.update({name + "_": renamed(self.inplace, name + "_") for name in names})
        methods.update(self.operators)
        object.__setattr__(self, "_functions", functions)
        object.__setattr__(self, "_methods", methods)

    def functions(self) -> dict[str, Callable]:
        """The engine.<name> callables this entry defines (its aliases' too)."""
        return dict(self._functions)

    def methods(self) -> dict[str, Callable | property]:
        """The Tensor attributes this entry defines: methods (its aliases' too), the in-place
        form, operators."""
        return dict(self._methods)


def bind(tensor_class, namespace: dict) -> list[str]:
    """Attach every entry's methods, in-place forms and operators to ``tensor_class`` and its
    functions to ``namespace`` (the engine package's globals); the legacy constructor
    ``Tensor(...)`` too.  Returns the names of the functions."""
    names = []
    for op in OPS:
        for name, method in op.methods().items():
            setattr(tensor_class, name, method)
        functions = op.functions()
        namespace.update(functions)
        names += functions
    tensor_class.__new__ = C.legacy_constructor
    return sorted(names)


_NUMPY_NAMES = (("axis", "dim"), ("keepdims", "keepdim"))
_VARARGS = {"view": "size", "reshape": "shape", "expand": "size", "repeat": "repeats",
            "permute": "dims", "flip": "dims"}


def keyword_forms(fn, name):
    """``fn`` also taking the keywords torch's argument parser takes beyond the Python
    signature: numpy's ``axis=``/``keepdims=`` for ``dim``/``keepdim``, and the name of a
    varargs parameter (``x.view(size=...)``).  Ops without such parameters are returned as
    they are: hot ops keep no wrapper frame."""
    varargs = _VARARGS.get(name)
    if varargs is None:
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            return fn
        if "dim" not in params and "keepdim" not in params:
            return fn

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if kwargs:
            for numpy_name, torch_name in _NUMPY_NAMES:
                if numpy_name in kwargs:
                    kwargs[torch_name] = kwargs.pop(numpy_name)
            if varargs is not None and varargs in kwargs:
                args += (kwargs.pop(varargs),)
        return fn(*args, **kwargs)

    return call


# ----------------------------------------------------------------- call forms
# A call form names its op in torch's messages; it remembers how it was made (``remake``),
# so that an alias gets its own, naming the alias.
def renamed(fn, name):
    """``fn`` under another name: a call form is remade with ``name``, anything else is
    shared."""
    remake = getattr(fn, "remake", None)
    return fn if remake is None or fn.__name__ == name else remake(name)


def _form(build):
    @functools.wraps(build)
    def make(op, name):
        fn = build(op, name)
        fn.__name__ = name
        fn.remake = lambda alias: make(op, alias)
        return fn

    return make


@_form
def checked_unary(op, name):
    """``torch.X(input, ...)``: torch's TypeError unless ``input`` is a tensor."""

    @functools.wraps(op)
    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise argument_error(name, 1, "input", "Tensor", input)
        return op(input, *args, **kwargs)

    return function


def _binary_function(op, name, scalar_input: bool, method: bool = False):
    def function(input, other, *args, **kwargs):
        if not isinstance(input, Tensor):
            if method:
                raise descriptor_error(name, input)
            scalar = coerce(input) if scalar_input else NotImplemented
            if scalar is not NotImplemented and isinstance(other, Tensor):
                return op(scalar, other, *args, **kwargs)  # a scalar input is no edge
            if scalar is not NotImplemented and coerce(other) is not NotImplemented:
                # two numbers: torch's parser makes the first a 0-d tensor
                return op(C.tensor(input), other, *args, **kwargs)
            raise argument_error(name, 1, "input", "Tensor", input)
        result = op(input, other, *args, **kwargs)
        if result is NotImplemented:  # a method counts its arguments after self
            raise argument_error(name, 1 if method else 2, "other", "Tensor", other)
        return result

    return function


@_form
def checked_binary(op, name):
    """``torch.add(input, other)`` and ``x.add(other)``: a scalar ``input`` with a tensor
    ``other`` is taken, anything else not a tensor is torch's TypeError."""
    return functools.wraps(op)(_binary_function(op, name, scalar_input=True))


@_form
def tensor_self(op, name):
    """``Tensor.X`` of an op that takes a non-tensor first argument as a function: torch's
    descriptor TypeError for an unbound call with a non-tensor ``self``."""

    @functools.wraps(op)
    def method(self, *args, **kwargs):
        if not isinstance(self, Tensor):
            raise descriptor_error(name, self)
        return op(self, *args, **kwargs)

    return method


@_form
def binary_method(op, name):
    """``x.add(other)``: the function form's checks, and torch's descriptor TypeError for an
    unbound call with a non-tensor ``self``."""
    return functools.wraps(op)(_binary_function(op, name, scalar_input=False, method=True))


@_form
def function_binary(op, name):
    """``torch.maximum(input, other)`` and ``x.maximum(other)``: torch's TypeError for a
    non-tensor ``input`` and for an ``other`` the op does not take."""
    return _binary_function(op, name, scalar_input=False)


def tensor_other_method(op, name):
    """``x.logical_and(other)``: torch's TypeError when ``other`` is not a tensor (the
    method's position 1)."""

    @functools.wraps(op)
    def method(self, other):
        result = op(self, other)
        if result is NotImplemented:
            raise argument_error(name, 1, "other", "Tensor", other)
        return result

    return method


def _overloaded(param, rest=", *, Tensor out = None"):
    """A call form for a binary op whose Python signature has a Tensor and a Number
    overload: anything but a tensor ``input`` is torch's 'invalid combination' TypeError,
    with the overloads listed."""

    @_form
    def build(op, name):
        def refuse(values):
            got = ", ".join(type(v).__name__ for v in values)
            return TypeError(
                f"{name}() received an invalid combination of arguments - got ({got}), but "
                f"expected one of:\n * (Tensor input, Tensor {param}{rest})\n"
                f" * (Tensor input, Number {param}{rest})\n")

        @functools.wraps(op)
        def function(input, *args, **kwargs):
            if not isinstance(input, Tensor):
                raise refuse((input, *args))
            result = op(input, *args, **kwargs)
            if result is NotImplemented:
                raise refuse((input, *args))
            return result

        return function

    return build


compared = _overloaded("other")  # eq(input, other) & co


@_form
def number_self(op, name):
    """``torch.remainder`` and the bitwise ops: overloads (Tensor, Tensor), (Number self,
    Tensor other) and (Tensor, Number); torch's parser refuses anything else with the list,
    noting the arguments that fail the one overload without keywords."""

    def refuse(values):
        got = ", ".join(type(v).__name__ for v in values)
        marked = ", ".join(f"!{type(v).__name__}!" for v in values)
        return TypeError(
            f"{name}() received an invalid combination of arguments - got ({got}), but "
            "expected one of:\n * (Tensor input, Tensor other, *, Tensor out = None)\n"
            " * (Number self, Tensor other)\n      didn't match because some of the "
            f"arguments have invalid types: ({marked})\n"
            " * (Tensor input, Number other, *, Tensor out = None)\n")

    @functools.wraps(op)
    def function(input, other):
        if not isinstance(input, Tensor) and (
                not isinstance(other, Tensor) or coerce(input) is NotImplemented):
            raise refuse((input, other))
        result = op(input, other)
        if result is NotImplemented:
            raise refuse((input, other))
        return result

    return function


@_form
def extremum_function(op, name):
    """``torch.max(input, dim=..., keepdim=...)``: as the method, with torch's ``out``."""

    def function(input, dim=R.NO_DIM, keepdim=False, *, out=None):
        if not isinstance(input, Tensor):
            if dim is R.NO_DIM:
                raise argument_error(name, 1, "input", "Tensor", input)
            got = ", ".join(type(v).__name__ for v in (input, dim))
            raise TypeError(
                f"{name}() received an invalid combination of arguments - got ({got}), but "
                "expected one of:\n * (Tensor input, *, Tensor out = None)\n"
                " * (Tensor input, Tensor other, *, Tensor out = None)\n"
                " * (Tensor input, int dim, bool keepdim = False, *, tuple of Tensors out = "
                "None)\n")
        return op(input, dim, keepdim)

    return function


def pow_function(input, exponent):  # noqa: A001 - torch's name
    """``torch.pow`` (and ``x.pow``): a tensor base or exponent, or torch's TypeError."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(
            "pow() received an invalid combination of arguments - got "
            f"({type(input).__name__}, {type(exponent).__name__}), but expected one of:\n"
            " * (Tensor input, Tensor exponent, *, Tensor out = None)\n"
            " * (Number self, Tensor exponent, *, Tensor out = None)\n"
            " * (Tensor input, Number exponent, *, Tensor out = None)\n")
    result = E.pow(input, exponent)
    if result is NotImplemented:
        raise argument_error("pow", 2, "exponent", "Tensor", exponent)
    return result


_rsub = checked_binary(E.rsub, "rsub")


def rsub_function(input, other, *args, **kwargs):
    """torch.rsub: its scalar overload ``rsub(Tensor input, Number other, Number alpha)``
    takes alpha by position too; with a tensor ``other`` alpha is keyword-only."""
    if not isinstance(input, Tensor):  # no overload takes a Number input
        got = ", ".join(type(v).__name__ for v in (input, other, *args))
        raise TypeError(
            f"rsub() received an invalid combination of arguments - got ({got}), but expected "
            "one of:\n * (Tensor input, Tensor other, *, Number alpha = 1)\n"
            " * (Tensor input, Number other, Number alpha = 1)\n")
    if len(args) == 1 and not isinstance(other, Tensor) and "alpha" not in kwargs:
        kwargs["alpha"] = args[0]
        args = ()
    return _rsub(input, other, *args, **kwargs)


_true_div = checked_binary(E.div, "div")
_rounding_div = checked_binary(E.divide, "div")


def div_function(input, other, *, rounding_mode=None):
    """``torch.div``: a scalar ``input`` is taken, as torch's parser wraps it."""
    if rounding_mode is None:
        return _true_div(input, other)
    return _rounding_div(input, other, rounding_mode=rounding_mode)


# ----------------------------------------------------------------- Tensor-only adapters
def _positive(self):
    return self  # torch's `+x` returns x itself


def _softmax(self, dim=None, dtype=None):
    return N.softmax(self, dim, 4, dtype)


def _log_softmax(self, dim=None, dtype=None):
    return N.log_softmax(self, dim, 4, dtype)


def _reshape_as(self, other):
    return S.reshape(self, other._data.shape)


def _swap(self, dim0, dim1):
    return S.transpose(self, dim0, dim1)


def _iter(self):
    if self._data.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(S.unbind(self, 0))


def _cast(dtype_name):
    dtype = getattr(_dtype, dtype_name)

    def cast(self, memory_format=None):
        return E.to(self, dtype, memory_format=memory_format)

    cast.__name__ = dtype_name
    return cast


def _where(self, condition, other):
    """``x.where(condition, y)`` is ``torch.where(condition, x, y)``."""
    return E.where(condition, self, other)


def _to(self, *args, **kwargs):
    """``x.to(dtype)``, ``x.to(other)``, ``x.to('cpu')``: device moves are no-ops."""
    args = tuple(a.dtype if isinstance(a, Tensor) else a for a in args)
    return E.to(self, *args, **kwargs)


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """``x.type()`` names the legacy type; ``x.type(dtype or name)`` converts."""
    if dtype is None:
        return legacy_type_name(self.dtype)
    if isinstance(dtype, str):
        name = dtype.removeprefix("torch.")
        if name not in C.LEGACY_TYPES:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = C.LEGACY_TYPES[name].dtype
    return E.to(self, dtype)


def _type_as(self, other):
    return E.to(self, other.dtype)


def _cpu(self, memory_format=None):
    return self


def _element_size(self):
    return self._data.itemsize


# ----------------------------------------------------------------- entry builders
def unary(name, op, *, inplace=False, operators=None, aliases=()):
    """An op taking a tensor first: ``torch.X`` checks that argument, ``Tensor.X`` is the op
    itself; ``inplace``: ``Tensor.X_`` is the method's result written back."""
    return Op(name, checked_unary(op, name), op, inplace_method(name) if inplace else None,
              operators or {}, aliases)


def binary(name, op, *, inplace=False, operators=None, aliases=()):
    """A binary op whose function and method raise torch's TypeError for operands it
    rejects."""
    return Op(name, function_binary(op, name), binary_method(op, name),
              inplace_method(name) if inplace else None, operators or {}, aliases)


def arithmetic(name, op, *, inplace=False, operators=None, aliases=()):
    """add & co: one checked form (a scalar first operand is taken) for function and
    method; operators get the op itself."""
    return Op(name, checked_binary(op, name), binary_method(op, name),
              inplace_method(name) if inplace else None, operators or {}, aliases)


def structured_inplace(name):
    """``Tensor.X_`` of a structured kernel (addmm_, addmv_): the result must have the
    tensor's own size, checked after the op's own argument checks, in torch's words (not
    TensorIterator's broadcast message)."""

    def method(self, *args, **kwargs):
        operands = args + tuple(kwargs.values()) if kwargs else args
        check_inplace(self, *operands)
        check_overlap(self, *operands)
        result = getattr(Tensor, name)(self, *args, **kwargs)
        if result.shape != self.shape:
            raise RuntimeError(f"Bad in-place call: input tensor size {list(self.shape)} and "
                               f"output tensor size {list(result.shape)} should match")
        return commit(self, result)

    method.__name__ = name + "_"
    return method


def function(name, fn, aliases=()):
    """Only ``torch.X``, which is ``fn`` itself."""
    return Op(name, function=fn, aliases=aliases)


def method(name, fn):
    """Only ``Tensor.X``: ``fn`` itself (a function or a property)."""
    return Op(name, method=fn)


# ----------------------------------------------------------------- the table
OPS = (
    # arithmetic
    arithmetic("add", E.add, inplace=True, operators={
        "__add__": E.add, "__radd__": tensor_self(E.add, "__radd__"),
        "__iadd__": inplace_operator(E.add)}),
    arithmetic("sub", E.sub, inplace=True, operators={
        "__sub__": E.sub, "__rsub__": E.rsub, "__isub__": inplace_operator(E.sub)},
        aliases=("subtract",)),
    arithmetic("mul", E.mul, inplace=True, operators={
        "__mul__": E.mul, "__rmul__": tensor_self(E.mul, "__rmul__"),
        "__imul__": inplace_operator(E.mul)},
        aliases=("multiply",)),
    Op("div", div_function, binary_method(E.divide, "div"), tensor_self(E.div_, "div_"), {
        "__truediv__": E.div, "__rtruediv__": E.rdiv, "__itruediv__": inplace_operator(E.div)},
       aliases=("divide",)),
    arithmetic("true_divide", E.div, inplace=True),
    Op("pow", pow_function, tensor_self(pow_function, "pow"), inplace_method("pow"),
       {"__pow__": E.pow, "__rpow__": E.rpow, "__ipow__": inplace_operator(E.pow)}),
    function("rsub", rsub_function),
    arithmetic("floor_divide", E.floor_divide, inplace=True,
           operators={"__floordiv__": E.floor_divide, "__rfloordiv__": E.rfloordiv}),
    Op("remainder", number_self(E.remainder, "remainder"),
       binary_method(E.remainder, "remainder"), inplace_method("remainder"),
       {"__mod__": E.remainder, "__rmod__": E.rremainder,
        "__imod__": inplace_operator(E.remainder)}),
    unary("neg", E.neg, inplace=True, operators={"__neg__": E.neg}, aliases=("negative",)),
    Op("positive", checked_unary(P.positive, "positive"), P.positive,
       operators={"__pos__": _positive}),
    unary("abs", E.abs, inplace=True, operators={"__abs__": E.abs}, aliases=("absolute",)),
    unary("reciprocal", E.reciprocal, inplace=True),
    unary("square", E.square, inplace=True),
    # unary math
    unary("exp", E.exp, inplace=True),
    unary("expm1", E.expm1, inplace=True),
    unary("log", E.log, inplace=True),
    unary("log2", E.log2, inplace=True),
    unary("log1p", E.log1p, inplace=True),
    unary("sqrt", E.sqrt, inplace=True),
    unary("rsqrt", E.rsqrt, inplace=True),
    unary("sin", E.sin, inplace=True),
    unary("cos", E.cos, inplace=True),
    unary("tan", E.tan, inplace=True),
    unary("tanh", E.tanh, inplace=True),
    unary("sigmoid", E.sigmoid, inplace=True),
    unary("relu", E.relu, inplace=True),
    unary("sign", E.sign, inplace=True),
    unary("floor", E.floor, inplace=True),
    unary("ceil", E.ceil, inplace=True),
    unary("round", P.round, inplace=True),
    unary("trunc", E.trunc, inplace=True, aliases=("fix",)),
    unary("clamp", E.clamp, inplace=True, aliases=("clip",)),
    Op("clamp_min", _overloaded("min")(E.clamp_min, "clamp_min"),
       binary_method(E.clamp_min, "clamp_min"), inplace_method("clamp_min")),
    Op("clamp_max", _overloaded("max")(E.clamp_max, "clamp_max"),
       binary_method(E.clamp_max, "clamp_max"), inplace_method("clamp_max")),
    binary("maximum", E.maximum),
    binary("minimum", E.minimum),
    # comparisons, logical, bitwise
    Op("eq", compared(E.eq, "eq"), binary_method(E.eq, "eq"), inplace_method("eq"),
       {"__eq__": E.eq}),
    Op("ne", compared(E.ne, "ne"), binary_method(E.ne, "ne"), inplace_method("ne"),
       {"__ne__": E.ne}, ("not_equal",)),
    Op("lt", compared(E.lt, "lt"), binary_method(E.lt, "lt"), inplace_method("lt"),
       {"__lt__": E.lt}, ("less",)),
    Op("le", compared(E.le, "le"), binary_method(E.le, "le"), inplace_method("le"),
       {"__le__": E.le}, ("less_equal",)),
    Op("gt", compared(E.gt, "gt"), binary_method(E.gt, "gt"), inplace_method("gt"),
       {"__gt__": E.gt}, ("greater",)),
    Op("ge", compared(E.ge, "ge"), binary_method(E.ge, "ge"), inplace_method("ge"),
       {"__ge__": E.ge}, ("greater_equal",)),
    Op("logical_and", function_binary(E.logical_and, "logical_and"),
       tensor_other_method(E.logical_and, "logical_and"), inplace_method("logical_and")),
    Op("logical_or", function_binary(E.logical_or, "logical_or"),
       tensor_other_method(E.logical_or, "logical_or"), inplace_method("logical_or")),
    Op("logical_xor", function_binary(E.logical_xor, "logical_xor"),
       tensor_other_method(E.logical_xor, "logical_xor"), inplace_method("logical_xor")),
    unary("logical_not", E.logical_not, inplace=True),
    Op("bitwise_and", number_self(E.bitwise_and, "bitwise_and"),
       binary_method(E.bitwise_and, "bitwise_and"), inplace_method("bitwise_and"),
       {"__and__": E.bitwise_and, "__rand__": tensor_self(E.bitwise_and, "__rand__"),
        "__iand__": inplace_operator(E.bitwise_and)}),
    Op("bitwise_or", number_self(E.bitwise_or, "bitwise_or"),
       binary_method(E.bitwise_or, "bitwise_or"), inplace_method("bitwise_or"),
       {"__or__": E.bitwise_or, "__ror__": tensor_self(E.bitwise_or, "__ror__"),
        "__ior__": inplace_operator(E.bitwise_or)}),
    Op("bitwise_xor", number_self(E.bitwise_xor, "bitwise_xor"),
       binary_method(E.bitwise_xor, "bitwise_xor"), inplace_method("bitwise_xor"),
       {"__xor__": E.bitwise_xor, "__rxor__": tensor_self(E.bitwise_xor, "__rxor__"),
        "__ixor__": inplace_operator(E.bitwise_xor)}),
    unary("bitwise_not", E.bitwise_not, inplace=True, operators={"__invert__": E.bitwise_not}),
    unary("isnan", E.isnan),
    unary("isinf", E.isinf),
    unary("isfinite", E.isfinite),
    Op("where", E.where, tensor_self(_where, "where")),
    # fills and copies
    method("zero_", E.zero_),
    method("fill_", E.fill_),
    method("copy_", E.copy_),
    unary("clone", S.clone),
    # reductions
    unary("sum", R.sum),
    unary("mean", R.mean),
    unary("norm", FA.torch_norm),  # linalg.vector_norm or matrix_norm, as torch.norm
    unary("prod", R.prod),
    Op("max", extremum_function(R.max, "max"), R.max),
    Op("min", extremum_function(R.min, "min"), R.min),
    Op("amax", OUT.with_out(checked_unary(R.amax, "amax"), "amax", lambda a: a[:1],
                            OUT.input_dtype), R.amax),
    Op("amin", OUT.with_out(checked_unary(R.amin, "amin"), "amin", lambda a: a[:1],
                            OUT.input_dtype), R.amin),
    unary("argmax", R.argmax),
    unary("argmin", R.argmin),
    unary("var", R.var),
    unary("std", R.std),
    unary("logsumexp", R.logsumexp),
    unary("cumsum", R.cumsum, inplace=True),
    unary("all", R.all),
    unary("any", R.any),
    # shape: views
    method("view", S.view),
    method("view_as", S.view_as),
    unary("reshape", S.reshape),
    method("reshape_as", _reshape_as),
    unary("flatten", S.flatten),
    unary("unflatten", S.unflatten),
    Op("squeeze", checked_unary(S.squeeze, "squeeze"), S.squeeze, IV.squeeze_),
    Op("unsqueeze", checked_unary(S.unsqueeze, "unsqueeze"), S.unsqueeze, IV.unsqueeze_),
    Op("t", checked_unary(S.t, "t"), S.t, IV.t_),
    Op("transpose", checked_unary(S.transpose, "transpose"), S.transpose, IV.transpose_),
    Op("swapaxes", checked_unary(_swap, "swapaxes"), _swap, IV.transpose_,
       aliases=("swapdims",)),
    unary("permute", S.permute),
    method("T", property(S.T)),
    method("mT", property(S.mT)),
    method("expand", S.expand),
    method("expand_as", S.expand_as),
    unary("narrow", S.narrow),
    unary("select", S.select),
    method("contiguous", S.contiguous),
    method("is_contiguous", S.is_contiguous),
    # shape: copies
    method("repeat", S.repeat),
    unary("flip", RA.flip),
    function("cat", OUT.with_out(S.cat, "cat", OUT.listed, OUT.cat_dtype),
             aliases=("concat", "concatenate")),
    function("stack", S.stack),
    unary("split", S.split),
    unary("chunk", S.chunk),
    unary("unbind", S.unbind, operators={"__iter__": _iter}),  # iteration is unbind(0)
    # indexing
    Op("index", operators={"__getitem__": I.getitem}),
    Op("index_put_", operators={"__setitem__": I.setitem}),
    unary("index_select", I.index_select),
    Op("gather", OUT.with_out(checked_unary(I.gather, "gather"), "gather",
                              lambda a: a[:1] + a[2:3], OUT.same_dtype), I.gather),
    # linear algebra
    binary("matmul", L.matmul, operators={"__matmul__": L.matmul, "__rmatmul__": L.rmatmul}),
    unary("mm", L.mm),
    unary("mv", L.mv),
    unary("dot", L.dot),
    unary("bmm", L.bmm),
    unary("outer", L.outer, aliases=("ger",)),  # ger: torch's deprecated alias
    Op("addmm", checked_unary(L.addmm, "addmm"), L.addmm, structured_inplace("addmm")),
    function("einsum", L.einsum),
    # nn ops with a torch.X form
    unary("softmax", _softmax),
    unary("log_softmax", _log_softmax),
    # --- convolutions and pooling (ops/conv.py, ops/pooling.py)
    function("conv1d", CV.conv1d),
    function("conv2d", CV.conv2d),
    function("conv3d", CV.conv3d),
    function("conv_transpose1d", CV.conv_transpose1d),
    function("conv_transpose2d", CV.conv_transpose2d),
    function("conv_transpose3d", CV.conv_transpose3d),
    function("convolution", CV.convolution_function),
    function("max_pool1d", PL.torch_max_pool(1)),
    function("max_pool2d", PL.torch_max_pool(2)),
    function("max_pool3d", PL.torch_max_pool(3)),
    function("max_pool1d_with_indices", PL.torch_max_pool1d_with_indices),
    function("avg_pool1d", PL.avg_pool1d),
    function("adaptive_avg_pool1d", PL.adaptive_avg_pool1d),
    function("adaptive_max_pool1d", PL.torch_adaptive_max_pool1d),
    # --- normalization, embedding, attention, resampling (ops/normalization.py, embedding.py,
    # attention.py, resampling.py; F.X in nn/functional.py)
    function("batch_norm", NO.torch_batch_norm),
    function("layer_norm", NO.layer_norm),
    function("group_norm", NO.torch_group_norm),
    function("instance_norm", NO.torch_instance_norm),
    function("rms_norm", NO.rms_norm),
    function("native_layer_norm", NO.native_layer_norm),
    function("native_group_norm", NN.native_group_norm),
    function("native_batch_norm", NO.native_batch_norm),
    function("embedding", EM.torch_embedding),
    function("embedding_renorm_", EM.embedding_renorm_),
    function("pixel_shuffle", RS.pixel_shuffle),
    function("pixel_unshuffle", RS.pixel_unshuffle),
    function("channel_shuffle", RS.channel_shuffle),
    function("constant_pad_nd", CV.constant_pad_nd),
    # --- pointwise and special functions (ops/pointwise.py, ops/special.py)
    unary("acos", P.acos, inplace=True, aliases=("arccos",)),
    unary("asin", P.asin, inplace=True, aliases=("arcsin",)),
    unary("atan", P.atan, inplace=True, aliases=("arctan",)),
    Op("acosh", checked_unary(P.acosh, "acosh"), P.acosh, P.acosh_, aliases=("arccosh",)),
    Op("asinh", checked_unary(P.asinh, "asinh"), P.asinh, P.asinh_, aliases=("arcsinh",)),
    Op("atanh", checked_unary(P.atanh, "atanh"), P.atanh, P.atanh_, aliases=("arctanh",)),
    unary("cosh", E.cosh, inplace=True),
    unary("sinh", E.sinh, inplace=True),
    unary("atan2", P.atan2, inplace=True, aliases=("arctan2",)),
    unary("hypot", P.hypot, inplace=True),
    unary("logaddexp", P.logaddexp),
    unary("logaddexp2", P.logaddexp2),
    unary("exp2", P.exp2, inplace=True),
    unary("log10", P.log10, inplace=True),
    unary("frac", P.frac, inplace=True),
    unary("deg2rad", P.deg2rad, inplace=True),
    unary("rad2deg", P.rad2deg, inplace=True),
    unary("nan_to_num", P.nan_to_num, inplace=True),
    unary("sgn", P.sgn, inplace=True),
    Op("fmod", P.fmod, P.fmod, inplace_method("fmod")),
    Op("copysign", P.copysign, P.copysign, inplace_method("copysign")),
    unary("nextafter", P.nextafter, inplace=True),
    Op("ldexp", checked_unary(P.ldexp, "ldexp"), P.ldexp, P.ldexp_),
    unary("frexp", P.frexp),
    Op("float_power", P.float_power, tensor_self(P.float_power, "float_power"),
       tensor_self(P.float_power_, "float_power_")),
    unary("fmax", P.fmax),
    unary("fmin", P.fmin),
    unary("erf", SP.erf, inplace=True),
    unary("erfc", SP.erfc, inplace=True),
    unary("erfinv", SP.erfinv, inplace=True),
    unary("lgamma", SP.lgamma, inplace=True),
    unary("digamma", SP.digamma, inplace=True),
    Op("polygamma", SP.polygamma, SP.polygamma_method, SP.polygamma_),
    Op("mvlgamma", checked_unary(SP.mvlgamma, "mvlgamma"), SP.mvlgamma, SP.mvlgamma_),
    unary("i0", SP.i0, inplace=True),
    unary("sinc", SP.sinc, inplace=True),
    unary("logit", SP.logit, inplace=True),
    Op("xlogy", SP.xlogy, tensor_self(SP.xlogy, "xlogy"), inplace_method("xlogy")),
    # --- joins, splits, rearrangements, calculus (ops/joins.py, rearrange.py, numeric.py)
    function("hstack", J.hstack),
    function("vstack", J.vstack, aliases=("row_stack",)),
    function("dstack", J.dstack),
    function("column_stack", J.column_stack),
    function("atleast_1d", J.atleast_1d),
    function("atleast_2d", J.atleast_2d),
    function("atleast_3d", J.atleast_3d),
    function("block_diag", J.block_diag),
    function("cartesian_prod", J.cartesian_prod),
    function("combinations", checked_unary(J.combinations, "combinations")),
    function("meshgrid", J.meshgrid),
    function("broadcast_tensors", J.broadcast_tensors),
    unary("broadcast_to", J.broadcast_to),
    unary("tensor_split", J.tensor_split),
    unary("hsplit", J.hsplit),
    unary("vsplit", J.vsplit),
    unary("dsplit", J.dsplit),
    unary("split_with_sizes", J.split_with_sizes),
    unary("unsafe_split", J.unsafe_split),
    unary("unsafe_split_with_sizes", J.unsafe_split_with_sizes),
    unary("unsafe_chunk", J.unsafe_chunk),
    unary("roll", RA.roll),
    unary("rot90", RA.rot90),
    unary("fliplr", RA.fliplr),
    unary("flipud", RA.flipud),
    Op("tril", checked_unary(RA.tril, "tril"), RA.tril, RA.tril_),
    Op("triu", checked_unary(RA.triu, "triu"), RA.triu, RA.triu_),
    unary("diag", RA.diag),
    unary("diag_embed", RA.diag_embed),
    unary("diagflat", RA.diagflat),
    unary("diagonal", S.diagonal),
    unary("diagonal_scatter", RA.diagonal_scatter),
    unary("select_scatter", RA.select_scatter),
    unary("slice_scatter", RA.slice_scatter),
    Op("as_strided", checked_unary(RA.as_strided, "as_strided"), RA.as_strided,
       RA.as_strided_),
    unary("as_strided_scatter", RA.as_strided_scatter),
    unary("movedim", RA.movedim, aliases=("moveaxis",)),
    method("unfold", RA.unfold),
    unary("repeat_interleave", RA.repeat_interleave),
    unary("tile", RA.tile),
    unary("ravel", RA.ravel),
    method("sum_to_size", RA.sum_to_size),
    unary("narrow_copy", RA.narrow_copy),
    function("view_copy", checked_unary(RA.view_copy, "view_copy")),
    function("permute_copy", checked_unary(RA.permute_copy, "permute_copy")),
    function("t_copy", checked_unary(RA.t_copy, "t_copy")),
    function("transpose_copy", checked_unary(RA.transpose_copy, "transpose_copy")),
    function("squeeze_copy", checked_unary(RA.squeeze_copy, "squeeze_copy")),
    function("unsqueeze_copy", checked_unary(RA.unsqueeze_copy, "unsqueeze_copy")),
    function("expand_copy", checked_unary(RA.expand_copy, "expand_copy")),
    function("diagonal_copy", checked_unary(RA.diagonal_copy, "diagonal_copy")),
    function("select_copy", checked_unary(RA.select_copy, "select_copy")),
    function("slice_copy", checked_unary(RA.slice_copy, "slice_copy")),
    function("unbind_copy", checked_unary(RA.unbind_copy, "unbind_copy")),
    function("split_copy", checked_unary(RA.split_copy, "split_copy")),
    function("split_with_sizes_copy",
             checked_unary(RA.split_with_sizes_copy, "split_with_sizes_copy")),
    function("alias_copy", checked_unary(RA.alias_copy, "alias_copy")),
    function("as_strided_copy", checked_unary(RA.as_strided_copy, "as_strided_copy")),
    function("unfold_copy", checked_unary(RA.unfold_copy, "unfold_copy")),
    function("detach_copy", checked_unary(RA.detach_copy, "detach_copy")),
    unary("diff", NU.diff),
    function("gradient", checked_unary(NU.gradient, "gradient")),
    function("trapezoid", checked_unary(NU.trapezoid, "trapezoid")),
    function("trapz", checked_unary(NU.trapz, "trapz")),
    function("cumulative_trapezoid", checked_unary(NU.cumulative_trapezoid,
                                                   "cumulative_trapezoid")),
    unary("renorm", NU.renorm, inplace=True),
    unary("nansum", NU.nansum),
    unary("nanmean", NU.nanmean),
    function("std_mean", checked_unary(NU.std_mean, "std_mean")),
    function("var_mean", checked_unary(NU.var_mean, "var_mean")),
    # conversions
    method("to", _to),
    method("type", _type),
    method("type_as", _type_as),
    method("cpu", _cpu),
    method("element_size", _element_size),
    method("float", _cast("float32")),
    method("double", _cast("float64")),
    method("half", _cast("float16")),
    method("long", _cast("int64")),
    method("int", _cast("int32")),
    method("bool", _cast("bool_")),
    # autograd
    method("grad_fn", property(grad_fn)),
    method("backward", _engine.backward),
    method("register_hook", _hooks.register_hook),
    method("retain_grad", _hooks.retain_grad),
    # factories
    function("tensor", C.tensor),
    function("as_tensor", C.as_tensor),
    function("from_numpy", C.from_numpy),
    function("ones", C.ones),
    function("zeros", C.zeros),
    function("empty", C.empty),
    function("full", C.full),
    function("ones_like", C.ones_like),
    function("zeros_like", C.zeros_like),
    function("full_like", C.full_like),
    function("empty_like", C.empty_like),
    function("arange", C.arange),
    function("linspace", C.linspace),
    function("eye", C.eye),
    # --- activations with a torch.X form (ops/activations.py; F.X in nn/functional.py)
    function("relu_", A.relu_),
    function("selu", A.selu),
    function("selu_", A.selu_),
    function("celu", A.celu),
    function("celu_", A.celu_),
    function("rrelu", A.torch_rrelu),
    function("rrelu_", A.rrelu_),
    function("threshold", A.threshold),
    function("threshold_", A.threshold_),
    unary("prelu", A.prelu),
    unary("hardshrink", A.hardshrink),
    # --- losses and distances with a torch.X form (ops/losses.py; F.X in nn/functional.py)
    function("kl_div", LO.torch_kl_div),
    function("poisson_nll_loss", LO.torch_poisson_nll_loss),
    function("margin_ranking_loss", LO.torch_margin_ranking_loss),
    function("hinge_embedding_loss", LO.torch_hinge_embedding_loss),
    function("cosine_embedding_loss", LO.torch_cosine_embedding_loss),
    function("triplet_margin_loss", LO.torch_triplet_margin_loss),
    function("ctc_loss", LO.torch_ctc_loss),
    function("cosine_similarity", LO.cosine_similarity),
    function("pairwise_distance", LO.pairwise_distance),
    function("pdist", LO.pdist),
    # --- fused pointwise (ops/fused.py)
    unary("addcmul", FU.addcmul, inplace=True),
    unary("addcdiv", FU.addcdiv, inplace=True),
    unary("lerp", FU.lerp, inplace=True),
    # --- random (ops/random.py; the generator functions are engine.random's)
    function("rand", RND.rand),
    function("randn", RND.randn),
    function("randint", RND.randint),
    function("randperm", RND.randperm),
    function("rand_like", RND.rand_like),
    function("randn_like", RND.randn_like),
    function("randint_like", RND.randint_like),
    function("normal", RND.normal),
    Op("bernoulli", RND.bernoulli, RND.bernoulli, RND.bernoulli_),
    Op("multinomial", RND.multinomial, RND.multinomial),
    function("poisson", RND.poisson),
    method("uniform_", RND.uniform_),
    method("normal_", RND.normal_),
    method("random_", RND.random_),
    method("exponential_", RND.exponential_),
    method("geometric_", RND.geometric_),
    method("log_normal_", RND.log_normal_),
    method("cauchy_", RND.cauchy_),
    function("manual_seed", _random.manual_seed),
    function("seed", _random.seed),
    function("initial_seed", _random.initial_seed),
    function("get_rng_state", _random.get_rng_state),
    function("set_rng_state", _random.set_rng_state),
    # --- sorting and selection (ops/sorting.py)
    unary("sort", SO.sort),
    unary("argsort", SO.argsort),
    unary("msort", SO.msort),
    unary("topk", SO.topk),
    unary("kthvalue", SO.kthvalue),
    unary("median", SO.median),
    unary("nanmedian", SO.nanmedian),
    unary("mode", SO.mode),
    unary("cummax", SO.cummax),
    unary("cummin", SO.cummin),
    unary("cumprod", SO.cumprod, inplace=True),
    unary("logcumsumexp", SO.logcumsumexp),
    unary("aminmax", SO.aminmax),
    # --- masked and scattered writes (ops/scatter.py)
    Op("masked_fill", checked_unary(SC.masked_fill, "masked_fill"), SC.masked_fill,
       SC.masked_fill_),
    Op("masked_select", OUT.with_out(checked_unary(SC.masked_select, "masked_select"),
                                     "masked_select", lambda a: a[:2],
                                     OUT.masked_select_dtype), SC.masked_select),
    Op("masked_scatter", checked_unary(SC.masked_scatter, "masked_scatter"), SC.masked_scatter,
       SC.masked_scatter_),
    unary("scatter", SC.scatter, inplace=True),
    unary("scatter_add", SC.scatter_add, inplace=True),
    unary("index_add", SC.index_add, inplace=True),
    unary("index_copy", SC.index_copy, inplace=True),
    unary("index_fill", SC.index_fill, inplace=True),
    Op("take", OUT.with_out(checked_unary(SC.take, "take"), "take", lambda a: a[:2],
                            OUT.take_dtype), SC.take),
    unary("take_along_dim", SC.take_along_dim),
    Op("put", checked_unary(SC.put, "put"), SC.put, inplace_method("put")),
    # --- linear algebra beyond products (ops/decompositions.py; linalg.X in linalg.py)
    unary("trace", DC.trace),
    unary("inverse", DC.inv),
    unary("det", DC.det),
    unary("vdot", DC.vdot),
    Op("addmv", checked_unary(DC.addmv, "addmv"), DC.addmv, structured_inplace("addmv")),
    Op("addr", checked_unary(DC.addr, "addr"), DC.addr, DC.addr_),
    # --- products and distances (ops/products.py; linalg.X in linalg.py)
    unary("kron", PR.kron),
    unary("inner", PR.inner),
    function("tensordot", PR.tensordot),
    Op("addbmm", checked_unary(PR.addbmm, "addbmm"), PR.addbmm, PR.addbmm_),
    Op("baddbmm", checked_unary(PR.baddbmm, "baddbmm"), PR.baddbmm, PR.baddbmm_),
    unary("cross", PR.cross),
    unary("matrix_power", PR.matrix_power),
    unary("cov", PR.cov),
    unary("corrcoef", PR.corrcoef),
    unary("dist", PR.dist),
    function("cdist", PR.cdist),
    # --- factorizations and solvers (ops/factorizations.py; linalg.X in linalg.py)
    unary("cholesky", FA.cholesky),
    unary("cholesky_solve", FA.cholesky_solve),
    unary("cholesky_inverse", FA.cholesky_inverse),
    unary("triangular_solve", FA.triangular_solve),
    unary("slogdet", FA.torch_slogdet),
    unary("logdet", FA.logdet),
    unary("svd", FA.torch_svd),
    unary("qr", FA.torch_qr),
    unary("matrix_exp", FA.matrix_exp),
    unary("pinverse", FA.pinverse),
    unary("lu", FA.torch_lu),
    function("lu_unpack", FA.lu_unpack),
    unary("lu_solve", FA.torch_lu_solve),
    # --- Householder products and low-rank SVD (ops/linalg_householder.py, linalg_lowrank.py)
    unary("orgqr", LH.orgqr),
    unary("ormqr", LH.ormqr),
    function("svd_lowrank", LR.svd_lowrank),
    function("pca_lowrank", LR.pca_lowrank),
    method("mH", property(S.mT)),  # the adjoint of a real matrix is its transpose
    method("output_nr", property(_node.output_nr)),  # its number among its grad_fn's outputs
    unary("quantile", QU.quantile),
    unary("nanquantile", QU.nanquantile),
    # --- reducing scatters (ops/reduce_scatter.py)
    Op("scatter_reduce", checked_unary(RSC.scatter_reduce, "scatter_reduce"),
       RSC.scatter_reduce, RSC.scatter_reduce_),
    Op("index_reduce", checked_unary(RSC.index_reduce, "index_reduce"), RSC.index_reduce,
       RSC.index_reduce_),
    Op("index_put", checked_unary(RSC.index_put, "index_put"), RSC.index_put,
       RSC.index_put_),
    unary("adjoint", S.mT),
)
