"""The memory layout of results against torch: the strides TensorIterator gives an
elementwise result (a promoted operand cast as ``Tensor.to`` casts it), ``empty_like``'s
preserve_format (a dense input's strides, else dense strides in its dims' order), the
channels-last memory formats, advanced indexing and pooling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine


def _layout(t):
    """is_contiguous and the strides of the dims longer than 1 (a size-1 dim's stride is
    free), in elements."""
    if isinstance(t, torch.Tensor):
        strides = t.stride()
    else:
        data = t.detach().numpy()
        strides = [s // data.itemsize for s in data.strides]
    return t.is_contiguous(), [s for n, s in zip(t.shape, strides, strict=True) if n > 1]


# (name, make): make(lib, dtype) builds the same strided input on torch and on the engine
LAYOUTS = {
    "expanded_313": lambda lib, dt: lib.tensor(np.arange(3).reshape(3, 1, 1) % 2, dtype=dt)
    .permute(1, 2, 0).expand(3, 1, 3),
    "expanded_952": lambda lib, dt: lib.tensor(np.arange(14).reshape(2, 7, 1) % 3, dtype=dt)
    [:, :5].permute(2, 1, 0).expand(9, 5, 2),
    "expanded_357": lambda lib, dt: lib.tensor(np.arange(35).reshape(5, 7, 1) % 3, dtype=dt)
    .permute(2, 0, 1).expand(3, 5, 7),
    "transposed": lambda lib, dt: lib.tensor(np.arange(24).reshape(4, 6) % 3, dtype=dt).t(),
    "transposed_gappy": lambda lib, dt: lib.tensor(np.arange(24).reshape(4, 6) % 3,
                                                   dtype=dt).t()[::2],
    "permuted": lambda lib, dt: lib.tensor(np.arange(24).reshape(2, 3, 4) % 3, dtype=dt)
    .permute(2, 0, 1),
    "dense_size1": lambda lib, dt: lib.tensor(np.arange(20).reshape(4, 5, 1, 1) % 3, dtype=dt)
    .permute(1, 2, 0, 3),
}

UNARY = {
    "sin": lambda lib, x: lib.sin(x), "sigmoid": lambda lib, x: lib.sigmoid(x),
    "rsqrt": lambda lib, x: lib.rsqrt(x), "deg2rad": lambda lib, x: lib.deg2rad(x),
    "erf": lambda lib, x: lib.special.erf(x), "ndtr": lambda lib, x: lib.special.ndtr(x),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "polygamma3": lambda lib, x: lib.polygamma(3, x),  # a series over a flat copy
    "ceil": lambda lib, x: lib.ceil(x), "nan_to_num": lambda lib, x: lib.nan_to_num(x),
    "double": lambda lib, x: x.double(), "float": lambda lib, x: x.float(),
    "half": lambda lib, x: x.half(), "long": lambda lib, x: x.long(),
    "clone": lambda lib, x: x.clone(), "empty_like": lambda lib, x: lib.empty_like(x),
    "zeros_like": lambda lib, x: lib.zeros_like(x),
    "full_like": lambda lib, x: lib.full_like(x, 2),
}

BINARY = {
    "atan2": lambda lib, x, y: lib.atan2(x, y), "hypot": lambda lib, x, y: lib.hypot(x, y),
    "xlogy": lambda lib, x, y: lib.xlogy(x, y),
    "logical_and": lambda lib, x, y: lib.logical_and(x, y),
    "clamp_min": lambda lib, x, y: lib.clamp_min(x, y),
    "div_trunc": lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"),
    "addcdiv": lambda lib, x, y: lib.addcdiv(x, y, y),
}

DTYPES = ("int64", "bool", "float16", "float32")


def _unary_ok(name, dtype):
    if name in ("ceil",) and dtype == "bool":
        return False  # torch refuses bools
    return not (name == "relu6" and dtype == "bool")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", UNARY)
def test_unary_result_layout(name, layout, dtype):
    if not _unary_ok(name, dtype):
        pytest.skip("torch refuses the dtype")
    results = [UNARY[name](lib, LAYOUTS[layout](lib, getattr(lib, dtype)))
               for lib in (torch, engine)]
    assert _layout(results[1]) == _layout(results[0])


@pytest.mark.parametrize("dtype", ("int64", "float16", "float32"))
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", BINARY)
def test_binary_result_layout(name, layout, dtype):
    if dtype == "int64" and name in ("addcdiv", "hypot"):
        pytest.skip("torch refuses integers")
    results = []
    for lib in (torch, engine):
        x = LAYOUTS[layout](lib, getattr(lib, dtype))
        y = lib.ones(tuple(x.shape), dtype=getattr(lib, dtype)) * 2
        results.append(BINARY[name](lib, x, y))
    assert _layout(results[1]) == _layout(results[0])


@pytest.mark.parametrize("fmt", ("channels_last", "channels_last_3d", "contiguous_format"))
@pytest.mark.parametrize("shape", ((2, 3, 4, 5), (2, 3, 4, 5, 2), (2, 1, 4, 5), (2, 3, 1, 1)))
def test_memory_formats(shape, fmt):
    """clone/contiguous in a memory format, and is_contiguous asked about each format."""
    base = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    results = []
    for lib in (torch, engine):
        x = lib.tensor(base)
        layout = getattr(lib, fmt)
        try:
            y = x.clone(memory_format=layout)
        except RuntimeError as exc:
            results.append(str(exc))
            continue
        z = y.contiguous(memory_format=layout)
        results.append([_layout(y), z is y,
                        [y.is_contiguous(memory_format=getattr(lib, f)) for f in
                         ("contiguous_format", "channels_last", "channels_last_3d")]])
    assert results[1] == results[0]


INDEXING = {
    "last_dim": lambda x: x[:, :, [0, 3]], "middle_dim": lambda x: x[:, [0, 3]],
    "index_2d": lambda x: x[:, [[0, 1], [2, 3]]], "apart": lambda x: x[[0, 1], :, [1, 2]],
    "mask": lambda x: x[:, :, [True, False, True, True, False]],
    "permuted": lambda x: x.permute(2, 0, 1)[:, [0, 3]],
    "permuted_last": lambda x: x.permute(2, 0, 1)[:, :, [0, 3]],
    "permuted_2d": lambda x: x.permute(1, 2, 0)[:, [[0, 1], [1, 3]]],
}


@pytest.mark.parametrize("name", INDEXING)
def test_advanced_indexing_layout(name):
    base = np.arange(125.0).reshape(5, 5, 5)
    results = [INDEXING[name](lib.tensor(base)) for lib in (torch, engine)]
    assert _layout(results[1]) == _layout(results[0])


@pytest.mark.parametrize("dilation", ((1, 1), (1, 2)))
def test_max_pool2d_of_a_permuted_input_is_contiguous(dilation):
    base = np.arange(36.0, dtype=np.float32).reshape(3, 6, 2, 1)
    results = []
    for lib in (torch, engine):
        x = lib.tensor(base).permute(3, 2, 0, 1)
        out, indices = lib.nn.functional.max_pool2d(x, 3, (2, 1), 0, dilation, True, True)
        results.append((_layout(out), _layout(indices)))
    assert results[1] == results[0]
