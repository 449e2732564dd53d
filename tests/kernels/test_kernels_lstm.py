"""Kernels of one step of the LSTM backward pass (batch n, hidden m), the elementwise part."""

from __future__ import annotations

import kernel_table
import numpy as np
from kernel_table import Case, normal, sigmoid64

import autograd_core.kernels as K


def lstm_backward_step(gates, tanh_c, c_prev, dh, dc):
    grad_gates = np.empty(gates.shape, dtype=gates.dtype)
    dc_prev = K.lstm_backward_step(gates, tanh_c, c_prev, dh, dc, grad_gates)
    return grad_gates, dc_prev


def make_lstm_step(rng, shape, dtype):
    n, m = shape
    gates = sigmoid64(2 * rng.standard_normal((n, 4 * m)))
    gates[:, 2 * m:3 * m] = np.tanh(2 * rng.standard_normal((n, m)))
    return [gates.astype(dtype), np.tanh(rng.standard_normal(shape)).astype(dtype),
            *(normal(rng, shape, dtype) for _ in range(3))]


def ref_lstm_step(gates, tanh_c, c_prev, dh, dc):
    i, f, g, o = np.split(gates, 4, axis=1)
    d_c = dc + dh * o * (1 - tanh_c**2)
    grad = np.concatenate([d_c * g * i * (1 - i), d_c * c_prev * f * (1 - f),
                           d_c * i * (1 - g**2), dh * tanh_c * o * (1 - o)], axis=1)
    return grad, d_c * f


CASES = [
    Case("lstm_backward_step", "lstm_backward_step", lstm_backward_step, make_lstm_step,
         ref_lstm_step),
]

# The table tests, run over CASES (see conftest.py).
test_matches_reference = kernel_table.test_matches_reference
test_twins_agree = kernel_table.test_twins_agree
