"""``RNN``, ``LSTM``, ``GRU`` and their cells, computed as torch computes them on the CPU.

torch's CPU recurrences are composites of tensor ops (aten/src/ATen/native/RNN.cpp), so the
graph a user sees is made of ordinary nodes: each layer projects the whole sequence through
``linear`` once (AddmmBackward0 under a ViewBackward0), unbinds it per step, and each step adds
the hidden projection in place (``linear_hh(h).add_(x_t)``, an AddBackward0), splits the gates
with ``unsafe_chunk`` and applies the activations in place; the step outputs are stacked, the
two directions concatenated, and dropout applied between layers.  The cells are the same steps
without the sequence projection.  The one exception is a float32 LSTM, which torch hands to
oneDNN: see ``_mkldnn_lstm`` (a node of its own, MkldnnRnnLayerBackward0, per layer and
direction).  A PackedSequence runs torch's packed layers (each step narrows its rows; hidden
states of finished sequences are set aside and concatenated back), never oneDNN.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings

import numpy as np

import engine

from ..._tensor import make
from ...autograd.grad_mode import state as _grad_mode
from ...autograd.node import Node, attach, backward_node
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _linear(x, weight, bias):
    return engine.nn.functional.linear(x, weight, bias)


# ------------------------------------------------------------------ one step of each cell
def _simple_step(activation):
    def step(x, h, p, pre_computed):
        gates = _linear(h, p[1], p[3]).add_(x if pre_computed else _linear(x, p[0], p[2]))
        return activation(gates)
    return step


def _lstm_step(x, hidden, p, pre_computed):
    hx, cx = hidden
    gates = _linear(hx, p[1], p[3]).add_(x if pre_computed else _linear(x, p[0], p[2]))
    ingate, forgetgate, cellgate, outgate = gates.unsafe_chunk(4, 1)
    ingate = ingate.sigmoid_()
    forgetgate = forgetgate.sigmoid_()
    cellgate = cellgate.tanh_()
    outgate = outgate.sigmoid_()
    cy = (forgetgate * cx).add_(ingate * cellgate)
    hy = outgate * cy.tanh()
    if p[4] is not None:
        hy = engine.matmul(hy, p[4].t())
    return hy, cy


def _gru_step(x, h, p, pre_computed):
    igates = (x if pre_computed else _linear(x, p[0], p[2])).unsafe_chunk(3, 1)
    hgates = _linear(h, p[1], p[3]).unsafe_chunk(3, 1)
    reset_gate = hgates[0].add_(igates[0]).sigmoid_()
    input_gate = hgates[1].add_(igates[1]).sigmoid_()
    new_gate = igates[2].add(hgates[2].mul_(reset_gate)).tanh_()
    return (h - new_gate).mul_(input_gate).add_(new_gate)


_STEPS = {"RNN_TANH": _simple_step(engine.tanh), "RNN_RELU": _simple_step(engine.relu),
          "LSTM": _lstm_step, "GRU": _gru_step}


def _output(hidden):
    return hidden[0] if isinstance(hidden, tuple) else hidden


def _run(step, steps, hidden, p):
    outputs = []
    for x in steps:
        hidden = step(x, hidden, p, True)
        outputs.append(_output(hidden))
    return outputs, hidden


def _layer(step, input, hidden, p):
    """FullLayer on the CPU: the input projection of the whole sequence, then the steps."""
    outputs, hidden = _run(step, _linear(input, p[0], p[2]).unbind(0), hidden, p)
    if not outputs:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    return engine.stack(outputs, 0), hidden


def _bidirectional_layer(step, input, hidden, p_fw, p_bw):
    fw_outputs, fw_hidden = _run(step, _linear(input, p_fw[0], p_fw[2]).unbind(0), hidden[0],
                                 p_fw)
    if not fw_outputs:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    fw = engine.stack(fw_outputs, 0)
    steps = list(_linear(input, p_bw[0], p_bw[2]).unbind(0))[::-1]
    bw_outputs, bw_hidden = _run(step, steps, hidden[1], p_bw)
    bw = engine.stack(bw_outputs[::-1], 0)
    return engine.cat([fw, bw], fw.dim() - 1), (fw_hidden, bw_hidden)


def _hslice(hidden, start, end):
    if isinstance(hidden, tuple):
        return tuple(h.narrow(0, start, end - start) for h in hidden)
    return hidden.narrow(0, start, end - start)


def _hconcat(hiddens):
    if isinstance(hiddens[0], tuple):
        return tuple(engine.cat([h[i] for h in hiddens], 0) for i in range(2))
    return engine.cat(hiddens, 0)


def _packed_layer(step, data, batch_sizes, hidden, p):
    """PackedLayer: each step takes its batch_sizes[t] rows; the hidden states of sequences
    that ended are set aside (narrow) and concatenated back at the end."""
    input_w = _linear(data, p[0], p[2])
    outputs, finished = [], []
    offset, last = 0, batch_sizes[0]
    for size in batch_sizes:
        x = input_w.narrow(0, offset, size)
        offset += size
        if last > size:
            finished.append(_hslice(hidden, size, last))
            hidden = _hslice(hidden, 0, size)
        last = size
        hidden = step(x, hidden, p, True)
        outputs.append(_output(hidden))
    finished.append(hidden)
    return engine.cat(outputs, 0), _hconcat(finished[::-1])


def _reversed_packed_layer(step, data, batch_sizes, input_hidden, p):
    """ReversedPackedLayer: from the last step back, the hidden states growing (cat) as
    longer sequences join."""
    input_w = _linear(data, p[0], p[2])
    outputs = []
    offset, last = data.size(0), batch_sizes[-1]
    hidden = _hslice(input_hidden, 0, last)
    for size in batch_sizes[::-1]:
        if size > last:
            hidden = _hconcat([hidden, _hslice(input_hidden, last, size)])
        x = input_w.narrow(0, offset - size, size)
        offset -= size
        last = size
        hidden = step(x, hidden, p, True)
        outputs.append(_output(hidden))
    return engine.cat(outputs[::-1], 0), hidden


def _stack_layers(mode, input, hiddens, params, num_layers, dropout, train, bidirectional,
                  batch_sizes=None):
    """apply_layer_stack: each layer's output feeds the next, dropout between layers."""
    step = _STEPS[mode]
    finals = []
    directions = 2 if bidirectional else 1
    for layer in range(num_layers):
        i = layer * directions
        if batch_sizes is not None:
            out, final = _packed_layer(step, input, batch_sizes, hiddens[i], params[i])
            finals.append(final)
            if bidirectional:
                rev, rev_final = _reversed_packed_layer(step, input, batch_sizes,
                                                        hiddens[i + 1], params[i + 1])
                out = engine.cat([out, rev], -1)
                finals.append(rev_final)
            input = out
        elif bidirectional:
            input, (fw, bw) = _bidirectional_layer(step, input, (hiddens[i], hiddens[i + 1]),
                                                   params[i], params[i + 1])
            finals += [fw, bw]
        else:
            input, final = _layer(step, input, hiddens[i], params[i])
            finals.append(final)
        if dropout != 0 and train and layer < num_layers - 1:
            input = engine.nn.functional.dropout(input, dropout, True)
    return input, finals


