"""Training loops: ``fit`` (with History, progress bar and callbacks), ``evaluate`` and ``predict``.

``fit`` runs the loop every PyTorch script writes by hand, once per mini-batch::

    optimizer.zero_grad()
    loss_value = loss(model(x_batch), y_batch)
    loss_value.backward()
    optimizer.step()

and records per-epoch averages in a ``History`` (Keras' ``history.history`` dict):

>>> model = nn.MLP([64, 32, 10])
>>> opt = nn.optim.Adam(model.parameters(), lr=1e-3)
>>> history = nn.fit(model, nn.CrossEntropyLoss(), opt, (x_train, y_train), epochs=20,
...                  validation_data=(x_test, y_test), metrics=["accuracy"],
...                  callbacks=[nn.EarlyStopping(patience=3)])
>>> history.history.keys()     # dict_keys(['loss', 'accuracy', 'val_loss', 'val_accuracy'])

The Keras style is the same loop behind ``model.compile(optimizer="adam", loss="cross_entropy",
metrics=["accuracy"])`` and ``model.fit(x, y, epochs=20)``; Keras' names work too
(``loss="sparse_categorical_crossentropy"``, ``optimizer="adamw"``, ``metrics=["acc", "mae"]``),
as do ``validation_split=0.2``, ``class_weight={0: 1.0, 1: 5.0}`` and
``callbacks=[nn.ModelCheckpoint("ckpt-{epoch:02d}.nnz", save_best_only=True)]``.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

import autograd_core as ag

from . import optim
from ._checks import non_negative_float, non_negative_int, positive_int
from .data import DataLoader, as_array
from .metrics import get_metric

if TYPE_CHECKING:
    from .base import Module

__all__ = ["fit", "evaluate", "predict", "History", "Callback", "EarlyStopping",
           "ModelCheckpoint", "KerasMethods", "get_loss", "get_optimizer"]


@functools.cache
def _progress_bar_class() -> type:
    # Imported on first use: ``import tqdm`` costs about 40 ms (it reads its version through
    # importlib.metadata), a fifth of ``import nn``. tqdm.autonotebook picks the notebook bar or
    # the text bar as tqdm.auto does, without tqdm.auto's asyncio mix-in (which imports asyncio).
    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        # without ipywidgets it warns once and falls back to the text bar, which is fine here
        warnings.simplefilter("ignore", TqdmWarning)
        from tqdm.autonotebook import tqdm as bar_class
    return bar_class


def tqdm(iterable: Iterable, **options: Any) -> Any:
    """A tqdm progress bar over ``iterable`` (tqdm's ``options``); the notebook one in Jupyter."""
    return _progress_bar_class()(iterable, **options)


Data = DataLoader | tuple | list


class History:
    """Per-epoch records of a ``fit``: ``history["loss"]``, ``history["val_accuracy"]`` ...

    ``history.history`` is a dict from name to a list with one float per epoch run (training loss
    and metrics, then the same with a ``val_`` prefix when there is validation data);
    ``history.epoch`` lists the epoch numbers (from 0).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        """Record one epoch's ``logs``."""
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.history:
            raise KeyError(f"History: no record {key!r}; recorded: {sorted(self.history)}")
        return self.history[key]

    def __len__(self) -> int:
        return len(self.epoch)

    def plot(self, key: str = "loss", ax=None):
        """Plot ``key`` and, if recorded, ``val_<key>`` against the epoch; return the Axes."""
        import matplotlib.pyplot as plt

        ax = ax if ax is not None else plt.subplots()[1]
        epochs = [e + 1 for e in self.epoch]
        marker = "." if len(epochs) <= 60 else None  # dots only while they stay apart
        for name in (key, f"val_{key}"):
            if name in self.history:
                ax.plot(epochs, self.history[name], marker=marker, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
        return ax

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items())
        return f"History({len(self)} epochs; last: {last})"


class Callback:
    """Hooks that ``fit`` calls. Subclass and override what you need.

    ``on_epoch_end`` receives the epoch number and that epoch's logs (the values the History
    records); returning True asks ``fit`` to stop after this epoch. A learning-rate schedule,
    for example, is a three-line callback::

        class Schedule(nn.Callback):
            def __init__(self, scheduler):
                self.scheduler = scheduler            # e.g. nn.optim.StepLR(opt, step_size=10)

            def on_epoch_end(self, epoch, logs, model):
                self.scheduler.step()
    """

    def on_train_begin(self, model: Module) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Module) -> bool | None:
        """Called after each epoch; return True to stop training."""
        return None

    def on_train_end(self, model: Module) -> None:
        """Called once after the last epoch (also after an early stop)."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs in a row.

    An epoch improves when the monitored value beats the best so far by more than ``min_delta``
    (lower is better for losses, higher for names containing "acc"; force it with ``mode="min"``
    or ``"max"``). With ``restore_best=True`` the model gets back, when training ends, the weights
    it had at the end of its best epoch. After ``fit``: ``best`` (the best value), ``best_epoch``
    and ``stopped_epoch`` (None if training ran to the end).

    >>> nn.fit(..., validation_data=(x_val, y_val), callbacks=[nn.EarlyStopping(patience=3)])
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best: bool = True):
        patience = non_negative_int("EarlyStopping", "patience", patience)
        min_delta = non_negative_float("EarlyStopping", "min_delta", min_delta)
        mode = _monitor_mode("EarlyStopping", mode, monitor)
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.mode, self.restore_best = mode, restore_best
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self._wait = 0
        self._best_state: dict[str, np.ndarray] | None = None

    def on_train_begin(self, model: Module) -> None:
        self._reset()

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Module) -> bool:
        value = _monitored("EarlyStopping", self.monitor, logs)
        if self._improved(value):
            self.best, self.best_epoch, self._wait = value, epoch, 0
            if self.restore_best:
                self._best_state = model.state_dict()  # a copy, safe from later updates
            return False
        self._wait += 1
        if self._wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model: Module) -> None:
        if self._best_state is not None:
            model.load_state_dict(self._best_state)
            self._best_state = None

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, mode={self.mode!r}, "
                f"restore_best={self.restore_best})")


def _monitor_mode(caller: str, mode: str, monitor: str) -> str:
    """"min" or "max"; "auto" is "max" for accuracies (names containing "acc"), else "min"."""
    if mode == "auto":
        mode = "max" if "acc" in monitor else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"{caller}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    return mode


def _monitored(caller: str, monitor: str, logs: dict[str, float]) -> float:
    """The monitored value among an epoch's logs, or a clear error."""
    if monitor not in logs:
        hint = " (pass validation_data or validation_split to fit)" \
            if monitor.startswith("val_") else ""
        raise KeyError(f"{caller}: monitored value {monitor!r} is not among the epoch's logs "
                       f"{sorted(logs)}{hint}")
    return logs[monitor]


