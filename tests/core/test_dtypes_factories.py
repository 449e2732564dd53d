"""dtype rules, factories, comparisons and operators with numpy arrays on the left."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import autograd_core as ag


@pytest.fixture
def restore_default_dtype() -> Iterator[None]:
    previous = ag.get_default_dtype()
    yield
    ag.set_default_dtype(previous)


# -- dtype rules -------------------------------------------------------------------------------
def test_python_floats_and_lists_are_float32() -> None:
    assert ag.tensor(1.5).dtype == np.float32
    assert ag.tensor([1.0, 2.0]).dtype == np.float32
    assert ag.tensor([[1, 2.5]]).dtype == np.float32
    assert ag.Tensor(0.5).dtype == np.float32


def test_numpy_arrays_keep_their_dtype() -> None:
    assert ag.tensor(np.ones(3)).dtype == np.float64
    assert ag.tensor(np.float64(2.0)).dtype == np.float64
    assert ag.tensor(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert ag.tensor(np.ones(3), dtype=np.float32).dtype == np.float32


def test_ints_are_int64_and_cannot_require_grad() -> None:
    assert ag.tensor(3).dtype == np.int64
    assert ag.tensor([1, 2]).dtype == np.int64
    assert ag.tensor([True, False]).dtype == np.bool_
    with pytest.raises(ag.DTypeError, match="int64"):
        ag.tensor([1, 2]).requires_grad_()


def test_tensor_copies_its_data() -> None:
    source = np.zeros(2)
    t = ag.tensor(source)
    source[0] = 1.0
    assert t.data[0] == 0.0


def test_set_default_dtype(restore_default_dtype) -> None:
    ag.set_default_dtype(np.float64)
    assert ag.get_default_dtype() == np.float64
    assert ag.tensor(1.0).dtype == np.float64
    assert ag.zeros(2).dtype == np.float64
    assert (ag.tensor(np.ones(2, dtype=np.float32)) * 2.0).dtype == np.float32
    with pytest.raises(ag.DTypeError, match="floating"):
        ag.set_default_dtype(np.int32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grads_have_the_dtype_of_their_leaf(dtype) -> None:
    x = ag.tensor(np.array([1.0, 2.0], dtype=dtype), requires_grad=True)
    w = ag.tensor(np.array([0.5, 0.5]), requires_grad=True)  # float64
    (x * w).sum().backward()
    assert x.grad.dtype == dtype
    assert w.grad.dtype == np.float64


def test_float32_op_python_float_stays_float32() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    for result in (x * 0.1, 0.1 * x, x + 1e-3, x / 3.0, 2.0 - x, x**2.0, 2.0**x, x * 2):
        assert result.dtype == np.float32, result


def test_python_negative_zero_keeps_its_sign() -> None:
    x = ag.tensor([1.0, 2.0])
    assert not np.signbit((x * 0.0).data).any()
    assert np.signbit((x * -0.0).data).all()


def test_int_tensor_op_python_int_stays_int64() -> None:
    assert (ag.tensor([1, 2]) + 1).dtype == np.int64


def test_int_tensor_op_python_float_is_default_dtype() -> None:
    assert (ag.tensor([1, 2]) * 0.5).dtype == np.float32


def test_astype_forward_dtype_and_backward_dtype() -> None:
    x = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32
    (y * 2.0).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


# -- factories ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "shape", "dtype", "fill"),
    [
        (lambda: ag.zeros(2, 3), (2, 3), np.float32, 0.0),
        (lambda: ag.zeros((2, 3), dtype=np.float64), (2, 3), np.float64, 0.0),
        (lambda: ag.ones(4), (4,), np.float32, 1.0),
        (lambda: ag.ones((1, 2), dtype=np.float64), (1, 2), np.float64, 1.0),
        (lambda: ag.full((2, 2), 7.5), (2, 2), np.float32, 7.5),
        (lambda: ag.full(3, -1.0, dtype=np.float64), (3,), np.float64, -1.0),
        (lambda: ag.zeros_like(ag.tensor(np.ones((2, 1)))), (2, 1), np.float64, 0.0),
        (lambda: ag.ones_like(np.ones(3, dtype=np.float32)), (3,), np.float32, 1.0),
        (lambda: ag.zeros_like(ag.ones(2), dtype=np.float64), (2,), np.float64, 0.0),
    ],
)
def test_constant_factories(make, shape, dtype, fill) -> None:
    t = make()
    assert t.shape == shape and t.dtype == dtype
    assert np.all(t.numpy() == fill)
    assert t.is_leaf and not t.requires_grad


def test_eye() -> None:
    np.testing.assert_array_equal(ag.eye(3).numpy(), np.eye(3))
    assert ag.eye(3).dtype == np.float32
    assert ag.eye(2, 4, dtype=np.float64).shape == (2, 4)
    assert ag.eye(2, 4, dtype=np.float64).dtype == np.float64


def test_arange() -> None:
    assert ag.arange(5).dtype == np.int64
    np.testing.assert_array_equal(ag.arange(5).numpy(), np.arange(5))
    np.testing.assert_array_equal(ag.arange(2, 8, 2).numpy(), [2, 4, 6])
    floats = ag.arange(0.0, 1.0, 0.25)
    assert floats.dtype == np.float32
    np.testing.assert_allclose(floats.numpy(), [0.0, 0.25, 0.5, 0.75])
    assert ag.arange(3, dtype=np.float64).dtype == np.float64


def test_random_factories_shapes_dtypes_ranges() -> None:
    u = ag.rand(200, 3)
    assert u.shape == (200, 3) and u.dtype == np.float32
    assert u.numpy().min() >= 0.0 and u.numpy().max() < 1.0
    n = ag.randn((1000,), dtype=np.float64)
    assert n.shape == (1000,) and n.dtype == np.float64
    assert abs(n.numpy().mean()) < 0.2 and 0.8 < n.numpy().std() < 1.2


def test_factories_requires_grad() -> None:
    for t in (ag.zeros(2, requires_grad=True), ag.randn(2, requires_grad=True),
              ag.full(2, 1.0, requires_grad=True), ag.eye(2, requires_grad=True)):
        assert t.requires_grad and t.is_leaf


def test_manual_seed_reproducibility() -> None:
    ag.manual_seed(123)
    first = (ag.randn(4).numpy(), ag.rand(2, 2).numpy(), ag.random.get_generator().random())
    ag.manual_seed(123)
    second = (ag.randn(4).numpy(), ag.rand(2, 2).numpy(), ag.random.get_generator().random())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == second[2]
    ag.manual_seed(124)
    assert not np.array_equal(ag.randn(4).numpy(), first[0])


# -- comparisons and reflected operators -------------------------------------------------------
@pytest.mark.parametrize(
    ("compare", "expected"),
    [
        (lambda a, b: a < b, [True, False, False]),
        (lambda a, b: a <= b, [True, True, False]),
        (lambda a, b: a > b, [False, False, True]),
        (lambda a, b: a >= b, [False, True, True]),
        (lambda a, b: a == b, [False, True, False]),
        (lambda a, b: a != b, [True, False, True]),
        (lambda a, b: a < 2.0, [True, False, False]),
        (lambda a, b: np.array([2.0, 2.0, 2.0]) < b, [False, False, False]),
        (lambda a, b: ag.greater(a, b.numpy()), [False, False, True]),
    ],
)
def test_comparisons_are_bool_tensors_without_grad(compare, expected) -> None:
    a = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = ag.tensor([2.0, 2.0, 2.0], requires_grad=True)
    result = compare(a, b)
    assert isinstance(result, ag.Tensor)
    assert result.dtype == np.bool_
    assert not result.requires_grad and result.grad_fn is None
    assert result.numpy().tolist() == expected


@pytest.mark.parametrize(
    ("operation", "gradient"),
    [
        (lambda n, t: n * t, [2.0, 3.0]),
        (lambda n, t: n + t, [1.0, 1.0]),
        (lambda n, t: n - t, [-1.0, -1.0]),
        (lambda n, t: n / t, [-2.0, -0.75]),  # d(n/t)/dt = -n / t**2 at t = [1, 2]
        (lambda n, t: n**t, [2.0 * np.log(2.0), 9.0 * np.log(3.0)]),
        (lambda n, t: n @ t, [2.0, 3.0]),
    ],
)
def test_numpy_array_on_the_left(operation, gradient) -> None:
    n = np.array([2.0, 3.0])
    t = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = operation(n, t)
    assert isinstance(out, ag.Tensor) and out.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), gradient)


def test_item_float_bool_and_len() -> None:
    t = ag.tensor(np.array([[2.5]]))
    assert t.item() == 2.5 and float(t) == 2.5
    assert len(ag.zeros(4, 2)) == 4
    assert bool(ag.tensor(1.0))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        bool(ag.zeros(2))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        ag.zeros(2).item()


def test_repr_shows_dtype_and_graph() -> None:
    assert repr(ag.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=float64" in repr(ag.tensor(np.ones(1)))
    x = ag.tensor(1.0, requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=mul" in repr(x * 2.0)
