"""Tests of nn.DBN: greedy pretraining, the unrolled MLP, and its use with few labels."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ag
import nn


def test_dbn_greedy_pretraining_and_unrolled_mlp(digits):
    x = digits[0][:200]
    dbn = nn.DBN([64, 24, 12], lr=0.05, epochs=2, seed=0, verbose=0).fit(x)
    first, second = dbn.rbms
    assert (first.n_visible, first.n_hidden, second.n_visible) == (64, 24, 24)
    # layer 2 is what an RBM with the same seed learns from layer 1's hidden probabilities
    alone = nn.RBM(24, 12, lr=0.05, epochs=2, seed=1, verbose=0).fit(first.transform(x))
    np.testing.assert_array_equal(second.W.data, alone.W.data)
    np.testing.assert_allclose(dbn(x).numpy(), dbn.transform(x), rtol=1e-5, atol=1e-6)

    model = dbn.to_mlp(10)
    assert isinstance(model, nn.MLP) and model.sizes == [64, 24, 12, 10]
    np.testing.assert_array_equal(model[0].weight.data, first.W.data.T)
    np.testing.assert_array_equal(model[0].bias.data, first.b_hidden.data)
    np.testing.assert_array_equal(model[2].weight.data, second.W.data.T)
    np.testing.assert_allclose(model[:4](x).numpy(), dbn.transform(x), rtol=1e-5, atol=1e-6)
    assert model(x).shape == (200, 10)
    encoder = dbn.to_mlp()
    np.testing.assert_allclose(encoder(x).numpy(), dbn.transform(x), rtol=1e-5, atol=1e-6)
    model[0].weight.data[...] = 0  # a copy: fine-tuning leaves the DBN alone
    assert np.abs(first.W.data).sum() > 0


def test_dbn_bad_arguments():
    with pytest.raises(ValueError, match="DBN: sizes must list at least two"):
        nn.DBN([64])
    with pytest.raises(TypeError, match="DBN: n_hidden comes from sizes"):
        nn.DBN([64, 8], n_hidden=4)
    with pytest.raises(ag.ShapeError, match=r"RBM.fit: expected samples of 64 features"):
        nn.DBN([64, 8], verbose=0).fit(np.zeros((3, 10)))


def test_dbn_pretraining_beats_random_init_with_few_labels(digits):
    x, y = digits
    x_train, x_test, y_train, y_test = nn.data.train_test_split(x, y, test_size=0.3, seed=0,
                                                                stratify=y)
    sizes = [64, 128, 64]
    dbn = nn.DBN(sizes, lr=0.1, momentum=0.5, epochs=15, seed=0, verbose=0).fit(x_train)
    accuracy = {"dbn": [], "random": []}
    for seed in range(3):
        _, x_few, _, y_few = nn.data.train_test_split(x_train, y_train, test_size=0.1,
                                                      seed=seed, stratify=y_train)
        for init in accuracy:
            ag.manual_seed(seed)
            model = dbn.to_mlp(10) if init == "dbn" else nn.MLP(sizes + [10], "sigmoid")
            nn.fit(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters(), lr=0.005),
                   (x_few, y_few), epochs=40, batch_size=16, verbose=0, seed=seed)
            accuracy[init].append(nn.metrics.accuracy(y_test, nn.predict(model, x_test)))
    assert np.mean(accuracy["dbn"]) > np.mean(accuracy["random"]) + 0.01, accuracy
