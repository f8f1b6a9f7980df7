"""Random ops: the sampling factories (``rand``, ``randn``, ``randint``, ``randperm``,
``normal``, ``bernoulli``, ``multinomial``, ``poisson``, the ``*_like`` forms) and the
in-place samplers (``uniform_``, ``normal_``, ``random_``, ``bernoulli_``, ``exponential_``,
``geometric_``, ``log_normal_``, ``cauchy_``), drawing PyTorch's bits.

Every op draws from its ``generator=`` argument or ``engine.random.default_generator`` with
the matching sampler of ``engine._sampling`` (which consumes the generator as ATen's CPU
kernel does).  An in-place sampler fills its tensor in memory order, as TensorIterator
walks it.  The nodes are torch's: a sample has zero grad in every input (NormalBackward0,
UniformBackward0 ...), ``bernoulli(x, p)`` records torch's NotImplemented node.
"""

from __future__ import annotations

import operator

import numpy as np

from .. import _sampling as S
from .._dtype import FROM_NUMPY, get_default_dtype, int64
from .._tensor import Tensor, make
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.inplace import check_inplace, check_overlap, commit
from ..autograd.node import attach, backward_node
from ..random import Generator, default_generator
from .creation import _RANDOM_SIGNATURES, _finish, _size
from .elementwise import NotImplemented_
from .formulas import zeros_like
from .operands import argument_error, broadcast_error, needs_grad, preserved_empty


def _gen(generator) -> Generator:
    return default_generator if generator is None else generator


def _zero(n, g):
    return zeros_like(g)


# ================================================================= layouts
def _order(like: np.ndarray):
    """The dims of ``like`` from outermost to innermost in memory (None: C order)."""
    if like.ndim < 2 or like.flags.c_contiguous:
        return None
    return sorted(range(like.ndim), key=lambda d: -abs(like.strides[d]))


