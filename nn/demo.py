"""``python -m nn train``: an MLP learns the bundled 8x8 handwritten digits.

Splits the 1797 digits into training (80%) and test (20%) sets, standardises the pixels with
statistics of the training set, trains a ReLU MLP (64-256-10 by default) with Adam (with a
progress bar), prints the model, the optimizer, the test accuracy and the confusion matrix, saves
the model with ``nn.save`` (the standardisation folded into its first layer), says how to load
it, and draws the loss curves into a PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def train_digits(out_dir: Path, epochs: int = 40, seed: int = 0, lr: float = 1e-3,
                 hidden: Sequence[int] = (256,), batch_size: int = 32) -> None:
    """Train, report and save the digits MLP; write ``digits_mlp.nnz`` and ``loss_curve.png``.

    ``hidden``: the sizes of the hidden layers; ``lr``: Adam's learning rate."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ag.manual_seed(seed)
    x, y = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=seed,
                                                        stratify=y)
    scaler = StandardScaler().fit(x_train)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels")

    model = MLP([64, *hidden, 10])
    optimizer = optim.Adam(model.parameters(), lr=lr)
    sizes = "-".join(map(str, model.sizes))
    print(f"model: MLP {sizes} with ReLU, {model.num_parameters():,} parameters")
    print("\n".join("  " + line for line in repr(model).splitlines()))
    plural = "" if epochs == 1 else "s"
    print(f"training: Adam (lr {lr:g}), cross-entropy loss, {epochs} epoch{plural} of batches "
          f"of {batch_size}")
    # the test set is only watched (curves), never used to choose anything
    history = fit(model, CrossEntropyLoss(), optimizer,
                  (scaler.transform(x_train), y_train), epochs=epochs, batch_size=batch_size,
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
    print("load it with:\n"
          "  import nn\n"
          f"  model = nn.load({str(model_path)!r})\n"
          "  digits = model.predict(pixels)   # pixels: (n, 64) array in [0, 1] -> n digits")
