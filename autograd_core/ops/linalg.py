"""Matrix products and matrix-shaped ops: matmul, einsum, outer, diagonal, trace, tril/triu,
and the vector and matrix norms of ``ag.linalg.norm``."""

from __future__ import annotations

import builtins
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ShapeError, describe
from ..function import Function
from ..tensor import Tensor
from .elementwise import abs, where
from .operands import Axis, axes, keep_dims, operand, operand_list
from .reduce import max, min, sum
from .registry import binary, register
from .shape import getitem, reshape, transpose


class MatMul(Function):
    """out = a @ b with numpy's rules (batched; 1-D operands are promoted and the added axis is
    removed again).  d/da = grad @ b^T,  d/db = a^T @ grad.

    The 1-D cases are handled by giving grad back the axis that the promotion removed, doing the
    2-D formulas, then removing it from the result; batch broadcasting is undone by the engine.
    """

    name = "matmul"
    symbol = "@"
    gradient_rule = ("{grad} @ {1}^T", "{0}^T @ {grad}")

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul does not accept 0-d operands; use * for scaling")
        inner_a = a.shape[-1]
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if inner_a != inner_b:
            raise ValueError(f"inner dimensions differ: {a.shape} @ {b.shape} needs "
                             f"{inner_a} == {inner_b}")
        self.save_for_backward(a, b)
        return np.matmul(a, b)

    def backward(self, grad, a, b):
        needs_a, needs_b = self.needs_input_grad
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        if b.ndim == 1:
            grad = np.expand_dims(grad, -1)
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = grad_b = None
        if needs_a:
            grad_a = grad @ b2.swapaxes(-1, -2)
            if a.ndim == 1:
                grad_a = np.squeeze(grad_a, -2)
        if needs_b:
            grad_b = a2.swapaxes(-1, -2) @ grad
            if b.ndim == 1:
                grad_b = np.squeeze(grad_b, -1)
        return grad_a, grad_b


matmul = binary(MatMul, method=("matmul", "__matmul__"), reflected="__rmatmul__", ufunc=np.matmul)


def _einsum_spec(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Explicit subscripts: ``...`` replaced by letters, the output spelled out."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(f"einsum: subscripts {subscripts!r} name {len(terms)} operands, got "
                         f"{len(shapes)}")
    used = set(spec) - set(".,->")
    free = [c for c in string.ascii_letters if c not in used]
    broadcast = 0
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        if not all(c.isalpha() for c in term.replace("...", "")) or term.count("...") > 1:
            raise ShapeError(f"einsum: bad subscripts {subscripts!r} (operand {k}: {term!r})")
        named = len(term.replace("...", ""))
        if "..." in term:
            broadcast = builtins.max(broadcast, len(shape) - named)
        if (len(shape) < named) if "..." in term else (len(shape) != named):
            raise ShapeError(f"einsum: operand {k} has shape {shape} but subscripts {term!r}")
    ellipsis = "".join(free[:broadcast])
    # each operand's ellipsis covers its own trailing broadcast axes (numpy's right alignment)
    terms = [t.replace("...", ellipsis[broadcast - (len(shape) - len(t) + 3):])
             if "..." in t else t for t, shape in zip(terms, shapes)]
    if arrow:
        output = output.replace("...", ellipsis)
    else:  # numpy's implicit output: the letters used once, in order, after the ellipsis
        letters = "".join(terms)
        output = ellipsis + "".join(sorted(c for c in set(letters)
                                           if letters.count(c) == 1 and c not in ellipsis))
    if not output.isalpha() and output or set(output) - set("".join(terms)) or \
            len(set(output)) != len(output):
        raise ShapeError(f"einsum: bad subscripts {subscripts!r} (output {output!r}: each "
                         "letter once, each from an operand)")
    return terms, output


def _take_diagonals(tensor: Tensor, term: str, k: int) -> tuple[Tensor, str]:
    """A subscript repeated inside one operand ("ii") means its diagonal: take it (the
    diagonal's axis goes last, as ag.diagonal puts it) until every letter is used once."""
    while len(set(term)) != len(term):
        letter = next(c for c in term if term.count(c) > 1)
        first = term.index(letter)
        second = term.index(letter, first + 1)
        if tensor.shape[first] != tensor.shape[second]:
            raise ShapeError(f"einsum: operand {k} repeats {letter!r} in {term!r} over axes of "
                             f"different lengths {tensor.shape[first]} and "
                             f"{tensor.shape[second]} (shape {tensor.shape})")
        tensor = diagonal(tensor, 0, first, second)
        term = term[:first] + term[first + 1:second] + term[second + 1:] + letter
    return tensor, term


