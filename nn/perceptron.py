"""The perceptron: one unit ``output = activation(w . x + b)``, trained two ways.

- ``activation="step"`` (Rosenblatt, 1958): output 1 if ``w . x + b > 0`` else 0, trained by the
  perceptron learning rule, one sample at a time::

      error = y - output            # -1, 0 or +1
      w <- w + lr * error * x
      b <- b + lr * error

  On linearly separable data (AND, OR) it stops making mistakes after finitely many updates; on
  XOR it never does.
- any differentiable activation ("identity", "sigmoid", "tanh", "relu" ...): the same unit
  trained by gradient descent, i.e. backprop through ``loss(output, y)`` and ``SGD`` steps
  ``w <- w - lr * dloss/dw``. With "identity" and the mean squared error it is linear
  regression; with "sigmoid" and ``loss="l2"`` (squared error / 2) one sample's step is the
  textbook delta rule ``w <- w + lr * (y - output) * sigmoid'(h) * x``.

>>> x, y = nn.data.logic_gate("or")
>>> unit = nn.Perceptron(2)                   # step activation, zero weights
>>> unit.fit(x, y, epochs=10)
>>> unit.predict(x)
array([0., 1., 1., 1.], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_core as ag

from . import optim
from ._checks import positive_int
from .base import Module
from .data import as_array, generator_for
from .layers import ensure_tensor
from .mlp import ACTIVATION_LAYERS, activation_layer
from .module import Parameter, register_module
from .train import History, fit, get_loss, predict


@register_module
class Perceptron(Module):
    """``Perceptron(n_inputs, activation="step", bias=True)``: one unit with weights starting at 0.

    ``weight`` has shape (1, n_inputs) and ``bias`` (1,), as in ``Linear(n_inputs, 1)``; calling
    the unit on x of shape (n, n_inputs) gives outputs of shape (n, 1). Zero weights are fine for
    a single unit (there is no symmetry between units to break) and make runs reproducible.
    """

    def __init__(self, n_inputs: int, activation: str = "step", bias: bool = True):
        super().__init__()
        if activation != "step" and activation not in ACTIVATION_LAYERS:
            raise ValueError(f"Perceptron: unknown activation {activation!r}; choose 'step' or "
                             f"one of {sorted(ACTIVATION_LAYERS)}")
        self.n_inputs = positive_int("Perceptron", "n_inputs", n_inputs)
        self.activation = activation
        dtype = ag.get_default_dtype()
        self.weight = Parameter(np.zeros((1, self.n_inputs), dtype=dtype))
        self.bias = Parameter(np.zeros(1, dtype=dtype)) if bias else None
        self.act = None if activation == "step" else activation_layer(activation, "Perceptron")

    def forward(self, x: Any) -> ag.Tensor:
        x = ensure_tensor(x)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ag.ShapeError(f"Perceptron: expected inputs of shape (n, {self.n_inputs}), got "
                                f"{x.shape} {x.dtype}")
        h = x @ self.weight.T
        if self.bias is not None:
            h = h + self.bias
        if self.activation == "step":  # no gradient: the step is trained by the rule, not backprop
            return (h > 0).astype(h.dtype)
        return h if self.act is None else self.act(h)

    def fit(self, x, y, epochs: int = 100, lr: float = 0.1, loss: str | Callable = "mse",
            batch_size: int | None = None, shuffle: bool = False, seed: int | None = None,
            verbose: int = 0) -> History:
        """Train on ``x`` (n, n_inputs) and targets ``y`` (n,) or (n, 1); return the History.

        Step activation: the perceptron rule over the samples in order (shuffled each epoch if
        ``shuffle``), stopping after the first epoch without a mistake; the History records
        ``errors`` (mistakes per epoch). Other activations: ``nn.fit`` with ``SGD(lr)`` on
        ``loss`` (a name or a loss object) over batches of ``batch_size`` (None: the whole set,
        i.e. plain gradient descent); the History records ``loss``.
        """
        x = as_array(x, "Perceptron.fit x")
        y = as_array(y, "Perceptron.fit y")
        if x.ndim != 2 or x.shape[1] != self.n_inputs or y.shape not in ((len(x),), (len(x), 1)):
            raise ag.ShapeError(f"Perceptron.fit: expected x of shape (n, {self.n_inputs}) and y "
                                f"of shape (n,) or (n, 1), got x {x.shape} and y {y.shape}")
        y = y.reshape(len(x), 1).astype(self.weight.dtype)
        if self.activation == "step":
            return self._fit_rule(x, y[:, 0], epochs, lr, shuffle, seed)
        optimizer = optim.SGD(self.parameters(), lr=lr)
        return fit(self, get_loss(loss), optimizer, (x, y), epochs=epochs,
                   batch_size=batch_size or len(x), shuffle=shuffle, seed=seed, verbose=verbose)

    def _fit_rule(self, x: np.ndarray, y: np.ndarray, epochs: int, lr: float, shuffle: bool,
                  seed: int | None) -> History:
        if not np.isin(y, (0, 1)).all():
            raise ValueError("Perceptron.fit: the step activation needs targets 0 or 1, got "
                             f"{np.unique(y)[:10]}")
        rng = generator_for("Perceptron.fit", seed)
        w = self.weight.data[0]  # views: the rule updates the parameters in place
        b = self.bias.data if self.bias is not None else np.zeros(1, dtype=w.dtype)
        history = History()
        for epoch in range(epochs):
            mistakes = 0
            for i in (rng.permutation(len(x)) if shuffle else range(len(x))):
                error = y[i] - (x[i] @ w + b[0] > 0)
                if error:
                    w += lr * error * x[i]
                    b += lr * error
                    mistakes += 1
            history.append(epoch, {"errors": mistakes})
            if mistakes == 0:
                break
        for param in self.parameters():
            param._bump_version()  # the rule above wrote their arrays in place
        return history

    def predict(self, x, batch_size: int | None = None) -> np.ndarray:
        """The unit's output for each sample, shape (n,): 0/1 for the step, else the activation."""
        return predict(self, x, batch_size).reshape(-1)

    def get_config(self) -> dict[str, Any]:
        return {"n_inputs": self.n_inputs, "activation": self.activation,
                "bias": self.bias is not None}

    def extra_repr(self) -> str:
        return f"n_inputs={self.n_inputs}, activation={self.activation!r}"
