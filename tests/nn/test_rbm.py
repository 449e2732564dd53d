"""Tests of nn.RBM: the CD rule against autodiff, kernels vs twins, digits, sklearn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
import nn
from autograd_core import kernels


def random_rbm(n_visible, n_hidden, seed=0, **kwargs):
    """A float64 RBM with non-trivial weights and biases (not the near-zero initial ones)."""
    rbm = nn.RBM(n_visible, n_hidden, seed=seed, verbose=0, dtype="float64", **kwargs)
    rng = np.random.default_rng(seed + 100)
    rbm.W.data[...] = rng.normal(0, 0.5, rbm.W.shape)
    rbm.b_visible.data[...] = rng.normal(0, 0.5, n_visible)
    rbm.b_hidden.data[...] = rng.normal(0, 0.5, n_hidden)
    return rbm


def binary(rng, n, d):
    return (rng.random((n, d)) < 0.4).astype(np.float64)


def autodiff_gradient(rbm, v_data, v_model):
    """W, b_visible, b_hidden grads of mean F(v_data) - mean F(v_model), by backward()."""
    rbm.zero_grad()
    loss = rbm.free_energy(v_data).mean() - rbm.free_energy(v_model).mean()
    loss.backward()
    return [p.grad.numpy() for p in (rbm.W, rbm.b_visible, rbm.b_hidden)]


# -- the bridge: the CD rule is autodiff of a free-energy difference ----------------------------

@settings(max_examples=25, deadline=None)
@given(n_visible=st.integers(1, 9), n_hidden=st.integers(1, 7), n_data=st.integers(1, 6),
       n_model=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_cd_gradient_equals_backward_of_free_energy_difference(n_visible, n_hidden, n_data,
                                                               n_model, seed):
    rbm = random_rbm(n_visible, n_hidden, seed)
    rng = np.random.default_rng(seed)
    v_data = rng.random((n_data, n_visible))  # probabilities are valid data too
    v_model = binary(rng, n_model, n_visible)
    expected = autodiff_gradient(rbm, v_data, v_model)
    for got, want, name in zip(rbm.cd_gradient(v_data, v_model), expected,
                               ("W", "b_visible", "b_hidden")):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.5, 0.0), (0.0, 0.01)])
def test_training_update_is_minus_lr_times_autodiff_gradient(momentum, weight_decay, monkeypatch):
    # The real training path (partial_fit -> _cd_update), with its negative samples fixed.
    rng = np.random.default_rng(1)
    rbm = random_rbm(7, 5, lr=0.3, momentum=momentum, weight_decay=weight_decay, batch_size=4,
                     shuffle=False)
    v_data, v_model = binary(rng, 4, 7), binary(rng, 4, 7)
    real_negative_phase = rbm._negative_phase

    def fixed_negative_phase(h_sample):
        _, _, v_recon = real_negative_phase(h_sample)
        return v_model, rbm.transform(v_model), v_recon

    monkeypatch.setattr(rbm, "_negative_phase", fixed_negative_phase)
    before = [p.data.copy() for p in (rbm.W, rbm.b_visible, rbm.b_hidden)]
    grads = autodiff_gradient(rbm, v_data, v_model)
    grads[0] = grads[0] + weight_decay * before[0]
    rbm.partial_fit(v_data)
    for p, old, g in zip((rbm.W, rbm.b_visible, rbm.b_hidden), before, grads):
        # momentum starts from a zero velocity, so the first step is -lr * g either way
        np.testing.assert_allclose(p.data - old, -0.3 * g, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("density", [0.1, 0.7], ids=["sparse-rows", "dense-rows"])
def test_momentum_and_weight_decay_over_two_updates(density, monkeypatch):
    # Mostly-zero rows take the kernels' loops that skip zeros, dense ones BLAS: same rule.
    rng = np.random.default_rng(2)
    lr, momentum, decay = 0.2, 0.5, 0.01
    rbm = random_rbm(40, 6, lr=lr, momentum=momentum, weight_decay=decay, batch_size=5,
                     shuffle=False)
    batches = [(rng.random((5, 40)) < density).astype(float) for _ in range(4)]
    negatives = iter(batches[2:])
    real_negative_phase = rbm._negative_phase

    def fixed_negative_phase(h_sample):
        v_model = next(negatives)
        return v_model, rbm.transform(v_model), real_negative_phase(h_sample)[2]

    monkeypatch.setattr(rbm, "_negative_phase", fixed_negative_phase)
    params = [p.data.copy() for p in (rbm.W, rbm.b_visible, rbm.b_hidden)]
    velocity = [np.zeros_like(p) for p in params]
    for v_data, v_model in zip(batches[:2], batches[2:]):
        grads = autodiff_gradient(rbm, v_data, v_model)  # at the RBM's current parameters
        grads[0] = grads[0] + decay * params[0]
        velocity = [momentum * vel - lr * g for vel, g in zip(velocity, grads)]
        params = [p + vel for p, vel in zip(params, velocity)]
        rbm.partial_fit(v_data)
    for p, want in zip((rbm.W, rbm.b_visible, rbm.b_hidden), params):
        np.testing.assert_allclose(p.data, want, rtol=1e-9, atol=1e-12)


def test_free_energy_is_differentiable_in_the_data():
    rbm = random_rbm(5, 4)
    v = np.random.default_rng(0).random((3, 5))
    assert ag.gradcheck(lambda t: rbm.free_energy(t).sum(), [v])


def test_free_energy_matches_brute_force_marginal():
    # p(v) is proportional to exp(-F(v)) = sum_h exp(-E(v, h)); check on every h of a tiny RBM.
    rbm = random_rbm(3, 4)
    W, bv, bh = rbm.W.data, rbm.b_visible.data, rbm.b_hidden.data
    v = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    hs = np.array([[(i >> j) & 1 for j in range(4)] for i in range(16)], dtype=float)
    energies = -(v @ bv)[:, None] - (hs @ bh)[None, :] - v @ W @ hs.T
    expected = -np.log(np.exp(-energies).sum(axis=1))
    np.testing.assert_allclose(rbm.free_energy(v).numpy(), expected, rtol=1e-12)


# -- the Gibbs kernel inside the RBM: numba and numpy twin agree --------------------------------

def test_gibbs_step_same_samples_with_kernel_and_twin(digits):
    x = digits[0][:200]
    trained = {}
    for jit in (True, False):
        with kernels.use_jit(jit):  # float32, as in training
            trained[jit] = nn.RBM(64, 48, epochs=2, seed=3, verbose=0).fit(x[:100]).W.data.copy()
    # identical uniforms; the sigmoids may differ in the last bit, so the weights agree closely
    np.testing.assert_allclose(trained[True], trained[False], rtol=1e-5, atol=1e-6)

    samples = {}
    for jit in (True, False):
        rbm = nn.RBM(64, 48, seed=4, verbose=0)
        rbm.W.data[...] = trained[True]
        with kernels.use_jit(jit):
            samples[jit] = (rbm.gibbs(x, steps=2), rbm.sample(5, steps=3))
    for got, want in zip(samples[True], samples[False]):
        np.testing.assert_array_equal(got, want)


def test_gibbs_samples_are_binary_and_follow_the_conditionals():
    rbm = random_rbm(6, 5, seed=2)
    v = np.tile(binary(np.random.default_rng(0), 1, 6), (20000, 1))
    h_probs, h = rbm._sample_hidden(v)
    assert set(np.unique(h)) <= {0.0, 1.0}
    np.testing.assert_allclose(h.mean(axis=0), rbm.transform(v[:1])[0], atol=0.02)
    out = rbm.gibbs(v[:10], steps=3)
    assert out.shape == (10, 6) and set(np.unique(out)) <= {0.0, 1.0}


# -- scikit-learn-style API -------------------------------------------------------------------

def test_api_shapes_and_types(digits):
    x = digits[0][:50]
    rbm = nn.RBM(64, 16, epochs=2, seed=0, verbose=0)
    assert rbm.fit(x) is rbm and rbm.partial_fit(x) is rbm
    assert isinstance(rbm.W, nn.Parameter) and rbm.W.shape == (64, 16)
    assert rbm.b_visible.shape == (64,) and rbm.b_hidden.shape == (16,)
    assert [name for name, _ in rbm.named_parameters()] == ["W", "b_visible", "b_hidden"]
    assert rbm.transform(x).shape == (50, 16) and rbm.transform(x).dtype == np.float32
    assert rbm.transform(x).min() >= 0 and rbm.transform(x).max() <= 1
    fe = rbm.free_energy(x)
    assert isinstance(fe, ag.Tensor) and fe.shape == (50,) and fe.requires_grad
    np.testing.assert_allclose(rbm(x).numpy(), rbm.transform(x), rtol=1e-5, atol=1e-6)
    assert rbm.reconstruct(x).shape == (50, 64)
    assert rbm.sample(4, steps=5).shape == (4, 64)
    assert rbm.sample(4, steps=5, probabilities=True).max() <= 1
    assert rbm.score_samples(x).shape == (50,) and rbm.score(x) < 0
    assert len(rbm.history_["reconstruction_error"]) == 3  # two epochs of fit + one partial_fit


def test_fit_is_reproducible_with_a_seed(digits):
    x = digits[0][:100]
    a = nn.RBM(64, 16, epochs=2, seed=5, verbose=0).fit(x)
    b = nn.RBM(64, 16, epochs=2, seed=5, verbose=0).fit(x)
    c = nn.RBM(64, 16, epochs=2, seed=6, verbose=0).fit(x)
    np.testing.assert_array_equal(a.W.data, b.W.data)
    assert not np.allclose(a.W.data, c.W.data)
    w = a.W.data.copy()
    a.fit(x)  # fit starts over, as in scikit-learn
    np.testing.assert_array_equal(a.W.data, w)
    ag.manual_seed(3)
    d = nn.RBM(64, 16, epochs=1, verbose=0).fit(x)
    ag.manual_seed(3)
    e = nn.RBM(64, 16, epochs=1, verbose=0).fit(x)
    np.testing.assert_array_equal(d.W.data, e.W.data)


@pytest.mark.parametrize("persistent, k", [(False, 1), (False, 3), (True, 1), (True, 2)])
def test_reconstruction_error_falls_on_digits(digits, persistent, k):
    x = digits[0][:500]
    rbm = nn.RBM(64, 32, k=k, persistent=persistent, lr=0.1, momentum=0.5, epochs=6, seed=0,
                 verbose=0)
    before = rbm.reconstruction_error(x)
    rbm.fit(x)
    history = rbm.history_["reconstruction_error"]
    assert history[-1] < 0.8 * history[0]
    assert rbm.reconstruction_error(x) < 0.6 * before
    assert rbm.score(x) > nn.RBM(64, 32, seed=0, verbose=0).score(x) + 0.1


def test_score_samples_is_the_mean_log_conditional_over_flipped_bits():
    rbm = random_rbm(6, 4, seed=4)
    v = binary(np.random.default_rng(1), 5, 6)
    expected = np.zeros(5)
    for i in range(6):
        flipped = v.copy()
        flipped[:, i] = 1 - flipped[:, i]
        delta = rbm.free_energy(flipped).numpy() - rbm.free_energy(v).numpy()
        expected += np.log(1 / (1 + np.exp(-delta))) / 6
    np.testing.assert_allclose(rbm.score_samples(v), expected, rtol=1e-10)
    # sampling every feature (in some order) gives the same mean; a few features, an estimate
    np.testing.assert_allclose(rbm.score_samples(v, n_features=6, seed=0), expected, rtol=1e-10)
    one = rbm.score_samples(np.repeat(v, 400, axis=0), n_features=1, seed=0)
    np.testing.assert_allclose(one.reshape(5, 400).mean(axis=1), expected, atol=0.05)


def test_save_and_load_round_trip(tmp_path, digits):
    x = digits[0][:40]
    rbm = nn.RBM(64, 8, k=2, persistent=True, lr=0.02, epochs=1, seed=1, verbose=0).fit(x)
    nn.save(rbm, tmp_path / "rbm.nnz")
    loaded = nn.load(tmp_path / "rbm.nnz")
    assert isinstance(loaded, nn.RBM) and loaded.get_config() == rbm.get_config()
    np.testing.assert_array_equal(loaded.transform(x), rbm.transform(x))
    dbn = nn.DBN([64, 8, 4], epochs=1, seed=0, verbose=0).fit(x)
    nn.save(dbn, tmp_path / "dbn.nnz")
    np.testing.assert_array_equal(nn.load(tmp_path / "dbn.nnz").transform(x), dbn.transform(x))


# -- against scikit-learn ---------------------------------------------------------------------

def test_pcd1_matches_sklearn_bernoulli_rbm(digits):
    from sklearn.neural_network import BernoulliRBM

    x = digits[0][:600]
    ours_pl, sk_pl, ours_err, sk_err = [], [], [], []
    for seed in range(2):
        sk = BernoulliRBM(n_components=32, learning_rate=0.05, batch_size=10, n_iter=5,
                          random_state=seed).fit(x)
        ours = nn.RBM(64, 32, persistent=True, k=1, lr=0.05, batch_size=10, epochs=5, seed=seed,
                      verbose=0).fit(x)
        # score sklearn's weights with our exact, noise-free pseudo-likelihood
        theirs = nn.RBM(64, 32, verbose=0)
        theirs.load_state_dict({"W": sk.components_.T, "b_visible": sk.intercept_visible_,
                                "b_hidden": sk.intercept_hidden_})
        ours_pl.append(ours.score(x))
        sk_pl.append(theirs.score(x))
        ours_err.append(ours.reconstruction_error(x))
        sk_err.append(theirs.reconstruction_error(x))
    assert abs(np.mean(ours_pl) - np.mean(sk_pl)) < 0.03  # nats per feature; both about -0.39
    assert abs(np.mean(ours_err) - np.mean(sk_err)) < 0.15 * np.mean(sk_err)
    # sklearn's own score is our per-feature score times n_features (one random bit per row)
    np.testing.assert_allclose(sk.score_samples(x).mean() / 64, theirs.score(x), atol=0.03)


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    (np.full((3, 5), 2.0), r"binary or probabilities in \[0, 1\].*\[2, 2\].*\(3, 5\)"),
    (-np.ones((3, 5)), r"in \[0, 1\]"),
    (np.where(np.eye(5)[:3] > 0, np.nan, 0.5), r"NaN.*row 0, column 0.*\(3, 5\)"),
    (np.full((3, 5), np.inf), r"in \[0, 1\].*inf"),
    (np.zeros((3, 4)), r"5 features.*\(3, 4\)"),
    (np.zeros((2, 3, 5)), r"shape \(n, 5\).*\(2, 3, 5\)"),
    (np.zeros((0, 5)), r"no samples"),
    (np.array([["a"] * 5]), r"dtype"),
])
@pytest.mark.parametrize("method", ["fit", "partial_fit", "transform", "score_samples",
                                    "reconstruct", "free_energy", "gibbs"])
def test_bad_input_is_refused_with_a_clear_message(data, message, method):
    rbm = nn.RBM(5, 3, seed=0, verbose=0)
    with pytest.raises((ValueError, TypeError), match=f"RBM.{method}: .*{message}"):
        getattr(rbm, method)(data)


def test_partial_fit_after_a_feature_count_change_is_refused(digits):
    rbm = nn.RBM(64, 8, seed=0, verbose=0).partial_fit(digits[0][:20])
    with pytest.raises(ag.ShapeError, match=r"RBM.partial_fit: expected samples of 64 features"
                                            r".*\(20, 32\) \(32 features\)"):
        rbm.partial_fit(digits[0][:20, :32])


def test_blas_threads_are_limited_only_while_training(digits):
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before = blas_threads()
    seen = []
    rbm = nn.RBM(64, 8, epochs=1, seed=0, verbose=0, blas_threads=1)
    real_update = rbm._cd_update
    rbm._cd_update = lambda v: (seen.append(blas_threads()), real_update(v))[1]
    rbm.fit(digits[0][:20])
    assert all(n == 1 for threads in seen for n in threads)
    assert blas_threads() == before
    nn.RBM(64, 8, epochs=1, seed=0, verbose=0, blas_threads=None).fit(digits[0][:20])


def test_binary_and_integer_data_are_accepted():
    rbm = nn.RBM(4, 2, epochs=1, seed=0, verbose=0)
    rbm.fit(np.array([[True, False, True, False]] * 3))
    rbm.fit(np.array([[1, 0, 1, 0]] * 3))


@pytest.mark.parametrize("kwargs, message", [
    ({"n_hidden": 0}, "n_hidden must be a positive integer"),
    ({"k": 0}, "k must be a positive integer"),
    ({"lr": -1.0}, "lr must be a number >= 0"),
    ({"momentum": 1.0}, r"momentum must be a number in \[0, 1\)"),
    ({"batch_size": 2.5}, "batch_size must be a positive integer"),
    ({"seed": "x"}, "seed must be an integer"),
    ({"dtype": "int32"}, "dtype must be 'float32' or 'float64'"),
    ({"blas_threads": 0}, "blas_threads must be a positive integer"),
])
def test_bad_hyper_parameters(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=f"RBM: {message}"):
        nn.RBM(**{"n_visible": 4, "n_hidden": 3, **kwargs})
