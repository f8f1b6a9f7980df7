"""An OpInfo sample as literal values, built the same way on either backend.

OpInfo hands out samples as PyTorch tensors. Running the engine on them would need PyTorch
tensors converted on the fly, and a failure could only be reproduced through OpInfo. So each
sample is first described in backend-neutral terms (`describe`): every tensor as a numpy array
with its dtype, `requires_grad` and memory layout (a strided view of a contiguous base, permuted,
expanded), shared tensors shared, and the rest as Python values (numbers, strings, slices,
`torch.float32`, `torch.Size`, `torch.contiguous_format`, nested lists, tuples and dicts). Both
backends build their tensors from that description (`build`), and `tensor_lines` prints it as
Python that rebuilds it from literal values, which is what repro snippets and exported YAML
specs are made of.
"""

from __future__ import annotations

import ast
import linecache
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from harness.opinfo.corpus import Drawn


class NotLiteral(Exception):
    """A sample holds a value that cannot be written as a literal (a module, a callable...)."""


@dataclass(frozen=True)
class Layout:
    """How a non-contiguous tensor is laid out: a contiguous `base`, sliced with `steps` along
    each of its dims to `sizes` elements, then permuted by `permutation` and expanded to
    `expand`."""

    base: tuple[int, ...]
    steps: tuple[int, ...]
    sizes: tuple[int, ...]
    permutation: tuple[int, ...] | None = None
    expand: tuple[int, ...] | None = None


@dataclass(frozen=True)
class TensorValue:
    values: np.ndarray  # the elements as the tensor shows them (its shape, C order)
    dtype: str  # PyTorch's name: float32, int64, bool
    requires_grad: bool = False
    layout: Layout | None = None  # None: contiguous


@dataclass(frozen=True)
class Ref:
    """A tensor of the sample, by its index in `Sample.tensors` (`t0`, `t1`...)."""

    index: int


@dataclass(frozen=True)
class Const:
    """A PyTorch object written by name: `torch.float32`, `torch.contiguous_format`,
    `torch.strided`, `torch.device('cpu')`, `torch.Size([2, 3])`."""

    kind: str  # dtype, memory_format, layout, device, size
    value: object  # the name, or the sizes of a Size


@dataclass
class Sample:
    """One sample of one entry in one dtype: tensors and the call's arguments as trees."""

    label: str  # s3, r12, e0 (corpus.Drawn.label)
    tensors: list[TensorValue] = field(default_factory=list)
    input: object = None
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    broadcasts_input: bool = False
    process: Callable | None = None  # output_process_fn_grad (PyTorch's), None if identity
    error_type: type | None = None  # error samples: the exception class PyTorch's tests expect
    error_regex: str = ""  # (a raised subclass counts, as in their assertRaisesRegex)


_IDENTITY = (lambda x: x).__code__


def describe(drawn: Drawn) -> Sample:
    """The sample in literal terms; raises NotLiteral for values that have none."""
    import torch

    sample = drawn.sample
    out = Sample(drawn.label, broadcasts_input=bool(sample.broadcasts_input))
    seen: dict[int, int] = {}

    def walk(value):
        if isinstance(value, torch.Tensor):
            if id(value) not in seen:
                seen[id(value)] = len(out.tensors)
                out.tensors.append(_tensor_value(value))
            return Ref(seen[id(value)])
        if value is None or isinstance(value, bool | int | float | complex | str):
            return value
        if isinstance(value, slice):
            return slice(walk(value.start), walk(value.stop), walk(value.step))
        if value is Ellipsis:
            return value
        if isinstance(value, torch.dtype):
            return Const("dtype", str(value).removeprefix("torch."))
        if isinstance(value, torch.memory_format | torch.layout):
            kind = "memory_format" if isinstance(value, torch.memory_format) else "layout"
            return Const(kind, str(value).removeprefix("torch."))
        if isinstance(value, torch.device):
            return Const("device", str(value))
        if isinstance(value, torch.Size):
            return Const("size", tuple(int(v) for v in value))
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, tuple) and type(value) is tuple:
            return tuple(walk(v) for v in value)
        if isinstance(value, dict) and type(value) is dict:
            return {str(k): walk(v) for k, v in value.items()}
        raise NotLiteral(f"a {type(value).__module__}.{type(value).__qualname__} argument "
                         "cannot be written as a literal")

    out.input = walk(sample.input)
    out.args = tuple(walk(a) for a in sample.args)
    out.kwargs = {k: walk(v) for k, v in sample.kwargs.items()}
    process = sample.output_process_fn_grad
    code = getattr(process, "__code__", None)
    if code is None or code.co_code != _IDENTITY.co_code or code.co_names:
        out.process = process
    if drawn.error_type is not None:
        out.error_type = drawn.error_type
        out.error_regex = drawn.error_regex
    return out


