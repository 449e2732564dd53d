"""The error function, erf(a) = 2/sqrt(pi) * integral from 0 to a of e**(-t**2) dt.

numpy has no erf; ``math.erf`` (correctly rounded to float64 by the C library) is applied
element by element, so the values match the standard library exactly.
"""

from __future__ import annotations

import math

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .registry import unary

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_erf_elementwise = np.frompyfunc(math.erf, 1, 1)


def erf_array(a: np.ndarray) -> np.ndarray:
    """erf of every element of a float array, in the array's dtype."""
    return np.asarray(_erf_elementwise(a), dtype=a.dtype)


class Erf(Function):
    """out = erf(a);  d/da = 2/sqrt(pi) e**(-a**2)."""

    derivative = ("2/sqrt(pi)*exp(-{0}^2)",)

    def forward(self, a):
        if a.dtype.kind != "f":
            a = a.astype(np.float64)
        self.save_for_backward(a)
        return erf_array(a)

    def backward(self, grad, a):
        return grad * TWO_OVER_SQRT_PI * np.exp(-(a * a))


erf = unary(Erf, method="erf")


def erf_of(a):
    """erf of an array, or the differentiable op on a Tensor (a backward in create_graph mode)."""
    return erf(a) if isinstance(a, Tensor) else erf_array(a)
