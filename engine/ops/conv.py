"""Convolutions: ``convolution`` (torch's one op behind conv1d/2d/3d and conv_transpose1d/2d/3d,
ConvolutionBackward0), ``convolution_backward`` (its grads: ConvolutionBackwardBackward0 under
create_graph), ``im2col``/``col2im`` (F.unfold/F.fold: Im2ColBackward0, Col2ImBackward0) and
the functional forms with torch's argument handling and errors.

Lowering to BLAS: a convolution is one batched matrix product over im2col columns.  The
columns are a strided view of the zero-padded input (kernel offsets scaled by the dilation,
output positions by the stride) copied once into ``(N, groups, C/groups * prod(kernel), L)``;
``weight @ columns`` gives ``(N, groups, O/groups, L)``, which already is the contiguous
``(N, O, *out)`` result.  The input's grad is the transposed product followed by col2im (one
strided add per kernel offset); the weight's grad is ``grad @ columns^T`` summed over the
batch, with the forward's columns kept on the node.  A transposed convolution is the same
three products with the roles of forward and input grad swapped.

Double backward is written with these two ops themselves: for ``<gI(gO, w), ggI> =
<gO, conv(ggI, w)>`` the grads are a convolution and a weight grad, and so on for each output
of convolution_backward.  torch records one ConvolutionBackwardBackward0 node with three
outputs; the engine has single-output nodes, so each output gets its own node (same name, same
edges), as split does.
"""

from __future__ import annotations

import math
import operator
import warnings

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._dtype import legacy_type_name
from .._tensor import Tensor, make, wrap_dim
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.node import SECOND_BACKWARD, Node, attach, backward_node, check_saved_versions
from ..runtime.blas import get_num_threads
from . import shape as S
from .operands import needs_grad, to_channels_last

_COMPUTE = {np.dtype(np.float16): np.dtype(np.float32)}  # half products accumulate in float


# ================================================================= numpy kernels
def _pad(x, padding):
    """``x`` with ``padding`` zeros on both sides of each spatial dim (no copy if none)."""
    if not any(padding):
        return x
    lead = x.ndim - len(padding)
    sizes = list(zip(x.shape[lead:], padding, strict=True))
    out = np.zeros(x.shape[:lead] + tuple(s + 2 * p for s, p in sizes), x.dtype)
    out[(Ellipsis,) + tuple(slice(p, p + s) for s, p in sizes)] = x
    return out


def windows(xp, kernel, out_size, stride, dilation):
    """The read-only view ``(*lead, *kernel, *out_size)`` of padded ``xp``: element
    ``[..., k, o]`` is ``xp[..., o * stride + k * dilation]``."""
    lead = xp.ndim - len(kernel)
    st = xp.strides[lead:]
    return as_strided(
        xp, xp.shape[:lead] + tuple(kernel) + tuple(out_size),
        xp.strides[:lead] + tuple(s * d for s, d in zip(st, dilation, strict=False))
        + tuple(s * t for s, t in zip(st, stride, strict=False)), writeable=False)


