"""In-place operations: ``t += u``, ``t[i] = v``, ``t.add_(u)``... with PyTorch's rules.

A write changes the tensor's own array, so the tensor stays the same object (the optimizer
holding it and the views sharing its memory see the change), and bumps its version, so that a
node which saved the old values raises at backward instead of computing a wrong gradient.

Who may be written, with grad mode on / inside ``no_grad()``:

- a leaf that requires grad (a parameter): refused / allowed, the classic
  ``with ag.no_grad(): w -= lr * w.grad``;
- a tensor of the graph (an op output that requires grad), or any tensor when the value written
  requires grad: refused / allowed. Recording the write as a node, as PyTorch does, would also
  mean rewriting the graph of every view sharing the memory; the out-of-place form
  ``y = y + u`` computes the same values with a graph that is right by construction;
- a view of a tensor that requires grad, taken under ``no_grad()``: refused / allowed (the
  write would change that tensor with no node to say so, as PyTorch also refuses);
- any other tensor: allowed, a plain numpy update.

The dtype never changes. Arithmetic whose result does not cast within its kind (a float result
into an int tensor, an int into a bool) is refused, as in PyTorch; ``fill_``, ``copy_`` and
``t[i] = v`` convert the value like PyTorch (1.7 written into an int tensor gives 1).

>>> w = ag.tensor([1.0, 2.0], requires_grad=True)
>>> (w * w).sum().backward()
>>> with ag.no_grad():
...     w -= 0.1 * w.grad          # the same tensor, updated: [0.8, 1.6]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DTypeError, ShapeError
from .mode import state
from .ops.shape import _plain_index
from .tensor import Tensor, to_array


def _describe(t: Tensor) -> str:
    name = f" {t.name!r}" if t.name else ""
    return f"tensor{name} of shape {t.shape} and dtype {t.dtype}"


def _writable(t: Tensor, op: str, *values: Any) -> np.ndarray:
    """``t``'s array, once the rules above allow ``op`` to write ``values`` into it."""
    if state.recorder is not None:  # ag.jit would not replay a write outside the ops
        state.recorder.refuse(f"the in-place write {op} into a {_describe(t)}")
    if state.grad_enabled:
        if t._requires_grad and t._node is None:
            raise RuntimeError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place "
                f"operation. ({_describe(t)}) Update parameters inside `with ag.no_grad():`, "
                f"or write t = t + u for a new tensor."
            )
        if t._requires_grad:
            raise RuntimeError(
                f"{op}: in-place write into a {_describe(t)} that is part of the graph (output "
                f"of {t._node.name}) is not supported: its old values may be needed for the "
                f"gradient. Write it out of place (y = y + u), or inside no_grad() if the graph "
                f"must not see it."
            )
        if t._no_grad_view:
            raise RuntimeError(
                f"{op}: the {_describe(t)} is a view of a tensor that requires grad, taken "
                f"under no_grad(), and is being modified in place with grad mode on: the write "
                f"would change that tensor behind the graph's back. Write it inside no_grad() "
                f"too, or take the view with grad on."
            )
        for value in values:
            if isinstance(value, Tensor) and value._requires_grad:
                raise RuntimeError(
                    f"{op}: the value written ({_describe(value)}) requires grad but the "
                    f"{_describe(t)} written into does not, so its gradient would be lost. "
                    f"Build the result out of place (ag.where, ag.concatenate, y = y + u)."
                )
    if not t.data.flags.writeable:
        raise ValueError(f"{op}: the {_describe(t)} is a read-only view (e.g. made by "
                         f"broadcast_to); copy it first")
    return t.data


