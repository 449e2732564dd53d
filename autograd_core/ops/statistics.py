"""More reductions: std and prod (differentiable), argmax/argmin and any/all (index and boolean
results, outside the graph, as in PyTorch).

All take numpy's ``axis``/``keepdims`` and PyTorch's ``dim``/``keepdim``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError, describe
from ..function import Function
from ..tensor import Tensor
from .elementwise import sqrt
from .operands import Axis, axes, keep_dims, operand
from .reduce import kept_shape, var
from .registry import reduction, register


@register(method="std", numpy=np.std)
def std(a: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0, *, dim: Axis = None,
        keepdim: bool | None = None) -> Tensor:
    """Standard deviation, sqrt(var(a)), with numpy's ``ddof`` (default 0, the population value;
    PyTorch's ``torch.std`` defaults to the sample value, ``ddof=1``)."""
    return sqrt(var(operand(a, None, "std"), axis, keep_dims(keepdims, keepdim), ddof, dim=dim))


class Prod(Function):
    """out = the product of a over ``axis``;  d/da[i] = the product of the other elements.

    The product of the others is prefix * suffix (exclusive running products), not out / a, so
    the gradient is exact where a holds zeros.
    """

    def forward(self, a, axis, keepdims):
        self.kept = kept_shape(a.shape, axis)
        self.axis = tuple(range(a.ndim)) if axis is None else axis
        self.save_for_backward(a)
        return np.prod(a, axis=axis, keepdims=keepdims)

    def backward(self, grad, a):
        # the reduced axes moved last and merged into one, whose products run along it
        kept_axes = [i for i in range(a.ndim) if i not in self.axis]
        order = (*kept_axes, *self.axis)
        moved = np.transpose(a, order)
        flat = moved.reshape(*moved.shape[:len(kept_axes)], -1)
        ones = np.ones((*flat.shape[:-1], 1), dtype=a.dtype)
        prefix = np.concatenate([ones, np.cumprod(flat[..., :-1], axis=-1)], axis=-1)
        suffix = np.concatenate([np.cumprod(flat[..., :0:-1], axis=-1)[..., ::-1], ones],
                                axis=-1)
        inverse = tuple(int(i) for i in np.argsort(order))
        others = np.transpose((prefix * suffix).reshape(moved.shape), inverse)
        return grad.reshape(self.kept) * others


prod = reduction(Prod, method="prod", numpy=np.prod)


def _outside_graph(op: str, function, a: Tensor, **kwargs) -> Tensor:
    """``function(a.data, **kwargs)`` as a Tensor without gradient; numpy's errors name the op."""
    try:
        return Tensor._wrap(np.asarray(function(a.data, **kwargs)))
    except ValueError as err:
        raise ShapeError(f"{op}: {err} (input: {describe(a.data)})") from err


def _arg_extreme(op: str, function, a: Any, axis, keepdims, dim, keepdim) -> Tensor:
    a = operand(a, None, op)
    axis = dim if dim is not None else axis
    if axis is not None:
        if not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{op}: axis must be one int or None, got {axis!r}")
        (axis,) = axes(axis, None, a.shape if a.ndim else (1,), op)
        if a.ndim == 0:
            return _outside_graph(op, function, a.reshape(1), axis=0,
                                  keepdims=False).reshape(())
    return _outside_graph(op, function, a, axis=axis, keepdims=keep_dims(keepdims, keepdim))


@register(method="argmax", numpy=np.argmax)
def argmax(a: Any, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
           keepdim: bool | None = None) -> Tensor:
    """Index of the largest value along ``axis`` (``dim``), of the flattened tensor when neither
    is given; an int64 tensor outside the graph. The first index wins on ties."""
    return _arg_extreme("argmax", np.argmax, a, axis, keepdims, dim, keepdim)


@register(method="argmin", numpy=np.argmin)
def argmin(a: Any, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
           keepdim: bool | None = None) -> Tensor:
    """Index of the smallest value along ``axis`` (``dim``); see :func:`argmax`."""
    return _arg_extreme("argmin", np.argmin, a, axis, keepdims, dim, keepdim)


def _truth(op: str, function, a: Any, axis: Axis, keepdims: bool, dim: Axis,
           keepdim: bool | None) -> Tensor:
    a = operand(a, None, op)
    return _outside_graph(op, function, a, axis=axes(axis, dim, a.shape, op),
                          keepdims=keep_dims(keepdims, keepdim))


@register(method="any", numpy=np.any)
def any(a: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
        keepdim: bool | None = None) -> Tensor:
    """True where some element along ``axis`` (all axes when None) is non-zero; a bool tensor
    outside the graph."""
    return _truth("any", np.any, a, axis, keepdims, dim, keepdim)


@register(method="all", numpy=np.all)
def all(a: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
        keepdim: bool | None = None) -> Tensor:
    """True where every element along ``axis`` (all axes when None) is non-zero; a bool tensor
    outside the graph."""
    return _truth("all", np.all, a, axis, keepdims, dim, keepdim)
