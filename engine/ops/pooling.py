"""Pooling: max pooling with indices (MaxPool2DWithIndicesBackward0, MaxPool3D...), average
pooling (AvgPool2DBackward0, AvgPool3D...), adaptive average and max pooling
(AdaptiveAvgPool2DBackward0, AdaptiveMaxPool2DBackward0 ...), max unpooling
(MaxUnpool2DBackward0, MaxUnpool3D...) and power-average pooling, with torch's functional
forms and errors.

As in torch, the 1-d ops are their 2-d op on ``input.unsqueeze(-2)``, squeezed back
(UnsqueezeBackward0 and SqueezeBackward1 around the 2-d node); adaptive average pooling to a
single output element is a ``mean`` (MeanBackward1); lp_pool is a composite of pow, avg_pool,
sign, relu, abs and mul.  Each pooling op with a backward op of its own in torch
(``max_pool2d_with_indices_backward``, ``avg_pool2d_backward`` ...) records, under
create_graph, that op's node (``...BackwardBackward0``), whose grad is the pooling again (or
a gather by the indices) for ``grad_output`` and zeros for ``self``.

Windows are strided views of the padded input (kernel offsets, then output positions), so a
pooling is one reduction over the kernel axes; grads go back with one strided add per kernel
offset (average pooling) or a scatter by the indices (max pooling).  Adaptive pooling is
separable: average pooling is a product with a 0/1 window matrix per spatial dim, max pooling
a masked argmax per dim that keeps the first maximum in row-major order, as torch's kernels.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from .._tensor import Tensor, make, wrap_dim
from ..autograd.node import attach, backward_node
from . import elementwise as E
from . import indexing as I
from . import reductions as R
from . import shape as S
from .conv import channels_last, to_channels_last, windows
from .formulas import backward_op
from .operands import needs_grad

_NAMES = {2: "two", 3: "three"}
_WIDE = {np.dtype(np.float16): np.dtype(np.float32)}  # float16 pools accumulate in float


def _show(values):
    return "[" + ", ".join(map(str, values)) + "]"


def _ints(value, n, fname, pname, optional=False):
    """An ``int[n]`` argument as torch's parser takes it (one int for every dim, or a list)."""
    if value is None and optional:
        return []
    if isinstance(value, Tensor) and value._data.ndim == 0 and value._data.dtype.kind in "iu":
        value = int(value._data)
    if isinstance(value, int) and not isinstance(value, bool):
        return [value] * n
    if isinstance(value, (list, tuple)) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return list(value)
    raise TypeError(f"{fname}(): argument '{pname}' must be tuple of ints, not "
                    f"{type(value).__name__}")


