"""One LSTM layer over a whole sequence, in one direction, as one node of the graph.

Per time step, with the gates in PyTorch's order i, f, g, o (chunks of 4 * H)::

    a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
    c' = f * c + i * g;   h' = o * tanh(c')

The input projections of all steps (forward) and the weight gradients (backward) are each one
large matmul over the whole sequence; only ``h @ W_hh.T`` and ``da @ W_hh`` run per step, and
the elementwise rest of a step is numpy's vectorised tanh plus one fused kernel
(``kernels.lstm_forward_step``, ``kernels.lstm_backward_step``). Backward through time runs
from the last step to the first, with dh and dc the gradients flowing into step t's outputs
(from the loss and from step t + 1)::

    dc += dh * o * (1 - tanh(c')**2)
    da_i = dc * g * i (1 - i)    da_f = dc * c * f (1 - f)
    da_g = dc * i * (1 - g**2)   da_o = dh * tanh(c') * o (1 - o)
    dh_prev = da @ W_hh;         dc_prev = dc * f

The output holds h and c of every step side by side, (L, N, 2H), so that a single node can give
both the output sequence and the final cell state.

>>> x, h0, c0 = ag.randn(5, 2, 3), ag.zeros((2, 4)), ag.zeros((2, 4))
>>> w_ih, w_hh = ag.randn(16, 3, requires_grad=True), ag.randn(16, 4, requires_grad=True)
>>> hc = ag.lstm(x, h0, c0, w_ih, w_hh)            # hc[..., :4]: h_t, hc[..., 4:]: c_t
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

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


_workspace = threading.local()
WORKSPACE_MAX_BYTES = 64 << 20  # larger ones are allocated per call rather than kept


def _backward_workspace(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised array for the gate gradients, used only inside one backward call and
    then kept (one per thread) for the next: a fresh multi-MB array on every call would be
    mapped anew by the allocator, a page fault per 4 KB page that costs more than the
    elementwise work done in it."""
    buffer = getattr(_workspace, "grad_gates", None)
    if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
        buffer = np.empty(shape, dtype=dtype)
        if buffer.nbytes <= WORKSPACE_MAX_BYTES:
            _workspace.grad_gates = buffer
    return buffer


class LSTM(Function):
    """out[t] = [h_t, c_t] of an LSTM layer run over x (L, N, in); see the module docstring."""

    name = "lstm"

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse):
        steps, batch, _ = x.shape
        n = w_hh.shape[1]
        self.order = range(steps - 1, -1, -1) if reverse else range(steps)
        # sigmoid(a) = (1 + tanh(a / 2)) / 2: with the rows of the i, f, o gates halved (exact, a
        # power of two), one vectorised tanh per step serves all four gates.
        half = np.full((4 * n, 1), 0.5, dtype=w_hh.dtype)
        half[2 * n:3 * n] = 1
        gates = (x.reshape(steps * batch, -1) @ (half * w_ih).T).reshape(steps, batch, 4 * n)
        if b_ih is not None:
            gates += half[:, 0] * (b_ih + b_hh)
        w_hh_half_t = (half * w_hh).T
        out = np.empty((steps, batch, 2 * n), dtype=gates.dtype)
        tanh_c = np.empty((steps, batch, n), dtype=gates.dtype)
        step_forward = _kernel("lstm_forward_step", gates.dtype)
        self.hc0 = hc = np.concatenate([h0, c0], axis=1, dtype=gates.dtype)
        for t in self.order:
            a = gates[t]
            a += hc[:, :n] @ w_hh_half_t
            step_forward(np.tanh(a, out=a), hc, out[t])  # a: activated gates; c_t into out[t]
            hc = out[t]
            np.multiply(a[:, 3 * n:], np.tanh(hc[:, n:], out=tanh_c[t]), out=hc[:, :n])
        self.gates, self.tanh_c = gates, tanh_c
        # out is saved (not kept aside) so that a later in-place write into it raises at backward
        self.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, out)
        return out

    def backward(self, grad, x, h0, c0, w_ih, w_hh, b_ih, b_hh, out):
        if isinstance(grad, Tensor):
            return self._backward_composed(grad, x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        n = w_hh.shape[1]
        grad = np.ascontiguousarray(grad, dtype=self.gates.dtype)
        step_backward = _kernel("lstm_backward_step", self.gates.dtype)
        grad_gates = _backward_workspace(self.gates.shape, self.gates.dtype)
        dh, dc = np.zeros_like(self.tanh_c[0]), np.zeros_like(self.tanh_c[0])
        order = list(self.order)
        for k in range(len(order) - 1, -1, -1):
            t = order[k]
            hc_prev = out[order[k - 1]] if k else self.hc0
            step_backward(self.gates[t], self.tanh_c[t], hc_prev, grad[t], dh, dc, grad_gates[t])
            np.matmul(grad_gates[t], w_hh, out=dh)
        # The products over the whole sequence, each only for an input that wants it (the
        # input sequence of a first layer usually does not).
        needs = self.needs_input_grad
        rows = grad_gates.reshape(-1, 4 * n)
        grad_x = (rows @ w_ih).reshape(x.shape) if needs[0] else None
        grad_w_ih = rows.T @ x.reshape(rows.shape[0], -1) if needs[3] else None
        grad_w_hh = self._grad_w_hh(grad_gates, h0, out) if needs[4] else None
        if b_ih is None:
            return grad_x, dh, dc, grad_w_ih, grad_w_hh
        grad_bias = rows.sum(axis=0) if needs[5] or needs[6] else None
        return grad_x, dh, dc, grad_w_ih, grad_w_hh, grad_bias, grad_bias

    def _grad_w_hh(self, grad_gates: np.ndarray, h0: np.ndarray, out: np.ndarray) -> np.ndarray:
        """sum over steps of da_t.T @ h_prev: each step but the first starts from the h of the
        step processed before it (a view of the output, no copy), the first from h0."""
        n = h0.shape[1]
        first, later, before = (-1, slice(None, -1), slice(1, None)) if self.order.step < 0 \
            else (0, slice(1, None), slice(None, -1))
        return grad_gates[first].T @ h0 + \
            grad_gates[later].reshape(-1, 4 * n).T @ out[before, :, :n].reshape(-1, n)

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
