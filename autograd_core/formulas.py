"""Elementwise formulas, each written once and shared by the ops, the fused ops, the Numba
kernels and their numpy twins (and so by the pictures, which rerun the ops).

Each is plain Python on numpy calls: it runs on whole arrays under numpy, and on one element
inside a ``numba.njit`` loop (the kernel registry makes them callable there). Derivatives are
written through the output ``y = f(x)``, so a backward pass needs only the saved output::

    sigmoid   y = 1 / (1 + e**-x)     dy/dx = y (1 - y)
    tanh      y = tanh(x)             dy/dx = 1 - y**2
    relu      y = max(x, 0)           dy/dx = [y > 0]

The constants are float32: in numba a bare ``1`` is an int64 that turns float32 arithmetic into
float64 (half the SIMD width, and rounding unlike numpy's); float64 inputs promote them as usual.
"""

from __future__ import annotations

import numpy as np

ONE = np.float32(1)
ZERO = np.float32(0)
HALF = np.float32(0.5)


def sigmoid(x):
    """1 / (1 + e**-x), exact to a few ulp in both tails.

    For very negative x, e**-x overflows to inf and the result is the exact limit 0; numpy warns
    about that overflow, so on arrays call :func:`sigmoid_array`.
    """
    return ONE / (ONE + np.exp(-x))


def sigmoid_grad(y):
    """d sigmoid / dx from the output y = sigmoid(x): y (1 - y)."""
    return y * (ONE - y)


def sigmoid_from_tanh_half(t):
    """sigmoid(x) from t = tanh(x / 2): (1 + t) / 2, the same function rewritten, so that one
    vectorised tanh can serve sigmoid and tanh gates alike."""
    return HALF * (ONE + t)


def tanh_grad(y):
    """d tanh / dx from the output y = tanh(x): 1 - y**2."""
    return ONE - y * y


def relu(x):
    """max(x, 0); NaN passes through."""
    return np.maximum(x, ZERO)


def relu_grad(y):
    """d relu / dx from the output y = relu(x), as a mask: y > 0."""
    return y > ZERO


def larger(a, b):
    """One element of ``np.maximum(a, b)``: NaN if either is NaN, else the larger, ``b`` on a
    tie, as numpy picks (so larger(-0.0, 0.0) is 0.0). Elements only (the fused loops of
    ``autograd_core.fusion``); on arrays numpy's own ``np.maximum`` runs."""
    return a if a > b or a != a else b


def smaller(a, b):
    """One element of ``np.minimum(a, b)``: NaN if either is NaN, else the smaller, ``b`` on a
    tie. Elements only, as :func:`larger`."""
    return a if a < b or a != a else b


# The formulas the Numba kernels call; the kernel registry makes each one jit-callable.
JITABLE = (sigmoid, sigmoid_grad, sigmoid_from_tanh_half, tanh_grad, relu, relu_grad, larger,
           smaller)


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    """:func:`sigmoid` of an array, without the warning for the overflow it handles."""
    with np.errstate(over="ignore"):
        return sigmoid(x)
