"""Matrix products."""

from __future__ import annotations

import numpy as np

from ..function import Function
from .registry import binary


class MatMul(Function):
    """out = a @ b with numpy's rules (batched; 1-D operands are promoted and the added axis is
    removed again).  d/da = grad @ b^T,  d/db = a^T @ grad.

    The 1-D cases are handled by giving grad back the axis that the promotion removed, doing the
    2-D formulas, then removing it from the result; batch broadcasting is undone by the engine.
    """

    name = "matmul"
    symbol = "@"

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul does not accept 0-d operands; use * for scaling")
        inner_a = a.shape[-1]
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if inner_a != inner_b:
            raise ValueError(f"inner dimensions differ: {a.shape} @ {b.shape} needs "
                             f"{inner_a} == {inner_b}")
        self.save_for_backward(a, b)
        return np.matmul(a, b)

    def backward(self, grad, a, b):
        needs_a, needs_b = self.needs_input_grad
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        if b.ndim == 1:
            grad = np.expand_dims(grad, -1)
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = grad_b = None
        if needs_a:
            grad_a = grad @ b2.swapaxes(-1, -2)
            if a.ndim == 1:
                grad_a = np.squeeze(grad_a, -2)
        if needs_b:
            grad_b = a2.swapaxes(-1, -2) @ grad
            if b.ndim == 1:
                grad_b = np.squeeze(grad_b, -1)
        return grad_a, grad_b


matmul = binary(MatMul, method=("matmul", "__matmul__"), reflected="__rmatmul__", ufunc=np.matmul)
