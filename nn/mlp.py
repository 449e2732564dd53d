"""The multilayer perceptron: Linear layers with an activation (and optional dropout) between them.

>>> model = nn.MLP([64, 128, 10])             # Linear(64, 128), ReLU, Linear(128, 10): logits
>>> model(ag.randn(32, 64)).shape
(32, 10)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._checks import positive_int_list, probability
from .base import Module
from .layers import Dropout, Identity, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh
from .module import NotDescribableError, module_to_config, register_module

#: Activation names accepted by ``MLP`` (and ``Perceptron``), with the layer each one builds.
ACTIVATION_LAYERS: dict[str, type[Module]] = {
    "relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU, "softmax": Softmax,
    "identity": Identity,
}


def activation_layer(name: str | None, caller: str) -> Module | None:
    """The layer for an activation name, None for "identity" or None."""
    if name is None or name == "identity":
        return None
    if name not in ACTIVATION_LAYERS:
        raise ValueError(f"{caller}: unknown activation {name!r}; choose one of "
                         f"{sorted(ACTIVATION_LAYERS)} or None")
    return ACTIVATION_LAYERS[name]()


@register_module
class MLP(Sequential):
    """``MLP(sizes, activation="relu", output_activation=None, dropout=0.0)``.

    ``sizes = [n_in, h1, ..., n_out]`` gives one ``Linear`` per consecutive pair. After every
    Linear but the last come the ``activation`` and, if ``dropout > 0``, a ``Dropout(dropout)``;
    after the last, ``output_activation`` (None: raw outputs, e.g. logits for
    ``CrossEntropyLoss``). It is a ``Sequential``, so ``model[-1]``, slicing and iteration work;
    ``nn.save`` stores it by its constructor's arguments.

    >>> nn.MLP([64, 32, 32, 10], activation="tanh", dropout=0.2)
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu",
                 output_activation: str | None = None, dropout: float = 0.0):
        sizes = positive_int_list("MLP", "sizes", sizes)
        dropout = probability("MLP", "dropout", dropout)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out))
            last = i == len(sizes) - 2
            act = activation_layer(output_activation if last else activation, "MLP")
            if act is not None:
                layers.append(act)
            if not last and dropout > 0:
                layers.append(Dropout(dropout))
        super().__init__(*layers)
        self.sizes = sizes
        self.activation = activation
        self.output_activation = output_activation
        self.dropout = dropout
        self._built = [module_to_config(layer) for layer in self]

    def get_config(self) -> dict[str, Any]:
        if [module_to_config(layer) for layer in self] != self._built:
            raise NotDescribableError(
                "MLP.get_config: the layers were changed after construction, so the MLP's "
                "arguments no longer describe it; save nn.Sequential(*model) instead")
        return {"sizes": self.sizes, "activation": self.activation,
                "output_activation": self.output_activation, "dropout": self.dropout}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MLP:
        # Sequential rebuilds from a list of layers; an MLP from its constructor's arguments
        return Module.from_config.__func__(cls, config)
