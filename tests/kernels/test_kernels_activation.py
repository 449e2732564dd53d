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
    x, bias = normal(rng, shape, dtype, 4), normal(rng, shape[1:], dtype)
    words = K.random_words(rng, x.size, dtype)
    # Move draws away from ties with the probability, where a last-bit difference from the
    # float64 reference could flip the sample (the top bit of a word moves its uniform by 1/2).
    near = np.abs(uniforms_of(words) - sigmoid64(x.astype(np.float64) + bias).ravel()) < 1e-3
    words[near] ^= np.array(1, words.dtype) << (8 * words.itemsize - 1)
    return [x, bias, words]


def uniforms_of(words):
    """The documented conversion of raw words to uniforms, written out in float64."""
    if words.dtype == np.uint32:
        return (words >> 8).astype(np.float64) * 2.0**-24
    return (words >> 11).astype(np.float64) * 2.0**-53


def ref_gibbs(x, bias, words):
    p = sigmoid64(x + bias)
    return p, (uniforms_of(words).reshape(p.shape) < p).astype(float)


# --- softmax cross-entropy --------------------------------------------------------------------


def make_sigmoid(rng, shape, dtype):
    return [normal(rng, shape, dtype, 8)]


def ref_sigmoid(x):
    return (sigmoid64(x),)


CASES = [
    *(bias_act_forward_case(act) for act in K.ACTIVATION_CODES),
    *(bias_act_backward_case(act) for act in K.ACTIVATION_CODES),
    Case("gibbs_sample", "gibbs_sample", K.gibbs_sample, make_gibbs, ref_gibbs),
    Case("gibbs_sample[probabilities]", "gibbs_sample", lambda x, bias: K.gibbs_sample(x, bias)[0],
         lambda rng, shape, dtype: make_gibbs(rng, shape, dtype)[:2],
         lambda x, bias: (sigmoid64(x + bias),)),
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
        zero = np.zeros(x.shape[1], dtype)
        probs, samples = K.gibbs_sample(x, zero, K.random_words(np.random.default_rng(0),
                                                                   x.size, dtype))
        direct = K.sigmoid_forward(x)
    for p in (out, probs, direct):
        assert np.all(np.isfinite(p))
        assert p[0, 0] == 0 and p[0, -1] == 1 and p[0, 3] == 0.5
    np.testing.assert_array_equal(samples[0, [0, 1, 5, 6]], [0, 0, 1, 1])


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_gibbs_sample_is_within_3_ulp_and_keeps_the_edges(dtype, impl):
    rng = np.random.default_rng(3)
    x = normal(rng, (20, 300), dtype, 30)
    x[0, :6] = [np.nan, -np.inf, np.inf, -88.5, 88.5, -1e30]
    bias = normal(rng, (300,), dtype)
    with warnings.catch_warnings(), K.use_jit(impl == "numba"):
        warnings.simplefilter("error")
        probs, _ = K.gibbs_sample(x, bias, K.random_words(rng, x.size, dtype))
    assert np.isnan(probs[0, 0]) and probs[0, 1] == 0 and probs[0, 2] == 1
    # within 3 ulp of the sigmoid of the rounded sum (the loops' float32 exp: 2; numpy's: 3),
    # above the float32 cut at x = -88 (where the exact value is subnormal, < 2**-126, and the
    # loops give 0)
    exact = sigmoid64((x[1:] + bias).astype(np.float64))
    normal_range = exact > 2.0**-126
    ulps = np.abs(probs[1:] - exact) / np.spacing(exact.astype(dtype))
    assert np.max(ulps[normal_range]) <= (2 if impl == "numba" else 3)
    assert np.all(probs[1:][~normal_range] < 2.0**-126)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_random_words_give_numpys_uniforms(dtype):
    # The documented conversion of the words is numpy's own: the same uniforms as
    # Generator.random from the same state.
    words = K.random_words(np.random.default_rng(5), 1001, dtype)
    expected = np.random.default_rng(5).random(1001, dtype=dtype)
    np.testing.assert_array_equal(uniforms_of(words).astype(dtype), expected)


@pytest.mark.parametrize("impl", IMPLS)
def test_gibbs_samples_are_exactly_uniforms_below_probs(impl):
    rng = np.random.default_rng(1)
    x, bias = rng.standard_normal((20, 256)), rng.standard_normal(256)
    words = K.random_words(rng, x.size, np.float64)
    with K.use_jit(impl == "numba"):
        probs, samples = K.gibbs_sample(x, bias, words)
    np.testing.assert_array_equal(samples, (uniforms_of(words).reshape(x.shape) < probs))


def test_gibbs_sample_checks_its_random_words():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="6 uint32 words for float32 data, got 6 uint64"):
        K.gibbs_sample(x, np.zeros(3, np.float32), np.zeros(6, np.uint64))
    with pytest.raises(ValueError, match="got 5 uint32"):
        K.gibbs_sample(x, np.zeros(3, np.float32), np.zeros(5, np.uint32))


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