class ModelCheckpoint(Callback):
    """Save the model at the end of epochs with ``nn.save`` (atomic), as Keras' ModelCheckpoint.

    ``filepath`` may hold ``{epoch}`` (counted from 1, as Keras) and any log name, formatted
    with Python's ``str.format``: ``"ckpt-{epoch:02d}-{val_loss:.3f}.nnz"``. Options:

    - ``save_best_only``: save only when ``monitor`` beats the best value so far (lower is better,
      higher for names containing "acc"; force it with ``mode="min"`` or ``"max"``); with a fixed
      ``filepath`` the file always holds the best model;
    - ``period``: consider saving every ``period`` epochs only (Keras' ``period``); ``save_freq``
      is accepted as Keras' default ``"epoch"`` (saving every N batches is not supported);
    - ``save_weights_only``: save the state_dict only (load it with ``nn.load_state_dict``);
    - ``optimizer`` / ``scheduler``: also save their state, making each file a checkpoint to
      resume from: ``{"model": ..., "optimizer": ..., "scheduler": ..., "epoch": ...}`` (``epoch``
      counts the epochs done); resume with ``ckpt = nn.load(path)``, then
      ``opt.load_state_dict(ckpt["optimizer"])``.

    After ``fit``: ``best`` (the best monitored value), ``best_epoch`` and ``saved`` (the paths
    written, in order).

    >>> nn.fit(..., validation_split=0.2,
    ...        callbacks=[nn.ModelCheckpoint("best.nnz", monitor="val_loss", save_best_only=True)])
    >>> best = nn.load("best.nnz")
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: str = "epoch", period: int = 1,
                 optimizer: Any = None, scheduler: Any = None):
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' (saving every N "
                             f"batches is not supported), got {save_freq!r}; pass period=N to "
                             "save every N epochs")
        self.filepath = os.fspath(filepath)
        self.period = positive_int("ModelCheckpoint", "period", period)
        self.monitor, self.verbose = monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode = _monitor_mode("ModelCheckpoint", mode, monitor)
        if save_weights_only and (optimizer is not None or scheduler is not None):
            raise ValueError("ModelCheckpoint: save_weights_only=True saves the model's weights "
                             "only; drop it to save the optimizer and scheduler too")
        self.optimizer, self.scheduler = optimizer, scheduler
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.saved: list[str] = []
        self._epochs_since_save = 0

    def on_train_begin(self, model: Module) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Module) -> None:
        self._epochs_since_save += 1
        if self._epochs_since_save < self.period:
            return
        self._epochs_since_save = 0
        if self.save_best_only:
            value = _monitored("ModelCheckpoint", self.monitor, logs)
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best, self.best_epoch = value, epoch
        self._save(model, epoch, self._path(epoch, logs))

    def _path(self, epoch: int, logs: dict[str, float]) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"ModelCheckpoint: cannot fill in filepath {self.filepath!r} with "
                             f"epoch and the logs {sorted(logs)}: {err!r}") from err

    def _save(self, model: Module, epoch: int, path: str) -> None:
        from .serialization import save  # late: nn.serialization imports nn.base, which imports us

        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            content = model.state_dict()
        elif self.optimizer is None and self.scheduler is None:
            content = model
        else:
            content = {"model": model, "epoch": epoch + 1}
            if self.optimizer is not None:
                content["optimizer"] = self.optimizer
            if self.scheduler is not None:
                content["scheduler"] = self.scheduler
        save(content, path)
        self.saved.append(path)
        if self.verbose:
            _progress_bar_class().write(f"ModelCheckpoint: saved {path}")

    def __repr__(self) -> str:
        return (f"ModelCheckpoint({self.filepath!r}, monitor={self.monitor!r}, "
                f"save_best_only={self.save_best_only}, mode={self.mode!r}, "
                f"period={self.period})")


def _loader(caller: str, data: Data, batch_size: int | None, shuffle: bool = False,
            seed: int | None = None) -> DataLoader:
    """``data`` as a DataLoader: a DataLoader as is, or ``(x, y)`` batched (``None``: one batch)."""
    if isinstance(data, DataLoader):
        return data
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{caller}: data must be an (x, y) pair or an nn.data.DataLoader, got "
                        f"{type(data).__name__}")
    x, y = data
    if batch_size is None:
        batch_size = max(len(x), 1)
    return DataLoader(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed)


def _metric_fns(metrics: Iterable | None) -> list[tuple[str, Callable]]:
    fns = [get_metric(m) for m in (metrics or [])]
    names = [name for name, _ in fns]
    if "loss" in names or len(set(names)) != len(names):
        raise ValueError(f"metrics: names must be distinct and not 'loss', got {names}")
    return fns


def _outputs(caller: str, model: Module, loader: DataLoader
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """The model's outputs on every batch (eval mode, no graph) and the matching targets."""
    outs, targets = [], []
    was_training = model.training
    model.eval()
    try:
        with ag.no_grad():
            for batch in loader:
                xb, yb = batch if isinstance(batch, tuple) else (batch, None)
                outs.append(model(xb).data)
                if yb is not None:
                    targets.append(yb.data)
    finally:
        model.train(was_training)
    if not outs:
        raise ValueError(f"{caller}: the data holds no complete batch")
    return np.concatenate(outs), (np.concatenate(targets) if targets else None)