class Einsum(Function):
    """out = np.einsum(terms -> output, *operands);
    d/d(operand k) = einsum(output, the other terms -> term k) of the gradient and the other
    operands, broadcast along the letters only operand k has."""

    def forward(self, *arrays, terms, output):
        self.terms, self.output = terms, output
        self.save_for_backward(*arrays)
        return np.einsum(",".join(terms) + "->" + output, *arrays)

    def backward(self, grad, *arrays):
        grads = []
        for k, (term, array) in enumerate(zip(self.terms, arrays)):
            if not self.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [t for i, t in enumerate(self.terms) if i != k]
            known = set(self.output).union(*others)
            kept = "".join(c for c in term if c in known)
            spec = ",".join([self.output, *others]) + "->" + kept
            part = np.einsum(spec, grad, *[a for i, a in enumerate(arrays) if i != k])
            if kept != term:  # letters summed over inside operand k alone: d/d = 1 along them
                missing = tuple(i for i, c in enumerate(term) if c not in known)
                part = np.broadcast_to(np.expand_dims(part, missing), array.shape)
            grads.append(part)
        return tuple(grads)


@register(numpy=np.einsum)
def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation as ``np.einsum`` / ``torch.einsum``: ``einsum("ij,jk->ik", a, b)``
    is a @ b; ``...`` stands for broadcast axes; a letter repeated in one operand takes its
    diagonal (``"ii->i"``, ``"ii"`` the trace); an implicit output (no ``->``) lists the letters
    used once in alphabetical order. Each operand gets its gradient.

    >>> ag.einsum("bij,bjk->bik", x, y)          # batched matmul
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = operand_list(operands, "einsum")
    terms, output = _einsum_spec(subscripts, [t.shape for t in tensors])
    tensors, terms = zip(*(_take_diagonals(t, term, k)
                           for k, (t, term) in enumerate(zip(tensors, terms))))
    return Einsum.apply(*tensors, terms=list(terms), output=output)


@register(method="outer", numpy=np.outer)
def outer(a: Any, b: Any) -> Tensor:
    """The outer product a[i] * b[j] of two vectors (flattened first, as in numpy)."""
    a, b = operand_list([a, b], "outer")
    return reshape(a, -1, 1) * reshape(b, 1, -1)


@register(method="diagonal", numpy=np.diagonal)
def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, *,
             dim1: int | None = None, dim2: int | None = None) -> Tensor:
    """The diagonal a[..., i, i + offset] of the planes spanned by ``axis1`` and ``axis2``
    (PyTorch: ``dim1``, ``dim2``), put on a new last axis as numpy and PyTorch do."""
    a = operand(a, None, "diagonal")
    axis1 = dim1 if dim1 is not None else axis1
    axis2 = dim2 if dim2 is not None else axis2
    if a.ndim < 2:
        raise ShapeError(f"diagonal: needs at least 2 dimensions, got {describe(a.data)}")
    first, second = (axes(i, None, a.shape, "diagonal")[0] for i in (axis1, axis2))
    if first == second:
        raise ShapeError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2}")
    rest = [i for i in range(a.ndim) if i not in (first, second)]
    rows, cols = a.shape[first], a.shape[second]
    start_row, start_col = (0, offset) if offset >= 0 else (-offset, 0)
    length = builtins.max(0, builtins.min(rows - start_row, cols - start_col))
    moved = transpose(a, *rest, first, second)
    return getitem(moved, (Ellipsis, np.arange(length) + start_row,
                           np.arange(length) + start_col))


