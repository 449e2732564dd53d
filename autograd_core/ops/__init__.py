"""The public ops, and the one place where they are attached to Tensor as operators and methods.

Every function here converts its operands, normalises ``axis`` (``dim=`` is accepted as PyTorch's
spelling), and calls a ``Function`` from the family modules beside this file.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..tensor import Tensor, get_default_dtype
from .activation import LeakyRelu, LogSoftmax, Relu, Sigmoid, Softmax, Softplus, Tanh
from .elementwise import (
    Abs,
    Add,
    Cast,
    Clip,
    Div,
    Exp,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    Sqrt,
    Sub,
    Where,
)
from .fused import linear as linear  # re-exported to autograd_core
from .fused import softmax_cross_entropy as softmax_cross_entropy  # re-exported
from .linalg import MatMul
from .reduce import LogSumExp, Max, Mean, Min, Sum
from .shape import BroadcastTo, Concatenate, GetItem, Reshape, Stack, Transpose

Axis = int | Sequence[int] | None


# -- operands and axes -----------------------------------------------------------------------
_scalar_cache: dict[tuple, Tensor] = {}


def _scalar(value: bool | int | float, dtype) -> Tensor:
    """A constant 0-d tensor for a Python number, cached: loops reuse the same few constants."""
    key = (value.__class__, value, dtype)
    constant = _scalar_cache.get(key)
    if constant is None:
        if len(_scalar_cache) >= 1024:
            _scalar_cache.clear()
        constant = _scalar_cache[key] = Tensor._wrap(np.asarray(value, dtype=dtype))
    return constant


def _operand(value: Any, like: Tensor | None, op: str) -> Tensor:
    """``value`` as a Tensor; a Python number takes the dtype of the float tensor beside it."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float)):
        if like is not None and like.data.dtype.kind == "f":
            return _scalar(value, like.data.dtype)
        return _scalar(value, get_default_dtype() if isinstance(value, float) else None)
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biuf":
        return Tensor._wrap(np.asarray(value))
    kind = f"numpy array of dtype {value.dtype}" if isinstance(value, np.ndarray) \
        else type(value).__name__
    raise DTypeError(f"{op}: unsupported operand type {kind}; expected a Tensor, a number or a "
                     "numeric numpy array")


def _pair(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors. As in PyTorch, an integer tensor meeting a Python float becomes
    a float tensor of the default dtype (int tensors carry no gradient, so this is plain data)."""
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    if like is not None and like.data.dtype.kind in "biu" and \
            (isinstance(a, float) or isinstance(b, float)):
        like = Tensor._wrap(like.data.astype(get_default_dtype()))
        a, b = (like, b) if isinstance(a, Tensor) else (a, like)
    return _operand(a, like, op), _operand(b, like, op)


def _axes(axis: Axis, dim: Axis, shape: tuple[int, ...], op: str) -> tuple[int, ...] | None:
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


def _one_axis(axis: Any, dim: Any, op: str) -> Any:
    """``axis`` or its PyTorch spelling ``dim``; one of them is required."""
    if dim is not None:
        return dim
    if axis is None:
        raise TypeError(f"{op}: an axis is required")
    return axis


# -- arithmetic --------------------------------------------------------------------------------
def _binary(function_class):
    """The public function of a two-input op: operands converted, then the op applied."""

    def op(a: Any, b: Any) -> Tensor:
        if a.__class__ is Tensor and b.__class__ is Tensor:  # nothing to convert
            return function_class.apply(a, b)
        return function_class.apply(*_pair(a, b, function_class.name))

    op.__name__ = function_class.name
    op.__doc__ = function_class.__doc__
    return op


add = _binary(Add)
subtract = _binary(Sub)
multiply = _binary(Mul)
divide = _binary(Div)
power = _binary(Pow)
matmul = _binary(MatMul)
maximum = _binary(Maximum)
minimum = _binary(Minimum)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where ``condition`` is true, else b (the condition carries no gradient)."""
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition,
                           dtype=bool)
    return Where.apply(*_pair(a, b, "where"), condition=condition)


