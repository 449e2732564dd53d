"""Errors the engine raises on bad input.

Each one subclasses the built-in exception a numpy user would catch (ValueError, TypeError), so
existing ``except`` clauses keep working, while the message always names the op and the shapes and
dtypes involved.
"""

from __future__ import annotations


class AutogradError(Exception):
    """Base class of every error raised by autograd_core on bad input."""


class ShapeError(AutogradError, ValueError):
    """Shapes that do not fit the op (broadcasting, matmul, a wrong ``gradient`` shape...)."""


class DTypeError(AutogradError, TypeError):
    """A dtype or operand type that the op does not accept (e.g. grad on an int tensor)."""


def describe(*arrays) -> str:
    """``(2, 3) float32, (4,) float32``: the shapes and dtypes of the operands, for messages."""
    return ", ".join(f"{tuple(a.shape)} {a.dtype}" for a in arrays)
