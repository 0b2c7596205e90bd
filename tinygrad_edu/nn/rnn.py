"""Recurrent layers, the file torch/nn/modules/rnn.py: RNN, LSTM and GRU run over a whole
sequence; RNNCell, LSTMCell and GRUCell compute one time step.

One time step, for an input x (N, input_size) and the hidden state h (N, hidden_size), is the
lecture's formula. Each weight holds the blocks of all gates stacked on its first axis, in
PyTorch's order (W_ih = [W_ii; W_if; W_ig; W_io] for the LSTM), so one matmul gives every gate:

    RNN    h' = tanh(W_ih x + b_ih + W_hh h + b_hh)                       (or relu)
    LSTM   i = σ(W_ii x + b_ii + W_hi h + b_hi)      input gate
           f = σ(W_if x + b_if + W_hf h + b_hf)      forget gate
           g = tanh(W_ig x + b_ig + W_hg h + b_hg)   candidate cell
           o = σ(W_io x + b_io + W_ho h + b_ho)      output gate
           c' = f * c + i * g,   h' = o * tanh(c')
    GRU    r = σ(W_ir x + b_ir + W_hr h + b_hr)      reset gate
           z = σ(W_iz x + b_iz + W_hz h + b_hz)      update gate
           n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
           h' = (1 - z) * n + z * h

The layers unroll the step in Python, one time step after the other, so the recorded graph is
the unrolled network and backward() through it is backpropagation through time. A layer of
num_layers stacks that many recurrent layers (with dropout between them while training), and a
bidirectional one runs a second set of weights (the `_reverse` parameters) from the last time
step to the first and joins both directions' outputs on the feature axis.

That unrolled graph has about 15 nodes per time step. For speed, LSTM and GRU (and their cells)
record one node instead by default, a Function of functions/rnn.py with the same step and its
backward written out (LSTMSequence runs a whole layer's loop over time inside the node); set
`layer.one_node = False` to record and draw the lecture's graph. Both give the same numbers.

Shapes (L = sequence length, N = batch, D = 2 if bidirectional else 1, H = hidden_size):
input (L, N, input_size), or (N, L, input_size) with batch_first, or (L, input_size) unbatched;
output (L, N, D * H); h_0 and h_n (num_layers * D, N, H), layer by layer, forward direction first.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import arguments
from ..functions.rnn import GRUSequence, GRUStep, LSTMSequence, LSTMStep
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}     # blocks stacked in each weight


# ----------------------------------------------------------------------------- one time step

def rnn_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None, nonlinearity: str = "tanh") -> Tensor:
    """One step of the Elman RNN: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (relu instead of tanh
    with nonlinearity="relu"). x (N, input_size), h (N, hidden_size) -> h' (N, hidden_size)."""
    a = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    return a.tanh() if nonlinearity == "tanh" else a.relu()


def lstm_cell(x: Tensor, state: tuple, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None, one_node: bool = False) -> tuple:
    """One LSTM step: (h, c) -> (h', c') with the gates i, f, g, o in PyTorch's order.

    x (N, input_size), h and c (N, hidden_size); w_ih (4H, input_size), w_hh (4H, H).
    one_node=True computes the same numbers as one LSTMStep node (functions/rnn.py)."""
    h, c = state
    H = h.shape[-1]
    if not one_node:
        gates = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)   # (N, 4H): the four gates side by side
        i = gates[:, 0 * H:1 * H].sigmoid()      # input gate: how much of the candidate to write
        f = gates[:, 1 * H:2 * H].sigmoid()      # forget gate: how much of the old cell to keep
        g = gates[:, 2 * H:3 * H].tanh()         # candidate cell values
        o = gates[:, 3 * H:4 * H].sigmoid()      # output gate: how much of the cell to show
        c = f * c + i * g
        h = o * c.tanh()
        return h, c
    hc = LSTMStep.apply(x, h, c, w_ih, w_hh, b_ih, b_hh)   # one node for speed: 3 nodes a step instead of 15
    return hc[:, :H], hc[:, H:]


