"""Dtypes, type promotion and creation dtypes, against torch."""

from __future__ import annotations

import itertools
import operator
import warnings

import numpy as np
import pytest
import torch

import engine

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _value(lib, kind, dtype_name):
    """An operand of one promotion group: dimensioned tensor, 0-d tensor, Python scalar."""
    if kind == "dim":
        return lib.ones(2, dtype=getattr(lib, dtype_name))
    if kind == "0d":
        return lib.ones((), dtype=getattr(lib, dtype_name))
    return {"bool": True, "int64": 3, "float32": 2.5}[dtype_name]


OPERANDS = [("dim", d) for d in DTYPES] + [("0d", d) for d in DTYPES] + [
    ("scalar", "bool"), ("scalar", "int64"), ("scalar", "float32")]


def _pairs():
    for a, b in itertools.product(OPERANDS, repeat=2):
        if a[0] == "scalar" and b[0] == "scalar":
            continue
        yield a, b


@pytest.mark.parametrize("a, b", list(_pairs()), ids=str)
def test_promotion_table_matches_torch(a, b):
    want = torch.result_type(_value(torch, *a), _value(torch, *b))
    got = engine.result_type(_value(engine, *a), _value(engine, *b))
    assert str(got) == str(want)
    # and an op computes in that dtype (mul works for every pair, bool included)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = _value(torch, *a) * _value(torch, *b)
        e_out = _value(engine, *a) * _value(engine, *b)
    assert str(e_out.dtype) == str(t_out.dtype)
    assert e_out.numpy().dtype == t_out.numpy().dtype


@pytest.mark.parametrize("a, b", list(itertools.product(DTYPES, repeat=2)))
def test_promote_types_matches_torch(a, b):
    want = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert str(engine.promote_types(getattr(engine, a), getattr(engine, b))) == str(want)


OPS = {"/": operator.truediv, "**": operator.pow, "<": operator.lt, "-": operator.sub}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("a, b", [(("dim", "int64"), ("scalar", "float32")),
                                  (("dim", "int32"), ("0d", "int64")),
                                  (("dim", "uint8"), ("scalar", "int64")),
                                  (("dim", "bool"), ("scalar", "int64")),
                                  (("dim", "float16"), ("dim", "int64")),
                                  (("0d", "float64"), ("dim", "float32")),
                                  (("dim", "int64"), ("dim", "int64"))], ids=str)
def test_op_result_dtypes(op, a, b):
    def run(lib):
        try:
            return str(OPS[op](_value(lib, *a), _value(lib, *b)).dtype)
        except RuntimeError as e:
            return str(e)

    assert run(engine) == run(torch)


def test_int_plus_float_scalar_is_float32_not_float64():
    assert (engine.tensor([1, 2]) + 2.5).numpy().dtype == np.float32
    assert (engine.ones(3) * np.float64(2)).numpy().dtype == np.float32


def test_dtype_objects():
    for name in DTYPES + ["float", "double", "long", "half", "int", "short"]:
        e, t = getattr(engine, name), getattr(torch, name)
        assert str(e) == repr(e) == str(t)
        assert (e.is_floating_point, e.is_signed, e.itemsize, e.is_complex) == (
            t.is_floating_point, t.is_signed, t.itemsize, t.is_complex)
    assert engine.float is engine.float32 and engine.double is engine.float64
    assert engine.long is engine.int64
    assert repr(type(engine.float32)) == repr(type(torch.float32)) == "<class 'torch.dtype'>"
    assert str(engine.get_default_dtype()) == str(torch.get_default_dtype())