def evaluate(model: Module, loss: Callable, data: Data, metrics: Sequence | None = None,
             batch_size: int | None = None) -> dict[str, float]:
    """The loss and metrics of ``model`` on ``data`` (``(x, y)`` or a DataLoader), in eval mode.

    The loss is computed once over all outputs, so with ``reduction="mean"`` it is the mean over
    every sample. ``batch_size`` (default: everything at once) only bounds memory.

    >>> nn.evaluate(model, nn.CrossEntropyLoss(), (x_test, y_test), metrics=["accuracy"])
    {'loss': 0.09, 'accuracy': 0.97}
    """
    outputs, targets = _outputs("evaluate", model, _loader("evaluate", data, batch_size))
    if targets is None:
        raise ValueError("evaluate: the data has no targets (y)")
    with ag.no_grad():
        logs = {"loss": float(loss(ag.Tensor(outputs), ag.Tensor(targets)).item())}
    for name, fn in _metric_fns(metrics):
        logs[name] = float(fn(targets, outputs))
    return logs


def predict(model: Module, x, batch_size: int | None = None) -> np.ndarray:
    """The model's outputs on ``x`` (array, Tensor or DataLoader) as a numpy array, in eval mode.

    Dropout is off and no graph is recorded; the model's training/eval mode is restored after.
    """
    if isinstance(x, DataLoader):
        loader = x
    else:
        x = as_array(x, "predict x")  # lists -> default dtype, as model(x) and DataLoader do
        loader = DataLoader(x, batch_size=batch_size or max(len(x), 1))
    return _outputs("predict", model, loader)[0]