def gru_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None, one_node: bool = False) -> Tensor:
    """One GRU step: h -> h' with the gates r, z, n in PyTorch's order; the reset gate r scales
    W_hn h + b_hn (bias included), as in torch.nn.GRU. x (N, input_size), h (N, H).
    one_node=True computes the same numbers as one GRUStep node (functions/rnn.py)."""
    H = h.shape[-1]
    if not one_node:
        gx = F.linear(x, w_ih, b_ih)         # (N, 3H): W_ir x + b_ir | W_iz x + b_iz | W_in x + b_in
        gh = F.linear(h, w_hh, b_hh)         # (N, 3H): W_hr h + b_hr | W_hz h + b_hz | W_hn h + b_hn
        r = (gx[:, 0 * H:1 * H] + gh[:, 0 * H:1 * H]).sigmoid()     # reset gate
        z = (gx[:, 1 * H:2 * H] + gh[:, 1 * H:2 * H]).sigmoid()     # update gate
        n = (gx[:, 2 * H:3 * H] + r * gh[:, 2 * H:3 * H]).tanh()    # candidate hidden state
        return (1 - z) * n + z * h
    return GRUStep.apply(x, h, w_ih, w_hh, b_ih, b_hh)       # one node for speed: 1 node a step instead of 15


# ----------------------------------------------------------------------------- checks both kinds share

def _sizes(name: str, input_size: Any, hidden_size: Any, bias: Any) -> tuple:
    return (arguments.positive_int(input_size, "input_size", name),
            arguments.positive_int(hidden_size, "hidden_size", name),
            arguments.flag(bias, "bias", name))


def _new_weight(*shape: int, device: str | None, dtype: Any) -> Parameter:
    """A Parameter of `shape` (float32 unless dtype says otherwise) that reset_parameters fills."""
    return Parameter(Tensor.zeros(*shape, device=device, dtype=dtype or np.float32))


def _tensor(value: Any, what: str, layer: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{layer}: {what} must be a Tensor, got {type(value).__name__}")
    return value


def _float_input(x: Tensor, layer: str) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{layer}: expected a float input, got {x.dtype}; a sequence of token indices "
                        "goes through nn.Embedding first, and other numbers through .astype('float32')")


def _like(t: Tensor, weight: Tensor) -> Tensor:
    """t in the weights' dtype (as F.linear converts its input)."""
    return t if t.dtype == weight.dtype else t.astype(weight.dtype)


# ----------------------------------------------------------------------------- the layers

