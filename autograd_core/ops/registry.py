"""The op registry: each public op is declared once, on the line after its ``Function`` class.

A declaration names the public function (``ag.log1p``), the Tensor methods and operators that
call it (``t.log1p()``, ``a + b``) and the numpy functions that dispatch to it on Tensors
(``np.log1p(t)``). ``autograd_core.ops`` installs the methods and the numpy dispatch from here, and
``autograd_core`` builds its namespace and ``__all__`` from here::

    log1p = unary(Log1p, method="log1p", ufunc=np.log1p)            # one input
    add = binary(Add, method="__add__", reflected="__radd__", ufunc=np.add)
    sum = reduction(Sum, method="sum", numpy=np.sum)                 # axis=/dim=, keepdims

    @register(method="clip", numpy=np.clip)                          # any other signature
    def clip(a, min=None, max=None) -> Tensor: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..tensor import Tensor
from .operands import Axis, axes, keep_dims, operand, operand_pair, scalar

Names = str | tuple[str, ...] | None


@dataclass(frozen=True)
class Op:
    """One public op: its function and where else it is reachable."""

    name: str
    function: Callable[..., Any]
    methods: tuple[str, ...]
    reflected: tuple[str, ...]  # operators called as other.__rop__(self): op(other, self)
    ufuncs: tuple[Any, ...]
    numpy_functions: tuple[Any, ...]
    public: bool
    aliases: tuple[str, ...] = ()  # more public names (PyTorch spellings: ``asin`` for arcsin)


OPS: dict[str, Op] = {}


def _tuple(value: Any) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def register(function: Callable | None = None, *, name: str | None = None, method: Names = None,
             reflected: Names = None, ufunc: Any = None, numpy: Any = None,
             public: bool = True, alias: Names = None) -> Any:
    """Declare ``function`` as the public op ``name`` (default: the function's name).

    ``method``: Tensor method or operator names that call it; ``reflected``: reflected operators
    (``__radd__``) that call it with the operands swapped; ``ufunc`` / ``numpy``: numpy ufuncs /
    functions that call it when given a Tensor; ``public=False`` keeps it out of ``autograd_core``;
    ``alias``: more public names for it (``ag.asin`` beside ``ag.arcsin``).
    Each of these takes one value or a tuple. Used plainly, ``register(f, ...)``, or as a
    decorator, ``@register(method="clip")``; returns the function unchanged.
    """
    if function is None:
        return lambda f: register(f, name=name, method=method, reflected=reflected, ufunc=ufunc,
                                  numpy=numpy, public=public, alias=alias)
    name = name or function.__name__
    if name in OPS:
        raise ValueError(f"op {name!r} is already registered")
    OPS[name] = Op(name, function, _tuple(method), _tuple(reflected), _tuple(ufunc),
                   _tuple(numpy), public, _tuple(alias))
    return function


def _named(function: Callable, function_class: type, name: str | None) -> Callable:
    function.__name__ = function.__qualname__ = name or function_class.name
    function.__doc__ = function_class.__doc__
    return function


def unary(function_class: type, *, name: str | None = None, **declaration: Any) -> Callable:
    """Declare ``f(a)`` running ``function_class`` on one tensor (a number or array is converted).

    ``name`` defaults to the class's ``name`` (``Log1p`` -> ``log1p``); ``declaration`` takes the
    keywords of :func:`register`.
    """

    def op(a: Any) -> Tensor:
        if not isinstance(a, Tensor):
            a = operand(a, None, function_class.name)
        return function_class.apply_to_tensors((a,), a._requires_grad)

    return register(_named(op, function_class, name), **declaration)


def binary(function_class: type, *, name: str | None = None, **declaration: Any) -> Callable:
    """Declare ``f(a, b)`` running ``function_class`` on two operands, converted together (a
    Python number takes the dtype of the float tensor beside it)."""

    def op(a: Any, b: Any) -> Tensor:
        if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
            if b.__class__ is float and isinstance(a, Tensor) and a.data.dtype.kind == "f":
                b = scalar(b, a.data.dtype)  # ``x * 0.5``, the common case, first
            else:
                a, b = operand_pair(a, b, function_class.name)
        return function_class.apply_to_tensors((a, b), a._requires_grad or b._requires_grad)

    return register(_named(op, function_class, name), **declaration)


def reduction(function_class: type, *, name: str | None = None, **declaration: Any) -> Callable:
    """Declare ``f(a, axis=None, keepdims=False, *, dim=None, keepdim=None)``; the class's
    forward receives ``axis`` normalised to a sorted tuple of non-negative axes (None for all) and
    ``keepdims`` (``dim``/``keepdim`` are PyTorch's spellings)."""

    def op(a: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
           keepdim: bool | None = None) -> Tensor:
        a = operand(a, None, function_class.name)
        return function_class.apply(a, axis=axes(axis, dim, a.shape, function_class.name),
                                    keepdims=keep_dims(keepdims, keepdim))

    return register(_named(op, function_class, name), **declaration)


def public_functions() -> dict[str, Callable]:
    """name -> function of every op exported by ``autograd_core``."""
    return {name: op.function for op in OPS.values() if op.public
            for name in (op.name, *op.aliases)}
