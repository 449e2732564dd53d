"""One LSTM layer over a whole sequence, in one direction, as one node of the graph.

Per time step, with the gates in PyTorch's order i, f, g, o (chunks of 4 * H)::

    a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
    c' = f * c + i * g;   h' = o * tanh(c')

Backward through time, from the last step to the first, with dh and dc the gradients flowing
into step t's outputs (from the loss and from step t + 1); the elementwise part is one fused
kernel per step (``kernels.lstm_backward_step``)::

    dc += dh * o * (1 - tanh(c')**2)
    da_i = dc * g * i (1 - i)    da_f = dc * c * f (1 - f)
    da_g = dc * i * (1 - g**2)   da_o = dh * tanh(c') * o (1 - o)
    dh_prev = da @ W_hh;         dc_prev = dc * f

The input projections of all steps (forward) and the weight gradients (backward) are each one
large matmul over the whole sequence; only ``h @ W_hh.T`` and ``da @ W_hh`` run per step. The
output holds h and c of every step side by side, (L, N, 2H), so that a single node can give
both the output sequence and the final cell state.

>>> x, h0, c0 = ag.randn(5, 2, 3), ag.zeros((2, 4)), ag.zeros((2, 4))
>>> w_ih, w_hh = ag.randn(16, 3, requires_grad=True), ag.randn(16, 4, requires_grad=True)
>>> hc = ag.lstm(x, h0, c0, w_ih, w_hh)            # hc[..., :4]: h_t, hc[..., 4:]: c_t
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels
from ..errors import ShapeError
from ..function import Function
from ..tensor import Tensor
from .fused import _kernel, linear
from .registry import register
from .shape import concatenate, stack


def lstm_cell(x_t, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step on tensors, composed of engine ops: returns (h', c')."""
    n = h.shape[-1]
    gates = linear(x_t, w_ih, b_ih) + linear(h, w_hh, b_hh)
    i, f = gates[:, :n].sigmoid(), gates[:, n:2 * n].sigmoid()
    g, o = gates[:, 2 * n:3 * n].tanh(), gates[:, 3 * n:].sigmoid()
    c = f * c + i * g
    return o * c.tanh(), c


