"""Gradients of gradients: every smooth op's backward formula is itself differentiable.

``gradgradcheck`` builds d(sum(v * f))/dx with ``create_graph=True`` and checks *that* function
against central differences, so it tests each backward formula run in tensor mode.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ag


def normal(*shape: int) -> np.ndarray:
    return np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape)


def positive(*shape: int) -> np.ndarray:
    return np.random.default_rng(len(shape)).uniform(0.5, 2.0, shape)


OFF_GRID = np.array([-1.875, -0.375, 0.125, 0.625, 1.375, 1.625])  # away from 0, ties and +-1

SECOND_ORDER = [
    pytest.param(lambda a, b: a * b, [normal(2, 3), normal(3)], id="mul"),
    pytest.param(lambda a, b: a / b, [normal(2, 3), positive(2, 3)], id="div"),
    pytest.param(lambda a, b: a + b - a * 2.0, [normal(2, 1), normal(1, 3)], id="add_sub"),
    pytest.param(lambda a: a**3, [normal(2, 3)], id="pow_scalar"),
    pytest.param(lambda a, b: a**b, [positive(2, 3), normal(2, 3)], id="pow_tensor"),
    pytest.param(lambda a: 2.0**a, [normal(3)], id="rpow"),
    pytest.param(lambda a: a.exp(), [normal(2, 3)], id="exp"),
    pytest.param(lambda a: a.log(), [positive(2, 3)], id="log"),
    pytest.param(lambda a: a.sqrt(), [positive(2, 3)], id="sqrt"),
    pytest.param(lambda a: a.tanh(), [normal(2, 3)], id="tanh"),
    pytest.param(lambda a: a.sigmoid(), [normal(2, 3)], id="sigmoid"),
    pytest.param(lambda a: a.softplus(), [normal(2, 3)], id="softplus"),
    pytest.param(lambda a: a.softmax(axis=-1), [normal(2, 3)], id="softmax"),
    pytest.param(lambda a: a.log_softmax(axis=0), [normal(3, 2)], id="log_softmax"),
    pytest.param(lambda a: a.logsumexp(axis=1), [normal(2, 3)], id="logsumexp"),
    pytest.param(lambda a, b: a @ b, [normal(2, 3), normal(3, 2)], id="matmul"),
    pytest.param(lambda a, b: a @ b, [normal(2, 2, 3), normal(3)], id="matmul_batched_1d"),
    pytest.param(lambda a: (a * a).mean(axis=0), [normal(2, 3)], id="mean"),
    pytest.param(lambda a: a.var(axis=1), [normal(2, 3)], id="var"),
    pytest.param(lambda a: (a * a).sum(axis=(0, 2), keepdims=True), [normal(2, 3, 2)],
                 id="sum"),
    pytest.param(lambda a: (a.reshape(3, 2) ** 2).T, [normal(2, 3)], id="reshape_transpose"),
    pytest.param(lambda a: a.transpose(1, 0, 2).swapaxes(0, 2) ** 2, [normal(2, 3, 2)],
                 id="transpose_swapaxes"),
    pytest.param(lambda a: a[np.array([0, 2, 0])] ** 2, [normal(3, 2)], id="getitem_repeated"),
    pytest.param(lambda a: a[1:, ::-1] ** 2, [normal(3, 2)], id="getitem_slices"),
    pytest.param(lambda a, b: ag.concatenate([a, b]) ** 2, [normal(2), normal(3)],
                 id="concatenate"),
    pytest.param(lambda a, b: ag.stack([a, b], axis=1) ** 2, [normal(2), normal(2)], id="stack"),
    pytest.param(lambda a: ag.broadcast_to(a, (2, 3)) ** 2, [normal(3)], id="broadcast_to"),
    pytest.param(lambda a, b: ag.where(np.array([True, False, True]), a * a, b * b),
                 [normal(3), normal(3)], id="where"),
    pytest.param(lambda a: a.sin() * a.cos(), [normal(2, 3)], id="sin_cos"),
    pytest.param(lambda a: a.tan(), [normal(2, 3) * 0.5], id="tan"),
    pytest.param(lambda a: a.arcsin() + a.arccos() * a, [normal(2, 3) * 0.3], id="arcsin_arccos"),
    pytest.param(lambda a, b: ag.arctan2(a, b) + a.arctan(), [normal(2, 3), normal(3)],
                 id="arctan2_arctan"),
    pytest.param(lambda a: a.sinh() * a.cosh() + a.arcsinh(), [normal(2, 3)],
                 id="sinh_cosh_arcsinh"),
    pytest.param(lambda a: (a + 1.5).arccosh() + (a * 0.3).arctanh(), [positive(2, 3) - 0.4],
                 id="arccosh_arctanh"),
    pytest.param(lambda a: a.square() * a.reciprocal() + a.rsqrt(), [positive(2, 3)],
                 id="square_reciprocal_rsqrt"),
    pytest.param(lambda a: a.expm1() + a.exp2() + a.log2() + a.log10(), [positive(2, 3)],
                 id="expm1_exp2_log2_log10"),
    pytest.param(lambda a, b: ag.hypot(a, b) * ag.logaddexp(a, b), [normal(2, 3), normal(3)],
                 id="hypot_logaddexp"),
    pytest.param(lambda a, b, w: ag.lerp(a * a, b, w * w), [normal(2, 3), normal(3), normal(2, 1)],
                 id="lerp"),
    pytest.param(lambda a: ag.erf(a) * a, [normal(2, 3)], id="erf"),
    pytest.param(lambda a: ag.gelu(a) + ag.gelu(a, approximate="tanh"), [normal(2, 3)],
                 id="gelu"),
    pytest.param(lambda a: a.silu() + a.mish() + a.softsign() * a, [normal(2, 3)],
                 id="silu_mish_softsign"),
    pytest.param(lambda a: a.elu() * a + ag.selu(a) * a + ag.celu(a, 2.0) * a, [OFF_GRID],
                 id="elu_selu_celu"),
    pytest.param(lambda a: ag.hardswish(a * 2.0) * a, [OFF_GRID], id="hardswish"),
    pytest.param(lambda a: (a.floor() + a.sign() + a.round() + a.trunc() + a.ceil()) * a * a,
                 [OFF_GRID], id="rounding_zero_gradient"),
    pytest.param(lambda a: a.softmin(dim=0), [normal(3, 2)], id="softmin"),
    pytest.param(lambda a: a.std(axis=1, ddof=1), [normal(2, 3)], id="std"),
    pytest.param(lambda a: a.prod(axis=1), [normal(2, 3)], id="prod"),
    pytest.param(lambda a: (a * ag.tensor([1.0, 0.0, 1.0])).prod(axis=1), [normal(2, 3)],
                 id="prod_with_zero"),
    pytest.param(lambda a: a.cumsum(axis=1) ** 2, [normal(2, 3)], id="cumsum"),
    pytest.param(lambda a: a.cumprod(axis=1), [normal(2, 3)], id="cumprod"),
    pytest.param(lambda a: (a * ag.tensor([1.0, 0.0, 1.0])).cumprod(axis=1), [normal(2, 3)],
                 id="cumprod_with_zero"),
    pytest.param(lambda a: ag.sort(a, axis=1) ** 2 + ag.topk(a, 2)[0].sum() ** 2,
                 [OFF_GRID.reshape(2, 3)], id="sort_topk"),
    pytest.param(lambda a, s: ag.scatter_add(a, 1, np.array([[0, 2, 2]]), s * s) ** 2
                 + a.gather(1, np.array([[1, 1]])).sum() ** 2, [normal(2, 3), normal(1, 3)],
                 id="scatter_add_gather"),
    pytest.param(lambda a, s: ag.index_add(a * a, 0, [1, 1], s * a[:1]), [normal(2, 3),
                                                                          normal(2, 3)],
                 id="index_add"),
    pytest.param(lambda a: a.masked_fill(np.array([True, False, True]), 1.0) * a,
                 [normal(2, 3)], id="masked_fill"),
    pytest.param(lambda a: (a.flip(0) * a.roll(1, axis=1) * a.tile(1, 1)) ** 2, [normal(2, 3)],
                 id="flip_roll_tile"),
    pytest.param(lambda a: a.repeat(2, axis=0) ** 2 + ag.pad(a, 1, mode="reflect").sum() ** 2,
                 [normal(2, 3)], id="repeat_pad"),
    pytest.param(lambda a: a.split([1, 2], dim=1)[1].sum() ** 2 + a.clone() * a[:, :1],
                 [normal(2, 3)], id="split_clone"),
    pytest.param(lambda a, b: ag.einsum("ij,jk->ki", a, b * b) * ag.outer(a[0], a[1])[:2, :2],
                 [normal(2, 2), normal(2, 2)], id="einsum_outer"),
    pytest.param(lambda a, b: ag.einsum("ii,ij->j", a * a, b), [normal(2, 2), normal(2, 3)],
                 id="einsum_diagonal"),
    pytest.param(lambda a: a.diagonal() * a.trace() + a.tril().sum() * a.triu(1).sum(),
                 [normal(3, 3)], id="diagonal_trace_tril_triu"),
    pytest.param(lambda a: ag.linalg.norm(a, axis=1) + ag.linalg.norm(a, 3, axis=0).sum(),
                 [positive(3, 2)], id="norm"),
    # piecewise-linear ops: second derivative 0 off the kinks, but their backward must still
    # run in tensor mode (create_graph) so that they can sit inside a twice-differentiated model
    pytest.param(lambda a: a.relu() * a, [OFF_GRID], id="relu"),
    pytest.param(lambda a: a.leaky_relu(0.1) * a, [OFF_GRID], id="leaky_relu"),
    pytest.param(lambda a: abs(a) * a, [OFF_GRID], id="abs"),
    pytest.param(lambda a: a.clip(-1.0, 1.0) * a, [OFF_GRID], id="clip"),
    pytest.param(lambda a, b: ag.maximum(a, b) * ag.minimum(a, b), [OFF_GRID, OFF_GRID - 0.125],
                 id="maximum_minimum"),
    pytest.param(lambda a: a.max(axis=0) * a.min(), [OFF_GRID.reshape(2, 3)], id="max_min"),
    pytest.param(lambda x, w: (x @ w).tanh().sum(), [normal(2, 3), normal(3, 2)],
                 id="composite"),
]


@pytest.mark.parametrize(("function", "inputs"), SECOND_ORDER)
def test_gradgradcheck(function, inputs) -> None:
    assert ag.gradgradcheck(function, inputs)


def test_nested_functional_grad() -> None:
    """d2/dx2 x**3 = 6x, by nesting ag.grad."""
    second = ag.grad(ag.grad(lambda x: x**3))
    assert second(2.0).item() == pytest.approx(12.0)
    third = ag.grad(ag.grad(ag.grad(lambda x: x**3)))
    assert third(np.float64(-1.5)).item() == pytest.approx(6.0)


def test_backward_create_graph_then_differentiate_grad() -> None:
    x = ag.tensor(np.float64(2.0), requires_grad=True)
    (x**3).backward(create_graph=True)
    slope = x.grad  # 3x**2, itself a node of a graph
    assert slope.item() == pytest.approx(12.0)
    assert slope.requires_grad and slope.grad_fn is not None
    x.zero_grad()
    slope.backward()
    assert x.grad.item() == pytest.approx(12.0)  # d(3x**2)/dx = 6x


def test_hessian_vector_product() -> None:
    """f = sum(x**2 * y): d/dx (df/dx . v) = 2 y v, checked against the closed form."""
    x = ag.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    y = ag.tensor(np.array([3.0, 1.0, -1.0]), requires_grad=True)
    v = np.array([1.0, 2.0, 3.0])
    (gx,) = ag.engine.grad((x**2 * y).sum(), [x], create_graph=True)
    hx, hy = ag.engine.grad((gx * v).sum(), [x, y])
    np.testing.assert_allclose(hx.numpy(), 2 * y.numpy() * v)
    np.testing.assert_allclose(hy.numpy(), 2 * x.numpy() * v)
