"""Classification metrics on labels or raw model outputs.

Every metric accepts what a model returns as well as plain labels, turning them into class labels
the same way (``to_labels``):

- 2-D scores with more than one column (logits, probabilities or one-hot rows): the argmax per row;
- floating-point scores of shape (n,) or (n, 1) (a sigmoid output): 1 where the score exceeds
  ``threshold`` (0.5), else 0;
- integer or boolean arrays: the labels themselves.

>>> accuracy([0, 1, 1], [[2.0, -1.0], [0.1, 0.3], [0.9, 0.2]])   # argmax -> [0, 1, 0]
0.6666666666666666
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .data import as_array

__all__ = ["to_labels", "accuracy", "confusion_matrix", "precision", "recall",
           "mean_absolute_error", "mean_squared_error", "get_metric"]


def to_labels(values, threshold: float = 0.5) -> np.ndarray:
    """Class labels (int64, shape (n,)) from labels, one-hot rows or scores (see the module doc)."""
    array = as_array(values, "to_labels")
    if array.ndim == 2 and array.shape[1] > 1:
        return array.argmax(axis=1)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"to_labels: expected labels of shape (n,) or scores of shape (n, k), "
                         f"got shape {array.shape}")
    if array.dtype.kind == "f":
        return (array > threshold).astype(np.int64)
    return array.astype(np.int64)


def _pair(caller: str, y_true, y_pred, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    true, pred = to_labels(y_true, threshold), to_labels(y_pred, threshold)
    if true.shape != pred.shape:
        raise ValueError(f"{caller}: y_true and y_pred hold different numbers of samples: "
                         f"{np.shape(y_true)} vs {np.shape(y_pred)}")
    return true, pred


def accuracy(y_true, y_pred, threshold: float = 0.5) -> float:
    """The fraction of samples whose predicted class equals the true class."""
    true, pred = _pair("accuracy", y_true, y_pred, threshold)
    if true.size == 0:
        raise ValueError("accuracy: no samples")
    return float(np.mean(true == pred))


def confusion_matrix(y_true, y_pred, num_classes: int | None = None,
                     threshold: float = 0.5) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as class ``j`` (int64, k x k).

    Rows are true classes and columns predictions, as in scikit-learn; the diagonal holds the hits.
    ``num_classes`` defaults to one more than the largest label seen.

    >>> confusion_matrix([0, 1, 1], [0, 1, 0])
    array([[1, 0],
           [1, 1]])
    """
    true, pred = _pair("confusion_matrix", y_true, y_pred, threshold)
    if true.size and min(true.min(), pred.min()) < 0:
        raise ValueError("confusion_matrix: labels must be non-negative integers")
    k = num_classes if num_classes is not None else int(max(true.max(initial=-1),
                                                            pred.max(initial=-1))) + 1
    if true.size and max(true.max(), pred.max()) >= k:
        raise ValueError(f"confusion_matrix: a label exceeds num_classes={k}")
    # each (true, pred) pair is one cell of a flattened k*k grid
    return np.bincount(true * k + pred, minlength=k * k).reshape(k, k)


def _per_class(caller: str, matrix: np.ndarray, axis: int,
               average: str | None) -> np.ndarray | float:
    hits = np.diag(matrix).astype(np.float64)
    totals = matrix.sum(axis=axis)
    scores = np.divide(hits, totals, out=np.zeros_like(hits), where=totals > 0)
    if average is None:
        return scores
    if average == "macro":
        return float(scores.mean())
    raise ValueError(f"{caller}: average must be None or 'macro', got {average!r}")


def precision(y_true, y_pred, num_classes: int | None = None,
              average: str | None = "macro") -> np.ndarray | float:
    """Of the samples predicted as ``c``, the fraction truly ``c``: ``C[c, c] / sum_i C[i, c]``.

    ``average=None`` gives one value per class; "macro" (default) their mean. A class never
    predicted scores 0.
    """
    return _per_class("precision", confusion_matrix(y_true, y_pred, num_classes), 0, average)


def recall(y_true, y_pred, num_classes: int | None = None,
           average: str | None = "macro") -> np.ndarray | float:
    """Of the samples of class ``c``, the fraction predicted ``c``: ``C[c, c] / sum_j C[c, j]``.

    ``average=None`` gives one value per class; "macro" (default) their mean.
    """
    return _per_class("recall", confusion_matrix(y_true, y_pred, num_classes), 1, average)


def _regression_pair(caller: str, y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Both as float arrays of one shape; (n,) against (n, 1) is accepted, as in Keras."""
    true = as_array(y_true, caller).astype(float, copy=False)
    pred = as_array(y_pred, caller).astype(float, copy=False)
    if true.shape != pred.shape:
        if true.size != pred.size or true.shape[:1] != pred.shape[:1]:
            raise ValueError(f"{caller}: y_true has shape {true.shape} but y_pred {pred.shape}")
        pred = pred.reshape(true.shape)
    if true.size == 0:
        raise ValueError(f"{caller}: no samples")
    return true, pred


def mean_absolute_error(y_true, y_pred) -> float:
    """The mean of |y_true - y_pred| over all elements (Keras' "mae")."""
    true, pred = _regression_pair("mean_absolute_error", y_true, y_pred)
    return float(np.mean(np.abs(true - pred)))


def mean_squared_error(y_true, y_pred) -> float:
    """The mean of (y_true - y_pred)**2 over all elements (Keras' "mse")."""
    true, pred = _regression_pair("mean_squared_error", y_true, y_pred)
    return float(np.mean((true - pred) ** 2))


_METRICS = {"accuracy": accuracy, "acc": accuracy, "precision": precision, "recall": recall,
            "mae": mean_absolute_error, "mean_absolute_error": mean_absolute_error,
            "mse": mean_squared_error, "mean_squared_error": mean_squared_error}


def get_metric(metric) -> tuple[str, Callable[..., float]]:
    """A metric function from its name ("accuracy"/"acc", "precision", "recall",
    "mae"/"mean_absolute_error", "mse"/"mean_squared_error") or the function itself.

    Returns ``(name, fn)`` where ``fn(y_true, y_pred) -> float``; the name keys the History: the
    name as given (lower case, so ``metrics=["acc"]`` records ``history["acc"]`` as Keras does),
    or a function's ``__name__``.
    """
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    if isinstance(metric, str) and metric.lower() in _METRICS:
        return metric.lower(), _METRICS[metric.lower()]
    raise ValueError(f"unknown metric {metric!r}; use one of {sorted(_METRICS)} or a function "
                     "f(y_true, y_pred) -> float")
