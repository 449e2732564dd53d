"""Loss functions as modules: ``loss_fn(prediction, target)`` returns a Tensor.

``reduction`` chooses what comes back: "mean" (the default; L2Loss's default is "sum"), "sum",
or "none" (one value per element, per row for cross-entropy and NLL); KLDivLoss also takes
"batchmean" (the sum over a batch divided by its size, the true KL divergence per sample).
Targets may be Tensors, numpy arrays or lists; prediction and target must have the same shape
(no silent broadcasting of an (N, 1) prediction against an (N,) target), except for the integer
labels of cross-entropy and NLL.

===================  =====================================================================
MSELoss              (y_hat - y)**2
L2Loss               (y_hat - y)**2 / 2                    (reduction "sum" by default)
L1Loss               |y_hat - y|
HuberLoss            d**2 / 2 if |d| < delta else delta (|d| - delta / 2),   d = y_hat - y
SmoothL1Loss         HuberLoss(delta=beta) / beta          (L1Loss for beta = 0)
BCELoss              -[y log p + (1 - y) log(1 - p)], each log clamped at -100 (PyTorch)
BCEWithLogitsLoss    the same on p = sigmoid(x), computed as softplus(x) - x y (stable);
                     pos_weight scales the positive term, weight each element
CrossEntropyLoss     -sum_c y_c log_softmax(x)_c; y integer labels or probabilities (one-hot);
                     class weight, ignore_index and label_smoothing as in PyTorch
NLLLoss              -x[y] on log-probabilities x (log_softmax outputs), weight, ignore_index
KLDivLoss            y (log y - x) on log-probabilities x (log_target: exp(y) (y - x))
===================  =====================================================================

Weighted means are PyTorch's: with a class ``weight`` (CrossEntropyLoss, NLLLoss) "mean" divides
by the total weight of the counted samples, and samples labelled ``ignore_index`` count for
nothing.

>>> loss_fn = nn.CrossEntropyLoss()
>>> loss = loss_fn(model(x), labels)        # labels: integers in [0, C)
>>> loss.backward()
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import numpy as np

import autograd_core as ag
from autograd_core import kernels
from autograd_core.function import Function

from ._checks import non_negative_float, probability
from .base import Module
from .layers import ensure_tensor

Reduction = Literal["mean", "sum", "none"]


class _Loss(Module):
    """Base: holds ``reduction`` and converts the target."""

    _reductions: tuple[str, ...] = ("mean", "sum", "none")

    def __init__(self, reduction: Reduction = "mean"):
        super().__init__()
        if reduction not in self._reductions:
            expected = ", ".join(repr(r) for r in self._reductions[:-1])
            raise ValueError(f"{type(self).__name__}: reduction must be {expected} or "
                             f"{self._reductions[-1]!r}, got {reduction!r}")
        self.reduction = reduction

    def weighted(self, prediction: Any, target: Any, sample_weight: Any) -> ag.Tensor:
        """The loss with sample ``i``'s share multiplied by ``sample_weight[i]`` (Keras' sample
        weights): ``sum_i w_i l_i / n`` for "mean", where ``l_i`` is sample i's mean over its
        elements and ``n`` the number of samples counted by the plain mean, so that weights of 1
        give back the plain loss. ``fit(class_weight=...)`` uses it.
        """
        unreduced = copy.copy(self)  # shares the parameters and settings; only the reduction
        object.__setattr__(unreduced, "reduction", "none")
        values = unreduced(prediction, target)
        weights = np.asarray(sample_weight, dtype=values.dtype)
        if weights.shape != values.shape[:1]:
            raise ag.ShapeError(f"{type(self).__name__}.weighted: {values.shape[0]} samples but "
                                f"sample weights of shape {weights.shape}")
        if values.ndim > 1:
            per_sample = values.reshape(len(weights), -1)
            per_sample = per_sample.sum(axis=1) if self.reduction in ("sum", "batchmean") \
                else per_sample.mean(axis=1)
        else:
            per_sample = values
        total = (per_sample * weights).sum()
        return total if self.reduction == "sum" else total / self._samples_counted(target)

    def _samples_counted(self, target: Any) -> int:
        """How many samples the "mean" reduction averages over."""
        return len(target)

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


class L1Loss(_Loss):
    """Mean absolute error: reduce(|prediction - target|); the gradient at 0 is 0."""

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        prediction, target = self._pair(prediction, target)
        return self._reduce(ag.abs(prediction - target))


class _Huber(Function):
    """loss = d**2 / 2 where |d| < delta, else delta (|d| - delta / 2), with d = p - y.

    d loss / d p = clip(d, -delta, delta) (and minus that for y): quadratic near zero, linear
    (robust to outliers) beyond delta.
    """

    name = "huber"

    def forward(self, p, y, *, delta):
        self.delta = delta
        self.save_for_backward(p, y)
        d = p - y
        return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))

    def backward(self, grad, p, y):
        grad_d = grad * np.clip(p - y, -self.delta, self.delta)
        return grad_d, -grad_d


class HuberLoss(_Loss):
    """Huber loss: squared error below ``delta``, linear above (PyTorch's HuberLoss)::

        l = 0.5 d**2                    if |d| < delta
            delta (|d| - 0.5 delta)     otherwise,            d = prediction - target
    """

    def __init__(self, reduction: Reduction = "mean", delta: float = 1.0):
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be > 0, got {delta!r}")
        self.delta = float(delta)

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        prediction, target = self._pair(prediction, target)
        return self._reduce(_Huber.apply(prediction, target, delta=self.delta))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, delta={self.delta}"


class SmoothL1Loss(_Loss):
    """Smooth L1 loss (PyTorch's SmoothL1Loss): HuberLoss(delta=beta) / beta::

        l = 0.5 d**2 / beta             if |d| < beta
            |d| - 0.5 beta              otherwise;     beta = 0 gives L1Loss
    """

    def __init__(self, reduction: Reduction = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = non_negative_float("SmoothL1Loss", "beta", beta)

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        prediction, target = self._pair(prediction, target)
        if self.beta == 0:
            return self._reduce(ag.abs(prediction - target))
        return self._reduce(_Huber.apply(prediction, target, delta=self.beta) / self.beta)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, beta={self.beta}"


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

    and its gradient is sigmoid(x) - y, exact for any x (e.g. 1e4). As in PyTorch, ``pos_weight``
    (one value per class, the last axis) weighs the positive term, trading recall for precision,
    and ``weight`` (broadcast against the prediction) rescales each element::

        l = weight * [pos_weight y softplus(-x) + (1 - y) softplus(x)]

    >>> loss_fn = nn.BCEWithLogitsLoss(pos_weight=np.array([3.0]))   # positives count 3 times
    """

    def __init__(self, weight: Any = None, reduction: Reduction = "mean", pos_weight: Any = None):
        super().__init__(reduction)
        self.weight = _optional_array("BCEWithLogitsLoss", "weight", weight)
        self.pos_weight = _optional_array("BCEWithLogitsLoss", "pos_weight", pos_weight)

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        logits, target = self._pair(prediction, target)
        dtype = logits.dtype
        if self.pos_weight is None:
            loss = ag.softplus(logits) - logits * target
        else:
            _broadcastable("BCEWithLogitsLoss", "pos_weight", self.pos_weight, logits.shape)
            log_weight = target * (self.pos_weight.astype(dtype) - 1) + 1
            loss = (1 - target) * logits + log_weight * ag.softplus(-logits)
        if self.weight is not None:
            _broadcastable("BCEWithLogitsLoss", "weight", self.weight, logits.shape)
            loss = loss * self.weight.astype(dtype)
        return self._reduce(loss)


def _optional_array(loss: str, name: str, value: Any) -> np.ndarray | None:
    """``value`` as a float numpy array (a copy), or None."""
    if value is None:
        return None
    array = np.array(value.data if isinstance(value, ag.Tensor) else value, dtype=float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{loss}: {name} must be finite, got {array}")
    return array


def _broadcastable(loss: str, name: str, array: np.ndarray, shape: tuple[int, ...]) -> None:
    try:
        np.broadcast_shapes(array.shape, shape)
    except ValueError:
        raise ag.ShapeError(f"{loss}: {name} of shape {array.shape} does not broadcast against "
                            f"the prediction's shape {shape}") from None


class _ClassLoss(_Loss):
    """Base of NLLLoss and CrossEntropyLoss: (N, C) scores against N class labels, with
    PyTorch's class ``weight`` (C values) and ``ignore_index``."""

    def __init__(self, weight: Any = None, ignore_index: int = -100,
                 reduction: Reduction = "mean"):
        super().__init__(reduction)
        name = type(self).__name__
        self.weight = _optional_array(name, "weight", weight)
        if self.weight is not None and (self.weight.ndim != 1 or np.any(self.weight < 0)):
            raise ValueError(f"{name}: weight must be one non-negative number per class (shape "
                             f"(C,)), got shape {self.weight.shape}")
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
            raise TypeError(f"{name}: ignore_index must be an integer, got {ignore_index!r}")
        self.ignore_index = int(ignore_index)

    def _scores(self, prediction: Any, what: str) -> ag.Tensor:
        scores = ensure_tensor(prediction)
        if scores.ndim != 2 or scores.dtype.kind != "f":
            raise ag.ShapeError(f"{type(self).__name__}: expected floating {what} of shape (N, C), "
                                f"got shape {scores.shape} {scores.dtype}")
        if self.weight is not None and self.weight.shape != scores.shape[1:]:
            raise ag.ShapeError(f"{type(self).__name__}: weight has {self.weight.shape[0]} "
                                f"entries for {scores.shape[1]} classes")
        return scores

    def _labels(self, target: np.ndarray, shape: tuple[int, int], what: str
                ) -> tuple[np.ndarray, bool]:
        """``target`` as int64 labels, each in [0, C) or equal to ``ignore_index``, and whether
        any of them is ignored."""
        name, n = type(self).__name__, shape[0]
        if target.shape != (n,):
            raise ag.ShapeError(
                f"{name}: {what} have shape {shape}, so the target must be {n} integer labels "
                f"(shape ({n},))" + (f" or probabilities of shape {shape}"
                                     if isinstance(self, CrossEntropyLoss) else "")
                + f"; got shape {target.shape} {target.dtype}"
            )
        if target.dtype.kind == "f":
            if not np.array_equal(target, np.round(target)):
                raise ValueError(f"{name}: a target of shape (N,) must hold whole class "
                                 "numbers; got fractional values")
            target = target.astype(np.int64)
        elif target.dtype.kind not in "iu":
            raise ag.DTypeError(f"{name}: labels must be integers, got {target.dtype}")
        classes, ignore = shape[1], self.ignore_index
        if not kernels.labels_in_range(target, classes):  # the rare case: look closer
            bad = (target != ignore) & ((target < 0) | (target >= classes))
            if bad.any():
                raise ValueError(f"{name}: label {target[bad][0]} is out of range for "
                                 f"{classes} classes ({what} of shape {shape}; ignore_index="
                                 f"{ignore})")
            ignored = True  # the labels outside [0, C) are all ignore_index
        else:  # an ignore_index outside [0, C) then matches none of them
            ignored = 0 <= ignore < classes and bool(np.any(target == ignore))
        return target.astype(np.int64, copy=False), ignored

    def _nll(self, log_probs: ag.Tensor, labels: np.ndarray, smoothing: float = 0.0
             ) -> ag.Tensor:
        """PyTorch's weighted, ignoring, label-smoothed NLL of ``log_probs`` (N, C)::

            l_i = -(1 - s) w[y_i] x[i, y_i] - (s / C) sum_c w_c x[i, c]    (0 if y_i ignored)

        "mean" divides the sum by sum_i w[y_i] over the counted samples.
        """
        n, c = log_probs.shape
        dtype = log_probs.dtype
        class_weight = np.ones(c, dtype) if self.weight is None else self.weight.astype(dtype)
        counted = labels != self.ignore_index
        safe = np.where(counted, labels, 0)
        sample_weight = class_weight[safe] * counted
        coefficients = np.zeros((n, c), dtype)
        coefficients[np.arange(n), safe] = (1 - smoothing) * sample_weight
        if smoothing:
            coefficients += (smoothing / c) * class_weight * counted[:, None]
        loss = -(log_probs * coefficients).sum(axis=1)
        if self.reduction == "mean":
            return loss.sum() / sample_weight.sum()
        return self._reduce(loss)

    def _samples_counted(self, target: Any) -> int:
        labels = target.data if isinstance(target, ag.Tensor) else np.asarray(target)
        return int(np.sum(labels != self.ignore_index)) if labels.ndim == 1 else len(labels)

    def weighted(self, prediction: Any, target: Any, sample_weight: Any) -> ag.Tensor:
        if self.weight is not None:
            raise ValueError(f"{type(self).__name__}: sample (class) weights cannot be combined "
                             "with the loss's own class weight; use one of them")
        return super().weighted(prediction, target, sample_weight)

    def extra_repr(self) -> str:
        extra = super().extra_repr()
        if self.weight is not None:
            extra += f", weight={self.weight.tolist()}"
        if self.ignore_index != -100:
            extra += f", ignore_index={self.ignore_index}"
        return extra


class NLLLoss(_ClassLoss):
    """Negative log-likelihood of N labels under log-probabilities of shape (N, C) (the output
    of a ``log_softmax``): ``l_i = -weight[y_i] x[i, y_i]``; labels equal to ``ignore_index``
    are skipped. ``CrossEntropyLoss`` is this after a log_softmax.

    >>> nn.NLLLoss()(ag.log_softmax(logits, axis=1), labels)
    """

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        log_probs = self._scores(prediction, "log-probabilities")
        target_array = target.data if isinstance(target, ag.Tensor) else np.asarray(target)
        labels, _ = self._labels(target_array, log_probs.shape, "log-probabilities")
        return self._nll(log_probs, labels)


class CrossEntropyLoss(_ClassLoss):
    """Softmax cross-entropy on logits of shape (N, C): -sum_c y_c log_softmax(x)_c per row.

    The target is either N integer class labels in [0, C) (float labels holding whole numbers
    are accepted), or an (N, C) array of class probabilities such as one-hot rows. Options as in
    PyTorch: ``weight`` (one per class; the labelled "mean" divides by the total weight),
    ``ignore_index`` (labels that count for nothing) and ``label_smoothing`` s (the target
    becomes (1 - s) onehot + s / C). Plain integer labels go through the fused
    ``ag.softmax_cross_entropy`` (one node, one pass forward and backward); everything else
    through ``log_softmax``. Either way logits like 1e4 give finite losses and gradients.
    "mean" averages over the N rows.

    >>> nn.CrossEntropyLoss(label_smoothing=0.1)(logits, labels)
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100,
                 reduction: Reduction = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, ignore_index, reduction)
        self.label_smoothing = probability("CrossEntropyLoss", "label_smoothing",
                                           label_smoothing)

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        logits = self._scores(prediction, "logits")
        target_array = target.data if isinstance(target, ag.Tensor) else np.asarray(target)
        if target_array.shape == logits.shape:
            return self._soft_targets(logits, target)
        labels, ignored = self._labels(target_array, logits.shape, "logits")
        if self.weight is None and not self.label_smoothing and not ignored:
            return ag.softmax_cross_entropy(logits, labels, self.reduction)
        return self._nll(ag.log_softmax(logits, axis=1), labels, self.label_smoothing)

    def _soft_targets(self, logits: ag.Tensor, target: Any) -> ag.Tensor:
        """Probabilities as targets: -sum_c w_c y_c log_softmax(x)_c, "mean" over the rows."""
        _, probs = self._pair(logits, target)
        if self.label_smoothing:
            probs = probs * (1 - self.label_smoothing) + self.label_smoothing / logits.shape[1]
        if self.weight is not None:
            probs = probs * self.weight.astype(logits.dtype)
        return self._reduce(-(probs * ag.log_softmax(logits, axis=1)).sum(axis=1))

    def extra_repr(self) -> str:
        extra = super().extra_repr()
        return extra + (f", label_smoothing={self.label_smoothing}"
                        if self.label_smoothing else "")


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of the target distribution y from the model's, given as
    log-probabilities x (e.g. ``log_softmax`` outputs), PyTorch's KLDivLoss::

        l = y (log y - x)          (0 where y = 0)
        l = exp(y) (y - x)         with log_target=True (y given as log-probabilities)

    ``reduction="batchmean"`` (sum / N) is the mathematical KL divergence per sample; "mean"
    (PyTorch's default, kept for compatibility) divides by the number of elements instead.
    Where y = 0 the gradient with respect to y (undefined there) is taken as -x; PyTorch gives NaN.
    """

    _reductions = ("mean", "batchmean", "sum", "none")

    def __init__(self, reduction: Literal["mean", "batchmean", "sum", "none"] = "mean",
                 log_target: bool = False):
        super().__init__(reduction)
        self.log_target = bool(log_target)

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        log_q, target = self._pair(prediction, target)
        if self.log_target:
            loss = ag.exp(target) * (target - log_q)
        else:
            positive = target.data > 0
            log_target = ag.log(ag.where(positive, target, ag.ones_like(target)))
            loss = target * (log_target - log_q)
        if self.reduction == "batchmean":
            return loss.sum() / (log_q.shape[0] if log_q.ndim else 1)
        return self._reduce(loss)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}" + (", log_target=True" if self.log_target else "")
