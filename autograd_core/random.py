"""The engine's random number generator, seeded by ``ag.manual_seed`` for reproducible runs."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the generator behind ``ag.rand``, ``ag.randn``, ``nn.init`` and dropout."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def get_generator() -> np.random.Generator:
    """The generator in use (reseeded by ``manual_seed``)."""
    return _generator
