"""One LSTM time step, forward and backward: the elementwise parts, each fused into one pass.

The state of a step is kept as one row ``hc = [h, c]`` (N, 2H), as the ``lstm`` op outputs it.

Forward, after the op has run one vectorised ``tanh`` over the pre-activations ``a`` of all four
gates, the i, f, o chunks halved (so they hold ``tanh(a / 2)``, and ``sigmoid(a)`` is
``(1 + tanh(a / 2)) / 2``)::

    i, f, o = sigmoid_from_tanh_half(...)   (written back into ``gates``; g stays tanh(a_g))
    c_t = f * c_prev + i * g                (written into ``hc[:, H:]``)

``tanh(c_t)`` and ``h_t = o * tanh(c_t)`` stay with numpy's vectorised tanh, in the op.

Backward, with the activated gates ``i, f, g, o`` of the step, ``tanh_c = tanh(c_t)``, the row
``hc_prev`` the step started from, the loss gradient ``grad_hc`` into ``[h_t, c_t]``, and the
gradients ``dh``, ``dc`` into h_t and c_t from the later steps::

    dh_t = dh + grad_h;    dc_t = dc + grad_c + dh_t * o * (1 - tanh_c**2)
    da_i = dc_t * g * i (1 - i)      da_f = dc_t * c_prev * f (1 - f)
    da_g = dc_t * i * (1 - g**2)     da_o = dh_t * tanh_c * o (1 - o)
    dc_prev = dc_t * f

``da`` (N, 4H) is written into ``grad_gates`` and ``dc`` is updated to ``dc_prev`` in place. The
derivatives of sigmoid and tanh are the shared ``formulas`` (through the outputs). The matmuls
that carry the state between steps (``h @ W_hh.T``, ``da @ W_hh``) stay with BLAS, in the op.
"""

from __future__ import annotations

import numpy as np

from ..formulas import sigmoid_from_tanh_half, sigmoid_grad, tanh_grad
from ._checks import float_input, inplace_buffer
from .registry import get, register


def _lstm_forward_step_loops(gates, hc_prev, hc):
    batch, n = hc.shape[0], hc.shape[1] // 2
    for b in range(batch):
        for j in range(n):
            i = sigmoid_from_tanh_half(gates[b, j])
            f = sigmoid_from_tanh_half(gates[b, n + j])
            gates[b, j], gates[b, n + j] = i, f
            gates[b, 3 * n + j] = sigmoid_from_tanh_half(gates[b, 3 * n + j])
            hc[b, n + j] = f * hc_prev[b, n + j] + i * gates[b, 2 * n + j]


def _lstm_forward_step_numpy(gates, hc_prev, hc):
    n = hc.shape[1] // 2
    for gate in (slice(0, 2 * n), slice(3 * n, 4 * n)):  # i and f, then o
        gates[:, gate] = sigmoid_from_tanh_half(gates[:, gate])
    hc[:, n:] = gates[:, n:2 * n] * hc_prev[:, n:] + gates[:, :n] * gates[:, 2 * n:3 * n]


def _lstm_backward_step_loops(gates, tanh_c, hc_prev, grad_hc, dh, dc, grad_gates):
    batch, n = dh.shape
    for b in range(batch):
        for j in range(n):
            i, f = gates[b, j], gates[b, n + j]
            g, o = gates[b, 2 * n + j], gates[b, 3 * n + j]
            t = tanh_c[b, j]
            d_h = dh[b, j] + grad_hc[b, j]
            d_c = dc[b, j] + grad_hc[b, n + j] + d_h * o * tanh_grad(t)
            grad_gates[b, j] = d_c * g * sigmoid_grad(i)
            grad_gates[b, n + j] = d_c * hc_prev[b, n + j] * sigmoid_grad(f)
            grad_gates[b, 2 * n + j] = d_c * i * tanh_grad(g)
            grad_gates[b, 3 * n + j] = d_h * t * sigmoid_grad(o)
            dc[b, j] = d_c * f


def _lstm_backward_step_numpy(gates, tanh_c, hc_prev, grad_hc, dh, dc, grad_gates):
    n = dh.shape[1]
    i, f, g, o = (gates[:, k * n:(k + 1) * n] for k in range(4))
    d_h = dh + grad_hc[:, :n]
    d_c = dc + grad_hc[:, n:] + d_h * o * tanh_grad(tanh_c)
    grad_gates[:, :n] = d_c * g * sigmoid_grad(i)
    grad_gates[:, n:2 * n] = d_c * hc_prev[:, n:] * sigmoid_grad(f)
    grad_gates[:, 2 * n:3 * n] = d_c * i * tanh_grad(g)
    grad_gates[:, 3 * n:] = d_h * tanh_c * sigmoid_grad(o)
    dc[...] = d_c * f


register("lstm_forward_step", _lstm_forward_step_loops, _lstm_forward_step_numpy)
register("lstm_backward_step", _lstm_backward_step_loops, _lstm_backward_step_numpy)


def _batch_and_hidden(kernel: str, gates: np.ndarray) -> tuple[int, int]:
    """N and H of the (N, 4H) ``gates``, or a ValueError naming ``kernel``."""
    batch, n = gates.shape[0], gates.shape[-1] // 4
    if gates.ndim != 2 or gates.shape[1] != 4 * n:
        raise ValueError(f"{kernel}: gates must be (N, 4H), got shape {gates.shape}")
    return batch, n


def lstm_forward_step(gates: np.ndarray, hc_prev: np.ndarray, hc: np.ndarray) -> None:
    """Turn ``gates`` (N, 4H; i, f, o chunks holding tanh(a / 2), g holding tanh(a_g)) into
    the activated gates in place and write ``c_t`` into ``hc[:, H:]`` (N, 2H), from the row
    ``hc_prev`` = [h, c] the step started from; see the module docstring."""
    kernel = "lstm_forward_step"
    gates = inplace_buffer(kernel, "gates", gates)
    batch, n = _batch_and_hidden(kernel, gates)
    hc_prev = float_input(kernel, "hc_prev", hc_prev, dtype=gates.dtype, shape=(batch, 2 * n))
    hc = inplace_buffer(kernel, "hc", hc, dtype=gates.dtype, shape=(batch, 2 * n))
    get(kernel)(gates, hc_prev, hc)


def lstm_backward_step(gates: np.ndarray, tanh_c: np.ndarray, hc_prev: np.ndarray,
                       grad_hc: np.ndarray, dh: np.ndarray, dc: np.ndarray,
                       grad_gates: np.ndarray) -> None:
    """Write d(loss)/d(pre-activation gates) of one LSTM step into ``grad_gates`` (N, 4H) and
    update ``dc`` (N, H) in place to d(loss)/d(c_prev); see the module docstring."""
    kernel = "lstm_backward_step"
    gates = float_input(kernel, "gates", gates)
    batch, n = _batch_and_hidden(kernel, gates)
    tanh_c, dh = (float_input(kernel, name, v, dtype=gates.dtype, shape=(batch, n))
                  for name, v in (("tanh_c", tanh_c), ("dh", dh)))
    hc_prev, grad_hc = (float_input(kernel, name, v, dtype=gates.dtype, shape=(batch, 2 * n))
                        for name, v in (("hc_prev", hc_prev), ("grad_hc", grad_hc)))
    dc = inplace_buffer(kernel, "dc", dc, dtype=gates.dtype, shape=(batch, n))
    grad_gates = inplace_buffer(kernel, "grad_gates", grad_gates, dtype=gates.dtype,
                                shape=gates.shape)
    get(kernel)(gates, tanh_c, hc_prev, grad_hc, dh, dc, grad_gates)
