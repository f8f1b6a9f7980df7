"""Samples as literals: a tensor's values, dtype, requires_grad and layout survive the trip through
the description, on PyTorch and on the engine, and through the printed Python; so does a whole
OpInfo sample (the op gives the same result on the rebuilt sample as on OpInfo's own)."""

import math

import numpy as np
import pytest
import torch
from torch.testing import make_tensor

import engine
from harness.opinfo import corpus
from harness.opinfo import samples as literals


def _layouts():
    base = torch.arange(60, dtype=torch.float32).reshape(3, 4, 5)
    return {
        "contiguous": base,
        "transposed": base.transpose(0, 2),
        "stepped": torch.arange(24.0).reshape(3, 8)[:, ::2],
        "stepped_short_base": torch.arange(6.0).reshape(2, 1, 3)[:, :, ::2],
        "start_and_step": torch.arange(20.0).reshape(4, 5)[:, 1:4:2],
        "permuted_stepped": base.permute(2, 0, 1)[::2],
        "expanded_row": torch.arange(4.0).reshape(1, 4).expand(3, 4),
        "expanded_transposed": torch.arange(12.0).reshape(3, 1, 4).expand(3, 5, 4).transpose(0, 2),
        "make_tensor_noncontiguous": make_tensor((2, 3, 4), dtype=torch.float64, device="cpu",
                                                 noncontiguous=True),
        "zero_d": torch.tensor(2.5),
        "empty": torch.zeros(0, 3).t(),
        "float16": torch.tensor([1.5, -0.0, math.inf, math.nan], dtype=torch.float16),
        "bool": torch.tensor([[True, False], [False, True]]).t(),
        "int64": torch.tensor([-(2**40), 3, 0], dtype=torch.int64),
        "uint8": torch.tensor([0, 255], dtype=torch.uint8),
    }


@pytest.mark.parametrize("name", sorted(_layouts()))
@pytest.mark.parametrize("requires_grad", [False, True])
def test_tensor_round_trip(name, requires_grad):
    original = _layouts()[name]
    if requires_grad and not original.is_floating_point():
        pytest.skip("only floating tensors require grad")
    original = original.detach().requires_grad_(requires_grad)
    value = literals._tensor_value(original)
    printed = eval(literals.tensor_expression(value), {"torch": torch, "math": math})
    for module, rebuilt in ((torch, literals.make_tensor(value, torch)),
                            (engine, literals.make_tensor(value, engine)), (torch, printed)):
        assert isinstance(rebuilt, module.Tensor)
        assert str(rebuilt.dtype).removeprefix("torch.") == value.dtype
        assert tuple(rebuilt.shape) == tuple(original.shape)
        np.testing.assert_array_equal(rebuilt.detach().numpy(), original.detach().numpy())
        assert rebuilt.requires_grad == requires_grad and rebuilt.is_leaf
        assert rebuilt.is_contiguous() == original.is_contiguous()
        if module is torch and original.numel() > 1:
            big = [i for i, n in enumerate(original.shape) if n > 1]
            assert [rebuilt.stride(i) for i in big] == [original.stride(i) for i in big]


def test_shared_tensors_stay_shared_and_constants_are_named():
    t = torch.ones(2)
    drawn = corpus.Drawn("sample", 0, _sample(t, t, dtype=torch.float64, size=torch.Size([2]),
                                             memory_format=torch.contiguous_format,
                                             index=(slice(0, 1), Ellipsis)))
    sample = literals.describe(drawn)
    assert len(sample.tensors) == 1
    assert sample.input == literals.Ref(0) and sample.args == (literals.Ref(0),)
    text = literals.arguments(sample)
    assert text == ("t0, t0, dtype=torch.float64, size=torch.Size([2]), "
                    "memory_format=torch.contiguous_format, index=(slice(0, 1, None), ...)")
    inp, args, kwargs, tensors = literals.build(sample, torch)
    assert inp is args[0] is tensors[0]
    assert kwargs["dtype"] is torch.float64 and kwargs["size"] == torch.Size([2])


def test_values_without_a_literal_are_refused():
    drawn = corpus.Drawn("sample", 3, _sample(torch.ones(2), torch.nn.ReLU()))
    with pytest.raises(literals.NotLiteral, match="torch.nn.modules.activation.ReLU"):
        literals.describe(drawn)


def _sample(input, *args, **kwargs):
    from torch.testing._internal.opinfo.core import SampleInput

    return SampleInput(input, args=args, kwargs=kwargs)


@pytest.mark.parametrize("key", ["cat", "index_select", "nn.functional.embedding", "gather",
                                 "T", "expand", "clamp", "__getitem__", "to", "einsum"])
def test_opinfo_samples_round_trip(key):
    """The op gives the same result on the sample rebuilt from literals (also from the printed
    Python) as on OpInfo's own tensors."""
    entry = corpus.find(key)
    for drawn in corpus.samples(entry, "float32", limit=12):
        sample = literals.describe(drawn)
        expected = entry.info.op(drawn.sample.input, *drawn.sample.args, **drawn.sample.kwargs)
        inp, args, kwargs, _ = literals.build(sample, torch)
        _assert_same(entry.info.op(inp, *args, **kwargs), expected)
        namespace = {"torch": torch, "math": math}
        exec("\n".join(literals.tensor_lines(sample)), namespace)
        printed = eval(f"(lambda *a, **k: (a, k))({literals.arguments(sample)})", namespace)
        _assert_same(entry.info.op(*printed[0], **printed[1]), expected)


def _assert_same(actual, expected):
    if isinstance(expected, torch.Tensor):
        assert torch.equal(actual, expected) and actual.dtype == expected.dtype
        assert actual.requires_grad == expected.requires_grad
    elif isinstance(expected, list | tuple):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            _assert_same(a, e)
    else:
        assert actual == expected


def test_lambda_source_is_recovered_and_checked_against_its_bytecode():
    assert literals.function_source(corpus.find("T").info.op) == "lambda x: x.T"
    einsum = literals.function_source(corpus.find("einsum").info.op)
    assert einsum == "lambda tensors, equation: torch.einsum(equation, tensors)"
    assert literals.function_source(torch.exp) is None
