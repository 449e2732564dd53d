"""nn.Perceptron and nn.MLP: learning rules, structure, errors and saving."""

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn.data import logic_gate, noisy_line
from nn.module import NotDescribableError


@pytest.mark.parametrize("gate", ["or", "and", "nand", "nor"])
def test_perceptron_rule_learns_separable_gates(gate):
    x, y = logic_gate(gate)
    unit = nn.Perceptron(2)
    history = unit.fit(x, y, epochs=50)
    assert unit.predict(x).tolist() == y.tolist()
    assert history["errors"][-1] == 0 and len(history) < 50   # stops once an epoch is clean


def test_perceptron_rule_cannot_learn_xor():
    x, y = logic_gate("xor")
    unit = nn.Perceptron(2)
    history = unit.fit(x, y, epochs=30)
    assert len(history) == 30 and min(history["errors"]) > 0
    assert unit.predict(x).tolist() != y.tolist()


def test_perceptron_rule_update_formula():
    # one mistake on x = [1, 2] (target 1, output step(0) = 0): w += lr * x, b += lr
    unit = nn.Perceptron(2)
    unit.fit(np.array([[1.0, 2.0]], np.float32), [1], epochs=1, lr=0.5)
    np.testing.assert_allclose(unit.weight.numpy(), [[0.5, 1.0]])
    np.testing.assert_allclose(unit.bias.numpy(), [0.5])


def test_perceptron_shuffled_rule_is_seeded():
    x, y = logic_gate("or")
    a, b = nn.Perceptron(2), nn.Perceptron(2)
    a.fit(x, y, shuffle=True, seed=3)
    b.fit(x, y, shuffle=True, seed=3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())


def test_linear_neuron_by_gradient_descent_reaches_least_squares():
    x, y = noisy_line(100, slope=2.0, intercept=1.0, noise=0.1, seed=0)
    unit = nn.Perceptron(1, activation="identity")
    history = unit.fit(x, y, epochs=300, lr=0.5)            # full-batch gradient descent on MSE
    design = np.hstack([x, np.ones_like(x)]).astype(np.float64)
    slope, intercept = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)[0].ravel()
    assert abs(unit.weight.item() - slope) < 1e-3 and abs(unit.bias.item() - intercept) < 1e-3
    assert history["loss"][-1] < history["loss"][0]


def test_sigmoid_unit_step_is_the_delta_rule():
    """One SGD step on L2Loss = (y - out)^2 / 2: w += lr * (y - out) * sigmoid'(h) * x."""
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    w = np.array([0.5, -0.5, 0.3, 0.1])
    ag.set_default_dtype(np.float64)
    try:
        unit = nn.Perceptron(4, activation="sigmoid", bias=False)
    finally:
        ag.set_default_dtype(np.float32)
    unit.weight.data[...] = w
    out = unit.predict(x)[0]
    assert out == pytest.approx(0.68997, abs=5e-6)
    unit.fit(x, [0.5], epochs=1, lr=0.5, loss="l2")
    delta = 0.5 * (0.5 - out) * out * (1 - out) * x[0]
    np.testing.assert_allclose(unit.weight.numpy()[0] - w, delta, rtol=1e-12)


def test_perceptron_gradients_match_finite_differences():
    x = np.random.default_rng(0).standard_normal((5, 3))
    y = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])

    def loss(w, b):
        return nn.BCELoss()(ag.sigmoid(ag.tensor(x) @ w.T + b), y)

    assert ag.gradcheck(loss, [np.array([[0.3, -0.2, 0.1]]), np.array([0.05])])


def test_perceptron_errors_and_config():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.Perceptron(2, activation="swish")
    with pytest.raises(ValueError, match="n_inputs"):
        nn.Perceptron(0)
    unit = nn.Perceptron(2)
    x, _ = logic_gate("or")
    with pytest.raises(ValueError, match="targets 0 or 1"):
        unit.fit(x, [0, 1, 2, 1])
    with pytest.raises(ag.ShapeError, match=r"\(n, 2\).*\(4, 3\)"):
        unit.fit(np.zeros((4, 3)), [0, 1, 1, 1])
    with pytest.raises(ag.ShapeError, match="Perceptron"):
        unit(np.zeros((4, 3)))
    assert unit.get_config() == {"n_inputs": 2, "activation": "step", "bias": True}


def test_perceptron_save_and_load(tmp_path):
    x, y = logic_gate("and")
    unit = nn.Perceptron(2)
    unit.fit(x, y)
    nn.save(unit, tmp_path / "unit.nnz")
    again = nn.load(tmp_path / "unit.nnz")
    assert isinstance(again, nn.Perceptron) and again.activation == "step"
    assert again.predict(x).tolist() == y.tolist()


def test_mlp_structure():
    model = nn.MLP([4, 8, 6, 3], activation="tanh", output_activation="softmax", dropout=0.1)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear",
                     "Softmax"]
    assert [(layer.in_features, layer.out_features) for layer in model
            if isinstance(layer, nn.Linear)] == [(4, 8), (8, 6), (6, 3)]
    assert isinstance(model, nn.Sequential)
    out = model.eval()(ag.randn(5, 4))
    assert out.shape == (5, 3)
    np.testing.assert_allclose(out.numpy().sum(axis=1), 1.0, rtol=1e-5)
    assert [type(layer).__name__ for layer in nn.MLP([2, 3])] == ["Linear"]


def test_mlp_errors():
    with pytest.raises(ValueError, match="MLP: sizes"):
        nn.MLP([4])
    with pytest.raises(ValueError, match="MLP: sizes"):
        nn.MLP([4, 0, 2])
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        nn.MLP([4, 2], activation="relu", output_activation="gelu")


def test_mlp_save_load_roundtrip(tmp_path):
    ag.manual_seed(0)
    model = nn.MLP([4, 8, 3], activation="leaky_relu", dropout=0.2)
    nn.save(model, tmp_path / "mlp.nnz")
    again = nn.load(tmp_path / "mlp.nnz")
    assert isinstance(again, nn.MLP) and again.get_config() == model.get_config()
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_changed_mlp_cannot_describe_itself():
    model = nn.MLP([4, 8, 3])
    model[-1] = nn.Linear(8, 5)              # transfer learning: a new head
    with pytest.raises(NotDescribableError, match="nn.Sequential"):
        model.get_config()


def test_mlp_learns_xor():
    x, y = logic_gate("xor")
    ag.manual_seed(0)
    model = nn.MLP([2, 8, 1], activation="tanh")
    model.compile(nn.optim.Adam(model.parameters(), lr=0.05), "bce_with_logits")
    model.fit(x, y[:, None].astype(np.float32), epochs=300, batch_size=4, verbose=0)
    assert (model.predict(x)[:, 0] > 0).astype(int).tolist() == y.tolist()