def _memory_order(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``values`` (in the order a kernel produced them) as an array shaped as ``like``,
    placed in ``like``'s memory order: how TensorIterator fills a strided output."""
    order = _order(like)
    if order is None:
        return values.reshape(like.shape)
    out = np.empty(like.shape, values.dtype)
    out.transpose(order)[...] = values.reshape([like.shape[d] for d in order])
    return out


def _read_order(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``values`` (shaped as ``like``) in the order a kernel over ``like`` reads them."""
    order = _order(like)
    return np.asarray(values if order is None else values.transpose(order), order="C")


def _placed(values: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``values`` written into ``out`` in its memory order."""
    out[...] = _memory_order(values, out)
    return out


# ================================================================= factories
def _float_dtype(dtype):
    return dtype or get_default_dtype()


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False, **kwargs):
    shape = _size("rand", size, kwargs.get("size"))
    _check_generator("rand", size, generator)
    values = S.uniform(_gen(generator), shape, _float_dtype(dtype).np)
    return _finish(values, requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, **kwargs):
    shape = _size("randn", size, kwargs.get("size"))
    _check_generator("randn", size, generator)
    values = S.normal(_gen(generator), shape, _float_dtype(dtype).np)
    return _finish(values, requires_grad)


def _check_generator(name, args, generator):
    if generator is not None and not isinstance(generator, Generator):
        got = ", ".join(type(a).__name__ for a in args)
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got ({got}, generator="
            f"{type(generator).__name__}), but expected one of:\n"
            + _RANDOM_SIGNATURES.split("\n", 1)[1])


_RANDINT_SIGNATURES = (
    "randint() received an invalid combination of arguments - got ({got}), but expected one "
    "of:\n"
    " * (int high, tuple of ints size, *, torch.Generator generator, Tensor out = None, "
    "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool "
    "pin_memory = False, bool requires_grad = False)\n"
    " * (int high, tuple of ints size, *, Tensor out = None, torch.dtype dtype = None, "
    "torch.layout layout = None, torch.device device = None, bool pin_memory = False, bool "
    "requires_grad = False)\n"
    " * (int low, int high, tuple of ints size, *, torch.Generator generator, Tensor out = "
    "None, torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, "
    "bool pin_memory = False, bool requires_grad = False)\n"
    " * (int low, int high, tuple of ints size, *, Tensor out = None, torch.dtype dtype = "
    "None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
    "bool requires_grad = False)\n")


def randint(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False, low=None, high=None):
    """``randint(high, size)`` or ``randint(low, high, size)``; ``size`` and the bounds may be
    keywords."""
    args = list(args)
    if size is None and args:
        size = args.pop()
    if high is None and args:
        high = args.pop()
    if low is None:
        low = args.pop() if args else 0
    if args or size is None or high is None:
        got = ", ".join(type(a).__name__ for a in (low, high, size) if a is not None)
        raise TypeError(_RANDINT_SIGNATURES.format(got=got))
    if not isinstance(size, (tuple, list)):
        position = 2 if low == 0 and len(args) == 0 else 3
        raise TypeError(f"randint(): argument 'size' (position {position}) must be tuple of "
                        f"ints, not {type(size).__name__}")
    try:
        low, high = operator.index(low), operator.index(high)
    except TypeError:
        got = ", ".join(type(a).__name__ for a in (low, high, size))
        raise TypeError(_RANDINT_SIGNATURES.format(got=got)) from None
    shape = _size("randint", (tuple(size),), None)
    values = S.random_from_to(_gen(generator), shape, (dtype or int64).np, low, high)
    return _finish(values, requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    n = operator.index(n)
    np_dtype = (dtype or int64).np
    if np_dtype.kind in "iu" and n > 0 and n - 1 > np.iinfo(np_dtype).max:
        raise RuntimeError(f"value cannot be converted to type {_c_type(np_dtype)} without "
                           "overflow")
    return _finish(S.randperm(_gen(generator), n, np_dtype), requires_grad)


def _c_type(np_dtype) -> str:
    return {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t",
            "int32": "int32_t"}.get(np_dtype.name, np_dtype.name)


def _like(name, input, dtype):
    if not isinstance(input, Tensor):
        raise argument_error(name, 1, "input", "Tensor", input)
    return input._data.dtype if dtype is None else dtype.np


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None):
    np_dtype = _like("rand_like", input, dtype)
    values = S.uniform(_gen(generator), input._data.shape, np_dtype)
    return _finish(_placed(values, preserved_empty(input._data, np_dtype)), requires_grad)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None):
    np_dtype = _like("randn_like", input, dtype)
    out = preserved_empty(input._data, np_dtype)
    values = S.normal(_gen(generator), out.shape, np_dtype,
                      contiguous=out.flags.c_contiguous)
    return _finish(_placed(values, out), requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None):
    np_dtype = _like("randint_like", input, dtype)
    if high is None:
        low, high = 0, low
    out = preserved_empty(input._data, np_dtype)
    values = S.random_from_to(_gen(generator), out.shape, np_dtype, operator.index(low),
                              operator.index(high))
    return _finish(_placed(values, out), requires_grad)


# ================================================================= normal
NormalBackward1 = backward_node("NormalBackward1", mean=_zero)  # normal(Tensor, float)
NormalBackward2 = backward_node("NormalBackward2", std=_zero)  # normal(float, Tensor)
NormalBackward3 = backward_node("NormalBackward3", mean=_zero, std=_zero)

_NORMAL_SIGNATURES = (
    "normal() received an invalid combination of arguments - got ({got}), but expected one "
    "of:\n"
    " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, "
    "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, torch.device "
    "device = None, bool pin_memory = False, bool requires_grad = False)\n")


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
           layout=None, device=None, pin_memory=False, requires_grad=False):
    """``torch.normal``: tensor mean and/or std (zero grads in both), or floats and a size."""
    gen = _gen(generator)
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mean_t and not std_t:
        if size is None:
            got = ", ".join(type(a).__name__ for a in (mean, std))
            raise TypeError(_NORMAL_SIGNATURES.format(got=got))
        shape = _size("normal", (size,), None)
        values = S.normal(gen, shape, _float_dtype(dtype).np, float(mean), float(std))
        return _finish(values, requires_grad)
    first = mean if mean_t else std
    np_dtype = first._data.dtype
    if np_dtype.kind != "f":
        raise NotImplementedError(
            f"\"normal_kernel_cpu\" not implemented for '{FROM_NUMPY[np_dtype].scalar_name}'")
    mean_v = mean._data if mean_t else float(mean)
    std_v = std._data if std_t else float(std)
    if mean_t and std_t:
        try:
            np.broadcast_shapes(mean_v.shape, std_v.shape)
        except ValueError:
            raise broadcast_error(mean, std) from None
    if not std_t and std_v < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {S._fmt(std_v)}")
    values = S.normal_tensor(gen, mean_v, std_v, np_dtype)
    inputs = tuple(t for t in (mean, std) if isinstance(t, Tensor))
    if needs_grad(*inputs):
        node = NormalBackward3() if mean_t and std_t else (
            NormalBackward1() if mean_t else NormalBackward2())
        return attach(node, values, inputs)
    return make(values)


