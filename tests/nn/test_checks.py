"""Tests of nn._checks: what each argument check accepts, converts and refuses."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from nn import _checks

NOT_NUMBERS = [True, "1", None, [1], np.ones(2)]


@pytest.mark.parametrize("value, expected", [(1, 1), (np.int64(7), 7), (2**40, 2**40)])
def test_positive_int_accepts_and_converts(value, expected):
    result = _checks.positive_int("Layer", "size", value)
    assert result == expected and type(result) is int


@pytest.mark.parametrize("value", [0, -3, 2.0, 2.5, *NOT_NUMBERS])
def test_positive_int_refuses_naming_where_what_and_the_value(value):
    with pytest.raises(ValueError, match=rf"^Layer: size must be a positive integer, got "
                                         rf"{re.escape(repr(value))}$"):
        _checks.positive_int("Layer", "size", value)


def test_non_negative_int():
    assert _checks.non_negative_int("fit", "epochs", 0) == 0
    for bad in (-1, 1.0, True):
        with pytest.raises(ValueError, match="fit: epochs must be a non-negative integer"):
            _checks.non_negative_int("fit", "epochs", bad)


def test_positive_int_list():
    assert _checks.positive_int_list("MLP", "sizes", (np.int32(3), 2)) == [3, 2]
    for bad in ([3], [], [3, 0], [3, 2.0], [3, True]):
        with pytest.raises(ValueError, match=r"MLP: sizes must list at least two positive"):
            _checks.positive_int_list("MLP", "sizes", bad)


def test_seed_or_none():
    assert _checks.seed_or_none("RBM", None) is None
    assert _checks.seed_or_none("RBM", np.uint8(3)) == 3
    for bad in (1.0, "0", False):
        with pytest.raises(ValueError, match="RBM: seed must be an integer or None"):
            _checks.seed_or_none("RBM", bad)


def test_real_number():
    assert _checks.real_number("f", "x", np.float32(0.5)) == 0.5
    for bad in NOT_NUMBERS:
        with pytest.raises(ValueError, match="f: x must be a number, got"):
            _checks.real_number("f", "x", bad)


def test_non_negative_float_with_and_without_an_upper_bound():
    assert _checks.non_negative_float("SGD", "lr", 0) == 0.0
    assert _checks.non_negative_float("RBM", "momentum", 0.99, below=1.0) == 0.99
    for bad in (-1e-9, math.nan, *NOT_NUMBERS):
        with pytest.raises(ValueError, match="SGD: lr must be a number >= 0, got"):
            _checks.non_negative_float("SGD", "lr", bad)
    with pytest.raises(ValueError, match=r"RBM: momentum must be a number in \[0, 1\), got 1.0"):
        _checks.non_negative_float("RBM", "momentum", 1.0, below=1.0)


def test_probability():
    assert _checks.probability("Dropout", "p", 1) == 1.0
    for bad in (-0.1, 1.5, math.nan, *NOT_NUMBERS):
        with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\]"):
            _checks.probability("Dropout", "p", bad)