def channels_last(a) -> bool:
    """torch's is_channels_last_strides_2d/3d for a 4-d/5-d array: the memory format
    (``suggest_memory_format``) its pooling and convolution outputs and grads follow."""
    if a.ndim not in (4, 5):
        return False
    sizes, strides = a.shape, [s // a.itemsize for s in a.strides]
    if strides[1] == 0:
        return False
    low = 0
    for d in ((1, 3, 2, 0) if a.ndim == 4 else (1, 4, 3, 2, 0)):
        if sizes[d] == 0 or strides[d] < low:
            return False
        if d == 0 and low == strides[1]:
            return False
        low = strides[d] * (sizes[d] if sizes[d] > 1 else 1)
    return True


def im2col_array(x, kernel, out_size, stride, padding, dilation, groups=1):
    """The columns of ``x`` ``(N, C, *S)``: ``(N, groups, C/groups * prod(kernel), L)``."""
    n, c = x.shape[:2]
    cols = windows(_pad(x, padding), kernel, out_size, stride, dilation)
    return cols.reshape(n, groups, c // groups * math.prod(kernel), math.prod(out_size))


def col2im_array(cols, channels, size, positions, kernel, stride, padding, dilation):
    """The adjoint of ``im2col_array``: ``cols`` ``(N, C * prod(kernel), L)`` (any grouping;
    ``L`` is ``prod(positions)``) summed into ``(N, C, *size)``, one strided add per kernel
    offset."""
    n, out_size = cols.shape[0], tuple(positions)
    cols = cols.reshape((n, channels) + tuple(kernel) + out_size)
    padded = tuple(s + 2 * p for s, p in zip(size, padding, strict=False))
    out = np.zeros((n, channels) + padded, cols.dtype)
    lead = (slice(None), slice(None))
    for offset in np.ndindex(*kernel):
        where = tuple(slice(k * d, k * d + t * (o - 1) + 1, t)
                      for k, d, t, o in zip(offset, dilation, stride, out_size, strict=False))
        out[lead + where] += cols[lead + offset]
    if any(padding):
        out = out[lead + tuple(slice(p, p + s) for p, s in zip(padding, size, strict=False))]
        out = np.ascontiguousarray(out)
    return out


def _pad_lr(x, left, right):
    """``x`` with ``left``/``right`` zeros on each spatial dim (a negative amount crops)."""
    d = len(left)
    if not any(left) and not any(right):
        return x
    src = tuple(slice(max(-a, 0), s - max(-b, 0)) for s, a, b in zip(
        x.shape[-d:], left, right, strict=True))
    x = x[(Ellipsis,) + src]
    if all(a <= 0 for a in left) and all(b <= 0 for b in right):
        return x
    size = tuple(s + max(a, 0) + max(b, 0) for s, a, b in zip(x.shape[-d:], left, right,
                                                             strict=True))
    out = np.zeros(x.shape[:-d] + size, x.dtype)
    out[(Ellipsis,) + tuple(slice(max(a, 0), max(a, 0) + s) for s, a in zip(
        x.shape[-d:], left, strict=True))] = x
    return out


def _spread(g, w, size, stride, padding, dilation, groups, dtype):
    """Each grad element times the kernel, summed into ``(N, Dst, *size)`` at its window:
    the input grad of a convolution (``w``: ``(Src, Dst/groups, *k)`` as the weight's first
    two dims are read, source channels first) and a transposed convolution's forward.

    With stride 1 (not float16) this is a convolution of the padded grad with the flipped
    kernel: one im2col and one product.  Otherwise the product gives the columns and col2im
    sums them with one strided add per kernel offset, rounding float16 where torch does."""
    n, kernel = g.shape[0], w.shape[2:]
    src, dst = w.shape[0], w.shape[1] * groups
    d = len(kernel)
    if all(t == 1 for t in stride) and dtype not in _COMPUTE:
        left = [q * (k - 1) - p for q, k, p in zip(dilation, kernel, padding, strict=True)]
        right = [s - 1 + q * (k - 1) + 1 - a - e for s, q, k, a, e in zip(
            size, dilation, kernel, left, g.shape[2:], strict=True)]
        cols = im2col_array(_pad_lr(g, left, right), kernel, size, [1] * d, [0] * d, dilation,
                            groups)
        flipped = w.reshape((groups, src // groups, dst // groups) + kernel)
        flipped = flipped[(Ellipsis,) + (slice(None, None, -1),) * d]
        flipped = np.swapaxes(flipped, 1, 2).reshape(
            groups, dst // groups, src // groups * math.prod(kernel))
        return np.matmul(flipped, cols).reshape((n, dst) + tuple(size))
    w2 = w.reshape(groups, src // groups, -1).transpose(0, 2, 1)
    cols = np.matmul(w2, g.reshape(n, groups, src // groups, math.prod(g.shape[2:])))
    return col2im_array(cols.astype(dtype, copy=False), dst, size, g.shape[2:], kernel,
                        stride, padding, dilation)


class Params:
    """A convolution's parameters, expanded to one value per spatial dim."""

    __slots__ = ("stride", "padding", "dilation", "transposed", "output_padding", "groups")

    def __init__(self, stride, padding, dilation, transposed, output_padding, groups):
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.transposed, self.output_padding, self.groups = transposed, output_padding, groups

    def output_size(self, in_size, kernel):
        if self.transposed:
            return tuple((i - 1) * t - 2 * p + d * (k - 1) + op + 1 for i, t, p, d, k, op in zip(
                in_size, self.stride, self.padding, self.dilation, kernel, self.output_padding,
                strict=False))
        return tuple((i + 2 * p - d * (k - 1) - 1) // t + 1 for i, t, p, d, k in zip(
            in_size, self.stride, self.padding, self.dilation, kernel, strict=False))


def _compute(*arrays):
    """The arrays in the dtype products are computed in (float32 for float16, whose products
    torch's CPU gemm accumulates in float and rounds once)."""
    dt = _COMPUTE.get(arrays[0].dtype)
    return arrays if dt is None else tuple(a.astype(dt) for a in arrays)


def _forward_array(x, w, p: Params):
    """The convolution of arrays (no bias): ``(N, C, *S)`` by ``w`` to ``(N, O, *out)``, in
    the compute dtype; the columns too (None for a transposed convolution)."""
    n, kernel, g, dtype = x.shape[0], w.shape[2:], p.groups, x.dtype
    out_size = p.output_size(x.shape[2:], kernel)
    x, w = _compute(x, w)
    if p.transposed:  # w: (C, O/g, *k)
        return _spread(x, w, out_size, p.stride, p.padding, p.dilation, g, dtype), None
    cols = im2col_array(x, kernel, out_size, p.stride, p.padding, p.dilation, g)
    out = np.matmul(w.reshape(g, w.shape[0] // g, -1), cols)
    return out.reshape((n, w.shape[0]) + out_size), cols


def _input_grad_array(grad, w, in_size, p: Params):
    """The grad of the convolution's input, from the grad of its output."""
    n, kernel, g, dtype = grad.shape[0], w.shape[2:], p.groups, grad.dtype
    grad, w = _compute(grad, w)
    if p.transposed:  # a convolution of the grad
        cols = im2col_array(grad, kernel, in_size, p.stride, p.padding, p.dilation, g)
        out = np.matmul(w.reshape(g, w.shape[0] // g, -1), cols)
        return out.reshape((n, w.shape[0]) + tuple(in_size)).astype(dtype, copy=False)
    return _spread(grad, w, tuple(in_size), p.stride, p.padding, p.dilation, g,
                   dtype).astype(dtype, copy=False)


def _weight_grad_array(grad, x, w_shape, p: Params, cols=None, per_sample=True):
    """The grad of the weight: the grad's rows against the input's columns, summed over
    the batch (``cols``: the forward's columns, when kept).  In float16 torch's backward
    kernels round the sum after each batch element (``per_sample``); its double backward,
    a convolution over the batch, rounds once."""
    n, kernel, g, dtype = x.shape[0], w_shape[2:], p.groups, x.dtype
    grad, x = _compute(grad, x)
    if p.transposed:  # the grad is the "input", x the "output"
        cols = im2col_array(grad, kernel, x.shape[2:], p.stride, p.padding, p.dilation, g)
        rows = x.reshape(n, g, x.shape[1] // g, math.prod(x.shape[2:]))
    else:
        if cols is None:
            cols = im2col_array(x, kernel, grad.shape[2:], p.stride, p.padding, p.dilation, g)
        rows = grad.reshape(n, g, grad.shape[1] // g, math.prod(grad.shape[2:]))
    if n == 1:
        out = np.matmul(rows[0], cols[0].transpose(0, 2, 1))
    elif dtype in _COMPUTE and per_sample:
        out = np.zeros(w_shape, dtype).reshape(g, w_shape[0] // g, -1)
        for i in range(n):
            out = (out + np.matmul(rows[i], cols[i].transpose(0, 2, 1))).astype(dtype)
    else:
        out = np.matmul(rows, cols.transpose(0, 1, 3, 2)).sum(0)
    return out.reshape(w_shape).astype(dtype, copy=False)


def _bias_grad_array(grad, p: Params):
    """The grad summed over all dims but the channels.  In float16 torch's dilated kernels
    round each batch element's sum and add them in float16; the others round once."""
    dims = tuple(range(1, grad.ndim - 1))
    if grad.dtype in _COMPUTE and not p.transposed and any(d != 1 for d in p.dilation):
        out = np.zeros(grad.shape[1], grad.dtype)
        for sample in grad:
            out += sample.astype(np.float32).sum(dims).astype(grad.dtype)
        return out
    (wide,) = _compute(grad)
    return wide.sum((0,) + tuple(d + 1 for d in dims)).astype(grad.dtype, copy=False)


# ================================================================= nodes
def _convolution_grads(n, g, mask):
    """ConvolutionBackward0: one ``convolution_backward`` for the inputs in ``mask`` (input,
    weight, bias), as torch's node makes; without a graph the weight grad reuses the
    forward's columns."""
    if mask[1] and n._cols is not None and not _grad_mode.enabled:
        grads = convolution_backward(g, n.input, n.weight, n.params, (mask[0], False, mask[2]))
        data = _weight_grad_array(g._data, n.input._data, n.weight._data.shape, n.params,
                                  n._cols)
        x, w = n.input._data, n.weight._data
        if x.ndim == 4 and (channels_last(x) or channels_last(w)):
            data = to_channels_last(data)
        grads[1] = make(data)
        return grads
    return convolution_backward(g, n.input, n.weight, n.params, mask)


class _ConvolutionNode(Node):
    """Computes the grads of all its inputs in one call (the formulas, one per input, say
    the same for one input at a time)."""

    __slots__ = ()

    def apply(self, grad):
        if self._freed:
            raise RuntimeError(SECOND_BACKWARD)
        check_saved_versions(self)
        return _convolution_grads(self, grad, [e[0] is not None for e in self.next_functions])


ConvolutionBackward0 = backward_node(
    "ConvolutionBackward0", saved=("input", "weight", "_cols"), fields=("params",),
    base=_ConvolutionNode,
    input=lambda n, g: _convolution_grads(n, g, (True, False, False))[0],
    weight=lambda n, g: _convolution_grads(n, g, (False, True, False))[1],
    bias=lambda n, g: _convolution_grads(n, g, (False, False, True))[2])


def _double_grad_output(n, g):
    """torch's _convolution_double_backward, ggO: conv(ggI, w), conv(input, ggW) and ggb
    expanded, each from the output whose grad ``g`` is (the engine sums them in that order)."""
    if n.which == 2:
        shape = (1, -1) + (1,) * (n.grad_output._data.ndim - 2)
        return S.expand(S.view(S.contiguous(g), shape), n.grad_output._data.shape)
    if n.input._data.size == 0:
        return None
    if n.which == 0:
        return convolution(g, n.weight, None, n.params)
    return convolution(n.input, g, None, n.params)


def _narrow_to(t, shape):
    """Narrow each spatial dim of ``t`` that is longer than ``shape``'s."""
    for i in range(2, t._data.ndim):
        if t._data.shape[i] > shape[i]:
            t = S.narrow(t, i, 0, shape[i])
    return t


def _double_grad_weight(n, g):
    """gW = conv(ggI, gO) over the batch (torch's composite: stride and dilation swapped, the
    transposed tensors convolved group by group, transposed back and narrowed)."""
    if n.which != 0 or n.input._data.size == 0:
        return None
    p = n.params
    swapped = Params(p.dilation, p.padding, p.stride, False, p.output_padding, 1)
    go_t, ggi_t = S.transpose(n.grad_output, 0, 1), S.transpose(g, 0, 1)
    if p.groups == 1:
        pieces = [(go_t, ggi_t)]
    else:
        step_o, step_i = go_t._data.shape[0] // p.groups, ggi_t._data.shape[0] // p.groups
        pieces = [(S.narrow(go_t, 0, k * step_o, step_o), S.narrow(ggi_t, 0, k * step_i, step_i))
                  for k in range(p.groups)]
    parts = [convolution(o, i, None, swapped) if p.transposed else convolution(i, o, None, swapped)
             for o, i in pieces]
    gw_t = parts[0] if len(parts) == 1 else S.cat(parts, 1)
    return _narrow_to(S.transpose(gw_t, 0, 1), n.weight._data.shape)


def _double_grad_input(n, g):
    """gI = convT(gO, ggW) (conv(gO, ggW), narrowed, for a transposed convolution), with the
    output padding that gives the input's size back."""
    if n.which != 1 or n.input._data.size == 0:
        return None
    p = n.params
    if p.transposed:
        flipped = Params(p.stride, p.padding, p.dilation, False, p.output_padding, p.groups)
        return _narrow_to(convolution(n.grad_output, g, None, flipped), n.input._data.shape)
    kernel, in_size = n.weight._data.shape[2:], n.input._data.shape[2:]
    out_size = n.grad_output._data.shape[2:]
    output_padding = [i - ((k - 1) * d - 2 * q + t * (o - 1) + 1) for i, k, d, q, t, o in zip(
        in_size, kernel, p.dilation, p.padding, p.stride, out_size, strict=True)]
    flipped = Params(p.stride, p.padding, p.dilation, True, output_padding, p.groups)
    return convolution(n.grad_output, g, None, flipped)


ConvolutionBackwardBackward0 = backward_node(
    "ConvolutionBackwardBackward0", saved=("grad_output", "input", "weight"),
    fields=("params", "which"),
    grad_output=_double_grad_output, input=_double_grad_input, weight=_double_grad_weight)


# ================================================================= the two ops
def convolution(input, weight, bias, params: Params):
    """torch's ``convolution`` once the arguments are checked: ConvolutionBackward0."""
    x, w = input._data, weight._data
    if x.shape[1] == 0:  # torch's Empty backend: no output channels either
        out_size = params.output_size(x.shape[2:], w.shape[2:])
        out, cols = np.zeros((x.shape[0], 0) + out_size, x.dtype), None
    else:
        out, cols = _forward_array(x, w, params)
        if bias is not None:
            out += bias._data.reshape((-1,) + (1,) * (out.ndim - 2)).astype(out.dtype)
    if out.dtype != x.dtype:
        out = out.astype(x.dtype)
    if x.ndim == 4 and (channels_last(x) or channels_last(w)):
        out = to_channels_last(out)
    if needs_grad(input, weight, bias):
        node = ConvolutionBackward0()
        node.input, node.weight, node.params = input, weight, params
        node._cols = cols if weight._requires_grad else None
        return attach(node, out, (input, weight, bias))
    return make(out)


def convolution_backward(grad_output, input, weight, params: Params, mask, per_sample=True):
    """torch's ``convolution_backward``: the grads of input, weight and bias wanted by
    ``mask`` (None for the others); under a graph each hangs from a
    ConvolutionBackwardBackward0.  ``per_sample``: see ``_weight_grad_array``."""
    g, x, w = grad_output._data, input._data, weight._data
    if x.shape[1] == 0:  # the Empty backend's grads
        c_out = w.shape[1] * params.groups if params.transposed else w.shape[0]
        g = np.zeros((x.shape[0], c_out) + g.shape[2:], g.dtype)
    grads = [None, None, None]
    if mask[0]:
        grads[0] = _input_grad_array(g, w, x.shape[2:], params)
    if mask[1]:
        grads[1] = _weight_grad_array(g, x, w.shape, params, per_sample=per_sample)
    if mask[2]:
        grads[2] = _bias_grad_array(g, params)
    if x.ndim == 4 and (channels_last(x) or channels_last(w)):
        grads[:2] = [None if a is None else to_channels_last(a) for a in grads[:2]]
    graph = needs_grad(grad_output, input, weight)
    for i in (2, 1, 0):  # the last node runs first: grads meet in the order torch sums them
        data = grads[i]
        if data is None:
            continue
        if graph:
            node = ConvolutionBackwardBackward0()
            node.grad_output, node.input, node.weight = grad_output, input, weight
            node.params, node.which = params, i
            grads[i] = attach(node, data, (grad_output, input, weight))
        else:
            grads[i] = make(data)
    return grads


# ================================================================= constant padding
def _pad_grad(n, g):
    return constant_pad_nd(g, [-p for p in n.pad])


ConstantPadNdBackward0 = backward_node("ConstantPadNdBackward0", fields=("pad",),
                                       self=_pad_grad)


def constant_pad_nd(input, pad, value=0):
    """torch's ``constant_pad_nd`` (pairs from the last dim backwards; negative pads crop),
    as ``padding='same'`` with an even kernel needs it."""
    x = input._data
    shape, src, dst = list(x.shape), [slice(None)] * x.ndim, [slice(None)] * x.ndim
    for i in range(len(pad) // 2):
        d = x.ndim - 1 - i
        left, right = pad[2 * i], pad[2 * i + 1]
        shape[d] = x.shape[d] + left + right
        src[d] = slice(max(-left, 0), x.shape[d] - max(-right, 0))
        dst[d] = slice(max(left, 0), shape[d] - max(right, 0))
    out = np.full(shape, value, x.dtype)
    out[tuple(dst)] = x[tuple(src)]
    if needs_grad(input):
        node = ConstantPadNdBackward0()
        node.pad = list(pad)
        return attach(node, out, (input,))
    return make(out)


# ================================================================= arguments and checks
def _int_list(value, n, fname, pname):
    """An ``int[n]`` argument as torch's parser takes it: one int for all dims, or a list."""
    if isinstance(value, bool):
        raise TypeError(f"{fname}(): argument '{pname}' must be tuple of ints, not bool")
    if isinstance(value, Tensor) and value._data.ndim == 0 and value._data.dtype.kind in "iu":
        value = int(value._data)
    if isinstance(value, int):
        return [value] * n
    if isinstance(value, (list, tuple)) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return list(value)
    raise TypeError(f"{fname}(): argument '{pname}' must be tuple of ints, not "
                    f"{type(value).__name__}")


def _expand_param(values, name, dim):
    """torch's expand_param_if_needed."""
    if len(values) == 1:
        return values * dim
    if len(values) != dim:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {dim} values to match "
            f"the convolution dimensions, but got {name}={_show(values)}")
    return list(values)


def _show(values):
    return "[" + ", ".join(map(str, values)) + "]"


def _check_tensor(value, fname, position, pname):
    if not isinstance(value, Tensor):
        raise TypeError(f"{fname}(): argument '{pname}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


def _check_shapes(input, weight, bias, p: Params):
    """torch's check_shape_forward."""
    x_shape, w_shape = input._data.shape, weight._data.shape
    k, groups = len(x_shape), p.groups
    if any(v < 0 for v in p.padding):
        raise RuntimeError("negative padding is not supported")
    if any(v < 0 for v in p.output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(v <= 0 for v in p.stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(v < 0 for v in p.dilation):
        raise RuntimeError("dilation should be greater than zero")
    if len(w_shape) != k:
        raise RuntimeError(
            f"Expected {len(w_shape)}-dimensional input for {len(w_shape)}-dimensional weight "
            f"{_show(w_shape)}, but got {k}-dimensional input of size {_show(x_shape)} instead")
    if w_shape[0] < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
            f"but got weight of size {_show(w_shape)} instead")
    if w_shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension "
            f"0, but got weight of size [{_show(w_shape)}] instead")
    b_shape = None if bias is None else bias._data.shape
    if not p.transposed:
        if x_shape[1] != w_shape[1] * groups:
            raise RuntimeError(
                f"Given groups={groups}, weight of size {_show(w_shape)}, expected "
                f"input{_show(x_shape)} to have {w_shape[1] * groups} channels, but got "
                f"{x_shape[1]} channels instead")
        if b_shape is not None and (len(b_shape) != 1 or b_shape[0] != w_shape[0]):
            raise RuntimeError(
                f"Given weight of size {_show(w_shape)}, expected bias to be 1-dimensional "
                f"with {w_shape[0]} elements, but got bias of size {_show(b_shape)} instead")
        padded = [s + 2 * q for s, q in zip(x_shape[2:], p.padding, strict=False)]
        kernel = [d * (s - 1) + 1 for s, d in zip(w_shape[2:], p.dilation, strict=False)]
        if any(i < j for i, j in zip(padded, kernel, strict=False)):
            raise RuntimeError(
                f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                f"Kernel size: ({' x '.join(map(str, kernel))}). Kernel size can't be greater "
                "than actual input size")
    else:
        if x_shape[1] != w_shape[0]:
            raise RuntimeError(
                f"Given transposed=1, weight of size {_show(w_shape)}, expected "
                f"input{_show(x_shape)} to have {w_shape[0]} channels, but got {x_shape[1]} "
                "channels instead")
        if b_shape is not None and (len(b_shape) != 1 or b_shape[0] != w_shape[1] * groups):
            raise RuntimeError(
                f"Given transposed=1, weight of size {_show(w_shape)}, expected bias to be "
                f"1-dimensional with {w_shape[1] * groups} elements, but got bias of size "
                f"{_show(b_shape)} instead")


def _uses_mkldnn(x_shape, w_shape, dtype, p: Params):
    """torch's use_mkldnn for a CPU float32 convolution (it decides the wording of a dtype
    mismatch)."""
    if dtype.name != "float32" or p.transposed:
        return False
    if len(x_shape) == 3:  # viewed as 2-d
        x_shape, w_shape = x_shape[:2] + (1,) + x_shape[2:], w_shape[:2] + (1,) + w_shape[2:]
    strided = any(s != 1 for s in p.stride)
    dilated = any(d != 1 for d in p.dilation)
    return ((strided or dilated or x_shape[0] >= 16 or w_shape[-1] != 1 or w_shape[-2] != 1
             or get_num_threads() > 1)
            and (p.groups > 1 or (w_shape[-1] > 3 and w_shape[-2] > 3) or x_shape[0] > 1
                 or math.prod(x_shape[:4]) > 20480))


def _kernel_name(p: Params, ndim):
    """The CPU kernel torch runs (named in its "not implemented for" errors)."""
    dilated = any(d != 1 for d in p.dilation)
    if p.transposed:
        return f"slow_conv_transpose{3 if ndim == 5 else 2}d_out_cpu"
    if dilated:
        return "slow_conv_dilated<>"
    return "compute_columns3d" if ndim == 5 else "slow_conv2d_cpu"


_WIDE_KERNELS = frozenset({"float16", "float32", "float64", "int64"})  # dilated, transposed


_ONEDNN_DECONV = ("could not create a primitive descriptor for the deconvolution forward "
                  "propagation primitive. Run workload with environment variable "
                  "ONEDNN_VERBOSE=all to get additional diagnostic information.")


def _zero_dilation(x_shape, w_shape, dtype, p: Params):
    """A zero dilation passes torch's shape checks; each CPU backend then refuses it in its own
    words (1-d convolutions are viewed as 2-d there)."""
    dilation = ([1] if len(p.dilation) == 1 else []) + list(p.dilation)
    if p.transposed:
        if dtype.name == "float32":
            raise RuntimeError(_ONEDNN_DECONV)
        names = ("depth", "height", "width")[-len(dilation):]
        raise RuntimeError("dilation should be greater than zero, but got " + ", ".join(
            f"dilation_{n}: {v}" for n, v in zip(names, dilation, strict=True)))
    if _uses_mkldnn(x_shape, w_shape, dtype, p):
        raise RuntimeError("non-positive dilation is not supported")
    raise RuntimeError(f"dilation should be greater than zero, but got {_show(dilation)}")


def _check_backend(input, weight, bias, p: Params):
    """What torch's CPU backends check after the shapes: zero-size inputs, dtypes (the
    slow kernels take a bias of another dtype; oneDNN does not)."""
    x_shape, w_shape = input._data.shape, weight._data.shape
    if x_shape[0] == 0 or x_shape[1] == 0:
        return
    if 0 in x_shape:
        raise RuntimeError("Only zero batch or zero channel inputs are supported, but got "
                           f"input shape: {_show(x_shape)}")
    xd, wd = input.dtype, weight.dtype
    if 0 in p.dilation:
        _zero_dilation(x_shape, w_shape, xd, p)
    if _uses_mkldnn(x_shape, w_shape, xd, p):
        for name, other in (("weight", wd), ("bias", None if bias is None else bias.dtype)):
            if other is not None and other is not xd:
                raise RuntimeError(
                    f"Input type ({legacy_type_name(xd)}) and {name} type "
                    f"({legacy_type_name(other)}) should be the same or input should be a "
                    f"MKLDNN tensor and {name} is a dense tensor")
        return
    if wd is not xd:
        raise RuntimeError(f"expected scalar type {xd.scalar_name} but found {wd.scalar_name}")
    kernel = _kernel_name(p, len(x_shape) + (len(x_shape) == 3))
    wide = p.transposed or kernel == "slow_conv_dilated<>"
    if xd.name == "bool" or (wide and xd.name not in _WIDE_KERNELS):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{xd.scalar_name}\'')


def _convolution_checked(input, weight, bias, stride, padding, dilation, transposed,
                         output_padding, groups):
    """torch's ``_convolution``: parameters expanded and checked, then ``convolution``."""
    dim = weight._data.ndim - 2
    if dim <= 0:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    p = Params(_expand_param(stride, "stride", dim), _expand_param(padding, "padding", dim),
               _expand_param(dilation, "dilation", dim), transposed,
               _expand_param(output_padding, "output_padding", dim), groups)
    _check_shapes(input, weight, bias, p)
    _check_backend(input, weight, bias, p)
    if transposed and input._data.shape[0] and input._data.shape[1]:  # the slow kernel's checks
        _check_transposed(input, weight, p)
    return convolution(input, weight, bias, p)


def _check_transposed(input, weight, p: Params):
    """slow_conv_transpose's checks: output padding below stride or dilation, and a
    positive output size."""
    if any(op >= t and op >= d
           for op, t, d in zip(p.output_padding, p.stride, p.dilation, strict=False)):
        names = ("depth", "height", "width")[-len(p.stride):] if len(p.stride) > 1 else \
            ("height", "width")
        op, st, di = (list(v) for v in (p.output_padding, p.stride, p.dilation))
        if len(p.stride) == 1:  # viewed as 2-d
            op, st, di = [0] + op, [1] + st, [1] + di
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            + " ".join(f"output_padding_{n}: {v}" for n, v in zip(names, op, strict=False)) + " "
            + " ".join(f"stride_{n}: {v}" for n, v in zip(names, st, strict=False)) + " "
            + " ".join(f"dilation_{n}: {v}" for n, v in zip(names, di, strict=False)))
    out = p.output_size(input._data.shape[2:], weight._data.shape[2:])
    if any(o < 1 for o in out):
        sizes = input._data.shape[2:]
        if len(sizes) == 1:
            sizes, out = (1,) + sizes, (1,) + out
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, sizes))}). Calculated output "
            f"size per channel: ({' x '.join(map(str, out))}). Output size is too small")


def _batchify(input, dims, fname):
    """torch's batchify: an unbatched input gets a batch dim of 1 (UnsqueezeBackward0)."""
    n = input._data.ndim
    if n == dims + 2:
        return input, True
    if n != dims + 1:
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {fname}, but "
            f"got input of size: {_show(input._data.shape)}")
    return S.unsqueeze(input, 0), False


_SAME_WARNING = ("Using padding='same' with even kernel lengths and odd dilation may require a "
                 "zero-padded copy of the input be created")
_warned_same = False


def _convolution_same(input, weight, bias, stride, dilation, groups):
    """torch's convolution_same: symmetric padding where it can; otherwise the extra zero on
    the right is a constant_pad_nd of the input (warned once per process)."""
    global _warned_same
    k = weight._data.ndim
    if k <= 2:
        raise RuntimeError("weight should have at least three dimensions")
    dim = k - 2
    if input._data.ndim != k:
        raise RuntimeError(
            f"Expected {k}-dimensional input for {k}-dimensional weight"
            f"{_show(weight._data.shape)}, but got {input._data.ndim}-dimensional input of "
            f"size {_show(input._data.shape)} instead")
    if len(stride) not in (1, dim):
        raise RuntimeError(f"stride cannot broadcast to {dim} dimensions")
    if len(dilation) not in (1, dim):
        raise RuntimeError(f"dilation cannot broadcast to {dim} dimensions")
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    left, right = [], []
    for i in range(dim):
        d = dilation[0] if len(dilation) == 1 else dilation[i]
        total = d * (weight._data.shape[i + 2] - 1)
        left.append(total // 2)
        right.append(total - total // 2)
    if left != right:
        if not _warned_same:
            _warned_same = True
            warnings.warn(_SAME_WARNING, UserWarning, stacklevel=3)
        pad = [0] * (2 * dim)
        for i in range(dim):
            pad[2 * (dim - 1 - i) + 1] = right[i] - left[i]
        input = constant_pad_nd(input, pad)
    return _convolution_checked(input, weight, bias, stride, left, dilation, False, [0] * dim,
                                groups)


def _conv(dims, fname):
    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        _check_tensor(input, fname, 1, "input")
        _check_tensor(weight, fname, 2, "weight")
        if bias is not None:
            _check_tensor(bias, fname, 3, "bias")
        groups = operator.index(groups)
        stride = _int_list(stride, dims, fname, "stride")
        dilation = _int_list(dilation, dims, fname, "dilation")
        if isinstance(padding, str):
            x, batched = _batchify(input, dims, fname)
            if padding == "same":
                out = _convolution_same(x, weight, bias, stride, dilation, groups)
            elif padding == "valid":
                out = _convolution_checked(x, weight, bias, stride, [0], dilation, False, [0],
                                           groups)
            else:
                raise RuntimeError(f"Invalid padding string: '{padding}'")
        else:
            padding = _int_list(padding, dims, fname, "padding")
            if bias is not None and bias.dtype is not input.dtype:
                raise RuntimeError(f"Input type ({input.dtype.cpp_name}) and bias type "
                                   f"({bias.dtype.cpp_name}) should be the same")
            x, batched = _batchify(input, dims, fname)
            out = _convolution_checked(x, weight, bias, stride, padding, dilation, False,
                                       [0] * dims, groups)
        return out if batched else S.squeeze(out, 0)

    conv.__name__ = conv.__qualname__ = fname
    return conv


def _conv_transpose(dims, fname):
    def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                       groups=1, dilation=1):
        _check_tensor(input, fname, 1, "input")
        _check_tensor(weight, fname, 2, "weight")
        if bias is not None:
            _check_tensor(bias, fname, 3, "bias")
        groups = operator.index(groups)
        stride = _int_list(stride, dims, fname, "stride")
        padding = _int_list(padding, dims, fname, "padding")
        output_padding = _int_list(output_padding, dims, fname, "output_padding")
        dilation = _int_list(dilation, dims, fname, "dilation")
        x, batched = _batchify(input, dims, fname)
        out = _convolution_checked(x, weight, bias, stride, padding, dilation, True,
                                   output_padding, groups)
        return out if batched else S.squeeze(out, 0)

    conv_transpose.__name__ = conv_transpose.__qualname__ = fname
    return conv_transpose


conv1d = _conv(1, "conv1d")
conv2d = _conv(2, "conv2d")
conv3d = _conv(3, "conv3d")
conv_transpose1d = _conv_transpose(1, "conv_transpose1d")
conv_transpose2d = _conv_transpose(2, "conv_transpose2d")
conv_transpose3d = _conv_transpose(3, "conv_transpose3d")


def convolution_function(input, weight, bias, stride, padding, dilation, transposed,
                         output_padding, groups):
    """``torch.convolution``: every argument given, no batching of an unbatched input."""
    _check_tensor(input, "convolution", 1, "input")
    _check_tensor(weight, "convolution", 2, "weight")
    if bias is not None:
        _check_tensor(bias, "convolution", 3, "bias")
    args = [_int_list(v, 1, "convolution", name) for v, name in (
        (stride, "stride"), (padding, "padding"), (dilation, "dilation"),
        (output_padding, "output_padding"))]
    return _convolution_checked(input, weight, bias, args[0], args[1], args[2], bool(transposed),
                                args[3], operator.index(groups))


# ================================================================= im2col / col2im
Im2ColBackward0 = backward_node(
    "Im2ColBackward0", fields=("self_size", "kernel", "dilation", "padding", "stride"),
    self=lambda n, g: col2im(g, n.self_size, n.kernel, n.dilation, n.padding, n.stride))
Col2ImBackward0 = backward_node(
    "Col2ImBackward0", fields=("kernel", "dilation", "padding", "stride"),
    self=lambda n, g: im2col(g, n.kernel, n.dilation, n.padding, n.stride))


def _blocks(size, kernel, dilation, padding, stride):
    return tuple((s + 2 * p - d * (k - 1) - 1) // t + 1
                 for s, k, d, p, t in zip(size, kernel, dilation, padding, stride, strict=False))


def _check_im2col_args(**params):
    """im2col/col2im's checks of the parameters: two values each, then their ranges."""
    for name, values in params.items():
        if len(values) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(values)}")
    kernel, dilation = params["kernel_size"], params["dilation"]
    padding, stride = params["padding"], params["stride"]
    if any(k <= 0 for k in kernel):
        raise RuntimeError("kernel size should be greater than zero, but got kernel_height: "
                           f"{kernel[0]} kernel_width: {kernel[1]}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero, but got dilation_height: "
                           f"{dilation[0]} dilation_width: {dilation[1]}")
    if any(p < 0 for p in padding):
        raise RuntimeError("padding should be non-negative, but got pad_height: "
                           f"{padding[0]} pad_width: {padding[1]}")
    if any(t <= 0 for t in stride):
        raise RuntimeError("stride should be greater than zero, but got stride_height: "
                           f"{stride[0]} stride_width: {stride[1]}")


def _size(x, dim):
    """``input.size(dim)`` with torch's IndexError for a dim the tensor lacks."""
    if x.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return x.shape[wrap_dim(dim, x.ndim)]


def im2col(input, kernel, dilation, padding, stride):
    """torch's im2col (F.unfold): ``(N, C, H, W)`` to ``(N, C * kh * kw, L)``."""
    x = input._data
    _check_im2col_args(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)
    ndim = x.ndim
    valid = _size(x, 1) != 0 and _size(x, 2) != 0
    if not ((ndim == 3 and x.shape[0] != 0 and valid) or (ndim == 4 and valid and x.shape[3])):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {_show(x.shape)}")
    blocks = _blocks(x.shape[-2:], kernel, dilation, padding, stride)
    if any(b < 1 for b in blocks):
        raise RuntimeError(
            f"Given input with spatial size ({x.shape[-2]}, {x.shape[-1]}), kernel_size="
            f"({kernel[0]}, {kernel[1]}), dilation=({dilation[0]}, {dilation[1]}), padding="
            f"({padding[0]}, {padding[1]}), calculated shape of the array of sliding blocks as "
            f"({blocks[0]}, {blocks[1]}), but its components must be at least one.")
    batch = x if ndim == 4 else x[None]
    cols = im2col_array(batch, kernel, blocks, stride, padding, dilation)
    out = cols.reshape(batch.shape[0], cols.shape[1] * cols.shape[2], cols.shape[-1])
    if ndim == 3:
        out = out[0]
    if needs_grad(input):
        node = Im2ColBackward0()
        node.self_size = x.shape[-2:]
        node.kernel, node.dilation, node.padding, node.stride = kernel, dilation, padding, stride
        return attach(node, out, (input,))
    return make(out)


def col2im(input, output_size, kernel, dilation, padding, stride):
    """torch's col2im (F.fold): ``(N, C * kh * kw, L)`` summed into ``(N, C, *output_size)``."""
    x = input._data
    _check_im2col_args(output_size=output_size, kernel_size=kernel, dilation=dilation,
                       padding=padding, stride=stride)
    ndim = x.ndim
    if not ((ndim == 2 and x.shape[0] != 0 and x.shape[1] != 0)
            or (ndim == 3 and x.shape[1] != 0 and x.shape[2] != 0)):
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
            f"non-zero dimensions for input, but got: {_show(x.shape)}")
    per_block = kernel[0] * kernel[1]
    if x.shape[-2] % per_block:
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={x.shape[-2]} and kernel_size=({kernel[0]}, "
            f"{kernel[1]}).")
    blocks = _blocks(output_size, kernel, dilation, padding, stride)
    if x.shape[-1] != blocks[0] * blocks[1] or min(blocks) < 1:
        raise RuntimeError(
            f"Given output_size=({output_size[0]}, {output_size[1]}), kernel_size=({kernel[0]}, "
            f"{kernel[1]}), dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, "
            f"{padding[1]}), stride=({stride[0]}, {stride[1]}), expected size of input's "
            f"dimension 2 to match the calculated number of sliding blocks {blocks[0]} * "
            f"{blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)={x.shape[-1]}.")
    batch = x if ndim == 3 else x[None]
    out = col2im_array(batch, batch.shape[1] // per_block, tuple(output_size), blocks, kernel,
                       stride, padding, dilation)
    if ndim == 2:
        out = out[0]
    if needs_grad(input):
        node = Col2ImBackward0()
        node.kernel, node.dilation, node.padding, node.stride = kernel, dilation, padding, stride
        return attach(node, out, (input,))
    return make(out)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """F.unfold."""
    _check_tensor(input, "im2col", 1, "input")
    return im2col(input, *(_int_list(v, 2, "im2col", name) for v, name in (
        (kernel_size, "kernel_size"), (dilation, "dilation"), (padding, "padding"),
        (stride, "stride"))))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """F.fold."""
    _check_tensor(input, "col2im", 1, "input")
    return col2im(input, *(_int_list(v, 2, "col2im", name) for v, name in (
        (output_size, "output_size"), (kernel_size, "kernel_size"), (dilation, "dilation"),
        (padding, "padding"), (stride, "stride"))))