def _check_tensor(value, fname, pname="input", position=1):
    if not isinstance(value, Tensor):
        raise TypeError(f"{fname}(): argument '{pname}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


def _one_or_n(values, n, what):
    """``[v]`` or ``[v1, ..., vn]`` to n values (torch's ``size() == 1 ? x[0] : x[i]``)."""
    return values * n if len(values) == 1 else list(values)


def output_size(size, kernel, pad, stride, dilation, ceil_mode):
    """torch's pooling_output_shape (with its checks of the padding)."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    if pad > int(((kernel - 1) * dilation + 1) / 2):  # C++ division truncates toward zero
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got pad={pad}, "
            f"kernel_size={kernel} and dilation={dilation}")
    out = (size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0))
    out = out // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _padded(x, pad, extra, fill):
    """``x`` padded with ``fill`` by ``pad`` on both sides of its spatial dims, plus ``extra``
    more on the right (the windows ceil_mode adds)."""
    d = len(pad)
    if not any(pad) and not any(extra):
        return x
    lead = x.shape[:-d]
    out = np.full(lead + tuple(s + 2 * p + e for s, p, e in zip(x.shape[-d:], pad, extra,
                                                                 strict=True)), fill, x.dtype)
    out[(Ellipsis,) + tuple(slice(p, p + s) for s, p in zip(x.shape[-d:], pad, strict=True))] = x
    return out


def _extra(size, out, kernel, pad, stride, dilation):
    """How far the last window reaches past the padded input (ceil_mode)."""
    return [max(0, (o - 1) * t + d * (k - 1) + 1 - (s + 2 * p)) for s, o, k, p, t, d in zip(
        size, out, kernel, pad, stride, dilation, strict=True)]


def _kernel_last(win, d):
    """The windows ``(*lead, *kernel, *out)`` as ``(*lead, *out, prod(kernel))`` (a copy)."""
    n = win.ndim
    lead = n - 2 * d
    order = tuple(range(lead)) + tuple(range(lead + d, n)) + tuple(range(lead, lead + d))
    out = win.transpose(order)
    return out.reshape(out.shape[:lead + d] + (math.prod(win.shape[lead:lead + d]),))


def _like(out, x, ndim=4):
    """``out`` in ``x``'s memory format: torch's 2-d pooling (and 3-d max pooling) outputs
    and grads are channels-last when the input is, contiguous otherwise (numpy's window
    reductions keep the order of a permuted input's strides)."""
    if x.ndim == ndim and channels_last(x):
        return to_channels_last(out)
    return out if out.flags.c_contiguous else np.ascontiguousarray(out)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


# ================================================================= max pooling
def _max_pool_array(x, kernel, stride, pad, dilation, out):
    """The max over each window and its flat index in the input plane (the first maximum in
    window order; a NaN wins, the last one, as torch's ``val > max || isnan(val)``)."""
    d = len(kernel)
    size = x.shape[-d:]
    extra = _extra(size, out, kernel, pad, stride, dilation)
    xp = _padded(x, pad, extra, _lowest(x.dtype))
    flat = _kernel_last(windows(xp, kernel, out, stride, dilation), d)
    arg = flat.argmax(-1)
    values = flat.max(-1)  # the argmax's value (NaN where a window has one)
    if x.dtype.kind == "f" and np.isnan(values).any():
        nan = np.isnan(flat)
        last = flat.shape[-1] - 1 - nan[..., ::-1].argmax(-1)
        arg = np.where(nan.any(-1), last, arg)
    offsets = np.unravel_index(arg, kernel)
    index = np.zeros(arg.shape, np.int64)
    starts = []
    for i in range(d):
        shape = [1] * d
        shape[i] = out[i]
        start = (np.arange(out[i]) * stride[i] - pad[i]).reshape(shape)
        index = index * size[i] + start + offsets[i] * dilation[i]
        starts.append(start)
    if any(pad) or any(extra):
        index = _inside(index, offsets, starts, size, dilation)
    return values, index


def _inside(index, offsets, starts, size, dilation):
    """Where a window's maximum is the padding's value, torch keeps the window's first element
    inside the input."""
    padding = np.zeros(index.shape, bool)
    first = np.zeros(index.shape, np.int64)
    for i, start in enumerate(starts):
        coord = start + offsets[i] * dilation[i]
        padding = padding | (coord < 0) | (coord >= size[i])
        first = first * size[i] + start + -(start // dilation[i]).clip(max=0) * dilation[i]
    return np.where(padding, first, index) if padding.any() else index


def _scatter(grad, index, size, unique=False):
    """``grad`` added into zeros of the input's shape at the flat plane ``index`` (duplicates
    summed in output order, as torch's backward kernels; ``unique``: the windows do not
    overlap, so neither do the indices)."""
    d = len(size)
    lead = grad.shape[:-d]
    planes = math.prod(lead)
    plane = math.prod(size)
    out = np.zeros((planes, plane), grad.dtype)
    g = grad.reshape(planes, grad.size // planes if planes else 0)
    idx = index.reshape(g.shape)
    if idx.shape[1]:
        rows = np.arange(planes)[:, None]
        if unique:
            out[rows, idx] = g
        else:
            np.add.at(out, (rows, idx), g)
    return out.reshape(lead + tuple(size))


def _gather_by(grad, indices, d):
    """torch's max_pool_double_backward: ``grad`` (input-shaped) read at ``indices``."""
    idx = indices._data
    if idx.size == 0:
        return make(np.zeros(idx.shape, grad._data.dtype))
    size = idx.shape[:idx.ndim - d] + (-1,)
    index = make(idx.reshape(size))
    out = I.gather(S.view(S.contiguous(grad), size), -1, index)
    return S.view(out, idx.shape)


def _zeros(n, g):
    """``zeros_like(self)`` in a ``...BackwardBackward0`` formula."""
    return make(np.zeros(n.self_shape, g._data.dtype))


def _max_pool_nodes(d):
    """MaxPool{d}DWithIndicesBackward0 and, for its grad (torch's
    ``max_pool{d}d_with_indices_backward`` op), MaxPool{d}DWithIndicesBackwardBackward0."""
    again = backward_node(
        f"MaxPool{d}DWithIndicesBackwardBackward0", saved=("indices",), fields=("self_shape",),
        grad_output=lambda n, g: _gather_by(g, n.indices, d), self=_zeros)

    def grad(n, g):
        def value():
            x = n.self_._data
            return make(_like(_scatter(g._data, n.indices._data, x.shape[-d:], n.disjoint),
                              x, d + 2))
        return backward_op(again, value, (g, n.self_), indices=n.indices,
                           self_shape=n.self_._data.shape)

    return backward_node(f"MaxPool{d}DWithIndicesBackward0", saved=("self_", "indices"),
                         fields=("disjoint",), self=grad), again


MaxPool2DWithIndicesBackward0, MaxPool2DWithIndicesBackwardBackward0 = _max_pool_nodes(2)
MaxPool3DWithIndicesBackward0, MaxPool3DWithIndicesBackwardBackward0 = _max_pool_nodes(3)
_MAX_POOL_NODES = {2: MaxPool2DWithIndicesBackward0, 3: MaxPool3DWithIndicesBackward0}


def _pool_params(d, fname, kernel_size, stride, padding, dilation=None):
    """kernel, stride (the kernel when omitted), padding, dilation as d values each, with
    the messages of torch's pooling meta functions."""
    n = _NAMES[d]
    if len(kernel_size) not in (1, d):
        raise RuntimeError(f"{fname}: kernel_size must either be a single int, or a tuple of "
                           f"{n} ints")
    if len(stride) not in (0, 1, d):
        raise RuntimeError(f"{fname}: stride must either be omitted, a single int, or a tuple "
                           f"of {n} ints")
    if len(padding) not in (1, d):
        raise RuntimeError(f"{fname}: padding must either be a single int, or a tuple of {n} "
                           "ints")
    if dilation is not None and len(dilation) not in (1, d):
        raise RuntimeError(f"{fname}: dilation must be either a single int, or a tuple of {n} "
                           "ints")
    kernel = _one_or_n(kernel_size, d, "kernel_size")
    stride = kernel if not stride else _one_or_n(stride, d, "stride")
    dilation = [1] * d if dilation is None else _one_or_n(dilation, d, "dilation")
    return kernel, stride, _one_or_n(padding, d, "padding"), dilation


def _shape_check(x, d, kernel, stride, pad, dilation, out, fname):
    """torch's pool2d_shape_check / pool3d_shape_check."""
    shape = x.shape
    if d == 2:
        kh, kw = kernel
        if kw <= 0 or kh <= 0:
            raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: "
                               f"{kw}")
        if stride[0] <= 0 or stride[1] <= 0:
            raise RuntimeError(f"stride should be greater than zero, but got dH: {stride[0]} "
                               f"dW: {stride[1]}")
        if dilation[0] <= 0 or dilation[1] <= 0:
            raise RuntimeError(f"dilation should be greater than zero, but got dilationH: "
                               f"{dilation[0]} dilationW: {dilation[1]}")
        valid = shape[1] != 0 and shape[2] != 0 if x.ndim >= 3 else False
        if not ((x.ndim == 3 and shape[0] != 0 and valid)
                or (x.ndim == 4 and valid and shape[3] != 0)):
            raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch "
                               f"size for input, but got:{_show(shape)}")
        if kw // 2 < pad[1] or kh // 2 < pad[0]:
            raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but "
                               f"got padW = {pad[1]}, padH = {pad[0]}, kW = {kw}, kH = {kh}")
        if out[0] < 1 or out[1] < 1:
            planes = shape[-3]
            raise RuntimeError(
                f"Given input size: ({planes}x{shape[-2]}x{shape[-1]}). Calculated output size: "
                f"({planes}x{out[0]}x{out[1]}). Output size is too small")
        return
    kt, kh, kw = kernel
    if kt <= 0 or kw <= 0 or kh <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kT: {kt} kH: {kh} "
                           f"kW: {kw}")
    if min(stride) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dT: {stride[0]} dH: "
                           f"{stride[1]} dW: {stride[2]}")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationT: "
                           f"{dilation[0]} dilationH: {dilation[1]} dilationW: {dilation[2]}")
    if x.ndim not in (4, 5):
        raise RuntimeError(f"{fname}: Expected 4D or 5D tensor for input, but got: "
                           f"{_show(shape)}")
    for i in range(x.ndim == 5, x.ndim):
        if shape[i] <= 0:  # torch's message prints the size (0) where the dim was meant
            raise RuntimeError(
                f"{fname}: Expected input's non-batch dimensions to have positive length, but "
                f"input has a shape of {_show(shape)} and non-batch dimension {shape[i]} has "
                "length zero!")
    if fname == "avg_pool3d()" and (shape[-3] < kt or shape[-2] < kh or shape[-1] < kw):
        raise RuntimeError(f"input image (T: {shape[-3]} H: {shape[-2]} W: {shape[-1]}) smaller "
                           f"than kernel size (kT: {kt} kH: {kh} kW: {kw})")
    if kt // 2 < pad[0] or kw // 2 < pad[2] or kh // 2 < pad[1]:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"kT: {kt} kW: {kw} kH: {kh} padT: {pad[0]} padW: {pad[2]} padH: "
                           f"{pad[1]}")
    if min(out) < 1:
        planes = shape[-4]
        raise RuntimeError(
            f"Given input size: ({planes}x{shape[-3]}x{shape[-2]}x{shape[-1]}). Calculated "
            f"output size: ({planes}x{out[0]}x{out[1]}x{out[2]}). Output size is too small")


