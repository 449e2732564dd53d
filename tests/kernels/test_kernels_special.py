"""Kernels of special functions: erf, against math.erf in float64."""

from __future__ import annotations

import math

import kernel_table
import numpy as np
import pytest
from kernel_table import IMPLS, Case, normal

import autograd_core.kernels as K


def make_erf(rng, shape, dtype):
    return [normal(rng, shape, dtype, 2)]


def ref_erf(x):
    return (np.vectorize(math.erf)(x),)


CASES = [Case("erf", "erf", K.erf, make_erf, ref_erf)]

test_matches_reference = kernel_table.test_matches_reference
test_twins_agree = kernel_table.test_twins_agree


@pytest.mark.parametrize("impl", IMPLS)
def test_erf_is_math_erf_exactly_in_float64(impl):
    x = np.array([[-40.0, -3.0, -1e-300, 0.0, 1e-8, 0.5, 6.0, np.inf, -np.inf]])
    with K.use_jit(impl == "numba"):
        np.testing.assert_array_equal(K.erf(x), [[math.erf(v) for v in x[0]]])
        assert np.isnan(K.erf(np.array([np.nan]))[0])
        assert K.erf(np.zeros((2, 0, 3), np.float32)).shape == (2, 0, 3)
