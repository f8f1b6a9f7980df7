"""Convolutions against torch where specs and the OpInfo corpus do not reach: memory formats of
outputs and grads, the saved-tensor version check, the graph a third-order grad records, the
forward's columns freed by backward, error messages of many argument mistakes, nn.Conv layers'
own checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_oracle import inputs, raised

import engine


def _layout(t):
    return t.is_contiguous(), t.detach().numpy().strides


def _names(t, depth=4):
    """grad_fn names of ``t``'s graph, breadth first, ``depth`` levels."""
    out, level = [], [t.grad_fn]
    for _ in range(depth):
        nxt = []
        for fn in level:
            if fn is None:
                out.append(None)
                continue
            out.append(fn.name())
            nxt += [f for f, _ in fn.next_functions]
        level = nxt
    return out


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("which", ["input", "weight", "both"])
def test_channels_last_outputs_and_grads(which, transposed):
    """torch gives a 2-d convolution's output and grads the channels-last format when the input
    or the weight has it."""
    x, w = inputs((2, 3, 6, 6), (4, 3, 3, 3), dtype=np.float64)
    if transposed:
        w = np.ascontiguousarray(w.transpose(1, 0, 2, 3))
    conv = "conv_transpose2d" if transposed else "conv2d"
    layouts = []
    for lib in (torch, engine):
        xt, wt = lib.tensor(x), lib.tensor(w)
        if which in ("input", "both"):
            xt = lib.tensor(np.ascontiguousarray(x.transpose(0, 2, 3, 1))).permute(0, 3, 1, 2)
        if which in ("weight", "both"):
            wt = lib.tensor(np.ascontiguousarray(w.transpose(0, 2, 3, 1))).permute(0, 3, 1, 2)
        xt.requires_grad_()
        wt.requires_grad_()
        y = getattr(lib.nn.functional, conv)(xt, wt)
        grads = lib.autograd.grad(y, (xt, wt), lib.ones_like(y))  # as the op made them
        layouts.append([_layout(t) for t in (y, *grads)])
    assert layouts[0] == layouts[1]