def max_pool_with_indices(input, d, kernel_size, stride, padding, dilation, ceil_mode,
                          fname):
    """torch's ``max_pool{d}d_with_indices``: the maxima and their flat indices in each
    input plane (MaxPool{d}DWithIndicesBackward0)."""
    x = input._data
    kernel, stride, pad, dilation = _pool_params(d, fname, kernel_size, stride, padding,
                                                 dilation)
    if x.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"non-empty {d + 1}D or {d + 2}D (batch mode) tensor expected for "
                           "input")
    if x.ndim < d:
        raise RuntimeError(f"{fname}: Expected 4D or 5D tensor for input, but got: "
                           f"{_show(x.shape)}")
    out = [output_size(s, k, p, t, dl, ceil_mode) for s, k, p, t, dl in zip(
        x.shape[-d:], kernel, pad, stride, dilation, strict=True)]
    _shape_check(x, d, kernel, stride, pad, dilation, out,
                 "max_pool3d_with_indices_out_cpu_template()" if d == 3 else fname)
    values, index = _max_pool_array(x, kernel, stride, pad, dilation, out)
    values, index = _like(values, x, d + 2), _like(index, x, d + 2)
    indices = make(index)
    if needs_grad(input):
        node = _MAX_POOL_NODES[d]()
        node.self_, node.indices = input, indices
        node.disjoint = all(t >= dl * (k - 1) + 1 for t, dl, k in zip(
            stride, dilation, kernel, strict=True))
        return attach(node, values, (input,)), indices
    return make(values), indices


def max_pool_nd(input, d, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                return_indices=False):
    fname = f"max_pool{d}d"
    _check_tensor(input, fname)
    out = max_pool_with_indices(
        input, d, _ints(kernel_size, d, fname, "kernel_size"),
        _ints(stride, d, fname, "stride", optional=True), _ints(padding, d, fname, "padding"),
        _ints(dilation, d, fname, "dilation"), bool(ceil_mode), fname)
    return out if return_indices else out[0]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return max_pool_nd(input, 2, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return max_pool_nd(input, 3, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)


def _check_1d(fname, pname, values):
    if len(values) != 1:
        raise RuntimeError(f"{fname}() argument '{pname}' should contain one int (got "
                           f"{len(values)})")


def _dim_range(fname, x, low, high):
    """torch's checkDimRange: ``low <= dim < high``."""
    if not low <= x.ndim < high:
        raise RuntimeError(f"Expected {low} to {high - 1} dimensions, but got {x.ndim}-dimensional "
                           f"tensor for argument #1 'self' (while checking arguments for {fname})")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """torch's ``max_pool1d_with_indices``: the 2-d op on ``input.unsqueeze(-2)``."""
    fname = "max_pool1d"
    _check_tensor(input, fname)
    kernel = _ints(kernel_size, 1, fname, "kernel_size")
    stride = _ints(stride, 1, fname, "stride", optional=True) or kernel
    padding = _ints(padding, 1, fname, "padding")
    dilation = _ints(dilation, 1, fname, "dilation")
    _dim_range(fname, input._data, 2, 4)
    for pname, values in (("kernel_size", kernel), ("stride", stride), ("padding", padding),
                          ("dilation", dilation)):
        _check_1d(fname, pname, values)
    out, indices = max_pool_with_indices(
        S.unsqueeze(input, -2), 2, [1, kernel[0]], [1, stride[0]], [0, padding[0]],
        [1, dilation[0]], bool(ceil_mode), "max_pool2d")
    return S.squeeze(out, -2), make(indices._data.squeeze(-2))


def _check_max_pool1d(x, kernel, stride, padding, dilation, ceil_mode):
    """torch's checks in max_pool1d (the op without indices)."""
    if not ((x.ndim == 2 and x.shape[0] != 0 and x.shape[1] != 0)
            or (x.ndim == 3 and x.shape[1] != 0 and x.shape[2] != 0)):
        raise RuntimeError(
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
            f"for input, but got:{_show(x.shape)}")
    if len(kernel) != 1:
        raise RuntimeError("max_pool1d() kernel_size must be an int, list of ints or tuple of "
                           f"ints of size 1 but got size {len(kernel)}")
    if len(stride) not in (0, 1):
        raise RuntimeError("max_pool1d() stride must be None, an int, list of ints, or tuple of "
                           f"ints of size 1 but got size {len(stride)}")
    if len(padding) != 1:
        raise RuntimeError("max_pool1d() padding must be an int, list of ints, or tuple of ints "
                           f"of size 1 but got size {len(padding)}")
    if len(dilation) != 1:
        raise RuntimeError("max_pool1d() dilation must be an int, list of ints or tuple of ints "
                           f"of size 1 but got size {len(dilation)}")
    stride = stride or kernel
    if kernel[0] <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got "
                           f"{kernel[0]}")
    if stride[0] <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {stride[0]}")
    if padding[0] < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {padding[0]}")
    if padding[0] > kernel[0] // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but "
                           f"got padding={padding[0]} and kernel_size={kernel[0]}")
    if dilation[0] <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got "
                           f"{dilation[0]}")
    out = output_size(x.shape[-1], kernel[0], padding[0], stride[0], dilation[0], ceil_mode)
    if out < 1:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """F.max_pool1d: torch's max_pool1d_with_indices for ``return_indices``; otherwise
    max_pool1d, whose checks come first."""
    if return_indices:
        return max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    fname = "max_pool1d"
    _check_tensor(input, fname)
    kernel = _ints(kernel_size, 1, fname, "kernel_size")
    stride = _ints(stride, 1, fname, "stride", optional=True)
    padding = _ints(padding, 1, fname, "padding")
    dilation = _ints(dilation, 1, fname, "dilation")
    _check_max_pool1d(input._data, kernel, stride, padding, dilation, bool(ceil_mode))
    return max_pool1d_with_indices(input, kernel, stride or None, padding, dilation,
                                   ceil_mode)[0]


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool_nd(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool_nd(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True)


def torch_max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                                  ceil_mode=False):
    """``torch.max_pool1d_with_indices``."""
    return max_pool1d_with_indices(input, kernel_size, stride or None, padding, dilation,
                                   ceil_mode)


