"""Elementwise arithmetic beyond the basic operators: powers and roots, exponentials and
logarithms in other bases, and the numerically careful compounds (hypot, logaddexp, lerp).

Constants such as ln 2 are Python floats, so float32 inputs stay float32.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .operands import operand_list
from .registry import binary, register, unary

LN2 = math.log(2.0)
LN10 = math.log(10.0)


class Square(Function):
    """out = a**2;  d/da = 2 a."""

    derivative = ("2*{0}",)
    scalar_forward = "{0} * {0}"  # one element, for the fused loops of ag.jit (fusion.py)
    scalar_backward = ("{grad} * T(2) * {0}",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.square(a)

    def backward(self, grad, a):
        return grad * 2 * a


square = unary(Square, method="square", ufunc=np.square)


class Reciprocal(Function):
    """out = 1 / a;  d/da = -out**2."""

    derivative = ("-{out}^2",)

    def forward(self, a):
        out = np.reciprocal(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return -grad * out * out


reciprocal = unary(Reciprocal, method="reciprocal", ufunc=np.reciprocal)


class Rsqrt(Function):
    """out = 1 / sqrt(a);  d/da = -out**3 / 2."""

    derivative = ("-{out}^3/2",)

    def forward(self, a):
        out = 1 / np.sqrt(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad * -0.5 * out * out * out


rsqrt = unary(Rsqrt, method="rsqrt")


class Expm1(Function):
    """out = e**a - 1, exact for tiny a;  d/da = out + 1."""

    derivative = ("{out} + 1",)

    def forward(self, a):
        out = np.expm1(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad * (out + 1)


expm1 = unary(Expm1, method="expm1", ufunc=np.expm1)


class Exp2(Function):
    """out = 2**a;  d/da = out ln 2."""

    derivative = ("{out}*ln(2)",)

    def forward(self, a):
        out = np.exp2(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad * out * LN2


exp2 = unary(Exp2, method="exp2", ufunc=np.exp2)


class Log2(Function):
    """out = log2(a);  d/da = 1 / (a ln 2)."""

    derivative = ("1/({0}*ln(2))",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.log2(a)

    def backward(self, grad, a):
        return grad / (a * LN2)


log2 = unary(Log2, method="log2", ufunc=np.log2)


class Log10(Function):
    """out = log10(a);  d/da = 1 / (a ln 10)."""

    derivative = ("1/({0}*ln(10))",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.log10(a)

    def backward(self, grad, a):
        return grad / (a * LN10)


log10 = unary(Log10, method="log10", ufunc=np.log10)


class Hypot(Function):
    """out = sqrt(a**2 + b**2) without overflow;  d/da = a / out, d/db = b / out."""

    derivative = ("{0}/{out}", "{1}/{out}")

    def forward(self, a, b):
        out = np.hypot(a, b)
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad, a, b, out):
        scale = grad / out
        return scale * a, scale * b


hypot = binary(Hypot, method="hypot", ufunc=np.hypot)


class LogAddExp(Function):
    """out = ln(e**a + e**b) without overflow;  d/da = e**(a - out), d/db = e**(b - out)."""

    name = "logaddexp"
    derivative = ("exp({0} - {out})", "exp({1} - {out})")

    def forward(self, a, b):
        out = np.logaddexp(a, b)
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad, a, b, out):
        return grad * np.exp(a - out), grad * np.exp(b - out)


logaddexp = binary(LogAddExp, method="logaddexp", ufunc=np.logaddexp)


class Lerp(Function):
    """out = start + weight (end - start);
    d/dstart = 1 - weight, d/dend = weight, d/dweight = end - start."""

    derivative = ("1 - {2}", "{2}", "{1} - {0}")

    def forward(self, start, end, weight):
        self.save_for_backward(start, end, weight)
        return start + weight * (end - start)

    def backward(self, grad, start, end, weight):
        return grad * (1 - weight), grad * weight, grad * (end - start)


@register(method="lerp")
def lerp(start: Any, end: Any, weight: Any) -> Tensor:
    """start + weight * (end - start), as ``torch.lerp``; ``weight`` is a number or a tensor
    (broadcast against the others) and receives a gradient too when it requires one.

    >>> ag.lerp(ag.tensor([0.0, 10.0]), ag.tensor([1.0, 20.0]), 0.25)   # tensor([0.25, 12.5])
    """
    return Lerp.apply(*operand_list([start, end, weight], "lerp"))


class Cbrt(Function):
    """out = the real cube root of a;  d/da = 1 / (3 out**2)."""

    derivative = ("1/(3*{out}^2)",)

    def forward(self, a):
        out = np.cbrt(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad / (3 * out * out)


cbrt = unary(Cbrt, method="cbrt", ufunc=np.cbrt)
