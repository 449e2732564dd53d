"""nn.functional's losses and normalisations take PyTorch's arguments and give its numbers."""

import numpy as np
import pytest

import autograd_core as ag
import nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

rng = np.random.default_rng(0)
X = rng.standard_normal((6, 4))
LABELS = np.array([0, 1, 2, 3, 1, 0])
NEAR = X + 0.3 * rng.standard_normal((6, 4))
WEIGHT = np.array([1.0, 2.0, 0.5, 3.0])

CASES = {
    "cross_entropy": ((X, LABELS), dict(weight=WEIGHT, label_smoothing=0.1, reduction="sum")),
    "nll_loss": ((np.log(np.abs(X) + 0.1), LABELS), dict(weight=WEIGHT, ignore_index=2)),
    "l1_loss": ((X, NEAR), dict(reduction="sum")),
    "smooth_l1_loss": ((X, NEAR), dict(beta=0.2)),
    "huber_loss": ((X, NEAR), dict(delta=0.2)),
    "kl_div": ((np.log(np.abs(X) + 0.1), np.abs(NEAR)), dict(reduction="batchmean")),
    "binary_cross_entropy_with_logits": ((X, (NEAR > 0) * 1.0),
                                         dict(weight=WEIGHT, pos_weight=WEIGHT[::-1].copy())),
    "mse_loss": ((X, NEAR), dict(reduction="none")),
}


def as_torch(value):
    return torch.tensor(value) if isinstance(value, np.ndarray) else value


@pytest.mark.parametrize("name", sorted(CASES))
def test_losses_match_torch(name):
    (prediction, target), options = CASES[name]
    x = ag.tensor(prediction, requires_grad=True)
    ours = getattr(F, name)(x, target, **options)
    ours.sum().backward()
    tx = torch.tensor(prediction, requires_grad=True)
    theirs = getattr(TF, name)(tx, as_torch(target), **{k: as_torch(v) for k, v in options.items()})
    theirs.sum().backward()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-11, atol=1e-14)


def test_normalisations_and_embedding_match_torch():
    x = rng.standard_normal((4, 6, 3))
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    np.testing.assert_allclose(
        F.group_norm(ag.tensor(x), 3, ag.tensor(w), ag.tensor(b)).data,
        TF.group_norm(torch.tensor(x), 3, torch.tensor(w), torch.tensor(b)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        F.layer_norm(ag.tensor(x), (3,)).data, TF.layer_norm(torch.tensor(x), (3,)).numpy(),
        rtol=1e-12, atol=1e-14)
    table = rng.standard_normal((5, 2))
    np.testing.assert_array_equal(F.embedding(np.array([[4, 0]]), ag.tensor(table)).data,
                                  TF.embedding(torch.tensor([[4, 0]]), torch.tensor(table)))
