"""Ops that move elements without computing new values: reshape, transpose, broadcast, indexing,
concatenate and stack. Their backward moves the gradient back to where each element came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..function import Function
from ..tensor import Tensor
from .operands import Axis, axes, one_axis, operand, operand_list, shape_args
from .registry import register


class Reshape(Function):
    """out = a with a new shape (also squeeze, expand_dims, flatten);  backward reshapes back."""

    def forward(self, a, shape):
        self.in_shape = a.shape
        return a.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.in_shape)


@register(method="reshape", numpy=np.reshape)
def reshape(a: Tensor, *shape: int) -> Tensor:
    """a with a new shape holding the same elements (one dimension may be -1)."""
    shape = shape_args(shape)
    if sum(n == -1 for n in shape) > 1 or any(n < -1 for n in shape):
        raise ShapeError(f"reshape: invalid shape {shape} for a tensor of shape {a.shape}: only "
                         f"one dimension may be -1 (inferred) and none may be negative otherwise")
    return Reshape.apply(a, shape=shape)


@register(method="flatten")
def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """a with the axes from ``start_dim`` to ``end_dim`` (inclusive) merged into one."""
    if a.ndim == 0:
        return reshape(a, 1)
    (start,), (end,) = (axes(d, None, a.shape, "flatten") for d in (start_dim, end_dim))
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                         f"tensor of shape {a.shape}")
    return reshape(a, a.shape[:start] + (-1,) + a.shape[end + 1:])


@register(method="squeeze", numpy=np.squeeze)
def squeeze(a: Tensor, axis: Axis = None, *, dim: Axis = None) -> Tensor:
    """a without the given size-1 axes (all size-1 axes when none is given)."""
    squeezed = axes(axis, dim, a.shape, "squeeze")
    if squeezed is None:
        squeezed = tuple(i for i, n in enumerate(a.shape) if n == 1)
    wide = [i for i in squeezed if a.shape[i] != 1]
    if wide:
        raise ShapeError(f"squeeze: axis {wide[0]} of a tensor of shape {a.shape} has size "
                         f"{a.shape[wide[0]]}; only size-1 axes can be squeezed")
    return reshape(a, tuple(n for i, n in enumerate(a.shape) if i not in squeezed))


@register(method="expand_dims", numpy=np.expand_dims)
def expand_dims(a: Tensor, axis: int | Sequence[int] | None = None, *,
                dim: int | None = None) -> Tensor:
    """a with a new size-1 axis inserted at ``axis`` (``dim``)."""
    axis = one_axis(axis, dim, "expand_dims")
    new_ndim = a.ndim + (1 if isinstance(axis, (int, np.integer)) else len(axis))
    inserted = axes(axis, None, (1,) * new_ndim, "expand_dims")
    shape = iter(a.shape)
    return reshape(a, tuple(1 if i in inserted else next(shape) for i in range(new_ndim)))


class Transpose(Function):
    """out = a with its axes permuted;  backward applies the inverse permutation."""

    def forward(self, a, axes):
        axes = tuple(reversed(range(a.ndim))) if axes is None else axes
        self.inverse = tuple(int(i) for i in np.argsort(axes))
        return a.transpose(axes)

    def backward(self, grad):
        return grad.transpose(self.inverse)


@register(method="transpose", numpy=np.transpose)
def transpose(a: Tensor, *axes: int) -> Tensor:
    """a with its axes permuted (reversed when no axes are given)."""
    axes = shape_args(axes)
    if not axes:
        return Transpose.apply(a, axes=None)
    normal = tuple(int(i) % a.ndim for i in axes if -a.ndim <= i < a.ndim)
    if sorted(normal) != list(range(a.ndim)):
        raise ShapeError(f"transpose: axes {axes} are not a permutation of the {a.ndim} axes "
                         f"of a tensor of shape {a.shape}")
    return Transpose.apply(a, axes=normal)


@register(method="swapaxes", numpy=np.swapaxes)
def swapaxes(a: Tensor, axis1: int, axis2: int) -> Tensor:
    """a with two axes exchanged."""
    for axis in (axis1, axis2):
        if not -a.ndim <= axis < a.ndim:
            raise IndexError(f"swapaxes: axis {axis} is out of range for a tensor of shape "
                             f"{a.shape} (ndim {a.ndim})")
    order = list(range(a.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return Transpose.apply(a, axes=tuple(order))


class BroadcastTo(Function):
    """out = a repeated along broadcast axes;  backward is the engine's sum back to a's shape."""

    def forward(self, a, shape):
        return np.broadcast_to(a, shape)

    def backward(self, grad):
        return grad


@register(numpy=np.broadcast_to)
def broadcast_to(a: Any, shape: Sequence[int]) -> Tensor:
    """a repeated along new or size-1 axes to ``shape``."""
    return BroadcastTo.apply(operand(a, None, "broadcast_to"), shape=tuple(shape))


def is_basic_index(index) -> bool:
    """True for ints, slices, None and Ellipsis only: such an index never repeats an element."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts
    )


