"""Sorting: sort (values, with gradient), argsort (indices) and topk (values and indices).

``ag.sort`` follows numpy: it returns the sorted values only (``torch.sort`` returns the pair
(values, indices): use ``ag.argsort`` beside it, or ``ag.topk``). There is no ``Tensor.sort``
method, because numpy's sorts in place and PyTorch's returns a pair. Sorting is stable, so equal
values keep their order (and their gradients go to the elements they came from).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError, describe
from ..tensor import Tensor
from .indexing import TakeAlongAxis, along_axis_index
from .operands import axes, operand
from .registry import register


def _order(a: Tensor, axis: int | None, descending: bool,
           op: str) -> tuple[Tensor, int, np.ndarray]:
    if axis is None:  # numpy: over the flattened tensor
        a, axis = a.reshape(-1), 0
    if a.ndim == 0:
        a = a.reshape(1)
    (axis,) = axes(axis, None, a.shape, op)
    keys = a.data
    if descending:  # negating keeps the stable order of ties, unlike reversing
        keys = ~keys if keys.dtype == bool else -keys.astype(np.promote_types(keys.dtype, np.int8))
    return a, axis, np.argsort(keys, axis=axis, kind="stable")


@register(numpy=np.argsort, method="argsort")
def argsort(a: Any, axis: int | None = -1, *, dim: int | None = None,
            descending: bool = False) -> Tensor:
    """The indices that sort a along ``axis`` (``dim``; the flattened tensor for None), stably;
    an int64 tensor outside the graph."""
    _, _, order = _order(operand(a, None, "argsort"), dim if dim is not None else axis,
                         descending, "argsort")
    return Tensor._wrap(order)


@register(numpy=np.sort)
def sort(a: Any, axis: int | None = -1, *, dim: int | None = None,
         descending: bool = False) -> Tensor:
    """a sorted along ``axis`` (``dim``; the flattened tensor for None), stably; each value's
    gradient goes back to the element it came from.

    >>> ag.sort(ag.tensor([3.0, 1.0, 2.0]))      # tensor([1., 2., 3.])
    """
    a, axis, order = _order(operand(a, None, "sort"), dim if dim is not None else axis,
                            descending, "sort")
    return TakeAlongAxis.apply(a, index=along_axis_index(order, axis))


@register(method="topk")
def topk(a: Any, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> tuple[Tensor, Tensor]:
    """(values, indices) of the k largest (``largest=False``: smallest) entries along ``dim``,
    as ``torch.topk``; the values carry the gradient, the indices are int64. Always sorted
    (``sorted`` is accepted for PyTorch's signature)."""
    a = operand(a, None, "topk")
    a, axis, order = _order(a, dim, largest, "topk")
    if not 0 <= k <= a.shape[axis]:
        raise ShapeError(f"topk: k={k} is out of range for axis {axis} of size {a.shape[axis]} "
                         f"(input {describe(a.data)})")
    indices = np.take(order, np.arange(k), axis=axis)
    return TakeAlongAxis.apply(a, index=along_axis_index(indices, axis)), Tensor._wrap(indices)