def clip(a: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit a to [min, max]; the gradient passes where a is inside (bounds included)."""
    if min is None and max is None:
        raise TypeError("clip: give min, max or both")
    return Clip.apply(_operand(a, None, "clip"), low=min, high=max)


def astype(a: Tensor, dtype) -> Tensor:
    """a converted to ``dtype``; the gradient is converted back."""
    return Cast.apply(a, dtype=np.dtype(dtype))


def _unary(function_class):
    def op(a: Tensor) -> Tensor:
        return function_class.apply(_operand(a, None, function_class.name))

    op.__name__ = function_class.name
    op.__doc__ = function_class.__doc__
    return op


negative = _unary(Neg)
exp = _unary(Exp)
log = _unary(Log)
sqrt = _unary(Sqrt)
abs = _unary(Abs)
tanh = _unary(Tanh)
sigmoid = _unary(Sigmoid)
relu = _unary(Relu)
softplus = _unary(Softplus)


def leaky_relu(a: Tensor, negative_slope: float = 0.01) -> Tensor:
    """a where a > 0, else negative_slope * a."""
    return LeakyRelu.apply(_operand(a, None, "leaky_relu"), slope=negative_slope)


def softmax(a: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """e**a / sum(e**a) along ``axis`` (shifted by the max, so large inputs do not overflow)."""
    return Softmax.apply(a, axis=_axes(_one_axis(axis, dim, "softmax"), None, a.shape, "softmax"))


def log_softmax(a: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """a - logsumexp(a) along ``axis``, computed stably."""
    axes = _axes(_one_axis(axis, dim, "log_softmax"), None, a.shape, "log_softmax")
    return LogSoftmax.apply(a, axis=axes)


# -- reductions --------------------------------------------------------------------------------
def _reduction(function_class):
    def op(a: Tensor, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Tensor:
        a = _operand(a, None, function_class.name)
        if function_class in (Max, Min) and a.data.size == 0:
            raise ShapeError(f"{function_class.name}: cannot reduce an empty tensor of shape "
                             f"{a.shape}")
        axes = _axes(axis, dim, a.shape, function_class.name)
        return function_class.apply(a, axis=axes, keepdims=keepdims)

    op.__name__ = function_class.name
    op.__doc__ = function_class.__doc__
    return op


sum = _reduction(Sum)
mean = _reduction(Mean)
max = _reduction(Max)
min = _reduction(Min)
logsumexp = _reduction(LogSumExp)


def var(a: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0, *,
        dim: Axis = None) -> Tensor:
    """Variance, sum((a - mean(a))**2) / (n - ddof) with numpy's ``ddof`` (0: population
    variance). With ddof >= n the divisor is 0: inf, or nan for constant data (numpy, PyTorch)."""
    axes = _axes(axis, dim, a.shape, "var")
    count = a.size if axes is None else int(np.prod([a.shape[i] for i in axes]))
    centred = a - mean(a, axis=axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return sum(centred * centred, axis=axes, keepdims=keepdims) / builtins.max(count - ddof, 0)


# -- shapes ------------------------------------------------------------------------------------
def _shape_args(shape: tuple) -> tuple:
    """Accept both f(2, 3) and f((2, 3))."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def reshape(a: Tensor, *shape: int) -> Tensor:
    """a with a new shape holding the same elements (one dimension may be -1)."""
    shape = _shape_args(shape)
    if builtins.sum(n == -1 for n in shape) > 1 or builtins.any(n < -1 for n in shape):
        raise ShapeError(f"reshape: invalid shape {shape} for a tensor of shape {a.shape}: only "
                         f"one dimension may be -1 (inferred) and none may be negative otherwise")
    return Reshape.apply(a, shape=shape)


