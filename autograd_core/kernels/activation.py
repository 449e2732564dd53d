"""Fused bias + activation, its backward pass, and the sampling step of an RBM.

The activations and their derivatives, written through the output ``y = act(x)`` so that the
backward pass needs only the saved output, not the pre-activation::

    identity   y = x                     dy/dx = 1
    relu       y = max(x, 0)             dy/dx = [y > 0]
    sigmoid    y = 1 / (1 + exp(-x))     dy/dx = y (1 - y)
    tanh       y = tanh(x)               dy/dx = 1 - y^2

The sigmoid is evaluated with ``e = exp(-|x|)`` as ``1 / (1 + e)`` for ``x >= 0`` and
``e / (1 + e)`` for ``x < 0``: exp never overflows (``x = -1e4`` gives exactly 0), and tiny
probabilities keep their relative precision (no ``1 - p`` cancellation).
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import float_input
from .registry import get, register

# Inside numba the activation is a small int; numba freezes these module globals as constants.
IDENTITY, RELU, SIGMOID, TANH = range(4)
ACTIVATIONS: dict[str, int] = {"identity": IDENTITY, "relu": RELU, "sigmoid": SIGMOID, "tanh": TANH}


def activation_code(kernel: str, act: str) -> int:
    """The int code of activation ``act``, or a ValueError listing the known names."""
    try:
        return ACTIVATIONS[act]
    except (KeyError, TypeError):
        raise ValueError(
            f"{kernel}: unknown activation {act!r}; use one of {list(ACTIVATIONS)}"
        ) from None


# --- bias_act_forward: out = act(z + bias) ---------------------------------------------------


def _bias_act_forward_loops(z, bias, act):
    n, m = z.shape
    # np.empty, not empty_like: the result is C-contiguous even for an F-contiguous z (a layer's
    # product computed transposed, see linalg.matmul_nt), so the transpose costs no extra pass.
    out = np.empty(z.shape, dtype=z.dtype)
    # Typed constants: numba types a bare 1 or 0 as int64, which turns float32 arithmetic into
    # float64, halving the SIMD width and rounding differently from the numpy twin.
    zero, one = z.dtype.type(0), z.dtype.type(1)
    for i in range(n):
        for j in range(m):
            x = z[i, j] + bias[j]
            if act == RELU:
                if x < 0:  # not `x > 0 else 0`: NaN must pass through, as in np.maximum
                    x = zero
            elif act == SIGMOID:
                e = math.exp(-abs(x))
                x = (one if x >= 0 else e) / (one + e)  # a select, not a branch: no mispredicts
            elif act == TANH:
                x = math.tanh(x)
            out[i, j] = x
    return out


def _sigmoid_numpy(x):
    e = np.exp(-np.abs(x))  # in (0, 1]: no overflow, no warning
    return np.where(x >= 0, 1, e) / (1 + e)


def _bias_act_forward_numpy(z, bias, act):
    x = np.add(z, bias, order="C")
    if act == RELU:
        np.maximum(x, 0, out=x)
    elif act == SIGMOID:
        x = _sigmoid_numpy(x)
    elif act == TANH:
        np.tanh(x, out=x)
    return x


register("bias_act_forward", _bias_act_forward_loops, _bias_act_forward_numpy)


def bias_act_forward(z: np.ndarray, bias: np.ndarray, act: str) -> np.ndarray:
    """``out[i, j] = act(z[i, j] + bias[j])`` in one pass, for z of shape (n, m), bias (m,).

    ``act`` is one of "identity", "relu", "sigmoid", "tanh". Returns a new C-contiguous array of
    z's dtype. (The raw kernel, ``get("bias_act_forward")``, also reads an F-contiguous z.)
    """
    kernel = "bias_act_forward"
    z = float_input(kernel, "z", z, ndim=2)
    bias = float_input(kernel, "bias", bias, dtype=z.dtype, shape=(z.shape[1],))
    return get(kernel)(z, bias, activation_code(kernel, act))


# --- bias_act_backward: grad_z = grad_out * act'(out), grad_bias = sum_i grad_z[i] --------------


def _bias_act_backward_loops(grad_out, out, act):
    n, m = grad_out.shape
    grad_z = np.empty_like(grad_out)
    grad_bias = np.zeros(m, dtype=grad_out.dtype)
    zero, one = grad_out.dtype.type(0), grad_out.dtype.type(1)
    for i in range(n):
        for j in range(m):
            g = grad_out[i, j]
            y = out[i, j]
            if act == RELU:
                if not y > 0:
                    g = zero
            elif act == SIGMOID:
                g = g * (y * (one - y))
            elif act == TANH:
                g = g * (one - y * y)
            grad_z[i, j] = g
            grad_bias[j] += g
    return grad_z, grad_bias


def _bias_act_backward_numpy(grad_out, out, act):
    if act == RELU:
        grad_z = np.where(out > 0, grad_out, 0)
    elif act == SIGMOID:
        grad_z = grad_out * (out * (1 - out))
    elif act == TANH:
        grad_z = grad_out * (1 - out * out)
    else:
        grad_z = grad_out.copy()
    return grad_z, grad_z.sum(axis=0)


register("bias_act_backward", _bias_act_backward_loops, _bias_act_backward_numpy)


def bias_act_backward(
    grad_out: np.ndarray, out: np.ndarray, act: str
) -> tuple[np.ndarray, np.ndarray]:
    """Backward of :func:`bias_act_forward`, from its output, in one pass.

    ``grad_z = grad_out * act'(out)`` (relu: ``out > 0``, sigmoid: ``out (1 - out)``,
    tanh: ``1 - out^2``, identity: 1) and ``grad_bias = grad_z.sum(axis=0)``.
    """
    kernel = "bias_act_backward"
    grad_out = float_input(kernel, "grad_out", grad_out, ndim=2)
    out = float_input(kernel, "out", out, dtype=grad_out.dtype, shape=grad_out.shape)
    return get(kernel)(grad_out, out, activation_code(kernel, act))


# --- gibbs_sample: probs = sigmoid(x), samples = [u < probs] ---------------------------------


def _gibbs_sample_loops(pre_activation, uniforms):
    probs = np.empty_like(pre_activation)
    samples = np.empty_like(pre_activation)
    zero, one = pre_activation.dtype.type(0), pre_activation.dtype.type(1)
    for i in range(pre_activation.size):
        # The stable sigmoid of _bias_act_forward_loops (numba cannot call a plain Python helper).
        x = pre_activation[i]
        e = math.exp(-abs(x))
        probs[i] = (one if x >= 0 else e) / (one + e)
        # Compare with the stored (rounded) probability, so samples == (uniforms < probs) exactly.
        samples[i] = one if uniforms[i] < probs[i] else zero
    return probs, samples


def _gibbs_sample_numpy(pre_activation, uniforms):
    probs = _sigmoid_numpy(pre_activation)
    return probs, (uniforms < probs).astype(probs.dtype)


register("gibbs_sample", _gibbs_sample_loops, _gibbs_sample_numpy)


def gibbs_sample(pre_activation: np.ndarray, uniforms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``probs = sigmoid(pre_activation)``, ``samples = (uniforms < probs)`` as 0./1., one pass.

    ``pre_activation`` (any shape, typically (batch, units)) is ``x @ W + b``, computed outside by
    BLAS; ``uniforms`` holds U[0, 1) draws of the same shape and dtype. Returns (probs, samples),
    both of the input dtype.
    """
    kernel = "gibbs_sample"
    x = float_input(kernel, "pre_activation", pre_activation)
    u = float_input(kernel, "uniforms", uniforms, dtype=x.dtype, shape=x.shape)
    # The kernel works on flat views: one compiled version serves every shape.
    probs, samples = get(kernel)(x.reshape(-1), u.reshape(-1))
    return probs.reshape(x.shape), samples.reshape(x.shape)