class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, their
    initialisation, the checks of the input and the initial state, and the loop over time.

    `one_node` (an attribute, True by default): LSTM and GRU record one node per layer and direction
    (functions/rnn.py), which runs the loop over time on raw arrays and is faster; set it to False
    to record the lecture's graph of small ops per time step (Linear, Sigmoid, Tanh, Mul, ...)
    instead. Both give the same numbers."""

    one_node: bool = True

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: str | None = None, dtype: Any = None):
        super().__init__()
        name = type(self).__name__
        self.mode = mode
        self.input_size, self.hidden_size, self.bias = _sizes(name, input_size, hidden_size, bias)
        self.num_layers = arguments.positive_int(num_layers, "num_layers", name)
        self.batch_first = arguments.flag(batch_first, "batch_first", name)
        self.bidirectional = arguments.flag(bidirectional, "bidirectional", name)
        arguments.number(dropout, "dropout", name)
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout is the probability of zeroing an element between layers, "
                             f"a number in [0, 1]; got {dropout}")
        self.dropout = float(dropout)
        if dropout > 0 and self.num_layers == 1:
            warnings.warn(f"{name}: dropout is applied between recurrent layers (after all but the last), so "
                          f"dropout={dropout} with num_layers=1 does nothing; use num_layers > 1 or an "
                          "nn.Dropout after the layer", stacklevel=3)
        self.proj_size = 0                  # PyTorch's LSTM projections are not supported
        gate_size = _GATES[mode] * self.hidden_size
        directions = 2 if self.bidirectional else 1
        self._flat_weights_names: list = []
        self._all_weights: list = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = {f"weight_ih_l{layer}{suffix}": (gate_size, layer_input),
                          f"weight_hh_l{layer}{suffix}": (gate_size, self.hidden_size)}
                if self.bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (gate_size,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (gate_size,)
                for param_name, shape in shapes.items():
                    setattr(self, param_name, _new_weight(*shape, device=device, dtype=dtype))
                self._flat_weights_names.extend(shapes)
                self._all_weights.append(list(shapes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/√hidden_size, 1/√hidden_size), as PyTorch does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    @property
    def all_weights(self) -> list:
        """The parameters, one list per layer and direction: [w_ih, w_hh, b_ih, b_hh] (as torch)."""
        return [[self._parameters[name] for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch packs the weights for cuDNN here; this layer needs no packing."""

    def extra_repr(self) -> str:
        """The sizes and every option that differs from its default, as PyTorch prints them."""
        s = f"{self.input_size}, {self.hidden_size}"
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

    # ------------------------------------------------------------------ forward

    def _step(self, x: Tensor, state: tuple, weights: tuple) -> tuple:
        """One time step of one layer and direction: the state (h,) or (h, c) -> the new state."""
        raise NotImplementedError

    def _weights(self, layer: int, direction: int) -> tuple:
        suffix = "_reverse" if direction == 1 else ""
        return tuple(self._parameters.get(f"{kind}_l{layer}{suffix}")
                     for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _run(self, input: Tensor, hx: Any, state_names: tuple) -> tuple:
        """The checked forward pass: (output, [h_n] or [h_n, c_n])."""
        initial, batched = self._checked(input, hx, state_names)
        weight = self.weight_ih_l0
        x = _like(input, weight)
        if not batched:
            x = x.unsqueeze(1)                                    # (L, input) -> (L, 1, input)
            initial = [s.unsqueeze(1) for s in initial]
        elif self.batch_first:
            x = x.transpose(0, 1)                                 # (N, L, input) -> (L, N, input)

        def initial_state(k: int) -> tuple:                      # layer and direction k's (h_0,) or (h_0, c_0)
            if initial:
                return tuple(_like(s[k], weight) for s in initial)
            return tuple(Tensor.zeros(x.shape[1], self.hidden_size, device=weight.device, dtype=weight.dtype)
                         for _ in state_names)

        if self.one_node and self._one_node_layers:
            output, finals = self._layers_as_one_node(x, initial_state)
        else:
            output, finals = self._layers_step_by_step(x, initial_state)
        stacked = [Tensor.stack([state[j] for state in finals], axis=0) for j in range(len(state_names))]
        if not batched:
            return output.squeeze(1), [s.squeeze(1) for s in stacked]
        return (output.transpose(0, 1) if self.batch_first else output), stacked

    def _layers_step_by_step(self, x: Tensor, initial_state) -> tuple:
        """The lecture's unrolled network: every layer and direction, one time step after the other.
        x (L, N, input) -> (output (L, N, D * H), the final state of each layer and direction)."""
        steps = [x[t] for t in range(x.shape[0])]                 # (N, input) at each time step
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            if layer > 0 and self.training and self.dropout > 0:     # between layers, not after the last
                steps = [F.dropout(s, self.dropout, True) for s in steps]
            outputs = []
            for direction in range(directions):
                state = initial_state(layer * directions + direction)
                weights = self._weights(layer, direction)
                hidden = []
                for x_t in (steps if direction == 0 else reversed(steps)):
                    state = self._step(x_t, state, weights)
                    hidden.append(state[0])
                outputs.append(hidden if direction == 0 else hidden[::-1])
                finals.append(state)
            steps = outputs[0] if directions == 1 else [Tensor.cat(pair, axis=-1) for pair in zip(*outputs)]
        return Tensor.stack(steps), finals

    def _layers_as_one_node(self, x: Tensor, initial_state) -> tuple:
        """The same network with one node per layer and direction (LSTMSequence, GRUSequence): the
        loop over time runs inside the node. Dropout draws one mask per layer here, so in training
        its random numbers differ from the step-by-step loop's (the same in distribution)."""
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            if layer > 0 and self.training and self.dropout > 0:
                x = F.dropout(x, self.dropout, True)
            outputs = []
            for direction in range(directions):
                state = initial_state(layer * directions + direction)
                output, state = self._over_sequence(x, state, self._weights(layer, direction), direction == 1)
                outputs.append(output)
                finals.append(state)
            x = outputs[0] if directions == 1 else Tensor.cat(outputs, axis=-1)
        return x, finals

    _one_node_layers = False                  # LSTM and GRU have one-node layers

    def _over_sequence(self, x: Tensor, state: tuple, weights: tuple, reverse: bool) -> tuple:
        """One layer in one direction as one node: (output (L, N, H), final state)."""
        raise NotImplementedError

    def _checked(self, input: Any, hx: Any, state_names: tuple) -> tuple:
        """Check the input and the initial states before anything runs: (initial states or [], batched)."""
        layer = repr(self).split("\n")[0]
        input = _tensor(input, "the input", layer)
        layout = "(N, L, input_size)" if self.batch_first else "(L, N, input_size)"
        if input.ndim not in (2, 3):
            raise ValueError(f"{layer}: expected an input of shape {layout}, or (L, input_size) for one "
                             f"unbatched sequence, got a {input.ndim}-D input of shape {input.shape}")
        _float_input(input, layer)
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{layer}: input of shape {input.shape} has {input.shape[-1]} features on its last "
                             f"axis, but input_size is {self.input_size}: expected {layout}")
        batched = input.ndim == 3
        length = input.shape[1 if self.batch_first and batched else 0]
        if length == 0:
            raise ValueError(f"{layer}: input of shape {input.shape} has no time steps (sequence length 0)")
        arguments.same_device(layer, input, self.weight_ih_l0)
        if hx is None:
            return [], batched
        states = self._initial_states(hx, state_names, layer)
        directions = 2 if self.bidirectional else 1
        if batched:
            batch = input.shape[0 if self.batch_first else 1]
            expected = (self.num_layers * directions, batch, self.hidden_size)
            meaning = "(num_layers * num_directions, N, hidden_size)"
        else:
            expected = (self.num_layers * directions, self.hidden_size)
            meaning = "(num_layers * num_directions, hidden_size) for an unbatched input"
        for name, state in zip(state_names, states):
            if state.shape != expected:
                raise ValueError(f"{layer}: {name} of shape {state.shape} does not fit an input of shape "
                                 f"{input.shape}: expected {meaning} = {expected}")
            _float_input(state, f"{layer} {name}")
            arguments.same_device(f"{layer} {name}", input, state)
        return states, batched

    def _initial_states(self, hx: Any, state_names: tuple, layer: str) -> list:
        if len(state_names) == 1:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"{layer}: the initial state is one Tensor h_0, not a {type(hx).__name__} "
                                f"(only nn.LSTM takes a pair (h_0, c_0))")
            return [_tensor(hx, "h_0", layer)]
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            got = f"a {type(hx).__name__}" + (f" of length {len(hx)}" if isinstance(hx, (tuple, list)) else "")
            raise TypeError(f"{layer}: the initial state must be a pair (h_0, c_0) of Tensors, got {got}")
        return [_tensor(s, name, layer) for s, name in zip(hx, state_names)]


