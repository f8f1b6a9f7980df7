"""``torch.native_group_norm``: group_norm's output with its statistics, all three outputs of
one NativeGroupNormBackward0 as in torch (normalization.py builds the node and its grads).
"""

from __future__ import annotations

from . import normalization as NO


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):  # noqa: N803
    """torch.native_group_norm: (output, mean, rstd), mean and rstd of shape (N, group)."""
    return tuple(NO.native_group_norm_op(input, group, weight, bias, eps))


__all__ = ["native_group_norm"]