def transpose(a: Tensor, *axes: int) -> Tensor:
    """a with its axes permuted (reversed when no axes are given)."""
    axes = _shape_args(axes)
    if not axes:
        return Transpose.apply(a, axes=None)
    normal = tuple(int(i) % a.ndim for i in axes if -a.ndim <= i < a.ndim)
    if sorted(normal) != list(range(a.ndim)):
        raise ShapeError(f"transpose: axes {axes} are not a permutation of the {a.ndim} axes "
                         f"of a tensor of shape {a.shape}")
    return Transpose.apply(a, axes=normal)


def swapaxes(a: Tensor, axis1: int, axis2: int) -> Tensor:
    """a with two axes exchanged."""
    order = list(range(a.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return Transpose.apply(a, axes=tuple(order))


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """a with the axes from ``start_dim`` to ``end_dim`` (inclusive) merged into one."""
    if a.ndim == 0:
        return reshape(a, 1)
    start, end = start_dim % a.ndim, end_dim % a.ndim
    return reshape(a, a.shape[:start] + (-1,) + a.shape[end + 1:])


def squeeze(a: Tensor, axis: Axis = None, *, dim: Axis = None) -> Tensor:
    """a without the given size-1 axes (all size-1 axes when none is given)."""
    axes = _axes(axis, dim, a.shape, "squeeze")
    if axes is None:
        axes = tuple(i for i, n in enumerate(a.shape) if n == 1)
    wide = [i for i in axes if a.shape[i] != 1]
    if wide:
        raise ShapeError(f"squeeze: axis {wide[0]} of a tensor of shape {a.shape} has size "
                         f"{a.shape[wide[0]]}; only size-1 axes can be squeezed")
    return reshape(a, tuple(n for i, n in enumerate(a.shape) if i not in axes))


def expand_dims(a: Tensor, axis: int | Sequence[int] | None = None, *,
                dim: int | None = None) -> Tensor:
    """a with a new size-1 axis inserted at ``axis`` (``dim``)."""
    axis = _one_axis(axis, dim, "expand_dims")
    new_ndim = a.ndim + (1 if isinstance(axis, (int, np.integer)) else len(axis))
    axes = _axes(axis, None, (1,) * new_ndim, "expand_dims")
    shape = iter(a.shape)
    return reshape(a, tuple(1 if i in axes else next(shape) for i in range(new_ndim)))


def broadcast_to(a: Tensor, shape: Sequence[int]) -> Tensor:
    """a repeated along new or size-1 axes to ``shape``."""
    return BroadcastTo.apply(_operand(a, None, "broadcast_to"), shape=tuple(shape))


def concatenate(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis."""
    return Concatenate.apply(*_operands(tensors, "concatenate"), axis=_one_axis(axis, dim, ""))


def stack(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    return Stack.apply(*_operands(tensors, "stack"), axis=_one_axis(axis, dim, ""))


def _operands(values: Sequence[Any], op: str) -> list[Tensor]:
    values = list(values)
    if not values:
        raise ValueError(f"{op}: needs at least one tensor")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    return [_operand(v, like, op) for v in values]


def getitem(a: Tensor, index: Any) -> Tensor:
    """a[index]: basic, advanced (integer arrays) and boolean-mask indexing."""
    return GetItem.apply(a, index=_plain_index(index))


def _plain_index(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays (indices carry no gradient)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(part.data if isinstance(part, Tensor) else part for part in index)
    return index


# -- comparisons (no gradient) -----------------------------------------------------------------
def _comparison(ufunc):
    def compare(a: Any, b: Any) -> Tensor:
        a, b = _pair(a, b, ufunc.__name__)
        try:
            return Tensor._wrap(ufunc(a.data, b.data))
        except ValueError as err:
            raise ShapeError(f"{ufunc.__name__}: {err} (inputs: {a.shape} {a.dtype}, "
                             f"{b.shape} {b.dtype})") from err

    compare.__name__ = ufunc.__name__
    return compare


equal, not_equal = _comparison(np.equal), _comparison(np.not_equal)
less, less_equal = _comparison(np.less), _comparison(np.less_equal)
greater, greater_equal = _comparison(np.greater), _comparison(np.greater_equal)


# -- registration on Tensor and numpy dispatch -------------------------------------------------
def _reflected(op):
    return lambda self, other: op(other, self)


_TENSOR_METHODS = {
    "__add__": add, "__radd__": _reflected(add),
    "__sub__": subtract, "__rsub__": _reflected(subtract),
    "__mul__": multiply, "__rmul__": _reflected(multiply),
    "__truediv__": divide, "__rtruediv__": _reflected(divide),
    "__pow__": power, "__rpow__": _reflected(power),
    "__matmul__": matmul, "__rmatmul__": _reflected(matmul),
    "__neg__": negative, "__abs__": abs, "__getitem__": getitem,
    "__eq__": equal, "__ne__": not_equal, "__lt__": less, "__le__": less_equal,
    "__gt__": greater, "__ge__": greater_equal,
    "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "tanh": tanh, "sigmoid": sigmoid,
    "relu": relu, "leaky_relu": leaky_relu, "softplus": softplus, "clip": clip,
    "sum": sum, "mean": mean, "max": max, "min": min, "var": var, "logsumexp": logsumexp,
    "softmax": softmax, "log_softmax": log_softmax, "matmul": matmul,
    "reshape": reshape, "transpose": transpose, "swapaxes": swapaxes, "flatten": flatten,
    "squeeze": squeeze, "expand_dims": expand_dims, "astype": astype,
    "T": property(lambda self: transpose(self)),
}

# numpy functions applied to Tensors (``np.exp(t)``) run the differentiable op. This is also how
# one backward formula, written with numpy calls, records a graph under create_graph=True.
_UFUNCS = {
    np.add: add, np.subtract: subtract, np.multiply: multiply, np.true_divide: divide,
    np.power: power, np.negative: negative, np.absolute: abs, np.exp: exp, np.log: log,
    np.sqrt: sqrt, np.tanh: tanh, np.maximum: maximum, np.minimum: minimum, np.matmul: matmul,
    np.equal: equal, np.not_equal: not_equal, np.less: less, np.less_equal: less_equal,
    np.greater: greater, np.greater_equal: greater_equal,
}
_FUNCTIONS = {
    np.sum: sum, np.mean: mean, np.max: max, np.min: min, np.var: var, np.clip: clip,
    np.reshape: reshape, np.transpose: transpose, np.swapaxes: swapaxes,
    np.expand_dims: expand_dims, np.squeeze: squeeze, np.broadcast_to: broadcast_to,
    np.where: where, np.concatenate: concatenate, np.stack: stack, np.matmul: matmul,
}


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    op = _UFUNCS.get(ufunc)
    if op is None or method != "__call__" or kwargs:
        call = f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method}"
        raise DTypeError(f"{call}: not supported on autograd_core Tensors"
                         f"{' with ' + ', '.join(kwargs) if kwargs else ''}: no differentiable "
                         f"route (it would lose the gradient, e.g. in a Function's backward under "
                         f"create_graph=True); use an ag.* op, or t.numpy() for a constant")
    return op(*inputs)


def _array_function(self, func, types, args, kwargs):
    op = _FUNCTIONS.get(func)
    if op is None:
        raise DTypeError(f"np.{func.__name__}: not supported on autograd_core Tensors (it would "
                         "lose the gradient); use the ag.* op, or t.numpy() for a constant")
    return op(*args, **kwargs)


for _name, _method in {**_TENSOR_METHODS, "__array_ufunc__": _array_ufunc,
                       "__array_function__": _array_function}.items():
    setattr(Tensor, _name, _method)
