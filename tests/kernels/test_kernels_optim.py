"""Kernels of the optimizers: SGD (momentum, dampening, weight decay, Nesterov) and Adam."""

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


def sgd_case(id, momentum, dampening, weight_decay, nesterov, first_step):
    def make(rng, shape, dtype):
        param, grad, velocity = (normal(rng, shape, dtype) for _ in range(3))
        return [param, grad, velocity, 0.1, momentum, dampening, weight_decay, nesterov, first_step]

    def reference(p, g, v, lr, momentum, dampening, wd, nesterov, first_step):
        g = g + wd * p
        if momentum:
            v = g if first_step else momentum * v + (1 - dampening) * g
            g = g + momentum * v if nesterov else v
        return p - lr * g, v

    return Case(f"sgd_update[{id}]", "sgd_update", K.sgd_update, make, reference, inplace=(0, 2))


def adam_case(id, weight_decay, step, amsgrad=False):
    def make(rng, shape, dtype):
        param, grad, exp_avg = (normal(rng, shape, dtype) for _ in range(3))
        exp_avg_sq = rng.random(shape).astype(dtype)
        args = [param, grad, exp_avg, exp_avg_sq, 1e-2, 0.9, 0.999, 1e-8, weight_decay, step]
        # half the maxima above the new v (they stay), half below (they are replaced)
        return args + [(2 * rng.random(shape) * exp_avg_sq).astype(dtype)] if amsgrad else args

    def reference(p, g, m, v, lr, beta1, beta2, eps, wd, step, v_max=None):
        g = g + wd * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        v_used = v if v_max is None else np.maximum(v_max, v)
        m_hat, v_hat = m / (1 - beta1**step), v_used / (1 - beta2**step)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        return (p, m, v) if v_max is None else (p, m, v, v_used)

    inplace = (0, 2, 3, 10) if amsgrad else (0, 2, 3)
    return Case(
        f"adam_update[{id}]", "adam_update", K.adam_update, make, reference, inplace=inplace
    )


# --- matrix products --------------------------------------------------------------------------


CASES = [
    sgd_case("plain", 0.0, 0.0, 0.0, False, False),
    sgd_case("momentum-first", 0.9, 0.0, 0.0, False, True),
    sgd_case("momentum-dampening-wd", 0.9, 0.3, 0.01, False, False),
    sgd_case("nesterov-wd", 0.9, 0.0, 0.01, True, False),
    adam_case("step1", 0.0, 1),
    adam_case("step7-wd", 0.01, 7),
    adam_case("step3-amsgrad", 0.01, 3, amsgrad=True),
]

# The table tests, run over CASES (see conftest.py).
test_matches_reference = kernel_table.test_matches_reference
test_twins_agree = kernel_table.test_twins_agree


