"""Every kernel, numba loops and numpy twin, against each other and a plain float64 reference.

The table CASES lists one entry per kernel variant: how to build its arguments and a reference
written out in float64 numpy, independently of the kernels' own code. Each case runs on
float32/float64, several shapes and three memory layouts (C, transposed, strided).
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import autograd_core.kernels as K
from autograd_core.kernels import linalg, registry

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


# --- bias + activation ------------------------------------------------------------------------


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


def make_xent_forward(rng, shape, dtype):
    return [normal(rng, shape, dtype, 5), rng.integers(0, shape[1], shape[0])]


def ref_xent_forward(logits, labels):
    e = np.exp(logits)
    probs = e / e.sum(axis=1, keepdims=True)
    loss = np.array([-np.log(probs[i, y]) for i, y in enumerate(labels)])
    return loss, probs


def make_xent_backward(rng, shape, dtype):
    logits = 2 * rng.standard_normal(shape)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, shape[1], shape[0])
    return [probs.astype(dtype), labels, normal(rng, shape[:1], dtype)]


def ref_xent_backward(probs, labels, grad_rows):
    onehot = np.eye(probs.shape[1])[labels]
    return ((probs - onehot) * grad_rows[:, None],)


# --- optimizers: one step (several steps are tested below) ------------------------------------


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


def adam_case(id, weight_decay, step):
    def make(rng, shape, dtype):
        param, grad, exp_avg = (normal(rng, shape, dtype) for _ in range(3))
        exp_avg_sq = rng.random(shape).astype(dtype)
        return [param, grad, exp_avg, exp_avg_sq, 1e-2, 0.9, 0.999, 1e-8, weight_decay, step]

    def reference(p, g, m, v, lr, beta1, beta2, eps, wd, step):
        g = g + wd * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
        return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v

    return Case(
        f"adam_update[{id}]", "adam_update", K.adam_update, make, reference, inplace=(0, 2, 3)
    )


# --- matrix products --------------------------------------------------------------------------


def make_matmul(rng, shape, dtype):
    n, m = shape
    return [normal(rng, (n, m), dtype), normal(rng, (m, n), dtype)]


def make_outer(rng, shape, dtype):
    n, m = shape
    return [normal(rng, (n, 1), dtype), normal(rng, (1, m), dtype)]


def ref_matmul(a, b):
    return (np.einsum("ik,kj->ij", a, b),)


CASES = [
    *(bias_act_forward_case(act) for act in K.ACTIVATIONS),
    *(bias_act_backward_case(act) for act in K.ACTIVATIONS),
    Case("gibbs_sample", "gibbs_sample", K.gibbs_sample, make_gibbs, ref_gibbs),
    Case(
        "softmax_xent_forward",
        "softmax_xent_forward",
        K.softmax_xent_forward,
        make_xent_forward,
        ref_xent_forward,
    ),
    Case(
        "softmax_xent_backward",
        "softmax_xent_backward",
        K.softmax_xent_backward,
        make_xent_backward,
        ref_xent_backward,
    ),
    sgd_case("plain", 0.0, 0.0, 0.0, False, False),
    sgd_case("momentum-first", 0.9, 0.0, 0.0, False, True),
    sgd_case("momentum-dampening-wd", 0.9, 0.3, 0.01, False, False),
    sgd_case("nesterov-wd", 0.9, 0.0, 0.01, True, False),
    adam_case("step1", 0.0, 1),
    adam_case("step7-wd", 0.01, 7),
    Case("small_matmul", "small_matmul", K.small_matmul, make_matmul, ref_matmul),
    Case("small_matmul[outer]", "small_matmul", K.small_matmul, make_outer, ref_matmul),
    Case("matmul", "small_matmul", K.matmul, make_matmul, ref_matmul),
    Case("matmul[outer]", "small_matmul", K.matmul, make_outer, ref_matmul),
]


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


PARAMS = [pytest.param(case, id=case.id) for case in CASES]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", PARAMS)
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
@pytest.mark.parametrize("case", PARAMS)
def test_twins_agree(case, dtype, shape, layout):
    args = build(case, shape, dtype, layout)
    for jitted, twin in zip(run(case, args, "numba"), run(case, args, "numpy"), strict=True):
        assert jitted.dtype == twin.dtype
        np.testing.assert_allclose(jitted, twin, **TWIN_TOL[dtype])


# The sliding-window kernels take 4-D images: test_window_kernels.py checks them.
WINDOW_KERNELS = {"im2col", "col2im", "max_pool_forward", "max_pool_backward"}


def test_table_covers_every_kernel():
    assert {case.kernel for case in CASES} | WINDOW_KERNELS == set(K.names())


def test_inputs_in_other_layouts_are_really_non_contiguous():
    x = np.ones((7, 13))
    assert not relayout(x, "transposed").flags.c_contiguous
    assert not relayout(x, "strided").flags.c_contiguous


# --- numerics at the extremes -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("impl", IMPLS)
def test_sigmoid_is_stable_for_huge_inputs(impl, dtype):
    x = np.array([[-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4]], dtype=dtype)
    with warnings.catch_warnings(), K.use_jit(impl == "numba"):
        warnings.simplefilter("error")
        out = K.bias_act_forward(x, np.zeros(x.shape[1], dtype), "sigmoid")
        probs, samples = K.gibbs_sample(x, np.full(x.shape, 0.5, dtype))
    for p in (out, probs):
        assert np.all(np.isfinite(p))
        assert p[0, 0] == 0 and p[0, -1] == 1 and p[0, 3] == 0.5
    np.testing.assert_array_equal(samples, [[0, 0, 0, 0, 1, 1, 1]])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("impl", IMPLS)
def test_softmax_xent_is_stable_for_huge_logits(impl, dtype):
    logits = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]], dtype=dtype)
    with warnings.catch_warnings(), K.use_jit(impl == "numba"):
        warnings.simplefilter("error")
        loss, probs = K.softmax_xent_forward(logits, np.array([0, 1]))
    np.testing.assert_allclose(loss, [0.0, 2e4])
    np.testing.assert_array_equal(probs, [[1, 0, 0], [1, 0, 0]])


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


def test_errors_name_the_kernel_and_the_problem():
    z32, z64 = np.zeros((2, 3), np.float32), np.zeros((2, 3))
    with pytest.raises(TypeError, match="bias_act_forward: bias has dtype float64"):
        K.bias_act_forward(z32, np.zeros(3), "relu")
    with pytest.raises(ValueError, match=r"bias_act_forward: bias must have shape \(3,\)"):
        K.bias_act_forward(z64, np.zeros(2), "relu")
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        K.bias_act_forward(z64, np.zeros(3), "gelu")
    with pytest.raises(TypeError, match="float32 or float64, got int64"):
        K.gibbs_sample(np.zeros(3, np.int64), np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="label 3 is out of range for 3 classes"):
        K.softmax_xent_forward(z64, np.array([0, 3]))
    with pytest.raises(ValueError, match="label -1 is out of range"):
        K.softmax_xent_backward(z64, np.array([-1, 0]), np.ones(2))
    with pytest.raises(TypeError, match="labels must be integers"):
        K.softmax_xent_forward(z64, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="do not align"):
        K.small_matmul(z64, z64)


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


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("act", list(K.ACTIVATIONS))
def test_raw_bias_act_forward_reads_f_contiguous_input(impl, act):
    # Linear hands the raw kernel matmul_nt's F-contiguous product; the output must be C order.
    rng = np.random.default_rng(6)
    z, bias = normal(rng, (9, 5), np.float32).T.copy().T, normal(rng, (5,), np.float32)
    assert z.flags.f_contiguous and not z.flags.c_contiguous
    out = K.get("bias_act_forward", impl == "numba")(z, bias, K.ACTIVATIONS[act])
    assert out.flags.c_contiguous
    np.testing.assert_allclose(out, ACT_REF[act][0](z.astype(float) + bias), **REF_TOL[np.float32])


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


def test_use_jit_switches_and_restores():
    before = K.jit_enabled()
    with K.use_jit(False):
        assert not K.jit_enabled()
        assert K.get("gibbs_sample") is registry._KERNELS["gibbs_sample"].twin
        with K.use_jit(True):
            assert K.jit_enabled()
            assert K.get("gibbs_sample").py_func is registry._KERNELS["gibbs_sample"].source
        assert not K.jit_enabled()
    assert K.jit_enabled() == before
    K.use_jit(not before)  # the plain call form switches for good
    try:
        assert K.jit_enabled() is (not before)
    finally:
        K.use_jit(before)


def test_get_unknown_kernel_lists_the_known_ones():
    with pytest.raises(KeyError, match="registered kernels"):
        K.get("conv2d")


def test_jit_env_values():
    assert registry._jit_from_env({})
    assert registry._jit_from_env({"AUTOGRAD_CORE_JIT": "1"})
    for off in ("0", "false", "OFF", " no "):
        assert not registry._jit_from_env({"AUTOGRAD_CORE_JIT": off})


def test_numba_cache_goes_to_user_folder_when_package_is_read_only():
    env = {"XDG_CACHE_HOME": "/xdg"}
    assert registry._numba_cache_dir(env, package_writable=True) is None
    assert registry._numba_cache_dir(env, package_writable=False) == "/xdg/autograd_core/numba"
    user_set = {**env, "NUMBA_CACHE_DIR": "/mine"}
    assert registry._numba_cache_dir(user_set, package_writable=False) is None


def run_python(code: str, **env: str) -> str:
    environ = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **env}
    done = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_does_not_import_numba():
    run_python("import autograd_core.kernels, sys; assert 'numba' not in sys.modules")


def test_env_var_selects_twins_and_numba_is_never_imported():
    code = (
        "import sys, numpy as np, autograd_core.kernels as K\n"
        "assert not K.jit_enabled()\n"
        "K.bias_act_forward(np.ones((2, 3)), np.ones(3), 'tanh')\n"
        "assert 'numba' not in sys.modules\n"
    )
    run_python(code, AUTOGRAD_CORE_JIT="0")
