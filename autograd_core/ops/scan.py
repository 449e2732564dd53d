"""Running (prefix) sums and products along one axis.

The backward of a prefix sum is a suffix sum of the gradient; both are written with numpy calls
(``np.cumsum``, reversal by slicing, ``np.swapaxes``) that dispatch back to these ops on Tensors,
so second derivatives are recorded too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .operands import axes, operand
from .registry import register


def reverse_cumsum(x, axis: int):
    """Suffix sums of ``x`` along ``axis``: out[i] = sum of x[j] for j >= i."""
    flipped = np.swapaxes(x, axis, -1)[..., ::-1]
    return np.swapaxes(np.cumsum(flipped, axis=-1)[..., ::-1], axis, -1)


class CumSum(Function):
    """out[i] = a[0] + ... + a[i] along ``axis``;  d/da[i] = the sum of grad[j] for j >= i."""

    name = "cumsum"

    def forward(self, a, axis):
        self.axis, self.shape = axis, a.shape
        return np.cumsum(a, axis=axis)

    def backward(self, grad):
        return reverse_cumsum(grad, self.axis)


class CumProd(Function):
    """out[i] = a[0] * ... * a[i] along ``axis``;
    d/da[i] = sum over j >= i of grad[j] * (product of a[k], k <= j, k != i).

    Without zeros that is suffix_sum(grad * out) / a. With a zero along the axis the division is
    0/0, so the exact recurrence r[i] = grad[i] + a[i+1] r[i+1], d/da[i] = prefix[i] r[i] runs
    instead (prefix[i] the product of a[k], k < i), one numpy step per element of the axis.
    """

    name = "cumprod"

    def forward(self, a, axis):
        self.axis = axis
        out = np.cumprod(a, axis=axis)
        self.save_for_backward(a, out)
        return out

    def backward(self, grad, a, out):
        if not np.any(a == 0):
            return reverse_cumsum(grad * out, self.axis) / a
        a_last, grad_last = np.swapaxes(a, self.axis, -1), np.swapaxes(grad, self.axis, -1)
        n = a_last.shape[-1]
        suffix = [grad_last[..., n - 1]]
        for i in range(n - 2, -1, -1):
            suffix.append(grad_last[..., i] + a_last[..., i + 1] * suffix[-1])
        suffix.reverse()
        prefix, columns = 1.0, []
        for i in range(n):
            columns.append(suffix[i] * prefix)
            prefix = prefix * a_last[..., i]
        return np.swapaxes(np.stack(columns, axis=-1), self.axis, -1)


def _scan(function_class: type, a: Any, axis: int | None, dim: int | None) -> Tensor:
    a = operand(a, None, function_class.name)
    axis = dim if dim is not None else axis
    if axis is None:  # numpy: over the flattened tensor
        a, axis = a.reshape(-1), 0
    elif not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{function_class.name}: axis must be one int or None, got {axis!r}")
    (axis,) = axes(axis, None, a.shape if a.ndim else (1,), function_class.name)
    if a.ndim == 0:
        a = a.reshape(1)
    return function_class.apply(a, axis=axis)


@register(method="cumsum", numpy=np.cumsum)
def cumsum(a: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Running sums along ``axis`` (``dim``); over the flattened tensor when neither is given.

    >>> ag.cumsum(ag.tensor([1.0, 2.0, 3.0]))       # tensor([1., 3., 6.])
    """
    return _scan(CumSum, a, axis, dim)


@register(method="cumprod", numpy=np.cumprod)
def cumprod(a: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Running products along ``axis`` (``dim``); over the flattened tensor when neither is
    given. The gradient is exact where the tensor holds zeros.

    >>> ag.cumprod(ag.tensor([1.0, 2.0, 3.0]))      # tensor([1., 2., 6.])
    """
    return _scan(CumProd, a, axis, dim)
