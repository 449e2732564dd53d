"""Layers: Linear, the activations as modules, Dropout, Flatten, Identity, and Sequential.

All are registered for ``nn.save``/``nn.load`` (see ``nn.module``): each ``get_config()`` returns
its constructor's arguments.

>>> model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
>>> logits = model(ag.randn(32, 784))            # shape (32, 10)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import autograd_core as ag

from . import init
from ._checks import positive_int, probability
from .base import Module
from .module import Parameter, module_from_config, module_to_config, register_module


def ensure_tensor(x: Any) -> ag.Tensor:
    """``x`` itself if a Tensor, else a Tensor wrapping it (``ag.tensor``'s dtype rules)."""
    return x if isinstance(x, ag.Tensor) else ag.Tensor(x)


@register_module
class Linear(Module):
    """y = act(x @ W.T + b), with W of shape (out_features, in_features) as in PyTorch.

    Both W and b start as U(-1/sqrt(in_features), 1/sqrt(in_features)) (PyTorch's default,
    ``kaiming_uniform_`` with a = sqrt(5)); float32 unless ``ag.set_default_dtype`` says otherwise.

    ``activation`` (None, "relu", "sigmoid" or "tanh") fuses that activation into the layer: one
    ``ag.linear`` node whose forward and backward each make one pass over the output after the
    matmul, instead of a Linear followed by a separate activation layer. None (the default) is
    PyTorch's plain Linear.

    >>> fc = nn.Linear(3, 2)
    >>> fc(ag.ones((4, 3))).shape
    (4, 2)
    >>> hidden = nn.Linear(784, 256, activation="relu")      # Linear + ReLU, one node
    """

    #: The activations ``ag.linear`` fuses into the layer ("identity" is accepted as None).
    FUSED_ACTIVATIONS = (None, "relu", "sigmoid", "tanh")

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 activation: str | None = None):
        super().__init__()
        if activation not in self.FUSED_ACTIVATIONS and activation != "identity":
            raise ValueError(f"Linear: activation must be one of "
                             f"{list(self.FUSED_ACTIVATIONS)}, got {activation!r}")
        self.activation = None if activation == "identity" else activation
        self.in_features = positive_int("Linear", "in_features", in_features)
        self.out_features = positive_int("Linear", "out_features", out_features)
        self.weight = Parameter.empty((self.out_features, self.in_features))
        self.bias = Parameter.empty((self.out_features,)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights from the default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Any) -> ag.Tensor:
        x = ensure_tensor(x)
        shape = x.data.shape
        if not shape or shape[-1] != self.in_features:
            raise ag.ShapeError(f"{self.scope_name} ({self.extra_repr()}): expected an input "
                                f"whose last dimension is {self.in_features}, got shape "
                                f"{x.shape} {x.dtype}")
        # self.weight would be found by Module.__getattr__ after a failed lookup: ~1 us each
        parameters = self._parameters
        return ag.linear(x, parameters["weight"], parameters.get("bias"), self.activation)

    def get_config(self) -> dict[str, Any]:
        config = {"in_features": self.in_features, "out_features": self.out_features,
                  "bias": self.bias is not None}
        if self.activation is not None:  # files saved before the argument existed stay equal
            config["activation"] = self.activation
        return config

    def extra_repr(self) -> str:
        fused = "" if self.activation is None else f", activation={self.activation!r}"
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}{fused}")


class _Activation(Module):
    """A parameter-free elementwise layer: ``forward`` applies ``ag.<op>``."""

    op: str

    def forward(self, x: Any) -> ag.Tensor:
        return getattr(ag, self.op)(ensure_tensor(x))

    def get_config(self) -> dict[str, Any]:
        return {}


@register_module
class ReLU(_Activation):
    """max(x, 0)."""

    op = "relu"


@register_module
class Sigmoid(_Activation):
    """1 / (1 + exp(-x))."""

    op = "sigmoid"


@register_module
class Tanh(_Activation):
    """tanh(x)."""

    op = "tanh"


@register_module
class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed layer)."""

    def forward(self, x: Any) -> Any:
        return x

    def get_config(self) -> dict[str, Any]:
        return {}


@register_module
class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Any) -> ag.Tensor:
        return ag.leaky_relu(ensure_tensor(x), self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


@register_module
class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim`` (default the last axis), computed stably."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = int(dim)

    def forward(self, x: Any) -> ag.Tensor:
        return ag.softmax(ensure_tensor(x), axis=self.dim)

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


@register_module
class Dropout(Module):
    """Inverted dropout: in training, zero each entry with probability ``p`` and scale the rest
    by 1 / (1 - p), so the expected output equals the input; in eval mode, the identity.

    The mask is drawn from ``ag.random.get_generator()`` (seeded by ``ag.manual_seed``) inside
    the ``ag.dropout`` op, so a step captured by ``ag.jit`` draws a fresh mask every time.
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = probability("Dropout", "p", p)

    def forward(self, x: Any) -> ag.Tensor:
        return ag.dropout(ensure_tensor(x), self.p, self.training)

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"


@register_module
class Flatten(Module):
    """Merge the dimensions ``start_dim..end_dim`` into one: (N, 8, 8) -> (N, 64)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)

    def forward(self, x: Any) -> ag.Tensor:
        return ag.flatten(ensure_tensor(x), self.start_dim, self.end_dim)

    def get_config(self) -> dict[str, Any]:
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


@register_module
class Sequential(Module):
    """Layers applied one after the other: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Children are named "0", "1", ... (so the weights are "0.weight", ...), and each runs in the
    name scope "<Class>_<index>" ("Linear_0", "ReLU_1"). Indexing, slicing, ``len``, iteration and
    ``append`` work as on a list.
    """

    def __init__(self, *layers: Module):
        super().__init__()
        for layer in layers:
            self.append(layer)

    def _child_scope_name(self, name: str, module: Module) -> str:
        return f"{type(module).__name__}_{name}"

    def append(self, layer: Module) -> Sequential:
        """Add ``layer`` at the end; return self."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential: layer {len(self)} must be an nn.Module, got "
                            f"{type(layer).__name__}")
        self.add_module(str(len(self)), layer)
        return self

    def forward(self, x: Any) -> Any:
        for layer in self._modules.values():
            x = layer(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Module:
        layers = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*layers[index])
        try:
            return layers[index]
        except (IndexError, TypeError):
            raise IndexError(f"Sequential: index {index!r} out of range for {len(layers)} "
                             "layers") from None

    def __setitem__(self, index: int, layer: Module) -> None:
        if not -len(self) <= index < len(self):
            raise IndexError(f"Sequential: index {index} out of range for {len(self)} layers")
        self.add_module(str(index % len(self)), layer)

    def get_config(self) -> dict[str, Any]:
        return {"layers": [module_to_config(layer) for layer in self]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        layers = config.get("layers")
        if not isinstance(layers, list):
            raise ValueError(f"nn.load: Sequential's config needs a 'layers' list, got "
                             f"{config!r:.200}")
        return cls(*(module_from_config(layer) for layer in layers))
