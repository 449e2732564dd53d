"""The new ops beyond their gradient rows: numpy agreement over varied inputs (hypothesis),
erf against math.erf, the naming rules (size, repeat, split, sort), and the errors that name the
op, the shapes and the dtypes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_core as ag

FEW = settings(max_examples=15, deadline=None)
arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-3, 3))


@FEW
@given(arrays, st.data())
def test_scans_and_sorts_match_numpy(x, data) -> None:
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    t = ag.tensor(x)
    np.testing.assert_allclose(ag.cumsum(t, axis).numpy(), np.cumsum(x, axis))
    np.testing.assert_allclose(ag.cumprod(t, axis).numpy(), np.cumprod(x, axis))
    np.testing.assert_array_equal(ag.sort(t, axis).numpy(), np.sort(x, axis))
    np.testing.assert_array_equal(ag.argsort(t, axis).numpy(), np.argsort(x, axis, kind="stable"))
    np.testing.assert_array_equal(ag.flip(t, axis).numpy(), np.flip(x, axis))
    np.testing.assert_array_equal(ag.roll(t, 2, axis).numpy(), np.roll(x, 2, axis))
    np.testing.assert_allclose(ag.prod(t, axis).numpy(), np.prod(x, axis))
    np.testing.assert_array_equal(ag.argmax(t, axis).numpy(), np.argmax(x, axis))
    points = data.draw(st.lists(st.integers(-5, 5), max_size=3))
    for ours, theirs in zip(ag.split(t, points, axis), np.split(x, points, axis), strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs)


@FEW
@given(arrays, st.data())
def test_layout_matches_numpy(x, data) -> None:
    reps = tuple(data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=4)))
    width = data.draw(st.integers(0, 2))
    t = ag.tensor(x)
    np.testing.assert_array_equal(ag.tile(t, reps).numpy(), np.tile(x, reps))
    np.testing.assert_array_equal(ag.repeat(t, reps[0], axis=0).numpy(),
                                  np.repeat(x, reps[0], axis=0))
    for mode in ("constant", "edge") + (("reflect",) if min(x.shape) > width else ()):
        np.testing.assert_array_equal(ag.pad(t, width, mode=mode).numpy(),
                                      np.pad(x, width, mode=mode))


@FEW
@given(arrays)
def test_repeat_and_pad_gradients(x) -> None:
    assert ag.gradcheck(lambda a: ag.repeat(a, 2, axis=-1) * ag.tile(a, 2), [x])
    assert ag.gradcheck(lambda a: ag.pad(a, 1, mode="edge"), [x])


def test_erf_matches_math_erf_in_float64() -> None:
    x = np.concatenate([np.linspace(-6, 6, 101), [0.0, 1e-300, -1e-12, 1e-8]])
    np.testing.assert_array_equal(ag.erf(x).numpy(), [math.erf(v) for v in x])
    assert ag.erf(np.float32(0.5)).dtype == np.float32


def test_size_is_numpy_count_and_pytorch_call() -> None:
    t = ag.zeros(2, 3, 4)
    assert t.size == 24 and isinstance(t.size, int)
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert ag.tensor(5.0).size() == () and ag.tensor(5.0).size == 1
    with pytest.raises(IndexError, match=r"size: dimension 3 is out of range .*\(2, 3, 4\)"):
        t.size(3)


def test_numpy_names_follow_numpy_and_torch_spellings_follow_torch() -> None:
    x = ag.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.repeat(2).tolist() == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 6.0]
    assert x.tile(2, 1).shape == (4, 3)
    with pytest.raises(TypeError, match=r"repeat: takes the axis as a keyword.*ag\.tile"):
        x.repeat(2, 1)
    assert [p.shape for p in ag.split(x, 3, axis=1)] == [(2, 1)] * 3        # numpy: sections
    assert [p.shape for p in x.split(2, dim=1)] == [(2, 2), (2, 1)]        # torch: sizes
    assert [p.shape for p in x.chunk(2, dim=1)] == [(2, 2), (2, 1)]
    assert [p.tolist() for p in x.unbind()] == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert ag.asin is not None and ag.atan2(x, x).shape == (2, 3)
    assert not hasattr(x, "sort"), "numpy's sorts in place, PyTorch's returns a pair"
    values, indices = ag.topk(x, 1)
    assert values.tolist() == [[3.0], [6.0]] and indices.dtype == np.int64
    assert ag.argmax(x, dim=1, keepdim=True).tolist() == [[2], [2]]
    assert ag.any(x > 5).item() and not ag.all(x > 1, dim=(0, 1)).item()
    assert ag.one_hot(ag.tensor([1, 0]), 3).tolist() == [[0, 1, 0], [1, 0, 0]]
    assert x.view(-1).shape == (6,) and x.permute(1, 0).shape == (3, 2)
    assert np.sin(x).grad_fn is None and "sin" in ag.__all__ and "acos" in ag.__all__


def test_leaf_through_rounding_gets_zero_gradient() -> None:
    x = ag.tensor([0.4, 1.6], requires_grad=True)
    (x.floor() * 2.0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_numpy_ufuncs_called_by_backward_formulas_are_differentiable() -> None:
    class Cosine(ag.Function):
        def forward(self, a):
            self.save_for_backward(a)
            return np.cos(a)

        def backward(self, grad, a):
            return -grad * np.sin(a)

    x = ag.tensor([0.3, 1.1], dtype=np.float64, requires_grad=True)
    (first,) = ag.engine.grad(Cosine.apply(x).sum(), [x], create_graph=True)
    first.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -np.cos(x.numpy()))


def test_singular_values_refuse_second_derivatives() -> None:
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"svdvals .*second derivatives"):
        ag.engine.grad(ag.linalg.norm(x, "nuc"), [x], create_graph=True)


X = ag.tensor(np.ones((2, 3), dtype=np.float32))
ERRORS = [
    (lambda: X.gather(1, np.array([[0, 3, 1]])), IndexError,
     r"gather: index 3 is out of range for axis 1 of size 3 \(input \(2, 3\) float32"),
    (lambda: X.gather(1, np.array([0, 1])), ag.ShapeError,
     r"gather: indices need as many dimensions as the input: indices \(2,\)"),
    (lambda: X.gather(1, np.array([[0.5]])), ag.DTypeError, r"gather: indices must be integers"),
    (lambda: X.split([1, 1], dim=1), ag.ShapeError,
     r"split: sizes \[1, 1\] must be non-negative and sum to the length 3 of axis 1 "
     r"\(input \(2, 3\) float32\)"),
    (lambda: ag.split(X, 2, axis=1), ag.ShapeError,
     r"split: axis 1 of length 3 does not split into 2 equal sections"),
    (lambda: ag.einsum("ij,jk->ik", X), ag.ShapeError, r"einsum: subscripts .* name 2 operands"),
    (lambda: ag.einsum("ij->i1", X), ag.ShapeError, r"einsum: bad subscripts"),
    (lambda: ag.einsum("ijk->i", X), ag.ShapeError,
     r"einsum: operand 0 has shape \(2, 3\) but subscripts 'ijk'"),
    (lambda: ag.einsum("ii->i", X), ag.ShapeError,
     r"einsum: operand 0 repeats 'i' in 'ii' over axes of different lengths 2 and 3"),
    (lambda: ag.pad(X, 3, mode="reflect"), ag.ShapeError,
     r"pad: reflect padding of \(3, 3\) on axis 0 of length 2 needs widths below the axis "
     r"length \(input \(2, 3\) float32\)"),
    (lambda: ag.pad(X, 1, mode="wrap"), ValueError, r"pad: mode must be one of"),
    (lambda: ag.pad(X, ((1, 1), (1, 1), (1, 1))), ag.ShapeError,
     r"pad: pad_width .* does not fit the input \(2, 3\) float32"),
    (lambda: ag.topk(X, 4), ag.ShapeError, r"topk: k=4 is out of range for axis 1 of size 3"),
    (lambda: ag.one_hot(ag.tensor([3]), 3), IndexError, r"one_hot: index 3 is out of range"),
    (lambda: X.masked_fill(np.ones((3, 3), bool), 0.0), ag.ShapeError,
     r"masked_fill: mask \(3, 3\) does not broadcast to the input \(2, 3\) float32"),
    (lambda: X.index_add(0, [0], ag.ones(2, 3)), ag.ShapeError,
     r"index_add: needs a 1-D index and a source of shape \(1, 3\)"),
    (lambda: ag.repeat(X, [1, 2], axis=1), ag.ShapeError,
     r"repeat: repeats must be a non-negative int or one per element along axis 1 \(3\)"),
    (lambda: ag.linalg.norm(X, 3, axis=(0, 1)), ValueError, r"norm: matrix ord 3 is not "),
    (lambda: ag.cumsum(X, axis=2), ag.ShapeError, r"cumsum: axis 2 is out of range .*\(2, 3\)"),
    (lambda: ag.argmax(ag.zeros(0)), ag.ShapeError, r"argmax: .*empty.*\(0,\) float32"),
    (lambda: ag.gelu(X, approximate="fast"), ValueError, r"gelu: approximate must be"),
    (lambda: ag.hypot(X, ag.ones(4)), ag.ShapeError, r"hypot: .*\(2, 3\) float32, \(4,\)"),
    (lambda: ag.diagonal(ag.ones(3)), ag.ShapeError, r"diagonal: needs at least 2 dimensions"),
    (lambda: X.view(np.float64), TypeError, r"view: takes a shape"),
]


@pytest.mark.parametrize(("make", "error", "message"), ERRORS)
def test_errors_name_op_shapes_and_dtypes(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()
