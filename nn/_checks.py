"""Argument checks shared by nn's layers, models, optimizers and training loops.

Each check takes ``where`` (the class or function the error names, e.g. "Linear" or
"RBM.sample"), the argument's name and its value; it returns the value as a plain Python
``int`` / ``float`` or raises ``ValueError`` naming ``where``, the argument and the bad value::

    self.in_features = positive_int("Linear", "in_features", in_features)
    # ValueError: Linear: in_features must be a positive integer, got 0

Booleans are refused where a number is expected (``True`` is an ``int`` to Python, never a layer
size or a learning rate to a user); numpy integer and float scalars are accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def positive_int(where: str, name: str, value: Any) -> int:
    """``value`` as an int if it is an integer >= 1."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(where: str, name: str, value: Any) -> int:
    """``value`` as an int if it is an integer >= 0."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{where}: {name} must be a non-negative integer, got {value!r}")
    return int(value)


def positive_int_list(where: str, name: str, values: Iterable[Any]) -> list[int]:
    """``values`` as a list of ints if it holds at least two positive integers (layer sizes)."""
    values = list(values)
    if len(values) < 2 or not all(_is_int(v) and v >= 1 for v in values):
        raise ValueError(f"{where}: {name} must list at least two positive integers (inputs, "
                         f"..., outputs), got {values!r}")
    return [int(v) for v in values]


def seed_or_none(where: str, value: Any) -> int | None:
    """``value`` as an int, or None; anything else is not a random seed."""
    if value is not None and not _is_int(value):
        raise ValueError(f"{where}: seed must be an integer or None, got {value!r}")
    return None if value is None else int(value)


def real_number(where: str, name: str, value: Any) -> float:
    """``value`` as a float if it is a real number (not a bool, a string, an array ...)."""
    if not _is_number(value):
        raise ValueError(f"{where}: {name} must be a number, got {value!r}")
    return float(value)


def non_negative_float(where: str, name: str, value: Any, below: float | None = None) -> float:
    """``value`` as a float if it is a number >= 0 (and < ``below`` when given); NaN fails."""
    if not _is_number(value) or not value >= 0 or (below is not None and not value < below):
        bound = ">= 0" if below is None else f"in [0, {below:g})"
        raise ValueError(f"{where}: {name} must be a number {bound}, got {value!r}")
    return float(value)


def probability(where: str, name: str, value: Any) -> float:
    """``value`` as a float if it is a probability, a number in [0, 1]."""
    if not _is_number(value) or not 0 <= value <= 1:
        raise ValueError(f"{where}: {name} must be a probability in [0, 1], got {value!r}")
    return float(value)
