"""Elementwise arithmetic and comparisons: each op's forward and its local derivative, side by
side, and the line that makes it public.

Backward formulas return gradients shaped like the output; the engine undoes broadcasting.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from ..function import Function
from ..tensor import Tensor
from .operands import operand, operand_pair
from .registry import binary, register, unary


class Add(Function):
    """out = a + b;  d/da = 1, d/db = 1."""

    symbol = "+"
    derivative = ("1", "1")
    scalar_forward = "{0} + {1}"  # one element, for the fused loops of ag.jit (fusion.py)
    scalar_backward = ("{grad}", "{grad}")

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


add = binary(Add, method="__add__", reflected="__radd__", ufunc=np.add)


class Sub(Function):
    """out = a - b;  d/da = 1, d/db = -1."""

    symbol = "-"
    derivative = ("1", "-1")
    scalar_forward = "{0} - {1}"
    scalar_backward = ("{grad}", "-{grad}")

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, -grad


subtract = binary(Sub, name="subtract", method="__sub__", reflected="__rsub__",
                  ufunc=np.subtract)


class Mul(Function):
    """out = a * b;  d/da = b, d/db = a."""

    symbol = "*"
    derivative = ("{1}", "{0}")
    scalar_forward = "{0} * {1}"
    scalar_backward = ("{grad} * {1}", "{grad} * {0}")

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad, a, b):
        return grad * b, grad * a


multiply = binary(Mul, name="multiply", method="__mul__", reflected="__rmul__",
                  ufunc=np.multiply)


class Div(Function):
    """out = a / b;  d/da = 1 / b, d/db = -a / b**2."""

    symbol = "/"
    derivative = ("1/{1}", "-{0}/{1}^2")
    scalar_forward = "{0} / {1}"
    scalar_backward = ("{grad} / {1}", "-({grad} / {1}) * {0} / {1}")

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, grad, a, b):
        grad_a = grad / b
        return grad_a, -grad_a * a / b


divide = binary(Div, name="divide", method="__truediv__", reflected="__rtruediv__",
                ufunc=np.true_divide)


class Pow(Function):
    """out = a ** b;  d/da = b * a**(b-1) (0 where b = 0, even at a = 0),
    d/db = out * log(a) (taken as 0 where a <= 0)."""

    symbol = "**"
    derivative = ("{1}*{0}^({1} - 1)", "{out}*log({0})")

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


power = binary(Pow, name="power", method="__pow__", reflected="__rpow__", ufunc=np.power)


class Neg(Function):
    """out = -a;  d/da = -1."""

    symbol = "-"
    derivative = ("-1",)
    scalar_forward = "-{0}"
    scalar_backward = ("-{grad}",)

    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


negative = unary(Neg, name="negative", method="__neg__", ufunc=np.negative)


class Abs(Function):
    """out = |a|;  d/da = sign(a) (0 at a = 0, as in PyTorch)."""

    derivative = ("sign({0})",)

    def forward(self, a):
        self.save_for_backward(np.sign(a))
        return np.abs(a)

    def backward(self, grad, sign):
        return grad * sign


abs = unary(Abs, method=("abs", "__abs__"), ufunc=(np.absolute, np.fabs))


class Exp(Function):
    """out = e**a;  d/da = out."""

    derivative = ("{out}",)
    scalar_forward = "np.exp({0})"
    scalar_backward = ("{grad} * {out}",)
    scalar_libm = True

    def forward(self, a):
        out = np.exp(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad * out


exp = unary(Exp, method="exp", ufunc=np.exp)


class Log(Function):
    """out = ln(a);  d/da = 1 / a."""

    derivative = ("1/{0}",)
    scalar_forward = "np.log({0})"
    scalar_backward = ("{grad} / {0}",)
    scalar_libm = True

    def forward(self, a):
        self.save_for_backward(a)
        return np.log(a)

    def backward(self, grad, a):
        return grad / a


log = unary(Log, method="log", ufunc=np.log)


class Log1p(Function):
    """out = ln(1 + a), exact for tiny a;  d/da = 1 / (1 + a)."""

    derivative = ("1/(1 + {0})",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.log1p(a)

    def backward(self, grad, a):
        return grad / (1 + a)


log1p = unary(Log1p, method="log1p", ufunc=np.log1p)


class Sqrt(Function):
    """out = sqrt(a);  d/da = 1 / (2 out)."""

    derivative = ("1/(2*{out})",)

    def forward(self, a):
        out = np.sqrt(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad / (2 * out)


sqrt = unary(Sqrt, method="sqrt", ufunc=np.sqrt)


def _share_of_first(first_wins, a, b):
    """1 where ``a`` wins, 0 where ``b`` wins, 0.5 on ties, in the dtype of the result."""
    dtype = np.result_type(a, b)
    return first_wins.astype(dtype) + np.asarray(0.5, dtype) * (a == b)


class Maximum(Function):
    """out = max(a, b) elementwise; the gradient goes to the larger, split evenly on ties."""

    scalar_forward = "larger({0}, {1})"
    scalar_backward = ("{grad} * (T({0} > {1}) + T(0.5) * T({0} == {1}))",
                       "{grad} * (T(1) - (T({0} > {1}) + T(0.5) * T({0} == {1})))")

    def forward(self, a, b):
        self.save_for_backward(_share_of_first(a > b, a, b))
        return np.maximum(a, b)

    def backward(self, grad, share_a):
        return grad * share_a, grad * (1 - share_a)


maximum = binary(Maximum, ufunc=np.maximum)


class Minimum(Function):
    """out = min(a, b) elementwise; the gradient goes to the smaller, split evenly on ties."""

    scalar_forward = "smaller({0}, {1})"
    scalar_backward = ("{grad} * (T({0} < {1}) + T(0.5) * T({0} == {1}))",
                       "{grad} * (T(1) - (T({0} < {1}) + T(0.5) * T({0} == {1})))")

    def forward(self, a, b):
        self.save_for_backward(_share_of_first(a < b, a, b))
        return np.minimum(a, b)

    def backward(self, grad, share_a):
        return grad * share_a, grad * (1 - share_a)


minimum = binary(Minimum, ufunc=np.minimum)


class Where(Function):
    """out = a where condition else b;  d/da = condition, d/db = not condition."""

    def forward(self, a, b, condition):
        self.save_for_backward(condition)
        return np.where(condition, a, b)

    def backward(self, grad, condition):
        zero = np.zeros((), dtype=grad.dtype)
        return np.where(condition, grad, zero), np.where(condition, zero, grad)


@register(numpy=np.where)
def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where ``condition`` is true, else b (the condition carries no gradient)."""
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition,
                           dtype=bool)
    return Where.apply(*operand_pair(a, b, "where"), condition=condition)


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


