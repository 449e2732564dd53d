"""Normalisation: batch, layer and group norm. Each standardises x over some axes,

    xhat = (x - mean) / sqrt(var + eps)        (biased variance, as PyTorch)

then scales and shifts it. Since mean and var depend on x, the backward of the standardisation
is not just ``grad / std``: with ``g = d(loss)/d(xhat)`` and means over the same axes,

    d(loss)/dx = invstd * (g - mean(g) - xhat * mean(g * xhat))

Batch norm (statistics per channel over the batch and positions) runs on fused kernels, one node
for the standardisation and the affine step; layer norm (over the trailing ``normalized_shape``)
and group norm (over the channels of a group and the positions) are a ``normalize`` node followed
by an elementwise multiply and add.

>>> x = ag.randn(8, 3, requires_grad=True)
>>> y = ag.batch_norm(x, training=True)          # each column: mean 0, variance 1
>>> z = ag.layer_norm(x, (3,))                   # each row: mean 0, variance 1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import Function
from ..tensor import Tensor
from .fused import _kernel
from .operands import axes as axes_of
from .registry import register


def _standardize(x, axes: tuple[int, ...], eps: float):
    """(xhat, invstd) of x over ``axes``; works on arrays, and on tensors for create_graph."""
    centred = x - x.mean(axis=axes, keepdims=True)
    invstd = ((centred * centred).mean(axis=axes, keepdims=True) + eps) ** -0.5
    return centred * invstd, invstd


def _standardize_backward(grad, xhat, invstd, axes: tuple[int, ...]):
    """d(loss)/dx from ``grad`` = d(loss)/d(xhat) when the statistics over ``axes`` depend on x."""
    mean_grad = grad.mean(axis=axes, keepdims=True)
    mean_grad_xhat = (grad * xhat).mean(axis=axes, keepdims=True)
    return invstd * (grad - mean_grad - xhat * mean_grad_xhat)


class Normalize(Function):
    """out = (x - mean) / sqrt(var + eps) over ``axes``;  backward: the formula above."""

    def forward(self, x, *, axes, eps):
        self.axes, self.eps = axes, eps
        xhat, self.invstd = _standardize(x, axes, np.asarray(eps, dtype=x.dtype))
        self.save_for_backward(x, xhat)
        return xhat

    def backward(self, grad, x, xhat):
        invstd = self.invstd
        if isinstance(grad, Tensor):  # create_graph: statistics as functions of the x tensor
            xhat, invstd = _standardize(x, self.axes, self.eps)
        return _standardize_backward(grad, xhat, invstd, self.axes)


class BatchNorm(Function):
    """out = (x - mean_c) * invstd_c * weight_c + bias_c per channel c of x (N, C, ...).

    With ``batch_stats`` (training) mean and invstd are x's own statistics, and the running
    averages (inputs 3 and 4, when given) move towards them in place; otherwise the running
    averages are the statistics, as constants. Both happen here, inside the op, so that a step
    captured by ``ag.jit`` recomputes them at every replay. See ``kernels.norm`` for the backward,
    run by a fused kernel.
    """

    name = "batch_norm"

    def forward(self, x, weight, bias, running_mean=None, running_var=None, *, batch_stats,
                momentum, eps):
        self.batch_stats, self.eps = batch_stats, eps
        if batch_stats:
            mean, var = _kernel("batch_norm_stats", x.dtype)(*_ncl(x))
            if running_mean is not None:
                count = x.size // x.shape[1]
                running_mean *= 1 - momentum
                running_mean += momentum * mean
                running_var *= 1 - momentum
                running_var += momentum * var * (count / (count - 1))
        else:
            # copies: a later training step updates the running averages in place
            mean, var = (np.array(r, dtype=x.dtype) for r in (running_mean, running_var))
        self.mean = mean
        self.invstd = invstd = 1 / np.sqrt(var + np.asarray(eps, dtype=x.dtype))
        self.save_for_backward(x, weight)
        return _kernel("batch_norm_apply", x.dtype)(*_ncl(x, mean, invstd, weight, bias)
                                                    ).reshape(x.shape)

    def backward(self, grad, x, weight):
        if isinstance(grad, Tensor):
            grads = self._backward_composed(grad, x, weight)
        else:
            grad = np.ascontiguousarray(grad, dtype=x.dtype)
            grad_x, grad_weight, grad_bias = _kernel("batch_norm_backward", x.dtype)(
                grad.reshape(x.shape[0], x.shape[1], -1),
                *_ncl(x, self.mean, self.invstd, weight), self.batch_stats)
            grads = grad_x.reshape(x.shape), grad_weight, grad_bias
        return grads + (None,) * (len(self.inputs) - 3)  # running averages: no gradient

    def _backward_composed(self, grad, x, weight):
        """The same formulas on tensors (create_graph), so that they can be differentiated."""
        axes = (0, *range(2, x.ndim))
        per_channel = (-1,) + (1,) * (x.ndim - 2)
        if self.batch_stats:
            xhat, invstd = _standardize(x, axes, self.eps)
            grad_x = _standardize_backward(grad * weight.reshape(per_channel), xhat, invstd, axes)
        else:
            invstd = self.invstd.reshape(per_channel)
            xhat = (x - self.mean.reshape(per_channel)) * invstd
            grad_x = grad * (weight * self.invstd).reshape(per_channel)
        return grad_x, (grad * xhat).sum(axis=axes), grad.sum(axis=axes)


def _ncl(x: np.ndarray, *vectors: np.ndarray) -> list[np.ndarray]:
    """x as a C-contiguous (N, C, L) array, then per-channel vectors in x's dtype."""
    x3 = np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)
    return [x3, *(np.ascontiguousarray(v, dtype=x.dtype) for v in vectors)]