def _scatter_add_arrays(grad: np.ndarray, index, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=grad.dtype)
    if is_basic_index(index):
        out[index] = grad
    else:
        np.add.at(out, index, grad)  # repeated indices accumulate instead of overwriting
    return out


def scatter_add(grad, index, shape: tuple[int, ...]):
    """Zeros of ``shape`` with ``grad`` added at ``index`` (the adjoint of ``a[index]``)."""
    if isinstance(grad, Tensor):
        return ScatterAdd.apply(grad, index=index, shape=shape)
    return _scatter_add_arrays(grad, index, shape)


class GetItem(Function):
    """out = a[index] (basic, advanced and boolean-mask indexing);  backward scatters the
    gradient back, adding where an index repeats."""

    name = "getitem"

    def forward(self, a, index):
        self.index, self.shape = index, a.shape
        return a[index]

    def backward(self, grad):
        return scatter_add(grad, self.index, self.shape)


@register(method="__getitem__", public=False)
def getitem(a: Tensor, index: Any) -> Tensor:
    """a[index]: basic, advanced (integer arrays) and boolean-mask indexing."""
    return GetItem.apply(a, index=_plain_index(index))


def _plain_index(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays (indices carry no gradient)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(part.data if isinstance(part, Tensor) else part for part in index)
    return index


class ScatterAdd(Function):
    """out = zeros(shape) with g added at ``index``;  backward gathers: grad[index]."""

    def forward(self, g, index, shape):
        self.index = index
        return _scatter_add_arrays(g, index, shape)

    def backward(self, grad):
        return grad[self.index]


def _slab(ndim: int, axis: int, part) -> tuple:
    """The index that selects ``part`` (an int or a slice) along ``axis``."""
    return (slice(None),) * axis + (part,) + (slice(None),) * (ndim - axis - 1)


class Concatenate(Function):
    """out = the inputs joined along ``axis``;  backward hands each input its slab."""

    def forward(self, *arrays, axis):
        out = np.concatenate(arrays, axis=axis)
        self.axis = axis % out.ndim
        self.bounds = np.cumsum([0] + [a.shape[self.axis] for a in arrays])
        return out

    def backward(self, grad):
        return tuple(grad[_slab(grad.ndim, self.axis, slice(start, stop))]
                     for start, stop in zip(self.bounds[:-1], self.bounds[1:]))


@register(numpy=np.concatenate)
def concatenate(tensors: Sequence[Any], axis: int | None = None, *,
                dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis."""
    return Concatenate.apply(*operand_list(tensors, "concatenate"),
                             axis=one_axis(axis, dim, "concatenate", default=0))


class Stack(Function):
    """out = the inputs stacked along a new ``axis``;  backward hands each input its slice."""

    def forward(self, *arrays, axis):
        out = np.stack(arrays, axis=axis)
        self.axis, self.count = axis % out.ndim, len(arrays)
        return out

    def backward(self, grad):
        return tuple(grad[_slab(grad.ndim, self.axis, i)] for i in range(self.count))


@register(numpy=np.stack)
def stack(tensors: Sequence[Any], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    return Stack.apply(*operand_list(tensors, "stack"),
                       axis=one_axis(axis, dim, "stack", default=0))
