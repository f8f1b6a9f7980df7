"""Embeddings: embedding (EmbeddingBackward0; under create_graph its grad hangs from
EmbeddingDenseBackwardBackward0, a gather of the grad's grad), embedding_bag
(EmbeddingBagBackward0, sum/mean/max over bags given by offsets, per-sample weights) and
one_hot, with F's argument checks and the in-place renormalisation of ``max_norm``.

A lookup is a row gather; its grad is the rows added back at their indices (``np.add.at``),
the padding row left out and, with ``scale_grad_by_freq``, each row divided by how often its
index occurs.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._dtype import FROM_NUMPY, legacy_type_name
from .._tensor import make, version_counter
from ..autograd.grad_mode import no_grad
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import SECOND_BACKWARD, Node, attach, backward_node, check_saved_versions
from ..runtime.quiet import silent
from .formulas import backward_op
from .operands import needs_grad


def _check_indices(indices, fname):
    if indices._data.dtype not in (np.int64, np.int32):
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {legacy_type_name(FROM_NUMPY[indices._data.dtype])} "
            f"instead (while checking arguments for {fname})")


def _rows_added(grad, index, num_weights, padding_idx, scale):
    """torch's embedding_dense_backward on arrays: grad rows added at their indices."""
    dim = grad.shape[-1]
    g = grad.reshape(-1, dim)
    idx = index.reshape(-1)
    if scale:
        counts = np.bincount(idx, minlength=num_weights)
        g = g / counts[idx, None].astype(g.dtype)
    if padding_idx >= 0:
        keep = idx != padding_idx
        g, idx = g[keep], idx[keep]
    out = np.zeros((num_weights, dim), grad.dtype)
    np.add.at(out, idx, g)
    return out


def _gathered(n, g):
    """The grad of embedding_dense_backward for its grad_output: rows of ``g`` gathered,
    the padding rows zero (torch's embedding_dense_double_backward does not scale by
    frequency again)."""
    idx = n.indices.reshape(-1)
    rows = g._data[idx]
    if n.padding_idx >= 0:
        rows[idx == n.padding_idx] = 0
    return _gather_node(g, n, rows)


def _gather_node(g, n, rows):
    data = rows.reshape(n.out_shape)
    if needs_grad(g):
        node = EmbeddingBackward0()
        node.indices, node.num_weights = n.indices, g._data.shape[0]
        node.padding_idx, node.scale = n.padding_idx, n.scale
        return attach(node, data, (g,))
    return make(data)


EmbeddingDenseBackwardBackward0 = backward_node(
    "EmbeddingDenseBackwardBackward0", fields=("indices", "padding_idx", "scale", "out_shape"),
    grad_output=_gathered)


def _embedding_grad(n, g):
    data = _rows_added(g._data, n.indices, n.num_weights, n.padding_idx, n.scale)
    if not _grad_mode.enabled:
        return make(data)
    return backward_op(EmbeddingDenseBackwardBackward0, lambda: make(data), (g,),
                       indices=n.indices, padding_idx=n.padding_idx, scale=n.scale,
                       out_shape=g._data.shape)


EmbeddingBackward0 = backward_node(
    "EmbeddingBackward0", fields=("indices", "num_weights", "padding_idx", "scale"),
    weight=_embedding_grad)


def torch_embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """torch.embedding: rows of ``weight`` at ``indices``."""
    w = weight._data
    if w.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_indices(indices, "embedding")
    idx = indices._data
    if idx.size and (idx.min() < 0 or idx.max() >= w.shape[0]):
        raise IndexError("index out of range in self")
    out = w[idx.reshape(-1)].reshape(idx.shape + (w.shape[1],))
    if needs_grad(weight):
        node = EmbeddingBackward0()
        node.indices, node.num_weights = idx.astype(np.int64), w.shape[0]
        node.padding_idx, node.scale = padding_idx, bool(scale_grad_by_freq)
        return attach(node, out, (weight,))
    return make(out)


