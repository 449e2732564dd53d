"""Trigonometric and hyperbolic functions and their inverses (tanh lives with the activations).

Each backward is written with numpy ufuncs that are themselves declared here (sin's derivative
calls np.cos), so second derivatives record a graph. PyTorch spellings (``asin``, ``atan2`` ...)
are aliases of the numpy names.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from .registry import binary, unary


class Sin(Function):
    """out = sin(a);  d/da = cos(a)."""

    derivative = ("cos({0})",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.sin(a)

    def backward(self, grad, a):
        return grad * np.cos(a)


sin = unary(Sin, method="sin", ufunc=np.sin)


class Cos(Function):
    """out = cos(a);  d/da = -sin(a)."""

    derivative = ("-sin({0})",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.cos(a)

    def backward(self, grad, a):
        return -grad * np.sin(a)


cos = unary(Cos, method="cos", ufunc=np.cos)


class Tan(Function):
    """out = tan(a);  d/da = 1 + out**2."""

    derivative = ("1 + {out}^2",)

    def forward(self, a):
        out = np.tan(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad, out):
        return grad * (1 + out * out)


tan = unary(Tan, method="tan", ufunc=np.tan)


class Arcsin(Function):
    """out = arcsin(a) for |a| <= 1;  d/da = 1 / sqrt(1 - a**2)."""

    derivative = ("1/sqrt(1 - {0}^2)",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.arcsin(a)

    def backward(self, grad, a):
        return grad / np.sqrt(1 - a * a)


arcsin = unary(Arcsin, method=("arcsin", "asin"), ufunc=np.arcsin, alias="asin")


class Arccos(Function):
    """out = arccos(a) for |a| <= 1;  d/da = -1 / sqrt(1 - a**2)."""

    derivative = ("-1/sqrt(1 - {0}^2)",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.arccos(a)

    def backward(self, grad, a):
        return -grad / np.sqrt(1 - a * a)


arccos = unary(Arccos, method=("arccos", "acos"), ufunc=np.arccos, alias="acos")


class Arctan(Function):
    """out = arctan(a);  d/da = 1 / (1 + a**2)."""

    derivative = ("1/(1 + {0}^2)",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.arctan(a)

    def backward(self, grad, a):
        return grad / (1 + a * a)


arctan = unary(Arctan, method=("arctan", "atan"), ufunc=np.arctan, alias="atan")


class Arctan2(Function):
    """out = the angle of the point (b, a), arctan2(a, b);
    d/da = b / (a**2 + b**2), d/db = -a / (a**2 + b**2)."""

    derivative = ("{1}/({0}^2 + {1}^2)", "-{0}/({0}^2 + {1}^2)")

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return np.arctan2(a, b)

    def backward(self, grad, a, b):
        scale = grad / (a * a + b * b)
        return scale * b, -scale * a


arctan2 = binary(Arctan2, method=("arctan2", "atan2"), ufunc=np.arctan2, alias="atan2")


class Sinh(Function):
    """out = sinh(a);  d/da = cosh(a)."""

    derivative = ("cosh({0})",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.sinh(a)

    def backward(self, grad, a):
        return grad * np.cosh(a)


sinh = unary(Sinh, method="sinh", ufunc=np.sinh)


class Cosh(Function):
    """out = cosh(a);  d/da = sinh(a)."""

    derivative = ("sinh({0})",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.cosh(a)

    def backward(self, grad, a):
        return grad * np.sinh(a)


cosh = unary(Cosh, method="cosh", ufunc=np.cosh)


class Arcsinh(Function):
    """out = arcsinh(a);  d/da = 1 / sqrt(a**2 + 1)."""

    derivative = ("1/sqrt({0}^2 + 1)",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.arcsinh(a)

    def backward(self, grad, a):
        return grad / np.sqrt(a * a + 1)


arcsinh = unary(Arcsinh, method=("arcsinh", "asinh"), ufunc=np.arcsinh, alias="asinh")


class Arccosh(Function):
    """out = arccosh(a) for a >= 1;  d/da = 1 / sqrt(a**2 - 1)."""

    derivative = ("1/sqrt({0}^2 - 1)",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.arccosh(a)

    def backward(self, grad, a):
        return grad / np.sqrt(a * a - 1)


arccosh = unary(Arccosh, method=("arccosh", "acosh"), ufunc=np.arccosh, alias="acosh")


class Arctanh(Function):
    """out = arctanh(a) for |a| < 1;  d/da = 1 / (1 - a**2)."""

    derivative = ("1/(1 - {0}^2)",)

    def forward(self, a):
        self.save_for_backward(a)
        return np.arctanh(a)

    def backward(self, grad, a):
        return grad / (1 - a * a)


arctanh = unary(Arctanh, method=("arctanh", "atanh"), ufunc=np.arctanh, alias="atanh")