def _tensor_value(t) -> TensorValue:
    import torch

    if t.layout != torch.strided or t.device.type != "cpu":
        raise NotLiteral(f"a {t.layout} tensor on {t.device} cannot be written as a literal")
    if t.is_complex() or t.dtype == torch.bfloat16 or not t.is_leaf:
        reason = "a non-leaf tensor" if not t.is_leaf else f"a {t.dtype} tensor"
        raise NotLiteral(f"{reason} cannot be written as a literal")
    if t.dim() > 32:  # numpy's limit is 64 dims; error inputs probe torch's with more
        raise NotLiteral(f"a {t.dim()}-dimensional tensor cannot be written as a literal")
    values = np.array(t.detach().numpy(), copy=True)
    dtype = str(t.dtype).removeprefix("torch.")
    return TensorValue(values, dtype, bool(t.requires_grad), layout_of(tuple(t.shape),
                                                                          tuple(t.stride())))


def layout_of(shape: tuple[int, ...], strides: tuple[int, ...]) -> Layout | None:
    """The recipe that gives a tensor of `shape` these `strides` (None if contiguous).

    Broadcast dims (stride 0) are expanded last. The other dims longer than 1, ordered by
    decreasing stride, are a strided slice of a contiguous base whose sizes make each stride a
    multiple of the base's own; dims of size 1 (any stride) go last. A layout that no slice of
    a base gives (overlapping strides) is written contiguous, with the broadcast kept."""
    if _contiguous(shape, strides):
        return None
    ndim = len(shape)
    collapsed = tuple(1 if st == 0 else n for n, st in zip(shape, strides, strict=True))
    expand = shape if collapsed != shape else None
    real = sorted((i for i in range(ndim) if collapsed[i] > 1), key=lambda i: (-strides[i], i))
    order = real + [i for i in range(ndim) if collapsed[i] <= 1]
    base, steps = [1] * ndim, [1] * ndim
    inner = 1
    for pos in range(len(real) - 1, -1, -1):
        stride, size = strides[order[pos]], collapsed[order[pos]]
        if stride < inner or stride % inner:
            return Layout(collapsed, (1,) * ndim, collapsed, None, expand) if expand else None
        steps[pos] = stride // inner
        base[pos] = size * steps[pos]
        if pos > 0:  # a base just long enough to make the next stride out a whole step
            outer = strides[order[pos - 1]]
            if outer % inner == 0 and outer // inner >= (size - 1) * steps[pos] + 1:
                base[pos] = outer // inner
        inner *= base[pos]
    for pos in range(len(real), ndim):
        base[pos] = collapsed[order[pos]]
    permutation = tuple(order.index(i) for i in range(ndim))
    if permutation == tuple(range(ndim)):
        permutation = None
    if permutation is None and expand is None and all(s == 1 for s in steps):
        return None
    sizes = tuple(collapsed[i] for i in order)
    return Layout(tuple(base), tuple(steps), sizes, permutation, expand)


def _contiguous(shape, strides) -> bool:
    if 0 in shape:
        return True
    expected = 1
    for n, st in zip(reversed(shape), reversed(strides), strict=True):
        if n != 1 and st != expected:
            return False
        expected *= n
    return True


