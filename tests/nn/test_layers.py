"""Layers: Linear against numpy, activations, Dropout's statistics, Flatten, Sequential."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
import nn


def to_float64(module):
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
    return module


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 5), n_in=st.integers(1, 6), n_out=st.integers(1, 6),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_linear_matches_numpy_forward_and_backward(batch, n_in, n_out, bias, seed):
    ag.manual_seed(seed)
    fc = nn.Linear(n_in, n_out, bias=bias)
    assert fc.weight.shape == (n_out, n_in) and fc.weight.dtype == np.float32
    x = np.random.default_rng(seed).standard_normal((batch, n_in)).astype(np.float32)
    w = fc.weight.data
    expected = x @ w.T + (fc.bias.data if bias else 0)
    out = fc(x)
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(seed + 1).standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    np.testing.assert_allclose(fc.weight.grad.data, g.T @ x, rtol=1e-5, atol=1e-5)
    if bias:
        np.testing.assert_allclose(fc.bias.grad.data, g.sum(axis=0), rtol=1e-5, atol=1e-5)
    else:
        assert fc.bias is None and len(list(fc.parameters())) == 1


def test_linear_gradcheck_in_float64_and_batched_inputs():
    fc = to_float64(nn.Linear(3, 2))
    ag.gradcheck(lambda x: fc(x), [np.random.default_rng(0).standard_normal((2, 4, 3))])
    assert fc(ag.ones((7, 5, 3), dtype=np.float64)).shape == (7, 5, 2)


def test_linear_default_init_is_pytorch_uniform():
    ag.manual_seed(0)
    fc = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (fc.weight.data, fc.bias.data):
        assert np.abs(p).max() <= bound
    # U(-b, b) has standard deviation b / sqrt(3)
    assert abs(fc.weight.data.std() - bound / math.sqrt(3)) < 0.01 * bound
    ag.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(400, 300).weight.data, fc.weight.data)


def test_linear_errors_name_the_layer_and_shapes():
    fc = nn.Linear(4, 2)
    with pytest.raises(ag.ShapeError, match=r"Linear .*in_features=4.*last dimension is 4, got "
                                            r"shape \(2, 3\)"):
        fc(ag.ones((2, 3)))
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        nn.Linear(0, 2)


@pytest.mark.parametrize("layer, reference", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)),
    (nn.Identity(), lambda x: x),
])
def test_activations(layer, reference):
    x = np.random.default_rng(0).standard_normal((4, 5))
    np.testing.assert_allclose(np.asarray(layer(ag.tensor(x)).data), reference(x), rtol=1e-12)
    ag.gradcheck(lambda t: layer(t), [x])
    assert list(layer.parameters()) == []


def test_flatten():
    x = ag.ones((2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_dropout_statistics_in_training():
    ag.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = ag.ones((400, 500), requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.005
    np.testing.assert_allclose(y.data[kept], 1 / 0.75, rtol=1e-6)  # inverted scaling
    assert abs(y.data.mean() - 1) < 0.01  # the expectation is unchanged
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # gradient flows through kept entries
    assert y.dtype == np.float32


def test_dropout_is_the_identity_in_eval_and_reproducible_when_seeded():
    drop = nn.Dropout(0.5)
    x = ag.randn(10, 10)
    drop.eval()
    assert drop(x) is x
    drop.train()
    ag.manual_seed(3)
    first = drop(x).data
    ag.manual_seed(3)
    np.testing.assert_array_equal(drop(x).data, first)
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).data == 0)
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\]"):
        nn.Dropout(1.5)


def test_sequential_behaves_like_a_list():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(a, b)
    model.append(c)
    assert len(model) == 3 and list(model) == [a, b, c]
    assert model[0] is a and model[-1] is c
    assert isinstance(model[1:], nn.Sequential) and list(model[1:]) == [b, c]
    x = ag.randn(4, 2)
    np.testing.assert_array_equal(model(x).data, c(b(a(x))).data)
    new = nn.Linear(3, 1)
    model[-1] = new
    assert model[2] is new and list(dict(model.named_children())) == ["0", "1", "2"]
    with pytest.raises(IndexError, match="index 3 out of range for 3 layers"):
        model[3]  # noqa: B018
    with pytest.raises(TypeError, match="layer 3 must be an nn.Module"):
        model.append(np.tanh)


def test_layer_configs_rebuild_equal_layers():
    from nn.module import module_from_config, module_to_config

    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3, bias=False), nn.LeakyReLU(0.1),
                          nn.Dropout(0.3), nn.Linear(3, 2), nn.Softmax(dim=-1), nn.Identity())
    config = module_to_config(model)
    rebuilt = module_from_config(config)
    assert repr(rebuilt) == repr(model)
    assert module_to_config(rebuilt) == config