def _composite(mode, input, hx, params, num_layers, dropout, train, bidirectional,
               batch_first, batch_sizes=None):
    if batch_first and batch_sizes is None:
        input = input.transpose(0, 1)
    if mode == "LSTM":
        hiddens = list(zip(hx[0].unbind(0), hx[1].unbind(0), strict=True))
        output, finals = _stack_layers(mode, input, hiddens, params, num_layers, dropout, train,
                                       bidirectional, batch_sizes)
        hy = engine.stack([f[0] for f in finals], 0)
        cy = engine.stack([f[1] for f in finals], 0)
        if batch_first and batch_sizes is None:
            output = output.transpose(0, 1)
        return output, (hy, cy)
    output, finals = _stack_layers(mode, input, hx.unbind(0), params, num_layers, dropout, train,
                                   bidirectional, batch_sizes)
    hy = engine.stack(finals, 0)
    if batch_first and batch_sizes is None:
        output = _transposed_in_place(output)
    return output, hy


TransposeBackward1 = backward_node(
    "TransposeBackward1", fields=("dim0", "dim1"),
    self=lambda node, grad: grad.transpose(node.dim0, node.dim1))


def _transposed_in_place(output):
    """torch's ``output.transpose_(0, 1)`` at the end of rnn_tanh/rnn_relu/gru: the result is
    the same tensor, not a view, with a TransposeBackward1 node.  The stacked output before
    it is not visible to the caller, so a fresh tensor with that node is the same to them."""
    data = output._data.swapaxes(0, 1)
    if not (output.requires_grad and _grad_mode.enabled):
        return make(data)
    node = TransposeBackward1()
    node.dim0, node.dim1 = 0, 1
    t = attach(node, data, (output,))
    t._view_of = None
    t._vc = None
    return t


