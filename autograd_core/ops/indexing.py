"""Gathering and scattering along an axis with index tensors: take_along_axis (torch.gather),
scatter_add / index_add, masked_fill and one_hot.

A gather is an advanced index ``a[full_index]``, so it is a ``GetItem`` under its own name: its
backward adds the gradient back at the gathered places (repeated indices accumulate). The
scatters are the adjoint: their backward gathers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError, describe
from ..function import Function
from ..tensor import Tensor
from .elementwise import where
from .operands import axes, operand
from .registry import register
from .shape import GetItem


def _index_array(index: Any, op: str) -> np.ndarray:
    array = np.asarray(index.data if isinstance(index, Tensor) else index)
    if array.dtype.kind not in "iu":
        raise DTypeError(f"{op}: indices must be integers, got dtype {array.dtype} "
                         f"(shape {array.shape})")
    return array


def _check_range(index: np.ndarray, size: int, op: str, a: Tensor, axis: int) -> None:
    if index.size and (index.min() < -size or index.max() >= size):
        bad = index.max() if index.max() >= size else index.min()
        raise IndexError(f"{op}: index {bad} is out of range for axis {axis} of size {size} "
                         f"(input {describe(a.data)}, indices {index.shape} {index.dtype})")


def along_axis_index(index: np.ndarray, axis: int) -> tuple:
    """The advanced index that picks ``index[..., i, ...]`` along ``axis`` at every other
    position: ``a[along_axis_index(i, axis)]`` is ``np.take_along_axis(a, i, axis)``."""
    grids = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grids[axis] = index
    return tuple(grids)


class TakeAlongAxis(GetItem):
    """out = a gathered along ``axis`` at ``indices``;  backward adds grad back at the gathered
    places."""

    name = "take_along_axis"


def _gather(op: str, a: Any, index: Any, axis: int, broadcast: bool) -> tuple[Tensor, tuple]:
    a = operand(a, None, op)
    index = _index_array(index, op)
    if index.ndim != a.ndim:
        raise ShapeError(f"{op}: indices need as many dimensions as the input: indices "
                         f"{index.shape} {index.dtype}, input {describe(a.data)}")
    (axis,) = axes(axis, None, a.shape, op)
    if broadcast:  # numpy: the other axes broadcast
        target = tuple(n if i == axis else a.shape[i] for i, n in enumerate(index.shape))
        try:
            index = np.broadcast_to(index, np.broadcast_shapes(index.shape, target))
        except ValueError as err:
            raise ShapeError(f"{op}: indices {index.shape} do not broadcast against the input "
                             f"{describe(a.data)} outside axis {axis}") from err
    bigger = [i for i in range(a.ndim) if i != axis and index.shape[i] > a.shape[i]]
    if bigger:
        raise ShapeError(f"{op}: indices {index.shape} are larger than the input {a.shape} "
                         f"along axis {bigger[0]}")
    _check_range(index, a.shape[axis], op, a, axis)
    return a, along_axis_index(index, axis)


@register(method="take_along_axis", numpy=np.take_along_axis)
def take_along_axis(a: Any, indices: Any, axis: int | None) -> Tensor:
    """a[..., indices[..., i, ...], ...] along ``axis`` (numpy's rule: the other axes of
    ``indices`` broadcast against a's; None: the flattened tensor and 1-D indices); the gradient
    adds back at the gathered places.

    >>> ag.take_along_axis(x, x.argsort(axis=1), axis=1)     # each row sorted
    """
    if axis is None:
        a, axis = operand(a, None, "take_along_axis").reshape(-1), 0
    a, index = _gather("take_along_axis", a, indices, axis, broadcast=True)
    return TakeAlongAxis.apply(a, index=index)


@register(method="gather")
def gather(a: Any, dim: int, index: Any) -> Tensor:
    """PyTorch's ``torch.gather(input, dim, index)``: out[i][j] = a[index[i][j]][j] for dim=0.
    ``index`` has a's number of dimensions and is no larger along the other axes."""
    a, full_index = _gather("gather", a, index, dim, broadcast=False)
    return TakeAlongAxis.apply(a, index=full_index)


class AddAt(Function):
    """out = a with ``alpha * src`` added at ``index`` (repeated places accumulate);
    d/da = 1, d/dsrc = alpha * grad[index]."""

    name = "scatter_add"

    def forward(self, a, src, index, alpha):
        self.index, self.alpha = index, alpha
        out = a.copy()
        np.add.at(out, index, src * alpha if alpha != 1 else src)
        return out

    def backward(self, grad):
        taken = grad[self.index]
        return grad, taken * self.alpha if self.alpha != 1 else taken


@register(method="scatter_add")
def scatter_add(a: Any, dim: int, index: Any, src: Any) -> Tensor:
    """PyTorch's ``scatter_add``: a copy of ``a`` with out[index[i][j]][j] += src[i][j] (dim=0);
    ``index`` has a's number of dimensions and ``src`` is at least as large as ``index``."""
    a, full_index = _gather("scatter_add", a, index, dim, broadcast=False)
    src = operand(src, a, "scatter_add")
    index_shape = np.broadcast_shapes(*(i.shape for i in full_index))
    if src.ndim != a.ndim or any(s < n for s, n in zip(src.shape, index_shape)):
        raise ShapeError(f"scatter_add: src {describe(src.data)} must have the input's "
                         f"{a.ndim} dimensions and be at least as large as index {index_shape}")
    if src.shape != index_shape:
        src = src[tuple(slice(n) for n in index_shape)]
    return AddAt.apply(a, src, index=full_index, alpha=1)


@register(method="index_add")
def index_add(a: Any, dim: int, index: Any, source: Any, *, alpha: float = 1) -> Tensor:
    """PyTorch's ``index_add``: a copy of ``a`` with alpha * source[..., i, ...] added to
    a[..., index[i], ...] along ``dim``; repeated indices accumulate."""
    a = operand(a, None, "index_add")
    index = _index_array(index, "index_add")
    (dim,) = axes(dim, None, a.shape, "index_add")
    source = operand(source, a, "index_add")
    expected = a.shape[:dim] + (len(index),) + a.shape[dim + 1:] if index.ndim == 1 else None
    if expected is None or source.shape != expected:
        raise ShapeError(f"index_add: needs a 1-D index and a source of shape {expected}; got "
                         f"index {index.shape} {index.dtype}, source {describe(source.data)}, "
                         f"input {describe(a.data)}")
    _check_range(index, a.shape[dim], "index_add", a, dim)
    return AddAt.apply(a, source, index=(slice(None),) * dim + (index,), alpha=alpha)


@register(method="masked_fill")
def masked_fill(a: Any, mask: Any, value: Any) -> Tensor:
    """a with ``value`` where ``mask`` is true (the mask broadcasts to a's shape); the gradient
    passes where the mask is false, and to ``value`` (when a tensor) where it is true."""
    a = operand(a, None, "masked_fill")
    mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if mask.dtype != bool:
        raise DTypeError(f"masked_fill: the mask must be boolean, got {mask.dtype}")
    try:
        fits = np.broadcast_shapes(mask.shape, a.shape) == a.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"masked_fill: mask {mask.shape} does not broadcast to the input "
                         f"{describe(a.data)}")
    return where(mask, value, a)


@register
def one_hot(indices: Any, num_classes: int = -1) -> Tensor:
    """int64 one-hot vectors along a new last axis, as ``torch.nn.functional.one_hot``;
    ``num_classes=-1`` takes the largest index + 1. Outside the graph (use ``.astype`` for
    floats)."""
    index = _index_array(indices, "one_hot")
    if index.size and index.min() < 0:
        raise IndexError(f"one_hot: indices must be non-negative, got {index.min()}")
    if num_classes == -1:
        num_classes = int(index.max()) + 1 if index.size else 0
    if index.size and index.max() >= num_classes:
        raise IndexError(f"one_hot: index {index.max()} is out of range for {num_classes} "
                         "classes")
    return Tensor._wrap((index[..., None] == np.arange(num_classes)).astype(np.int64))
