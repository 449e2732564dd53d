"""The public ops, attached to Tensor as methods and operators and to numpy's dispatch.

Each family module beside this file declares its ops in ``registry`` on the line after each
``Function`` class; importing them fills the registry, and this module installs what the
declarations ask for. Nothing here names a particular op except the ``T`` property.
"""

from __future__ import annotations

from typing import Any

from ..errors import DTypeError
from ..tensor import Tensor
from . import (  # noqa: F401  (fill OPS)
    activation,
    arith,
    conv,
    elementwise,
    embedding,
    fused,
    indexing,
    layout,
    linalg,
    norm,
    pool,
    predicates,
    recurrent,
    reduce,
    rounding,
    scan,
    shape,
    sorting,
    special,
    statistics,
    trig,
)
from .registry import OPS, public_functions

globals().update(public_functions())


def _reflected(op):
    return lambda self, other: op(other, self)


# numpy functions applied to Tensors (``np.exp(t)``) run the differentiable op. This is also how
# one backward formula, written with numpy calls, records a graph under create_graph=True.
_UFUNCS: dict[Any, Any] = {}
_FUNCTIONS: dict[Any, Any] = {}
for _op in OPS.values():
    for _method in _op.methods:
        setattr(Tensor, _method, _op.function)
    for _method in _op.reflected:
        setattr(Tensor, _method, _reflected(_op.function))
    _UFUNCS.update(dict.fromkeys(_op.ufuncs, _op.function))
    _FUNCTIONS.update(dict.fromkeys(_op.numpy_functions, _op.function))
Tensor.T = property(lambda self: OPS["transpose"].function(self))


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


Tensor.__array_ufunc__ = _array_ufunc
Tensor.__array_function__ = _array_function