# ------------------------------------------------------------------ float32 LSTM (oneDNN)
def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


class _LayerRun:
    """One mkldnn_rnn_layer: the forward's gates and states, kept for the three nodes."""

    __slots__ = ("x", "w_ih", "w_hh", "h", "c", "gates", "order")

    def __init__(self, x, w_ih, w_hh, b, h0, c0, reverse):
        steps, batch = x.shape[0], x.shape[1]
        hidden = w_hh.shape[1]
        self.x, self.w_ih, self.w_hh = x, w_ih, w_hh
        self.order = range(steps - 1, -1, -1) if reverse else range(steps)
        projected = (x.reshape(steps * batch, -1) @ w_ih.T).reshape(steps, batch, -1) + b
        self.h = np.empty((steps + 1, batch, hidden), x.dtype)  # h[k]: state before step k
        self.c = np.empty((steps + 1, batch, hidden), x.dtype)
        self.gates = np.empty((steps, batch, 4 * hidden), x.dtype)
        self.h[0], self.c[0] = h0, c0
        for k, t in enumerate(self.order):
            g = projected[t] + self.h[k] @ w_hh.T
            g[:, :2 * hidden] = _sigmoid(g[:, :2 * hidden])
            g[:, 2 * hidden:3 * hidden] = np.tanh(g[:, 2 * hidden:3 * hidden])
            g[:, 3 * hidden:] = _sigmoid(g[:, 3 * hidden:])
            i, f, cell, o = np.split(g, 4, axis=1)
            self.c[k + 1] = f * self.c[k] + i * cell
            self.h[k + 1] = o * np.tanh(self.c[k + 1])
            self.gates[k] = g

    def output(self):
        out = np.empty_like(self.h[1:])
        out[list(self.order)] = self.h[1:]
        return out

    def grads(self, d_out, d_hy, d_cy):
        """Back through time from the grads of the output sequence, hy and cy."""
        steps, batch, hidden = self.h.shape[0] - 1, self.h.shape[1], self.h.shape[2]
        dh = np.zeros((batch, hidden), self.x.dtype) if d_hy is None else d_hy.copy()
        dc = np.zeros((batch, hidden), self.x.dtype) if d_cy is None else d_cy.copy()
        d_gates = np.empty_like(self.gates)
        order = list(self.order)
        for k in range(steps - 1, -1, -1):
            if d_out is not None:
                dh = dh + d_out[order[k]]
            i, f, cell, o = np.split(self.gates[k], 4, axis=1)
            tc = np.tanh(self.c[k + 1])
            dc = dc + dh * o * (1 - tc * tc)
            d_gates[k] = np.concatenate([dc * cell * i * (1 - i), dc * self.c[k] * f * (1 - f),
                                         dc * i * (1 - cell * cell), dh * tc * o * (1 - o)], 1)
            dc = dc * f
            dh = d_gates[k] @ self.w_hh
        flat_g = d_gates.reshape(steps * batch, -1)
        x_in_order = self.x[order].reshape(steps * batch, -1)
        d_x = np.empty_like(self.x)
        d_x[order] = (flat_g @ self.w_ih).reshape(steps, batch, -1)
        d_w_ih = flat_g.T @ x_in_order
        d_w_hh = flat_g.T @ self.h[:-1].reshape(steps * batch, -1)
        d_b = flat_g.sum(0)
        return d_x, d_w_ih, d_w_hh, d_b, d_b.copy(), dh, dc


class MkldnnRnnLayerBackward0(Node):
    """The grad of one oneDNN LSTM layer's output, hy or cy (torch's one multi-output node is
    one node per output here: each runs back through time for its own grad)."""

    __slots__ = ("run", "which")
    __module__ = "builtins"

    def apply(self, grad):
        g = grad._data
        args = [None, None, None]
        args[self.which] = g
        grads = self.run.grads(*args)
        return [None if nxt is None else make(a)
                for (nxt, _), a in zip(self.next_functions, grads, strict=True)]


