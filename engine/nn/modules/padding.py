"""The padding modules (torch.nn.modules.padding): ZeroPad, ConstantPad, ReflectionPad,
ReplicationPad and CircularPad in 1, 2 and 3 dims over F.pad, the padding expanded to a
tuple as torch's ``_ntuple`` does."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = [f"{kind}Pad{d}d" for kind in ("Zero", "Constant", "Reflection", "Replication",
                                         "Circular") for d in (1, 2, 3)]


def _ntuple(value, n):
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * n


class _ConstantPadNd(Module):
    __module__ = "torch.nn.modules.padding"
    __constants__ = ["padding", "value"]

    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ModePadNd(Module):
    __module__ = "torch.nn.modules.padding"
    __constants__ = ["padding"]
    mode = "reflect"

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


def _constant(name, d):
    def __init__(self, padding, value):
        _ConstantPadNd.__init__(self, value)
        self.padding = _ntuple(padding, 2 * d)

    return type(name, (_ConstantPadNd,), {"__init__": __init__,
                                          "__module__": "torch.nn.modules.padding"})


def _zero(name, base):
    def __init__(self, padding):
        base.__init__(self, padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"

    return type(name, (base,), {"__init__": __init__, "extra_repr": extra_repr,
                                "__module__": "torch.nn.modules.padding"})


def _mode(name, mode, d):
    def __init__(self, padding):
        Module.__init__(self)
        self.padding = _ntuple(padding, 2 * d)

    return type(name, (_ModePadNd,), {"__init__": __init__, "mode": mode,
                                      "__module__": "torch.nn.modules.padding"})


ConstantPad1d = _constant("ConstantPad1d", 1)
ConstantPad2d = _constant("ConstantPad2d", 2)
ConstantPad3d = _constant("ConstantPad3d", 3)
ZeroPad1d = _zero("ZeroPad1d", ConstantPad1d)
ZeroPad2d = _zero("ZeroPad2d", ConstantPad2d)
ZeroPad3d = _zero("ZeroPad3d", ConstantPad3d)
ReflectionPad1d = _mode("ReflectionPad1d", "reflect", 1)
ReflectionPad2d = _mode("ReflectionPad2d", "reflect", 2)
ReflectionPad3d = _mode("ReflectionPad3d", "reflect", 3)
ReplicationPad1d = _mode("ReplicationPad1d", "replicate", 1)
ReplicationPad2d = _mode("ReplicationPad2d", "replicate", 2)
ReplicationPad3d = _mode("ReplicationPad3d", "replicate", 3)
CircularPad1d = _mode("CircularPad1d", "circular", 1)
CircularPad2d = _mode("CircularPad2d", "circular", 2)
CircularPad3d = _mode("CircularPad3d", "circular", 3)
