"""Softmax cross-entropy on integer labels, forward and backward.

For a row of logits ``x`` (C classes) and its label ``y``, with ``M = max_j x_j``::

    probs_j = exp(x_j - M) / sum_k exp(x_k - M)
    loss    = logsumexp(x) - x_y = log(sum_k exp(x_k - M)) - (x_y - M)
    d loss / d x_j = probs_j - [j == y]

Shifting by the row maximum keeps every exp in (0, 1], so large logits cannot overflow.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import float_input
from .registry import get, register

_UNSIGNED = {np.dtype(t).itemsize: np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64)}


def labels_in_range(labels: np.ndarray, num_classes: int) -> bool:
    """Whether every label of the integer array ``labels`` lies in [0, num_classes).

    One pass instead of a minimum and a maximum: read as unsigned integers of the same size,
    negative labels become larger than any class count, so the maximum alone tells.
    """
    if labels.dtype.kind == "i":
        labels = labels.view(_UNSIGNED[labels.itemsize])
    return not labels.size or int(np.maximum.reduce(labels, axis=None)) < num_classes


def _labels(kernel: str, labels: np.ndarray, n: int, num_classes: int) -> np.ndarray:
    """Integer labels as C-contiguous int64, checked to lie in [0, num_classes)."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{kernel}: labels must be integers, got {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(f"{kernel}: labels must have shape ({n},), got {labels.shape}")
    # Raw kernels index without bounds checks: an out-of-range label must not reach them.
    if not labels_in_range(labels, num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0]
        raise ValueError(f"{kernel}: label {bad} is out of range for {num_classes} classes")
    return np.ascontiguousarray(labels, dtype=np.int64)


# --- softmax_xent_forward ---------------------------------------------------------------------


def _softmax_xent_forward_loops(logits, labels):
    n, c = logits.shape
    loss = np.empty(n, dtype=logits.dtype)
    probs = np.empty_like(logits)
    for i in range(n):
        top = logits[i, 0]
        for j in range(1, c):
            top = max(top, logits[i, j])
        total = logits.dtype.type(0)  # accumulate in the input dtype, as the twin does
        for j in range(c):
            e = math.exp(logits[i, j] - top)
            probs[i, j] = e
            total += e
        for j in range(c):
            probs[i, j] = probs[i, j] / total
        loss[i] = math.log(total) - (logits[i, labels[i]] - top)
    return loss, probs


def _softmax_xent_forward_numpy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1)
    loss = np.log(total) - shifted[np.arange(len(labels)), labels]
    return loss, e / total[:, None]


register("softmax_xent_forward", _softmax_xent_forward_loops, _softmax_xent_forward_numpy)


def softmax_xent_forward(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row cross-entropy of ``softmax(logits)`` against integer ``labels``.

    ``logits`` has shape (n, C), ``labels`` n integers in [0, C) (converted to int64).
    Returns (loss_per_row of shape (n,), probs of shape (n, C)); probs is saved for the backward.
    """
    kernel = "softmax_xent_forward"
    logits = float_input(kernel, "logits", logits, ndim=2)
    labels = _labels(kernel, labels, *logits.shape)
    return get(kernel)(logits, labels)


# --- softmax_xent_backward --------------------------------------------------------------------


def _softmax_xent_backward_loops(probs, labels, grad_loss_per_row):
    n, c = probs.shape
    grad = np.empty_like(probs)
    one = probs.dtype.type(1)  # typed, so float32 stays float32 (see activation.py)
    for i in range(n):
        g = grad_loss_per_row[i]
        for j in range(c):
            grad[i, j] = probs[i, j] * g
        y = labels[i]
        grad[i, y] = (probs[i, y] - one) * g
    return grad


def _softmax_xent_backward_numpy(probs, labels, grad_loss_per_row):
    rows = np.arange(len(labels))
    grad = probs * grad_loss_per_row[:, None]
    grad[rows, labels] = (probs[rows, labels] - 1) * grad_loss_per_row
    return grad


register("softmax_xent_backward", _softmax_xent_backward_loops, _softmax_xent_backward_numpy)


def softmax_xent_backward(
    probs: np.ndarray, labels: np.ndarray, grad_loss_per_row: np.ndarray
) -> np.ndarray:
    """``grad_logits = (probs - onehot(labels)) * grad_loss_per_row[:, None]``, one pass.

    ``probs`` (n, C) is the output of :func:`softmax_xent_forward`; ``grad_loss_per_row`` (n,) is
    the incoming gradient of each row's loss (``1/n`` each for a mean reduction).
    """
    kernel = "softmax_xent_backward"
    probs = float_input(kernel, "probs", probs, ndim=2)
    labels = _labels(kernel, labels, *probs.shape)
    grad_rows = float_input(
        kernel, "grad_loss_per_row", grad_loss_per_row, dtype=probs.dtype, shape=labels.shape
    )
    return get(kernel)(probs, labels, grad_rows)
