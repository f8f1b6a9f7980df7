"""``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d`` with torch's parameter shapes, initialisation
(kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))), checks and reprs."""

from __future__ import annotations

import math

import engine

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d"]


def _ntuple(value, n):
    """torch's ``_single``/``_pair``/``_triple``: a sequence as a tuple, anything else
    repeated."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * n


class _ConvNd(Module):
    __constants__ = ["stride", "padding", "dilation", "groups", "padding_mode", "output_padding",
                     "in_channels", "out_channels", "kernel_size"]

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        valid_padding_strings = {"same", "valid"}
        if isinstance(padding, str):
            if padding not in valid_padding_strings:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{valid_padding_strings}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        valid_padding_modes = {"zeros", "reflect", "replicate", "circular"}
        if padding_mode not in valid_padding_modes:
            raise ValueError(f"padding_mode must be one of {valid_padding_modes}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(self.padding, str):
            self._reversed_padding_repeated_twice = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1),
                                   strict=False):
                    total = d * (k - 1)
                    self._reversed_padding_repeated_twice[2 * i] = total // 2
                    self._reversed_padding_repeated_twice[2 * i + 1] = total - total // 2
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(self.padding)
                                                     for _ in range(2)]
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + tuple(kernel_size)
        self.weight = Parameter(engine.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(engine.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)


def _conv_class(d, name):
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]

    class Conv(_ConvNd):
        __module__ = "torch.nn.modules.conv"

        def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                     dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                     dtype=None):
            super().__init__(
                in_channels, out_channels, _ntuple(kernel_size, d), _ntuple(stride, d),
                padding if isinstance(padding, str) else _ntuple(padding, d),
                _ntuple(dilation, d), False, _ntuple(0, d), groups, bias, padding_mode,
                device, dtype)

        def _conv_forward(self, input, weight, bias):
            if self.padding_mode != "zeros":  # F.pad's modes (reflect, replicate, circular)
                pad = getattr(F, "pad", None)
                if pad is None:
                    raise NotImplementedError(
                        f"engine has no F.pad yet: padding_mode='{self.padding_mode}'")
                padded = pad(input, self._reversed_padding_repeated_twice,
                             mode=self.padding_mode)
                return conv(padded, weight, bias, self.stride, _ntuple(0, d), self.dilation,
                            self.groups)
            return conv(input, weight, bias, self.stride, self.padding, self.dilation,
                        self.groups)

        def forward(self, input):
            return self._conv_forward(input, self.weight, self.bias)

    Conv.__name__ = Conv.__qualname__ = name
    return Conv


Conv1d = _conv_class(1, "Conv1d")
Conv2d = _conv_class(2, "Conv2d")
Conv3d = _conv_class(3, "Conv3d")


class _ConvTransposeNd(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None):
        if padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {self.__class__.__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         transposed, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size, stride, padding, kernel_size,
                        num_spatial_dims, dilation=None):
        """torch's: the output_padding that gives ``output_size`` (or the module's)."""
        if output_size is None:
            return _ntuple(self.output_padding, 1)
        has_batch_dim = input.dim() == num_spatial_dims + 2
        num_non_spatial_dims = 2 if has_batch_dim else 1
        if len(output_size) == num_non_spatial_dims + num_spatial_dims:
            output_size = output_size[num_non_spatial_dims:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(
                f"ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, output_size must "
                f"have {num_spatial_dims} or {num_non_spatial_dims + num_spatial_dims} elements "
                f"(got {len(output_size)})")
        min_sizes, max_sizes = [], []
        for i in range(num_spatial_dims):
            dim_size = ((input.size(i + num_non_spatial_dims) - 1) * stride[i] - 2 * padding[i]
                        + (dilation[i] if dilation is not None else 1) * (kernel_size[i] - 1)
                        + 1)
            min_sizes.append(dim_size)
            max_sizes.append(min_sizes[i] + stride[i] - 1)
        for i in range(len(output_size)):
            size, low, high = output_size[i], min_sizes[i], max_sizes[i]
            if size < low or size > high:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from "
                    f"{min_sizes} to {max_sizes} (for an input of {input.size()[2:]})")
        return [output_size[i] - min_sizes[i] for i in range(num_spatial_dims)]


def _conv_transpose_class(d, name):
    conv = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[d]

    class ConvTranspose(_ConvTransposeNd):
        __module__ = "torch.nn.modules.conv"

        def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                     output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                     device=None, dtype=None):
            super().__init__(
                in_channels, out_channels, _ntuple(kernel_size, d), _ntuple(stride, d),
                _ntuple(padding, d), _ntuple(dilation, d), True, _ntuple(output_padding, d),
                groups, bias, padding_mode, device, dtype)

        def forward(self, input, output_size=None):
            if self.padding_mode != "zeros":
                raise ValueError(f"Only `zeros` padding mode is supported for {name}")
            output_padding = self._output_padding(input, output_size, self.stride,
                                                  self.padding, self.kernel_size, d,
                                                  self.dilation)
            return conv(input, self.weight, self.bias, self.stride, self.padding,
                        output_padding, self.groups, self.dilation)

    ConvTranspose.__name__ = ConvTranspose.__qualname__ = name
    return ConvTranspose


ConvTranspose1d = _conv_transpose_class(1, "ConvTranspose1d")
ConvTranspose2d = _conv_transpose_class(2, "ConvTranspose2d")
ConvTranspose3d = _conv_transpose_class(3, "ConvTranspose3d")