@silent
def embedding_renorm_(weight, indices, max_norm, norm_type):
    """torch.embedding_renorm_: rows used by ``indices`` whose norm exceeds ``max_norm``
    scaled down to it, in place."""
    w = weight._data
    rows = np.unique(indices._data.reshape(-1))
    if rows.size:
        values = w[rows]
        wide = values.astype(np.float64) if w.dtype == np.float16 else values
        if norm_type == 1:
            norms = np.abs(wide).sum(1)
        elif norm_type == 2:
            norms = np.sqrt((wide * wide).sum(1))
        else:
            norms = (np.abs(wide) ** norm_type).sum(1) ** (1.0 / norm_type)
        big = norms > max_norm
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        w[rows[big]] = values[big] * scale[:, None]
    version_counter(weight).value += 1
    return weight


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """F.embedding."""
    padding_idx = _padding(padding_idx, weight)
    if max_norm is not None:
        with no_grad():
            embedding_renorm_(weight, input, max_norm, norm_type)
    return torch_embedding(weight, input, padding_idx, scale_grad_by_freq, sparse)


def _padding(padding_idx, weight):
    if padding_idx is None:
        return -1
    n = weight._data.shape[0]
    if padding_idx > 0:
        if padding_idx >= n:
            raise AssertionError("Padding_idx must be within num_embeddings")
    elif padding_idx < 0:
        if padding_idx < -n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = n + padding_idx
    return padding_idx


# ================================================================= embedding_bag
def _bag_grads(n, g, need):
    gd = g._data
    idx, bags = n.indices, n.bags
    keep = idx != n.padding_idx if n.padding_idx >= 0 else np.ones(idx.shape, bool)
    out = [None, None]
    if need[0]:
        if n.mode == 2:
            res = np.zeros(n.weight_shape, gd.dtype)
            valid = n.max_indices >= 0
            cols = np.broadcast_to(np.arange(gd.shape[1]), gd.shape)
            np.add.at(res, (n.max_indices[valid], cols[valid]), gd[valid])
        else:
            rows = gd[bags]
            if n.mode == 1:
                rows = rows / np.maximum(n.counts[bags], 1)[:, None].astype(gd.dtype)
            if n.psw is not None:
                rows = rows * n.psw._data[:bags.size, None]
            if n.scale:
                counts = np.bincount(idx, minlength=n.weight_shape[0])
                rows = rows / counts[idx, None].astype(gd.dtype)
            res = np.zeros(n.weight_shape, gd.dtype)
            np.add.at(res, idx[keep], rows[keep])
        out[0] = make(res)
    if need[1]:  # half dot products in float, as torch's kernel
        acc = np.float32 if gd.dtype == np.float16 else gd.dtype
        values = np.zeros(n.psw._data.shape, acc)
        values[:bags.size] = (gd[bags].astype(acc) * n.weight._data[idx].astype(acc)).sum(1) * keep
        out[1] = make(values.astype(n.psw._data.dtype))
    if _grad_mode.enabled:
        raise NotImplementedError("the derivative for '_embedding_bag_backward' is not "
                                  "implemented.")
    return out


class _BagNode(Node):
    """Computes the grads of weight and per_sample_weights in one call."""

    __slots__ = ()

    def apply(self, grad):
        if self._freed:
            raise RuntimeError(SECOND_BACKWARD)
        check_saved_versions(self)
        return _bag_grads(self, grad, [e[0] is not None for e in self.next_functions])


EmbeddingBagBackward0 = backward_node(
    "EmbeddingBagBackward0", saved=("weight", "psw"),
    fields=("indices", "bags", "counts", "max_indices", "mode", "padding_idx", "scale",
            "weight_shape"), base=_BagNode,
    weight=lambda n, g: _bag_grads(n, g, (True, False))[0],
    per_sample_weights=lambda n, g: _bag_grads(n, g, (False, True))[1])


