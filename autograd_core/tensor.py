"""Tensor: a numpy array, its gradient, and the node of the graph that made it.

The class is deliberately thin: it stores data and graph links and knows no derivative formula.
Arithmetic, reductions and the other ops are attached in one place, ``autograd_core.ops``, from the
``Function`` classes that hold each op's forward and backward side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DTypeError

if TYPE_CHECKING:
    from .function import Function

_default_dtype = np.dtype(np.float32)

# How many in-place writes the library has recorded, over all tensors (``_bump_version``). A node
# that saves arrays notes it, and backward compares versions only for nodes with a write since:
# most steps write nothing between forward and backward, and the comparison costs a loop a node.
write_count = [0]


def set_default_dtype(dtype) -> None:
    """Set the dtype given to Python floats and lists (float32 unless changed)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise DTypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    """The dtype given to Python floats and lists."""
    return _default_dtype


def to_array(data: Any, dtype=None) -> np.ndarray:
    """Convert ``data`` to a numpy array following the dtype rules.

    numpy arrays and numpy scalars keep their dtype; Python floats (and lists of them) become the
    default dtype (float32); Python ints become int64 and bools bool, as in PyTorch.
    """
    if isinstance(data, Tensor):
        array = data.data
    elif isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
        if array.dtype.kind not in "biufc":
            raise DTypeError(f"tensor: cannot make a Tensor from a numpy array of dtype "
                             f"{array.dtype} (shape {array.shape}); expected a numeric array")
    else:
        array = np.asarray(data)
        if array.dtype.kind == "f":
            array = array.astype(_default_dtype, copy=False)
        elif array.dtype.kind not in "biu":
            raise DTypeError(
                f"tensor: cannot make a Tensor from {type(data).__name__} "
                f"(numpy dtype {array.dtype}); expected numbers, nested lists of numbers or an "
                "array"
            )
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return array


def _check_can_require_grad(array: np.ndarray) -> None:
    if array.dtype.kind == "c":
        # PyTorch's conjugate-Wirtinger convention is not implemented: refuse, never mislead
        raise DTypeError(
            f"requires_grad: complex tensors cannot require gradients, got dtype {array.dtype} "
            f"and shape {array.shape}; differentiate real and imaginary parts as separate float "
            f"tensors"
        )
    if array.dtype.kind != "f":
        raise DTypeError(
            f"requires_grad: only floating-point tensors can require gradients, got a tensor of "
            f"dtype {array.dtype} and shape {array.shape}; make it float first, e.g. "
            f"ag.tensor(values, dtype=np.float32)"
        )


