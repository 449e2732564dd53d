"""The project's main job: ``python -m nn example`` (the default) or ``python -m nn train``.

- ``example``: the worked example g = (x + y) * z at x = 1, y = 3, z = -3, its forward values,
  the narrated backward pass, and the graph written as an SVG file.
- ``train``: an MLP trained on the bundled 8x8 digits, with test accuracy, confusion matrix, the
  saved model and the loss curve as a PNG.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nn", description=__doc__.split("\n")[0])
    parser.add_argument("mode", nargs="?", default="example", choices=["example", "train"])
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="folder for the files written (default: ./out)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.mode == "example":
        from autograd_core.viz.demo import worked_example

        worked_example(args.out)
    else:
        from nn.demo import train_digits

        train_digits(args.out)


if __name__ == "__main__":
    main()