# ----------------------------------------------------------------- building on a backend


def build(sample: Sample, module) -> tuple[object, tuple, dict, list]:
    """(input, args, kwargs, tensors) built on `module` (torch or the engine): fresh leaf tensors,
    each built once and shared wherever the sample shares it."""
    tensors = [make_tensor(t, module) for t in sample.tensors]

    def make(value):
        if isinstance(value, Ref):
            return tensors[value.index]
        if isinstance(value, Const):
            return constant(value, module)
        if isinstance(value, list):
            return [make(v) for v in value]
        if isinstance(value, tuple):
            return tuple(make(v) for v in value)
        if isinstance(value, dict):
            return {k: make(v) for k, v in value.items()}
        if isinstance(value, slice):
            return slice(make(value.start), make(value.stop), make(value.step))
        return value

    return make(sample.input), tuple(make(a) for a in sample.args), \
        {k: make(v) for k, v in sample.kwargs.items()}, tensors


def make_tensor(value: TensorValue, module):
    """A leaf on `module` holding the values, with the recorded layout and requires_grad."""
    dtype = getattr(module, value.dtype)
    layout = value.layout
    if layout is None:
        return module.tensor(value.values.copy(), dtype=dtype, requires_grad=value.requires_grad)
    base = np.zeros(layout.base, dtype=value.values.dtype)
    base[_slices(layout)] = _before_view(value.values, layout)
    t = module.tensor(base, dtype=dtype)[_slices(layout)]
    if layout.permutation is not None:
        t = t.permute(*layout.permutation)
    if layout.expand is not None:
        t = t.expand(*layout.expand)
    return t.requires_grad_() if value.requires_grad else t


def _slices(layout: Layout) -> tuple[slice, ...]:
    return tuple(slice(None, None, s) if b == n * s or n == 0 else slice(None, (n - 1) * s + 1, s)
                 for b, s, n in zip(layout.base, layout.steps, layout.sizes, strict=True))


def _before_view(values: np.ndarray, layout: Layout) -> np.ndarray:
    """The values as the sliced base holds them: broadcast dims collapsed, permutation undone."""
    if layout.expand is not None:
        index = tuple(slice(0, 1) if n != e or e == 1 else slice(None)
                      for n, e in zip(_pre_expand(layout), layout.expand, strict=True))
        values = values[index]
    if layout.permutation is not None:
        order = [layout.permutation.index(i) for i in range(len(layout.permutation))]
        values = values.transpose(order)
    return values


def _pre_expand(layout: Layout) -> tuple[int, ...]:
    """The tensor's shape before `expand`: the base's sizes after slicing, permuted."""
    if layout.permutation is None:
        return layout.sizes
    return tuple(layout.sizes[p] for p in layout.permutation)


def constant(value: Const, module):
    if value.kind == "device":
        return module.device(value.value)
    if value.kind == "size":
        return module.Size(value.value)
    found = getattr(module, value.value, None)
    if found is None:
        raise AttributeError(f"module '{module.__name__}' has no attribute '{value.value}'")
    return found


# ----------------------------------------------------------------- printing as Python

_NON_FINITE = re.compile(r"(?<![\w.])(nan|inf)\b")


