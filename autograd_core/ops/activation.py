"""Activations and the normalisers built on exp: each one numerically stable.

Every derivative is written in terms of the output where possible (tanh' = 1 - out**2), which is
cheaper and, via the engine's tensor mode, still differentiable a second time.
"""

from __future__ import annotations

import functools

import numpy as np

from ..function import Function


@functools.cache
def _expit():
    # scipy's logistic ufunc: one fast pass, no overflow, full relative precision in both tails.
    # Imported on first use: scipy.special takes longer to import than the whole engine.
    from scipy.special import expit

    return expit


def stable_sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e**-a), computed without overflow for any a."""
    return _expit()(a)


class Tanh(Function):
    """out = tanh(a);  d/da = 1 - out**2."""

    def forward(self, a):
        out = np.tanh(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad * (1 - out * out)


class Sigmoid(Function):
    """out = 1 / (1 + e**-a);  d/da = out (1 - out)."""

    def forward(self, a):
        out = stable_sigmoid(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad * out * (1 - out)


class Relu(Function):
    """out = max(a, 0);  d/da = 1 where a > 0, else 0."""

    def forward(self, a):
        self.save_for_backward(a > 0)
        return np.maximum(a, 0)

    def backward(self, grad, positive):
        return grad * positive


class LeakyRelu(Function):
    """out = a if a > 0 else slope * a;  d/da = 1 or slope."""

    def forward(self, a, slope):
        factor = np.where(a > 0, 1, slope).astype(a.dtype)
        self.save_for_backward(factor)
        return a * factor

    def backward(self, grad, factor):
        return grad * factor


class Softplus(Function):
    """out = ln(1 + e**a);  d/da = sigmoid(a), computed as e**(a - out) (never overflows)."""

    def forward(self, a):
        out = np.logaddexp(0, a)
        self.save_for_backward(a, out)
        return out

    def backward(self, grad, a, out):
        return grad * np.exp(a - out)


class Softmax(Function):
    """out = e**a / sum(e**a) along ``axis``;  d/da = out * (grad - sum(grad * out))."""

    def forward(self, a, axis):
        self.axis = axis
        shifted = np.exp(a - a.max(axis=axis, keepdims=True))
        out = shifted / shifted.sum(axis=axis, keepdims=True)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return out * (grad - (grad * out).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """out = a - logsumexp(a) along ``axis``;  d/da = grad - softmax(a) * sum(grad)."""

    def forward(self, a, axis):
        self.axis = axis
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad - np.exp(out) * grad.sum(axis=self.axis, keepdims=True)
