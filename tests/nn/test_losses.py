"""Losses: values against numpy formulas, reductions, gradient checks, stability, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
import nn

rng = np.random.default_rng(0)


def reduce(values, reduction):
    return {"mean": values.mean(), "sum": values.sum(), "none": values}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_numpy(reduction):
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    sq = (pred - target) ** 2
    mse = nn.MSELoss(reduction=reduction)(ag.tensor(pred), target)
    np.testing.assert_allclose(mse.data, reduce(sq, reduction), rtol=1e-12)
    l2 = nn.L2Loss(reduction=reduction)(ag.tensor(pred), ag.tensor(target))
    np.testing.assert_allclose(l2.data, reduce(sq / 2, reduction), rtol=1e-12)


def test_l2_loss_sums_by_default_so_its_gradient_is_the_error():
    pred = ag.tensor([1.0, 2.0, 4.0], requires_grad=True)
    loss = nn.L2Loss()(pred, [0.0, 2.0, 1.0])
    assert loss.item() == pytest.approx((1 + 0 + 9) / 2)
    loss.backward()
    np.testing.assert_allclose(pred.grad.data, [1.0, 0.0, 3.0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_matches_numpy(reduction):
    p = rng.uniform(0.05, 0.95, (5, 2))
    y = rng.uniform(0, 1, (5, 2))
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    bce = nn.BCELoss(reduction=reduction)(ag.tensor(p), y)
    np.testing.assert_allclose(bce.data, reduce(expected, reduction), rtol=1e-12)
    logits = np.log(p / (1 - p))
    with_logits = nn.BCEWithLogitsLoss(reduction=reduction)(ag.tensor(logits), y)
    np.testing.assert_allclose(with_logits.data, reduce(expected, reduction), rtol=1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_numpy_for_labels_and_one_hot(reduction):
    logits = rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = reduce(-log_probs[np.arange(6), labels], reduction)
    loss_fn = nn.CrossEntropyLoss(reduction=reduction)
    np.testing.assert_allclose(loss_fn(ag.tensor(logits), labels).data, expected, rtol=1e-12)
    one_hot = np.eye(4)[labels]
    np.testing.assert_allclose(loss_fn(ag.tensor(logits), one_hot).data, expected, rtol=1e-12)
    float_labels = ag.tensor(labels.astype(np.float64))
    np.testing.assert_allclose(loss_fn(ag.tensor(logits), float_labels).data, expected,
                               rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 4), c=st.integers(2, 4), seed=st.integers(0, 2**16),
       reduction=st.sampled_from(["mean", "sum", "none"]))
def test_gradients_with_respect_to_the_prediction(n, c, seed, reduction):
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, c))
    y = r.uniform(0, 1, (n, c))
    probs = r.uniform(0.05, 0.95, (n, c))
    labels = r.integers(0, c, n)
    soft = r.dirichlet(np.ones(c), n)
    for loss_fn, pred, target in [
        (nn.MSELoss(reduction), x, y),
        (nn.L2Loss(reduction), x, y),
        (nn.BCELoss(reduction), probs, y),
        (nn.BCEWithLogitsLoss(reduction=reduction), x, y),
        (nn.CrossEntropyLoss(reduction=reduction), x, labels),
        (nn.CrossEntropyLoss(reduction=reduction), x, soft),
    ]:
        ag.gradcheck(lambda p, loss_fn=loss_fn, target=target: loss_fn(p, target), [pred])


def test_binary_cross_entropy_gradient_with_respect_to_the_target():
    p, y = rng.uniform(0.1, 0.9, 4), rng.uniform(0, 1, 4)
    ag.gradcheck(lambda p, y: nn.BCELoss()(p, y), [p, y])


def test_bce_clamps_its_logs_like_pytorch():
    p = ag.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    loss = nn.BCELoss(reduction="none")(p, [0.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(loss.data, [0.0, 0.0, 100.0, 100.0])
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad.data))
    with pytest.raises(ValueError, match=r"BCELoss: the prediction must hold probabilities in "
                                         r"\[0, 1\].*BCEWithLogitsLoss"):
        nn.BCELoss()(ag.tensor([1.5]), [1.0])


def test_logit_losses_are_stable_for_huge_logits():
    x = ag.tensor([1e4, -1e4, 1e4, -1e4, 0.0], requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=np.float32)
    loss = nn.BCEWithLogitsLoss(reduction="sum")(x, y)
    assert loss.item() == pytest.approx(2e4 + np.log(2))
    loss.backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 0.0, 1.0, -1.0, -0.5])  # sigmoid(x) - y

    logits = ag.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]], requires_grad=True)
    loss = nn.CrossEntropyLoss()(logits, [0, 0])
    assert loss.item() == pytest.approx(1e4 / 2)
    loss.backward()
    np.testing.assert_allclose(logits.grad.data, [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-7)


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n():
    logits = rng.standard_normal((3, 5))
    x = ag.tensor(logits, requires_grad=True)
    labels = np.array([4, 0, 2])
    nn.CrossEntropyLoss()(x, labels).backward()
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(x.grad.data, (softmax - np.eye(5)[labels]) / 3, rtol=1e-10)


def test_targets_take_the_predictions_dtype():
    pred = ag.ones((2, 2), requires_grad=True)  # float32
    assert nn.MSELoss()(pred, np.zeros((2, 2))).dtype == np.float32
    assert nn.BCEWithLogitsLoss()(pred, ag.tensor(np.zeros((2, 2)))).dtype == np.float32


def test_shape_mismatch_names_the_loss_and_both_shapes():
    with pytest.raises(ag.ShapeError, match=r"MSELoss: prediction has shape \(4, 1\) but target "
                                            r"has shape \(4,\)"):
        nn.MSELoss()(ag.ones((4, 1)), np.ones(4))
    with pytest.raises(ag.ShapeError, match=r"CrossEntropyLoss: logits have shape \(4, 3\), so "
                                            r"the target must be 4 integer labels"):
        nn.CrossEntropyLoss()(ag.ones((4, 3)), np.ones((4, 2)))
    with pytest.raises(ag.ShapeError, match=r"CrossEntropyLoss: expected floating logits of "
                                            r"shape \(N, C\), got shape \(3,\)"):
        nn.CrossEntropyLoss()(ag.ones(3), 0)


def test_bad_labels_and_reductions():
    with pytest.raises(ValueError, match="label 3 is out of range for 3 classes"):
        nn.CrossEntropyLoss()(ag.ones((2, 3)), [0, 3])
    with pytest.raises(ValueError, match="must hold whole class numbers"):
        nn.CrossEntropyLoss()(ag.ones((2, 3)), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="MSELoss: reduction must be 'mean', 'sum' or 'none'"):
        nn.MSELoss(reduction="average")
    assert repr(nn.BCELoss()) == "BCELoss(reduction='mean')"


def test_losses_run_in_their_name_scope():
    loss = nn.CrossEntropyLoss()(ag.ones((2, 3), requires_grad=True), [0, 1])
    assert loss.grad_fn.scope == "CrossEntropyLoss"
