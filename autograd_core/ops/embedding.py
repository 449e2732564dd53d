"""Embedding lookup: rows of a weight table picked by integer indices.

    out[..., :] = weight[indices[...], :]

The backward adds each output row's gradient into the row it was read from (several positions
may read the same row, so the gradients accumulate); the ``padding_idx`` row receives none, as
in PyTorch, so a padding vector stays where it was initialised.

>>> table = ag.randn(10, 3, requires_grad=True)
>>> ag.embedding([[1, 2], [2, 9]], table).shape
(2, 2, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import Function
from ..tensor import Tensor
from .registry import register
from .shape import scatter_add


class Embedding(Function):
    """out = weight[indices];  backward scatter-adds grad into the rows read (not padding_idx)."""

    def forward(self, weight, *, indices, padding_idx):
        self.indices, self.padding_idx, self.shape = indices, padding_idx, weight.shape
        return weight[indices]

    def backward(self, grad):
        if isinstance(grad, Tensor):  # create_graph: a recorded scatter, padding row masked
            keep = (self.indices != self.padding_idx)[..., None].astype(grad.dtype)
            return scatter_add(grad * keep, self.indices, self.shape)
        rows = grad.reshape(-1, self.shape[1])
        flat = self.indices.reshape(-1)
        if self.padding_idx is not None:
            rows, flat = rows[flat != self.padding_idx], flat[flat != self.padding_idx]
        out = np.zeros(self.shape, dtype=grad.dtype)
        np.add.at(out, flat, rows)
        return out


@register()
def embedding(indices: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up the rows of ``weight`` (num_embeddings, dim) at integer ``indices`` of any
    shape; the result has shape ``indices.shape + (dim,)``. ``padding_idx`` (negative counts
    from the end) gets no gradient. Indices must lie in [0, num_embeddings).
    """
    if not isinstance(weight, Tensor) or weight.ndim != 2 or weight.dtype.kind != "f":
        raise ShapeError(f"embedding: weight must be a 2-D float Tensor (num_embeddings, "
                         f"embedding_dim), got {getattr(weight, 'shape', type(weight).__name__)}")
    indices = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    num = weight.shape[0]
    if indices.dtype.kind not in "iu":
        raise DTypeError(f"embedding: indices must be integers, got {indices.dtype} (shape "
                         f"{indices.shape})")
    if indices.size and (indices.min() < 0 or indices.max() >= num):
        bad = indices[(indices < 0) | (indices >= num)].flat[0]
        raise IndexError(f"embedding: index {bad} is out of range for {num} embeddings "
                         f"(weight of shape {weight.shape}, indices of shape {indices.shape}); "
                         f"indices must lie in [0, {num})")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {num} "
                             "embeddings")
        padding_idx = int(padding_idx) % num
    return Embedding.apply(weight, indices=indices.astype(np.intp, copy=False),
                           padding_idx=padding_idx)