def fit(model: Module, loss: Callable, optimizer, data: Data, epochs: int = 1,
        batch_size: int = 32, validation_data: Data | None = None,
        callbacks: Sequence[Callback] | None = None, metrics: Sequence | None = None,
        verbose: int = 1, shuffle: bool = True, seed: int | None = None,
        validation_split: float = 0.0,
        class_weight: Mapping[int, float] | None = None, jit: bool = False) -> History:
    """Train ``model`` for ``epochs`` passes over ``data``; return the History.

    - ``loss``: ``loss(output, target) -> scalar Tensor`` (an ``nn`` loss);
      ``optimizer``: has ``zero_grad()`` and ``step()`` (an ``nn.optim`` optimizer).
    - ``data`` / ``validation_data``: ``(x, y)`` arrays or an ``nn.data.DataLoader``. For arrays,
      ``batch_size``, ``shuffle`` and ``seed`` (reshuffles each epoch; None: ``ag.manual_seed``
      governs it) build the loader; a DataLoader brings its own.
    - ``metrics``: names ("accuracy") or functions ``f(y_true, y_pred) -> float``.
    - ``callbacks``: ``Callback`` objects, e.g. ``EarlyStopping``.
    - ``verbose``: 1 shows a tqdm progress bar with the epoch's logs, 0 prints nothing.
    - ``validation_split`` (Keras): hold out this fraction of ``(x, y)`` as validation data, taken
      from the *end* of the arrays before any shuffling.
    - ``class_weight`` (Keras): ``{class: weight}``; each training sample's loss is multiplied by
      its class's weight (1 for classes not listed), ``sum_i w_i l_i / n`` (``loss.weighted``).
      The class is the label, the argmax of a one-hot row, or a 0/1 binary target. Validation
      losses are not weighted.
    - ``jit``: capture the training step with ``ag.jit`` (zero_grad, forward, loss, backward,
      optimizer step), so that after two recorded batches of each shape the step replays as a
      flat plan; the same numbers as without it.

    The History records per epoch: ``loss`` (mean of the batch losses weighted by batch size),
    each metric on the epoch's training outputs (taken in training mode, as Keras does), then
    ``val_loss`` and ``val_<metric>`` from ``evaluate`` on the validation data. The model is left
    in the training/eval mode it had before.
    """
    epochs = non_negative_int("fit", "epochs", epochs)
    if validation_split:
        if validation_data is not None:
            raise ValueError("fit: pass validation_data or validation_split, not both")
        data, validation_data = _split_validation(data, validation_split)
    if class_weight is not None:
        class_weight = _check_class_weight(class_weight, loss)
    loader = _loader("fit", data, batch_size, shuffle, seed)
    if loader.y is None:
        raise ValueError("fit: the training DataLoader has no targets; build it as "
                         "DataLoader(x, y, ...)")
    val_loader = None if validation_data is None else _loader("fit validation_data",
                                                              validation_data, None)
    metric_fns = _metric_fns(metrics)
    step = _train_step(model, loss, optimizer)
    if jit:
        step = ag.jit(step)
    return run_epochs(
        model, lambda: _train_epoch(model, step, loader, metric_fns, class_weight),
        epochs, loss, val_loader, metrics, callbacks, verbose)