def torch_max_pool(d):
    """``torch.max_pool{d}d(input, kernel_size, stride=[], ...)``: the maxima only."""
    fn = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}[d]

    def max_pool(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return fn(input, kernel_size, stride or None, padding, dilation, ceil_mode)

    max_pool.__name__ = max_pool.__qualname__ = f"max_pool{d}d"
    return max_pool


# ================================================================= average pooling
def _avg_divisors(size, out, kernel, stride, pad, count_include_pad):
    """The divisor of each output element, as an outer product over the spatial dims."""
    total = np.ones((), np.int64)
    for s, o, k, t, p in zip(size, out, kernel, stride, pad, strict=True):
        start = np.arange(o) * t - p
        end = np.minimum(start + k, s + p)
        if count_include_pad:
            count = end - start
        else:
            count = np.minimum(end, s) - np.maximum(start, 0)
        total = np.multiply.outer(total, count)
    return total


def _avg_pool_array(x, kernel, stride, pad, out, count_include_pad, divisor):
    d = len(kernel)
    wide = _WIDE.get(x.dtype)
    xw = x if wide is None else x.astype(wide)
    size = x.shape[-d:]
    xp = _padded(xw, pad, _extra(size, out, kernel, pad, stride, [1] * d), 0)
    win = windows(xp, kernel, out, stride, [1] * d)
    lead = x.ndim - d
    sums = win.sum(tuple(range(lead, lead + d)))
    div = divisor if divisor else _avg_divisors(size, out, kernel, stride, pad,
                                                count_include_pad)
    if x.dtype.kind == "f":
        return (sums / np.asarray(div, sums.dtype)).astype(x.dtype, copy=False)
    return _int_divide(sums, div).astype(x.dtype)


def _int_divide(sums, div):
    """Integer average pooling: C++ integer division (rounding toward zero)."""
    q = np.abs(sums) // np.abs(div)
    return np.where((sums < 0) != (np.asarray(div) < 0), -q, q)


def _avg_pool_grad_array(grad, size, kernel, stride, pad, count_include_pad, divisor):
    """Each output's grad divided by its divisor, spread over its window (in torch's order:
    output positions ascending, so kernel offsets descending)."""
    d = len(kernel)
    out = grad.shape[-d:]
    div = divisor if divisor else _avg_divisors(size, out, kernel, stride, pad,
                                                count_include_pad)
    wide = _WIDE.get(grad.dtype)
    g = grad if wide is None else grad.astype(wide)
    share = (g / np.asarray(div, g.dtype)).astype(grad.dtype, copy=False)
    extra = _extra(size, out, kernel, pad, stride, [1] * d)
    padded = tuple(s + 2 * p + e for s, p, e in zip(size, pad, extra, strict=True))
    lead = grad.shape[:-d]
    buf = np.zeros(lead + padded, grad.dtype)
    where_lead = (Ellipsis,)
    for offset in reversed(list(np.ndindex(*kernel))):
        where = tuple(slice(k, k + t * (o - 1) + 1, t)
                      for k, t, o in zip(offset, stride, out, strict=True))
        buf[where_lead + where] += share
    crop = tuple(slice(p, p + s) for p, s in zip(pad, size, strict=True))
    return np.ascontiguousarray(buf[where_lead + crop])


def _avg_pool_nodes(d):
    """AvgPool{d}DBackward0 and AvgPool{d}DBackwardBackward0 (for torch's
    ``avg_pool{d}d_backward`` op, whose grad is the pooling again)."""
    fields = ("kernel", "stride", "pad", "ceil_mode", "count_include_pad", "divisor")
    again = backward_node(
        f"AvgPool{d}DBackwardBackward0", fields=fields + ("self_shape",),
        grad_output=lambda n, g: avg_pool(g, d, n.kernel, n.stride, n.pad, n.ceil_mode,
                                          n.count_include_pad, n.divisor),
        self=_zeros)

    def grad(n, g):
        def value():
            x = n.self_._data
            return make(_like(_avg_pool_grad_array(g._data, x.shape[-d:], n.kernel, n.stride,
                                                   n.pad, n.count_include_pad, n.divisor), x))
        return backward_op(again, value, (g, n.self_), kernel=n.kernel, stride=n.stride,
                           pad=n.pad, ceil_mode=n.ceil_mode,
                           count_include_pad=n.count_include_pad, divisor=n.divisor,
                           self_shape=n.self_._data.shape)

    return backward_node(f"AvgPool{d}DBackward0", saved=("self_",), fields=fields,
                         self=grad), again


AvgPool2DBackward0, AvgPool2DBackwardBackward0 = _avg_pool_nodes(2)
AvgPool3DBackward0, AvgPool3DBackwardBackward0 = _avg_pool_nodes(3)
_AVG_POOL_NODES = {2: AvgPool2DBackward0, 3: AvgPool3DBackward0}


def avg_pool(input, d, kernel, stride, pad, ceil_mode, count_include_pad, divisor):
    """torch's ``avg_pool{d}d`` once its arguments are lists of d values."""
    x = input._data
    if divisor is not None and divisor == 0:
        raise RuntimeError("divisor must be not zero")
    out = [output_size(s, k, p, t, 1, ceil_mode)
           for s, k, p, t in zip(x.shape[-d:], kernel, pad, stride, strict=True)]
    _shape_check(x, d, kernel, stride, pad, [1] * d, out,
                 "avg_pool3d()" if d == 3 else f"avg_pool{d}d")
    values = _like(_avg_pool_array(x, kernel, stride, pad, out, count_include_pad, divisor), x)
    if needs_grad(input):
        node = _AVG_POOL_NODES[d]()
        node.self_, node.kernel, node.stride, node.pad = input, kernel, stride, pad
        node.ceil_mode, node.count_include_pad, node.divisor = (ceil_mode, count_include_pad,
                                                                 divisor)
        return attach(node, values, (input,))
    return make(values)


def _avg_pool_checked(input, d, kernel_size, stride, padding, ceil_mode, count_include_pad,
                      divisor_override, fname):
    x = input._data
    n = _NAMES[d]
    either = "either " if d == 2 else ""  # avg_pool3d's messages say "must be"
    if len(kernel_size) not in (1, d):
        raise RuntimeError(f"{fname}: kernel_size must {either}be a single int, or a tuple of "
                           f"{n} ints")
    if len(stride) not in (0, 1, d):
        raise RuntimeError(f"{fname}: stride must {either}be omitted, a single int, or a tuple "
                           f"of {n} ints")
    if len(padding) not in (1, d):
        raise RuntimeError(f"{fname}: padding must {either}be a single int, or a tuple of {n} "
                           "ints")
    kernel = _one_or_n(kernel_size, d, "kernel_size")
    stride = kernel if not stride else _one_or_n(stride, d, "stride")
    if d == 3 and x.ndim not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    if d == 2:  # torch reads input.size(-3) before checking the rank
        wrap_dim(-3, x.ndim)
    if divisor_override is not None:
        divisor_override = operator.index(divisor_override)
    return avg_pool(input, d, kernel, stride, _one_or_n(padding, d, "padding"), bool(ceil_mode),
                    bool(count_include_pad), divisor_override)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    fname = "avg_pool2d"
    _check_tensor(input, fname)
    return _avg_pool_checked(
        input, 2, _ints(kernel_size, 2, fname, "kernel_size"),
        _ints(stride, 2, fname, "stride", optional=True), _ints(padding, 2, fname, "padding"),
        ceil_mode, count_include_pad, divisor_override, fname)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    fname = "avg_pool3d"
    _check_tensor(input, fname)
    return _avg_pool_checked(
        input, 3, _ints(kernel_size, 3, fname, "kernel_size"),
        _ints(stride, 3, fname, "stride", optional=True), _ints(padding, 3, fname, "padding"),
        ceil_mode, count_include_pad, divisor_override, fname)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """torch's ``avg_pool1d``: avg_pool2d on ``input.unsqueeze(-2)``."""
    fname = "avg_pool1d"
    _check_tensor(input, fname)
    kernel = _ints(kernel_size, 1, fname, "kernel_size")
    stride = _ints(stride, 1, fname, "stride", optional=True) or kernel
    padding = _ints(padding, 1, fname, "padding")
    _dim_range(fname, input._data, 2, 4)
    for pname, values in (("kernel_size", kernel), ("stride", stride), ("padding", padding)):
        _check_1d(fname, pname, values)
    out = _avg_pool_checked(S.unsqueeze(input, -2), 2, [1, kernel[0]], [1, stride[0]],
                            [0, padding[0]], ceil_mode, count_include_pad, None, "avg_pool2d")
    return S.squeeze(out, -2)


# ================================================================= adaptive pooling
def _windows_of(size, out):
    """Adaptive pooling's windows along one dim: [floor(i*size/out), ceil((i+1)*size/out))."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _window_matrix(size, out, dtype):
    """``(out, size)`` 0/1 matrix of each output's window."""
    start, end = _windows_of(size, out)
    j = np.arange(size)
    return ((j >= start[:, None]) & (j < end[:, None])).astype(dtype)


def _along(x, matrix, axis):
    """``matrix`` applied along ``axis`` of ``x`` (a product over that axis)."""
    moved = np.moveaxis(x, axis, -1)
    return np.moveaxis(np.matmul(moved, matrix.T), -1, axis)


def _adaptive_avg_array(x, out, transpose=False):
    """Sum over each adaptive window divided by its size (``transpose``: the adjoint, from an
    output-shaped array to the input size ``out``)."""
    d = len(out)
    if x.dtype == np.float16 and (transpose or d == 3):
        return (_adaptive_avg_half_grad if transpose else _adaptive_avg_half_3d)(x, out)
    wide = _WIDE.get(x.dtype)
    y = x if wide is None else x.astype(wide)
    sizes = out if transpose else x.shape[-d:]
    outs = x.shape[-d:] if transpose else out
    counts = np.ones((), np.int64)
    for s, o in zip(sizes, outs, strict=True):
        start, end = _windows_of(s, o)
        counts = np.multiply.outer(counts, end - start)
    if transpose:
        y = y / counts.astype(y.dtype)
    for i in range(d):
        m = _window_matrix(sizes[i], outs[i], y.dtype)
        y = _along(y, m.T if transpose else m, x.ndim - d + i)
    if not transpose:
        y = y / counts.astype(y.dtype)
    return np.ascontiguousarray(y, dtype=x.dtype)


def _adaptive_avg_half_3d(x, out):
    """torch's float16 3-d kernel: each window summed in float16 in row-major order, then
    divided by its extent along each dim in turn."""
    d = 3
    lead = x.shape[:-d]
    bounds = [_windows_of(s, o) for s, o in zip(x.shape[-d:], out, strict=True)]
    widths = [int((e - b).max(initial=1)) for b, e in bounds]
    acc = np.zeros(lead + tuple(out), np.float16)
    for offset in np.ndindex(*widths):
        index, valid = [], np.ones((), bool)
        for i, (start, end) in enumerate(bounds):
            pos = start + offset[i]
            ok = pos < end
            shape = [1] * d
            shape[i] = out[i]
            index.append(np.where(ok, pos, start).reshape(shape))
            valid = valid & ok.reshape(shape)
        acc = np.where(valid, acc + x[(Ellipsis,) + tuple(index)], acc)
    for i, (start, end) in enumerate(bounds):  # divided by kd, then kh, then kw
        shape = [1] * d
        shape[i] = out[i]
        acc = acc / (end - start).astype(np.float16).reshape(shape)
    return np.ascontiguousarray(acc)


def _adaptive_avg_half_grad(grad, size):
    """torch's float16 backward kernels: each output's grad divided by the window's extent
    along each dim in turn (rounding each time), added to its window in output order."""
    d = len(size)
    out = grad.shape[-d:]
    bounds = [_windows_of(s, o) for s, o in zip(size, out, strict=True)]
    buf = np.zeros(grad.shape[:-d] + tuple(size), np.float16)
    for position in np.ndindex(*out):
        delta = grad[(Ellipsis,) + position]
        where = []
        for i, p in enumerate(position):
            start, end = int(bounds[i][0][p]), int(bounds[i][1][p])
            delta = delta / np.float16(end - start)
            where.append(slice(start, end))
        buf[(Ellipsis,) + tuple(where)] += delta[(Ellipsis,) + (None,) * d]
    return buf


def _check_grad_output(g, fname):
    """The adaptive poolings' backward kernels refuse an empty output."""
    shape = g._data.shape
    for i in range(1, len(shape)):
        if shape[i] == 0:
            raise RuntimeError(
                f"{fname}(): Expected grad_output to have non-zero size for non-batch "
                f"dimensions, but grad_output has sizes {_show(shape)} with dimension {i} being "
                "empty")


def _adaptive_avg_nodes(d):
    """AdaptiveAvgPool{d}DBackward0 and, for torch's ``_adaptive_avg_pool{d}d_backward`` op,
    AdaptiveAvgPool{d}DBackwardBackward0 (its grad is the pooling again)."""
    again = backward_node(
        f"AdaptiveAvgPool{d}DBackwardBackward0", fields=("self_shape", "out_size"),
        grad_output=lambda n, g: adaptive_avg_pool_raw(g, d, n.out_size), self=_zeros)

    def grad(n, g):
        _check_grad_output(g, f"adaptive_avg_pool{d}d_backward")

        def value():
            x = n.self_._data
            return make(_like(_adaptive_avg_array(g._data, x.shape[-d:], True), x))
        return backward_op(again, value, (g, n.self_), self_shape=n.self_._data.shape,
                           out_size=list(g._data.shape[-d:]))

    return backward_node(f"AdaptiveAvgPool{d}DBackward0", saved=("self_",), self=grad), again


AdaptiveAvgPool2DBackward0, AdaptiveAvgPool2DBackwardBackward0 = _adaptive_avg_nodes(2)
AdaptiveAvgPool3DBackward0, AdaptiveAvgPool3DBackwardBackward0 = _adaptive_avg_nodes(3)
_ADAPTIVE_AVG_NODES = {2: AdaptiveAvgPool2DBackward0, 3: AdaptiveAvgPool3DBackward0}


def adaptive_avg_pool_raw(input, d, out_size):
    """torch's ``_adaptive_avg_pool{d}d``: AdaptiveAvgPool{d}DBackward0."""
    x = input._data
    _adaptive_shape_check(x, d, f"adaptive_avg_pool{d}d")
    values = _like(_adaptive_avg_array(x, tuple(out_size)), x)
    if needs_grad(input):
        node = _ADAPTIVE_AVG_NODES[d]()
        node.self_ = input
        return attach(node, values, (input,))
    return make(values)


def _adaptive_shape_check(x, d, fname):
    """adaptive_avg_pool's checks: non-empty spatial dims (channels may be 0), then the rank."""
    for i in range(max(x.ndim - d, 1), x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(
                f"{fname}(): Expected input to have non-zero size for non-batch dimensions, "
                f"but input has sizes {_show(x.shape)} with dimension {i} being empty")
    if x.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"{fname}(): Expected {d + 1}D or {d + 2}D tensor, but got "
                           f"{_show(x.shape)}")


def adaptive_avg_pool_nd(input, d, output_size):
    """torch's ``adaptive_avg_pool{d}d``: a ``mean`` for a single output element, else the
    pooling op."""
    fname = f"adaptive_avg_pool{d}d"
    out = list(output_size)
    if len(out) != d:
        raise RuntimeError(f"{fname}: output_size must be {d}")
    if any(o < 0 for o in out):
        raise RuntimeError(f"{fname}: elements of output_size must be greater than or equal to "
                           f"0 but received {{{', '.join(map(str, out))}}}" if d == 2 else
                           f"{fname}: elements of output_size must be greater than or equal to "
                           f"0 but received {{{out[0]}, {out[1]},{out[2]}}}")
    if all(o == 1 for o in out):
        return R.mean(input, tuple(range(-1, -d - 1, -1)), True)
    return adaptive_avg_pool_raw(input, d, out)


def _with_default(output_size, input, n):
    """F's ``_list_with_default``: None entries take the input's size."""
    if isinstance(output_size, int) and not isinstance(output_size, bool):
        return [output_size] * n
    sizes = input._data.shape
    if len(sizes) <= len(output_size):
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    return [s if v is None else v for v, s in zip(output_size, sizes[-len(output_size):],
                                                   strict=False)]


def adaptive_avg_pool2d(input, output_size):
    _check_tensor(input, "adaptive_avg_pool2d")
    return adaptive_avg_pool_nd(input, 2, _with_default(output_size, input, 2))


def adaptive_avg_pool3d(input, output_size):
    _check_tensor(input, "adaptive_avg_pool3d")
    return adaptive_avg_pool_nd(input, 3, _with_default(output_size, input, 3))


def adaptive_avg_pool1d(input, output_size):
    """torch's ``adaptive_avg_pool1d``: adaptive_avg_pool2d on ``input.unsqueeze(-2)``."""
    fname = "adaptive_avg_pool1d"
    _check_tensor(input, fname)
    out = _ints(output_size, 1, fname, "output_size")
    _dim_range(fname, input._data, 2, 4)
    _check_1d(fname, "output_size", out)
    return S.squeeze(adaptive_avg_pool_nd(S.unsqueeze(input, -2), 2, [1, out[0]]), -2)


def _adaptive_argmax_axis(x, out, axis):
    """Along ``axis``: each adaptive window's max and its position (first maximum, last NaN,
    as torch's ``val > max || isnan(val)``)."""
    size = x.shape[axis]
    start, end = _windows_of(size, out)
    width = int((end - start).max(initial=1))
    pos = start[:, None] + np.arange(width)
    valid = pos < end[:, None]
    pos = np.where(valid, pos, start[:, None])
    moved = np.moveaxis(x, axis, -1)
    win = moved[..., pos]  # (..., out, width)
    low = _lowest(x.dtype)
    win = np.where(valid, win, low)
    arg = win.argmax(-1)
    if x.dtype.kind == "f":
        nan = np.isnan(win)
        if nan.any():
            last = width - 1 - nan[..., ::-1].argmax(-1)
            arg = np.where(nan.any(-1), last, arg)
    values = np.take_along_axis(win, arg[..., None], -1)[..., 0]
    return np.moveaxis(values, -1, axis), np.moveaxis(pos[np.arange(out), arg], -1, axis)


def _adaptive_max_array(x, out):
    """The maxima of the adaptive windows and their flat indices in each input plane, one
    spatial dim at a time from the last (so ties keep the first in row-major order)."""
    d = len(out)
    values, index = x, None
    for i in reversed(range(d)):
        axis = x.ndim - d + i
        values, where = _adaptive_argmax_axis(values, out[i], axis)
        if index is None:
            index = where
        else:  # the inner dims' positions of the rows chosen along this axis
            index = np.take_along_axis(index, where, axis)
            index = where * math.prod(x.shape[axis + 1:]) + index
    return np.ascontiguousarray(values), np.ascontiguousarray(index)


def _adaptive_max_nodes(d):
    again = backward_node(
        f"AdaptiveMaxPool{d}DBackwardBackward0", saved=("indices",), fields=("self_shape",),
        grad_output=lambda n, g: _gather_by(g, n.indices, d), self=_zeros)

    def grad(n, g):
        _check_grad_output(g, f"adaptive_max_pool{d}d_backward")

        def value():
            x = n.self_._data
            return make(_like(_scatter(g._data, n.indices._data, x.shape[-d:]), x))
        return backward_op(again, value, (g, n.self_), indices=n.indices,
                           self_shape=n.self_._data.shape)

    return backward_node(f"AdaptiveMaxPool{d}DBackward0", saved=("self_", "indices"),
                         self=grad), again


AdaptiveMaxPool2DBackward0, AdaptiveMaxPool2DBackwardBackward0 = _adaptive_max_nodes(2)
AdaptiveMaxPool3DBackward0, AdaptiveMaxPool3DBackwardBackward0 = _adaptive_max_nodes(3)
_ADAPTIVE_MAX_NODES = {2: AdaptiveMaxPool2DBackward0, 3: AdaptiveMaxPool3DBackward0}


def adaptive_max_pool_nd(input, d, output_size):
    """torch's ``adaptive_max_pool{d}d``: maxima and indices (AdaptiveMaxPool{d}DBackward0)."""
    fname = f"adaptive_max_pool{d}d"
    x = input._data
    out = list(output_size)
    if len(out) != d:
        raise RuntimeError(f"{fname}(): internal error: output_size.size() must be {d}")
    for i in range(1, x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(
                f"{fname}(): Expected input to have non-zero size for non-batch dimensions, "
                f"but input has sizes {_show(x.shape)} with dimension {i} being empty")
    if x.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"{fname}(): Expected {d + 1}D or {d + 2}D tensor, but got: "
                           f"{_show(x.shape)}")
    if any(o < 0 for o in out):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(out)}: "
                           f"{_show(x.shape[:-d] + tuple(out))}")
    values, index = _adaptive_max_array(x, out)
    values, index = _like(values, x), _like(index, x)
    indices = make(index)
    if needs_grad(input):
        node = _ADAPTIVE_MAX_NODES[d]()
        node.self_, node.indices = input, indices
        return attach(node, values, (input,)), indices
    return make(values), indices


