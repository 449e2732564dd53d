"""Rearranging elements: flip, roll, tile, repeat, pad, split/chunk/unbind, clone, and the
PyTorch spellings of the shape ops (view, permute, unsqueeze, cat).

Naming rule: a function under numpy's name follows numpy (``ag.repeat`` repeats each element, as
``np.repeat``; ``ag.split`` takes numpy's sections or split points), and so does a Tensor method
that numpy arrays also have (``t.repeat``). PyTorch's meanings come under PyTorch's other names:
``tile`` is ``Tensor.repeat(*sizes)`` of PyTorch, ``repeat_interleave`` its element repetition,
and ``t.split(size_or_sizes, dim)`` (a method numpy arrays lack) PyTorch's split.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ShapeError, describe
from ..function import Function
from ..tensor import Tensor
from .operands import Axis, axes, one_axis, operand, shape_args
from .registry import register
from .shape import GetItem, concatenate, expand_dims, getitem, reshape, transpose


class Flip(Function):
    """out = a reversed along ``axis`` (all axes for None);  backward flips the gradient back."""

    def forward(self, a, axis):
        self.axis = axis
        return np.flip(a, axis)

    def backward(self, grad):
        return np.flip(grad, self.axis)


@register(method="flip", numpy=np.flip)
def flip(a: Any, axis: Axis = None, *, dims: Axis = None) -> Tensor:
    """a with the order of elements reversed along ``axis`` (PyTorch: ``dims``), all axes for
    None."""
    a = operand(a, None, "flip")
    return Flip.apply(a, axis=axes(axis, dims, a.shape, "flip"))


class Roll(Function):
    """out = a shifted cyclically by ``shift`` along ``axis``;  backward rolls back."""

    def forward(self, a, shift, axis):
        self.shift, self.axis = shift, axis
        return np.roll(a, shift, axis)

    def backward(self, grad):
        back = tuple(-s for s in self.shift) if isinstance(self.shift, tuple) else -self.shift
        return np.roll(grad, back, self.axis)


@register(method="roll", numpy=np.roll)
def roll(a: Any, shift: int | Sequence[int], axis: Axis = None, *,
         dims: Axis = None) -> Tensor:
    """a shifted cyclically by ``shift`` places along ``axis`` (PyTorch: ``dims``); over the
    flattened tensor for None. Several shifts pair with several axes."""
    axis = dims if dims is not None else axis
    shift = tuple(int(s) for s in shift) if isinstance(shift, (tuple, list)) else int(shift)
    if isinstance(axis, (tuple, list)):
        axis = tuple(int(i) for i in axis)
    return Roll.apply(operand(a, None, "roll"), shift=shift, axis=axis)


class Tile(Function):
    """out = a repeated ``reps`` times along each axis (numpy's tile, PyTorch's
    ``Tensor.repeat``);  backward sums the copies."""

    def forward(self, a, reps):
        ndim = max(a.ndim, len(reps))
        self.in_shape = a.shape
        self.shape = (1,) * (ndim - a.ndim) + a.shape
        self.reps = (1,) * (ndim - len(reps)) + reps
        return np.tile(a, reps)

    def backward(self, grad):
        interleaved = [n for pair in zip(self.reps, self.shape) for n in pair]
        copies = tuple(range(0, 2 * len(self.shape), 2))
        return grad.reshape(interleaved).sum(axis=copies).reshape(self.in_shape)


@register(method="tile", numpy=np.tile)
def tile(a: Any, *reps: int) -> Tensor:
    """a repeated as a block ``reps`` times along each axis: ``tile(x, 2, 1)`` or
    ``tile(x, (2, 1))``; PyTorch calls this ``Tensor.repeat(2, 1)``.

    >>> ag.tile(ag.tensor([1.0, 2.0]), 2)     # tensor([1., 2., 1., 2.])
    """
    reps = shape_args(reps)
    if any(int(r) < 0 for r in reps):
        raise ShapeError(f"tile: repetitions must be non-negative, got {reps}")
    return Tile.apply(operand(a, None, "tile"), reps=tuple(int(r) for r in reps))


class Repeat(GetItem):
    """out = each element of a repeated along an axis (an index with repeated entries);
    backward adds the copies' gradients back."""

    name = "repeat"


