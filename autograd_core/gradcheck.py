"""Numerical gradient checks: compare backward() with central differences in float64.

For f with output y and a fixed random weighting v of the outputs, the checked scalar is
L(x) = sum(v * f(x)). Its gradient from backward(gradient=v) must match, element by element,

    dL/dx[i]  ~  (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

A random v makes every output element count, so a wrong Jacobian entry shows up (with
probability 1) at the cost of one backward pass instead of one per output element.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import engine
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Analytical and numerical gradients disagree; the message names input, index and values."""


def _as_list(inputs: Any) -> list:
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


def _is_checked(value: Any) -> bool:
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    return data.dtype.kind == "f"


def _float64_leaves(inputs: list) -> list:
    """Checked inputs as fresh float64 leaves; anything else (indices...) passes unchanged."""
    return [Tensor(np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64),
                   requires_grad=True) if _is_checked(x) else x for x in inputs]


def gradcheck(fun: Callable[..., Tensor], inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check the gradients of ``fun`` at ``inputs`` (a tensor or a sequence of them).

    Floating-point inputs are copied to float64; other inputs (integer indices, say) are passed
    unchanged and not checked. Returns True, or raises ``GradcheckError`` naming the input, the
    index and both values.

    >>> ag.gradcheck(lambda x: (x * x).sum(), [ag.randn(3, dtype=np.float64)])
    True
    """
    leaves = _float64_leaves(_as_list(inputs))
    checked = [i for i, x in enumerate(leaves) if isinstance(x, Tensor) and x.requires_grad]
    output = fun(*leaves)
    weights = np.random.default_rng(seed).standard_normal(output.shape)
    if output.requires_grad:
        analytical = engine.grad(output, [leaves[i] for i in checked], gradient=weights)
    else:
        analytical = [Tensor._wrap(np.zeros_like(leaves[i].data)) for i in checked]

    def weighted_output() -> float:
        return float(np.sum(weights * fun(*leaves).data))

    for position, i in enumerate(checked):
        values = leaves[i].data
        expected = analytical[position].data
        for index in np.ndindex(values.shape):
            original = values[index]
            values[index] = original + eps
            upper = weighted_output()
            values[index] = original - eps
            lower = weighted_output()
            values[index] = original
            numerical = (upper - lower) / (2 * eps)
            if not abs(expected[index] - numerical) <= atol + rtol * abs(numerical):
                raise GradcheckError(
                    f"gradcheck: input {i} (shape {values.shape}), index {index}: analytical "
                    f"gradient {expected[index]:.8g} but numerical {numerical:.8g} "
                    f"(atol={atol}, rtol={rtol})"
                )
    return True


def gradgradcheck(fun: Callable[..., Tensor], inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check second derivatives: ``gradcheck`` of the (weighted) gradient of ``fun``.

    The gradient is computed with ``create_graph=True``, so this tests every backward formula
    that ``fun`` uses, run as a differentiable function of the inputs.
    """
    def weighted_gradient(*leaves: Any) -> Tensor:
        from .ops import concatenate

        output = fun(*leaves)
        weights = np.random.default_rng(seed + 1).standard_normal(output.shape)
        wanted = [x for x in leaves if isinstance(x, Tensor) and x.requires_grad]
        grads = engine.grad(output, wanted, gradient=weights, create_graph=True)
        return concatenate([g.reshape(-1) for g in grads])

    return gradcheck(weighted_gradient, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