@register(method="clip", numpy=np.clip)
def clip(a: Any, min: Any = None, max: Any = None) -> Tensor:
    """Limit a to [min, max]; the gradient passes where a is inside (bounds included)."""
    if min is None and max is None:
        raise TypeError("clip: give min, max or both")
    return Clip.apply(operand(a, None, "clip"), low=min, high=max)


class Cast(Function):
    """out = a converted to ``dtype``; the engine casts the gradient back to a's dtype."""

    def forward(self, a, dtype):
        return a.astype(dtype)

    def backward(self, grad):
        return grad


@register(method="astype")
def astype(a: Tensor, dtype) -> Tensor:
    """a converted to ``dtype``; the gradient is converted back."""
    return Cast.apply(a, dtype=np.dtype(dtype))


def _comparison(ufunc: np.ufunc) -> Any:
    """``ufunc`` on the operands' arrays: a boolean Tensor, outside the graph."""

    def compare(a: Any, b: Any) -> Tensor:
        a, b = operand_pair(a, b, ufunc.__name__)
        try:
            return Tensor._wrap(ufunc(a.data, b.data))
        except ValueError as err:
            raise ShapeError(f"{ufunc.__name__}: {err} (inputs: {a.shape} {a.dtype}, "
                             f"{b.shape} {b.dtype})") from err

    compare.__name__ = ufunc.__name__
    return compare


equal = register(_comparison(np.equal), method="__eq__", ufunc=np.equal)
not_equal = register(_comparison(np.not_equal), method="__ne__", ufunc=np.not_equal)
less = register(_comparison(np.less), method="__lt__", ufunc=np.less)
less_equal = register(_comparison(np.less_equal), method="__le__", ufunc=np.less_equal)
greater = register(_comparison(np.greater), method="__gt__", ufunc=np.greater)
greater_equal = register(_comparison(np.greater_equal), method="__ge__", ufunc=np.greater_equal)
