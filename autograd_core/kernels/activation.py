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

from ..formulas import (
    HALF,
    ONE,
    ZERO,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_array,
    sigmoid_grad,
    tanh_grad,
)
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
    if x.ndim == 1:  # reshape(-1) makes a new view even of a vector: two of them cost the loop
        get("sigmoid")(x, out)
    else:
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


# --- gibbs_sample: probs = sigmoid(x + bias), samples = [uniform < probs] ----------------------
#
# The sampling step of an RBM runs on every unit of every batch, so it is built for float32 speed:
#
# - exp in float32 by the Cephes ``expf`` scheme (e**v = 2**n e**t, |t| <= ln2 / 2, a degree-7
#   polynomial for e**t), written as branch-free arithmetic that LLVM vectorises: numba's scalar
#   libm expf does not vectorise (5x slower here). It is within 2 ulp of the exact sigmoid; the
#   twin's ``1 / (1 + np.exp(-x))`` (numpy's SIMD exp) is within 3 (the same polynomial written
#   with numpy operations costs three times as much). float64 keeps the libm exp
#   (``formulas.sigmoid``).
# - the uniforms come from raw generator words, converted the way numpy's ``Generator.random``
#   converts them (float32: ``(w >> 8) 2**-24`` from 32-bit words; float64: ``(w >> 11) 2**-53``
#   from 64-bit words), inside the loop: no float array of uniforms is written and read back.

LOG2E = np.float32(1.44269504088896341)
LN2_HI = np.float32(0.693359375)  # ln 2 = LN2_HI + LN2_LO, LN2_HI exact in a few bits
LN2_LO = np.float32(-2.12194440e-4)
EXPF_POLY = tuple(np.float32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                          4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
P0, P1, P2, P3, P4, P5 = EXPF_POLY
EXP_ARG_MIN = np.float32(-88.0)  # below it e**v < 2**-126 vanishes next to 1
EXP_ARG_MAX = np.float32(88.0)  # above it e**v overflows float32; sigmoid(-v) is taken as 0
EXP_BIAS = np.int32(127)
INF_BITS = np.int32(0x7F800000)  # float32 inf: sigmoid(x) = 1 / (1 + inf) = 0 for x < -88
UNIFORM32 = np.float32(2.0**-24)
UNIFORM64 = 2.0**-53


def _gibbs_sample_loops(pre_activation, bias, random_bits):
    rows, units = pre_activation.shape
    probs = np.empty((rows, units), dtype=pre_activation.dtype)
    samples = np.empty((rows, units), dtype=pre_activation.dtype)
    single = probs.itemsize == 4  # a compile-time constant: each version keeps one branch
    twos = np.empty(units, dtype=np.int32)  # 2**n of each unit of a row, as float32 bits
    twos_float = twos.view(np.float32)
    for r in range(rows):
        x, p, s = pre_activation[r], probs[r], samples[r]
        if single:
            for c in range(units):
                v = -(x[c] + bias[c])  # sigmoid(x) = 1 / (1 + e**v)
                w = EXP_ARG_MIN if v < EXP_ARG_MIN else v  # comparisons, not min/max: NaN stays
                w = EXP_ARG_MAX if w > EXP_ARG_MAX else w
                n = np.floor(w * LOG2E + HALF)
                t = w - n * LN2_HI - n * LN2_LO
                poly = ((((P0 * t + P1) * t + P2) * t + P3) * t + P4) * t + P5
                p[c] = poly * (t * t) + t + ONE  # e**t
                twos[c] = (np.int32(n) + EXP_BIAS) << 23 if v <= EXP_ARG_MAX else INF_BITS
            for c in range(units):
                p[c] = ONE / (ONE + p[c] * twos_float[c])
        else:
            for c in range(units):
                p[c] = sigmoid(x[c] + bias[c])
        if random_bits.size:
            words = random_bits[r * units:(r + 1) * units]
            for c in range(units):
                if single:
                    u = np.float32(words[c] >> 8) * UNIFORM32
                else:
                    u = np.float64(words[c] >> 11) * UNIFORM64
                s[c] = ONE if u < p[c] else ZERO
    return probs, samples


def _gibbs_sample_numpy(pre_activation, bias, random_bits):
    probs = sigmoid_array(pre_activation + bias)
    if probs.dtype == np.float32:
        uniforms = (random_bits >> 8).astype(np.float32)
        uniforms *= UNIFORM32
    else:
        uniforms = (random_bits >> 11).astype(np.float64)
        uniforms *= UNIFORM64
    samples = np.empty_like(probs)
    if random_bits.size:
        np.less(uniforms.reshape(probs.shape), probs, out=samples)
    return probs, samples


register("gibbs_sample", _gibbs_sample_loops, _gibbs_sample_numpy)

RANDOM_WORDS = {np.dtype(np.float32): np.dtype(np.uint32),
                np.dtype(np.float64): np.dtype(np.uint64)}


def random_words(rng: np.random.Generator, n: int, dtype: np.dtype) -> np.ndarray:
    """``n`` raw words of ``rng``'s bit generator, one per uniform that :func:`gibbs_sample` draws
    for ``dtype`` data: uint32 for float32 (two per 64-bit draw), uint64 for float64."""
    if np.dtype(dtype) == np.float32:
        return rng.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n]
    return rng.bit_generator.random_raw(n)


def gibbs_sample(pre_activation: np.ndarray, bias: np.ndarray,
                 random_bits: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``probs = sigmoid(pre_activation + bias)`` and ``samples = [uniform < probs]`` as 0./1.,
    in one pass: the sampling step of an RBM.

    ``pre_activation`` (n, units) is ``x @ W``, computed outside by BLAS; ``bias`` (units,).
    ``random_bits`` holds one raw generator word per element, row by row (:func:`random_words`):
    uint32 for float32 data, each giving the uniform ``(w >> 8) 2**-24``, uint64 for float64,
    giving ``(w >> 11) 2**-53`` (numpy's own conversions); a sample is 1 exactly when its
    uniform is below the stored probability. Without ``random_bits`` only the probabilities
    are computed and ``samples`` is None. Returns C-contiguous arrays of the input dtype.
    """
    kernel = "gibbs_sample"
    x = float_input(kernel, "pre_activation", pre_activation, ndim=2)
    bias = float_input(kernel, "bias", bias, dtype=x.dtype, shape=(x.shape[1],))
    words = RANDOM_WORDS[x.dtype]
    if random_bits is None:
        return get(kernel)(x, bias, np.empty(0, words))[0], None
    bits = np.ascontiguousarray(random_bits).reshape(-1)
    if bits.dtype != words or bits.size != x.size:
        raise ValueError(f"{kernel}: random_bits must hold {x.size} {words} words for "
                         f"{x.dtype} data, got {bits.size} {bits.dtype}")
    return get(kernel)(x, bias, bits)
