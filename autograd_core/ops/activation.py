"""Activations and the normalisers built on exp: each one numerically stable.

Every derivative is written in terms of the output where possible (tanh' = 1 - out**2), which is
cheaper and, via the engine's tensor mode, still differentiable a second time.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import formulas, kernels, random
from ..function import Function
from ..tensor import Tensor
from .operands import axes, one_axis, operand
from .reduce import max_shift
from .registry import register, unary
from .special import erf_of


class Tanh(Function):
    """out = tanh(a);  d/da = 1 - out**2."""

    derivative = ("1 - {out}^2",)
    scalar_forward = "np.tanh({0})"  # one element, for the fused loops of ag.jit (fusion.py)
    scalar_backward = ("{grad} * tanh_grad({out})",)
    scalar_libm = True

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
    scalar_forward = "sigmoid({0})"
    scalar_backward = ("{grad} * sigmoid_grad({out})",)
    scalar_libm = True

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
    scalar_forward = "larger({0}, T(0))"
    scalar_backward = ("{grad} * T(relu_grad({out}))",)

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
def softmax(a: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """e**a / sum(e**a) along ``axis`` (shifted by the max, so large inputs do not overflow)."""
    axis = one_axis(axis, dim, "softmax", default=-1)
    return Softmax.apply(a, axis=axes(axis, None, a.shape, "softmax"))


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
def log_softmax(a: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """a - logsumexp(a) along ``axis``, computed stably."""
    axis = axes(one_axis(axis, dim, "log_softmax", default=-1), None, a.shape, "log_softmax")
    return LogSoftmax.apply(a, axis=axis)


def softmin(a: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """softmax(-a) along ``axis``: weights that favour the smallest entries."""
    return softmax(-a, axis, dim=dim)


register(softmin, method="softmin")


class Elu(Function):
    """out = scale * (a if a > 0 else alpha (e**(a * input_scale) - 1)), the ELU family;
    d/da = scale where a > 0, else input_scale (out + scale alpha).

    elu is (alpha, 1, 1), selu (1.6733, 1.0507, 1), celu (alpha, 1, 1/alpha) scaled by alpha.
    """

    def forward(self, a, alpha, scale, input_scale):
        self.constants = alpha, scale, input_scale
        positive = a > 0
        negative_part = alpha * np.expm1(np.minimum(a, 0) * input_scale)
        out = (scale * np.where(positive, a, negative_part)).astype(a.dtype, copy=False)
        self.save_for_backward(positive, out)
        return out

    def backward(self, grad, positive, out):
        alpha, scale, input_scale = self.constants
        return grad * np.where(positive, scale, input_scale * (out + scale * alpha))


@register(method="elu")
def elu(a: Any, alpha: float = 1.0) -> Tensor:
    """a where a > 0, else alpha (e**a - 1): smooth for alpha = 1, mean activation near 0."""
    return Elu.apply(operand(a, None, "elu"), alpha=alpha, scale=1.0, input_scale=1.0)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@register(method="selu")
def selu(a: Any) -> Tensor:
    """1.0507 * elu(a, 1.6733): the self-normalising constants of Klambauer et al. (2017)."""
    return Elu.apply(operand(a, None, "selu"), alpha=SELU_ALPHA, scale=SELU_SCALE,
                     input_scale=1.0)


@register(method="celu")
def celu(a: Any, alpha: float = 1.0) -> Tensor:
    """max(0, a) + min(0, alpha (e**(a / alpha) - 1)): ELU continuously differentiable in alpha."""
    if alpha == 0:
        raise ValueError("celu: alpha must be non-zero")
    return Elu.apply(operand(a, None, "celu"), alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
GELU_CUBIC = 0.044715


class Gelu(Function):
    """out = a Phi(a), Phi the standard normal CDF = (1 + erf(a / sqrt 2)) / 2;
    d/da = Phi(a) + a phi(a), phi the standard normal density."""

    def forward(self, a):
        self.save_for_backward(a)
        return a * (0.5 * (1 + kernels.erf(a * SQRT_HALF)))

    def backward(self, grad, a):
        cdf = 0.5 * (1 + erf_of(a * SQRT_HALF))
        density = np.exp(-0.5 * (a * a)) * INV_SQRT_2PI
        return grad * (cdf + a * density)


class GeluTanh(Function):
    """out = a (1 + tanh(u)) / 2 with u = sqrt(2/pi) (a + 0.044715 a**3), GELU's tanh
    approximation;  d/da = (1 + t) / 2 + a (1 - t**2) sqrt(2/pi) (1 + 3 * 0.044715 a**2) / 2."""

    name = "gelu_tanh"

    def forward(self, a):
        self.save_for_backward(a)
        return 0.5 * a * (1 + np.tanh(SQRT_2_OVER_PI * (a + GELU_CUBIC * a * a * a)))

    def backward(self, grad, a):
        t = np.tanh(SQRT_2_OVER_PI * (a + GELU_CUBIC * a * a * a))
        slope = SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * a * a)
        return grad * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * slope)


@register(method="gelu")
def gelu(a: Any, approximate: str = "none") -> Tensor:
    """a Phi(a) (Hendrycks & Gimpel, 2016); ``approximate="tanh"`` uses the tanh formula, as
    ``torch.nn.functional.gelu``."""
    a = operand(a, None, "gelu")
    if approximate == "none":
        return Gelu.apply(a)
    if approximate == "tanh":
        return GeluTanh.apply(a)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


class Silu(Function):
    """out = a sigmoid(a) (swish);  d/da = s (1 + a (1 - s)), s = sigmoid(a)."""

    derivative = ("sigmoid({0})*(1 + {0}*(1 - sigmoid({0})))",)

    def forward(self, a):
        self.save_for_backward(a)
        return a * formulas.sigmoid_array(a)

    def backward(self, grad, a):
        s = sigmoid_of(a)
        return grad * s * (1 + a * (1 - s))


silu = unary(Silu, method="silu")


class Mish(Function):
    """out = a tanh(softplus(a));  d/da = t + a (1 - t**2) sigmoid(a), t = tanh(softplus(a))."""

    derivative = ("t + {0}*(1 - t^2)*sigmoid({0}), t = tanh(softplus({0}))",)

    def forward(self, a):
        self.save_for_backward(a)
        return a * np.tanh(np.logaddexp(0, a))

    def backward(self, grad, a):
        t = np.tanh(np.logaddexp(0, a))
        return grad * (t + a * (1 - t * t) * sigmoid_of(a))


mish = unary(Mish, method="mish")


class Softsign(Function):
    """out = a / (1 + |a|);  d/da = 1 / (1 + |a|)**2."""

    derivative = ("1/(1 + |{0}|)^2",)

    def forward(self, a):
        self.save_for_backward(a)
        return a / (1 + np.abs(a))

    def backward(self, grad, a):
        denominator = 1 + np.abs(a)
        return grad / (denominator * denominator)


softsign = unary(Softsign, method="softsign")


class Hardtanh(Function):
    """out = clip(a, low, high) * slope + shift;  d/da = slope strictly inside (low, high), else 0
    (PyTorch's convention at the corners)."""

    def forward(self, a, low, high, slope, shift):
        inside = (a > low) & (a < high)
        self.save_for_backward(inside.astype(a.dtype) * slope)
        return (np.clip(a, low, high) * slope + shift).astype(a.dtype, copy=False)

    def backward(self, grad, slope):
        return grad * slope


@register(method="hardtanh")
def hardtanh(a: Any, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """a clipped to [min_val, max_val]; the gradient is 1 strictly inside, 0 outside."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} is greater than max_val {max_val}")
    return Hardtanh.apply(operand(a, None, "hardtanh"), low=min_val, high=max_val, slope=1.0,
                          shift=0.0)


@register(method="relu6")
def relu6(a: Any) -> Tensor:
    """min(max(a, 0), 6)."""
    return Hardtanh.apply(operand(a, None, "relu6"), low=0.0, high=6.0, slope=1.0, shift=0.0)


@register(method="hardsigmoid")
def hardsigmoid(a: Any) -> Tensor:
    """relu6(a + 3) / 6: a piecewise-linear sigmoid, 0 below -3 and 1 above 3."""
    return Hardtanh.apply(operand(a, None, "hardsigmoid"), low=-3.0, high=3.0, slope=1 / 6,
                          shift=0.5)


class Hardswish(Function):
    """out = a relu6(a + 3) / 6;  d/da = 0 up to -3, (2a + 3) / 6 between, 1 from 3 on
    (PyTorch's values at -3 and 3)."""

    def forward(self, a):
        self.save_for_backward(a, a <= -3, a >= 3)
        return a * np.clip(a + 3, 0, 6) / 6

    def backward(self, grad, a, below, above):
        middle = grad * (a / 3 + 0.5)
        return np.where(below, 0.0, np.where(above, grad, middle))


hardswish = unary(Hardswish, method="hardswish")


def sigmoid_of(a):
    """sigmoid of an array, or the differentiable op on a Tensor (create_graph backward)."""
    return sigmoid(a) if isinstance(a, Tensor) else formulas.sigmoid_array(a)


class Dropout(Function):
    """out = a * mask, mask = (u >= p) / (1 - p) with u uniform in [0, 1);  d/da = mask.

    The mask is drawn inside forward, so a replayed step (``ag.jit``) draws a fresh one each time.
    """

    draws_random = True

    def forward(self, a, p):
        keep = random.get_generator().random(a.shape, dtype=np.float32) >= p
        mask = keep.astype(a.dtype) * np.asarray(1 / (1 - p), dtype=a.dtype)
        self.save_for_backward(mask)
        return a * mask

    def backward(self, grad, mask):
        return grad * mask


@register(method="dropout")
def dropout(a: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each entry with probability ``p``, scale the rest by 1 / (1 - p).

    The identity when not ``training`` or ``p == 0``; zeros when ``p == 1``. The mask comes from
    ``ag.random.get_generator()`` (seeded by ``ag.manual_seed``).

    >>> ag.dropout(ag.ones(4), 0.5)       # e.g. tensor([2., 0., 2., 2.])
    """
    a = operand(a, None, "dropout")
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p!r}")
    if not training or p == 0:
        return a
    if p == 1:
        return a * 0.0
    return Dropout.apply(a, p=float(p))
