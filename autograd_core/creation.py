"""Factories: new leaf tensors filled with constants, ranges or random numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import random
from .tensor import Tensor, get_default_dtype


def _shape(shape: tuple) -> tuple[int, ...]:
    """Accept both zeros(2, 3) and zeros((2, 3))."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _leaf(array: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad)


def zeros(*shape: int, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``ag.zeros(2, 3)``."""
    return _leaf(np.zeros(_shape(shape), dtype or get_default_dtype()), requires_grad)


def ones(*shape: int, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ag.ones(2, 3)``."""
    return _leaf(np.ones(_shape(shape), dtype or get_default_dtype()), requires_grad)


def full(shape: int | tuple[int, ...], fill_value: float, dtype=None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``."""
    return _leaf(np.full(shape, fill_value, dtype or get_default_dtype()), requires_grad)


def zeros_like(t: Tensor | np.ndarray, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and, unless given, the dtype) of ``t``."""
    return _leaf(np.zeros_like(np.asarray(t), dtype=dtype), requires_grad)


def ones_like(t: Tensor | np.ndarray, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and, unless given, the dtype) of ``t``."""
    return _leaf(np.ones_like(np.asarray(t), dtype=dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix."""
    return _leaf(np.eye(n, m, dtype=dtype or get_default_dtype()), requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype=None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop): int64 for integer arguments, else float32."""
    values = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if dtype is None and values.dtype.kind == "f":
        dtype = get_default_dtype()
    return _leaf(values.astype(dtype) if dtype is not None else values, requires_grad)


def rand(*shape: int, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1), from the generator seeded by ``ag.manual_seed``."""
    dtype = np.dtype(dtype or get_default_dtype())
    return _leaf(random.get_generator().random(_shape(shape)).astype(dtype), requires_grad)


def randn(*shape: int, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples, from the generator seeded by ``ag.manual_seed``."""
    dtype = np.dtype(dtype or get_default_dtype())
    return _leaf(random.get_generator().standard_normal(_shape(shape)).astype(dtype),
                 requires_grad)


__all__: list[Any] = ["zeros", "ones", "full", "zeros_like", "ones_like", "eye", "arange",
                      "rand", "randn"]