class RNN(RNNBase):
    """An Elman RNN over a sequence: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu),
    for each of num_layers layers. forward(input, h_0=None) returns (output, h_n): output holds the
    last layer's h_t for every t, h_n every layer's h at the last time step."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: str | None = None, dtype: Any = None):
        nonlinearity = arguments.choice(nonlinearity, ("tanh", "relu"), "nonlinearity", "RNN")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, device, dtype)
        self.nonlinearity = nonlinearity

    def _step(self, x: Tensor, state: tuple, weights: tuple) -> tuple:
        return (rnn_cell(x, state[0], *weights, nonlinearity=self.nonlinearity),)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple:
        """(output, h_n) for input (L, N, input_size) ((N, L, input_size) with batch_first, or
        (L, input_size) unbatched) and h_0 (num_layers * num_directions, N, hidden_size) or zeros."""
        output, (h_n,) = self._run(input, hx, ("h_0",))
        return output, h_n


class LSTM(RNNBase):
    """A long short-term memory layer over a sequence: the gates i, f, g, o decide what the cell c
    forgets, writes and shows (see lstm_cell), for each of num_layers layers. forward(input,
    (h_0, c_0)=None) returns (output, (h_n, c_n))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: str | None = None, dtype: Any = None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype)

    def _step(self, x: Tensor, state: tuple, weights: tuple) -> tuple:
        return lstm_cell(x, state, *weights, one_node=self.one_node)

    _one_node_layers = True

    def _over_sequence(self, x: Tensor, state: tuple, weights: tuple, reverse: bool) -> tuple:
        length = x.shape[0]
        packed = LSTMSequence.apply(x, *state, *weights, reverse=reverse)    # (L + 1, N, H): h_1 .. h_L, c_L
        return packed[:length], (packed[0 if reverse else length - 1], packed[length])

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        """(output, (h_n, c_n)) for input (L, N, input_size) ((N, L, input_size) with batch_first, or
        (L, input_size) unbatched) and the pair (h_0, c_0), each (num_layers * num_directions, N,
        hidden_size), or zeros."""
        output, (h_n, c_n) = self._run(input, hx, ("h_0", "c_0"))
        return output, (h_n, c_n)


