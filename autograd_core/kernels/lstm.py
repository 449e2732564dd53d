"""One time step of the LSTM backward pass: the elementwise part, fused into one pass.

With the activated gates ``i, f, g, o`` of the step (chunks of ``gates``, (N, 4H)),
``tanh_c = tanh(c_t)``, the cell state ``c_prev`` the step started from, and the gradients
``dh`` (into h_t) and ``dc`` (into c_t from later steps and the loss)::

    dc_t = dc + dh * o * (1 - tanh_c**2)
    da_i = dc_t * g * i (1 - i)      da_f = dc_t * c_prev * f (1 - f)
    da_g = dc_t * i * (1 - g**2)     da_o = dh * tanh_c * o (1 - o)
    dc_prev = dc_t * f

The derivatives of sigmoid and tanh are the shared ``formulas`` (through the outputs).
``da`` (N, 4H) is written into ``grad_gates`` in place; ``dc_prev`` is returned. The matmul
``da @ W_hh`` that carries the gradient to h_prev stays with BLAS, in the op.
"""

from __future__ import annotations

import numpy as np

from ..formulas import sigmoid_grad, tanh_grad
from ._checks import float_input, inplace_buffer
from .registry import get, register


def _lstm_backward_step_loops(gates, tanh_c, c_prev, dh, dc, grad_gates):
    batch, n = dh.shape
    dc_prev = np.empty_like(dc)
    for b in range(batch):
        for j in range(n):
            i, f = gates[b, j], gates[b, n + j]
            g, o = gates[b, 2 * n + j], gates[b, 3 * n + j]
            t = tanh_c[b, j]
            d_c = dc[b, j] + dh[b, j] * o * tanh_grad(t)
            grad_gates[b, j] = d_c * g * sigmoid_grad(i)
            grad_gates[b, n + j] = d_c * c_prev[b, j] * sigmoid_grad(f)
            grad_gates[b, 2 * n + j] = d_c * i * tanh_grad(g)
            grad_gates[b, 3 * n + j] = dh[b, j] * t * sigmoid_grad(o)
            dc_prev[b, j] = d_c * f
    return dc_prev


def _lstm_backward_step_numpy(gates, tanh_c, c_prev, dh, dc, grad_gates):
    n = dh.shape[1]
    i, f, g, o = (gates[:, k * n:(k + 1) * n] for k in range(4))
    d_c = dc + dh * o * tanh_grad(tanh_c)
    grad_gates[:, :n] = d_c * g * sigmoid_grad(i)
    grad_gates[:, n:2 * n] = d_c * c_prev * sigmoid_grad(f)
    grad_gates[:, 2 * n:3 * n] = d_c * i * tanh_grad(g)
    grad_gates[:, 3 * n:] = dh * tanh_c * sigmoid_grad(o)
    return d_c * f


register("lstm_backward_step", _lstm_backward_step_loops, _lstm_backward_step_numpy)


def lstm_backward_step(gates: np.ndarray, tanh_c: np.ndarray, c_prev: np.ndarray,
                       dh: np.ndarray, dc: np.ndarray, grad_gates: np.ndarray) -> np.ndarray:
    """Write d(loss)/d(pre-activation gates) of one LSTM step into ``grad_gates`` (N, 4H) and
    return d(loss)/d(c_prev) (N, H); see the module docstring for the formulas."""
    kernel = "lstm_backward_step"
    gates = float_input(kernel, "gates", gates, ndim=2)
    batch, n = gates.shape[0], gates.shape[1] // 4
    if gates.shape[1] != 4 * n:
        raise ValueError(f"{kernel}: gates must be (N, 4H), got shape {gates.shape}")
    tanh_c, c_prev, dh, dc = (float_input(kernel, name, v, dtype=gates.dtype, shape=(batch, n))
                              for name, v in (("tanh_c", tanh_c), ("c_prev", c_prev),
                                              ("dh", dh), ("dc", dc)))
    grad_gates = inplace_buffer(kernel, "grad_gates", grad_gates, dtype=gates.dtype,
                                shape=gates.shape)
    return get(kernel)(gates, tanh_c, c_prev, dh, dc, grad_gates)
