"""The project's main jobs: ``python -m nn example`` (the default) and ``python -m nn train``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

DESCRIPTION = """\
example (the default): the worked example g = (x + y) * z at x = 1, y = 3, z = -3: its forward
  values and the narrated backward pass, with the graph as an SVG picture, the backward pass as
  step-through frames, and a page that steps through both passes (open it in a browser).
train: an MLP learns the bundled 8x8 handwritten digits; prints the model, the optimizer, the
  test accuracy and the confusion matrix, and saves the model and its loss curve."""

EPILOG = """\
examples:
  python -m nn                          the worked example, files in ./out
  python -m nn train --epochs 5         a quick training run
  python -m nn train --hidden 128,64 --lr 0.003 --out models"""


def hidden_sizes(text: str) -> list[int]:
    """``"256"`` or ``"128,64"``: the sizes of the hidden layers."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"--hidden takes positive layer sizes separated by commas (e.g. 256 or 128,64), "
            f"got {text!r}")
    return sizes


def positive(kind: type) -> Callable[[str], float]:
    """An argparse type: ``kind(text)``, refused unless above zero."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:  # "nan" parses as a float and compares False both ways
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog="python -m nn", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    command.add_argument("mode", nargs="?", default="example", choices=["example", "train"],
                         help="the job to run (default: example)")
    command.add_argument("--out", type=Path, default=Path("out"),
                         help="folder for the files written (default: ./out)")
    training = command.add_argument_group("train options")
    training.add_argument("--epochs", type=positive(int), default=40,
                          help="passes over the training set (default: 40)")
    training.add_argument("--lr", type=positive(float), default=1e-3,
                          help="Adam's learning rate (default: 0.001)")
    training.add_argument("--hidden", type=hidden_sizes, default=[256],
                          help="hidden layer sizes, comma-separated (default: 256)")
    training.add_argument("--seed", type=int, default=0,
                          help="seed of the split, the weights and the batches (default: 0)")
    return command


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.mode == "example":
        from autograd_core.viz.demo import worked_example

        worked_example(args.out)
    else:
        from nn.demo import train_digits

        train_digits(args.out, epochs=args.epochs, seed=args.seed, lr=args.lr,
                     hidden=args.hidden)


if __name__ == "__main__":
    main()
