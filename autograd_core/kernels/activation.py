"""Fused bias + activation, its backward pass, and the sampling step of an RBM.

The activations and their derivatives (through the output ``y = act(x)``, so the backward pass
needs only the saved output) are the formulas of ``autograd_core.formulas``, called per element
by the loops and on whole arrays by the numpy twins::

    identity   y = x                     dy/dx = 1
    relu       y = max(x, 0)             dy/dx = [y > 0]
    sigmoid    y = 1 / (1 + exp(-x))     dy/dx = y (1 - y)
    tanh       y = tanh(x)               dy/dx = 1 - y^2
"""

from __future__ import annotations

import numpy as np

from ..formulas import ONE, ZERO, relu, relu_grad, sigmoid, sigmoid_array, sigmoid_grad, tanh_grad
from ._checks import FLOAT_DTYPES, float_input
from .registry import get, jit_enabled, register

# Inside numba the activation is a small int; numba freezes these module globals as constants.
IDENTITY, RELU, SIGMOID, TANH = range(4)
ACTIVATION_CODES: dict[str, int] = {
    "identity": IDENTITY, "relu": RELU, "sigmoid": SIGMOID, "tanh": TANH,
}


def activation_code(kernel: str, act: str) -> int:
    """The int code of activation ``act``, or a ValueError listing the known names."""
    try:
        return ACTIVATION_CODES[act]
    except (KeyError, TypeError):
        raise ValueError(
            f"{kernel}: unknown activation {act!r}; use one of {list(ACTIVATION_CODES)}"
        ) from None


# --- sigmoid: out = sigmoid(x), elementwise ---------------------------------------------------

# Below this size the compiled loop wins (one call, no temporaries, no errstate); above it
# numpy's SIMD exp does. ``python -m bench.ops`` times the small end.
SIGMOID_LOOP_MAX_SIZE = 1024


def _sigmoid_loops(x, out):
    for i in range(x.size):
        out[i] = sigmoid(x[i])


def _sigmoid_numpy(x, out):
    out[...] = sigmoid_array(x)


register("sigmoid", _sigmoid_loops, _sigmoid_numpy)


def sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """``sigmoid(x)`` of an array of any shape: the compiled loop for small float32/float64
    arrays when the kernels are on, numpy otherwise (other dtypes follow numpy's promotion)."""
    if x.size >= SIGMOID_LOOP_MAX_SIZE or x.dtype not in FLOAT_DTYPES or not jit_enabled():
        return sigmoid_array(x)
    # numpy allocates the result: numba returning an array it allocated costs more than the
    # loop on these small arrays (``python -m bench.ops``)
    out = np.empty(x.shape, x.dtype)
    get("sigmoid")(x.reshape(-1), out.reshape(-1))
    return out


# --- bias_act_forward: out = act(z + bias) ---------------------------------------------------


def _bias_act_forward_loops(z, bias, act):
    n, m = z.shape
    # np.empty, not empty_like: the result is C-contiguous even for an F-contiguous z (a layer's
    # product computed transposed, see linalg.matmul_nt), so the transpose costs no extra pass.
    out = np.empty(z.shape, dtype=z.dtype)
    for i in range(n):
        for j in range(m):
            x = z[i, j] + bias[j]
            if act == RELU:
                x = relu(x)
            elif act == SIGMOID:
                x = sigmoid(x)
            elif act == TANH:
                x = np.tanh(x)
            out[i, j] = x
    return out


def _bias_act_forward_numpy(z, bias, act):
    x = np.add(z, bias, order="C")
    if act == RELU:
        x = relu(x)
    elif act == SIGMOID:
        x = sigmoid_array(x)
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
    for i in range(n):
        for j in range(m):
            g = grad_out[i, j]
            y = out[i, j]
            if act == RELU:
                if not relu_grad(y):  # a select, not g * mask: inf or NaN gradients stay out
                    g = ZERO
            elif act == SIGMOID:
                g = g * sigmoid_grad(y)
            elif act == TANH:
                g = g * tanh_grad(y)
            grad_z[i, j] = g
            grad_bias[j] += g
    return grad_z, grad_bias


def _bias_act_backward_numpy(grad_out, out, act):
    if act == RELU:
        grad_z = np.where(relu_grad(out), grad_out, 0)
    elif act == SIGMOID:
        grad_z = grad_out * sigmoid_grad(out)
    elif act == TANH:
        grad_z = grad_out * tanh_grad(out)
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
    for i in range(pre_activation.size):
        probs[i] = sigmoid(pre_activation[i])
        # Compare with the stored (rounded) probability, so samples == (uniforms < probs) exactly.
        samples[i] = ONE if uniforms[i] < probs[i] else ZERO
    return probs, samples


def _gibbs_sample_numpy(pre_activation, uniforms):
    probs = sigmoid_array(pre_activation)
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
