"""The fused ops ag.linear and ag.softmax_cross_entropy against the same maths composed from
basic ops, first and second order, with the Numba kernels and with their numpy twins.

Each row of the tables runs float32 and float64. float64 rows also pass gradcheck and
gradgradcheck (central differences); float32 rows are compared with the float64 composition at
float32 tolerance, since central differences are meaningless in float32.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import engine, kernels

ACTIVATIONS = [None, "relu", "sigmoid", "tanh"]
DTYPES = [np.float32, np.float64]
TOL = {np.float32: {"rtol": 2e-5, "atol": 2e-6}, np.float64: {"rtol": 1e-11, "atol": 1e-13}}


@pytest.fixture(params=[True, False], ids=["numba", "numpy_twin"])
def jit(request):
    with kernels.use_jit(request.param):
        yield request.param


def composed_linear(x, w, b=None, activation=None):
    """The reference: x @ W.T + b and the activation, as separate basic ops."""
    out = x @ w.T
    if b is not None:
        out = out + b
    return out if activation is None else getattr(ag, activation)(out)


def linear_inputs(dtype, bias, shape=(5, 4), n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    # Pre-activations stay away from relu's kink at 0, where central differences would straddle it.
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
    w = rng.standard_normal((n_out, shape[-1]))
    arrays = [x, w] + ([0.1 * rng.standard_normal(n_out)] if bias else [])
    z = x.reshape(-1, shape[-1]) @ w.T + (arrays[2] if bias else 0)
    assert np.abs(z).min() > 1e-4  # far beyond float32 rounding and gradcheck's eps
    return [a.astype(dtype) for a in arrays]


def first_and_second_order(fn, arrays, seed=1):
    """out, d(sum(v * out))/d(inputs), and d(sum(u * first grads))/d(inputs), as float64 arrays."""
    rng = np.random.default_rng(seed)
    leaves = [ag.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    v = rng.standard_normal(out.shape).astype(out.dtype)
    grads = engine.grad(out, leaves, gradient=v, create_graph=True)
    for g, leaf in zip(grads, leaves):
        assert g.dtype == leaf.dtype and g.shape == leaf.shape
    total = sum((g * rng.standard_normal(g.shape).astype(g.dtype)).sum() for g in grads)
    second = engine.grad(total, leaves)
    return [t.data.astype(np.float64) for t in (out, *grads, *second)]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
def test_linear_matches_composition(activation, bias, dtype, jit):
    arrays = linear_inputs(dtype, bias)
    out = ag.linear(*[ag.tensor(a) for a in arrays], activation=activation)
    assert out.dtype == dtype and out.shape == (5, 3)

    got = first_and_second_order(
        lambda *t: ag.linear(*t, activation=activation), arrays)
    want = first_and_second_order(
        lambda *t: composed_linear(*t, activation=activation), [a.astype(np.float64)
                                                                 for a in arrays])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **TOL[dtype])
    if dtype == np.float64:
        ag.gradcheck(lambda *t: ag.linear(*t, activation=activation), arrays)
        ag.gradgradcheck(lambda *t: ag.linear(*t, activation=activation), arrays)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_softmax_cross_entropy_matches_composition(reduction, dtype, jit):
    rng = np.random.default_rng(2)
    logits = (3 * rng.standard_normal((6, 4))).astype(dtype)
    labels = np.array([0, 3, 1, 1, 2, 3])

    def composed(x):
        per_row = -ag.log_softmax(x, axis=1)[np.arange(6), labels]
        return {"mean": per_row.mean(), "sum": per_row.sum(), "none": per_row}[reduction]

    def fused(x):
        return ag.softmax_cross_entropy(x, labels, reduction=reduction)

    out = fused(ag.tensor(logits))
    assert out.dtype == dtype and out.shape == ((6,) if reduction == "none" else ())
    for g, w in zip(first_and_second_order(fused, [logits]),
                    first_and_second_order(composed, [logits.astype(np.float64)])):
        np.testing.assert_allclose(g, w, **TOL[dtype])
    if dtype == np.float64:
        ag.gradcheck(fused, [logits])
        ag.gradgradcheck(fused, [logits])


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
def test_linear_wide_layers_take_the_transposed_product(activation, bias, jit):
    # From kernels.TRANSPOSED_NT_MIN_ROWS output features on, x @ W.T is computed as
    # (W @ x.T).T, an F-contiguous product that the epilogue must turn into a C-contiguous output.
    n_out = kernels.TRANSPOSED_NT_MIN_ROWS + 3
    arrays = linear_inputs(np.float32, bias, shape=(6, 5), n_out=n_out)
    out = ag.linear(*[ag.tensor(a) for a in arrays], activation=activation)
    assert out.data.flags.c_contiguous and out.shape == (6, n_out)
    got = first_and_second_order(lambda *t: ag.linear(*t, activation=activation), arrays)
    want = first_and_second_order(lambda *t: composed_linear(*t, activation=activation),
                                  [a.astype(np.float64) for a in arrays])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **TOL[np.float32])


# -- ag.linear: graph, shapes, dtypes, errors --------------------------------------------------


def test_linear_is_one_node_with_its_inputs():
    x, w, b = ag.randn(2, 3), ag.randn(4, 3, requires_grad=True), ag.zeros(4, requires_grad=True)
    out = ag.linear(x, w, b, activation="tanh")
    assert out.grad_fn.name == "linear"
    assert out.grad_fn.inputs == (x, w, b)


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4)], ids=["1d", "3d"])
def test_linear_accepts_1d_and_nd_inputs(shape, jit):
    x, w, b = linear_inputs(np.float64, True, shape=shape)
    out = ag.linear(ag.tensor(x), ag.tensor(w), ag.tensor(b), activation="sigmoid")
    assert out.shape == shape[:-1] + (3,)
    np.testing.assert_allclose(out.data, 1 / (1 + np.exp(-(x @ w.T + b))), rtol=1e-12)
    ag.gradcheck(lambda *t: ag.linear(*t, activation="sigmoid"), [x, w, b])
    ag.gradgradcheck(lambda *t: ag.linear(*t, activation="sigmoid"), [x, w, b])


def test_linear_batch_of_one_uses_the_outer_product_kernel(jit):
    # grad_W = grad_z.T @ x is a k = 1 outer product of 64 x 48 outputs: kernels.matmul's loop.
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in [(1, 48), (64, 48), (64,)])
    xt, wt, bt = ag.tensor(x), ag.tensor(w, requires_grad=True), ag.tensor(b, requires_grad=True)
    v = rng.standard_normal((1, 64)).astype(np.float32)
    ag.linear(xt, wt, bt, activation="relu").backward(v)
    grad_z = v * (x @ w.T + b > 0)
    np.testing.assert_allclose(wt.grad.data, grad_z.T @ x, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(bt.grad.data, grad_z[0], rtol=1e-6)
    assert xt.grad is None


def test_linear_skips_gradients_nobody_needs():
    x = ag.randn(3, 2, requires_grad=True)
    w, b = ag.randn(4, 2), ag.randn(4)  # frozen
    out = ag.linear(x, w, b, activation="relu")
    out.sum().backward()
    assert x.grad.shape == (3, 2) and w.grad is None and b.grad is None


def test_linear_dtypes_follow_numpy_promotion():
    w = ag.randn(2, 3, requires_grad=True)  # float32
    b = ag.zeros(2, requires_grad=True)
    out = ag.linear(np.ones((4, 3)), w, b, activation="relu")  # float64 data
    assert out.dtype == np.float64
    out.sum().backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32
    assert ag.linear(np.ones((4, 3), dtype=np.int64), w).dtype == np.float32


def test_linear_sigmoid_saturates_without_warnings():
    # pyproject turns numpy RuntimeWarnings from autograd_core into errors: e**1e4 must not warn
    w = ag.tensor(np.array([[1.0]]), requires_grad=True)
    out = ag.linear(np.array([[-1e4], [0.0], [1e4]]), w, activation="sigmoid")
    np.testing.assert_array_equal(out.data[:, 0], [0.0, 0.5, 1.0])
    out.sum().backward()
    assert np.isfinite(w.grad.data).all()


def test_linear_bad_input_errors_name_the_op_and_shapes():
    w = ag.randn(2, 3)
    with pytest.raises(ag.ShapeError, match=r"linear: input of shape \(4, 5\) float32 does not "
                                            r"fit weight of shape \(2, 3\)"):
        ag.linear(ag.randn(4, 5), w)
    with pytest.raises(ag.ShapeError, match=r"linear: bias must be .* shape \(2,\), got shape "
                                            r"\(3,\)"):
        ag.linear(ag.randn(4, 3), w, ag.zeros(3))
    with pytest.raises(ag.ShapeError, match=r"linear: weight must be a 2-D"):
        ag.linear(ag.randn(4, 3), ag.randn(3))
    with pytest.raises(ValueError, match=r"linear: unknown activation 'gelu'"):
        ag.linear(ag.randn(4, 3), w, activation="gelu")


# -- ag.softmax_cross_entropy ------------------------------------------------------------------


def test_softmax_cross_entropy_is_stable_for_huge_logits(jit):
    logits = ag.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]], requires_grad=True)
    loss = ag.softmax_cross_entropy(logits, [0, 0])
    assert loss.grad_fn.name == "softmax_cross_entropy"
    assert loss.item() == pytest.approx(1e4 / 2)
    loss.backward()
    np.testing.assert_allclose(logits.grad.data, [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-7)


def test_softmax_cross_entropy_on_a_non_contiguous_input(jit):
    base = np.random.default_rng(4).standard_normal((4, 3))
    labels = np.array([2, 0, 1])
    ag.gradcheck(lambda t: ag.softmax_cross_entropy(t.T, labels), [base])
    ag.gradgradcheck(lambda t: ag.softmax_cross_entropy(t.T, labels), [base])


def test_softmax_cross_entropy_takes_label_tensors_and_lists():
    logits = ag.randn(3, 4)
    expected = ag.softmax_cross_entropy(logits, np.array([1, 0, 3])).item()
    assert ag.softmax_cross_entropy(logits, [1, 0, 3]).item() == expected
    assert ag.softmax_cross_entropy(logits, ag.tensor([1, 0, 3])).item() == expected


def test_softmax_cross_entropy_bad_input_errors():
    logits = ag.ones((2, 3))
    with pytest.raises(ValueError, match=r"label 3 is out of range for 3 classes"):
        ag.softmax_cross_entropy(logits, [0, 3])
    with pytest.raises(ag.DTypeError, match=r"labels must be integers, got float64"):
        ag.softmax_cross_entropy(logits, np.array([0.0, 1.0]))
    with pytest.raises(ag.ShapeError, match=r"need 2 labels \(shape \(2,\)\), got shape \(3,\)"):
        ag.softmax_cross_entropy(logits, [0, 1, 2])
    with pytest.raises(ag.ShapeError, match=r"logits must be a 2-D float \(N, C\) tensor, got "
                                            r"shape \(3,\)"):
        ag.softmax_cross_entropy(ag.ones(3), [0])
    with pytest.raises(ValueError, match=r"reduction must be one of"):
        ag.softmax_cross_entropy(logits, [0, 1], reduction="avg")


# -- nn on the fused path ----------------------------------------------------------------------


def test_nn_linear_fuses_its_activation(tmp_path):
    import nn

    fc = nn.Linear(3, 2, activation="tanh")
    x = np.random.default_rng(5).standard_normal((4, 3)).astype(np.float32)
    out = fc(x)
    assert out.grad_fn.name == "linear" and out.grad_fn.scope == "Linear"
    expected = np.tanh(x @ fc.weight.data.T + fc.bias.data)
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    assert repr(fc) == "Linear(in_features=3, out_features=2, bias=True, activation='tanh')"
    assert fc.get_config()["activation"] == "tanh"
    assert "activation" not in nn.Linear(3, 2).get_config()  # plain layers save as before
    nn.save(fc, tmp_path / "fc.npz")
    again = nn.load(tmp_path / "fc.npz")
    assert again.activation == "tanh"
    np.testing.assert_array_equal(again(x).data, out.data)
    with pytest.raises(ValueError, match=r"Linear: activation must be one of"):
        nn.Linear(3, 2, activation="softmax")


def test_nn_cross_entropy_uses_the_fused_op_for_labels():
    import nn

    logits = ag.randn(4, 3, requires_grad=True)
    assert nn.CrossEntropyLoss()(logits, [0, 2, 1, 1]).grad_fn.name == "softmax_cross_entropy"
    assert nn.CrossEntropyLoss()(logits, np.eye(3)[[0, 2, 1, 1]]).grad_fn.name != \
        "softmax_cross_entropy"  # probabilities take the log_softmax path
