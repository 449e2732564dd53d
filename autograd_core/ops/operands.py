"""Turning what users pass to an op into what its ``Function`` takes: operands become Tensors
(Python numbers take the dtype of the float tensor beside them), ``axis``/``dim`` become tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..tensor import Tensor, get_default_dtype

Axis = int | Sequence[int] | None

_scalar_cache: dict[tuple, Tensor] = {}


def scalar(value: bool | int | float, dtype) -> Tensor:
    """A constant 0-d tensor for a Python number, cached: loops reuse the same few constants."""
    # 0.0 == -0.0 and both hash alike: key zeros on their spelling too, so x * -0.0 keeps its sign
    key = (value.__class__, value, dtype, repr(value) if value == 0 else None)
    constant = _scalar_cache.get(key)
    if constant is None:
        if len(_scalar_cache) >= 1024:
            _scalar_cache.clear()
        constant = _scalar_cache[key] = Tensor._wrap(np.asarray(value, dtype=dtype))
    return constant


def operand(value: Any, like: Tensor | None, op: str) -> Tensor:
    """``value`` as a Tensor; a Python number takes the dtype of the float tensor ``like``."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float)):
        if like is not None and like.data.dtype.kind == "f":
            return scalar(value, like.data.dtype)
        return scalar(value, get_default_dtype() if isinstance(value, float) else None)
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biuf":
        return Tensor._wrap(np.asarray(value))
    kind = f"numpy array of dtype {value.dtype}" if isinstance(value, np.ndarray) \
        else type(value).__name__
    raise DTypeError(f"{op}: unsupported operand type {kind}; expected a Tensor, a number or a "
                     "numeric numpy array")


def operand_pair(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors. As in PyTorch, an integer tensor meeting a Python float becomes
    a float tensor of the default dtype (int tensors carry no gradient, so this is plain data)."""
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    if like is not None and like.data.dtype.kind in "biu" and \
            (isinstance(a, float) or isinstance(b, float)):
        like = Tensor._wrap(like.data.astype(get_default_dtype()))
        a, b = (like, b) if isinstance(a, Tensor) else (a, like)
    return operand(a, like, op), operand(b, like, op)


def operand_list(values: Sequence[Any], op: str) -> list[Tensor]:
    """Several operands as Tensors (at least one), numbers taking the first tensor's dtype."""
    values = list(values)
    if not values:
        raise ValueError(f"{op}: needs at least one tensor")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    return [operand(v, like, op) for v in values]


def axes(axis: Axis, dim: Axis, shape: tuple[int, ...], op: str) -> tuple[int, ...] | None:
    """Normalise ``axis`` (or ``dim``) to a sorted tuple of non-negative axes, None for all."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: pass axis= or dim=, not both")
        axis = dim
    if axis is None:
        return None
    ndim = len(shape)
    parts = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if ndim == 0:  # PyTorch's rule: a 0-d tensor takes axis 0 or -1, and reducing it is a no-op
        bad = [part for part in parts if part not in (0, -1)]
        if bad:
            raise ShapeError(f"{op}: axis {bad[0]} is out of range for a 0-d tensor (shape ()); "
                             f"only 0 and -1 are allowed")
        return ()
    out = []
    for part in parts:
        if not -ndim <= part < ndim:
            raise ShapeError(f"{op}: axis {part} is out of range for a tensor of shape "
                             f"{shape} ({ndim} dimensions)")
        out.append(int(part) % ndim)
    return tuple(sorted(set(out)))


def one_axis(axis: Any, dim: Any, op: str, default: Any = None) -> Any:
    """``axis`` or its PyTorch spelling ``dim`` (not both); ``default`` when neither is given,
    and then one of them is required if ``default`` is None."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: got both axis={axis!r} and dim={dim!r}; give one")
        return dim
    if axis is None:
        if default is None:
            raise TypeError(f"{op}: an axis is required")
        return default
    return axis


def shape_args(shape: tuple) -> tuple:
    """Accept both f(2, 3) and f((2, 3))."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def keep_dims(keepdims: bool, keepdim: bool | None) -> bool:
    """numpy's ``keepdims`` or PyTorch's spelling ``keepdim``."""
    return bool(keepdims if keepdim is None else keepdim)
