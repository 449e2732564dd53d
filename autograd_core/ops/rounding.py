"""Piecewise-constant elementwise ops: sign and rounding. Their derivative is 0 wherever it
exists, and, as in PyTorch, the gradient they pass back is zeros (not None), so a leaf reached
only through them gets ``grad`` = zeros.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .operands import operand
from .registry import register, unary


def zero_gradient(grad):
    """Zeros shaped like ``grad``: an array, or a constant Tensor when the backward is recorded."""
    zeros = np.zeros(grad.shape, dtype=grad.dtype)
    return Tensor._wrap(zeros) if isinstance(grad, Tensor) else zeros


class PiecewiseConstant(Function):
    """Base of the ops whose derivative is 0 wherever it exists; subclasses give ``forward``."""

    derivative = ("0",)

    def backward(self, grad):
        return zero_gradient(grad)


class Sign(PiecewiseConstant):
    """out = -1, 0 or 1 as a is negative, zero or positive;  d/da = 0."""

    def forward(self, a):
        return np.sign(a)


sign = unary(Sign, method="sign", ufunc=np.sign)


class Floor(PiecewiseConstant):
    """out = the largest integer <= a;  d/da = 0."""

    def forward(self, a):
        return np.floor(a)


floor = unary(Floor, method=("floor", "__floor__"), ufunc=np.floor)


class Ceil(PiecewiseConstant):
    """out = the smallest integer >= a;  d/da = 0."""

    def forward(self, a):
        return np.ceil(a)


ceil = unary(Ceil, method=("ceil", "__ceil__"), ufunc=np.ceil)


class Trunc(PiecewiseConstant):
    """out = a rounded towards zero;  d/da = 0."""

    def forward(self, a):
        return np.trunc(a)


trunc = unary(Trunc, method=("trunc", "__trunc__"), ufunc=np.trunc, numpy=np.fix)


class Round(PiecewiseConstant):
    """out = a rounded to ``decimals`` places, halves to even (numpy's and PyTorch's rule);
    d/da = 0."""

    derivative = None  # it takes a parameter, so the pictures cannot rerun it

    def forward(self, a, decimals):
        return np.round(a, decimals)


@register(method=("round", "__round__"), numpy=(np.round, np.around), ufunc=np.rint)
def round(a: Any, decimals: int = 0) -> Tensor:
    """a rounded to ``decimals`` places, halves to even (2.5 -> 2); the gradient is zero."""
    return Round.apply(operand(a, None, "round"), decimals=decimals)
