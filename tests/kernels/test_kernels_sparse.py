"""Kernels of the products that skip the zeros of their first operand (the RBM's visible rows):
``sparse_matmul`` (a @ b) and ``sparse_rank_update`` (c += a.T @ b), and their routing by
density."""

from __future__ import annotations

import kernel_table
import numpy as np
import pytest
from kernel_table import DTYPES, IMPLS, REF_TOL, Case, normal

import autograd_core.kernels as K
from autograd_core.kernels import sparse


def mostly_zeros(rng, shape, dtype, binary):
    """About 15% nonzeros, below both routing densities: 1.0 each, or values in (0, 1]."""
    on = rng.random(shape) < 0.15
    values = np.ones(shape) if binary else 1 - rng.random(shape)
    return np.where(on, values, 0.0).astype(dtype)


def matmul_case(binary):
    def make(rng, shape, dtype):
        n, m = shape
        return [mostly_zeros(rng, (n, 4 * m), dtype, binary), normal(rng, (4 * m, n + 5), dtype)]

    def reference(a, b):
        return (np.einsum("ik,kj->ij", a, b),)

    kind = "binary" if binary else "probabilities"
    return Case(f"sparse_matmul[{kind}]", "sparse_matmul_add", K.sparse_matmul, make, reference)


def rank_update_case(binary):
    def make(rng, shape, dtype):
        n, m = shape
        # positive terms: the loop sums them in another order than BLAS, and cancellation
        # would magnify that rounding difference beyond the twins' tolerance
        positive = [rng.random((4 * m, n + 5)).astype(dtype), rng.random((n, n + 5)).astype(dtype)]
        return [positive[0], mostly_zeros(rng, (n, 4 * m), dtype, binary), positive[1]]

    def reference(c, a, b):
        return (c + np.einsum("ki,kj->ij", a, b),)

    kind = "binary" if binary else "probabilities"
    return Case(f"sparse_rank_update[{kind}]", "sparse_matmul_add", K.sparse_rank_update, make,
                reference, inplace=(0,))


CASES = [matmul_case(True), matmul_case(False), rank_update_case(True), rank_update_case(False)]

# The table tests, run over CASES (see conftest.py).
test_matches_reference = kernel_table.test_matches_reference
test_twins_agree = kernel_table.test_twins_agree


@pytest.fixture
def loop_calls(monkeypatch):
    """The shapes of the arguments of every call of the loop kernel."""
    calls = []

    def spy(name):
        kernel = get(name)

        def run(*args):
            calls.append(tuple(arg.shape for arg in args))
            return kernel(*args)
        return run

    get = sparse.get
    monkeypatch.setattr(sparse, "get", spy)
    return calls


def stripes(density, dtype):
    """A (6, 50) array of ones and zeros with exactly ``density`` of ones."""
    return (np.arange(6 * 50).reshape(6, 50) % 20 < 20 * density).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_the_loop_runs_only_at_or_below_the_density_limits(loop_calls, dtype):
    rng = np.random.default_rng(0)
    b = normal(rng, (50, 9), dtype)
    for density, loop in ((sparse.SPARSE_MATMUL_MAX_DENSITY, True), (0.35, False)):
        loop_calls.clear()
        a = stripes(density, dtype)
        with K.use_jit(True):
            got = K.sparse_matmul(a, b)
        np.testing.assert_allclose(got, a.astype(float) @ b, **REF_TOL[dtype])
        assert len(loop_calls) == loop
    for density, loop in ((sparse.SPARSE_RANK_UPDATE_MAX_DENSITY, True), (0.45, False)):
        loop_calls.clear()
        a, c = stripes(density, dtype), normal(rng, (50, 9), dtype)
        want = c + a.T.astype(float) @ b[:6]
        with K.use_jit(True):
            K.sparse_rank_update(c, a, b[:6])
        np.testing.assert_allclose(c, want, **REF_TOL[dtype])
        assert len(loop_calls) == loop
    loop_calls.clear()
    with K.use_jit(False):  # the twins: numpy throughout
        K.sparse_matmul(stripes(0.1, dtype), b)
        K.sparse_rank_update(c, stripes(0.1, dtype), b[:6])
    assert not loop_calls


@pytest.mark.parametrize("impl", IMPLS)
def test_rows_without_nonzeros_and_every_count_of_picked_rows(impl):
    # counts 0..9 per row cross the passes of four rows and their zero padding
    a = np.zeros((10, 64))
    for i in range(10):
        a[i, np.arange(i) * 7] = np.arange(1, i + 1) / 10
    b = np.random.default_rng(1).standard_normal((64, 33))
    c = np.ones((64, 33))
    with K.use_jit(impl == "numba"):
        product = K.sparse_matmul(a, b)
        K.sparse_rank_update(c, a, b[:10])
    np.testing.assert_allclose(product, a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c, 1 + a.T @ b[:10], rtol=1e-12, atol=1e-12)


def test_bad_arguments_are_refused():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match="do not align"):
        K.sparse_matmul(z, z)
    with pytest.raises(ValueError, match="same rows"):
        K.sparse_rank_update(np.zeros((4, 4)), z, np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"c must have shape \(4, 5\)"):
        K.sparse_rank_update(np.zeros((4, 4)), z, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="must be C-contiguous"):
        K.sparse_rank_update(np.zeros((5, 4)).T, z, np.zeros((3, 5)))
    with pytest.raises(TypeError, match="expected float64"):
        K.sparse_matmul(z, np.zeros((4, 2), np.float32))
