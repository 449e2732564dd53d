"""Deep belief nets: a stack of RBMs pretrained greedily, then unrolled into an MLP for labels.

Each RBM models the hidden probabilities of the one below (the first models the data), so the
stack learns features of features without labels; ``to_mlp`` then copies the RBMs' weights into
the Linear layers of an ``nn.MLP`` with sigmoid activations, which is fine-tuned by backprop.

>>> x, y = nn.data.load_digits()                     # pixels in [0, 1]
>>> dbn = nn.DBN([64, 100, 50], epochs=10, seed=0).fit(x)
>>> model = dbn.to_mlp(10)                           # Linear/Sigmoid stack + a new output layer
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

import autograd_core as ag

from ._checks import positive_int, positive_int_list, seed_or_none
from .base import Module
from .estimator import EstimatorParams
from .layers import Linear
from .mlp import MLP
from .module import register_module
from .rbm import RBM

__all__ = ["DBN"]


@register_module
class DBN(EstimatorParams, Module):
    """A deep belief net: a stack of RBMs, pretrained greedily, unrolled into an MLP for labels.

    ``DBN([n_in, h1, h2, ...], **rbm_kwargs)`` builds ``RBM(n_in, h1)``, ``RBM(h1, h2)`` ...;
    ``rbm_kwargs`` (``lr``, ``epochs``, ``k``, ``persistent``, ``seed`` ...) go to every RBM (a
    ``seed`` s gives RBM i the seed s + i). ``fit(X)`` trains each RBM on the hidden
    probabilities of the one below; ``to_mlp(n_classes)`` returns an ``nn.MLP`` with sigmoid
    activations whose Linear layers hold the RBMs' weights (``weight = W.T``,
    ``bias = b_hidden``), plus a fresh output layer, ready for ``nn.fit`` on labels.

    >>> dbn = nn.DBN([64, 128, 64], lr=0.05, epochs=10, seed=0).fit(x_unlabelled)
    >>> model = dbn.to_mlp(10)
    >>> nn.fit(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters()), (x, y))
    """

    def __init__(self, sizes: list[int], **rbm_kwargs: Any):
        super().__init__()
        for name in ("n_visible", "n_hidden"):
            if name in rbm_kwargs:
                raise TypeError(f"DBN: {name} comes from sizes; do not pass it")
        self.sizes = positive_int_list("DBN", "sizes", sizes)
        self.rbm_kwargs = dict(rbm_kwargs)
        seed = seed_or_none("DBN", rbm_kwargs.pop("seed", None))
        for i, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            rbm_seed = None if seed is None else seed + i
            self.add_module(f"rbm{i}", RBM(n_in, n_out, seed=rbm_seed, **rbm_kwargs))

    @property
    def rbms(self) -> list[RBM]:
        """The RBMs, bottom (data) first."""
        return list(self.children())

    def get_config(self) -> dict[str, Any]:
        return {"sizes": self.sizes, **self.rbm_kwargs}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """``sizes`` and every RBM argument (RBM's default where not given), for scikit-learn."""
        rbm_defaults = {name: p.default for name, p in inspect.signature(RBM).parameters.items()
                        if name not in ("n_visible", "n_hidden")}
        params = super().get_params(deep)
        return {"sizes": params.pop("sizes"), **rbm_defaults, **params}

    def fit(self, X: Any, y: Any = None) -> DBN:
        """Greedy layer-wise pretraining: each RBM is fit on ``transform`` of the one below."""
        features = X
        for rbm in self.rbms:
            features = rbm.fit(features).transform(features)
        return self

    def forward(self, v: Any) -> ag.Tensor:
        """The top layer's hidden probabilities, differentiable (a deterministic up-pass)."""
        for rbm in self.rbms:
            v = rbm(v)
        return v

    def transform(self, X: Any) -> np.ndarray:
        """The top layer's hidden probabilities of each row (numpy)."""
        for rbm in self.rbms:
            X = rbm.transform(X)
        return X

    def to_mlp(self, n_classes: int | None = None) -> MLP:
        """An ``nn.MLP(sizes + [n_classes], activation="sigmoid")`` initialised from the RBMs.

        The Linear layer after RBM i gets ``weight = W_i.T`` (Linear stores (out, in)) and
        ``bias = b_hidden_i``; the output layer keeps ``nn.Linear``'s random initialisation.
        Without ``n_classes`` the MLP is the encoder alone (sigmoid on its last layer too). The
        weights are copies: training the MLP leaves the DBN unchanged.
        """
        if n_classes is None:
            mlp = MLP(self.sizes, activation="sigmoid", output_activation="sigmoid")
        else:
            n_classes = positive_int("DBN.to_mlp", "n_classes", n_classes)
            mlp = MLP(self.sizes + [n_classes], activation="sigmoid")
        linears = [layer for layer in mlp if isinstance(layer, Linear)]
        for linear, rbm in zip(linears, self.rbms):
            linear.weight.data[...] = rbm.W.data.T
            linear.bias.data[...] = rbm.b_hidden.data
        return mlp
