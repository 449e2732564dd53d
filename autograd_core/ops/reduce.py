"""Reductions over axes: sum, mean, max/min, logsumexp.

``axis`` reaches forward already normalised to a tuple of non-negative axes (or None for all);
backward reshapes the gradient to the kept-dims shape and lets broadcasting spread it back.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..errors import ShapeError
from ..function import Function
from ..tensor import Tensor
from .operands import Axis, axes, keep_dims
from .registry import reduction, register


def kept_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """``shape`` with every reduced axis set to 1 (what ``keepdims=True`` gives)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def _drop_axes(kept: np.ndarray, axis: tuple[int, ...] | None) -> np.ndarray:
    """Remove the reduced axes from a keepdims result (what ``keepdims=False`` gives)."""
    return kept.reshape(()) if axis is None else np.squeeze(kept, axis=axis)


def max_shift(a: np.ndarray, axis: tuple[int, ...] | None) -> np.ndarray:
    """The max of ``a`` over ``axis`` (kept dims), subtracted before ``exp`` so that it cannot
    overflow. An empty ``a`` has no max and needs no shift: 0 (PyTorch's results follow:
    logsumexp -inf over an empty axis, softmax and log_softmax empty)."""
    if a.size == 0:
        return np.zeros(kept_shape(a.shape, axis), a.dtype)
    return a.max(axis=axis, keepdims=True)


# Up to this many elements the backward of sum and mean writes the gradient out: np.broadcast_to
# alone costs ~7 us, as much as writing ~10,000 elements, and a fresh array becomes a ``.grad``
# with no copy (``python -m bench.micrograd``: 8 per step). Above it a broadcast view saves memory.
SPREAD_COPY_MAX_SIZE = 4096


def spread(grad, kept: tuple[int, ...], shape: tuple[int, ...]):
    """The reduced gradient ``grad`` (of the kept-dims shape ``kept``) repeated over ``shape``."""
    grad = grad.reshape(kept)
    if grad.__class__ is np.ndarray and math.prod(shape) <= SPREAD_COPY_MAX_SIZE:
        out = np.empty(shape, grad.dtype)
        out[...] = grad
        return out
    return np.broadcast_to(grad, shape)  # read-only; a Tensor (create_graph) records the op


class Sum(Function):
    """out = sum of a over ``axis``;  d/da = 1 for every element summed."""

    gradient_rule = ("{grad} copied to every element summed",)

    def forward(self, a, axis, keepdims):
        self.shape, self.kept = a.shape, kept_shape(a.shape, axis)
        return a.sum(axis=axis, keepdims=keepdims)

    def backward(self, grad):
        return spread(grad, self.kept, self.shape)


sum = reduction(Sum, method="sum", numpy=np.sum)


class Mean(Function):
    """out = mean of a over ``axis``;  d/da = 1 / n, n the number of elements averaged."""

    gradient_rule = ("{grad} / n copied to each of the n elements averaged",)

    def forward(self, a, axis, keepdims):
        self.shape, self.kept = a.shape, kept_shape(a.shape, axis)
        self.count = a.size if axis is None else int(np.prod([a.shape[i] for i in axis]))
        return a.mean(axis=axis, keepdims=keepdims)

    def backward(self, grad):
        return spread(grad / self.count, self.kept, self.shape)


mean = reduction(Mean, method="mean", numpy=np.mean)


class Max(Function):
    """out = max of a over ``axis``; the gradient goes to the arg-max, split evenly on ties.

    Splitting ties (as PyTorch's ``amax`` does) keeps the gradient symmetric: max(x, x) gives
    1/2 to each copy, so the total gradient is still exactly 1.
    """

    extreme = staticmethod(np.max)

    def forward(self, a, axis, keepdims):
        if a.size == 0:
            raise ShapeError(f"{self.name}: cannot reduce an empty tensor of shape {a.shape}")
        self.kept = kept_shape(a.shape, axis)
        top = self.extreme(a, axis=axis, keepdims=True)
        hits = (a == top).astype(a.dtype)
        self.save_for_backward(hits / hits.sum(axis=axis, keepdims=True))
        return top if keepdims else _drop_axes(top, axis)

    def backward(self, grad, shares):
        return grad.reshape(self.kept) * shares


class Min(Max):
    """out = min of a over ``axis``; the gradient goes to the arg-min, split evenly on ties."""

    extreme = staticmethod(np.min)


max = reduction(Max, method="max", numpy=np.max)
min = reduction(Min, method="min", numpy=np.min)


class LogSumExp(Function):
    """out = log(sum(e**a)) over ``axis``, shifted by the max for stability;
    d/da = e**(a - out)."""

    name = "logsumexp"

    def forward(self, a, axis, keepdims):
        self.kept = kept_shape(a.shape, axis)
        shift = max_shift(a, axis)
        shift = np.where(np.isfinite(shift), shift, 0)
        total = np.exp(a - shift).sum(axis=axis, keepdims=True)
        kept = shift + np.log(total) if a.size else np.full_like(total, -np.inf)
        out = kept if keepdims else _drop_axes(kept, axis)
        self.save_for_backward(a, out)
        return out

    def backward(self, grad, a, out):
        return grad.reshape(self.kept) * np.exp(a - out.reshape(self.kept))


logsumexp = reduction(LogSumExp, method="logsumexp")


@register(method="var", numpy=np.var)
def var(a: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0, *,
        dim: Axis = None, keepdim: bool | None = None) -> Tensor:
    """Variance, sum((a - mean(a))**2) / (n - ddof) with numpy's ``ddof`` (0: population
    variance). With ddof >= n the divisor is 0: inf, or nan for constant data (numpy, PyTorch)."""
    keepdims = keep_dims(keepdims, keepdim)
    reduced = axes(axis, dim, a.shape, "var")
    count = a.size if reduced is None else int(np.prod([a.shape[i] for i in reduced]))
    centred = a - mean(a, axis=reduced, keepdims=True)
    divisor = builtins.max(count - ddof, 0)  # builtins: this module defines its own max
    with np.errstate(divide="ignore", invalid="ignore"):
        return sum(centred * centred, axis=reduced, keepdims=keepdims) / divisor
