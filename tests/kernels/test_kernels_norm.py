"""Kernels of batch normalisation: per-channel statistics, the affine step and the backward."""

from __future__ import annotations

import kernel_table
import numpy as np
from kernel_table import Case, normal

import autograd_core.kernels as K


def make_bn_stats(rng, shape, dtype):
    return [normal(rng, shape, dtype, 3) + 2]


def ref_bn_stats(x):
    return x.mean(axis=0), x.var(axis=0)


def bn_vectors(rng, x, dtype):
    """mean, invstd (of x, as the op passes them), weight and bias."""
    x64 = x.astype(np.float64)
    invstd = 1 / np.sqrt(x64.var(axis=0) + 1e-5)
    return [x64.mean(axis=0).astype(dtype), invstd.astype(dtype),
            normal(rng, x.shape[1:], dtype), normal(rng, x.shape[1:], dtype)]


def make_bn_apply(rng, shape, dtype):
    x = normal(rng, shape, dtype, 3)
    return [x, *bn_vectors(rng, x, dtype)]


def ref_bn_apply(x, mean, invstd, weight, bias):
    return ((x - mean) * invstd * weight + bias,)


def bn_backward_case(batch_stats):
    def make(rng, shape, dtype):
        x = normal(rng, shape, dtype, 3)
        return [normal(rng, shape, dtype), x, *bn_vectors(rng, x, dtype)[:3], batch_stats]

    def reference(grad, x, mean, invstd, weight, batch_stats):
        xhat = (x - mean) * invstd
        grad_weight, grad_bias = (grad * xhat).sum(axis=0), grad.sum(axis=0)
        if batch_stats:
            grad = grad - grad_bias / len(x) - xhat * grad_weight / len(x)
        return weight * invstd * grad, grad_weight, grad_bias

    name = "batch_stats" if batch_stats else "fixed_stats"
    return Case(f"batch_norm_backward[{name}]", "batch_norm_backward", K.batch_norm_backward,
                make, reference)


CASES = [
    Case("batch_norm_stats", "batch_norm_stats", K.batch_norm_stats, make_bn_stats, ref_bn_stats),
    Case("batch_norm_apply", "batch_norm_apply", K.batch_norm_apply, make_bn_apply, ref_bn_apply),
    bn_backward_case(True),
    bn_backward_case(False),
]

# The table tests, run over CASES (see conftest.py).
test_matches_reference = kernel_table.test_matches_reference
test_twins_agree = kernel_table.test_twins_agree