class GRU(RNNBase):
    """A gated recurrent unit layer over a sequence: the reset gate r and the update gate z decide
    how much of h to use and to keep (see gru_cell), for each of num_layers layers.
    forward(input, h_0=None) returns (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: str | None = None, dtype: Any = None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype)

    def _step(self, x: Tensor, state: tuple, weights: tuple) -> tuple:
        return (gru_cell(x, state[0], *weights, one_node=self.one_node),)

    _one_node_layers = True

    def _over_sequence(self, x: Tensor, state: tuple, weights: tuple, reverse: bool) -> tuple:
        output = GRUSequence.apply(x, *state, *weights, reverse=reverse)     # (L, N, H)
        return output, (output[0 if reverse else x.shape[0] - 1],)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple:
        """(output, h_n) for input (L, N, input_size) ((N, L, input_size) with batch_first, or
        (L, input_size) unbatched) and h_0 (num_layers * num_directions, N, hidden_size) or zeros."""
        output, (h_n,) = self._run(input, hx, ("h_0",))
        return output, h_n


# ----------------------------------------------------------------------------- the cells

class RNNCellBase(Module):
    """What RNNCell, LSTMCell and GRUCell share: weight_ih (gates * hidden, input),
    weight_hh (gates * hidden, hidden), bias_ih and bias_hh, and the checks of their inputs.
    `one_node` works as in RNNBase: LSTMCell and GRUCell compute their step as one node."""

    one_node: bool = True

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: str | None = None, dtype: Any = None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = _sizes(type(self).__name__, input_size, hidden_size, bias)
        gate_size = num_chunks * self.hidden_size
        self.weight_ih = _new_weight(gate_size, self.input_size, device=device, dtype=dtype)
        self.weight_hh = _new_weight(gate_size, self.hidden_size, device=device, dtype=dtype)
        if self.bias:
            self.bias_ih = _new_weight(gate_size, device=device, dtype=dtype)
            self.bias_hh = _new_weight(gate_size, device=device, dtype=dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/√hidden_size, 1/√hidden_size), as PyTorch does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        """The sizes, and bias and nonlinearity where they differ from the defaults, as PyTorch prints them."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _weights(self) -> tuple:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _checked(self, input: Any, hx: Any, state_names: tuple) -> tuple:
        """Check the input and the states; return (input as (N, input_size), states as (N, H), batched)."""
        layer = repr(self)
        input = _tensor(input, "the input", layer)
        if input.ndim not in (1, 2):
            raise ValueError(f"{layer}: expected an input of shape (N, input_size), or (input_size,) for one "
                             f"sample, got a {input.ndim}-D input of shape {input.shape}")
        _float_input(input, layer)
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{layer}: input of shape {input.shape} has {input.shape[-1]} features on its last "
                             f"axis, but input_size is {self.input_size}")
        arguments.same_device(layer, input, self.weight_ih)
        batched = input.ndim == 2
        weight = self.weight_ih
        x = _like(input if batched else input.unsqueeze(0), weight)
        if hx is None:
            zeros = Tensor.zeros(x.shape[0], self.hidden_size, device=weight.device, dtype=weight.dtype)
            return x, [zeros] * len(state_names), batched
        if len(state_names) == 1:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"{layer}: the state is one Tensor hx, not a {type(hx).__name__} "
                                f"(only nn.LSTMCell takes a pair (h, c))")
            states = [_tensor(hx, "hx", layer)]
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{layer}: the state must be a pair (h, c) of Tensors, got {type(hx).__name__}")
            states = [_tensor(s, name, layer) for s, name in zip(hx, state_names)]
        expected = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        for name, state in zip(state_names, states):
            if state.shape != expected:
                raise ValueError(f"{layer}: {name} of shape {state.shape} does not fit an input of shape "
                                 f"{input.shape}: expected (N, hidden_size) = {expected}" if batched else
                                 f"{layer}: {name} of shape {state.shape} does not fit the unbatched input of "
                                 f"shape {input.shape}: expected (hidden_size,) = {expected}")
            _float_input(state, f"{layer} {name}")
            arguments.same_device(f"{layer} {name}", input, state)
        return x, [_like(s if batched else s.unsqueeze(0), weight) for s in states], batched


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu). forward(input, hx=None)
    returns h'; hx defaults to zeros."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: str | None = None, dtype: Any = None):
        nonlinearity = arguments.choice(nonlinearity, ("tanh", "relu"), "nonlinearity", "RNNCell")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """h' (N, hidden_size) for input (N, input_size) and hx (N, hidden_size); unbatched: (input_size,)."""
        x, (h,), batched = self._checked(input, hx, ("hx",))
        h = rnn_cell(x, h, *self._weights(), nonlinearity=self.nonlinearity)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step with the gates i, f, g, o (see lstm_cell). forward(input, (h, c)=None) returns
    the pair (h', c'); the state defaults to zeros."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: str | None = None,
                 dtype: Any = None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        """(h', c'), each (N, hidden_size), for input (N, input_size) and hx = (h, c); unbatched: 1-D."""
        x, state, batched = self._checked(input, hx, ("h", "c"))
        h, c = lstm_cell(x, tuple(state), *self._weights(), one_node=self.one_node)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step with the gates r, z, n (see gru_cell). forward(input, hx=None) returns h';
    hx defaults to zeros."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: str | None = None,
                 dtype: Any = None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """h' (N, hidden_size) for input (N, input_size) and hx (N, hidden_size); unbatched: (input_size,)."""
        x, (h,), batched = self._checked(input, hx, ("hx",))
        h = gru_cell(x, h, *self._weights(), one_node=self.one_node)
        return h if batched else h.squeeze(0)
