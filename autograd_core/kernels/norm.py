"""Batch normalisation per channel, forward and backward.

``x`` has shape (N, C, L): N samples, C channels, L positions per channel (1 for (N, C) inputs,
H*W for images); each channel c is normalised over its M = N*L values::

    mean_c = sum(x[:, c]) / M        var_c = sum((x[:, c] - mean_c)**2) / M (biased)
    xhat = (x - mean_c) * invstd_c,  invstd_c = 1 / sqrt(var_c + eps)
    out  = xhat * weight_c + bias_c

Backward, with g = d(loss)/d(out)::

    grad_bias_c   = sum(g[:, c])            grad_weight_c = sum(g[:, c] * xhat[:, c])
    grad_x = weight_c * invstd_c * (g - grad_bias_c / M - xhat * grad_weight_c / M)

The two mean terms come from the statistics depending on x; with fixed statistics (eval mode,
running averages) ``grad_x = weight_c * invstd_c * g``.

The loops walk x in memory order and accumulate per-channel sums in float64, as the twins do.
"""

from __future__ import annotations

import numpy as np

from ._checks import float_input
from .registry import get, register

# --- batch_norm_stats ---------------------------------------------------------------------------


def _batch_norm_stats_loops(x):
    n, c, length = x.shape
    total = np.zeros(c)
    for i in range(n):
        for j in range(c):
            for k in range(length):
                total[j] += x[i, j, k]
    mean = total / (n * length)
    squares = np.zeros(c)
    for i in range(n):
        for j in range(c):
            for k in range(length):
                d = x[i, j, k] - mean[j]
                squares[j] += d * d
    return mean.astype(x.dtype), (squares / (n * length)).astype(x.dtype)


def _batch_norm_stats_numpy(x):
    mean = x.mean(axis=(0, 2), dtype=np.float64)
    centred = x - mean[:, None]
    var = (centred * centred).mean(axis=(0, 2), dtype=np.float64)
    return mean.astype(x.dtype), var.astype(x.dtype)


register("batch_norm_stats", _batch_norm_stats_loops, _batch_norm_stats_numpy)


def _as_ncl(kernel: str, x: np.ndarray) -> np.ndarray:
    x = float_input(kernel, "x", x)
    if x.ndim < 2:
        raise ValueError(f"{kernel}: x must be (N, C, ...), got shape {x.shape}")
    return x.reshape(x.shape[0], x.shape[1], -1)


def batch_norm_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and biased variance of ``x`` of shape (N, C, ...), in x's dtype."""
    return get("batch_norm_stats")(_as_ncl("batch_norm_stats", x))


# --- batch_norm_apply ---------------------------------------------------------------------------


def _batch_norm_apply_loops(x, mean, invstd, weight, bias):
    n, c, length = x.shape
    out = np.empty_like(x)
    scale = weight * invstd
    shift = bias - mean * scale
    for i in range(n):
        for j in range(c):
            for k in range(length):
                out[i, j, k] = x[i, j, k] * scale[j] + shift[j]
    return out


def _batch_norm_apply_numpy(x, mean, invstd, weight, bias):
    scale = weight * invstd
    return x * scale[:, None] + (bias - mean * scale)[:, None]


register("batch_norm_apply", _batch_norm_apply_loops, _batch_norm_apply_numpy)


def _channel_vectors(kernel: str, x: np.ndarray, **vectors: np.ndarray) -> list[np.ndarray]:
    return [float_input(kernel, name, v, dtype=x.dtype, shape=(x.shape[1],))
            for name, v in vectors.items()]


def batch_norm_apply(x: np.ndarray, mean: np.ndarray, invstd: np.ndarray, weight: np.ndarray,
                     bias: np.ndarray) -> np.ndarray:
    """``(x - mean) * invstd * weight + bias`` per channel of x (N, C, ...), one pass."""
    kernel = "batch_norm_apply"
    x3 = _as_ncl(kernel, x)
    vectors = _channel_vectors(kernel, x3, mean=mean, invstd=invstd, weight=weight, bias=bias)
    return get(kernel)(x3, *vectors).reshape(x.shape)


# --- batch_norm_backward ------------------------------------------------------------------------


def _batch_norm_backward_loops(grad, x, mean, invstd, weight, batch_stats):
    n, c, length = x.shape
    grad_bias = np.zeros(c)
    grad_weight = np.zeros(c)
    for i in range(n):
        for j in range(c):
            for k in range(length):
                g = grad[i, j, k]
                grad_bias[j] += g
                grad_weight[j] += g * (x[i, j, k] - mean[j]) * invstd[j]
    grad_x = np.empty_like(x)
    scale = (weight * invstd).astype(x.dtype)
    mean_grad = (grad_bias / (n * length)).astype(x.dtype)
    mean_grad_xhat = (grad_weight / (n * length)).astype(x.dtype)
    for i in range(n):
        for j in range(c):
            for k in range(length):
                g = grad[i, j, k]
                if batch_stats:
                    xhat = (x[i, j, k] - mean[j]) * invstd[j]
                    g = g - mean_grad[j] - xhat * mean_grad_xhat[j]
                grad_x[i, j, k] = scale[j] * g
    return grad_x, grad_weight.astype(x.dtype), grad_bias.astype(x.dtype)


def _batch_norm_backward_numpy(grad, x, mean, invstd, weight, batch_stats):
    count = x.shape[0] * x.shape[2]
    xhat = (x - mean[:, None]) * invstd[:, None]
    grad_bias = grad.sum(axis=(0, 2), dtype=np.float64)
    grad_weight = (grad * xhat).sum(axis=(0, 2), dtype=np.float64)
    if batch_stats:
        mean_grad = (grad_bias / count).astype(x.dtype)[:, None]
        mean_grad_xhat = (grad_weight / count).astype(x.dtype)[:, None]
        grad = grad - mean_grad - xhat * mean_grad_xhat
    scale = (weight * invstd).astype(x.dtype)[:, None]
    return scale * grad, grad_weight.astype(x.dtype), grad_bias.astype(x.dtype)


register("batch_norm_backward", _batch_norm_backward_loops, _batch_norm_backward_numpy)


def batch_norm_backward(grad: np.ndarray, x: np.ndarray, mean: np.ndarray, invstd: np.ndarray,
                        weight: np.ndarray, batch_stats: bool
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(grad_x, grad_weight, grad_bias) of ``batch_norm_apply`` for x (N, C, ...); with
    ``batch_stats`` the mean and invstd are x's own statistics and their gradient is included."""
    kernel = "batch_norm_backward"
    x3 = _as_ncl(kernel, x)
    grad3 = float_input(kernel, "grad", grad, dtype=x.dtype, shape=x.shape).reshape(x3.shape)
    vectors = _channel_vectors(kernel, x3, mean=mean, invstd=invstd, weight=weight)
    grad_x, grad_weight, grad_bias = get(kernel)(grad3, x3, *vectors, bool(batch_stats))
    return grad_x.reshape(x.shape), grad_weight, grad_bias
