"""``python -m nn train``: an MLP learns the bundled 8x8 handwritten digits.

Splits the 1797 digits into train (64%), validation (16%) and test (20%) sets, trains a
64-128-64-10 ReLU MLP with Adam and early stopping on the validation loss (with a progress bar),
prints the test accuracy and the confusion matrix, saves the model with ``nn.save`` and draws the
loss curves into a PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import autograd_core as ag

from . import optim
from .data import load_digits, train_test_split
from .losses import CrossEntropyLoss
from .metrics import accuracy, confusion_matrix
from .mlp import MLP
from .serialization import save
from .train import EarlyStopping, fit, predict


def format_confusion_matrix(matrix: np.ndarray) -> str:
    """The matrix as text: rows are true classes, columns predictions, both labelled."""
    width = max(len(str(matrix.max())), len(str(len(matrix) - 1))) + 1
    header = " " * 8 + "".join(f"{j:>{width}}" for j in range(len(matrix)))
    rows = [f"true {i:>2} " + "".join(f"{v:>{width}}" for v in row)
            for i, row in enumerate(matrix)]
    return "\n".join(["predicted ->", header, *rows])


def train_digits(out_dir: Path, epochs: int = 60, seed: int = 0) -> None:
    """Train, report and save the digits MLP; write ``digits_mlp.nnz`` and ``loss_curve.png``."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ag.manual_seed(seed)
    x, y = load_digits()
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.2, seed=seed, stratify=y)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=0.2, seed=seed,
                                                      stratify=y_rest)
    print(f"digits: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test images "
          f"of 8x8 pixels")

    model = MLP([64, 128, 64, 10])
    history = fit(model, CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3),
                  (x_train, y_train), epochs=epochs, batch_size=32,
                  validation_data=(x_val, y_val), metrics=["accuracy"],
                  callbacks=[EarlyStopping(patience=8)], seed=seed)

    y_pred = predict(model, x_test).argmax(axis=1)
    print(f"trained {len(history)} epochs; test accuracy: {accuracy(y_test, y_pred):.4f}")
    print(format_confusion_matrix(confusion_matrix(y_test, y_pred, num_classes=10)))

    model_path = out_dir / "digits_mlp.nnz"
    save(model, model_path)
    fig = Figure(figsize=(6, 4))
    ax = history.plot("loss", ax=fig.subplots())
    ax.set_title("MLP on the 8x8 digits: cross-entropy per epoch")
    curve_path = out_dir / "loss_curve.png"
    fig.savefig(curve_path, dpi=100, bbox_inches="tight")
    print(f"wrote {model_path} and {curve_path}")
