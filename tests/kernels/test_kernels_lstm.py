"""Kernels of one LSTM step (batch n, hidden m), the elementwise parts of forward and backward."""

from __future__ import annotations

import kernel_table
import numpy as np
from kernel_table import Case, normal, sigmoid64

import autograd_core.kernels as K


def make_forward_step(rng, shape, dtype):
    n, m = shape
    a = 2 * rng.standard_normal((n, 4 * m))
    a[:, :2 * m] /= 2  # i, f and o arrive as tanh(a / 2), g as tanh(a)
    a[:, 3 * m:] /= 2
    return [np.tanh(a).astype(dtype), normal(rng, (n, 2 * m), dtype),
            normal(rng, (n, 2 * m), dtype)]


def ref_forward_step(gates, hc_prev, hc):
    m = hc.shape[1] // 2
    t_i, t_f, g, t_o = np.split(gates, 4, axis=1)
    i, f, o = (sigmoid64(2 * np.arctanh(v)) for v in (t_i, t_f, t_o))
    hc = hc.copy()
    hc[:, m:] = f * hc_prev[:, m:] + i * g
    return np.concatenate([i, f, g, o], axis=1), hc


def make_backward_step(rng, shape, dtype):
    n, m = shape
    gates = sigmoid64(2 * rng.standard_normal((n, 4 * m)))
    gates[:, 2 * m:3 * m] = np.tanh(2 * rng.standard_normal((n, m)))
    return [gates.astype(dtype), np.tanh(rng.standard_normal(shape)).astype(dtype),
            normal(rng, (n, 2 * m), dtype), normal(rng, (n, 2 * m), dtype),
            normal(rng, shape, dtype), normal(rng, shape, dtype),
            np.zeros((n, 4 * m), dtype)]


def ref_backward_step(gates, tanh_c, hc_prev, grad_hc, dh, dc, grad_gates):
    m = dh.shape[1]
    i, f, g, o = np.split(gates, 4, axis=1)
    dh = dh + grad_hc[:, :m]
    d_c = dc + grad_hc[:, m:] + dh * o * (1 - tanh_c**2)
    grad = np.concatenate([d_c * g * i * (1 - i), d_c * hc_prev[:, m:] * f * (1 - f),
                           d_c * i * (1 - g**2), dh * tanh_c * o * (1 - o)], axis=1)
    return d_c * f, grad


CASES = [
    Case("lstm_forward_step", "lstm_forward_step", K.lstm_forward_step, make_forward_step,
         ref_forward_step, inplace=(0, 2)),
    Case("lstm_backward_step", "lstm_backward_step", K.lstm_backward_step, make_backward_step,
         ref_backward_step, inplace=(5, 6)),
]

# The table tests, run over CASES (see conftest.py).
test_matches_reference = kernel_table.test_matches_reference
test_twins_agree = kernel_table.test_twins_agree