class ElementCount(int):
    """A tensor's number of elements (an int, numpy's ``size``) that PyTorch users can call:
    ``t.size`` is 6 for a (2, 3) tensor, ``t.size()`` is (2, 3) and ``t.size(-1)`` is 3."""

    def __new__(cls, count: int, shape: tuple[int, ...] = ()) -> ElementCount:
        value = super().__new__(cls, count)
        value.shape = shape
        return value

    def __call__(self, dim: int | None = None) -> tuple[int, ...] | int:
        if dim is None:
            return self.shape
        if not -len(self.shape) <= dim < len(self.shape):  # a 0-d tensor has no dimension
            raise IndexError(f"size: dimension {dim} is out of range for a tensor of shape "
                             f"{self.shape}")
        return self.shape[dim]

    def __reduce__(self):
        return int, (int(self),)


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    >>> x = ag.tensor(2.0, requires_grad=True)
    >>> y = x * x + 3 * x            # the graph: mul, mul, add
    >>> y.backward()
    >>> x.grad.item()                # dy/dx = 2x + 3
    7.0
    """

    # Every op output sets the three slots; the rarer attributes live in the instance dict only
    # once set and otherwise read these class defaults, which keeps op outputs cheap to make.
    __slots__ = {
        "data": "The numpy array holding the values. Writing into it (``t.data[...] = v``) is "
                "an untracked escape hatch, as in PyTorch: it bumps no version, so a node that "
                "saved this array computes its gradient from the new values without any error. "
                "Use the in-place ops (``t.add_``, ``t[i] = v``...) to have writes checked.",
        "_node": None, "_requires_grad": None, "__dict__": None, "__weakref__": None,
    }
    grad: Tensor | None = None
    name: str | None = None
    _retains_grad = False
    _hooks: list[Callable] | None = None
    # [version], shared by the tensors that share memory (views, detach); made on first use.
    _version_counter: list[int] | None = None
    # True for a view of a tensor requiring grad taken under no_grad: written in place with grad
    # on, the write would change that tensor behind the graph's back, so it is refused (PyTorch).
    _no_grad_view = False

    def __init__(self, data: Any, requires_grad: bool = False, dtype=None, name: str | None = None):
        self.data = to_array(data, dtype)
        self._node: Function | None = None
        self._requires_grad = False
        if name is not None:
            self.name = name
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array: np.ndarray, node: Function | None = None) -> Tensor:
        """Fast constructor for op outputs: no conversion, no checks."""
        t = object.__new__(cls)
        t.data = array
        t._node = node
        t._requires_grad = node is not None
        return t

    # -- attributes -------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (only on leaves) and return self."""
        if flag:
            _check_can_require_grad(self.data)
        elif self._node is not None:
            raise RuntimeError(
                "requires_grad_: a non-leaf tensor (output of an op) cannot stop requiring grad; "
                "use .detach() to get a tensor outside the graph"
            )
        self._requires_grad = bool(flag)
        return self

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> ElementCount:
        """The number of elements, numpy's ``size``: an int. Calling it is PyTorch's
        ``size()``: ``t.size()`` is the shape and ``t.size(dim)`` the length of one axis."""
        return ElementCount(self.data.size, self.data.shape)

    def dim(self) -> int:
        """The number of axes (PyTorch's name for ``ndim``)."""
        return self.data.ndim

    def numel(self) -> int:
        """The number of elements (PyTorch's name for ``size``)."""
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by an op."""
        return self._node is None

    @property
    def grad_fn(self) -> Function | None:
        """The node (a ``Function``) that produced this tensor, None for leaves."""
        return self._node

    @property
    def _version(self) -> int:
        """How many times the library wrote into this tensor's memory (in-place ops, optimizer
        steps...), counted together with the views sharing it, as in PyTorch."""
        counter = self._version_counter
        return 0 if counter is None else counter[0]

    def _shared_version_counter(self) -> list[int]:
        """The version counter, made now if none exists, to share with a view of this tensor."""
        counter = self._version_counter
        if counter is None:
            counter = self._version_counter = [0]
        return counter

    def _bump_version(self) -> None:
        """Record a write into this tensor's memory (every in-place write of the library)."""
        self._shared_version_counter()[0] += 1
        write_count[0] += 1  # after the version: a node that sees this count sees the version

    def __len__(self) -> int:
        return len(self.data)

    __hash__ = object.__hash__  # == builds a comparison tensor, so hash by identity

    # -- conversions ------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a numpy array (shared, not copied); it carries no graph."""
        return self.data

    def item(self) -> float | int | bool:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert to a number, got shape "
                             f"{self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        """The data as (nested lists of) Python numbers; a number for a 0-d tensor."""
        return self.data.tolist()

    def float(self) -> Tensor:
        """The tensor as float32, in the graph (PyTorch's ``float()``)."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """The tensor as float64, in the graph (PyTorch's ``double()``)."""
        return self.astype(np.float64)

    def long(self) -> Tensor:
        """The tensor as int64, outside the graph: integers carry no gradient."""
        return Tensor._wrap(self.data.astype(np.int64))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"bool: the truth value of a tensor of shape {self.shape} is "
                             "ambiguous; use .any() / .all() on .numpy()")
        return bool(self.data)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph (requires_grad=False).

        It shares the version counter too, so an in-place write through it is seen by the nodes
        that saved this tensor."""
        detached = Tensor._wrap(self.data)
        detached._version_counter = self._shared_version_counter()
        return detached

    # -- gradients --------------------------------------------------------------------------
    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        self._retains_grad = True
        return self

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Call ``hook(grad)`` when this tensor's gradient is computed.

        A hook may return a replacement gradient. Returns a function that removes the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not "
                               "require grad")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return lambda: self._hooks.remove(hook)

    def backward(self, gradient: Any = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        ``gradient`` is d(loss)/d(self) and must be given for non-scalar tensors. The graph is
        freed afterwards unless ``retain_graph=True``; ``create_graph=True`` records the backward
        pass itself so that gradients can be differentiated again.
        """
        from .engine import backward

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    # -- display ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, threshold=20,
                               prefix="tensor(")
        extras = []
        if self.data.dtype != _default_dtype and self.data.dtype.kind == "f":
            extras.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn={self._node.name}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"


def tensor(data: Any, requires_grad: bool = False, dtype=None, name: str | None = None) -> Tensor:
    """Make a leaf tensor holding a copy of ``data``.

    >>> ag.tensor([1.0, 2.0])                 # Python floats -> float32
    >>> ag.tensor(np.ones(3))                 # numpy keeps float64
    """
    array = np.array(to_array(data, dtype), copy=True)
    return Tensor(array, requires_grad=requires_grad, name=name)
