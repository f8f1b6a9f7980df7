"""Resampling: F.pad (constant, reflect, replicate, circular), interpolate (nearest,
nearest-exact, linear, bilinear, bicubic, trilinear, area), pixel_shuffle/unshuffle,
channel_shuffle and affine_grid, with torch's nodes (ReflectionPad2DBackward0,
UpsampleBilinear2DBackward0, PixelShuffleBackward0 ...).

Every op here is linear in its input and separable per spatial dim, so each padded or
resampled dim is one index map (pads: an index per output position) or one weight matrix
(interpolation: ``out = W @ in`` along the dim, W built from torch's source-index formulas
in torch's accumulation type); grads are the transposed maps.  Under create_graph a grad
hangs from the backward op's node (``...BackwardBackward0``), whose grad is the op again.
Circular padding is torch's composite: slice copies into a new tensor (CopySlices).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._tensor import make
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import SECOND_BACKWARD, Node, attach, backward_node, check_saved_versions
from ..runtime.quiet import silent
from . import conv as CV
from . import creation as C
from . import pooling as PL
from . import shape as S
from .formulas import backward_op
from .operands import needs_grad


def _show(values):
    return "[" + ", ".join(map(str, values)) + "]"


# ================================================================= index maps
def _gather(x, maps, first):
    """``x`` gathered along dims ``first, first+1, ...`` by the index arrays ``maps``."""
    for k, idx in enumerate(maps):
        if idx is not None:
            x = np.take(x, idx, axis=first + k)
    return x


def _scatter(g, maps, first, sizes):
    """The transpose of ``_gather``: values added back at their source indices."""
    for k in range(len(maps) - 1, -1, -1):
        idx = maps[k]
        if idx is None:
            continue
        d = first + k
        shape = list(g.shape)
        shape[d] = sizes[k]
        out = np.zeros(shape, g.dtype)
        np.add.at(out, (slice(None),) * d + (idx,), g)
        g = out
    return g


def _pad_nodes(kind, d):
    name = f"{kind}Pad{d}D"

    def again(n, g):  # the backward op's grad: the pad again
        return _map_op(g, n.maps, n.first, n.sizes, forward_cls, backward_cls)

    def grad(n, g):
        return _map_back(g, n, backward_cls, forward_cls)

    backward_cls = backward_node(
        f"{name}BackwardBackward0", fields=("maps", "first", "sizes", "in_sizes"),
        grad_output=again, self=lambda n, g: make(np.zeros(n._meta[1][0], n._meta[1][1])))
    forward_cls = backward_node(f"{name}Backward0", saved=("self_",),
                                fields=("maps", "first", "sizes", "in_sizes"), self=grad)
    return forward_cls, backward_cls


def _map_op(input, maps, first, in_sizes, node_cls, back_cls):
    out = np.ascontiguousarray(_gather(input._data, maps, first))
    if needs_grad(input):
        node = node_cls()
        node.maps, node.first, node.in_sizes = maps, first, in_sizes
        node.sizes = in_sizes
        node.self_ = input
        return attach(node, out, (input,))
    return make(out)


def _map_back(g, n, back_cls, fwd_cls):
    data = _scatter(g._data, n.maps, n.first, n.in_sizes)
    if not _grad_mode.enabled:
        return make(data)
    return backward_op(back_cls, lambda: make(data), (g, n.self_), maps=n.maps, first=n.first,
                       sizes=n.in_sizes, in_sizes=n.in_sizes)


_PAD_NODES = {(kind, d): _pad_nodes(kind, d) for kind in ("Reflection", "Replication")
              for d in (1, 2, 3)}

_PAD_HELP = ("Supported combinations for non-constant padding:\n"
             "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
             "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
             "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _pad_index(size, left, right, mode):
    positions = np.arange(-left, size + right)
    if mode == "reflect":
        period = 2 * (size - 1)
        if period == 0:
            return np.zeros(positions.shape, np.int64)
        p = np.mod(positions, period)
        return np.where(p >= size, period - p, p).astype(np.int64)
    return np.clip(positions, 0, size - 1).astype(np.int64)


def _pad_maps(input, pad, mode):
    x = input._data
    d = len(pad) // 2
    if len(pad) % 2 or d not in (1, 2, 3) or x.ndim not in (d + 1, d + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {x.ndim}D "
                                  f"input tensor.\n{_PAD_HELP}")
    first = x.ndim - d
    maps, sizes = [], []
    for k in range(d):
        dim = x.ndim - 1 - k
        left, right = pad[2 * k], pad[2 * k + 1]
        size = x.shape[dim]
        if mode == "reflect" and (left >= size or right >= size):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({left}, {right}) at dimension {dim} of input "
                f"{_show(x.shape)}")
        if size + left + right < 1:
            axis = "WHD"[k]
            raise RuntimeError(f"input ({axis}: {size}) is too small. Calculated output "
                               f"{axis}: {size + left + right}")
        maps.append(_pad_index(size, left, right, mode))
        sizes.append(size)
    for dim in range(1 if x.ndim == d + 2 else 0, first):
        if x.shape[dim] == 0:
            dims = "2D or 3D" if d == 1 else "3D or 4D" if d == 2 else "4D or 5D"
            raise RuntimeError(f"Expected {dims} (batch mode) tensor with possibly 0 batch "
                               f"size and other non-zero dimensions for input, but got: "
                               f"{_show(x.shape)}")
    return maps[::-1], first, sizes[::-1]


def _pad_circular(input, pad):
    x = input._data
    d = len(pad) // 2
    if len(pad) % 2 or d not in (1, 2, 3) or x.ndim not in (d + 1, d + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {x.ndim}D "
                                  f"input tensor.\n{_PAD_HELP}")
    shape = list(x.shape)
    for k in range(d):
        dim = x.ndim - 1 - k
        left, right = pad[2 * k], pad[2 * k + 1]
        if left > x.shape[dim] or right > x.shape[dim]:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        shape[dim] = x.shape[dim] + left + right
    out = C.empty(shape, dtype=input.dtype)
    out_idx = [slice(None)] * x.ndim
    in_idx = [slice(None)] * x.ndim
    for k in range(d):
        dim = x.ndim - 1 - k
        left, right = pad[2 * k], pad[2 * k + 1]
        out_idx[dim] = slice(max(left, 0), shape[dim] - max(right, 0))
        in_idx[dim] = slice(max(-left, 0), x.shape[dim] - max(-right, 0))
    out[tuple(out_idx)].copy_(input[tuple(in_idx)])
    for k in range(d):
        dim = x.ndim - 1 - k
        left, right = pad[2 * k], pad[2 * k + 1]
        lead = (slice(None),) * dim
        if left > 0:
            out[lead + (slice(0, left),)].copy_(out[
                lead + (slice(shape[dim] - left - max(right, 0), shape[dim] - max(right, 0)),)])
        if right > 0:
            out[lead + (slice(shape[dim] - right, shape[dim]),)].copy_(out[
                lead + (slice(max(left, 0), max(left, 0) + right),)])
    return out


@silent
def pad(input, pad, mode="constant", value=None):
    """F.pad (torch._C._nn.pad)."""
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input._data.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {input._data.ndim}")
    if mode == "constant":
        return CV.constant_pad_nd(input, pad, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if mode == "circular":
        return _pad_circular(input, pad)
    if mode not in ("reflect", "replicate"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    maps, first, sizes = _pad_maps(input, pad, mode)
    kind = "Reflection" if mode == "reflect" else "Replication"
    fwd, back = _PAD_NODES[(kind, len(pad) // 2)]
    return _map_op(input, maps, first, sizes, fwd, back)


# ================================================================= shuffles
PixelShuffleBackward0 = backward_node(
    "PixelShuffleBackward0", fields=("factor",),
    self=lambda n, g: pixel_unshuffle(g, n.factor))
PixelUnshuffleBackward0 = backward_node(
    "PixelUnshuffleBackward0", fields=("factor",),
    self=lambda n, g: pixel_shuffle(g, n.factor))


def _unary(input, out, node_cls, **fields):
    out = np.ascontiguousarray(out)
    if needs_grad(input):
        node = node_cls()
        for k, v in fields.items():
            setattr(node, k, v)
        return attach(node, out, (input,))
    return make(out)


def pixel_shuffle(input, upscale_factor):
    x = input._data
    r = int(upscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {x.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    c, h, w = x.shape[-3:]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    lead = x.shape[:-3]
    n = len(lead)
    y = x.reshape(lead + (c // (r * r), r, r, h, w))
    y = y.transpose(tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    y = y.reshape(lead + (c // (r * r), h * r, w * r))
    return _unary(input, y, PixelShuffleBackward0, factor=r)


def pixel_unshuffle(input, downscale_factor):
    x = input._data
    r = int(downscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {x.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    c, h, w = x.shape[-3:]
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by "
                           f"downscale_factor, but input.size(-1)={w} is not divisible by {r}")
    lead = x.shape[:-3]
    n = len(lead)
    y = x.reshape(lead + (c, h // r, r, w // r, r))
    y = y.transpose(tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    y = y.reshape(lead + (c * r * r, h // r, w // r))
    return _unary(input, y, PixelUnshuffleBackward0, factor=r)


def channel_shuffle(input, groups):
    x = input._data
    if x.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {_show(x.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    c = x.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    y = x.reshape((x.shape[0], groups, c // groups) + x.shape[2:]).swapaxes(1, 2)
    y = y.reshape(x.shape)
    return _unary(input, y, ChannelShuffleBackward0, groups=groups, channels=c)


ChannelShuffleBackward0 = backward_node(
    "ChannelShuffleBackward0", fields=("groups", "channels"),
    self=lambda n, g: channel_shuffle(g, n.channels // n.groups))


# ================================================================= interpolation
_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_NODE_MODE = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear",
              "bilinear": "Bilinear", "bicubic": "Bicubic", "trilinear": "Trilinear"}


def _source_scale(in_size, out_size, align_corners, scale, acc):
    if align_corners:
        return acc((in_size - 1) / (out_size - 1)) if out_size > 1 else acc(0)
    if scale is not None and scale > 0:
        return acc(1.0 / scale)
    return acc(in_size) / acc(out_size)


def _cubic_weights(t, a=-0.75):
    x1 = t
    x2 = 1 - t
    w0 = ((a * (x1 + 1) - 5 * a) * (x1 + 1) + 8 * a) * (x1 + 1) - 4 * a
    w1 = ((a + 2) * x1 - (a + 3)) * x1 * x1 + 1
    w2 = ((a + 2) * x2 - (a + 3)) * x2 * x2 + 1
    w3 = ((a * (x2 + 1) - 5 * a) * (x2 + 1) + 8 * a) * (x2 + 1) - 4 * a
    return (w0, w1, w2, w3)


def _matrix(mode, in_size, out_size, align_corners, scale, dtype, stored=None):
    """The ``(out, in)`` interpolation matrix of one dim, from torch's CPU kernels' index
    and weight formulas (in float for float and half inputs, in double for double); each
    weight rounded to ``stored`` first when given (the half forward kernel's weight tensors)."""
    acc = np.float64 if dtype == np.float64 else np.float32

    def kept(w):
        return w if stored is None else w.astype(stored).astype(acc)
    m = np.zeros((out_size, in_size), acc)
    dst = np.arange(out_size)
    if mode in ("nearest", "nearest-exact"):
        s = np.float32(1.0 / scale) if scale is not None and scale > 0 else (
            np.float32(in_size) / np.float32(out_size))
        if mode == "nearest":
            src = np.floor(dst.astype(np.float32) * s)
        else:
            src = np.floor((dst.astype(np.float32) + np.float32(0.5)) * s)
        src = np.minimum(src.astype(np.int64), in_size - 1)
        m[dst, src] = 1
        return m
    s = _source_scale(in_size, out_size, align_corners, scale, acc)
    d = dst.astype(acc)
    real = s * d if align_corners else s * (d + acc(0.5)) - acc(0.5)
    if mode == "bicubic":
        base = np.floor(real)
        t = (real - base).astype(acc)
        base = base.astype(np.int64)
        for k, w in enumerate(_cubic_weights(t)):
            idx = np.clip(base - 1 + k, 0, in_size - 1)
            np.add.at(m, (dst, idx), kept(w.astype(acc)))
        return m
    real = np.maximum(real, acc(0))
    i0 = real.astype(np.int64)
    offset = (i0 < in_size - 1).astype(np.int64)
    l1 = kept(np.minimum(np.maximum(real - i0.astype(acc), acc(0)), acc(1)))
    l0 = kept(acc(1) - l1)  # torch: lambda0 = 1 - lambda1, both already in the stored dtype
    np.add.at(m, (dst, i0), l0)
    np.add.at(m, (dst, i0 + offset), l1)
    return m


def _int16_weights(mode, in_size, out_size, align_corners, scale, antialias=False):
    """torch's uint8 weights along one dim: per output the first source index, the number of
    sources, and their weights (computed in double, sources past an edge folded into the
    edge one) as integers scaled by ``2**precision``, the largest precision keeping the
    largest weight below 2**15."""
    taps = 4 if mode == "bicubic" else 2
    support = taps // 2
    s = _source_scale(in_size, out_size, align_corners, scale, np.float64)
    if antialias:
        first, count, weights = _antialias_weights(mode, in_size, out_size, float(s))
        return (first, *_as_int16(weights, count, float(weights.max(initial=0.0))))
    i = np.arange(out_size, dtype=np.float64)
    real = s * i if align_corners else s * (i + 0.5) - 0.5
    if mode != "bicubic" and not align_corners:
        real = np.maximum(real, 0.0)
    index = np.minimum(np.floor(real).astype(np.int64), in_size - 1)
    lam = np.minimum(np.maximum(real - index, 0.0), 1.0)
    low = index - support + 1
    first = np.maximum(low, 0)
    count = np.clip(np.minimum(index + support + 1, in_size) - first, 0, taps)
    weights = np.zeros((out_size, taps))
    rows = np.arange(out_size)
    slot = np.zeros(out_size, np.int64)
    top = 0.0  # torch's largest weight: the running maximum of the partial sums
    for j in range(taps):
        w = _filter(mode, np.abs((j + 1 - support) - lam), -0.75)
        slot = np.where(low + j <= 0, 0, np.where(low + j >= in_size - 1, count - 1, slot))
        weights[rows, slot] += w
        top = max(top, float(weights[rows, slot].max()))
        slot = slot + 1
    ints, precision = _as_int16(weights, count, top)
    return first, ints, precision


def _filter(mode, x, a):
    """The interpolation filter at distances ``x``: the cubic convolution kernel with parameter
    ``a`` (torch's -0.75, PIL's -0.5 when antialiasing) or the triangle."""
    if mode == "bicubic":
        return np.where(x < 1.0, ((a + 2) * x - (a + 3)) * x * x + 1,
                        np.where(x < 2.0, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))
    return np.where(x < 1.0, 1.0 - x, 0.0)


def _antialias_weights(mode, in_size, out_size, scale):
    """torch's antialiasing (PIL's) weights: the filter widened by the downscale factor,
    normalised to sum 1 (bicubic with a = -0.5)."""
    taps = 4 if mode == "bicubic" else 2
    support = taps * 0.5 * scale if scale >= 1.0 else taps * 0.5
    width = math.ceil(support) * 2 + 1
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    center = scale * (np.arange(out_size) + 0.5)
    first = np.maximum(np.trunc(center - support + 0.5).astype(np.int64), 0)
    count = np.clip(np.minimum(np.trunc(center + support + 0.5).astype(np.int64), in_size)
                    - first, 0, width)
    x = np.abs((np.arange(width)[None, :] + first[:, None] - center[:, None] + 0.5) * invscale)
    w = _filter(mode, x, -0.5)
    w = np.where(np.arange(width)[None, :] < count[:, None], w, 0.0)
    total = w.sum(1, keepdims=True)
    w = np.where(total != 0, w / np.where(total != 0, total, 1.0), w)
    return first, count, w


def _as_int16(weights, count, top):
    """Weights as torch's uint8 kernels use them: times ``2**precision``, rounded half away
    from zero, the precision the largest that keeps the largest weight below 2**15."""
    precision = 0
    while precision < 22 and int(0.5 + top * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    scaled = weights * (1 << precision)
    ints = np.where(scaled < 0, np.trunc(-0.5 + scaled), np.trunc(0.5 + scaled))
    ints[np.arange(weights.shape[1])[None, :] >= count[:, None]] = 0
    return ints.astype(np.int64), precision


def _resample_uint8(x, mode, output_size, align_corners, scales, antialias=False):
    """torch's uint8 bilinear/bicubic: one pass per resized dim, the last dim first, each in
    integers (source * int16 weight, + half, >> precision, clamped) and stored as uint8."""
    y = x
    dims = len(output_size)
    for k in [dims - 1] + list(range(dims - 2, -1, -1)):
        axis = 2 + k
        in_size, out_size = y.shape[axis], output_size[k]
        if in_size == out_size:
            continue
        first, ints, precision = _int16_weights(mode, in_size, out_size, align_corners,
                                                None if scales is None else scales[k],
                                                antialias)
        src = np.moveaxis(y, axis, -1).astype(np.int64)
        total = np.full(src.shape[:-1] + (out_size,), 1 << (precision - 1), np.int64)
        for j in range(ints.shape[1]):
            total += src[..., np.minimum(first + j, in_size - 1)] * ints[:, j]
        y = np.moveaxis(np.clip(total >> precision, 0, 255).astype(np.uint8), -1, axis)
    if _channels_last(x):
        return np.moveaxis(np.ascontiguousarray(np.moveaxis(y, 1, -1)), -1, 1)
    return np.ascontiguousarray(y)


def _channels_last(x) -> bool:
    """torch's suggest_memory_format: a 4-d or 5-d input whose channels are innermost."""
    if x.ndim not in (4, 5) or x.flags.c_contiguous or x.shape[1] == 1:
        return False
    order = [0] + list(range(2, x.ndim)) + [1]
    strides = [x.strides[d] for d in order]
    return all(a >= b for a, b in zip(strides, strides[1:], strict=False))


def _apply(x, mats, transpose=False):
    """``x``'s spatial dims (from 2) each multiplied by its matrix (integers rounded, as
    torch's kernels round them); channels-last inputs give channels-last outputs."""
    dtype = x.dtype
    y = x.astype(mats[0].dtype, copy=False) if mats else x
    for k, m in enumerate(mats):
        y = np.moveaxis(np.tensordot(m.T if transpose else m, y, axes=([1], [2 + k])), 0, 2 + k)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        y = np.clip(np.rint(y), info.min, info.max)
    y = y.astype(dtype, copy=False)
    if _channels_last(x):
        return np.moveaxis(np.ascontiguousarray(np.moveaxis(y, 1, -1)), -1, 1)
    return np.ascontiguousarray(y)


def _upsample_nodes(mode, d):
    label = _NODE_MODE[mode]
    suffix = "Aa" if label.endswith("Aa") else ""  # UpsampleBilinear2DAaBackward0
    name = f"Upsample{label[:len(label) - len(suffix)]}{d}D{suffix}"

    def again(n, g):
        return _upsample_op(g, n.mats, forward_cls, backward_cls)

    def grad(n, g):
        data = _apply(g._data, n.mats[1], transpose=True)
        if not _grad_mode.enabled:
            return make(data)
        return backward_op(backward_cls, lambda: make(data), (g,), mats=n.mats)

    backward_cls = backward_node(f"{name}BackwardBackward0", fields=("mats",),
                                 grad_output=again)
    forward_cls = backward_node(f"{name}Backward0", fields=("mats",), self=grad)
    return forward_cls, backward_cls


def _upsample_op(input, mats, node_cls, back_cls):
    """``mats``: the forward's matrices and the backward's (torch's half forward kernel reads
    its weights rounded to half, its backward computes them in float)."""
    out = _apply(input._data, mats[0])
    if needs_grad(input):
        node = node_cls()
        node.mats = mats
        return attach(node, out, (input,))
    return make(out)


_UPSAMPLE = {(m, d): _upsample_nodes(m, d) for m in _NODE_MODE for d in (1, 2, 3)}
_NODE_MODE.update({"bilinear-aa": "BilinearAa", "bicubic-aa": "BicubicAa"})
_UPSAMPLE.update({(m, 2): _upsample_nodes(m, 2) for m in ("bilinear-aa", "bicubic-aa")})


def _antialias_matrix(mode, in_size, out_size, align_corners, scale, dtype):
    """The ``(out, in)`` matrix of torch's antialiased interpolation along one dim."""
    s = _source_scale(in_size, out_size, align_corners, scale, np.float64)
    first, count, weights = _antialias_weights(mode, in_size, out_size, float(s))
    m = np.zeros((out_size, in_size), dtype)
    for j in range(weights.shape[1]):
        rows = np.nonzero(j < count)[0]
        m[rows, first[rows] + j] += weights[rows, j].astype(dtype)
    return m
_DIMS_OF = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """F.interpolate: torch's Python checks and output size, then the mode's upsample op."""
    x = input._data
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(x.shape[2:])} and output size "
                    f"of {size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                    f"and output size in (o1, o2, ...,oK) format.")
            output_size = [int(s) for s in size]
        else:
            output_size = [int(size)] * dim
        scale_factors = None
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    f"Input and scale_factor must have the same number of spatial dimensions, "
                    f"but got input with spatial dimensions of {list(x.shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. Please provide input tensor in "
                    f"(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) "
                    f"format.")
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor)] * dim
        output_size = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor is not None and recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor is not None and recompute_scale_factor:
        output_size = [math.floor(float(x.shape[i + 2]) * scale_factors[i])
                       for i in range(dim)]
        scale_factors = None
    if antialias and x.dtype == np.uint8 and mode in ("bilinear", "bicubic") and dim == 2:
        if output_size is None:
            output_size = [math.floor(x.shape[i + 2] * scale_factors[i]) for i in range(dim)]
        return make(_resample_uint8(x, mode, output_size, align_corners, scale_factors, True))
    if antialias and x.dtype in (np.float32, np.float64) and mode in ("bilinear", "bicubic") \
            and dim == 2:
        if output_size is None:
            output_size = [math.floor(x.shape[i + 2] * scale_factors[i]) for i in range(dim)]
        mats = tuple(_antialias_matrix(mode, x.shape[i + 2], output_size[i], align_corners,
                                       None if scale_factors is None else scale_factors[i],
                                       x.dtype) for i in range(dim))
        fwd, back = _UPSAMPLE[(mode + "-aa", dim)]
        return _upsample_op(input, (mats, mats), fwd, back)
    if antialias:
        if x.dtype == np.float16 and mode in ("bilinear", "bicubic"):
            raise NotImplementedError('"compute_index_ranges_weights" not implemented for '
                                      "'Half'")
        raise NotImplementedError("engine: interpolate(antialias=True) is not supported")
    if mode not in _MODES or dim not in (1, 2, 3):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
            f"modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            f"nearest-exact (got {mode})")
    need = _DIMS_OF.get(mode)
    if need is not None and need != dim:
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {need + 2}D "
                                  f"input")
    if output_size is None:
        output_size = [math.floor(x.shape[i + 2] * scale_factors[i]) for i in range(dim)]
    if mode == "area":
        pool = (PL.adaptive_avg_pool1d, PL.adaptive_avg_pool2d, PL.adaptive_avg_pool3d)[dim - 1]
        return pool(input, output_size if dim > 1 else output_size[0])
    for i, o in enumerate(output_size):
        if o <= 0 or x.shape[i + 2] <= 0:
            raise RuntimeError(
                f"Input and output sizes should be greater than 0, but got input "
                f"({', '.join('D: ' + str(s) for s in x.shape[2:])}) output "
                f"({', '.join(map(str, output_size))})")
    dtype = x.dtype
    if dtype == np.uint8 and mode in ("bilinear", "bicubic"):
        return make(_resample_uint8(x, mode, output_size, align_corners, scale_factors))
    mats = tuple(_matrix(mode, x.shape[i + 2], output_size[i], align_corners,
                         None if scale_factors is None else scale_factors[i], dtype)
                 for i in range(dim))
    forward = mats
    # torch's generic kernel (linear, bicubic, trilinear) stores its weights in the input's
    # dtype; its bilinear kernel for half keeps them in float
    if dtype == np.float16 and mode in ("linear", "bicubic", "trilinear"):
        forward = tuple(_matrix(mode, x.shape[i + 2], output_size[i], align_corners,
                                None if scale_factors is None else scale_factors[i], dtype,
                                np.float16) for i in range(dim))
    mats = (forward, mats)
    fwd, back = _UPSAMPLE[(mode, dim)]
    return _upsample_op(input, mats, fwd, back)


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
             recompute_scale_factor=None):
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor)


