"""Weight initialisers, in place, with PyTorch's names (``torch.nn.init``).

Each function overwrites ``tensor.data`` (a Parameter, a Tensor or a numpy array), keeps its
dtype, and returns the tensor. Randomness comes from ``ag.random.get_generator()``, so
``ag.manual_seed(0)`` makes every initialisation reproducible.

For a weight of shape (out, in) (``nn.Linear``'s layout), ``fan_in = in`` and ``fan_out = out``;
for more dimensions, both are multiplied by the size of the trailing "receptive field" dims.

=================  ===========================================================================
uniform_           U(a, b)
normal_            N(mean, std**2)
trunc_normal_      N(mean, std**2), values outside [a, b] (default mean -/+ 2 std) redrawn
xavier_uniform_    U(-bound, bound),  bound = gain * sqrt(6 / (fan_in + fan_out))   (Glorot)
xavier_normal_     N(0, std**2),      std = gain * sqrt(2 / (fan_in + fan_out))
kaiming_uniform_   U(-bound, bound),  bound = gain * sqrt(3 / fan)                  (He)
kaiming_normal_    N(0, std**2),      std = gain / sqrt(fan)
zeros_ ones_ constant_
=================  ===========================================================================

>>> ag.manual_seed(0)
>>> w = nn.Parameter(np.empty((256, 784), dtype=np.float32))
>>> nn.init.kaiming_normal_(w, nonlinearity="relu")   # std = sqrt(2 / 784)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, TypeVar

import numpy as np

import autograd_core as ag

from ._checks import real_number

T = TypeVar("T", ag.Tensor, np.ndarray)

_LINEAR_GAIN = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d")


def _array(tensor: ag.Tensor | np.ndarray, fn: str) -> np.ndarray:
    array = tensor.data if isinstance(tensor, ag.Tensor) else tensor
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        kind = f"dtype {array.dtype}" if isinstance(array, np.ndarray) else type(tensor).__name__
        raise TypeError(f"nn.init.{fn}: expected a floating-point Parameter, Tensor or numpy "
                        f"array, got {kind}")
    return array


def _fill(tensor: T, values: float | Callable[[tuple[int, ...]], np.ndarray], fn: str) -> T:
    """Overwrite the data with ``values``, or with ``values(shape)``: random draws happen only
    after the check, so bad input neither advances the generator nor fails on ``.shape``."""
    array = _array(tensor, fn)
    array[...] = values(array.shape) if callable(values) else values
    if isinstance(tensor, ag.Tensor):
        tensor._bump_version()
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance stable through ``nonlinearity`` (as PyTorch).

    linear/sigmoid: 1, tanh: 5/3, relu: sqrt(2), leaky_relu(slope): sqrt(2 / (1 + slope**2)),
    selu: 3/4.
    """
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = real_number("nn.init.calculate_gain", "param (the negative slope)",
                            0.01 if param is None else param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"nn.init.calculate_gain: unsupported nonlinearity {nonlinearity!r}; "
                     f"expected one of {[*_LINEAR_GAIN, 'tanh', 'relu', 'leaky_relu', 'selu']}")


def calculate_fan_in_and_fan_out(tensor: ag.Tensor | np.ndarray) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shaped (out, in, *receptive_field)."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"nn.init: fan in and fan out need a weight with at least 2 dimensions, "
                         f"got shape {tuple(shape)}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor: ag.Tensor | np.ndarray, mode: str, fn: str) -> int:
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    fans = {"fan_in": fan_in, "fan_out": fan_out, "fan_sum": fan_in + fan_out}  # sum: Xavier
    if mode not in fans:
        raise ValueError(f"nn.init.{fn}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fans[mode]
    if fan == 0:
        raise ValueError(f"nn.init.{fn}: cannot initialise a weight of shape {tuple(tensor.shape)}"
                         " with zero elements")
    return fan


def uniform_(tensor: T, a: float = 0.0, b: float = 1.0) -> T:
    """Fill with samples of U(a, b)."""
    rng = ag.random.get_generator()
    return _fill(tensor, lambda shape: rng.uniform(a, b, size=shape), "uniform_")


def normal_(tensor: T, mean: float = 0.0, std: float = 1.0) -> T:
    """Fill with samples of N(mean, std**2)."""
    rng = ag.random.get_generator()
    return _fill(tensor, lambda shape: rng.normal(mean, std, size=shape), "normal_")


def trunc_normal_(tensor: T, mean: float = 0.0, std: float = 1.0, a: float | None = None,
                  b: float | None = None) -> T:
    """Fill with N(mean, std**2) samples, redrawing each one that falls outside [a, b].

    ``a`` and ``b`` are absolute bounds as in PyTorch; left out, they are mean -/+ 2 std (the
    Keras "truncated normal"). Redrawing keeps the shape of the normal inside the bounds.
    """
    low = mean - 2 * std if a is None else a
    high = mean + 2 * std if b is None else b
    if not low < high:
        raise ValueError(f"nn.init.trunc_normal_: need a < b, got a={low}, b={high}")
    inside = 0.5 * (math.erf((high - mean) / (std * math.sqrt(2)))
                    - math.erf((low - mean) / (std * math.sqrt(2))))
    if inside < 1e-3:  # redrawing would take thousands of rounds, or forever
        raise ValueError(f"nn.init.trunc_normal_: [a, b] = [{low}, {high}] holds only "
                         f"{inside:.2g} of N({mean}, {std}**2); move the bounds toward the mean")
    rng = ag.random.get_generator()

    def draw(shape: tuple[int, ...]) -> np.ndarray:
        values = rng.normal(mean, std, size=shape)
        outside = (values < low) | (values > high)
        while outside.any():
            values[outside] = rng.normal(mean, std, size=int(outside.sum()))
            outside = (values < low) | (values > high)
        return values

    return _fill(tensor, draw, "trunc_normal_")


def xavier_uniform_(tensor: T, gain: float = 1.0) -> T:
    """Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    bound = gain * math.sqrt(6.0 / _fan(tensor, "fan_sum", "xavier_uniform_"))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: T, gain: float = 1.0) -> T:
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / _fan(tensor, "fan_sum",
                                                               "xavier_normal_")))


def kaiming_uniform_(tensor: T, a: float = 0.0,
                     mode: Literal["fan_in", "fan_out"] = "fan_in",
                     nonlinearity: str = "leaky_relu") -> T:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan); ``a`` is leaky_relu's slope.

    ``nn.Linear`` uses ``a = sqrt(5)``, which gives b = 1 / sqrt(fan_in).
    """
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / _fan(tensor, mode, "kaiming_uniform_"))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: T, a: float = 0.0,
                    mode: Literal["fan_in", "fan_out"] = "fan_in",
                    nonlinearity: str = "leaky_relu") -> T:
    """He normal: N(0, std**2) with std = gain / sqrt(fan)."""
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(_fan(tensor, mode, "kaiming_normal_")))


def constant_(tensor: T, val: float) -> T:
    """Fill with ``val``."""
    return _fill(tensor, val, "constant_")


def zeros_(tensor: T) -> T:
    """Fill with 0."""
    return _fill(tensor, 0.0, "zeros_")


def ones_(tensor: T) -> T:
    """Fill with 1."""
    return _fill(tensor, 1.0, "ones_")