def run_epochs(model: Module, train_epoch: Callable[[], dict[str, float]], epochs: int,
               loss: Callable, val_loader: DataLoader | None, metrics: Sequence | None,
               callbacks: Sequence[Callback] | None, verbose: int, desc: str = "fit") -> History:
    """``fit``'s outer loop around ``train_epoch()`` (one pass; returns its logs): validation,
    History, progress bar and callbacks. ``nn.distributed.fit`` runs its epochs through it too.
    """
    callbacks = list(callbacks or [])
    history = History()
    was_training = model.training
    for callback in callbacks:
        callback.on_train_begin(model)
    bar = tqdm(range(epochs), desc=desc, unit="epoch", disable=not verbose, leave=True)
    try:
        for epoch in bar:
            logs = train_epoch()
            if val_loader is not None:
                val_logs = evaluate(model, loss, val_loader, metrics)
                logs.update({f"val_{name}": value for name, value in val_logs.items()})
            history.append(epoch, logs)
            bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()}, refresh=False)
            stop = [bool(cb.on_epoch_end(epoch, logs, model)) for cb in callbacks]
            if any(stop):
                break
    finally:
        bar.close()
        model.train(was_training)
    for callback in callbacks:
        callback.on_train_end(model)
    return history


def _split_validation(data: Data, fraction: float) -> tuple[tuple, tuple]:
    """Keras' split: the last ``fraction`` of ``(x, y)`` (before shuffling) for validation."""
    fraction = non_negative_float("fit", "validation_split", fraction, below=1.0)
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"fit: validation_split needs data as an (x, y) pair of arrays, got "
                        f"{type(data).__name__}; split a DataLoader's data yourself and pass "
                        "validation_data")
    x, y = as_array(data[0], "fit x"), as_array(data[1], "fit y")
    split_at = math.floor(len(x) * (1.0 - fraction))
    if split_at == 0 or split_at == len(x):
        raise ValueError(f"fit: validation_split={fraction} of {len(x)} samples leaves "
                         f"{split_at} for training and {len(x) - split_at} for validation; "
                         "both need at least one")
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def _check_class_weight(class_weight: Mapping[int, float], loss: Callable) -> dict[int, float]:
    if not isinstance(class_weight, Mapping) or not all(
            isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in class_weight):
        raise TypeError(f"fit: class_weight must be a dict from integer class to weight, got "
                        f"{class_weight!r:.200}")
    weights = {int(k): float(v) for k, v in class_weight.items()}
    if not all(math.isfinite(w) and w >= 0 for w in weights.values()):
        raise ValueError(f"fit: class weights must be finite and >= 0, got {weights}")
    if not callable(getattr(loss, "weighted", None)):
        raise ValueError(f"fit: class_weight needs an nn loss, which can weight each sample "
                         f"(nn.CrossEntropyLoss(), nn.BCEWithLogitsLoss(), nn.MSELoss() ...); "
                         f"got {type(loss).__name__}")
    return weights


def _sample_weights(class_weight: dict[int, float], y: np.ndarray) -> np.ndarray:
    """Each sample's class weight; the class is the label, a one-hot row's argmax or a 0/1."""
    if y.ndim == 2 and y.shape[1] > 1:
        labels = y.argmax(axis=1)
    else:
        labels = y.reshape(len(y), -1)
        if labels.shape[1] != 1 or not np.array_equal(labels, np.round(labels)):
            raise ValueError(f"fit: class_weight needs class labels (integers, one-hot rows or "
                             f"0/1 targets), got targets of shape {y.shape} {y.dtype} with "
                             "other values")
        labels = labels[:, 0].astype(np.int64)
    return np.array([class_weight.get(label, 1.0) for label in labels.tolist()])