def upsample_nearest(input, size=None, scale_factor=None):
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ================================================================= affine_grid
def _base_grid(sizes, align_corners, dtype):
    def line(n):
        if n <= 1:
            return np.zeros(n, dtype)
        v = np.linspace(-1, 1, n, dtype=dtype)
        return v if align_corners else v * (n - 1) / n
    spatial = sizes[2:]
    axes = [line(n) for n in spatial[::-1]]  # x (width) first
    grids = np.meshgrid(*axes[::-1], indexing="ij")[::-1]
    base = np.stack(list(grids) + [np.ones(spatial, dtype)], axis=-1)
    return base.reshape(-1, len(spatial) + 1).astype(dtype)


def _affine_grad(n, g):
    """grad_theta = (base^T @ grad) transposed, per batch, with engine ops."""
    base = make(n.base)
    flat = g.reshape((g._data.shape[0], -1, g._data.shape[-1]))
    return S.transpose(flat, 1, 2).matmul(base)


AffineGridGeneratorBackward0 = backward_node(
    "AffineGridGeneratorBackward0", fields=("base",), theta=_affine_grad)


_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")


def affine_grid(theta, size, align_corners=None):
    """F.affine_grid: the base grid of ``size`` times ``theta``, per batch."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    t = theta._data
    if t.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    shown = size
    if len(size) == 4:
        if t.ndim != 3 or t.shape[-2:] != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{shown}. Got {theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if t.ndim != 3 or t.shape[-2:] != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{shown}. Got {theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {shown}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {shown}")
    size = [int(s) for s in size]
    base = _base_grid(size, align_corners, t.dtype)
    out = np.matmul(base[None], np.swapaxes(t, 1, 2))
    out = np.ascontiguousarray(out.reshape([size[0]] + size[2:] + [t.shape[1]]))
    if needs_grad(theta):
        node = AffineGridGeneratorBackward0()
        node.base = base
        return attach(node, out, (theta,))
    return make(out)


# ================================================================= grid_sample (2-d)
def _source_index(coord, size, align_corners, padding):
    """torch's grid_sampler_compute_source_index_set_grad: pixel coordinates from [-1, 1]
    and their derivative, after border clipping or reflection."""
    if align_corners:
        c, d = (coord + 1) / 2 * (size - 1), np.full(coord.shape, (size - 1) / 2, coord.dtype)
    else:
        c, d = ((coord + 1) * size - 1) / 2, np.full(coord.shape, size / 2, coord.dtype)
    if padding == "reflection":
        low, high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        if low == high:
            c, d = np.zeros_like(c), np.zeros_like(d)
        else:
            lo, span = low / 2, (high - low) / 2
            shifted = c - lo
            sign = np.where(shifted < 0, -1, 1).astype(c.dtype)
            shifted = np.abs(shifted)
            extra = np.fmod(shifted, span)
            even = np.floor(shifted / span) % 2 == 0
            c = np.where(even, extra + lo, span - extra + lo)
            d = d * np.where(even, sign, -sign)
    if padding in ("border", "reflection"):
        inside = (c > 0) & (c < size - 1)
        d = d * inside
        c = np.clip(c, 0, size - 1)
    return c, d


def _grid_sample_arrays(x, grid, mode, padding, align_corners, g=None):
    """The output (``g`` None) or the grads of input and grid for grad ``g``."""
    n, c, h, w = x.shape
    ix, dx = _source_index(grid[..., 0], w, align_corners, padding)
    iy, dy = _source_index(grid[..., 1], h, align_corners, padding)
    batch = np.arange(n)[:, None, None]
    if mode == "nearest":
        corners = [(np.rint(ix), np.rint(iy), None)]
    else:
        x0, y0 = np.floor(ix), np.floor(iy)
        tx, ty = ix - x0, iy - y0
        corners = [(x0, y0, ((1 - tx) * (1 - ty), -(1 - ty), -(1 - tx))),
                   (x0 + 1, y0, (tx * (1 - ty), 1 - ty, -tx)),
                   (x0, y0 + 1, ((1 - tx) * ty, -ty, 1 - tx)),
                   (x0 + 1, y0 + 1, (tx * ty, ty, tx))]
    xs = np.moveaxis(x, 1, -1)  # (n, h, w, c)
    if g is None:
        out = np.zeros((n, grid.shape[1], grid.shape[2], c), x.dtype)
    else:
        gs = np.moveaxis(g, 1, -1)
        gin = np.zeros_like(xs)
        gix = np.zeros(ix.shape, x.dtype)
        giy = np.zeros(iy.shape, x.dtype)
    for cx, cy, wts in corners:
        ok = (cx >= 0) & (cx <= w - 1) & (cy >= 0) & (cy <= h - 1)
        xi = np.where(ok, cx, 0).astype(np.int64)
        yi = np.where(ok, cy, 0).astype(np.int64)
        val = xs[batch, yi, xi] * ok[..., None]
        weight = np.ones(ix.shape, x.dtype) if wts is None else wts[0]
        if g is None:
            out += val * weight[..., None]
            continue
        np.add.at(gin, (np.broadcast_to(batch, xi.shape)[ok], yi[ok], xi[ok]),
                  (gs * weight[..., None])[ok])
        if wts is not None:
            dot = (val * gs).sum(-1)
            gix += wts[1] * dot
            giy += wts[2] * dot
    if g is None:
        return np.ascontiguousarray(np.moveaxis(out, -1, 1))
    ggrid = np.stack([gix * dx, giy * dy], -1).astype(grid.dtype)
    return np.ascontiguousarray(np.moveaxis(gin, -1, 1)), ggrid


def _grid_grads(n, g, need):
    gin, ggrid = _grid_sample_arrays(n.input._data, n.grid._data, n.mode, n.padding,
                                     n.align_corners, g._data)
    grads = [make(gin) if need[0] else None, make(ggrid) if need[1] else None]
    if _grad_mode.enabled:  # torch differentiates its backward op; the engine cannot yet
        grads = [None if t is None else attach(GridSampler2DBackwardBackward0(), t._data,
                                               (g, n.input, n.grid)) for t in grads]
    return grads


def _no_double_backward(n, g):
    raise NotImplementedError("engine: the derivative of grid_sampler_2d_backward is not "
                              "implemented")


GridSampler2DBackwardBackward0 = backward_node(
    "GridSampler2DBackwardBackward0", grad_output=_no_double_backward,
    input=_no_double_backward, grid=_no_double_backward)


class _GridNode(Node):
    __slots__ = ()

    def apply(self, grad):
        if self._freed:
            raise RuntimeError(SECOND_BACKWARD)
        check_saved_versions(self)
        return _grid_grads(self, grad, [e[0] is not None for e in self.next_functions])


GridSampler2DBackward0 = backward_node(
    "GridSampler2DBackward0", saved=("input", "grid"),
    fields=("mode", "padding", "align_corners"), base=_GridNode,
    input=lambda n, g: _grid_grads(n, g, (True, False))[0],
    grid=lambda n, g: _grid_grads(n, g, (False, True))[1])


@silent
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """F.grid_sample for 4-d inputs (bilinear and nearest)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    x, gr = input._data, grid._data
    if x.ndim != 4 or mode == "bicubic":
        raise NotImplementedError("engine: grid_sample supports 4-d inputs in bilinear and "
                                  "nearest modes only")
    out = _grid_sample_arrays(x, gr.astype(x.dtype), mode, padding_mode, align_corners)
    if needs_grad(input, grid):
        node = GridSampler2DBackward0()
        node.input, node.grid = input, grid
        node.mode, node.padding, node.align_corners = mode, padding_mode, align_corners
        return attach(node, out, (input, grid))
    return make(out)


__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "affine_grid", "grid_sample"]
