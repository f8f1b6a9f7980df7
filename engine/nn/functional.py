"""engine.nn.functional (``import engine.nn.functional as F``)."""

from __future__ import annotations

from .. import _ops
from .._functions import _type_error
from .._tensor import Tensor


def relu(input, inplace=False):
    if not isinstance(input, Tensor):
        raise _type_error("relu", 1, "input", "Tensor", input)
    if inplace:
        raise NotImplementedError("engine does not implement in-place ops yet (relu inplace=True)")
    return _ops.relu(input)
