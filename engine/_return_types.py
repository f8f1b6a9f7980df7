"""torch.return_types: the named tuples ``max(dim)``, ``min(dim)`` & co return."""

from __future__ import annotations


class _ValuesIndices(tuple):
    """A (values, indices) pair that prints as torch's structseq does."""

    __slots__ = ()
    __module__ = "torch.return_types"
    n_fields = n_sequence_fields = 2
    n_unnamed_fields = 0

    def __new__(cls, values, indices):
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return (f"torch.return_types.{type(self).__name__}(\nvalues={self[0]!r},\n"
                f"indices={self[1]!r})")

    __str__ = __repr__

    def __reduce__(self):
        return (return_type, (type(self).__name__, self[0], self[1]))


TYPES = {
    name: type(name, (_ValuesIndices,), {"__slots__": (), "__module__": "torch.return_types"})
    for name in ("max", "min", "sort", "topk", "kthvalue", "mode", "median", "nanmedian", "cummax",
                 "cummin")
}


def return_type(name, values, indices):
    return TYPES[name](values, indices)