CREATION = {
    "tensor(1.5)": lambda t: t.tensor(1.5),
    "tensor(2)": lambda t: t.tensor(2),
    "tensor(True)": lambda t: t.tensor(True),
    "tensor([1, 2.])": lambda t: t.tensor([1, 2.0]),
    "tensor([True, 1])": lambda t: t.tensor([True, 1]),
    "tensor([True, 1.])": lambda t: t.tensor([True, 1.0]),
    "tensor([])": lambda t: t.tensor([]),
    "tensor([[]])": lambda t: t.tensor([[]]),
    "tensor((1, 2))": lambda t: t.tensor((1, 2)),
    "tensor(np.float64)": lambda t: t.tensor(np.float64(1)),
    "tensor(np.float32)": lambda t: t.tensor(np.float32(1)),
    "tensor(np.int32)": lambda t: t.tensor(np.int32(1)),
    "tensor([np.float64, 2.])": lambda t: t.tensor([np.float64(1), 2.0]),
    "tensor([np.float32, 2])": lambda t: t.tensor([np.float32(1), 2]),
    "tensor(f64 array)": lambda t: t.tensor(np.ones((2, 2))),
    "tensor(f16 array)": lambda t: t.tensor(np.ones(2, np.float16)),
    "tensor(bool array)": lambda t: t.tensor(np.array([True, False])),
    "tensor(int32 array)": lambda t: t.tensor(np.array([1, 2], np.int32)),
    "tensor([0-d tensors])": lambda t: t.tensor([t.tensor(1.0), t.tensor(2.0)]),
    "tensor([1-d tensors])": lambda t: t.tensor([t.tensor([1.0]), t.tensor([2.0])]),
    "tensor([f64 0-d, 2])": lambda t: t.tensor([t.tensor(1.0, dtype=t.float64), 2]),
    "tensor(tensor)": lambda t: t.tensor(t.tensor([1.0, 2.0])),
    "tensor(float, dtype=int64)": lambda t: t.tensor([1.7, -1.7], dtype=t.int64),
    "tensor(int, dtype=float64)": lambda t: t.tensor([1, 2], dtype=t.float64),
    "tensor(0.1, dtype=float64)": lambda t: t.tensor([0.1, 1 / 3], dtype=t.float64).tolist(),
    "tensor(0.1, dtype=float16)": lambda t: t.tensor([0.1, 1 / 3], dtype=t.float16).tolist(),
    "tensor(big int, dtype=float32)": lambda t: t.tensor([2 ** 40 + 1], dtype=t.float32).tolist(),
    "ones(2, 2)": lambda t: t.ones(2, 2),
    "ones((2, 1))": lambda t: t.ones((2, 1)),
    "ones([1, 2])": lambda t: t.ones([1, 2]),
    "ones(size=(2,))": lambda t: t.ones(size=(2,)),
    "ones(())": lambda t: t.ones(()),
    "ones(0)": lambda t: t.ones(0),
    "ones(Size)": lambda t: t.ones(t.Size([2, 3])),
    "ones(np.int64)": lambda t: t.ones(np.int64(2)),
    "ones(int64)": lambda t: t.ones(2, dtype=t.int64),
    "zeros bool": lambda t: t.zeros(2, 3, dtype=t.bool),
    "empty": lambda t: t.empty(2, 3).shape,
    "full int": lambda t: t.full((2,), 3),
    "full float": lambda t: t.full((2,), 3.0),
    "full bool": lambda t: t.full((2,), True),
    "full np.float64": lambda t: t.full((2,), np.float64(3)),
    "full np.int32": lambda t: t.full((2,), np.int32(3)),
    "full np.bool_": lambda t: t.full((2,), np.bool_(True)),
    "full 0-d tensor": lambda t: t.full((2,), t.tensor(3)),
    "full dtype": lambda t: t.full([2], 3, dtype=t.float64),
    "full ()": lambda t: t.full((), 2),
    "arange(5)": lambda t: t.arange(5),
    "arange(0, 1, 0.25)": lambda t: t.arange(0, 1, 0.25),
    "arange(5.)": lambda t: t.arange(5.0),
    "arange(1, 4)": lambda t: t.arange(1, 4),
    "arange(0, 1, 0.1)": lambda t: t.arange(0, 1, 0.1),
    "arange(0, 1, 0.3)": lambda t: t.arange(0, 1, 0.3),
    "arange(0, 5.5)": lambda t: t.arange(0, 5.5),
    "arange(10, 0, -3)": lambda t: t.arange(10, 0, -3),
    "arange dtype": lambda t: t.arange(5, dtype=t.float64),
    "arange np": lambda t: t.arange(np.int64(3)),
    "arange tensor": lambda t: t.arange(t.tensor(3)),
    "arange np float": lambda t: t.arange(np.float64(2.5)),
    "arange kw": lambda t: t.arange(start=1, end=4),
    "arange end kw": lambda t: t.arange(end=4),
    "ones_like int": lambda t: t.ones_like(t.tensor([1, 2])),
    "zeros_like dtype": lambda t: t.zeros_like(t.tensor([1.0, 2]), dtype=t.float64),
    "ones_like grad source": lambda t: t.ones_like(t.tensor([1.0, 2], requires_grad=True)),
    "ones_like requires_grad": lambda t: t.ones_like(t.tensor([1.0, 2]), requires_grad=True),
    "full_like": lambda t: t.full_like(t.tensor([1, 2]), 7),
    "randn dtype": lambda t: t.randn(2, 3).dtype,
    "randn tuple": lambda t: t.randn((2, 3)).shape,
    "randn ()": lambda t: t.randn(()).shape,
    "rand float64": lambda t: t.rand(2, dtype=t.float64).dtype,
    "randn requires_grad": lambda t: t.randn(2, requires_grad=True).requires_grad,
    "FloatTensor list": lambda t: t.FloatTensor([0.1, 1.0, 0.0001]),
    "FloatTensor ints": lambda t: t.FloatTensor([[1, 2], [3, 4]]),
    "FloatTensor sizes": lambda t: t.FloatTensor(2, 3).shape,
    "LongTensor": lambda t: t.LongTensor([1.7, 2]),
    "Tensor list": lambda t: t.Tensor([1, 2]),
    "Tensor sizes": lambda t: t.Tensor(2, 3).shape,
    "Tensor(Size)": lambda t: t.Tensor(t.Size([2, 3])).shape,
    "FloatTensor(array)": lambda t: t.FloatTensor(np.array([1, 2])),
    "tensor([arrays])": lambda t: t.tensor([np.array([1.0, 2.0]), np.array([2.0, 3.0])]),
    "tensor([1-elem tensor, 2.])": lambda t: t.tensor([t.tensor([1]), 2.0]),
    "tensor([[1-elem tensor], [0-d]])": lambda t: t.tensor([[t.tensor([1.0])], [t.tensor(2.0)]]),
    "Tensor()": lambda t: t.Tensor().shape,
    "isinstance FloatTensor": lambda t: (isinstance(t.ones(2), t.FloatTensor),
                                         isinstance(t.ones(2, dtype=t.float64), t.FloatTensor),
                                         isinstance(t.ones(2, dtype=t.float64), t.DoubleTensor)),
}


