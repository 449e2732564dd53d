"""Edge cases that used to be wrong or unclear: each answer is numpy's or PyTorch's."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.ops import _UFUNCS

REDUCTIONS = ["sum", "mean", "max", "min", "var", "logsumexp", "softmax", "log_softmax"]


@pytest.mark.parametrize("values, ddof", [([1.0, 2.0, 4.0], 3), ([1.0, 2.0], 5), ([2.0, 2.0], 2)])
def test_var_with_ddof_at_least_n_is_inf_or_nan_like_numpy(values, ddof) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.var(np.array(values), ddof=ddof)
    got = ag.var(ag.tensor(np.array(values)), ddof=ddof).item()
    assert np.isnan(got) if np.isnan(expected) else got == expected == np.inf


@pytest.mark.filterwarnings("ignore:var.*degrees of freedom")  # torch warns as it returns inf
def test_var_with_ddof_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    values = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]])
    for ddof in (0, 1, 3, 4):
        got = ag.var(ag.tensor(values), axis=1, ddof=ddof).numpy()
        want = torch.var(torch.tensor(values), dim=1, correction=ddof).numpy()
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op", REDUCTIONS)
@pytest.mark.parametrize("axis", [0, -1, (0,), None])
def test_zero_d_takes_axis_0_and_minus_1_in_every_reduction(op, axis) -> None:
    if axis is None and op in ("softmax", "log_softmax"):
        return
    x = ag.tensor(np.float64(1.5), requires_grad=True)
    out = getattr(ag, op)(x, axis)
    expected = {"var": 0.0, "softmax": 1.0, "log_softmax": 0.0}.get(op, 1.5)
    assert out.shape == () and out.item() == expected
    out.backward()
    assert x.grad.shape == ()


@pytest.mark.parametrize("op", REDUCTIONS)
@pytest.mark.parametrize("axis", [1, -2, (0, 1)])
def test_zero_d_refuses_other_axes_naming_op_and_shape(op, axis) -> None:
    with pytest.raises(ag.ShapeError, match=rf"{op}: axis .* 0-d tensor \(shape \(\)\)"):
        getattr(ag, op)(ag.tensor(1.5), axis)


def test_zero_d_rule_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    t = torch.tensor(2.0)
    for dim in (0, -1):
        assert torch.sum(t, dim=dim).shape == ag.sum(ag.tensor(2.0), dim=dim).shape == ()
    with pytest.raises(IndexError):
        torch.sum(t, dim=1)


@pytest.mark.parametrize("array", [np.array(["a", "b"]), np.array([b"x"]),
                                   np.array([1, "a"], dtype=object),
                                   np.array(["2020-01-01"], dtype="datetime64[D]")])
def test_string_object_bytes_arrays_are_refused(array) -> None:
    dtype = re.escape(str(array.dtype))
    with pytest.raises(ag.DTypeError, match=dtype):
        ag.tensor(array)
    with pytest.raises(ag.DTypeError, match=dtype):
        ag.Tensor(array)
    with pytest.raises(ag.DTypeError, match=dtype):
        ag.tensor([1.0]) + array


@pytest.mark.parametrize("shape", [(-2, 3), (-1, -1), (2, -3), (-1, -1, 6)])
def test_reshape_refuses_negative_sizes_other_than_one_minus_1(shape) -> None:
    x = ag.tensor(np.arange(6.0))
    with pytest.raises(ag.ShapeError, match=r"reshape: invalid shape .* \(6,\)"):
        x.reshape(*shape)
    assert x.reshape(-1, 3).shape == (2, 3)


def test_softmax_family_over_an_empty_axis_gives_pytorchs_results() -> None:
    empty_rows = ag.tensor(np.zeros((3, 0)), requires_grad=True)
    np.testing.assert_array_equal(ag.logsumexp(empty_rows, axis=1).numpy(), [-np.inf] * 3)
    assert ag.logsumexp(ag.tensor(np.zeros(0)), axis=0).item() == -np.inf
    for op in (ag.softmax, ag.log_softmax):
        out = op(empty_rows, axis=1)
        assert out.shape == (3, 0) and out.dtype == np.float64
        out.sum().backward()
    assert empty_rows.grad.shape == (3, 0)
    no_rows = ag.tensor(np.zeros((0, 4)))
    assert ag.softmax(no_rows, axis=1).shape == (0, 4)
    assert ag.logsumexp(no_rows, axis=1).shape == (0,)


def test_empty_logsumexp_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    want = torch.logsumexp(torch.zeros(3, 0), dim=1).numpy()
    np.testing.assert_array_equal(ag.logsumexp(ag.tensor(np.zeros((3, 0), np.float32)), 1)
                                  .numpy(), want)
    assert torch.softmax(torch.zeros(3, 0), dim=1).shape == ag.softmax(
        ag.tensor(np.zeros((3, 0))), 1).shape


class Scale(ag.Function):
    """out = a * k;  d/da = k: a user Function taking a constant as an input."""

    def forward(self, a, k):
        self.save_for_backward(k)
        return a * k

    def backward(self, grad, k):
        return grad * k, None


def test_function_apply_takes_numbers_and_arrays_as_constants() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = Scale.apply(x, 0.5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5])
    z = Scale.apply(x, np.array([2.0, 3.0]))
    np.testing.assert_allclose(z.numpy(), [2.0, 6.0])
    assert not Scale.apply(3.0, 2.0).requires_grad
    with pytest.raises(ag.DTypeError, match="<U1"):
        Scale.apply(x, np.array(["a", "b"]))


class UfuncSquash(ag.Function):
    """out = tanh(a) * exp(-a**2); the backward calls numpy ufuncs on what it is given."""

    def forward(self, a):
        self.save_for_backward(a)
        return np.tanh(a) * np.exp(-a * a)

    def backward(self, grad, a):
        t, g = np.tanh(a), np.exp(np.negative(a * a))
        return grad * (np.subtract(1, t * t) * g - 2 * a * t * g)


def test_user_function_with_ufuncs_in_backward_has_second_derivatives() -> None:
    x = ag.tensor(np.linspace(-1.5, 1.5, 5), requires_grad=True)
    assert ag.gradcheck(UfuncSquash.apply, [x])
    assert ag.gradgradcheck(UfuncSquash.apply, [x])


def _differentiable_ufuncs() -> list[np.ufunc]:
    with np.errstate(invalid="ignore"):  # the probe value lies outside some domains (arccosh)
        return [u for u in _UFUNCS if u.nin in (1, 2) and u is not np.matmul
                and ag.tensor([0.5]).__array_ufunc__(u, "__call__",
                                                     *([ag.tensor([0.5])] * u.nin))
                .dtype.kind == "f"]


# inputs inside each ufunc's domain (default: [0.5, 1.5])
DOMAINS = {np.arcsin: (0.1, 0.9), np.arccos: (0.1, 0.9), np.arctanh: (0.1, 0.9),
           np.arccosh: (1.5, 2.5)}


def test_every_routed_ufunc_records_a_differentiable_op() -> None:
    rng = np.random.default_rng(0)
    for ufunc in _differentiable_ufuncs():
        low, high = DOMAINS.get(ufunc, (0.5, 1.5))
        arrays = [rng.uniform(low, high, size=(3,)) for _ in range(ufunc.nin)]
        tensors = [ag.tensor(a, requires_grad=True) for a in arrays]
        out = ufunc(*tensors)
        assert isinstance(out, ag.Tensor) and out.requires_grad, ufunc.__name__
        np.testing.assert_allclose(out.numpy(), ufunc(*arrays), err_msg=ufunc.__name__)
        assert ag.gradcheck(lambda *t, u=ufunc: u(*t).sum(), tensors), ufunc.__name__


def test_ufunc_without_a_route_is_named() -> None:
    x = ag.tensor([0.5], requires_grad=True)
    with pytest.raises(ag.DTypeError, match="np.spacing: not supported .* no differentiable route"):
        np.spacing(x)
    with pytest.raises(ag.DTypeError, match=r"np.add.reduce"):
        np.add.reduce(x)
