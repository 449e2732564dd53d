"""Kernels of the activation family: fused bias + activation (forward, backward), the elementwise
sigmoid and the RBM's Gibbs sampling step."""

from __future__ import annotations

import warnings

import kernel_table
import numpy as np
import pytest
from kernel_table import (
    ACT_REF,
    DTYPES,
    IMPLS,
    REF_TOL,
    Case,
    normal,
    sigmoid64,
)

import autograd_core.kernels as K


def bias_act_forward_case(act):
    def make(rng, shape, dtype):
        return [normal(rng, shape, dtype, 3), normal(rng, shape[1:], dtype), act]

    def reference(z, bias, act):
        return (ACT_REF[act][0](z + bias),)

    return Case(f"bias_act_forward[{act}]", "bias_act_forward", K.bias_act_forward, make, reference)


def bias_act_backward_case(act):
    def make(rng, shape, dtype):
        out = ACT_REF[act][0](3 * rng.standard_normal(shape)).astype(dtype)
        return [normal(rng, shape, dtype), out, act]

    def reference(grad_out, out, act):
        grad_z = grad_out * ACT_REF[act][1](out)
        return grad_z, grad_z.sum(axis=0)

    return Case(
        f"bias_act_backward[{act}]", "bias_act_backward", K.bias_act_backward, make, reference
    )


def make_gibbs(rng, shape, dtype):
    x = normal(rng, shape, dtype, 4)
    u = rng.random(shape)
    # Move draws away from ties with the probability, where a last-bit difference could flip
    # the sample between implementations.
    near = np.abs(u - sigmoid64(x.astype(np.float64))) < 1e-3
    u[near] = (u[near] + 0.5) % 1
    return [x, u.astype(dtype)]


def ref_gibbs(x, u):
    p = sigmoid64(x)
    return p, (u < p).astype(float)


# --- softmax cross-entropy --------------------------------------------------------------------


def make_sigmoid(rng, shape, dtype):
    return [normal(rng, shape, dtype, 8)]


def ref_sigmoid(x):
    return (sigmoid64(x),)


CASES = [
    *(bias_act_forward_case(act) for act in K.ACTIVATION_CODES),
    *(bias_act_backward_case(act) for act in K.ACTIVATION_CODES),
    Case("gibbs_sample", "gibbs_sample", K.gibbs_sample, make_gibbs, ref_gibbs),
    Case("sigmoid", "sigmoid", K.sigmoid_forward, make_sigmoid, ref_sigmoid),
]

# The table tests, run over CASES (see conftest.py).
test_matches_reference = kernel_table.test_matches_reference
test_twins_agree = kernel_table.test_twins_agree


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("impl", IMPLS)
def test_sigmoid_is_stable_for_huge_inputs(impl, dtype):
    x = np.array([[-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4]], dtype=dtype)
    with warnings.catch_warnings(), K.use_jit(impl == "numba"):
        warnings.simplefilter("error")
        out = K.bias_act_forward(x, np.zeros(x.shape[1], dtype), "sigmoid")
        probs, samples = K.gibbs_sample(x, np.full(x.shape, 0.5, dtype))
        direct = K.sigmoid_forward(x)
    for p in (out, probs, direct):
        assert np.all(np.isfinite(p))
        assert p[0, 0] == 0 and p[0, -1] == 1 and p[0, 3] == 0.5
    np.testing.assert_array_equal(samples, [[0, 0, 0, 0, 1, 1, 1]])


@pytest.mark.parametrize("impl", IMPLS)
def test_gibbs_samples_are_exactly_uniforms_below_probs(impl):
    rng = np.random.default_rng(1)
    x, u = rng.standard_normal((20, 256)), rng.random((20, 256))
    with K.use_jit(impl == "numba"):
        probs, samples = K.gibbs_sample(x, u)
    np.testing.assert_array_equal(samples, (u < probs).astype(float))


@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("impl", IMPLS)
def test_gibbs_sample_keeps_any_shape(impl, shape):
    x = np.zeros(shape)
    with K.use_jit(impl == "numba"):
        probs, samples = K.gibbs_sample(x, np.full(shape, 0.25))
    assert probs.shape == samples.shape == shape
    np.testing.assert_array_equal(probs, np.full(shape, 0.5))
    np.testing.assert_array_equal(samples, np.ones(shape))


# --- optimizers over several steps, against the rules written out -----------------------------


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("act", list(K.ACTIVATION_CODES))
def test_raw_bias_act_forward_reads_f_contiguous_input(impl, act):
    # Linear hands the raw kernel matmul_nt's F-contiguous product; the output must be C order.
    rng = np.random.default_rng(6)
    z, bias = normal(rng, (9, 5), np.float32).T.copy().T, normal(rng, (5,), np.float32)
    assert z.flags.f_contiguous and not z.flags.c_contiguous
    out = K.get("bias_act_forward", impl == "numba")(z, bias, K.ACTIVATION_CODES[act])
    assert out.flags.c_contiguous
    np.testing.assert_allclose(out, ACT_REF[act][0](z.astype(float) + bias), **REF_TOL[np.float32])
