"""A numpy autograd engine that mirrors PyTorch's public API: ``import engine as torch``.

Module map, in layers (a module imports only from the layers above it):

- ``_dtype`` (dtypes, promotion), ``_size``, ``_device``, ``_return_types``, ``_tensor_str``
  (printing), ``runtime/`` (BLAS threads, memory reuse, parallel unary ops, numpy's
  floating-point warnings off): the pieces below everything.
- ``_tensor``: Tensor's state, conversions and the version counters views share.
- ``autograd/``: ``grad_mode``; ``node`` (Node, ``backward_node``, AccumulateGrad, ``attach``,
  views' creation meta, ``validate_grad``); ``hooks``; ``inplace`` (checks, ``commit``,
  CopySlices); ``engine`` (the backward loop); the package itself is ``torch.autograd``.
  It calls ops only as Tensor methods.
- ``ops/``: one module per op family, each op's forward, backward node and formulas side by
  side: ``elementwise``, ``shape``, ``reductions``, ``indexing``, ``linalg``, ``nn``,
  ``creation``; ``operands`` (how an op reads its operands) and ``formulas`` (what many
  formulas share) under them; ``surface``: the one table of the public surface and the
  binder that attaches it to Tensor and to this namespace.
- ``linalg``, ``nn.functional``: public namespaces re-exporting ops; ``nn`` (modules,
  parameters, init), ``optim``, ``utils``, ``random`` build on the public API.
"""

from . import _dtype
from . import autograd as autograd  # torch.autograd.grad, .backward, .graph
from . import linalg as linalg  # torch.linalg
from . import nn as nn  # torch.nn
from . import random as random  # torch.random (fork_rng ...)
from . import special as special  # torch.special
from ._device import device
from ._dtype import (
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    uint8,
)
from ._memory_format import (
    channels_last,
    channels_last_3d,
    contiguous_format,
    layout,
    memory_format,
    preserve_format,
    strided,
)
from ._size import Size
from ._tensor import Tensor
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import surface as _surface
from .ops.creation import LEGACY_TYPES as _LEGACY_TYPES
from .random import Generator, default_generator
from .runtime.blas import get_num_threads, set_num_threads

# torch.X for every op of the table (add, exp, cat, tensor, zeros ...); Tensor's methods,
# operators and in-place forms, bound once.
_FUNCTIONS = _surface.bind(Tensor, globals())

FloatTensor = _LEGACY_TYPES["FloatTensor"]
DoubleTensor = _LEGACY_TYPES["DoubleTensor"]
HalfTensor = _LEGACY_TYPES["HalfTensor"]
LongTensor = _LEGACY_TYPES["LongTensor"]
IntTensor = _LEGACY_TYPES["IntTensor"]
ShortTensor = _LEGACY_TYPES["ShortTensor"]
CharTensor = _LEGACY_TYPES["CharTensor"]
ByteTensor = _LEGACY_TYPES["ByteTensor"]
BoolTensor = _LEGACY_TYPES["BoolTensor"]


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    return input.is_floating_point()


def numel(input) -> int:
    return input.numel()


def result_type(tensor1, tensor2):
    """torch.result_type for tensors and Python numbers."""
    return _dtype.result_type(tensor1, tensor2)


# torch's aliases; assigned last because `float`, `int`, `bool` shadow builtins here.
half = float16
double = float64
long = int64
short = int16
int = int32  # noqa: A001
float = float32  # noqa: A001
bool = _dtype.bool_  # noqa: A001

__all__ = [
    "ByteTensor", "BoolTensor", "CharTensor", "DoubleTensor", "FloatTensor", "Generator",
    "HalfTensor", "IntTensor", "LongTensor", "ShortTensor", "Size", "Tensor",
    "bool", "default_generator", "device", "double", "dtype", "enable_grad", "float",
    "float16", "float32", "float64", "get_default_dtype", "get_num_threads", "half", "int",
    "int8", "int16", "int32", "int64", "is_floating_point", "is_grad_enabled", "is_tensor",
    "linalg", "long", "nn", "no_grad", "numel", "promote_types", "random", "result_type",
    "set_grad_enabled", "set_num_threads", "short", "uint8",
]
__all__ += ["channels_last", "channels_last_3d", "contiguous_format", "memory_format",
            "preserve_format", "layout", "strided"]
__all__ += _FUNCTIONS
from . import optim as optim  # noqa: E402, I001 - torch.optim (it imports engine: last)
from . import utils as utils  # noqa: E402 - torch.utils (data, hooks)
