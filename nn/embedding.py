"""Embedding: a trainable lookup table from integer ids (words, characters) to vectors."""

from __future__ import annotations

import operator
from typing import Any

import autograd_core as ag

from . import init
from ._checks import positive_int
from .base import Module
from .module import Parameter, register_module


@register_module
class Embedding(Module):
    """Row ``i`` of ``weight`` (num_embeddings, embedding_dim) for each integer id ``i``.

    ``weight`` starts as N(0, 1) as in PyTorch; the ``padding_idx`` row (if given) starts at zero
    and never receives a gradient. Ids outside [0, num_embeddings) are an error.

    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(np.array([[1, 2, 0], [4, 0, 0]])).shape
    (2, 3, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None):
        super().__init__()
        num_embeddings = positive_int("Embedding", "num_embeddings", num_embeddings)
        embedding_dim = positive_int("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            try:
                padding_idx = operator.index(padding_idx)
            except TypeError:
                raise TypeError(f"Embedding: padding_idx must be an integer, got "
                                f"{type(padding_idx).__name__} {padding_idx!r}") from None
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within "
                                 f"num_embeddings={num_embeddings}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter.empty((self.num_embeddings, self.embedding_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw N(0, 1) weights; zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices: Any) -> ag.Tensor:
        try:
            return ag.embedding(indices, self.weight, self.padding_idx)
        except (IndexError, ag.DTypeError) as err:
            raise type(err)(f"{self.scope_name} ({self.extra_repr()}): {err}") from None

    def get_config(self) -> dict[str, Any]:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "padding_idx": self.padding_idx}

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
