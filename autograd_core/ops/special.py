"""The error function, erf(a) = 2/sqrt(pi) * integral from 0 to a of e**(-t**2) dt.

numpy has no erf; the kernel ``kernels.erf`` applies the C library's erf (``math.erf``) to each
element, so the values match the standard library exactly.
"""

from __future__ import annotations

import math

import numpy as np

from .. import kernels
from ..function import Function
from ..tensor import Tensor
from .registry import unary

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Erf(Function):
    """out = erf(a);  d/da = 2/sqrt(pi) e**(-a**2)."""

    derivative = ("2/sqrt(pi)*exp(-{0}^2)",)

    def forward(self, a):
        if a.dtype.kind != "f":
            a = a.astype(np.float64)
        self.save_for_backward(a)
        return kernels.erf(a)

    def backward(self, grad, a):
        return grad * TWO_OVER_SQRT_PI * np.exp(-(a * a))


erf = unary(Erf, method="erf")


def erf_of(a):
    """erf of an array, or the differentiable op on a Tensor (a backward in create_graph mode)."""
    return erf(a) if isinstance(a, Tensor) else kernels.erf(a)
