"""A numpy autograd engine that mirrors PyTorch's public API: ``import engine as torch``.

Module map: _dtype (dtypes, promotion), _size, _device, _grad_mode, _tensor (Tensor state),
_ops (forward math), _derivatives (backward nodes, one per torch grad_fn), _node (graph
wiring), _autograd (the backward loop), _creation (factories), _functions/_methods (the
torch.* call forms and Tensor methods), _tensor_str (printing), nn.functional.
Autograd semantics: _inplace (in-place ops, __setitem__, CopySlices), _hooks (register_hook,
retain_grad), autograd (torch.autograd.grad/backward/graph).
"""

from . import autograd as autograd  # first: it loads the ops (until the layers are untangled)

# isort: split
from . import _dtype, nn
from . import _methods as _methods  # binds the ops onto Tensor as methods and operators
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
from ._functions import (
    abs,
    add,
    clone,
    div,
    eq,
    exp,
    ge,
    gt,
    le,
    log,
    lt,
    mean,
    mul,
    ne,
    neg,
    norm,
    pow,
    reciprocal,
    relu,
    rsub,
    sub,
    sum,
    where,
)
from ._size import Size
from ._tensor import Tensor
from .autograd import inplace as _inplace  # noqa: F401 - binds add_, +=, __setitem__ ... onto Tensor
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops.creation import LEGACY_TYPES as _LEGACY_TYPES
from .ops.creation import (
    Generator,
    arange,
    default_generator,
    empty,
    full,
    full_like,
    initial_seed,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .ops.surface import FUNCTIONS as _SURFACE
from .runtime.blas import get_num_threads, set_num_threads

globals().update(_SURFACE)  # the op families' torch.* functions (sqrt, clamp, cat, matmul ...)

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
    "abs", "add", "arange", "bool", "clone", "default_generator", "device", "div", "double",
    "dtype", "empty", "enable_grad", "eq", "exp", "float", "float16", "float32", "float64",
    "full", "full_like", "ge", "get_default_dtype", "get_num_threads", "gt", "half",
    "initial_seed", "int",
    "int8", "int16", "int32", "int64", "is_floating_point", "is_grad_enabled", "is_tensor",
    "le", "log", "long", "lt", "manual_seed", "mean", "mul", "ne", "neg", "nn", "no_grad",
    "norm", "numel", "ones", "ones_like", "pow", "promote_types", "rand", "randn",
    "reciprocal", "relu", "result_type", "rsub", "set_grad_enabled", "set_num_threads",
    "short", "sub", "sum",
    "tensor", "uint8", "where", "zeros", "zeros_like",
]
__all__ += sorted(_SURFACE)