def literal(value) -> str:
    """A Python expression for a number, list or array of numbers (nan/inf as math.nan/inf)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return _NON_FINITE.sub(r"math.\1", repr(value))


def tensor_expression(value: TensorValue) -> str:
    """`torch.tensor([...], dtype=torch.float32, requires_grad=True)`, with the view calls
    that give it its layout."""
    layout = value.layout
    values = value.values if layout is None else _base_values(value)
    shape = values.shape
    text = f"torch.tensor({literal(values)}, dtype=torch.{value.dtype}"
    if layout is None and value.requires_grad and not (values.size == 0 and len(shape) > 1):
        return text + ", requires_grad=True)"
    text += ")"
    if values.size == 0 and len(shape) > 1:
        text += f".reshape({', '.join(map(str, shape))})"
    if layout is not None:
        if any(s != 1 for s in layout.steps):
            text += "[" + ", ".join(_slice_text(c) for c in _slices(layout)) + "]"
        if layout.permutation is not None:
            text += f".permute({', '.join(map(str, layout.permutation))})"
        if layout.expand is not None:
            text += f".expand({', '.join(map(str, layout.expand))})"
    return text + (".requires_grad_()" if value.requires_grad else "")


def _slice_text(c: slice) -> str:
    stop = "" if c.stop is None else str(c.stop)
    return f":{stop}" + ("" if c.step == 1 else f":{c.step}")


def _base_values(value: TensorValue) -> np.ndarray:
    base = np.zeros(value.layout.base, dtype=value.values.dtype)
    base[_slices(value.layout)] = _before_view(value.values, value.layout)
    return base


def tensor_lines(sample: Sample) -> list[str]:
    """`t0 = torch.tensor(...)` for every tensor of the sample."""
    return [f"t{i} = {tensor_expression(t)}" for i, t in enumerate(sample.tensors)]


def expression(value) -> str:
    """A tree of the sample (Ref, Const, numbers, lists...) as Python source."""
    if isinstance(value, Ref):
        return f"t{value.index}"
    if isinstance(value, Const):
        if value.kind == "device":
            return f"torch.device({value.value!r})"
        if value.kind == "size":
            return f"torch.Size({list(value.value)!r})"
        return f"torch.{value.value}"
    if isinstance(value, list):
        return "[" + ", ".join(expression(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(expression(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {expression(v)}" for k, v in value.items()) + "}"
    if isinstance(value, slice):
        return f"slice({expression(value.start)}, {expression(value.stop)}, " \
               f"{expression(value.step)})"
    if value is Ellipsis:
        return "..."
    if isinstance(value, float | complex):
        return literal(value)
    return repr(value)


def arguments(sample: Sample, with_input: bool = True) -> str:
    """The call's arguments as source: `t0, 2, dim=1`."""
    parts = [expression(sample.input)] if with_input else []
    parts += [expression(a) for a in sample.args]
    parts += [f"{k}={expression(v)}" for k, v in sample.kwargs.items()]
    return ", ".join(parts)


def function_source(fn: Callable) -> str | None:
    """The source of a lambda (as one expression) defined in PyTorch's testing code, found at
    its line and checked against the function's names and arguments; None when it cannot be
    recovered."""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_name != "<lambda>":
        return None
    lines = linecache.getlines(code.co_filename)
    start = code.co_firstlineno - 1
    for count in range(1, 12):
        text = textwrap.dedent("".join(lines[start:start + count]))
        for match in re.finditer(r"\blambda\b", text):
            found = _lambda_at(text[match.start():], code)
            if found:
                return found
    return None


def _same_signature(a, b) -> bool:
    """Two code objects read the same names, take the same arguments and nest alike (bytecode
    itself differs between a module's compilation and ours)."""
    return (a.co_names, a.co_varnames, a.co_argcount, a.co_kwonlyargcount, a.co_flags,
            a.co_freevars) == (b.co_names, b.co_varnames, b.co_argcount, b.co_kwonlyargcount,
                               b.co_flags, b.co_freevars)


def _lambda_at(text: str, code) -> str | None:
    for end in range(len(text), 6, -1):
        if text[end - 1] not in ",)\n" and end != len(text):
            continue
        candidate = " ".join(text[:end].rstrip(",\n").split())
        try:
            tree = ast.parse(f"({candidate})", mode="eval")
        except SyntaxError:
            continue
        if not isinstance(tree.body, ast.Lambda):
            continue
        compiled = compile(tree, "<lambda>", "eval", dont_inherit=True)
        inner = next((c for c in compiled.co_consts if hasattr(c, "co_code")), None)
        if inner is not None and _same_signature(inner, code):
            return candidate
    return None
