"""torch.Size: a tuple of ints that prints as ``torch.Size([2, 2])``."""

from __future__ import annotations

import operator


class Size(tuple):
    __slots__ = ()
    __module__ = "torch"

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for i, s in enumerate(sizes):
            if type(s) is not int:
                try:
                    sizes = sizes[:i] + (operator.index(s),) + sizes[i + 1:]
                except TypeError:
                    raise TypeError(
                        f"torch.Size() takes an iterable of 'int' (item {i} is "
                        f"'{type(s).__name__}')"
                    ) from None
        return tuple.__new__(cls, sizes)

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            raise TypeError(
                f"can only concatenate tuple (not {type(other).__name__}) to torch.Size"
            )
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self):
        return (_rebuild, (tuple(self),))  # by function: the class claims module "torch"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


def _rebuild(sizes):
    return Size(sizes)
