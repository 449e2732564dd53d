"""Version counters: a value saved for backward and changed in place afterwards is an error."""

from __future__ import annotations

import pydoc

import numpy as np
import pytest

import autograd_core as ag
import nn

MODIFIED = "modified by an inplace operation"


def leaf(values, name=None) -> ag.Tensor:
    return ag.tensor(np.asarray(values, dtype=np.float64), requires_grad=True, name=name)


def test_optimizer_step_between_two_backwards_raises() -> None:
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4, activation="relu"), nn.Linear(4, 2))
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    loss = (model(ag.tensor(np.ones((5, 3), np.float32))) ** 2).mean()
    loss.backward(retain_graph=True)
    version = model[1].weight._version  # nn.init wrote the weights once already
    opt.step()
    with pytest.raises(RuntimeError, match=MODIFIED) as info:
        loss.backward()
    assert "'weight' of linear" in str(info.value)
    assert f"version {version + 1}; expected version {version}" in str(info.value)


@pytest.mark.parametrize("optimizer", ["Adam", "Adagrad", "RMSprop"])
def test_every_optimizer_bumps_the_version(optimizer) -> None:
    w = nn.Parameter(np.ones(3, np.float32))
    opt = getattr(nn.optim, optimizer)([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w._version == 1


def test_message_names_op_tensor_shape_dtype_and_versions() -> None:
    w = leaf([1.0, 2.0], name="w")
    y = (w * w).sum()
    with ag.no_grad():
        w += 1
        w += 1
    with pytest.raises(RuntimeError, match=MODIFIED) as info:
        y.backward()
    message = str(info.value)
    for part in ("input 0 'w' of mul", "(2,)", "float64", "version 2; expected version 0"):
        assert part in message


def test_saved_output_written_in_place_raises() -> None:
    x = leaf([0.0, 1.0])
    y = ag.exp(x)  # exp saves its output
    z = y.sum()
    with ag.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="the output of exp"):
        z.backward()


def test_lstm_output_written_in_place_raises() -> None:
    x, h0, c0 = ag.randn(3, 2, 3), ag.zeros((2, 4)), ag.zeros((2, 4))
    w_ih, w_hh = ag.randn(16, 3, requires_grad=True), ag.randn(16, 4, requires_grad=True)
    hc = ag.lstm(x, h0, c0, w_ih, w_hh)
    loss = hc.sum()
    with ag.no_grad():
        hc[0] = 5.0  # backward reads the states from this output
    with pytest.raises(RuntimeError, match="the output of lstm"):
        loss.backward()


def test_writes_through_views_and_detach_are_seen() -> None:
    w = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = (w.T * 2.0).sum() + (w * w).sum()  # w saved by mul; w.T is a view of w's memory
    w.detach()[0, 0] = 5.0
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()
    v = leaf([1.0, 2.0])
    view = ag.reshape(v, (2, 1))
    y = (view * view).sum()  # mul saved the view's array
    with ag.no_grad():
        v += 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_writes_that_touch_nothing_saved_pass() -> None:
    x = leaf([1.0, -2.0])
    y = ag.relu(x)  # relu saves a mask it made, not x
    z = (x + 1).sum() + y.sum()  # add saves nothing
    with ag.no_grad():
        x += 10
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 1.0])


def test_load_state_dict_rbm_and_init_bump_versions() -> None:
    layer = nn.Linear(2, 2)
    y = layer(ag.tensor(np.ones((1, 2), np.float32))).sum()
    layer.load_state_dict({k: np.zeros(v.shape, np.float32)
                           for k, v in layer.state_dict().items()})
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()
    version = layer.weight._version
    nn.init.zeros_(layer.weight)
    assert layer.weight._version == version + 1
    unit = nn.Perceptron(2)
    before = unit.weight._version
    unit.fit(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 1]), epochs=2)
    assert unit.weight._version > before
    rbm = nn.RBM(4, 3, seed=0, epochs=1, batch_size=2)
    before = rbm.W._version
    rbm.fit(np.random.default_rng(0).random((4, 4)))
    assert rbm.W._version > before


def test_data_is_an_untracked_escape_hatch_and_says_so() -> None:
    w = leaf([1.0, 2.0])
    y = (w * w).sum()
    w.data[0] = 3.0  # no version bump: the documented PyTorch behaviour
    y.backward()
    assert w._version == 0
    assert "untracked escape hatch" in pydoc.render_doc(ag.Tensor)
