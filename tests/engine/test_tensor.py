"""The Tensor API that is not math: metadata, conversions, Size, printing hooks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import engine

OBSERVE = {
    "shape": lambda t: t.ones(2, 3).shape,
    "repr(shape)": lambda t: repr(t.ones(2, 3).shape),
    "str(shape)": lambda t: str(t.ones(2, 3).shape),
    "shape 0-d": lambda t: repr(t.tensor(1.0).shape),
    "type(shape)": lambda t: repr(type(t.ones(2).shape)),
    "size()": lambda t: repr(t.ones(2, 3).size()),
    "size(1)": lambda t: t.ones(2, 3).size(1),
    "size(-1)": lambda t: t.ones(2, 3).size(-1),
    "size(dim=0)": lambda t: t.ones(2, 3).size(dim=0),
    "shape == tuple": lambda t: t.ones(2, 3).shape == (2, 3),
    "shape slicing": lambda t: repr(t.ones(2, 3, 4).shape[1:]),
    "shape + tuple": lambda t: repr(t.ones(2).shape + (3,)),
    "tuple + shape": lambda t: repr((3,) + t.ones(2).shape),
    "shape numel": lambda t: t.ones(2, 3).shape.numel(),
    "Size()": lambda t: repr(t.Size()),
    "Size from tensor": lambda t: repr(t.Size([t.tensor(3)])),
    "dim": lambda t: (t.ones(3, 2).dim(), t.ones(3, 2).ndim, t.ones(3, 2).ndimension()),
    "numel": lambda t: (t.ones(3, 2).numel(), t.ones(3, 2).nelement(), t.ones(()).numel()),
    "len": lambda t: len(t.ones(3, 2)),
    "dtype": lambda t: str(t.ones(2).dtype),
    "device": lambda t: (repr(t.ones(2).device), str(t.ones(2).device)),
    "is_floating_point": lambda t: (t.ones(2).is_floating_point(),
                                    t.tensor([1]).is_floating_point()),
    "item float": lambda t: (t.tensor(1.5).item(), type(t.tensor(1.5).item()).__name__),
    "item float32 exact": lambda t: t.tensor([[0.1]]).item(),
    "item int": lambda t: (t.tensor([3]).item(), type(t.tensor([3]).item()).__name__),
    "item bool": lambda t: type(t.tensor(True).item()).__name__,
    "tolist": lambda t: t.tensor([[0.1, 2]]).tolist(),
    "tolist 0-d": lambda t: t.tensor(3).tolist(),
    "tolist grad": lambda t: t.ones(2, requires_grad=True).tolist(),
    "float()": lambda t: float(t.tensor([2])),
    "int()": lambda t: (int(t.tensor(2.7)), int(t.tensor(-2.7))),
    "bool()": lambda t: (bool(t.tensor([0.0])), bool(t.tensor(2))),
    "index": lambda t: [1, 2, 3][t.tensor(1)],
    "format 0-d": lambda t: (format(t.tensor(2.5), ".3f"), f"{t.tensor(3)}", f"{t.tensor(3):d}",
                             f"{t.tensor(1.25, requires_grad=True) * 2:.1f}"),
    "hash": lambda t: (lambda x: hash(x) == id(x))(t.ones(2)),
    "eq None": lambda t: t.ones(2) == None,  # noqa: E711 - that is the test
    "eq str": lambda t: t.ones(2) != "a",
    "requires_grad_ returns self": lambda t: (lambda x: x.requires_grad_() is x)(t.ones(2)),
    "requires_grad_ False": lambda t: t.ones(2, requires_grad=True).requires_grad_(False)
    .requires_grad,
    "requires_grad_ non-leaf True": lambda t: (t.ones(2, requires_grad=True) * 2)
    .requires_grad_().requires_grad,
    "requires_grad int False": lambda t: setattr(t.tensor([1]), "requires_grad", False),
    "to same dtype is self": lambda t: (lambda x: (x.to(t.float32) is x, x.float() is x))(
        t.ones(2)),
    "casts": lambda t: [str(f(t.ones(2)).dtype) for f in (
        lambda x: x.double(), lambda x: x.long(), lambda x: x.int(), lambda x: x.half(),
        lambda x: x.bool(), lambda x: x.to(dtype=t.float64), lambda x: x.to("cpu"))],
    "is_tensor": lambda t: (t.is_tensor(t.ones(1)), t.is_tensor(1.0)),
    "numel fn": lambda t: t.numel(t.ones(2, 3)),
    "array": lambda t: np.asarray(t.ones(2)).dtype.name,
    "np scalar left": lambda t: type(np.float32(2) * t.ones(2)).__name__,
}


@pytest.mark.parametrize("name", OBSERVE)
def test_observable_matches_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert OBSERVE[name](engine) == OBSERVE[name](torch)


def test_data_and_detach_share_storage_and_drop_grad():
    for lib in (torch, engine):
        x = lib.ones(2, requires_grad=True)
        d, det = x.data, x.detach()
        assert (d.requires_grad, det.requires_grad, d.is_leaf, d is x.data) == (
            False, False, True, False)
        d.numpy()[0] = 5.0
        assert x.tolist() == [5.0, 1.0] and det.tolist() == [5.0, 1.0]


def test_data_setter_replaces_storage():
    for lib in (torch, engine):
        x = lib.ones(2, requires_grad=True)
        x.data = lib.zeros(3, dtype=lib.float64)
        assert (tuple(x.shape), str(x.dtype), x.requires_grad) == ((3,), "torch.float64", True)


def test_numpy_shares_memory():
    t = engine.ones(2)
    t.numpy()[0] = 5
    assert t.tolist() == [5.0, 1.0]


def test_repr_uses_the_formatter_with_grad_fn_names():
    for lib in (torch, engine):
        x = lib.ones(2, 2, requires_grad=True)
        assert repr(x) == str(x) == "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)"
        assert repr(x + 2) == "tensor([[3., 3.],\n        [3., 3.]], grad_fn=<AddBackward0>)"
        assert repr(((x + 2) * (x + 2) * 3).mean()) == "tensor(27., grad_fn=<MeanBackward0>)"
        assert repr(lib.tensor([1, 2], dtype=lib.int32)) == "tensor([1, 2], dtype=torch.int32)"


def test_numpy_scalars_behave_like_python_scalars():
    x = engine.ones(2, requires_grad=True)
    y = np.float64(2.0) * x
    assert isinstance(y, engine.Tensor) and y.dtype is engine.float32
    assert type(y.grad_fn).__name__ == "MulBackward0"


def test_ops_do_not_leak_numpy_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = engine.tensor([0.0, -1.0, 1e30])
        (x / 0, x.log(), x * x * x, x.exp(), 0 ** -x, engine.ones(0).mean())
        y = engine.tensor([0.0, 1.0], requires_grad=True)
        y.log().sum().backward()


def test_copy_and_pickle_like_torch():
    import copy
    import pickle

    results = []
    for lib in (torch, engine):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.grad = lib.ones(2)
        deep = copy.deepcopy(x)
        shallow = copy.copy(x * 2)
        loaded = pickle.loads(pickle.dumps(x))
        results.append([
            (deep.tolist(), deep.requires_grad, deep.grad.tolist(), deep is x),
            (shallow.tolist(), shallow.requires_grad, shallow.grad_fn),
            (loaded.tolist(), loaded.requires_grad, loaded.grad),
            pickle.loads(pickle.dumps(lib.float64)) is lib.float64,
            repr(pickle.loads(pickle.dumps(x.shape))),
        ])
        try:
            copy.deepcopy(x * 2)
        except RuntimeError as e:
            results[-1].append(str(e))
    assert results[1] == results[0]
