"""Ops that move elements without computing new values: reshape, transpose, broadcast, indexing,
concatenate and stack. Their backward moves the gradient back to where each element came from.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..tensor import Tensor


class Reshape(Function):
    """out = a with a new shape (also squeeze, expand_dims, flatten);  backward reshapes back."""

    def forward(self, a, shape):
        self.in_shape = a.shape
        return a.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.in_shape)


class Transpose(Function):
    """out = a with its axes permuted;  backward applies the inverse permutation."""

    def forward(self, a, axes):
        axes = tuple(reversed(range(a.ndim))) if axes is None else axes
        self.inverse = tuple(int(i) for i in np.argsort(axes))
        return a.transpose(axes)

    def backward(self, grad):
        return grad.transpose(self.inverse)


class BroadcastTo(Function):
    """out = a repeated along broadcast axes;  backward is the engine's sum back to a's shape."""

    def forward(self, a, shape):
        return np.broadcast_to(a, shape)

    def backward(self, grad):
        return grad


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


class Stack(Function):
    """out = the inputs stacked along a new ``axis``;  backward hands each input its slice."""

    def forward(self, *arrays, axis):
        out = np.stack(arrays, axis=axis)
        self.axis, self.count = axis % out.ndim, len(arrays)
        return out

    def backward(self, grad):
        return tuple(grad[_slab(grad.ndim, self.axis, i)] for i in range(self.count))
