"""Gradient clipping, as torch.nn.utils: call between ``loss.backward()`` and ``opt.step()``.

``clip_grad_norm_`` rescales all gradients together so their joint norm is at most
``max_norm``::

    total = || (||g_1||_p, ||g_2||_p, ...) ||_p          (the norm of all gradients as one vector)
    g_i = g_i * min(1, max_norm / (total + 1e-6))

``clip_grad_value_`` clamps every gradient entry to ``[-clip_value, clip_value]``.

>>> loss.backward()
>>> total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
>>> opt.step()
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

import autograd_core as ag

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(caller: str, parameters: ag.Tensor | Iterable[ag.Tensor]) -> list[ag.Tensor]:
    params = [parameters] if isinstance(parameters, ag.Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, ag.Tensor):
            raise TypeError(f"{caller}: parameter {i} is a {type(p).__name__}, not a Tensor")
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters: ag.Tensor | Iterable[ag.Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> ag.Tensor:
    """Scale the gradients in place so that their joint ``norm_type``-norm is at most
    ``max_norm``; return that norm before clipping (a 0-d Tensor).

    ``norm_type`` is any p accepted by a vector norm, ``float("inf")`` for the largest
    magnitude. With ``error_if_nonfinite`` a NaN or infinite norm raises instead of turning every
    gradient into NaN. Parameters without a gradient are skipped.
    """
    norm_type = float(norm_type)
    params = _with_grads("clip_grad_norm_", parameters)
    if not params:
        return ag.Tensor(np.float32(0.0))
    dtype = np.result_type(*(p.grad.dtype for p in params))
    norms = np.array([np.linalg.norm(p.grad.data.reshape(-1), norm_type) for p in params],
                     dtype=dtype)
    total = np.linalg.norm(norms, norm_type).astype(dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total {norm_type}-norm of the gradients is "
                           f"{total}; pass error_if_nonfinite=False to clip anyway")
    scale = min(dtype.type(max_norm) / (total + dtype.type(1e-6)), dtype.type(1.0))
    for p in params:  # a new array: the engine may share one gradient array between tensors
        p.grad = ag.Tensor(p.grad.data * p.grad.dtype.type(scale))
    return ag.Tensor(total)


def clip_grad_value_(parameters: ag.Tensor | Iterable[ag.Tensor], clip_value: float) -> None:
    """Clamp every gradient entry to ``[-clip_value, clip_value]``, in place."""
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value!r}")
    for p in _with_grads("clip_grad_value_", parameters):
        p.grad = ag.Tensor(np.clip(p.grad.data, -clip_value, clip_value).astype(p.grad.dtype))