def _mkldnn_layer(input, p, h0, c0, reverse):
    w_ih, w_hh, b_ih, b_hh, _ = p
    hidden = w_hh.shape[1]
    b = np.zeros(4 * hidden, np.float32)
    if b_ih is not None:
        b = b_ih._data + b_hh._data
    run = _LayerRun(input._data, w_ih._data, w_hh._data, b, h0._data, c0._data, reverse)
    results = (run.output(), run.h[-1].copy(), run.c[-1].copy())
    inputs = (input, w_ih, w_hh, b_ih, b_hh, h0, c0)
    if not (_grad_mode.enabled and any(t is not None and t.requires_grad for t in inputs)):
        return tuple(make(r) for r in results)
    outs = []
    for which, data in enumerate(results):
        node = MkldnnRnnLayerBackward0()
        node.run, node.which = run, which
        outs.append(attach(node, data, inputs))
    return tuple(outs)


def _mkldnn_lstm(input, hx, params, num_layers, dropout, train, bidirectional, batch_first):
    """lstm_mkldnn: each layer and direction one mkldnn_rnn_layer, the directions
    concatenated, dropout between layers, the final states stacked."""
    if batch_first:
        input = input.transpose(0, 1)
    directions = 2 if bidirectional else 1
    layer_input = input.contiguous()
    hys, cys = [], []
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            index = layer * directions + direction
            out, hy, cy = _mkldnn_layer(layer_input, params[index], hx[0][index],
                                        hx[1][index], direction > 0)
            outputs.append(out)
            hys.append(hy)
            cys.append(cy)
        layer_input = outputs[0] if directions == 1 else engine.cat(outputs, -1)
        if dropout != 0 and train and layer < num_layers - 1:
            layer_input = engine.nn.functional.dropout(layer_input, dropout, True)
    output = layer_input
    if batch_first:
        output = output.transpose(0, 1)
    return output, (engine.stack(hys, 0), engine.stack(cys, 0))


_warned_projections = False


def _warn_projections_once():
    """torch's TORCH_WARN_ONCE when a float32 LSTM with projections cannot use oneDNN."""
    global _warned_projections
    if not _warned_projections:
        _warned_projections = True
        warnings.warn("LSTM with projections is not supported with oneDNN. Using default "
                      "implementation.", UserWarning, stacklevel=3)


# ------------------------------------------------------------------ modules
class RNNBase(Module):
    """The parameters, their init and the checks every recurrent layer shares."""

    __module__ = "torch.nn.modules.rnn"
    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                     "dropout", "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
                 dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if (not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1
                or isinstance(dropout, bool)):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                real_hidden_size = proj_size if proj_size > 0 else hidden_size
                layer_input_size = (input_size if layer == 0
                                    else real_hidden_size * num_directions)
                w_ih = Parameter(engine.empty((gate_size, layer_input_size), dtype=dtype))
                w_hh = Parameter(engine.empty((gate_size, real_hidden_size), dtype=dtype))
                b_ih = Parameter(engine.empty(gate_size, dtype=dtype))
                b_hh = Parameter(engine.empty(gate_size, dtype=dtype))
                if proj_size == 0:
                    layer_params = (w_ih, w_hh, b_ih, b_hh) if bias else (w_ih, w_hh)
                else:
                    w_hr = Parameter(engine.empty((proj_size, hidden_size), dtype=dtype))
                    layer_params = ((w_ih, w_hh, b_ih, b_hh, w_hr) if bias
                                    else (w_ih, w_hh, w_hr))
                suffix = "_reverse" if direction == 1 else ""
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    names += ["weight_hr_l{}{}"]
                names = [x.format(layer, suffix) for x in names]
                for name, param in zip(names, layer_params, strict=True):
                    setattr(self, name, param)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def flatten_parameters(self):
        """torch packs the weights into cuDNN's flat buffer; on the CPU it does nothing."""

    @property
    def _flat_weights(self):
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, weight) for weight in weights] for weights in self._all_weights]

    def reset_parameters(self):
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _layer_params(self):
        """Per layer and direction: (w_ih, w_hh, b_ih, b_hh, w_hr), None where absent."""
        out = []
        for names in self._all_weights:
            p = [getattr(self, n) for n in names]
            w_ih, w_hh = p[0], p[1]
            b_ih, b_hh = (p[2], p[3]) if self.bias else (None, None)
            w_hr = p[-1] if self.proj_size > 0 else None
            out.append((w_ih, w_hh, b_ih, b_hh, w_hr))
        return out

    def check_input(self, input, batch_sizes):
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got "
                               f"{input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, real_hidden)

    def check_hidden_size(self, hx, expected_hidden_size,
                          msg="Expected hidden size {}, got {}"):
        if hx.size() != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _batched(self, input, name):
        if input.dim() not in (2, 3):
            what = "tensor " if name == "RNN" else ""  # torch's RNN says "tensor", GRU/LSTM not
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                             f"{what}instead")
        return input.dim() == 3

    def _zeros(self, input, max_batch):
        num_directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        return engine.zeros(self.num_layers * num_directions, max_batch, real_hidden,
                            dtype=input.dtype)