def _as_float_tensor(value: Any, op: str, what: str) -> Tensor:
    value = value if isinstance(value, Tensor) else Tensor(value)
    if value.dtype.kind != "f":
        raise DTypeError(f"{op}: {what} must be a float tensor, got {value.dtype} "
                         f"(shape {value.shape})")
    return value


def _per_channel(value: Any, like: Tensor, size: int, op: str, what: str,
                 fill: float) -> Tensor:
    """A (size,) float tensor: ``value``, or a constant ``fill`` vector when value is None."""
    if value is None:
        return Tensor._wrap(np.full(size, fill, dtype=like.dtype))
    value = _as_float_tensor(value, op, what)
    if value.shape != (size,):
        raise ShapeError(f"{op}: {what} must have shape ({size},) for an input of shape "
                         f"{like.shape}, got {value.shape}")
    return value


@register()
def batch_norm(x: Any, running_mean: Any = None, running_var: Any = None, weight: Any = None,
               bias: Any = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalisation of x (N, C) or (N, C, L...) per channel (PyTorch's F.batch_norm).

    ``training`` (or no running statistics): normalise with the batch's mean and biased
    variance; given ``running_mean``/``running_var`` arrays (or Tensors) of shape (C,), update
    them in place: ``running = (1 - momentum) * running + momentum * batch_stat``, with the
    unbiased variance (times M/(M-1), M values per channel). Otherwise (eval) normalise with the
    running statistics. Then ``* weight + bias`` per channel when given.

    >>> x = ag.randn(16, 4, 5, 5)
    >>> mean, var = np.zeros(4, np.float32), np.ones(4, np.float32)
    >>> y = ag.batch_norm(x, mean, var, training=True)        # mean, var now updated
    """
    x = _as_float_tensor(x, "batch_norm", "input")
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of shape (N, C) or (N, C, ...), got "
                         f"shape {x.shape}")
    channels = x.shape[1]
    running = [r if r is None or isinstance(r, Tensor) else Tensor._wrap(r)  # shares the array
               for r in (running_mean, running_var)]
    for name, tensor in zip(("running_mean", "running_var"), running):
        if tensor is not None and (not isinstance(tensor.data, np.ndarray)
                                   or tensor.shape != (channels,)):
            raise ShapeError(f"batch_norm: {name} must be an array of shape ({channels},) for "
                             f"an input of shape {x.shape}, got "
                             f"{getattr(tensor.data, 'shape', type(tensor.data).__name__)}")
    if (running[0] is None) != (running[1] is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    batch_stats = training or running[0] is None
    if batch_stats and x.size // channels <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                         f"training, got input of shape {x.shape}")
    weight = _per_channel(weight, x, channels, "batch_norm", "weight", 1.0)
    bias = _per_channel(bias, x, channels, "batch_norm", "bias", 0.0)
    stats = () if running[0] is None else tuple(running)
    return BatchNorm.apply(x, weight, bias, *stats, batch_stats=batch_stats, momentum=momentum,
                           eps=eps)


@register()
def normalize(x: Any, axes: Sequence[int], eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) with mean and biased variance over ``axes``, one node."""
    x = _as_float_tensor(x, "normalize", "input")
    return Normalize.apply(x, axes=axes_of(axes, None, x.shape, "normalize"), eps=eps)


def _affine(y: Tensor, weight: Any, bias: Any, shape: tuple[int, ...], expected: tuple[int, ...],
            op: str) -> Tensor:
    """y * weight + bias when given: each must have shape ``expected`` (as PyTorch checks; a
    weight of the right size but another shape would be applied to the wrong positions) and is
    viewed as ``shape`` to broadcast over y's other axes."""
    for what, value in (("weight", weight), ("bias", bias)):
        if value is not None:
            value = _as_float_tensor(value, op, what)
            if value.shape != expected:
                raise ShapeError(f"{op}: {what} must have shape {expected} for an input of "
                                 f"shape {y.shape}, got shape {value.shape} ({value.dtype})")
            value = value.reshape(shape)
            y = y * value if what == "weight" else y + value
    return y


@register()
def layer_norm(x: Any, normalized_shape: int | Sequence[int], weight: Any = None,
               bias: Any = None, eps: float = 1e-5) -> Tensor:
    """Standardise x over its trailing ``normalized_shape`` axes, then ``* weight + bias``
    (each of shape ``normalized_shape``) when given (PyTorch's F.layer_norm).

    >>> ag.layer_norm(ag.randn(2, 5, 8), (8,))          # each (i, j) row: mean 0, var 1
    """
    x = _as_float_tensor(x, "layer_norm", "input")
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(int(n) for n in normalized_shape)
    if not shape or x.shape[x.ndim - len(shape):] != shape:
        raise ShapeError(f"layer_norm: normalized_shape {shape} must be the trailing "
                         f"dimensions of the input, got input of shape {x.shape}")
    y = normalize(x, tuple(range(x.ndim - len(shape), x.ndim)), eps)
    return _affine(y, weight, bias, shape, shape, "layer_norm")


@register()
def group_norm(x: Any, num_groups: int, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Tensor:
    """Split the C channels of x (N, C, ...) into ``num_groups`` groups and standardise each
    sample's group over its channels and positions; then ``* weight + bias`` per channel
    (PyTorch's F.group_norm).

    >>> ag.group_norm(ag.randn(2, 6, 4, 4), 3)            # 3 groups of 2 channels
    """
    x = _as_float_tensor(x, "group_norm", "input")
    if x.ndim < 2 or num_groups < 1 or x.shape[1] % num_groups:
        raise ShapeError(f"group_norm: expected an input (N, C, ...) whose C is divisible by "
                         f"num_groups={num_groups}, got shape {x.shape}")
    grouped = x.reshape(x.shape[0], num_groups, -1)
    y = normalize(grouped, (2,), eps).reshape(x.shape)
    return _affine(y, weight, bias, (x.shape[1],) + (1,) * (x.ndim - 2), (x.shape[1],),
                   "group_norm")
