"""Elementwise ops and reductions over shapes that hypothesis picks (and shrinks on failure).

Shapes come from ``hypothesis.extra.numpy``; values from a numpy Generator seeded by hypothesis, so
they stay away from the kinks and domain edges that each op declares.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_core as ag

SETTINGS = settings(max_examples=25, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 2.0, shape)


def normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


# name: (autograd op, numpy reference, input domain)
UNARY = {
    "neg": (lambda a: -a, np.negative, normal),
    "abs": (abs, np.abs, away_from_zero),
    "exp": (ag.exp, np.exp, normal),
    "log": (ag.log, np.log, positive),
    "sqrt": (ag.sqrt, np.sqrt, positive),
    "tanh": (ag.tanh, np.tanh, normal),
    "sigmoid": (ag.sigmoid, lambda x: 1 / (1 + np.exp(-x)), normal),
    "relu": (ag.relu, lambda x: np.maximum(x, 0), away_from_zero),
    "leaky_relu": (ag.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), away_from_zero),
    "softplus": (ag.softplus, lambda x: np.log1p(np.exp(x)), normal),
    "pow3": (lambda a: a**3, lambda x: x**3, normal),
}

# name: (autograd op, numpy reference, domain of the second operand)
BINARY = {
    "add": (lambda a, b: a + b, np.add, normal),
    "sub": (lambda a, b: a - b, np.subtract, normal),
    "mul": (lambda a, b: a * b, np.multiply, normal),
    "div": (lambda a, b: a / b, np.divide, positive),
}

# name: (autograd op taking axis/keepdims, numpy reference)
REDUCTIONS = {
    "sum": (ag.sum, np.sum),
    "mean": (ag.mean, np.mean),
    "max": (ag.max, np.max),
    "min": (ag.min, np.min),
    "var": (ag.var, np.var),
    "logsumexp": (ag.logsumexp,
                  lambda x, axis, keepdims: np.log(np.exp(x).sum(axis, keepdims=keepdims))),
}


@SETTINGS
@given(name=st.sampled_from(sorted(UNARY)), shape=SHAPES, seed=SEEDS)
def test_unary_ops(name: str, shape: tuple[int, ...], seed: int) -> None:
    op, reference, domain = UNARY[name]
    x = domain(np.random.default_rng(seed), shape)
    out = op(ag.tensor(x))
    assert out.shape == shape
    np.testing.assert_allclose(out.numpy(), reference(x), rtol=1e-12, atol=1e-12)
    assert ag.gradcheck(op, [x])


@SETTINGS
@given(name=st.sampled_from(sorted(BINARY)),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=SEEDS)
def test_binary_ops_broadcast(name: str, shapes, seed: int) -> None:
    op, reference, domain = BINARY[name]
    rng = np.random.default_rng(seed)
    a, b = normal(rng, shapes.input_shapes[0]), domain(rng, shapes.input_shapes[1])
    out = op(ag.tensor(a), ag.tensor(b))
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.numpy(), reference(a, b), rtol=1e-12)
    assert ag.gradcheck(op, [a, b])


@st.composite
def axes_for(draw, ndim: int):
    """None, one axis, or a tuple of distinct axes, each possibly written negatively."""
    if ndim == 0 or draw(st.booleans()):
        return None
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    signed = [axis - ndim if draw(st.booleans()) else axis for axis in chosen]
    return signed[0] if len(signed) == 1 and draw(st.booleans()) else tuple(signed)


@SETTINGS
@given(name=st.sampled_from(sorted(REDUCTIONS)), shape=SHAPES, seed=SEEDS, data=st.data())
def test_reductions(name: str, shape: tuple[int, ...], seed: int, data) -> None:
    op, reference = REDUCTIONS[name]
    axis = data.draw(axes_for(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    size = int(np.prod(shape))
    # distinct values 0.3 apart: max and min have a single winner, away from ties
    x = (np.random.default_rng(seed).permutation(size) * 0.3 - 0.15 * size).reshape(shape)
    function = lambda a: op(a, axis=axis, keepdims=keepdims)  # noqa: E731
    out = function(ag.tensor(x))
    expected = reference(x, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert ag.gradcheck(function, [x])


@SETTINGS
@given(data=st.data(), target=SHAPES, seed=SEEDS)
def test_broadcast_to_and_where(data, target: tuple[int, ...], seed: int) -> None:
    # broadcastable_shapes broadcast *with* target; keep those that broadcast *to* it
    source = data.draw(
        hnp.broadcastable_shapes(target, min_dims=0, max_dims=len(target), max_side=3)
        .filter(lambda shape: np.broadcast_shapes(shape, target) == target), label="source")
    rng = np.random.default_rng(seed)
    x, y = normal(rng, source), normal(rng, target)
    condition = rng.random(target) < 0.5
    out = ag.broadcast_to(ag.tensor(x), target)
    np.testing.assert_array_equal(out.numpy(), np.broadcast_to(x, target))
    assert ag.gradcheck(lambda a: ag.broadcast_to(a, target), [x])
    assert ag.gradcheck(lambda a, b: ag.where(condition, a, b), [x, y])