# ================================================================= bernoulli, multinomial, poisson
BernoulliBackward0 = backward_node("BernoulliBackward0", self=_zero)  # bernoulli(p tensor)


def bernoulli(input, p=None, *, generator=None, out=None):
    """``torch.bernoulli(probs)``, or ``bernoulli(input, p)`` (a float p in input's shape:
    torch has no derivative for it)."""
    if not isinstance(input, Tensor):
        raise argument_error("bernoulli", 1, "input", "Tensor", input)
    gen = _gen(generator)
    data = input._data
    if p is not None:
        values = S.bernoulli_scalar(gen, data.shape, data.dtype, float(p))
        if needs_grad(input):
            return attach(NotImplemented_("bernoulli"), values, (input,))
        return make(values)
    if data.dtype.kind != "f":
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for "
                                  f"'{FROM_NUMPY[data.dtype].scalar_name}'")
    _check_probabilities(data)
    values = S.bernoulli_tensor(gen, np.asarray(data, order="C"))  # a contiguous output
    if needs_grad(input):
        return attach(BernoulliBackward0(), values, (input,))
    return make(values)


def _check_probabilities(p: np.ndarray):
    if not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  "
                           "(Could this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    if not isinstance(input, Tensor):
        raise argument_error("multinomial", 1, "input", "Tensor", input)
    probs = input._data
    if probs.dtype.kind != "f":
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{FROM_NUMPY[probs.dtype].scalar_name}")
    if probs.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    num_samples = operator.index(num_samples)
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = probs.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if categories > 2**24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    rows = probs.reshape(-1, categories)
    if not replacement or num_samples == 1:
        if not (rows.max(initial=-np.inf) < np.inf and rows.min(initial=np.inf) >= 0):
            raise RuntimeError(
                "probability tensor contains either `inf`, `nan` or element < 0")
        if (rows.sum(-1) == 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    else:  # the with-replacement kernel checks each row as it accumulates it
        for row in rows:
            bad = (row < 0) | ~np.isfinite(row)
            if bad.any():
                first = row[bad][0]
                raise RuntimeError(
                    "invalid multinomial distribution (encountering probability entry < 0)"
                    if first < 0 else "invalid multinomial distribution (encountering "
                    "probability entry = infinity or NaN)")
            if not row.sum() > 0:
                raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    return make(S.multinomial(_gen(generator), np.asarray(probs, order="C"), num_samples,
                              replacement))


PoissonBackward0 = backward_node("PoissonBackward0", self=_zero)


def poisson(input, generator=None):
    if not isinstance(input, Tensor):
        raise argument_error("poisson", 1, "input", "Tensor", input)
    rates = input._data
    if rates.dtype.kind != "f":
        raise NotImplementedError(
            f"\"poisson_cpu\" not implemented for '{FROM_NUMPY[rates.dtype].scalar_name}'")
    values = S.poisson(_gen(generator), np.asarray(rates, order="C"))
    if needs_grad(input):
        return attach(PoissonBackward0(), values, (input,))
    return make(values)


# ================================================================= in-place samplers
UniformBackward0 = backward_node("UniformBackward0", self=_zero)
NormalBackward0 = backward_node("NormalBackward0", self=_zero)
RandomBackward0 = backward_node("RandomBackward0", self=_zero)  # random_(from, to)
RandomBackward1 = backward_node("RandomBackward1", self=_zero)  # random_(to)
RandomBackward2 = backward_node("RandomBackward2", self=_zero)  # random_()
BernoulliBackward1 = backward_node("BernoulliBackward1", self=_zero, p=_zero)  # p a tensor
BernoulliBackward2 = backward_node("BernoulliBackward2", self=_zero)  # p a float
ExponentialBackward0 = backward_node("ExponentialBackward0", self=_zero)
GeometricBackward0 = backward_node("GeometricBackward0", self=_zero)
LogNormalBackward0 = backward_node("LogNormalBackward0", self=_zero)
CauchyBackward0 = backward_node("CauchyBackward0", self=_zero)


def _sampled(self, node_cls, values, *others):
    """Write ``values`` (drawn in ``self``'s memory order) into ``self``, with ``node_cls``
    as its new grad_fn when it requires grad."""
    out = _memory_order(values, self._data)
    inputs = (self, *others)
    if _grad_mode.enabled and needs_grad(*inputs):
        return commit(self, attach(node_cls(), out, inputs))
    return commit(self, make(out))


def _contiguous_shape(self):
    return (self._data.size,)


def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kwargs):
    from_ = kwargs.pop("from", from_)
    check_inplace(self)
    check_overlap(self)
    values = S.uniform(_gen(generator), _contiguous_shape(self), self._data.dtype,
                       float(from_), float(to))
    return _sampled(self, UniformBackward0, values)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    check_inplace(self)
    check_overlap(self)
    values = S.normal(_gen(generator), _contiguous_shape(self), self._data.dtype, float(mean),
                      float(std), contiguous=self._data.flags.c_contiguous)
    return _sampled(self, NormalBackward0, values)