def _train_step(model: Module, loss: Callable, optimizer) -> Callable:
    """One optimization step on a batch: ``step(xb, yb, sample_weights=None) -> (loss, out)``."""
    def step(xb: ag.Tensor, yb: ag.Tensor, sample_weights: np.ndarray | None = None) -> tuple:
        optimizer.zero_grad()
        out = model(xb)
        if sample_weights is None:
            batch_loss = loss(out, yb)
        else:
            batch_loss = loss.weighted(out, yb, sample_weights)
        batch_loss.backward()
        optimizer.step()
        return batch_loss, out
    return step


def _train_epoch(model: Module, step: Callable, loader: DataLoader,
                 metric_fns: list[tuple[str, Callable]],
                 class_weight: dict[int, float] | None = None) -> dict[str, float]:
    model.train()
    total, count = 0.0, 0
    outputs, targets = [], []
    weight_dtype = next(iter(model.parameters()), ag.zeros(0)).dtype
    for xb, yb in loader:
        if class_weight is None:
            batch_loss, out = step(xb, yb)
        else:
            # in the loss's dtype already, so that a captured step reads this very array
            weights = _sample_weights(class_weight, yb.data).astype(weight_dtype)
            batch_loss, out = step(xb, yb, weights)
        total += batch_loss.item() * len(xb)
        count += len(xb)
        if metric_fns:  # the outputs are computed anyway; keep them for the epoch's metrics
            outputs.append(out.data)
            targets.append(yb.data)
    if count == 0:
        raise ValueError("fit: the training data holds no complete batch (drop_last with fewer "
                         "samples than batch_size?)")
    logs = {"loss": total / count}
    if metric_fns:
        y_true, y_pred = np.concatenate(targets), np.concatenate(outputs)
        for name, fn in metric_fns:
            logs[name] = float(fn(y_true, y_pred))
    return logs


# -- Keras style: compile, then fit/evaluate/predict on the model -------------------------------

# name -> (nn.losses class, its arguments). The Keras cross-entropy names take logits (Keras'
# from_logits=True), since nn models end in raw scores as PyTorch's do.
_LOSSES: dict[str, tuple[str, dict[str, Any]]] = {
    "mse": ("MSELoss", {}), "mean_squared_error": ("MSELoss", {}), "l2": ("L2Loss", {}),
    "mae": ("L1Loss", {}), "mean_absolute_error": ("L1Loss", {}), "huber": ("HuberLoss", {}),
    "bce": ("BCELoss", {}), "bce_with_logits": ("BCEWithLogitsLoss", {}),
    "binary_crossentropy": ("BCEWithLogitsLoss", {}),
    "cross_entropy": ("CrossEntropyLoss", {}),
    "sparse_categorical_crossentropy": ("CrossEntropyLoss", {}),
    "categorical_crossentropy": ("CrossEntropyLoss", {}),
    "kld": ("KLDivLoss", {"reduction": "batchmean"}),
    "kl_divergence": ("KLDivLoss", {"reduction": "batchmean"}),
}
# name -> (nn.optim class, Keras' default arguments)
_OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("SGD", {"lr": 1e-2}), "adam": ("Adam", {"lr": 1e-3}),
    "adamw": ("AdamW", {"lr": 1e-3, "weight_decay": 4e-3}),
    "adagrad": ("Adagrad", {"lr": 1e-2}), "rmsprop": ("RMSprop", {"lr": 1e-3}),
}


def get_loss(loss: str | Callable) -> Callable:
    """A loss object from its name, or the loss itself.

    Names: "mse"/"mean_squared_error", "mae"/"mean_absolute_error", "huber", "l2", "bce" (on
    probabilities), "bce_with_logits"/"binary_crossentropy", "cross_entropy"/
    "sparse_categorical_crossentropy"/"categorical_crossentropy" (integer labels or one-hot rows),
    "kld"/"kl_divergence" (KLDivLoss "batchmean", on log-probabilities). The Keras cross-entropy
    names take the model's raw scores (logits), like Keras with ``from_logits=True``: end the
    model without a softmax or sigmoid (or use "bce" on probabilities).
    """
    if callable(loss):
        return loss
    if isinstance(loss, str) and loss.lower() in _LOSSES:
        from . import losses

        name, kwargs = _LOSSES[loss.lower()]
        return getattr(losses, name)(**kwargs)
    raise ValueError(f"get_loss: unknown loss {loss!r}; use one of {sorted(_LOSSES)} or a loss "
                     "object")


