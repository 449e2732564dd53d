"""Elementwise tests and logic: isnan, isinf, isfinite, signbit and the logical ufuncs. Their
results are bool tensors outside the graph (like the comparisons), so numpy code that masks with
them (``np.where(np.isnan(x), 0, x)``) keeps working on Tensors and under create_graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .elementwise import _comparison
from .operands import operand
from .registry import register


def _predicate(ufunc: np.ufunc) -> Any:
    """``ufunc`` on one operand's array: a boolean Tensor, outside the graph."""

    def test(a: Any) -> Tensor:
        return Tensor._wrap(ufunc(operand(a, None, ufunc.__name__).data))

    test.__name__ = ufunc.__name__
    test.__doc__ = f"np.{ufunc.__name__} of each element: a bool tensor without gradient."
    return test


isnan = register(_predicate(np.isnan), method="isnan", ufunc=np.isnan)
isinf = register(_predicate(np.isinf), method="isinf", ufunc=np.isinf)
isfinite = register(_predicate(np.isfinite), method="isfinite", ufunc=np.isfinite)
signbit = register(_predicate(np.signbit), method="signbit", ufunc=np.signbit)
logical_not = register(_predicate(np.logical_not), method="logical_not", ufunc=np.logical_not)
logical_and = register(_comparison(np.logical_and), method="logical_and", ufunc=np.logical_and)
logical_or = register(_comparison(np.logical_or), method="logical_or", ufunc=np.logical_or)
logical_xor = register(_comparison(np.logical_xor), method="logical_xor", ufunc=np.logical_xor)
