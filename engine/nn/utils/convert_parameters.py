"""``parameters_to_vector`` and ``vector_to_parameters`` (one flat tensor <-> parameters)."""

from __future__ import annotations

import engine
from engine import Tensor

from ..modules.module import typename

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated (differentiable: views and one cat)."""
    return engine.cat([param.view(-1) for param in parameters])


def vector_to_parameters(vec, parameters):
    """Points each parameter's ``data`` at its slice of ``vec``."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {typename(vec)}")
    pointer = 0
    for param in parameters:
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
