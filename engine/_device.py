"""torch.device, CPU only: enough for ``x.device`` to print and compare like torch's."""

from __future__ import annotations


class device:  # noqa: N801 - torch's spelling
    __slots__ = ("type", "index")
    __module__ = "torch"

    def __init__(self, type="cpu", index=None):  # noqa: A002 - torch's parameter name
        if isinstance(type, device):
            type, index = type.type, type.index
        if type != "cpu":
            raise RuntimeError(f"engine only supports the cpu device, got {type!r}")
        self.type = type
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, device):
            return self.type == other.type and self.index == other.index
        return NotImplemented

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")
