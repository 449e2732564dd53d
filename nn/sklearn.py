"""scikit-learn estimators around nn models: ``Classifier`` and ``Regressor``.

They follow scikit-learn's conventions (constructor arguments stored as given, checked in
``fit``; fitted attributes end in ``_``), so ``clone``, ``Pipeline``, ``cross_val_score`` and
``GridSearchCV`` work. Each ``fit`` trains a fresh model: by default an ``nn.MLP`` with
``hidden_layer_sizes``; or ``module``, either a factory ``module(n_features, n_outputs) ->
nn.Module`` or an ``nn.Module`` whose untrained copy is trained (the template is never
changed, so refitting starts from the same weights).

>>> from sklearn.model_selection import GridSearchCV, cross_val_score
>>> clf = nn.sklearn.Classifier(hidden_layer_sizes=(64,), epochs=20, random_state=0)
>>> cross_val_score(clf, x, y, cv=5)
>>> GridSearchCV(clf, {"lr": [1e-3, 1e-2], "hidden_layer_sizes": [(32,), (64, 32)]}).fit(x, y)
>>> def small(n_in, n_out):
...     return nn.Sequential(nn.Linear(n_in, 16), nn.Tanh(), nn.Linear(16, n_out))
>>> reg = nn.sklearn.Regressor(small, optimizer="sgd", lr=0.05, epochs=30).fit(x, t)

Importing this module imports scikit-learn; ``import nn`` does not (``nn.sklearn`` is loaded on
first use).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

import autograd_core as ag

from .losses import CrossEntropyLoss, MSELoss
from .mlp import MLP
from .module import ModuleBase
from .train import History, fit, get_loss, optimizer_class, predict

__all__ = ["Classifier", "Regressor"]


class _Estimator(BaseEstimator):
    """What Classifier and Regressor share: the arguments, building and training the model.

    - ``module``: None (an MLP with ``hidden_layer_sizes`` and ``activation``), a factory
      ``(n_features, n_outputs) -> nn.Module``, or an ``nn.Module`` (a copy is trained).
    - ``loss``: None (cross-entropy on logits / mean squared error), a loss name understood by
      ``Module.compile`` or a loss object.
    - ``optimizer``: the name of an ``nn.optim`` optimizer ("adam", "sgd", ...) or a class
      called as ``optimizer(params, lr=lr)``; ``lr`` its learning rate.
    - ``epochs``, ``batch_size``, ``shuffle``: as in ``nn.fit``; ``verbose`` 1 shows progress.
    - ``random_state``: None, an int or a ``RandomState``; when set, ``fit`` reseeds
      ``ag.manual_seed`` from it first (weights, shuffling and dropout become reproducible).

    Fitted: ``model_`` (the trained nn.Module), ``history_`` (its ``nn.History``),
    ``n_features_in_``.
    """

    def __init__(self, module: ModuleBase | Callable[[int, int], ModuleBase] | None = None, *,
                 hidden_layer_sizes: Sequence[int] = (32,), activation: str = "relu",
                 loss: Any = None, optimizer: Any = "adam", lr: float = 1e-3, epochs: int = 50,
                 batch_size: int = 32, shuffle: bool = True, random_state: Any = None,
                 verbose: int = 0):
        self.module = module
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose

    def _build(self, n_features: int, n_outputs: int) -> ModuleBase:
        name = type(self).__name__
        if self.module is None:
            return MLP([n_features, *self.hidden_layer_sizes, n_outputs],
                       activation=self.activation)
        if isinstance(self.module, ModuleBase):
            return copy.deepcopy(self.module)
        if callable(self.module):
            model = self.module(n_features, n_outputs)
            if not isinstance(model, ModuleBase):
                raise TypeError(f"{name}: module({n_features}, {n_outputs}) returned "
                                f"{type(model).__name__!r}, not an nn.Module")
            return model
        raise TypeError(f"{name}: module must be None, an nn.Module or a factory "
                        f"(n_features, n_outputs) -> nn.Module, got {type(self.module).__name__}")

    def _make_optimizer(self, model: ModuleBase) -> Any:
        make = optimizer_class(self.optimizer, type(self).__name__) \
            if isinstance(self.optimizer, str) else self.optimizer
        return make(model.parameters(), lr=self.lr)

    def _train(self, x: np.ndarray, targets: np.ndarray, n_outputs: int, default_loss: Any
               ) -> None:
        if self.random_state is not None:
            ag.manual_seed(int(check_random_state(self.random_state).randint(2**31 - 1)))
        self.model_ = self._build(x.shape[1], n_outputs)
        loss = default_loss if self.loss is None else get_loss(self.loss)
        self.history_: History = fit(self.model_, loss, self._make_optimizer(self.model_),
                                     (x, targets), epochs=self.epochs,
                                     batch_size=self.batch_size, shuffle=self.shuffle,
                                     verbose=self.verbose)

    def _outputs(self, x: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        x = validate_data(self, x, reset=False, dtype=np.float32)
        return predict(self.model_, x)


class Classifier(ClassifierMixin, _Estimator):
    """An nn model trained as a classifier: one output (logit) per class, cross-entropy loss.

    Fitted: ``classes_`` (the labels, sorted), plus ``model_``, ``history_``,
    ``n_features_in_``. ``predict_proba`` is the softmax of the logits.
    """

    def fit(self, X: Any, y: Any) -> Classifier:
        x, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        self._train(x, labels.astype(np.int64), len(self.classes_), CrossEntropyLoss())
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        logits = self._outputs(X).astype(np.float64)
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        labels = np.argmax(self._outputs(X), axis=1)
        return self.classes_[labels]


class Regressor(RegressorMixin, _Estimator):
    """An nn model trained as a regressor: one output per target, mean squared error loss.

    ``y`` may be 1-d (predictions are 1-d) or 2-d (n_samples, n_targets).
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X: Any, y: Any) -> Regressor:
        x, y = validate_data(self, X, y, dtype=np.float32, multi_output=True, y_numeric=True)
        self._y_ndim = np.ndim(y)
        targets = np.asarray(y, np.float32).reshape(len(y), -1)
        self._train(x, targets, targets.shape[1], MSELoss())
        return self

    def predict(self, X: Any) -> np.ndarray:
        outputs = self._outputs(X).astype(np.float64)  # scikit-learn's regressors give float64
        return outputs[:, 0] if self._y_ndim == 1 else outputs