def random_(self, *args, generator=None, **kwargs):
    """``random_()``, ``random_(to)``, ``random_(from, to)`` (``to`` None: up to the dtype's
    largest value); ``from``/``to`` may be keywords."""
    bounds = {"from": args[0], "to": args[1]} if len(args) == 2 else (
        {"to": args[0]} if args else {})
    bounds.update(kwargs)
    check_inplace(self)
    check_overlap(self)
    if not bounds:
        node_cls, low, high = RandomBackward2, None, None
    elif "from" in bounds:
        node_cls, low, high = RandomBackward0, operator.index(bounds["from"]), bounds.get("to")
    else:
        node_cls, low, high = RandomBackward1, 0, bounds["to"]
    values = S.random_(_gen(generator), _contiguous_shape(self), self._data.dtype, low,
                       None if high is None else operator.index(high))
    return _sampled(self, node_cls, values)


def bernoulli_(self, p=0.5, *, generator=None):
    check_inplace(self, p)
    check_overlap(self)
    gen = _gen(generator)
    if isinstance(p, Tensor):
        probs = p._data
        _check_probabilities(probs)
        try:
            probs = np.broadcast_to(probs, self._data.shape)
        except ValueError:
            raise broadcast_error(self, p) from None
        values = S.bernoulli_tensor(gen, _read_order(probs, self._data),
                                    self._data.dtype).ravel()
        return _sampled(self, BernoulliBackward1, values, p)
    values = S.bernoulli_scalar(gen, _contiguous_shape(self), self._data.dtype, float(p))
    return _sampled(self, BernoulliBackward2, values)


def exponential_(self, lambd=1.0, *, generator=None):
    check_inplace(self)
    check_overlap(self)
    values = S.exponential(_gen(generator), _contiguous_shape(self), self._data.dtype,
                           float(lambd))
    return _sampled(self, ExponentialBackward0, values)


def geometric_(self, p, *, generator=None):
    check_inplace(self)
    check_overlap(self)
    values = S.geometric(_gen(generator), _contiguous_shape(self), self._data.dtype, float(p))
    return _sampled(self, GeometricBackward0, values)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    check_inplace(self)
    check_overlap(self)
    values = S.log_normal(_gen(generator), _contiguous_shape(self), self._data.dtype,
                          float(mean), float(std))
    return _sampled(self, LogNormalBackward0, values)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    check_inplace(self)
    check_overlap(self)
    values = S.cauchy(_gen(generator), _contiguous_shape(self), self._data.dtype,
                      float(median), float(sigma))
    return _sampled(self, CauchyBackward0, values)