def _describe(value):
    if isinstance(value, (torch.Tensor, engine.Tensor)):
        return (str(value.dtype), tuple(value.shape), value.requires_grad,
                value.detach().numpy().tolist())
    return str(value)


@pytest.mark.parametrize("name", CREATION)
def test_creation_matches_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _describe(CREATION[name](torch))
        got = _describe(CREATION[name](engine))
    if isinstance(want, tuple) and want[0] in ("torch.float32", "torch.float64"):
        np.testing.assert_allclose(got[3], want[3], rtol=1e-6)
        got, want = got[:3], want[:3]
    assert got == want


def test_tensor_copies_its_input():
    a = np.ones(3, np.float32)
    t = engine.tensor(a)
    a[0] = 5
    assert t.tolist() == [1.0, 1.0, 1.0]


def test_copy_construct_warning_matches_torch():
    from engine_oracle import warnings_of

    def copy(t):
        t.tensor(t.ones(2))

    assert warnings_of(copy, engine) == warnings_of(copy, torch)


def test_manual_seed_makes_random_tensors_reproducible():
    engine.manual_seed(3)
    a = engine.randn(4)
    b = engine.rand(2, 2)
    engine.manual_seed(3)
    assert engine.randn(4).tolist() == a.tolist()
    assert engine.rand(2, 2).tolist() == b.tolist()
    assert engine.randn(4).tolist() != a.tolist()
    assert engine.initial_seed() == 3
