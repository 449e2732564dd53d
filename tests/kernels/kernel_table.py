"""The shared table machinery of the kernel tests: each family's test module lists its kernels in
``CASES`` (how to build the arguments, and a reference written out in float64 numpy independently
of the kernels' own code) and imports the two table tests below; ``conftest.py`` runs them over
that module's cases, on float32/float64, several shapes and three memory layouts (C, transposed,
strided), for the numba loops and the numpy twins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import autograd_core.kernels as K

REPO_ROOT = Path(__file__).resolve().parents[2]
SHAPES = [(1, 1), (7, 13), (128, 10), (3, 1)]
DTYPES = [np.float32, np.float64]
LAYOUTS = ["C", "transposed", "strided"]
IMPLS = ["numba", "numpy"]

# vs the float64 reference: float32 kernels may round differently at every step.
REF_TOL = {np.float32: {"rtol": 1e-4, "atol": 1e-5}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}
# numba vs numpy twin: same formulas, so only last-bit differences (exp, sums in other orders).
TWIN_TOL = {np.float32: {"rtol": 2e-6, "atol": 1e-6}, np.float64: {"rtol": 1e-13, "atol": 1e-14}}


def sigmoid64(x):
    return 1 / (1 + np.exp(-x))


ACT_REF = {
    "identity": (lambda x: x, lambda y: np.ones_like(y)),
    "relu": (lambda x: np.where(x > 0, x, 0.0), lambda y: (y > 0).astype(float)),
    "sigmoid": (sigmoid64, lambda y: y * (1 - y)),
    "tanh": (np.tanh, lambda y: 1 - y**2),
}


@dataclass(frozen=True)
class Case:
    id: str
    kernel: str  # registry name, to check that the table covers every kernel
    fn: Callable
    make: Callable  # (rng, shape, dtype) -> list of arguments, arrays C-contiguous
    reference: Callable  # (*float64 arguments) -> tuple of expected outputs
    inplace: tuple[int, ...] = ()  # indices of arguments updated in place (the outputs)


def normal(rng, shape, dtype, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def relayout(x, layout):
    """The same values in another memory layout (read-only arguments only)."""
    if not isinstance(x, np.ndarray) or layout == "C":
        return x
    if layout == "transposed":
        return np.asfortranarray(x)  # x.T of a C array: a transpose, as ops pass them
    strided = np.zeros((*x.shape, 2), dtype=x.dtype)
    strided[..., 0] = x
    return strided[..., 0]  # every other element of a buffer


def build(case, shape, dtype, layout, seed=0):
    args = case.make(np.random.default_rng(seed), shape, dtype)
    return [a if i in case.inplace else relayout(a, layout) for i, a in enumerate(args)]


def run(case, args, impl):
    """Call the kernel on copies of args; return its outputs (the updated arrays if in place)."""
    args = [
        a.copy() if isinstance(a, np.ndarray) and i in case.inplace else a
        for i, a in enumerate(args)
    ]
    with K.use_jit(impl == "numba"):
        result = case.fn(*args)
    if case.inplace:
        assert result is None
        return tuple(args[i] for i in case.inplace)
    return result if isinstance(result, tuple) else (result,)


def to64(x):
    return x.astype(np.float64) if isinstance(x, np.ndarray) and x.dtype.kind == "f" else x


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("impl", IMPLS)
def test_matches_reference(impl, case, dtype, shape, layout):
    args = build(case, shape, dtype, layout)
    outputs = run(case, args, impl)
    expected = case.reference(*map(to64, args))
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected, strict=True):
        assert got.dtype == dtype
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, **REF_TOL[dtype])


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_twins_agree(case, dtype, shape, layout):
    args = build(case, shape, dtype, layout)
    for jitted, twin in zip(run(case, args, "numba"), run(case, args, "numpy"), strict=True):
        assert jitted.dtype == twin.dtype
        np.testing.assert_allclose(jitted, twin, **TWIN_TOL[dtype])
