"""The engine's random number generator, seeded by ``ag.manual_seed`` for reproducible runs."""

from __future__ import annotations

import numpy as np

# Made on first use: numpy.random (with the hashing modules it imports) is about a tenth of
# ``import autograd_core``, and a program that never draws a random number need not pay it.
_generator: np.random.Generator | None = None


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the generator behind ``ag.rand``, ``ag.randn``, ``nn.init`` and dropout."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def get_generator() -> np.random.Generator:
    """The generator in use (reseeded by ``manual_seed``)."""
    global _generator
    if _generator is None:
        _generator = np.random.default_rng()
    return _generator