def test_saved_input_modified_in_place():
    x, w = inputs((1, 2, 5, 5), (3, 2, 3, 3))
    messages = []
    for lib in (torch, engine):
        xt, wt = lib.tensor(x), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, wt)
        xt.add_(1)
        messages.append(raised(lambda lib, y=y: y.sum().backward(), lib))
    assert messages[0] == messages[1] and messages[0][0] == "RuntimeError"


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("groups", [1, 2])
def test_third_order_graph(transposed, groups):
    """The second-order grads hang from torch's _convolution_double_backward composite
    (ConvolutionBackward0, TransposeBackward0, cat and narrow), so a third-order graph has
    torch's nodes too."""
    x, w, b = inputs((2, 4, 5, 5), (4, 4 // groups, 2, 3), (4,), dtype=np.float64)
    graphs = []
    for lib in (torch, engine):
        xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        conv = lib.nn.functional.conv_transpose2d if transposed else lib.nn.functional.conv2d
        y = conv(xt, wt, bt, stride=2, padding=1, groups=groups)
        v = lib.ones_like(y, requires_grad=True)
        gx, gw, gb = lib.autograd.grad(y, (xt, wt, bt), v, create_graph=True)
        second = lib.autograd.grad((gx * gx).sum() + (gw * gw).sum() + (gb * gb).sum(),
                                   (xt, wt, v), create_graph=True)
        graphs.append([_names(t) for t in second])
    assert graphs[0] == graphs[1]


def test_columns_freed_by_backward():
    """The weight grad reuses the forward's im2col columns, which backward then frees (a
    second backward raises torch's error, as the saved input is freed too)."""
    x, w = inputs((2, 3, 6, 6), (4, 3, 3, 3))
    xt, wt = engine.tensor(x), engine.tensor(w, requires_grad=True)
    y = engine.nn.functional.conv2d(xt, wt)
    node = y.grad_fn
    assert node._cols is not None
    y.sum().backward(retain_graph=True)
    first = wt.grad.clone()
    assert node._cols is not None
    y.sum().backward()
    assert node._cols is None
    np.testing.assert_allclose(wt.grad.numpy(), 2 * first.numpy(), rtol=1e-6)
    assert raised(lambda lib: y.sum().backward(), engine)[1].startswith(
        "Trying to backward through the graph a second time")


ERRORS = {
    "weight_rank": lambda F, x, w: F.conv2d(x, w[0]),
    "input_rank": lambda F, x, w: F.conv2d(x[0, 0], w),
    "channels": lambda F, x, w: F.conv2d(x, w[:, :1]),
    "groups_divisible": lambda F, x, w: F.conv2d(x, w, groups=2),
    "groups_zero": lambda F, x, w: F.conv2d(x, w, groups=0),
    "groups_too_many": lambda F, x, w: F.conv2d(x, w, groups=4),
    "bias_size": lambda F, x, w: F.conv2d(x, w, w[:2, 0, 0, 0]),
    "bias_dtype": lambda F, x, w: F.conv1d(x[0], w[:, :, 0], w[:, 0, 0, 0].double()),
    "weight_dtype": lambda F, x, w: F.conv2d(x, w.double()),
    "weight_dtype_onednn": lambda F, x, w: F.conv2d(x.repeat(16, 1, 1, 1), w.double()),
    "bias_dtype_onednn": lambda F, x, w: F.conv2d(x.repeat(16, 1, 1, 1), w,
                                                  w[:, 0, 0, 0].double(), padding="same"),
    "stride_zero": lambda F, x, w: F.conv2d(x, w, stride=0),
    "stride_list": lambda F, x, w: F.conv2d(x, w, stride=(1, 1, 1)),
    "padding_negative": lambda F, x, w: F.conv2d(x, w, padding=-1),
    "dilation_zero": lambda F, x, w: F.conv2d(x, w, dilation=0),
    "padding_string": lambda F, x, w: F.conv2d(x, w, padding="full"),
    "same_strided": lambda F, x, w: F.conv3d(x[None], w[:, :, None], stride=2, padding="same"),
    "same_rank": lambda F, x, w: F.conv2d(x[None], w, padding="same"),
    "kernel_too_big": lambda F, x, w: F.conv2d(x[..., :2, :2], w),
    "empty_spatial": lambda F, x, w: F.conv2d(x[..., :0, :], w, padding=2),
    "bool": lambda F, x, w: F.conv2d(x.bool(), w.bool()),
    "bool_dilated": lambda F, x, w: F.conv2d(x.bool(), w.bool(), dilation=2),
    "bool_3d": lambda F, x, w: F.conv3d(x[None].bool(), w[:, :, None].bool()),
    "int_transposed": lambda F, x, w: F.conv_transpose2d(x.int(), w.transpose(0, 1).int()),
    "transposed_channels": lambda F, x, w: F.conv_transpose2d(x, w),
    "transposed_bias": lambda F, x, w: F.conv_transpose2d(x, w.transpose(0, 1), w[0, 0, 0, :2]),
    "output_padding": lambda F, x, w: F.conv_transpose2d(x, w.transpose(0, 1),
                                                         output_padding=1),
    "output_padding_1d": lambda F, x, w: F.conv_transpose1d(x[0], w[:, :, 0].transpose(0, 1),
                                                            output_padding=(1,)),
    "output_too_small": lambda F, x, w: F.conv_transpose2d(x, w.transpose(0, 1), padding=4),
    "unfold_rank": lambda F, x, w: F.unfold(x[0, 0], 2),
    "unfold_rank_5": lambda F, x, w: F.unfold(x[None], 2),
    "unfold_scalar": lambda F, x, w: F.unfold(x[0, 0, 0, 0], 2),
    "unfold_channels": lambda F, x, w: F.unfold(x[:, :0], 2),
    "unfold_params": lambda F, x, w: F.unfold(x, (2, 2), padding=(1, 1, 1)),
    "fold_params": lambda F, x, w: F.fold(x[0], (5, 5, 5), 2),
    "fold_rank": lambda F, x, w: F.fold(x, (5, 5), 2),
    "fold_no_blocks": lambda F, x, w: F.fold(x.reshape(1, 8, 25)[:, :, :1], (1, 1), 2),
    "unfold_blocks": lambda F, x, w: F.unfold(x, 7),
    "unfold_kernel": lambda F, x, w: F.unfold(x, 0),
    "fold_divisible": lambda F, x, w: F.fold(x[0], (4, 4), 2),
    "fold_blocks": lambda F, x, w: F.fold(x.reshape(1, 8, 25)[..., :20], (6, 6), 2),
    "fold_output": lambda F, x, w: F.fold(x.reshape(1, 8, 25), (0, 6), 2),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    x, w = inputs((1, 2, 5, 5), (3, 2, 3, 3))
    got = [raised(lambda lib: ERRORS[name](lib.nn.functional, lib.tensor(x), lib.tensor(w)), lib)
           for lib in (torch, engine)]
    assert got[0] is not None and got[0] == got[1]


MODULE_ERRORS = {
    "groups": lambda nn: nn.Conv2d(3, 4, 3, groups=0),
    "in_channels": lambda nn: nn.Conv2d(3, 4, 3, groups=2),
    "out_channels": lambda nn: nn.Conv2d(4, 3, 3, groups=2),
    "padding_string": lambda nn: nn.Conv2d(3, 4, 3, padding="full"),
    "same_strided": lambda nn: nn.Conv1d(3, 4, 3, stride=2, padding="same"),
    "transposed_padding_mode": lambda nn: nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"),
    "output_size": lambda nn: nn.ConvTranspose2d(1, 1, 3, stride=2)(nn.Parameter(
        nn.init.ones_(nn.Parameter(engine.empty(1, 1, 4, 4)) if nn is engine.nn
                      else nn.Parameter(torch.empty(1, 1, 4, 4)))), output_size=(20, 20)),
}


@pytest.mark.parametrize("name", MODULE_ERRORS)
def test_module_errors(name):
    got = [raised(lambda lib: MODULE_ERRORS[name](lib.nn), lib) for lib in (torch, engine)]
    assert got[0] is not None and got[0] == got[1]


def test_module_padding_mode_error():
    """The message lists a set, whose order follows string hashing (torch's set comes from a
    .pyc built by another process): only the class and the wording are compared."""
    got = [raised(lambda lib: lib.nn.Conv2d(3, 4, 3, padding_mode="mirror"), lib)
           for lib in (torch, engine)]
    assert got[0][0] == got[1][0] == "ValueError"
    assert got[1][1].startswith("padding_mode must be one of {")
    assert got[1][1].endswith("}, but got padding_mode='mirror'")


def test_transposed_module_output_size():
    """ConvTranspose2d(output_size=...) picks the output_padding torch picks."""
    x = inputs((1, 2, 4, 5))[0]
    outs = []
    for lib in (torch, engine):
        lib.manual_seed(0)
        m = lib.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
        outs.append(m(lib.tensor(x), output_size=[8, 10]).detach().numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-5)
    assert outs[0].shape == (1, 3, 8, 10)