class LSTM(Function):
    """out[t] = [h_t, c_t] of an LSTM layer run over x (L, N, in); see the module docstring."""

    name = "lstm"

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse):
        steps, batch, _ = x.shape
        n = w_hh.shape[1]
        self.order = range(steps - 1, -1, -1) if reverse else range(steps)
        gates = (x.reshape(steps * batch, -1) @ w_ih.T).reshape(steps, batch, 4 * n)
        if b_ih is not None:
            gates += b_ih + b_hh
        out = np.empty((steps, batch, 2 * n), dtype=gates.dtype)
        tanh_c = np.empty((steps, batch, n), dtype=gates.dtype)
        h, c = h0, c0
        for t in self.order:
            a = gates[t]
            a += h @ w_hh.T
            a[:, :2 * n] = kernels.sigmoid_forward(a[:, :2 * n])
            np.tanh(a[:, 2 * n:3 * n], out=a[:, 2 * n:3 * n])
            a[:, 3 * n:] = kernels.sigmoid_forward(a[:, 3 * n:])
            c = a[:, n:2 * n] * c + a[:, :n] * a[:, 2 * n:3 * n]
            h = a[:, 3 * n:] * np.tanh(c, out=tanh_c[t])
            out[t, :, :n], out[t, :, n:] = h, c
        self.gates, self.tanh_c = gates, tanh_c  # activated gates i, f, g, o; tanh(c')
        self.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        self.out = out
        return out

    def backward(self, grad, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        if isinstance(grad, Tensor):
            return self._backward_composed(grad, x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        n = w_hh.shape[1]
        h_prev = self._before_each_step(self.out[..., :n], h0)
        c_prev = self._before_each_step(self.out[..., n:], c0)
        step_backward = _kernel("lstm_backward_step", self.gates.dtype)
        grad_gates = np.empty_like(self.gates)
        dh = dc = np.zeros_like(c_prev[0])
        for t in reversed(self.order):
            dh = dh + grad[t, :, :n]
            dc = step_backward(self.gates[t], self.tanh_c[t], c_prev[t], dh, dc + grad[t, :, n:],
                               grad_gates[t])
            dh = grad_gates[t] @ w_hh
        rows = grad_gates.reshape(-1, 4 * n)
        grad_x = (rows @ w_ih).reshape(x.shape)
        grad_w_ih = rows.T @ x.reshape(rows.shape[0], -1)
        grad_w_hh = rows.T @ h_prev.reshape(rows.shape[0], n)
        if b_ih is None:
            return grad_x, dh, dc, grad_w_ih, grad_w_hh
        grad_bias = rows.sum(axis=0)
        return grad_x, dh, dc, grad_w_ih, grad_w_hh, grad_bias, grad_bias

    def _before_each_step(self, sequence: np.ndarray, first: np.ndarray) -> np.ndarray:
        """The state each step started from, (L, N, H) C-contiguous: ``first`` for the first
        step processed, else ``sequence``'s value at the step processed before it."""
        order = list(self.order)
        before = np.empty(sequence.shape, dtype=sequence.dtype)
        before[order[0]] = first
        before[order[1:]] = sequence[order[:-1]]
        return before

    def _backward_composed(self, grad, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        """create_graph: the same layer recomputed step by step from engine ops, differentiated
        with create_graph, so the gradients are themselves differentiable."""
        from ..engine import grad as gradients

        h, c, outputs = h0, c0, {}
        for t in self.order:
            h, c = lstm_cell(x[t], h, c, w_ih, w_hh, b_ih, b_hh)
            outputs[t] = concatenate([h, c], axis=-1)
        out = stack([outputs[t] for t in range(len(self.order))])
        inputs = [x, h0, c0, w_ih, w_hh] + ([] if b_ih is None else [b_ih, b_hh])
        return tuple(gradients(out, inputs, gradient=grad, create_graph=True))


@register()
def lstm(x: Any, h0: Any, c0: Any, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
         b_hh: Tensor | None = None, reverse: bool = False) -> Tensor:
    """One LSTM layer over x (L, N, in) from states h0, c0 (N, H), in one node.

    Weights as PyTorch's ``weight_ih_l0`` (4H, in), ``weight_hh_l0`` (4H, H) and biases (4H,)
    (both or neither); ``reverse`` runs from the last step to the first (the backward
    direction of a bidirectional LSTM). Returns (L, N, 2H): ``[..., :H]`` is h_t and
    ``[..., H:]`` is c_t at every step t (in input order).
    """
    x, h0, c0, w_ih, w_hh = (v if isinstance(v, Tensor) else Tensor(v)
                             for v in (x, h0, c0, w_ih, w_hh))
    n = w_hh.shape[-1]
    if w_hh.shape != (4 * n, n) or x.ndim != 3 or w_ih.shape != (4 * n, x.shape[-1]) or \
            h0.shape != (x.shape[1], n) or c0.shape != h0.shape:
        raise ShapeError(f"lstm: expected x (L, N, in), h0 and c0 (N, H), w_ih (4H, in), w_hh "
                         f"(4H, H); got x {x.shape}, h0 {h0.shape}, c0 {c0.shape}, w_ih "
                         f"{w_ih.shape}, w_hh {w_hh.shape}")
    if (b_ih is None) != (b_hh is None):
        raise ValueError("lstm: give both biases or neither")
    if b_ih is None:
        return LSTM.apply(x, h0, c0, w_ih, w_hh, reverse=bool(reverse))
    if b_ih.shape != (4 * n,) or b_hh.shape != (4 * n,):
        raise ShapeError(f"lstm: biases must have shape ({4 * n},), got {b_ih.shape} and "
                         f"{b_hh.shape}")
    return LSTM.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=bool(reverse))