@silent
def _embedding_bag(weight, input, offsets, scale_grad_by_freq, mode, per_sample_weights,
                   include_last_offset, padding_idx):
    w = weight._data
    idx = input._data.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= w.shape[0]):
        raise IndexError("index out of range in self")
    offs = offsets._data.astype(np.int64)
    if offs.size and offs[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                           f"mini-batch has to start from position 0. However, got {offs[0]}")
    # with include_last_offset the last bag still runs to the end of the input, as in torch
    starts = offs if not include_last_offset else offs[:-1]
    ends = np.append(offs[1:starts.size], idx.size)[:starts.size]
    nbags = starts.size
    bags = np.repeat(np.arange(nbags), np.maximum(ends - starts, 0))
    if bags.size < idx.size:  # indices past the last bag's end belong to no bag
        idx_used = idx[:bags.size]
    else:
        idx_used = idx
    keep = idx_used != padding_idx if padding_idx >= 0 else np.ones(idx_used.shape, bool)
    dim = w.shape[1]
    out = np.zeros((nbags, dim), w.dtype)
    counts = np.bincount(bags[keep], minlength=nbags)
    max_indices = None
    psw = per_sample_weights
    if mode == 2:
        max_indices = np.full((nbags, dim), -1, np.int64)
        for b in range(nbags):
            rows = idx_used[(bags == b) & keep]
            if rows.size:
                values = w[rows]
                arg = values.argmax(0)
                out[b] = values[arg, np.arange(dim)]
                max_indices[b] = rows[arg]
    else:
        acc = np.float32 if w.dtype == np.float16 else w.dtype  # half bags add in float
        out = out.astype(acc)
        rows = w[idx_used].astype(acc)
        if psw is not None:
            rows = rows * psw._data[:bags.size, None].astype(acc)
        np.add.at(out, bags[keep], rows[keep])
        if mode == 1:
            out = out / np.maximum(counts, 1)[:, None].astype(acc)
    out = out.astype(w.dtype, copy=False)
    if needs_grad(weight, psw):
        node = EmbeddingBagBackward0()
        node.weight, node.psw = weight, psw
        node.indices, node.bags, node.counts = idx_used, bags, counts
        node.max_indices, node.mode, node.padding_idx = max_indices, mode, padding_idx
        node.scale, node.weight_shape = bool(scale_grad_by_freq), w.shape
        return attach(node, out, (weight, psw))
    return make(out)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """F.embedding_bag: its argument checks, then the bags reduced."""
    if weight._data.dtype == np.int64 and input._data.dtype.kind == "f":
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=2)
        input, weight = weight, input
    if per_sample_weights is not None and input._data.shape != per_sample_weights._data.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight._data.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight._data.ndim}")
    if input._data.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets)}")
        rows, cols = input._data.shape
        offsets = make(np.arange(0, rows * cols, max(cols, 1), dtype=input._data.dtype)
                       if cols else np.zeros(0, input._data.dtype))
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input._data.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets._data.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input._data.ndim}")
    if mode == "sum":
        mode_enum = 0
    elif mode == "mean":
        mode_enum = 1
    elif mode == "max":
        mode_enum = 2
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    else:
        raise ValueError("mode has to be one of sum, mean or max")
    if max_norm is not None:
        with no_grad():
            embedding_renorm_(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "the Pytorch GitHub.")
    _check_indices(input, "embedding_bag")
    pad = _padding(padding_idx, weight)
    return _embedding_bag(weight, input, offsets, scale_grad_by_freq, mode_enum,
                          per_sample_weights, include_last_offset, pad)


# ================================================================= one_hot
def one_hot(tensor, num_classes=-1):
    """F.one_hot: int64 classes as rows of an int64 identity."""
    x = tensor._data
    if x.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if x.size == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return make(np.zeros(x.shape + (num_classes,), np.int64))
    if x.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(x.max()) + 1
    elif x.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(x.shape + (num_classes,), np.int64)
    np.put_along_axis(out, x[..., None], 1, axis=-1)
    return make(out)


__all__ = ["embedding", "embedding_bag", "one_hot", "embedding_renorm_"]