OPT_SHAPE = (5, 3)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize(
    "momentum, dampening, weight_decay, nesterov",
    [
        (0.0, 0.0, 0.0, False),
        (0.9, 0.0, 0.0, False),
        (0.8, 0.5, 1e-2, False),
        (0.9, 0.0, 1e-2, True),
    ],
)
@pytest.mark.parametrize("impl", IMPLS)
def test_sgd_steps_follow_pytorch_rule(impl, momentum, dampening, weight_decay, nesterov, dtype):
    rng = np.random.default_rng(2)
    lr = 0.05
    param = rng.standard_normal(OPT_SHAPE).astype(dtype)
    velocity = np.zeros_like(param) if momentum else None
    p, buf = param.astype(np.float64), None  # the rule, in float64
    param_id = id(param)
    for step in range(1, 6):
        grad = rng.standard_normal(OPT_SHAPE).astype(dtype)
        with K.use_jit(impl == "numba"):
            out = K.sgd_update(
                param, grad, velocity, lr, momentum, dampening, weight_decay, nesterov, step == 1
            )
        assert out is None and id(param) == param_id
        # torch.optim.SGD, written out
        g = grad + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        np.testing.assert_allclose(param, p, **REF_TOL[dtype])
        if momentum:
            np.testing.assert_allclose(velocity, buf, **REF_TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("weight_decay", [0.0, 1e-2])
@pytest.mark.parametrize("impl", IMPLS)
def test_adam_steps_follow_pytorch_rule(impl, weight_decay, dtype):
    rng = np.random.default_rng(3)
    lr, beta1, beta2, eps = 1e-2, 0.9, 0.999, 1e-8
    param = rng.standard_normal(OPT_SHAPE).astype(dtype)
    exp_avg, exp_avg_sq = np.zeros_like(param), np.zeros_like(param)
    p, m, v = param.astype(np.float64), np.zeros(OPT_SHAPE), np.zeros(OPT_SHAPE)
    for step in range(1, 6):
        grad = rng.standard_normal(OPT_SHAPE).astype(dtype)
        with K.use_jit(impl == "numba"):
            out = K.adam_update(
                param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step
            )
        assert out is None
        # torch.optim.Adam, written out
        g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        bias_correction1, bias_correction2 = 1 - beta1**step, 1 - beta2**step
        denom = np.sqrt(v) / np.sqrt(bias_correction2) + eps
        p = p - lr / bias_correction1 * m / denom
        np.testing.assert_allclose(param, p, **REF_TOL[dtype])
        np.testing.assert_allclose(exp_avg, m, **REF_TOL[dtype])
        np.testing.assert_allclose(exp_avg_sq, v, **REF_TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("impl", IMPLS)
def test_adam_flushes_subnormal_moments_to_zero(impl, dtype):
    tiny = np.finfo(dtype).tiny
    # a zero gradient decays m by 0.9 and v by 0.999: the first entry of each falls below the
    # smallest normal number (flushed to 0), the second stays normal (kept)
    exp_avg = np.array([1.05 * tiny, 2 * tiny, -1.05 * tiny], dtype)
    exp_avg_sq = np.array([1.0005 * tiny, 2 * tiny, 2 * tiny], dtype)
    param = np.ones(3, dtype)
    with K.use_jit(impl == "numba"):
        K.adam_update(param, np.zeros(3, dtype), exp_avg, exp_avg_sq, 1e-3, 0.9, 0.999, 1e-8,
                      0.0, 2)
    np.testing.assert_array_equal(exp_avg == 0, [True, False, True])
    np.testing.assert_array_equal(exp_avg_sq == 0, [True, False, False])
    np.testing.assert_allclose(exp_avg[1], 1.8 * tiny, rtol=1e-6)
    assert exp_avg.dtype == exp_avg_sq.dtype == dtype


@pytest.mark.parametrize("impl", IMPLS)
def test_optimizers_refuse_non_contiguous_state(impl):
    param = np.zeros((4, 6))[:, ::2]  # an update into a contiguous copy would be lost
    grad = np.ones((4, 3))
    with K.use_jit(impl == "numba"):
        with pytest.raises(ValueError, match="param .* C-contiguous"):
            K.sgd_update(param, grad, None, 0.1, 0.0, 0.0, 0.0, False, True)
        state = np.zeros((4, 3))
        with pytest.raises(ValueError, match="exp_avg_sq .* C-contiguous"):
            K.adam_update(
                state, grad, np.zeros((4, 3)), np.zeros((3, 4)).T, 1e-3, 0.9, 0.999, 1e-8, 0.0, 1
            )


def test_sgd_argument_errors():
    param, grad = np.zeros(3), np.ones(3)
    with pytest.raises(ValueError, match="velocity"):
        K.sgd_update(param, grad, None, 0.1, 0.9, 0.0, 0.0, False, True)
    with pytest.raises(ValueError, match="Nesterov"):
        K.sgd_update(param, grad, np.zeros(3), 0.1, 0.9, 0.5, 0.0, True, True)
    with pytest.raises(ValueError, match="step counts from 1"):
        K.adam_update(param, grad, np.zeros(3), np.zeros(3), 1e-3, 0.9, 0.999, 1e-8, 0.0, 0)


# --- input checks -----------------------------------------------------------------------------