class RNN(RNNBase):
    """An Elman RNN, tanh or relu."""

    __module__ = "torch.nn.modules.rnn"

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        return _one_hidden_forward(self, "RNN", input, hx)


class GRU(RNNBase):
    """A gated recurrent unit layer (reset, update, new gates in torch's order)."""

    __module__ = "torch.nn.modules.rnn"

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return _one_hidden_forward(self, "GRU", input, hx)


def _permute_hidden(hx, permutation):
    if permutation is None:
        return hx
    if isinstance(hx, tuple):
        return tuple(h.index_select(1, permutation) for h in hx)
    return hx.index_select(1, permutation)


def _packed_forward(module, packed, hx):
    """A PackedSequence through the layers: the initial states put in the packed (sorted)
    order, torch's packed layers, the final states put back in the caller's order."""
    from ..utils.rnn import PackedSequence

    data, batch_sizes, sorted_indices, unsorted_indices = packed
    sizes = [int(v) for v in batch_sizes.tolist()]
    lstm = module.mode == "LSTM"
    if hx is None:
        hx = module._zeros(data, sizes[0])
        if lstm:
            directions = 2 if module.bidirectional else 1
            hx = (hx, engine.zeros(module.num_layers * directions, sizes[0],
                                   module.hidden_size, dtype=data.dtype))
    else:
        hx = _permute_hidden(hx, sorted_indices)
    module.check_input(data, batch_sizes)
    if lstm:
        module.check_hidden_size(hx[0], module.get_expected_hidden_size(data, batch_sizes),
                                 "Expected hidden[0] size {}, got {}")
        module.check_hidden_size(hx[1], module.get_expected_cell_size(data, batch_sizes),
                                 "Expected hidden[1] size {}, got {}")
    else:
        module.check_hidden_size(hx, module.get_expected_hidden_size(data, batch_sizes))
    if (lstm and data.dtype == engine.float32 and data.numel() and module.proj_size == 0
            and all(n == sizes[0] for n in sizes)):
        # every sequence as long: torch hands the batch to oneDNN as a padded one
        steps = data.view(len(sizes), sizes[0], data.size(-1))
        output, hidden = _mkldnn_lstm(steps, hx, module._layer_params(), module.num_layers,
                                      module.dropout, module.training, module.bidirectional,
                                      False)
        output = output.view(-1, output.size(-1))
    else:
        output, hidden = _composite(module.mode, data, hx, module._layer_params(),
                                    module.num_layers, module.dropout, module.training,
                                    module.bidirectional, module.batch_first, sizes)
    return (PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices),
            _permute_hidden(hidden, unsorted_indices))


def _is_packed(input):
    from ..utils.rnn import PackedSequence

    return isinstance(input, PackedSequence)


def _one_hidden_forward(module, name, input, hx):
    if _is_packed(input):
        return _packed_forward(module, input, hx)
    batched = module._batched(input, name)
    batch_dim = 0 if module.batch_first else 1
    if not batched:
        input = input.unsqueeze(batch_dim)
        if hx is not None:
            if hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got "
                                   f"{hx.dim()}-D tensor")
            hx = hx.unsqueeze(1)
    elif hx is not None and hx.dim() != 3:
        raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D "
                           "tensor")
    max_batch = input.size(0) if module.batch_first else input.size(1)
    if hx is None:
        hx = module._zeros(input, max_batch)
    module.check_input(input, None)
    module.check_hidden_size(hx, module.get_expected_hidden_size(input, None))
    output, hidden = _composite(module.mode, input, hx, module._layer_params(),
                                module.num_layers, module.dropout, module.training,
                                module.bidirectional, module.batch_first)
    if not batched:
        output = output.squeeze(batch_dim)
        hidden = hidden.squeeze(1)
    return output, hidden


