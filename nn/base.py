"""``nn.Module``: the base class of every layer and model.

It is ``ModuleBase`` (``nn.module``: parameters, children, modes, state and config) combined
with ``KerasMethods`` (``nn.train``: ``compile``, ``fit``, ``evaluate``, ``predict``); the two
are joined here, in a file that imports both, so that neither the model code nor the training
code imports the other.
"""

from __future__ import annotations

from .module import ModuleBase
from .train import KerasMethods

__all__ = ["Module"]


class Module(KerasMethods, ModuleBase):
    """Base class of layers and models: a tree of modules whose leaves hold Parameters.

    Subclasses call ``super().__init__()`` first, assign parameters and sub-modules as
    attributes, and define ``forward``. Call the module (``model(x)``), not ``forward``, so that
    the layer's name scope is recorded. See ``nn.module`` for registration, traversal, state
    and ``nn.save`` descriptions, and ``nn.train`` for the Keras-style methods::

        model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=20, validation_data=(x_val, y_val))
    """
