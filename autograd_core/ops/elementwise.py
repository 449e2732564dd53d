"""Elementwise arithmetic: each op's forward and its local derivative, side by side.

Backward formulas return gradients shaped like the output; the engine undoes broadcasting.
"""

from __future__ import annotations

import numpy as np

from ..function import Function


class Add(Function):
    """out = a + b;  d/da = 1, d/db = 1."""

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    """out = a - b;  d/da = 1, d/db = -1."""

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, -grad


class Mul(Function):
    """out = a * b;  d/da = b, d/db = a."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad, a, b):
        return grad * b, grad * a


class Div(Function):
    """out = a / b;  d/da = 1 / b, d/db = -a / b**2."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, grad, a, b):
        grad_a = grad / b
        return grad_a, -grad_a * a / b


class Pow(Function):
    """out = a ** b;  d/da = b * a**(b-1) (0 where b = 0, even at a = 0),
    d/db = out * log(a) (taken as 0 where a <= 0)."""

    def forward(self, a, b):
        out = a**b
        # a**0 = 1 has slope 0 (PyTorch's convention), but b * a**(b-1) there is 0 * inf = nan at
        # a = 0: mark those places (only when b holds a zero, so x**2 pays nothing)
        zero_power = (a == 0) & (b == 0) if not np.all(b) else None
        self.save_for_backward(a, b, out, a > 0, zero_power)
        return out

    def backward(self, grad, a, b, out, positive, zero_power):
        exponent = b - 1 if zero_power is None else np.where(zero_power, 1, b - 1)
        grad_a = grad * b * a**exponent
        grad_b = grad * out * np.log(np.where(positive, a, 1)) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    """out = -a;  d/da = -1."""

    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


class Abs(Function):
    """out = |a|;  d/da = sign(a) (0 at a = 0, as in PyTorch)."""

    def forward(self, a):
        self.save_for_backward(np.sign(a))
        return np.abs(a)

    def backward(self, grad, sign):
        return grad * sign


class Exp(Function):
    """out = e**a;  d/da = out."""

    def forward(self, a):
        out = np.exp(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad * out


class Log(Function):
    """out = ln(a);  d/da = 1 / a."""

    def forward(self, a):
        self.save_for_backward(a)
        return np.log(a)

    def backward(self, grad, a):
        return grad / a


class Sqrt(Function):
    """out = sqrt(a);  d/da = 1 / (2 out)."""

    def forward(self, a):
        out = np.sqrt(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad / (2 * out)


def _share_of_first(first_wins, a, b):
    """1 where ``a`` wins, 0 where ``b`` wins, 0.5 on ties, in the dtype of the result."""
    dtype = np.result_type(a, b)
    return first_wins.astype(dtype) + np.asarray(0.5, dtype) * (a == b)


class Maximum(Function):
    """out = max(a, b) elementwise; the gradient goes to the larger, split evenly on ties."""

    def forward(self, a, b):
        self.save_for_backward(_share_of_first(a > b, a, b))
        return np.maximum(a, b)

    def backward(self, grad, share_a):
        return grad * share_a, grad * (1 - share_a)


class Minimum(Function):
    """out = min(a, b) elementwise; the gradient goes to the smaller, split evenly on ties."""

    def forward(self, a, b):
        self.save_for_backward(_share_of_first(a < b, a, b))
        return np.minimum(a, b)

    def backward(self, grad, share_a):
        return grad * share_a, grad * (1 - share_a)


class Where(Function):
    """out = a where condition else b;  d/da = condition, d/db = not condition."""

    def forward(self, a, b, condition):
        self.save_for_backward(condition)
        return np.where(condition, a, b)

    def backward(self, grad, condition):
        zero = np.zeros((), dtype=grad.dtype)
        return np.where(condition, grad, zero), np.where(condition, zero, grad)


class Clip(Function):
    """out = min(max(a, low), high);  d/da = 1 inside [low, high] (bounds included), else 0."""

    def forward(self, a, low, high):
        inside = np.ones(a.shape, dtype=bool)
        if low is not None:
            inside &= a >= low
        if high is not None:
            inside &= a <= high
        self.save_for_backward(inside)
        return np.clip(a, low, high)

    def backward(self, grad, inside):
        return grad * inside


class Cast(Function):
    """out = a converted to ``dtype``; the engine casts the gradient back to a's dtype."""

    def forward(self, a, dtype):
        return a.astype(dtype)

    def backward(self, grad):
        return grad
