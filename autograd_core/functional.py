"""The functional style: ``ag.grad(f)(x)`` and ``ag.value_and_grad(f)(x)``, as in JAX.

Calls nest: ``ag.grad(ag.grad(f))(x)`` is the second derivative. The inner call sees an argument
that already requires grad, so it builds the graph of its backward pass (``create_graph``) for
the outer call to differentiate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import engine
from .errors import ShapeError
from .mode import enable_grad
from .tensor import Tensor, to_array


def value_and_grad(fun: Callable[..., Tensor], argnums: int | Sequence[int] = 0
                   ) -> Callable[..., tuple[Tensor, Any]]:
    """Make a function returning ``(fun(*args), d fun / d args[argnums])``.

    ``fun`` must return a single-element Tensor. Arguments at ``argnums`` may be Tensors, numpy
    arrays or Python numbers; the gradient has the argument's shape.

    >>> f = lambda x: (x ** 3).sum()
    >>> value, slope = ag.value_and_grad(f)(ag.tensor([1.0, 2.0]))   # 9, [3, 12]
    """
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def run(*args: Any, **kwargs: Any) -> tuple[Tensor, Any]:
        args = list(args)
        nested = False
        for i in positions:
            if isinstance(args[i], Tensor) and args[i].requires_grad:
                nested = True
            else:
                args[i] = Tensor(np.array(to_array(args[i])), requires_grad=True)
        with enable_grad():
            value = fun(*args, **kwargs)
        if not isinstance(value, Tensor) or value.size != 1:
            shape = value.shape if isinstance(value, Tensor) else type(value).__name__
            raise ShapeError(f"grad: the function must return a single-element Tensor, got "
                             f"{shape}")
        if not value.requires_grad:
            grads = [Tensor._wrap(np.zeros_like(args[i].data)) for i in positions]
        else:
            grads = engine.grad(value, [args[i] for i in positions], create_graph=nested)
        if not nested:
            value = value.detach()
        return value, grads[0] if isinstance(argnums, int) else tuple(grads)

    return run


def grad(fun: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Make a function returning d fun / d args[argnums] (a Tensor, or a tuple for several).

    >>> ag.grad(lambda x: x * x)(3.0)            # tensor(6.)
    >>> ag.grad(ag.grad(lambda x: x ** 3))(2.0)  # second derivative: tensor(12.)
    """
    with_value = value_and_grad(fun, argnums)
    return lambda *args, **kwargs: with_value(*args, **kwargs)[1]
