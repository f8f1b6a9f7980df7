"""``torch.nn.utils.rnn``: PackedSequence and the functions that pack and pad sequences.

A PackedSequence is the time-major concatenation of a batch of sequences sorted by length:
``data`` holds step t's ``batch_sizes[t]`` rows after step t-1's.  Packing is one node
(PackPaddedSequenceBackward0, whose grad scatters back into the padded shape); padding is
ATen's composite (a filled tensor, one slice copy per run of equal batch sizes: CopySlices);
sorting is an ``index_select`` by ``sorted_indices`` and its inverse, as torch's.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import engine
from engine import Tensor

from ..._tensor import make
from ...autograd.grad_mode import state as _grad_mode
from ...autograd.node import attach, backward_node

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence",
           "pad_packed_sequence", "pad_sequence", "unpack_sequence", "unpad_sequence"]


class PackedSequence_(NamedTuple):  # noqa: N801 - torch's name
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """Holds the data and batch_sizes of a packed sequence (and its sort order)."""

    __module__ = "torch.nn.utils.rnn"

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        return super().__new__(cls, *data, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(
            data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def double(self):
        return self.to(dtype=engine.float64)

    def float(self):
        return self.to(dtype=engine.float32)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    if permutation is None:
        return None
    output = engine.empty_like(permutation)
    output.scatter_(0, permutation, engine.arange(0, permutation.numel()))
    return output


PackPaddedSequenceBackward0 = backward_node(
    "PackPaddedSequenceBackward0", fields=("input_sizes", "batch_first", "batch_sizes"),
    input=lambda node, grad: _unpack_grad(node, grad))


def _unpack_grad(node, grad):
    """The grad of the packed rows put back at their padded places (zeros elsewhere)."""
    g = grad._data
    sizes = node.input_sizes
    time_major = (sizes[1], sizes[0]) + sizes[2:] if node.batch_first else sizes
    out = np.zeros(time_major, g.dtype)
    offset = 0
    for t, size in enumerate(node.batch_sizes):
        out[t, :size] = g[offset:offset + size]
        offset += size
    if node.batch_first:
        out = np.ascontiguousarray(out.swapaxes(0, 1))
    return make(out)


def _pack(input, lengths, batch_first):
    """ATen's _pack_padded_sequence: the rows of each step, step after step."""
    x = input._data.swapaxes(0, 1) if batch_first else input._data
    lengths = [int(v) for v in lengths]
    if not lengths or lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    for a, b in zip(lengths, lengths[1:], strict=False):
        if b > a:
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
    if lengths[0] > x.shape[0]:
        raise RuntimeError(f"Expected sequence length to be less than or equal to "
                           f"{x.shape[0]}, but got {lengths[0]}")
    if len(lengths) != x.shape[1]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={x.shape[1]})")
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(lengths[0])]
    data = np.concatenate([x[t, :size] for t, size in enumerate(batch_sizes)], axis=0)
    sizes = engine.tensor(batch_sizes, dtype=engine.int64)
    if input.requires_grad and _grad_mode.enabled:
        node = PackPaddedSequenceBackward0()
        node.input_sizes, node.batch_first = tuple(input._data.shape), batch_first
        node.batch_sizes = tuple(batch_sizes)
        return attach(node, data, (input,)), sizes
    return make(data), sizes


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch of sequences of the given lengths."""
    if not isinstance(lengths, Tensor):
        lengths = engine.as_tensor(lengths, dtype=engine.int64)
    else:
        lengths = lengths.to(dtype=engine.int64)
    if enforce_sorted:
        sorted_indices = None
    else:
        lengths, sorted_indices = engine.sort(lengths, descending=True)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    data, batch_sizes = _pack(input, lengths.tolist(), batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The padded batch and the lengths of a packed sequence (in the original order)."""
    max_seq_length = sequence.batch_sizes.size(0)
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {max_seq_length}")
        max_seq_length = total_length
    padded_output, lengths = _pad_packed(sequence.data, sequence.batch_sizes, batch_first,
                                         padding_value, max_seq_length)
    unsorted_indices = sequence.unsorted_indices
    if unsorted_indices is not None:
        batch_dim = 0 if batch_first else 1
        return padded_output.index_select(batch_dim, unsorted_indices), lengths[unsorted_indices]
    return padded_output, lengths


def _pad_packed(data, batch_sizes, batch_first, padding_value, total_length):
    """ATen's _pad_packed_sequence: a filled tensor, one slice copy per run of equal sizes."""
    sizes = [int(v) for v in batch_sizes.tolist()]
    max_batch, steps = sizes[0], len(sizes)
    output = engine.full((max(total_length, steps), max_batch) + tuple(data.shape[1:]),
                         padding_value, dtype=data.dtype)
    lengths = [0] * max_batch
    offset, prev_size, prev_i = 0, max_batch, 0
    for i in range(steps + 1):
        size = sizes[i] if i != steps else 0
        if size != prev_size:
            count = prev_size * (i - prev_i)
            piece = data[offset:offset + count].view((i - prev_i, prev_size)
                                                     + tuple(data.shape[1:]))
            output[prev_i:i, :prev_size].copy_(piece)
            offset += count
            prev_i = i
        for j in range(size, prev_size):
            lengths[j] = i
        prev_size = size
    if batch_first:
        output = output.transpose(0, 1)
    return output, engine.tensor(lengths, dtype=engine.int64)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks tensors of different lengths into one padded tensor (ATen's pad_sequence)."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    max_len = max(s.size(0) for s in sequences)
    trailing = tuple(sequences[0].shape[1:])
    shape = ((len(sequences), max_len) if batch_first else (max_len, len(sequences))) + trailing
    out = engine.full(shape, padding_value, dtype=sequences[0].dtype)
    for i, seq in enumerate(sequences):
        length = seq.size(0)
        start = max_len - length if padding_side == "left" else 0
        if batch_first:
            out.select(0, i).narrow(0, start, length).copy_(seq)
        else:
            out.narrow(0, start, length).select(1, i).copy_(seq)
    return out


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences a padded batch holds, each cut to its length by a mask (as
    torch's).  torch transposes a time-major batch in place (``transpose_``) first, which
    the caller then sees; here the caller's tensor is left as it was."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    idx = engine.arange(padded_sequences.shape[1])
    return [seq[idx < length] for seq, length in zip(padded_sequences, lengths, strict=False)]


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of tensors of different lengths."""
    lengths = engine.as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of tensors a packed sequence holds."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
