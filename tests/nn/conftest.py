"""Fixtures shared by the nn tests."""

from __future__ import annotations

import pytest

import nn


@pytest.fixture(scope="session")
def digits():
    """The bundled 8x8 digits: x float32 (1797, 64) in [0, 1], y int64 (1797,)."""
    return nn.data.load_digits()
