"""``python -m nn train``: an MLP learns the bundled 8x8 handwritten digits.

Splits the 1797 digits into training (80%) and test (20%) sets, standardises the pixels with
statistics of the training set, trains a 64-256-10 ReLU MLP with Adam (with a progress bar),
prints the test accuracy and the confusion matrix, saves the model with ``nn.save`` (the
standardisation folded into its first layer) and draws the loss curves into a PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import autograd_core as ag

from . import optim
from .data import StandardScaler, load_digits, train_test_split
from .layers import Linear
from .losses import CrossEntropyLoss
from .metrics import accuracy, confusion_matrix
from .mlp import MLP
from .serialization import save
from .train import fit, predict


def format_confusion_matrix(matrix: np.ndarray) -> str:
    """The matrix as text: rows are true classes, columns predictions, both labelled."""
    width = max(len(str(matrix.max())), len(str(len(matrix) - 1))) + 1
    header = " " * 8 + "".join(f"{j:>{width}}" for j in range(len(matrix)))
    rows = [f"true {i:>2} " + "".join(f"{v:>{width}}" for v in row)
            for i, row in enumerate(matrix)]
    return "\n".join(["predicted ->", header, *rows])


def fold_scaler_into(layer: Linear, scaler: StandardScaler) -> None:
    """Make ``layer(x)`` equal ``layer(scaler.transform(x))`` by rewriting its weights.

    W (x - m) / s + b = (W / s) x + (b - (W / s) m), so the saved model takes raw pixels.
    """
    weight = layer.weight.data / scaler.scale_
    layer.bias.data[...] = layer.bias.data - weight @ scaler.mean_
    layer.weight.data[...] = weight


def train_digits(out_dir: Path, epochs: int = 40, seed: int = 0) -> None:
    """Train, report and save the digits MLP; write ``digits_mlp.nnz`` and ``loss_curve.png``."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ag.manual_seed(seed)
    x, y = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=seed,
                                                        stratify=y)
    scaler = StandardScaler().fit(x_train)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels")

    model = MLP([64, 256, 10])
    # the test set is only watched (curves), never used to choose anything
    history = fit(model, CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3),
                  (scaler.transform(x_train), y_train), epochs=epochs, batch_size=32,
                  validation_data=(scaler.transform(x_test), y_test), metrics=["accuracy"],
                  seed=seed)
    fold_scaler_into(model[0], scaler)

    y_pred = predict(model, x_test).argmax(axis=1)
    print(f"test accuracy: {accuracy(y_test, y_pred):.4f}")
    print(format_confusion_matrix(confusion_matrix(y_test, y_pred, num_classes=10)))

    model_path = out_dir / "digits_mlp.nnz"
    save(model, model_path)
    fig = Figure(figsize=(6, 4))
    ax = history.plot("loss", ax=fig.subplots())
    ax.set_title("MLP on the 8x8 digits: cross-entropy (val = held-out test set)")
    curve_path = out_dir / "loss_curve.png"
    fig.savefig(curve_path, dpi=100, bbox_inches="tight")
    print(f"wrote {model_path} (takes raw pixels in [0, 1]) and {curve_path}")
