"""``ag.linalg``: the linear-algebra namespace of numpy and PyTorch (``ag.linalg.norm``)."""

from .ops.linalg import matmul, norm, svdvals

__all__ = ["matmul", "norm", "svdvals"]