def _repeat(op: str, a: Any, repeats: Any, axis: int | None) -> Tensor:
    a = operand(a, None, op)
    if axis is None:  # numpy: over the flattened tensor
        a, axis = a.reshape(-1), 0
    (axis,) = axes(axis, None, a.shape, op)
    counts = np.asarray(repeats.data if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or (counts < 0).any() or \
            counts.ndim == 1 and len(counts) not in (1, a.shape[axis]):
        raise ShapeError(f"{op}: repeats must be a non-negative int or one per element along "
                         f"axis {axis} ({a.shape[axis]}), got {counts.tolist()} for input "
                         f"{describe(a.data)}")
    index = np.repeat(np.arange(a.shape[axis]), counts)
    return Repeat.apply(a, index=(slice(None),) * axis + (index,))


@register(method="repeat", numpy=np.repeat)
def repeat(a: Any, repeats: Any, *more: Any, axis: int | None = None,
           dim: int | None = None) -> Tensor:
    """Each element repeated ``repeats`` times along ``axis`` (numpy's ``np.repeat``; the
    flattened tensor for None); ``repeats`` is an int or one count per element.

    This is PyTorch's ``repeat_interleave``; PyTorch's ``Tensor.repeat(*sizes)`` is
    :func:`tile`. The axis is keyword-only so a PyTorch-style ``t.repeat(2, 1)`` raises instead
    of meaning something else.

    >>> ag.repeat(ag.tensor([1.0, 2.0]), 2)   # tensor([1., 1., 2., 2.])
    """
    if more:
        raise TypeError("repeat: takes the axis as a keyword, repeat(a, repeats, axis=...) "
                        "(numpy's element repetition); PyTorch's Tensor.repeat(*sizes), which "
                        "repeats the whole tensor, is ag.tile(a, sizes) / t.tile(*sizes)")
    return _repeat("repeat", a, repeats, dim if dim is not None else axis)


@register(method="repeat_interleave")
def repeat_interleave(a: Any, repeats: Any, dim: int | None = None) -> Tensor:
    """PyTorch's name for :func:`repeat`: each element repeated ``repeats`` times along
    ``dim`` (the flattened tensor for None)."""
    return _repeat("repeat_interleave", a, repeats, dim)


class Pad(Function):
    """out = a surrounded by ``value`` (``width`` = (before, after) per axis);  backward cuts
    the gradient of the original region out."""

    def forward(self, a, width, value):
        self.inside = tuple(slice(before, before + n) for (before, _), n in zip(width, a.shape))
        return np.pad(a, width, mode="constant", constant_values=value)

    def backward(self, grad):
        return grad[self.inside]


class PadIndex(GetItem):
    """out = a padded by copies of its own elements (reflect, edge): an index;  backward adds
    the copies' gradients back to their source elements."""

    name = "pad"


PAD_MODES = ("constant", "reflect", "edge")


@register(method="pad", numpy=np.pad)
def pad(a: Any, pad_width: Any, mode: str = "constant", constant_values: float = 0) -> Tensor:
    """a with ``pad_width`` elements added before and after each axis, as ``np.pad``:
    ``pad_width`` is n, (before, after), or one (before, after) per axis. ``mode``: "constant"
    (``constant_values``), "reflect" (mirror without repeating the edge; each width must be
    less than the axis length, as in PyTorch) or "edge" (repeat the edge; PyTorch's
    "replicate").

    PyTorch's ``F.pad`` lists widths from the last axis backwards; this takes numpy's order.
    """
    a = operand(a, None, "pad")
    try:
        width = np.broadcast_to(np.asarray(pad_width), (a.ndim, 2)).astype(int)
    except ValueError as err:
        raise ShapeError(f"pad: pad_width {pad_width!r} does not fit the input "
                         f"{describe(a.data)}: give n, (before, after) or one pair per axis") \
            from err
    if (width < 0).any():
        raise ShapeError(f"pad: widths must be non-negative, got {width.tolist()}")
    width = tuple((int(before), int(after)) for before, after in width)
    if mode == "constant":
        return Pad.apply(a, width=width, value=constant_values)
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    need = "widths below the axis length" if mode == "reflect" else "a non-empty axis"
    for axis, ((before, after), n) in enumerate(zip(width, a.shape)):
        too_wide = max(before, after) >= n if mode == "reflect" else n == 0
        if too_wide and (before or after):
            raise ShapeError(f"pad: {mode} padding of ({before}, {after}) on axis {axis} of "
                             f"length {n} needs {need} (input {describe(a.data)})")
    index = np.ix_(*(np.pad(np.arange(n), w, mode=mode) for n, w in zip(a.shape, width)))
    return PadIndex.apply(a, index=index)


def _pieces(a: Tensor, axis: int, bounds: Sequence[int]) -> tuple[Tensor, ...]:
    """a cut along ``axis`` at ``bounds`` (0, ..., n): one getitem per piece."""
    before = (slice(None),) * axis
    return tuple(getitem(a, before + (slice(start, stop),))
                 for start, stop in zip(bounds[:-1], bounds[1:]))


@register(numpy=np.split)
def split(a: Any, indices_or_sections: int | Sequence[int], axis: int | None = None, *,
          dim: int | None = None) -> tuple[Tensor, ...]:
    """numpy's split: ``k`` equal sections along ``axis`` (an error unless k divides its
    length), or the pieces between the split points of a list.

    PyTorch's ``torch.split(t, size_or_sizes, dim)`` is the method ``t.split``.
    """
    a = operand(a, None, "split")
    (axis,) = axes(one_axis(axis, dim, "split", default=0), None, a.shape, "split")
    n = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ShapeError(f"split: axis {axis} of length {n} does not split into "
                             f"{indices_or_sections} equal sections (input {describe(a.data)})")
        step = n // indices_or_sections
        bounds = list(range(0, n + 1, step)) if step else [0] * (indices_or_sections + 1)
    else:
        bounds = [0, *(int(i) for i in indices_or_sections), n]  # as slices: a[start:stop]
    return _pieces(a, axis, bounds)


def split_sizes(a: Tensor, split_size_or_sections: int | Sequence[int],
                dim: int = 0) -> tuple[Tensor, ...]:
    """PyTorch's ``Tensor.split``: pieces of ``split_size`` along ``dim`` (the last may be
    smaller), or pieces of the listed sizes, which must sum to the axis length."""
    a = operand(a, None, "split")
    (dim,) = axes(dim, None, a.shape, "split")
    n = a.shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)):
        if split_size_or_sections <= 0:
            raise ShapeError(f"split: the split size must be positive, got "
                             f"{split_size_or_sections}")
        bounds = [*range(0, n, split_size_or_sections), n] if n else [0, 0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or min(sizes, default=0) < 0:
            raise ShapeError(f"split: sizes {sizes} must be non-negative and sum to the length "
                             f"{n} of axis {dim} (input {describe(a.data)})")
        bounds = np.cumsum([0, *sizes]).tolist()
    return _pieces(a, dim, bounds)


register(split_sizes, method="split", public=False)


@register(method="chunk")
def chunk(a: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """PyTorch's chunk: at most ``chunks`` pieces of ceil(n / chunks) along ``dim`` (the last
    may be smaller, and there may be fewer)."""
    if chunks <= 0:
        raise ShapeError(f"chunk: the number of chunks must be positive, got {chunks}")
    a = operand(a, None, "chunk")
    (dim,) = axes(dim, None, a.shape, "chunk")
    size = -(-a.shape[dim] // chunks)
    return split_sizes(a, max(size, 1), dim)


@register(method="unbind")
def unbind(a: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of a along ``dim``, that axis removed, as ``torch.unbind``."""
    a = operand(a, None, "unbind")
    (dim,) = axes(dim, None, a.shape, "unbind")
    return tuple(getitem(a, (slice(None),) * dim + (i,)) for i in range(a.shape[dim]))


class Clone(Function):
    """out = a copy of a;  d/da = 1."""

    derivative = ("1",)

    def forward(self, a):
        return a.copy()

    def backward(self, grad):
        return grad


@register(method="clone", numpy=np.copy)
def clone(a: Any) -> Tensor:
    """A copy of a with its own data, still in the graph (``detach`` leaves it)."""
    return Clone.apply(operand(a, None, "clone"))


@register(method="view", public=False)
def view(a: Tensor, *shape: int) -> Tensor:
    """PyTorch's ``Tensor.view(*shape)``: :func:`reshape` (numpy's ``view(dtype)``, a
    reinterpretation of the bytes, has no gradient and is not offered)."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
        raise TypeError(f"view: takes a shape, got {shape[0]!r}; to change the dtype use "
                        "astype")
    return reshape(a, *shape)


register(transpose, name="permute", method="permute")
register(expand_dims, name="unsqueeze", method="unsqueeze")
register(concatenate, name="cat")