def adaptive_max_pool2d(input, output_size, return_indices=False):
    _check_tensor(input, "adaptive_max_pool2d")
    out = adaptive_max_pool_nd(input, 2, _with_default(output_size, input, 2))
    return out if return_indices else out[0]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    _check_tensor(input, "adaptive_max_pool3d")
    out = adaptive_max_pool_nd(input, 3, _with_default(output_size, input, 3))
    return out if return_indices else out[0]


def torch_adaptive_max_pool1d(input, output_size):
    """``torch.adaptive_max_pool1d``: adaptive_max_pool2d on ``input.unsqueeze(-2)``."""
    fname = "adaptive_max_pool1d"
    _check_tensor(input, fname)
    out = _ints(output_size, 1, fname, "output_size")
    x = input._data
    _dim_range(fname, x, 2, 4)
    _check_1d(fname, "output_size", out)
    for i in range(1, x.ndim):
        if x.shape[i] == 0:
            raise RuntimeError(
                f"{fname}(): Expected input to have non-zero size for non-batch dimensions, but "
                f"input has sizes {_show(x.shape)} with dimension {i} being empty")
    values, indices = adaptive_max_pool_nd(S.unsqueeze(input, -2), 2, [1, out[0]])
    return S.squeeze(values, -2), make(indices._data.squeeze(-2))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    out = torch_adaptive_max_pool1d(input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool3d(input, output_size, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return torch_adaptive_max_pool1d(input, output_size)


# ================================================================= max unpooling
def _unpool_grad(n, g):
    """torch's max_pool_double_backward: the grad read at the indices."""
    return _gather_by(g, n.indices, n.dims)


MaxUnpool2DBackward0 = backward_node("MaxUnpool2DBackward0", saved=("indices",),
                                     fields=("dims",), self=_unpool_grad)
MaxUnpool3DBackward0 = backward_node("MaxUnpool3DBackward0", saved=("indices",),
                                     fields=("dims",), self=_unpool_grad)


def max_unpool(input, indices, d, out_size):
    """torch's ``max_unpool{d}d``: each value written at its flat index in a zero plane of
    ``out_size`` (MaxUnpool{d}DBackward0)."""
    fname = f"max_unpool{d}d"
    x, idx = input._data, indices._data
    if idx.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{indices.dtype.scalar_name}")
    if len(out_size) != d:
        raise RuntimeError(f"There should be exactly {_NAMES[d]} elements (depth, height, width) "
                           f"in output_size, but got {len(out_size)} elements."
                           if d == 3 else "There should be exactly two elements (height, width) "
                           f"in output_size, but got {len(out_size)} elements.")
    if x.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"Input to max_unpooling{d}d should be a {d + 1}d or {d + 2}d Tensor, "
                           f"but got a tensor with {x.ndim} dimensions.")
    if x.shape != idx.shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({_show(x.shape)}) but got indices tensor with shape: "
                           f"{_show(idx.shape)}")
    for i in range(1, x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(f"{fname}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but got {_show(x.shape)} with dimension {i} being "
                               "empty.")
    lead = x.shape[:-d]
    plane = math.prod(out_size)
    planes = math.prod(lead)
    out = np.zeros((planes, plane), x.dtype)
    flat_idx = idx.reshape(planes, math.prod(idx.shape[-d:]))
    if flat_idx.size:
        bad = (flat_idx < 0) | (flat_idx >= plane)
        if bad.any():
            value = int(flat_idx[bad][0])
            sizes = "x".join(map(str, out_size))
            raise RuntimeError(f"Found an invalid max index: {value} (output volumes are of size "
                               f"{sizes})")
        out[np.arange(planes)[:, None], flat_idx] = x.reshape(flat_idx.shape)
    values = _like(out.reshape(lead + tuple(out_size)), x)
    if needs_grad(input):
        node = (MaxUnpool2DBackward0 if d == 2 else MaxUnpool3DBackward0)()
        node.indices, node.dims = indices, d
        return attach(node, values, (input,))
    return make(values)


def _unpool_output_size(input, kernel, stride, padding, output_size):
    """F's ``_unpool_output_size``."""
    sizes = input._data.shape
    d = len(kernel)
    default = [(sizes[-d + i] - 1) * stride[i] + kernel[i] - 2 * padding[i] for i in range(d)]
    if output_size is None:
        ret = default
    else:
        if len(output_size) == d + 2:
            output_size = output_size[2:]
        if len(output_size) != d:
            raise ValueError(
                f"output_size should be a sequence containing {d} or {d + 2} elements, but it "
                f"has a length of '{len(output_size)}'")
        for i in range(d):
            low, high = default[i] - stride[i], default[i] + stride[i]
            if not low < output_size[i] < high:
                raise ValueError(f'invalid output_size "{output_size}" (dim {i} must be between '
                                 f"{low} and {high})")
        ret = list(output_size)
    for i in range(d):
        if ret[i] < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{i}]={ret[i]}")
    return ret