@register(method="trace", numpy=np.trace)
def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum of :func:`diagonal`: a[i, i + offset] summed over i."""
    return sum(diagonal(a, offset, axis1, axis2), axis=-1)


def _triangle(op: str, a: Any, k: int, keep) -> Tensor:
    a = operand(a, None, op)
    if a.ndim < 2:
        raise ShapeError(f"{op}: needs at least 2 dimensions, got {describe(a.data)}")
    rows, cols = a.shape[-2:]
    mask = keep(np.arange(cols)[None, :] - np.arange(rows)[:, None], k)
    return where(mask, a, 0)


@register(method="tril", numpy=np.tril)
def tril(a: Any, k: int = 0, *, diagonal: int | None = None) -> Tensor:
    """a with the elements above the k-th diagonal set to 0 (PyTorch: ``diagonal=``), over the
    last two axes; the gradient passes below and on it."""
    return _triangle("tril", a, k if diagonal is None else diagonal, np.less_equal)


@register(method="triu", numpy=np.triu)
def triu(a: Any, k: int = 0, *, diagonal: int | None = None) -> Tensor:
    """a with the elements below the k-th diagonal set to 0 (PyTorch: ``diagonal=``), over the
    last two axes; the gradient passes above and on it."""
    return _triangle("triu", a, k if diagonal is None else diagonal, np.greater_equal)


class EuclideanNorm(Function):
    """out = sqrt(sum(a**2)) over ``axis``;  d/da = a / out, taken as 0 where out = 0 (the
    subgradient PyTorch picks)."""

    def forward(self, a, axis, keepdims):
        self.kept = tuple(1 if axis is None or i in axis else n for i, n in enumerate(a.shape))
        out = np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdims))
        self.save_for_backward(a, out)
        return out

    def backward(self, grad, a, out):
        norm = out.reshape(self.kept)
        return grad.reshape(self.kept) * a / where(norm == 0, 1, norm)


def _vector_norm(x: Tensor, ord: Any, axis: tuple[int, ...], keepdims: bool) -> Tensor:
    if ord is None or ord == 2:
        return EuclideanNorm.apply(x, axis=axis, keepdims=keepdims)
    if ord == np.inf:
        return max(abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return min(abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:  # the count of non-zeros: no gradient, as in PyTorch
        return Tensor._wrap(np.sum(x.data != 0, axis=axis, keepdims=keepdims).astype(x.dtype))
    if ord == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord {ord!r} is for matrices; give a 2-tuple axis")
    return sum(abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


class SingularValues(Function):
    """out = the singular values of each matrix (the last two axes), largest first;
    d/da = U diag(grad) V^T, with a = U diag(out) V^T (exact where the values are distinct).

    The singular vectors are constants here, so the gradient cannot be differentiated again:
    backward refuses ``create_graph`` rather than give a wrong second derivative.
    """

    name = "svdvals"

    def forward(self, a):
        if a.ndim < 2:
            raise ShapeError(f"svdvals: needs at least 2 dimensions, got {describe(a)}")
        u, values, vh = np.linalg.svd(a, full_matrices=False)
        self.save_for_backward(u, vh)
        return values

    def backward(self, grad, u, vh):
        if isinstance(grad, Tensor):
            raise RuntimeError("svdvals (matrix norms 2, -2, 'nuc'): second derivatives "
                               "(create_graph=True) are not supported")
        return (u * grad[..., None, :]) @ vh


@register(public=False)
def svdvals(a: Any) -> Tensor:
    """The singular values of each matrix over the last two axes, largest first, as
    ``torch.linalg.svdvals``; differentiable once."""
    return SingularValues.apply(operand(a, None, "svdvals"))


def _matrix_norm(x: Tensor, ord: Any, axis: tuple[int, int], keepdims: bool) -> Tensor:
    rows, cols = axis
    kept = [1 if i in axis else n for i, n in enumerate(x.shape)]
    if ord is None or ord == "fro":
        out = EuclideanNorm.apply(x, axis=tuple(sorted(axis)), keepdims=True)
    elif ord in (1, -1, np.inf, -np.inf):
        summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)
        extreme = max if ord in (1, np.inf) else min
        out = extreme(sum(abs(x), axis=summed, keepdims=True), axis=over, keepdims=True)
    elif ord in (2, -2, "nuc"):
        rest = [i for i in range(x.ndim) if i not in axis]
        values = svdvals(transpose(x, *rest, rows, cols))
        picked = sum(values, axis=-1) if ord == "nuc" else \
            getitem(values, (Ellipsis, 0 if ord == 2 else -1))
        out = reshape(picked, kept)
    else:
        raise ValueError(f"norm: matrix ord {ord!r} is not supported (supported: None, 'fro', "
                         "'nuc', 1, -1, 2, -2, inf, -inf)")
    return out if keepdims else reshape(out, [n for i, n in enumerate(out.shape)
                                              if i not in (rows % x.ndim, cols % x.ndim)])


@register(numpy=np.linalg.norm)
def norm(x: Any, ord: Any = None, axis: Axis = None, keepdims: bool = False, *,
         dim: Axis = None, keepdim: bool | None = None) -> Tensor:
    """Vector or matrix norm, as ``np.linalg.norm`` (``torch.linalg.norm``).

    ``axis`` None: the 2-norm of the flattened tensor when ``ord`` is None, otherwise x must
    be 1-D (a vector norm) or 2-D (a matrix norm). An int ``axis``: vector norms along it
    (``ord`` None/2 Euclidean, 1, inf, -inf, 0 the count of non-zeros, any other p:
    sum(|x|**p)**(1/p)). A pair of axes: matrix norms ('fro' / None, 'nuc' the sum of the
    singular values, 2 and -2 the largest / smallest one, 1 and -1 the largest / smallest
    column sum of |x|, inf and -inf the row sums).
    The Euclidean norm's gradient at 0 is 0, as in PyTorch.
    """
    x = operand(x, None, "norm")
    keepdims = keep_dims(keepdims, keepdim)
    axis = dim if dim is not None else axis
    if axis is None:
        if ord is None:
            return EuclideanNorm.apply(x, axis=None, keepdims=keepdims)
        if x.ndim not in (1, 2):
            raise ShapeError(f"norm: with ord={ord!r} and no axis the input must be 1-D or 2-D, "
                             f"got {describe(x.data)}")
        axis = tuple(range(x.ndim))
    if isinstance(axis, Sequence) and len(axis) == 2:
        normal = axes(axis, None, x.shape, "norm")
        if len(normal) != 2:
            raise ShapeError(f"norm: the two axes must differ, got {axis}")
        return _matrix_norm(x, ord, tuple(int(i) % x.ndim for i in axis), keepdims)
    if isinstance(axis, Sequence) and len(axis) != 1:
        raise ShapeError(f"norm: axis must be an int or a pair, got {axis}")
    return _vector_norm(x, ord, axes(axis, None, x.shape, "norm"), keepdims)
