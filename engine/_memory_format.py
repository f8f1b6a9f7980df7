"""torch.memory_format values (``torch.contiguous_format`` ...): the layouts an op may be
asked for.  The engine's tensors are numpy arrays; ops that take ``memory_format=`` accept
these and give torch's default (contiguous or preserved) layout."""

from __future__ import annotations


class _TorchName:
    """A named torch constant: prints and pickles as ``torch.<name>``."""

    __slots__ = ("_name",)
    __module__ = "torch"

    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self):
        return self._name


class memory_format(_TorchName):  # noqa: N801 - torch's name
    __slots__ = ()
    __module__ = "torch"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


class layout(_TorchName):  # noqa: N801 - torch's name
    """torch.layout: the engine's tensors are all strided (dense); factories accept it."""

    __slots__ = ()
    __module__ = "torch"


strided = layout("strided")