class LSTM(RNNBase):
    """A long short-term memory layer (input, forget, cell, output gates in torch's order)."""

    __module__ = "torch.nn.modules.rnn"

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def forward(self, input, hx=None):
        if _is_packed(input):
            return _packed_forward(self, input, hx)
        batched = self._batched(input, "LSTM")
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)
        max_batch = input.size(0) if self.batch_first else input.size(1)
        if hx is None:
            num_directions = 2 if self.bidirectional else 1
            real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
            h_zeros = engine.zeros(self.num_layers * num_directions, max_batch, real_hidden,
                                   dtype=input.dtype)
            c_zeros = engine.zeros(self.num_layers * num_directions, max_batch,
                                   self.hidden_size, dtype=input.dtype)
            hx = (h_zeros, c_zeros)
        elif batched:
            if hx[0].dim() != 3 or hx[1].dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx and cx should also be 3-D but got "
                                   f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
        else:
            if hx[0].dim() != 2 or hx[1].dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx and cx should also be 2-D but "
                                   f"got ({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        self.check_input(input, None)
        self.check_hidden_size(hx[0], self.get_expected_hidden_size(input, None),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hx[1], self.get_expected_cell_size(input, None),
                               "Expected hidden[1] size {}, got {}")
        if input.dtype == engine.float32 and input.numel() and self.proj_size == 0:
            run = _mkldnn_lstm
        else:
            if input.dtype == engine.float32 and input.numel():
                _warn_projections_once()
            run = functools.partial(_composite, "LSTM")
        output, hidden = run(input, hx, self._layer_params(), self.num_layers, self.dropout,
                             self.training, self.bidirectional, self.batch_first)
        if not batched:
            output = output.squeeze(batch_dim)
            hidden = (hidden[0].squeeze(1), hidden[1].squeeze(1))
        return output, hidden


# ------------------------------------------------------------------ cells
class RNNCellBase(Module):
    """A cell's parameters and init: one step of the recurrence."""

    __module__ = "torch.nn.modules.rnn"
    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(engine.empty((num_chunks * hidden_size, input_size),
                                                dtype=dtype))
        self.weight_hh = Parameter(engine.empty((num_chunks * hidden_size, hidden_size),
                                                dtype=dtype))
        if bias:
            self.bias_ih = Parameter(engine.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(engine.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.__dict__.get("bias", True) is not True:
            s += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _params(self):
        return (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, None)

    def _check(self, input, name):
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        return input.dim() == 2

    def _check_step(self, input, hx, label=""):
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} "
                               f"expected {self.input_size}")
        if input.size(0) != hx.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{label} "
                               f"batch size {hx.size(0)}")
        if hx.size(1) != self.hidden_size:
            raise RuntimeError(f"hidden{label} has inconsistent hidden_size: got {hx.size(1)}, "
                               f"expected {self.hidden_size}")


def _cell_hx(cell, input, hx, batched):
    if hx is None:
        return engine.zeros(input.size(0), cell.hidden_size, dtype=input.dtype)
    return hx if batched else hx.unsqueeze(0)


class RNNCell(RNNCellBase):
    """One tanh or relu step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    __module__ = "torch.nn.modules.rnn"
    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        batched = self._check(input, "RNNCell")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.dim()}D "
                             "instead")
        if not batched:
            input = input.unsqueeze(0)
        hx = _cell_hx(self, input, hx, batched)
        self._check_step(input, hx)
        if self.nonlinearity == "tanh":
            ret = _STEPS["RNN_TANH"](input, hx, self._params(), False)
        elif self.nonlinearity == "relu":
            ret = _STEPS["RNN_RELU"](input, hx, self._params(), False)
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return ret if batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c')."""

    __module__ = "torch.nn.modules.rnn"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        batched = self._check(input, "LSTMCell")
        if hx is not None:
            for i, h in enumerate(hx):
                if h.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{i}] to be 1D or 2D, got "
                                     f"{h.dim()}D instead")
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = engine.zeros(input.size(0), self.hidden_size, dtype=input.dtype)
            hx = (zeros, zeros)
        elif not batched:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        self._check_step(input, hx[0], "[0]")
        self._check_step(input, hx[1], "[1]")
        ret = _lstm_step(input, hx, self._params(), False)
        if not batched:
            ret = (ret[0].squeeze(0), ret[1].squeeze(0))
        return ret


class GRUCell(RNNCellBase):
    """One GRU step."""

    __module__ = "torch.nn.modules.rnn"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        batched = self._check(input, "GRUCell")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.dim()}D "
                             "instead")
        if not batched:
            input = input.unsqueeze(0)
        hx = _cell_hx(self, input, hx, batched)
        self._check_step(input, hx)
        ret = _gru_step(input, hx, self._params(), False)
        return ret if batched else ret.squeeze(0)
