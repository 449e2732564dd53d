"""Activations and the normalisers built on exp: each one numerically stable.

Every derivative is written in terms of the output where possible (tanh' = 1 - out**2), which is
cheaper and, via the engine's tensor mode, still differentiable a second time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import formulas, kernels
from ..function import Function
from ..tensor import Tensor
from .operands import axes, one_axis, operand
from .reduce import max_shift
from .registry import register, unary


class Tanh(Function):
    """out = tanh(a);  d/da = 1 - out**2."""

    derivative = ("1 - {out}^2",)

    def forward(self, a):
        out = np.tanh(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad * formulas.tanh_grad(out)


tanh = unary(Tanh, method="tanh", ufunc=np.tanh)


class Sigmoid(Function):
    """out = 1 / (1 + e**-a);  d/da = out (1 - out)."""

    derivative = ("{out}*(1 - {out})",)

    def forward(self, a):
        out = kernels.sigmoid_forward(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad * formulas.sigmoid_grad(out)


sigmoid = unary(Sigmoid, method="sigmoid")


class Relu(Function):
    """out = max(a, 0);  d/da = 1 where a > 0, else 0."""

    derivative = ("[{0} > 0]",)

    def forward(self, a):
        out = formulas.relu(a)
        self.save_for_backward(formulas.relu_grad(out))
        return out

    def backward(self, grad, positive):
        return grad * positive


relu = unary(Relu, method="relu")


class LeakyRelu(Function):
    """out = a if a > 0 else slope * a;  d/da = 1 or slope."""

    def forward(self, a, slope):
        factor = np.where(a > 0, 1, slope).astype(a.dtype)
        self.save_for_backward(factor)
        return a * factor

    def backward(self, grad, factor):
        return grad * factor


@register(method="leaky_relu")
def leaky_relu(a: Any, negative_slope: float = 0.01) -> Tensor:
    """a where a > 0, else negative_slope * a."""
    return LeakyRelu.apply(operand(a, None, "leaky_relu"), slope=negative_slope)


class Softplus(Function):
    """out = ln(1 + e**a);  d/da = sigmoid(a), computed as e**(a - out) (never overflows)."""

    def forward(self, a):
        out = np.logaddexp(0, a)
        self.save_for_backward(a, out)
        return out

    def backward(self, grad, a, out):
        return grad * np.exp(a - out)


softplus = unary(Softplus, method="softplus")


class Softmax(Function):
    """out = e**a / sum(e**a) along ``axis``;  d/da = out * (grad - sum(grad * out))."""

    def forward(self, a, axis):
        self.axis = axis
        shifted = np.exp(a - max_shift(a, axis))
        out = shifted / shifted.sum(axis=axis, keepdims=True)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return out * (grad - (grad * out).sum(axis=self.axis, keepdims=True))


@register(method="softmax")
def softmax(a: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """e**a / sum(e**a) along ``axis`` (shifted by the max, so large inputs do not overflow)."""
    return Softmax.apply(a, axis=axes(one_axis(axis, dim, "softmax"), None, a.shape, "softmax"))


class LogSoftmax(Function):
    """out = a - logsumexp(a) along ``axis``;  d/da = grad - softmax(a) * sum(grad)."""

    def forward(self, a, axis):
        self.axis = axis
        shifted = a - max_shift(a, axis)
        total = np.exp(shifted).sum(axis=axis, keepdims=True)
        out = shifted - (np.log(total) if a.size else total)  # empty: nothing to normalise
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad - np.exp(out) * grad.sum(axis=self.axis, keepdims=True)


@register(method="log_softmax")
def log_softmax(a: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """a - logsumexp(a) along ``axis``, computed stably."""
    axis = axes(one_axis(axis, dim, "log_softmax"), None, a.shape, "log_softmax")
    return LogSoftmax.apply(a, axis=axis)
