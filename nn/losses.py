"""Loss functions as modules: ``loss_fn(prediction, target)`` returns a Tensor.

``reduction`` chooses what comes back: "mean" (the default; L2Loss's default is "sum"), "sum",
or "none" (one value per element, per row for cross-entropy). Targets may be Tensors, numpy arrays
or lists; prediction and target must have the same shape (no silent broadcasting of an (N, 1)
prediction against an (N,) target), except for cross-entropy's integer labels.

===================  =====================================================================
MSELoss              (y_hat - y)**2
L2Loss               (y_hat - y)**2 / 2                    (reduction "sum" by default)
BCELoss              -[y log p + (1 - y) log(1 - p)], each log clamped at -100 (PyTorch)
BCEWithLogitsLoss    the same on p = sigmoid(x), computed as softplus(x) - x y (stable)
CrossEntropyLoss     -sum_c y_c log_softmax(x)_c; y integer labels or probabilities (one-hot)
===================  =====================================================================

>>> loss_fn = nn.CrossEntropyLoss()
>>> loss = loss_fn(model(x), labels)        # labels: integers in [0, C)
>>> loss.backward()
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

import autograd_core as ag
from autograd_core.function import Function

from .base import Module
from .layers import ensure_tensor

Reduction = Literal["mean", "sum", "none"]


class _Loss(Module):
    """Base: holds ``reduction`` and converts the target."""

    def __init__(self, reduction: Reduction = "mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', "
                             f"got {reduction!r}")
        self.reduction = reduction

    def _reduce(self, loss: ag.Tensor) -> ag.Tensor:
        if self.reduction == "mean":
            return loss.mean()
        if self.reduction == "sum":
            return loss.sum()
        return loss

    def _pair(self, prediction: Any, target: Any) -> tuple[ag.Tensor, ag.Tensor]:
        """Both as tensors of the same shape; an array target takes the prediction's dtype."""
        prediction = ensure_tensor(prediction)
        if prediction.dtype.kind != "f":
            raise ag.DTypeError(f"{type(self).__name__}: the prediction must be floating point, "
                                f"got {prediction.dtype} of shape {prediction.shape}")
        if not isinstance(target, ag.Tensor):
            target = ag.Tensor(np.asarray(target, dtype=prediction.dtype))
        elif target.dtype != prediction.dtype:
            target = target.astype(prediction.dtype)
        if target.shape != prediction.shape:
            raise ag.ShapeError(
                f"{type(self).__name__}: prediction has shape {prediction.shape} but target has "
                f"shape {target.shape}; they must match (reshape one of them, e.g. "
                f"target.reshape({', '.join(map(str, prediction.shape)) or '()'}))"
            )
        return prediction, target

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error: reduce((prediction - target)**2)."""

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        prediction, target = self._pair(prediction, target)
        diff = prediction - target
        return self._reduce(diff * diff)


class L2Loss(_Loss):
    """Half the sum of squares: sum((prediction - target)**2) / 2, the loss whose gradient is
    exactly the error (prediction - target). ``reduction`` defaults to "sum"."""

    def __init__(self, reduction: Reduction = "sum"):
        super().__init__(reduction)

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        prediction, target = self._pair(prediction, target)
        diff = prediction - target
        return self._reduce(diff * diff * 0.5)


class _BinaryCrossEntropy(Function):
    """loss = -[y max(log p, -100) + (1 - y) max(log(1 - p), -100)], elementwise.

    d/dp = (p - y) / max(p (1 - p), 1e-12) and d/dy = max(log(1 - p), -100) - max(log p, -100),
    PyTorch's formulas: both stay finite at p = 0 or 1, where the plain ones divide by zero.
    """

    name = "binary_cross_entropy"

    def forward(self, p, y):
        self.save_for_backward(p, y)
        log_p, log_1mp = _clamped_logs(p)
        return -(y * log_p + (1 - y) * log_1mp)

    def backward(self, grad, p, y):
        grad_p = grad * (p - y) / np.maximum(p * (1 - p), 1e-12)
        if not self.needs_input_grad[1]:
            return grad_p, None
        log_p, log_1mp = _clamped_logs(p)
        return grad_p, grad * (log_1mp - log_p)


def _clamped_logs(p):
    """(max(log p, -100), max(log(1 - p), -100)); log 0 = -inf is expected, so not warned."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), -100), np.maximum(np.log(1 - p), -100)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities p in [0, 1] against targets y in [0, 1].

    Each log is clamped at -100 as in PyTorch, so p = 0 or 1 gives a finite loss and gradient.
    Prefer ``BCEWithLogitsLoss`` on the raw scores: it is exact where sigmoid saturates.
    """

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        prediction, target = self._pair(prediction, target)
        p = prediction.data
        if p.size and not (p.min() >= 0 and p.max() <= 1):  # also catches NaN
            raise ValueError(
                f"BCELoss: the prediction must hold probabilities in [0, 1], got values in "
                f"[{p.min()}, {p.max()}] (shape {prediction.shape}); apply a sigmoid first or "
                "use BCEWithLogitsLoss on the raw scores"
            )
        return self._reduce(_BinaryCrossEntropy.apply(prediction, target))


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(x) against y, from the logits x, without overflow:

    -[y log s(x) + (1 - y) log(1 - s(x))] = softplus(x) - x y = max(x, 0) - x y + log(1 + e^-|x|)

    and its gradient is sigmoid(x) - y, exact for any x (e.g. 1e4).
    """

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        logits, target = self._pair(prediction, target)
        return self._reduce(ag.softplus(logits) - logits * target)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits of shape (N, C): -sum_c y_c log_softmax(x)_c per row.

    The target is either N integer class labels in [0, C) (float labels holding whole numbers
    are accepted), or an (N, C) array of class probabilities such as one-hot rows. Integer labels
    go through the fused ``ag.softmax_cross_entropy`` (one node, one pass forward and backward);
    probabilities through ``log_softmax``. Either way logits like 1e4 give finite losses and
    gradients.
    "mean" averages over the N rows.
    """

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        logits = ensure_tensor(prediction)
        if logits.ndim != 2 or logits.dtype.kind != "f":
            raise ag.ShapeError(f"CrossEntropyLoss: expected floating logits of shape (N, C), got "
                                f"shape {logits.shape} {logits.dtype}")
        target_array = target.data if isinstance(target, ag.Tensor) else np.asarray(target)
        if target_array.shape == logits.shape:
            _, probs = self._pair(logits, target)
            return self._reduce(-(probs * ag.log_softmax(logits, axis=1)).sum(axis=1))
        labels = self._labels(target_array, logits.shape)
        return ag.softmax_cross_entropy(logits, labels, self.reduction)

    @staticmethod
    def _labels(target: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        n = shape[0]
        if target.shape != (n,):
            raise ag.ShapeError(
                f"CrossEntropyLoss: logits have shape {shape}, so the target must be {n} integer "
                f"labels (shape ({n},)) or probabilities of shape {shape}; got shape "
                f"{target.shape} {target.dtype}"
            )
        if target.dtype.kind == "f":
            if not np.array_equal(target, np.round(target)):
                raise ValueError("CrossEntropyLoss: a target of shape (N,) must hold whole class "
                                 "numbers; got fractional values")
            target = target.astype(np.int64)
        elif target.dtype.kind not in "iu":
            raise ag.DTypeError(f"CrossEntropyLoss: labels must be integers, got {target.dtype}")
        return target  # ag.softmax_cross_entropy checks the range
