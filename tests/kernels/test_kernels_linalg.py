"""Kernels of the matrix products: the small-matmul loop, the routing of matmul and matmul_nt,
and the BLAS thread limit."""

from __future__ import annotations

import kernel_table
import numpy as np
import pytest
from kernel_table import (
    DTYPES,
    IMPLS,
    REF_TOL,
    Case,
    normal,
)

import autograd_core.kernels as K
from autograd_core.kernels import linalg


def make_matmul(rng, shape, dtype):
    n, m = shape
    return [normal(rng, (n, m), dtype), normal(rng, (m, n), dtype)]


def make_outer(rng, shape, dtype):
    n, m = shape
    return [normal(rng, (n, 1), dtype), normal(rng, (1, m), dtype)]


def ref_matmul(a, b):
    return (np.einsum("ik,kj->ij", a, b),)


CASES = [
    Case("small_matmul", "small_matmul", K.small_matmul, make_matmul, ref_matmul),
    Case("small_matmul[outer]", "small_matmul", K.small_matmul, make_outer, ref_matmul),
    Case("matmul", "small_matmul", K.matmul, make_matmul, ref_matmul),
    Case("matmul[outer]", "small_matmul", K.matmul, make_outer, ref_matmul),
]

# The table tests, run over CASES (see conftest.py).
test_matches_reference = kernel_table.test_matches_reference
test_twins_agree = kernel_table.test_twins_agree


def test_matmul_routes_only_large_outer_products_to_the_loop(monkeypatch):
    calls = []

    def spy(a, b):
        calls.append((a.shape, b.shape))
        return small_matmul(a, b)

    small_matmul = linalg.small_matmul
    monkeypatch.setattr(linalg, "small_matmul", spy)
    outer = np.ones((784, 1)), np.ones((1, 256))
    others = [
        (np.ones((8, 1)), np.ones((1, 8))),  # outer product below OUTER_PRODUCT_MIN_SIZE
        (np.ones((64, 64)), np.ones((64, 64))),  # k > 1
        (np.ones((2, 3, 1)), np.ones((1, 4))),  # batched
        (outer[0].astype(np.float32), outer[1]),  # mixed dtypes: numpy promotes
    ]
    with K.use_jit(True):
        for a, b in [outer, *others]:
            got = K.matmul(a, b)
            np.testing.assert_array_equal(got, a @ b)
            assert got.dtype == (a @ b).dtype
    assert calls == [((784, 1), (1, 256))]
    with K.use_jit(False):
        K.matmul(*outer)
    assert len(calls) == 1


@pytest.mark.parametrize("impl", IMPLS)
def test_small_matmul_with_empty_inner_dimension_is_zeros(impl):
    with K.use_jit(impl == "numba"):
        out = K.small_matmul(np.ones((3, 0)), np.ones((0, 4)))
    np.testing.assert_array_equal(out, np.zeros((3, 4)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m, k, n", [(5, 7, 3), (5, 7, 70), (16, 33, 256), (300, 1, 8),
                                     (4, 1, 300)])
def test_matmul_nt_is_a_times_b_transposed(m, k, n, dtype):
    rng = np.random.default_rng(m + k + n)
    a, b = normal(rng, (m, k), dtype), normal(rng, (n, k), dtype)
    for jit in (True, False):
        with K.use_jit(jit):
            got = K.matmul_nt(a, b)
        np.testing.assert_allclose(got, a.astype(float) @ b.T.astype(float), **REF_TOL[dtype])
        # the transposed form is an F-contiguous view; the others come back C-contiguous
        assert got.flags.f_contiguous if n >= K.TRANSPOSED_NT_MIN_ROWS and k > 1 \
            else got.flags.c_contiguous


class FakeBlas:
    """Stands for threadpoolctl's controller of numpy's BLAS, recording the limits set."""

    def __init__(self, threads):
        self.threads, self.calls = threads, []

    def get_num_threads(self):
        return self.threads

    def set_num_threads(self, n):
        self.calls.append(n)


@pytest.mark.parametrize("threads", [1, 2])
def test_matmul_runs_short_inner_products_on_one_blas_thread(monkeypatch, threads):
    blas = FakeBlas(threads)
    monkeypatch.setattr(linalg, "_numpy_blas", lambda: blas)
    a, b = np.ones((256, 16), np.float32), np.ones((16, 784), np.float32)  # k = 16: one thread
    np.testing.assert_array_equal(K.matmul(a, b), a @ b)
    assert blas.calls == ([1, 2] if threads == 2 else [])  # lowered, then restored; never raised
    blas.calls.clear()
    K.matmul(np.ones((16, 784)), np.ones((784, 256)))  # k = 784: BLAS's own choice
    K.matmul(np.ones((8, 16)), np.ones((16, 8)))  # tiny: OpenBLAS is single-threaded anyway
    assert blas.calls == []


def test_numpy_blas_is_found_and_its_limit_survives_matmul():
    from threadpoolctl import threadpool_limits

    blas = linalg._numpy_blas()
    assert blas is not None
    with threadpool_limits(2, user_api="blas"):
        before = blas.get_num_threads()
        K.matmul(np.ones((256, 16)), np.ones((16, 784)))
        assert blas.get_num_threads() == before


# --- selection and laziness -------------------------------------------------------------------