def _array(value: Any) -> Any:
    """The operand for numpy: Python numbers stay numbers so that numpy's promotion treats them
    as weak (float32 += 0.1 stays float32), everything else becomes a numeric array."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (bool, int, float)):
        return value
    return to_array(value)


def _arithmetic(ufunc: np.ufunc, op: str):
    def inplace(self: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
        if alpha != 1 and ufunc not in (np.add, np.subtract):
            raise TypeError(f"{op}: got an unexpected keyword argument 'alpha'")
        data = _writable(self, op, other)
        value = _array(other)
        if alpha != 1:
            value = np.multiply(value, alpha)
        try:
            ufunc(data, value, out=data, casting="same_kind")
        except TypeError as err:
            # the ufunc's own result type (int / int is float), found on one-element stand-ins
            probe = value if isinstance(value, (bool, int, float)) else \
                np.zeros((), np.asarray(value).dtype)
            result = ufunc(np.zeros((), data.dtype), probe).dtype
            raise DTypeError(
                f"{op}: result type {result} can't be cast to the dtype of "
                f"the {_describe(self)}: in-place ops keep the dtype, as in PyTorch; write "
                f"t = t {_SYMBOLS[ufunc]} u for a new tensor"
            ) from err
        except ValueError as err:
            raise ShapeError(f"{op}: a value of shape {np.shape(value)} does not broadcast to "
                             f"the {_describe(self)} written in place") from err
        self._bump_version()
        return self

    inplace.__name__ = op
    inplace.__doc__ = f"self {_SYMBOLS[ufunc]}= other, in place (see the module docstring)."
    return inplace


_SYMBOLS = {np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/"}


def _assign(t: Tensor, op: str, index: Any, value: Any) -> Tensor:
    """Write ``value`` (converted to ``t``'s dtype, as PyTorch does) at ``index``."""
    data = _writable(t, op, value)
    try:
        data[index] = _array(value)
    except ValueError as err:
        raise ShapeError(f"{op}: a value of shape {np.shape(_array(value))} does not fit "
                         f"{_describe(t)} at index {index!r}") from err
    t._bump_version()
    return t


def setitem(self: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value``: basic, advanced and boolean-mask indices, as in numpy."""
    _assign(self, "__setitem__", _plain_index(index), value)


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros, in place."""
    return _assign(self, "zero_", Ellipsis, 0)


def fill_(self: Tensor, value: Any) -> Tensor:
    """Fill with ``value`` (a number or a one-element tensor), in place."""
    if np.size(_array(value)) != 1:
        raise ShapeError(f"fill_: expects a number or a one-element tensor, got shape "
                         f"{np.shape(_array(value))}")
    return _assign(self, "fill_", Ellipsis, value)


def copy_(self: Tensor, src: Any) -> Tensor:
    """Copy ``src`` (broadcast to this shape, converted to this dtype) into this tensor."""
    return _assign(self, "copy_", Ellipsis, src)


def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit the values to [min, max], in place."""
    if min is None and max is None:
        raise TypeError("clamp_: give min, max or both")
    data = _writable(self, "clamp_", min, max)
    try:
        np.clip(data, _array(min) if min is not None else None,
                _array(max) if max is not None else None, out=data, casting="same_kind")
    except TypeError as err:
        raise DTypeError(f"clamp_: bounds {min!r}, {max!r} can't be written into the "
                         f"{_describe(self)}: in-place ops keep the dtype") from err
    self._bump_version()
    return self


_METHODS = {
    "__iadd__": _arithmetic(np.add, "__iadd__"), "add_": _arithmetic(np.add, "add_"),
    "__isub__": _arithmetic(np.subtract, "__isub__"), "sub_": _arithmetic(np.subtract, "sub_"),
    "__imul__": _arithmetic(np.multiply, "__imul__"), "mul_": _arithmetic(np.multiply, "mul_"),
    "__itruediv__": _arithmetic(np.true_divide, "__itruediv__"),
    "div_": _arithmetic(np.true_divide, "div_"),
    "__setitem__": setitem, "zero_": zero_, "fill_": fill_, "copy_": copy_, "clamp_": clamp_,
}

for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)