def _unpool_args(d, kernel_size, stride, padding):
    kernel = _tuple_arg(kernel_size, d)
    stride = kernel if stride is None else _tuple_arg(stride, d)
    return kernel, stride, _tuple_arg(padding, d)


def _tuple_arg(value, d):
    """torch's ``_single``/``_pair``/``_triple``: an int repeated, a sequence kept."""
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value] * d


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """F.max_unpool1d: max_unpool2d on ``input.unsqueeze(-1)``."""
    kernel, stride, padding = _unpool_args(1, kernel_size, stride, padding)
    out = _unpool_output_size(input, kernel, stride, padding, output_size)
    values = max_unpool(S.unsqueeze(input, -1), make(indices._data[..., None]), 2,
                        list(out) + [1])
    return S.squeeze(values, -1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel, stride, padding = _unpool_args(2, kernel_size, stride, padding)
    out = _unpool_output_size(input, kernel, stride, padding, output_size)
    return max_unpool(input, indices, 2, list(out))


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel, stride, padding = _unpool_args(3, kernel_size, stride, padding)
    out = _unpool_output_size(input, kernel, stride, padding, output_size)
    return max_unpool(input, indices, 3, list(out))


# ================================================================= power-average pooling
def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, d):
    """F.lp_pool{d}d, torch's composite: ``(sign(out) * relu(|out|) * prod(kernel)) **
    (1 / p)`` with ``out`` the average pooling of ``input ** p``."""
    max_pool = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}[d]
    avg = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[d]
    if d > 1:  # F unpacks the kernel first (`kw, kh = _pair(kernel_size)`)
        size = math.prod(_unpack(_tuple_arg(kernel_size, d), d))
    else:
        size = kernel_size
    if isinstance(norm_type, (int, float)):
        if norm_type == math.inf:
            return max_pool(E.abs(input), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -math.inf:
            return E.neg(max_pool(E.neg(E.abs(input)), kernel_size, stride, 0, 1, ceil_mode))
    if stride is not None:
        out = avg(E.pow(input, norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = avg(E.pow(input, norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return E.pow(E.mul(E.mul(E.sign(out), E.relu(E.abs(out))), size), 1.0 / norm_type)


def _unpack(values, d):
    """Python's tuple unpacking of ``values`` into d names, with its ValueError."""
    if len(values) < d:
        raise ValueError(f"not enough values to unpack (expected {d}, got {len(values)})")
    if len(values) > d:
        raise ValueError(f"too many values to unpack (expected {d})")
    return values


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)
