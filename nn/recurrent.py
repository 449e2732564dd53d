"""Recurrent layers: RNN, LSTM and GRU, with PyTorch's arguments, parameter names and shapes,
input/output layouts and initial states, so that a PyTorch state_dict loads one to one.

RNN and GRU run a cell over the time steps of the sequence, one engine op at a time (matmuls,
sigmoid, tanh, slicing), so the backward pass through time comes from the engine; LSTM runs
each layer and direction as one fused ``ag.lstm`` node (the same cell, with its backward through
time written out beside its forward), several times faster. With gates
``x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh`` split into chunks:

- RNN:  h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)          (or relu)
- LSTM: i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the 4 chunks
        c' = f * c + i * g;   h' = o * tanh(c')
- GRU:  r, z = sigmoid of the first 2 chunks of (x W_ih^T + b_ih) + (h W_hh^T + b_hh)
        n = tanh(x W_ih^T + b_ih [3rd chunk] + r * (h W_hh^T + b_hh) [3rd chunk])
        h' = (1 - z) * n + z * h

Shapes (L = sequence length, N = batch, D = 2 if bidirectional else 1):
input (L, N, input_size), or (N, L, input_size) with ``batch_first``, or (L, input_size)
unbatched; output (L, N, D * hidden_size) (batch_first: (N, L, ...)); states
(D * num_layers, N, hidden_size), layer by layer, forward direction first.

>>> lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
>>> output, (h_n, c_n) = lstm(ag.randn(3, 5, 10))      # output (3, 5, 20), h_n (2, 3, 20)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd_core as ag

from . import init
from ._checks import positive_int, probability
from .base import Module
from .layers import ensure_tensor
from .module import Parameter, register_module


def _rnn_cell(x_t, state, weights, nonlinearity):
    h = state[0]
    w_ih, w_hh, b_ih, b_hh = weights
    pre = ag.linear(x_t, w_ih, b_ih) + ag.linear(h, w_hh, b_hh)
    return (pre.tanh() if nonlinearity == "tanh" else pre.relu(),)


def _gru_cell(x_t, state, weights, nonlinearity):
    h = state[0]
    w_ih, w_hh, b_ih, b_hh = weights
    n = h.shape[-1]
    from_x, from_h = ag.linear(x_t, w_ih, b_ih), ag.linear(h, w_hh, b_hh)
    rz = (from_x[:, :2 * n] + from_h[:, :2 * n]).sigmoid()
    r, z = rz[:, :n], rz[:, n:]
    candidate = (from_x[:, 2 * n:] + r * from_h[:, 2 * n:]).tanh()
    return (candidate + z * (h - candidate),)


class _RNNBase(Module):
    """The parameters, state handling and layer/direction loops shared by RNN, LSTM and GRU."""

    GATES: int
    CELL: Any  # (x_t, state, weights, nonlinearity) -> new state tuple; h first
    STATES: int = 1  # LSTM: 2 (h and c)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False):
        super().__init__()
        name = type(self).__name__
        self.input_size = positive_int(name, "input_size", input_size)
        self.hidden_size = positive_int(name, "hidden_size", hidden_size)
        self.num_layers = positive_int(name, "num_layers", num_layers)
        self.dropout = probability(name, "dropout", dropout)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.bidirectional = bool(bidirectional)
        directions = 2 if bidirectional else 1
        dtype = ag.get_default_dtype()
        gate_size = self.GATES * self.hidden_size
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {"weight_ih": (gate_size, layer_input),
                          "weight_hh": (gate_size, self.hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                for kind, shape in shapes.items():
                    setattr(self, f"{kind}_l{layer}{suffix}", Parameter.empty(shape, dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def _weights(self, layer: int, suffix: str) -> tuple:
        return tuple(getattr(self, f"{kind}_l{layer}{suffix}", None)
                     for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    @property
    def _nonlinearity(self) -> str:
        return "tanh"

    def _check_input(self, x: ag.Tensor) -> None:
        layout = "(N, L, input_size)" if self.batch_first else "(L, N, input_size)"
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ag.ShapeError(f"{self.scope_name} ({self.extra_repr()}): expected a sequence "
                                f"of shape {layout}, or (L, input_size) unbatched, with "
                                f"input_size={self.input_size}; got shape {x.shape}")

    def _initial_states(self, hx: Any, batch: int, unbatched: bool, dtype) -> list[ag.Tensor]:
        """The initial (h,) or (h, c) as tensors of shape (D * num_layers, N, hidden_size)."""
        layers = self.num_layers * (2 if self.bidirectional else 1)
        shape = (layers, self.hidden_size) if unbatched else (layers, batch, self.hidden_size)
        if hx is None:
            return [ag.Tensor(np.zeros((layers, batch, self.hidden_size), dtype))] * self.STATES
        states = list(hx) if self.STATES == 2 else [hx]
        if self.STATES == 2 and len(states) != 2:
            raise ValueError(f"{self.scope_name} ({self.extra_repr()}): the initial state must "
                             f"be a pair (h_0, c_0), got {len(states)} entries")
        out = []
        for name, state in zip(("h_0", "c_0"), states):
            state = ensure_tensor(state)
            if state.shape != shape:
                raise ag.ShapeError(f"{self.scope_name} ({self.extra_repr()}): expected {name} "
                                    f"of shape {shape}, got {state.shape}")
            out.append(state.reshape(layers, batch, self.hidden_size))
        return out

    def forward(self, input: Any, hx: Any = None) -> tuple[ag.Tensor, Any]:
        x = ensure_tensor(input)
        self._check_input(x)
        unbatched = x.ndim == 2
        if unbatched:
            x = x.reshape(x.shape[0], 1, x.shape[1])
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        steps, batch = x.shape[:2]
        initial = self._initial_states(hx, batch, unbatched, x.dtype)
        directions = ("", "_reverse") if self.bidirectional else ("",)
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(directions):
                index = layer * len(directions) + d
                state = tuple(s[index] for s in initial)
                hidden, state = self._run(x, state, self._weights(layer, suffix), bool(suffix))
                outputs.append(hidden)
                finals.append(state)
            x = outputs[0] if len(outputs) == 1 else ag.concatenate(outputs, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = ag.dropout(x, self.dropout)
        states = [ag.stack([final[k] for final in finals]) for k in range(self.STATES)]
        if unbatched:
            x = x.reshape(steps, -1)
            states = [s.reshape(s.shape[0], -1) for s in states]
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        return x, (tuple(states) if self.STATES == 2 else states[0])

    def _run(self, x: ag.Tensor, state: tuple, weights: tuple, reverse: bool
             ) -> tuple[ag.Tensor, tuple]:
        """One layer in one direction: the hidden states (L, N, H) and the final state."""
        steps = x.shape[0]
        hidden = [None] * steps
        for t in range(steps - 1, -1, -1) if reverse else range(steps):
            state = self.CELL(x[t], state, weights, self._nonlinearity)
            hidden[t] = state[0]
        return ag.stack(hidden), state

    def get_config(self) -> dict[str, Any]:
        return {"input_size": self.input_size, "hidden_size": self.hidden_size,
                "num_layers": self.num_layers, "bias": self.bias,
                "batch_first": self.batch_first, "dropout": self.dropout,
                "bidirectional": self.bidirectional}

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        for key, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                             ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, key) != default:
                text += f", {key}={getattr(self, key)}"
        return text


@register_module
class RNN(_RNNBase):
    """Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (``nonlinearity="relu"``: relu).

    Returns ``(output, h_n)``. Parameters per layer k: ``weight_ih_lk`` (hidden, in),
    ``weight_hh_lk`` (hidden, hidden), ``bias_ih_lk``, ``bias_hh_lk`` (hidden,), and the same
    with ``_reverse`` for the backward direction.

    >>> rnn = nn.RNN(4, 8)
    >>> output, h_n = rnn(ag.randn(6, 2, 4))           # output (6, 2, 8), h_n (1, 2, 8)
    """

    GATES, CELL = 1, staticmethod(_rnn_cell)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)

    @property
    def _nonlinearity(self) -> str:
        return self.nonlinearity

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "nonlinearity": self.nonlinearity}


@register_module
class LSTM(_RNNBase):
    """Long short-term memory: gates i, f, g, o (in this order in the weights, as PyTorch);
    c' = f * c + i * g, h' = o * tanh(c').

    Returns ``(output, (h_n, c_n))``; the initial state is ``(h_0, c_0)`` or None (zeros).
    ``weight_ih_lk`` has shape (4 * hidden, in), ``weight_hh_lk`` (4 * hidden, hidden).

    >>> lstm = nn.LSTM(4, 8, bidirectional=True)
    >>> output, (h_n, c_n) = lstm(ag.randn(6, 2, 4))    # output (6, 2, 16), h_n (2, 2, 8)
    """

    GATES, STATES = 4, 2

    def _run(self, x: ag.Tensor, state: tuple, weights: tuple, reverse: bool
             ) -> tuple[ag.Tensor, tuple]:
        # One fused node per layer and direction (see ag.lstm), instead of a cell per step.
        n = self.hidden_size
        hc = ag.lstm(x, *state, *weights, reverse=reverse)
        last = 0 if reverse else -1
        return hc[..., :n], (hc[last, :, :n], hc[last, :, n:])


@register_module
class GRU(_RNNBase):
    """Gated recurrent unit: gates r, z, n (in this order in the weights, as PyTorch);
    h' = (1 - z) * n + z * h. Returns ``(output, h_n)``.

    >>> gru = nn.GRU(4, 8, num_layers=2)
    >>> output, h_n = gru(ag.randn(6, 2, 4))            # output (6, 2, 8), h_n (2, 2, 8)
    """

    GATES, CELL = 3, staticmethod(_gru_cell)