def optimizer_class(name: str, caller: str = "get_optimizer") -> type:
    """The ``nn.optim`` class named ``name`` ("adam", "SGD", ...: any case)."""
    if name.lower() not in _OPTIMIZERS:
        raise ValueError(f"{caller}: unknown optimizer {name!r}; use one of "
                         f"{sorted(_OPTIMIZERS)} or an nn.optim optimizer")
    return getattr(optim, _OPTIMIZERS[name.lower()][0])


def get_optimizer(optimizer: Any, model: Module):
    """An optimizer over ``model.parameters()`` from its name, with Keras' defaults ("adam" lr
    1e-3, "adamw" lr 1e-3 and weight decay 4e-3, "sgd" lr 1e-2, "adagrad" lr 1e-2, "rmsprop"
    lr 1e-3), or the optimizer object itself."""
    if isinstance(optimizer, str):
        return optimizer_class(optimizer)(model.parameters(),
                                          **_OPTIMIZERS[optimizer.lower()][1])
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "zero_grad")):
        raise TypeError(f"get_optimizer: optimizer must be a name or have step() and "
                        f"zero_grad(), got {type(optimizer).__name__}")
    return optimizer


@dataclass
class CompiledSettings:
    """What ``Module.compile`` stores for ``Module.fit`` / ``Module.evaluate``."""

    optimizer: Any
    loss: Callable
    metrics: list = field(default_factory=list)


def _pair_or_loader(x, y) -> Data:
    return x if y is None and isinstance(x, DataLoader) else (x, y)


class KerasMethods:
    """Keras-style ``compile`` / ``fit`` / ``evaluate`` / ``predict`` methods for ``nn.Module``.

    ``nn.Module`` (``nn/base.py``) is ``ModuleBase`` (``nn/module.py``: parameters, children,
    state, config) plus this mixin, so the model code never imports the training code.
    """

    def compile(self, optimizer: Any = "adam", loss: str | Callable = "mse",
                metrics: Sequence | None = None) -> Module:
        """Choose the optimizer, loss and metrics of ``fit``/``evaluate`` (names or objects);
        return self."""
        _metric_fns(metrics)  # fail now on an unknown metric, not at the first epoch
        self._compiled = CompiledSettings(get_optimizer(optimizer, self), get_loss(loss),
                                          list(metrics or []))
        return self

    def _compiled_settings(self, caller: str) -> CompiledSettings:
        """The settings ``compile`` stored, or a clear error if it was not called."""
        settings = self.__dict__.get("_compiled")
        if settings is None:
            raise RuntimeError(f"{type(self).__name__}.{caller}: call "
                               f"model.compile(optimizer, loss, metrics) first")
        return settings

    def fit(self, x: Any, y: Any = None, epochs: int = 1, batch_size: int = 32,
            validation_data: Data | None = None, callbacks: Sequence[Callback] | None = None,
            verbose: int = 1, shuffle: bool = True, seed: int | None = None,
            validation_split: float = 0.0,
            class_weight: Mapping[int, float] | None = None, jit: bool = False) -> History:
        """Train with the compiled optimizer, loss and metrics (see ``nn.fit``, also for
        ``jit``); return the History. ``x`` may be a DataLoader (then ``y`` is None)."""
        settings = self._compiled_settings("fit")
        return fit(self, settings.loss, settings.optimizer, _pair_or_loader(x, y),
                   epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                   callbacks=callbacks, metrics=settings.metrics, verbose=verbose,
                   shuffle=shuffle, seed=seed, validation_split=validation_split,
                   class_weight=class_weight, jit=jit)

    def evaluate(self, x: Any, y: Any = None, batch_size: int | None = None) -> dict[str, float]:
        """The compiled loss and metrics on ``(x, y)`` (see ``nn.evaluate``)."""
        settings = self._compiled_settings("evaluate")
        return evaluate(self, settings.loss, _pair_or_loader(x, y), settings.metrics, batch_size)

    def predict(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """The outputs on ``x`` as a numpy array, in eval mode (see ``nn.predict``)."""
        return predict(self, x, batch_size)
