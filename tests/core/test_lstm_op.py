"""ag.lstm, the fused LSTM layer: gradients in float64 (both directions, with and without
biases), second derivatives through its composed backward, and agreement with the step-by-step
cell built from engine ops."""

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.ops.recurrent import lstm_cell


def lstm_inputs(steps, batch, n_in, n, bias=True, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((steps, batch, n_in)), rng.standard_normal((batch, n)),
              rng.standard_normal((batch, n)), 0.5 * rng.standard_normal((4 * n, n_in)),
              0.5 * rng.standard_normal((4 * n, n))]
    if bias:
        arrays += [rng.standard_normal(4 * n), rng.standard_normal(4 * n)]
    return arrays


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("shape, bias", [((4, 2, 3, 2), True), ((1, 3, 2, 3), True),
                                         ((3, 1, 2, 2), False)], ids=str)
def test_lstm_gradcheck(shape, bias, reverse):
    assert ag.gradcheck(lambda *args: ag.lstm(*args, reverse=reverse),
                        lstm_inputs(*shape, bias=bias))


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_second_derivatives(reverse):
    assert ag.gradgradcheck(lambda *args: ag.lstm(*args, reverse=reverse),
                            lstm_inputs(3, 2, 2, 2))


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_matches_the_composed_cell(reverse):
    x, h, c, *weights = (ag.tensor(a) for a in lstm_inputs(5, 3, 4, 3))
    fused = ag.lstm(x, h, c, *weights, reverse=reverse).numpy()
    for t in range(4, -1, -1) if reverse else range(5):
        h, c = lstm_cell(x[t], h, c, *weights)
        np.testing.assert_allclose(fused[t], np.concatenate([h.numpy(), c.numpy()], axis=-1),
                                   rtol=1e-12, atol=1e-12)


def test_lstm_errors_name_the_shapes():
    x, h, c, w_ih, w_hh = (ag.tensor(a) for a in lstm_inputs(5, 3, 4, 3, bias=False))
    with pytest.raises(ag.ShapeError, match=r"lstm: .*h0 \(3, 2\)"):
        ag.lstm(x, h[:, :2], c, w_ih, w_hh)
    with pytest.raises(ValueError, match="both biases or neither"):
        ag.lstm(x, h, c, w_ih, w_hh, ag.zeros(12))


def test_lstm_gradients_survive_later_backward_passes():
    # The gate gradients live in a work array reused by the next backward call; nothing
    # returned may be a view of it.
    first = [ag.tensor(a, requires_grad=True) for a in lstm_inputs(4, 2, 3, 2, seed=1)]
    (ag.lstm(*first) ** 2).sum().backward()
    grads = [t.grad.numpy().copy() for t in first]
    for seed in (2, 3):
        later = [ag.tensor(a, requires_grad=True) for a in lstm_inputs(4, 2, 3, 2, seed=seed)]
        ag.lstm(*later).sum().backward()
    for t, grad in zip(first, grads):
        np.testing.assert_array_equal(t.grad.numpy(), grad)


def test_lstm_skips_the_gradients_no_input_wants():
    arrays = lstm_inputs(4, 2, 3, 2, seed=4)
    every = [ag.tensor(a, requires_grad=True) for a in arrays]
    (ag.lstm(*every) ** 2).sum().backward()
    x, h, c, w_ih, *rest = (ag.tensor(a, requires_grad=i >= 4) for i, a in enumerate(arrays))
    (ag.lstm(x, h, c, w_ih, *rest) ** 2).sum().backward()
    assert x.grad is None and w_ih.grad is None
    for t, full in zip(rest, every[4:]):
        np.testing.assert_allclose(t.grad.numpy(), full.grad.numpy(), rtol=1e-12)
