"""ag.jit: a captured training step replays to the same parameters as the eager step."""

import numpy as np
import pytest

import autograd_core as ag
import nn

STEPS = 100


def _mlp(activation, dropout=0.0):
    ag.manual_seed(0)
    layers = [nn.Linear(12, 16), activation(), nn.Linear(16, 16), activation()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(16, 4))


def _batches(n, batch, classes=True):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, batch, 12)).astype(np.float32)
    y = rng.integers(0, 4, (n, batch)) if classes else \
        rng.standard_normal((n, batch, 4)).astype(np.float32)
    return x, y


def _train(model, optimizer, loss_fn, x, y, jit, check=False):
    """STEPS steps, eager or captured; returns the parameters and the losses."""
    def step(xb, yb):
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        return loss

    run = ag.jit(step, check=check) if jit else step
    ag.manual_seed(7)
    losses = [run(ag.tensor(x[i]), ag.Tensor(y[i])).data.copy() for i in range(len(x))]
    return [p.data.copy() for p in model.parameters()], losses, run


OPTIMIZERS = {
    "sgd_momentum": lambda ps: nn.optim.SGD(ps, lr=0.05, momentum=0.9),
    "adam": lambda ps: nn.optim.Adam(ps, lr=1e-2),
    "adamw": lambda ps: nn.optim.AdamW(ps, lr=1e-2, weight_decay=0.1),
}


def _assert_same(eager, replayed):
    for a, b in zip(eager[0], replayed[0]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(eager[1], replayed[1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("activation,loss,classes", [(nn.ReLU, nn.CrossEntropyLoss, True),
                                                     (nn.Tanh, nn.MSELoss, False)])
def test_replayed_steps_equal_eager_steps(optimizer, activation, loss, classes):
    x, y = _batches(STEPS, 8, classes)
    results = []
    for jit in (False, True):
        model = _mlp(activation)
        results.append(_train(model, OPTIMIZERS[optimizer](model.parameters()), loss(), x, y,
                              jit))
    _assert_same(*results)
    assert len(results[1][2].plans) == 1


def test_dropout_draws_a_fresh_mask_each_replayed_step():
    x, y = _batches(STEPS, 8)
    results = []
    for jit in (False, True):
        model = _mlp(nn.ReLU, dropout=0.5)
        results.append(_train(model, nn.optim.SGD(model.parameters(), lr=0.05),
                              nn.CrossEntropyLoss(), x, y, jit))
    _assert_same(*results)
    # the same batch twice: a fresh mask gives another output
    model = _mlp(nn.ReLU, dropout=0.5)
    forward = ag.jit(lambda xb: model(xb))
    xb = ag.tensor(x[0])
    outs = [forward(xb).data.copy() for _ in range(4)]
    assert not np.array_equal(outs[2], outs[3])


def test_rbm_free_energy_loss():
    rbm = nn.RBM(12, 6)
    rng = np.random.default_rng(2)
    data = (rng.random((STEPS, 8, 12)) < 0.3).astype(np.float32)
    fantasy = (rng.random((STEPS, 8, 12)) < 0.5).astype(np.float32)
    start = [p.data.copy() for p in rbm.parameters()]

    def free_energy(v):
        return -(v @ rbm.b_visible) - ag.softplus(v @ rbm.W + rbm.b_hidden).sum(axis=1)

    def step(v_data, v_model):
        opt.zero_grad()
        loss = free_energy(v_data).mean() - free_energy(v_model).mean()
        loss.backward()
        opt.step()
        return loss

    finals = []
    for run in (step, ag.jit(step)):
        for p, s in zip(rbm.parameters(), start):
            p.data = s.copy()
        opt = nn.optim.SGD(rbm.parameters(), lr=0.1, momentum=0.5)
        for i in range(STEPS):
            run(ag.Tensor(data[i]), ag.Tensor(fantasy[i]))
        finals.append([p.data.copy() for p in rbm.parameters()])
    for a, b in zip(*finals):
        np.testing.assert_array_equal(a, b)


def test_a_new_signature_records_again_and_eval_mode_counts():
    model = _mlp(nn.ReLU, dropout=0.2)
    opt = nn.optim.SGD(model.parameters(), lr=0.01)
    x, y = _batches(6, 8)
    params, losses, step = _train(model, opt, nn.CrossEntropyLoss(), x, y, jit=True)
    assert len(step.plans) == 1
    for _ in range(3):
        step(ag.tensor(x[0, :5]), ag.Tensor(y[0, :5]))  # another batch size
    assert len(step.plans) == 2
    model.eval()
    for _ in range(3):
        step(ag.tensor(x[0]), ag.Tensor(y[0]))  # training flags are part of the signature
    assert len(step.plans) == 3
    assert "dropout" not in step.explain().split("plan for")[-1]


def test_explain_lists_each_op_with_its_shape():
    model = _mlp(nn.ReLU)
    x, y = _batches(3, 8)
    _, _, step = _train(model, nn.optim.Adam(model.parameters()), nn.CrossEntropyLoss(), x, y,
                        jit=True)
    text = step.explain()
    assert "forward(v0, v2, v3, activation='identity')" in text and "labels=v1" in text
    assert "(8, 16) float32  linear" in text and "backward(g4, *N4.saved)" in text
    assert "# Adam.step" in text and "# zero_grad" in text and "FIT" not in text
    assert text == step.plan


def test_check_mode_passes_then_catches_a_broken_replay():
    model = _mlp(nn.ReLU, dropout=0.3)
    x, y = _batches(5, 8)
    opt = nn.optim.Adam(model.parameters(), lr=1e-2)
    _, _, step = _train(model, opt, nn.CrossEntropyLoss(), x, y, jit=True, check=True)
    plan = next(iter(step.plans.values()))
    relu = next(e.fn for e in plan.events if getattr(e, "fn", None) is not None
                and e.fn.name == "relu")
    forward = relu.forward
    relu.forward = lambda a: forward(a) * 1.5  # saves what backward needs, computes wrong
    with pytest.raises(ag.CaptureError, match="relu"):
        step(ag.tensor(x[0]), ag.Tensor(y[0]))


def test_check_mode_leaves_the_same_state_as_eager():
    x, y = _batches(6, 8)
    results = []
    for jit in (False, True):
        model = _mlp(nn.ReLU, dropout=0.3)
        results.append(_train(model, nn.optim.Adam(model.parameters(), lr=1e-2),
                              nn.CrossEntropyLoss(), x, y, jit, check=True))
    _assert_same(*results)


def _step_with(body):
    model = _mlp(nn.ReLU)
    opt = nn.optim.SGD(model.parameters(), lr=0.01)
    x, y = _batches(2, 8)

    def step(xb, yb):
        opt.zero_grad()
        loss = body(model, xb, yb)
        loss.backward()
        opt.step()
        return loss
    return ag.jit(step), ag.tensor(x[0]), ag.Tensor(y[0])


@pytest.mark.parametrize("body,message", [
    (lambda m, x, y: nn.CrossEntropyLoss()(m(x), y) * (1.0 if m(x).sum().item() else 2.0),
     r"Tensor.item\(\)"),
    (lambda m, x, y: nn.CrossEntropyLoss()(m(x) + ag.randn(8, 4), y), "change between calls"),
    (lambda m, x, y: nn.CrossEntropyLoss()(m(x) * ag.tensor(y.data.sum(), dtype=np.float32), y),
     "change between calls"),
    (lambda m, x, y: nn.CrossEntropyLoss()(m(x), y)
     + 0 * ag.engine.grad(m(x).sum(), [m[0].weight])[0].sum(), "ag.grad"),
])
def test_steps_that_cannot_be_replayed_raise_while_recording(body, message):
    step, x, y = _step_with(body)
    with pytest.raises(ag.CaptureError, match=message):
        for i in range(3):  # labels whose sum differs from call to call
            step(x, ag.Tensor(np.full(8, i)))


def test_control_flow_that_changes_between_recordings_raises():
    model = _mlp(nn.ReLU)
    calls = []

    def forward(xb):
        calls.append(1)
        out = model(xb)
        return out.relu() if len(calls) % 2 else out.tanh()
    step = ag.jit(forward)
    x = ag.tensor(np.ones((2, 12), np.float32))
    step(x)
    with pytest.raises(ag.CaptureError, match="control flow"):
        step(x)


def test_uncapturable_ops_and_bad_arguments_raise():
    class Stateful(ag.Function):
        capturable = False

        def forward(self, a):
            return a * 2

        def backward(self, grad):
            return grad * 2

    step = ag.jit(lambda t: Stateful.apply(t))
    with pytest.raises(ag.CaptureError, match="capturable"):
        step(ag.tensor([1.0], requires_grad=True))
    with pytest.raises(ag.CaptureError, match="hashable"):
        ag.jit(lambda t, extra: t)(ag.tensor([1.0]), [1, 2])
    hooked = ag.tensor([1.0, 2.0], requires_grad=True)

    def with_hook(t):
        out = t * hooked
        out.register_hook(lambda g: g)
        out.sum().backward()
    with pytest.raises(ag.CaptureError, match="hook"):
        ag.jit(with_hook)(ag.tensor([1.0, 2.0]))
    with pytest.raises(ag.CaptureError, match="closure"):
        model = _mlp(nn.ReLU)
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        ag.jit(lambda: opt.step(lambda: model(ag.ones(1, 12)).sum()))()


def test_input_that_requires_grad_gets_its_gradient():
    w = ag.tensor(np.arange(3, dtype=np.float32), requires_grad=True)

    def step(x):
        (x * w).sum().backward()

    run = ag.jit(step)
    for i in range(4):
        x = ag.tensor(np.full(3, i, np.float32), requires_grad=True)
        run(x)
        np.testing.assert_array_equal(x.grad.data, w.data)
    np.testing.assert_array_equal(w.grad.data, np.full(3, 0 + 1 + 2 + 3, np.float32))


def test_dropout_op_gradient_is_its_mask():
    ag.manual_seed(3)
    x = ag.tensor(np.ones((50, 4), np.float32), requires_grad=True)
    out = ag.dropout(x, 0.25)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)
    assert set(np.unique(out.data)) <= {0.0, np.float32(1 / 0.75)}
    assert ag.dropout(x, 0.25, training=False) is x
    with pytest.raises(ValueError, match="dropout"):
        ag.dropout(x, 1.5)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)])
def test_dropout_gradcheck_with_a_fixed_mask(shape):
    def seeded(a):
        ag.manual_seed(11)  # one mask for every evaluation of the central differences
        return ag.dropout(a, 0.4)
    x = ag.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    assert ag.gradcheck(seeded, [x])
    assert ag.gradgradcheck(lambda a: seeded(a) * a, [x])


@pytest.mark.parametrize("settings", [
    {"dropout": 0.2, "metrics": ["accuracy"]},  # 70 samples: a last batch of 6 records too
    {"class_weight": {0: 2.0, 3: 0.5}},
])
def test_fit_with_jit_gives_the_same_history(settings):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((70, 12)).astype(np.float32)
    y = rng.integers(0, 4, 70)
    settings = dict(settings)
    dropout = settings.pop("dropout", 0.0)
    histories = []
    for jit in (False, True):
        model = _mlp(nn.ReLU, dropout=dropout)
        opt = nn.optim.Adam(model.parameters(), lr=1e-2)
        histories.append(nn.fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=4,
                                batch_size=16, seed=0, verbose=0, jit=jit, **settings).history)
    assert histories[0] == histories[1]


def test_an_in_place_write_inside_the_step_raises():
    data = ag.tensor(np.ones(3, np.float32))

    def step(x):
        data.add_(x)
        return data * 2
    with pytest.raises(ag.CaptureError, match="in-place"):
        ag.jit(step)(ag.tensor(np.ones(3, np.float32)))


def test_conv_net_replays_like_eager():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((STEPS // 4, 4, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 4, (STEPS // 4, 4))
    results = []
    for jit in (False, True):
        ag.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Dropout(0.2), nn.Linear(48, 4))
        results.append(_train(model, nn.optim.Adam(model.parameters(), lr=1e-2),
                              nn.CrossEntropyLoss(), x, y, jit))
    _assert_same(*results)


@pytest.mark.parametrize("check", [False, True])
def test_batch_norm_in_training_replays_like_eager(check):
    # batch statistics and running averages are computed inside the op, so every replay
    # recomputes them; num_batches_tracked is counted by a recorded effect
    x, y = _batches(STEPS // 4, 8)
    results, buffers = [], []
    for jit in (False, True):
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(12, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 4))
        opt = nn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        results.append(_train(model, opt, nn.CrossEntropyLoss(), x, y, jit, check=check))
        norm = model[1]
        buffers.append((norm.running_mean.numpy(), norm.running_var.numpy(),
                        int(norm.num_batches_tracked.item())))
        model.eval()  # the eval step reads the running averages as they are now
        buffers[-1] += (model(ag.tensor(x[0])).numpy(),)
    _assert_same(*results)
    for eager, replayed in zip(*buffers):
        np.testing.assert_array_equal(eager, replayed)
    assert buffers[1][2] == STEPS // 4


def test_batch_norm_with_a_cumulative_average_is_refused():
    model = nn.Sequential(nn.Linear(12, 6), nn.BatchNorm1d(6, momentum=None), nn.Linear(6, 4))
    x, y = _batches(3, 8)
    with pytest.raises(ag.CaptureError, match="momentum=None"):
        _train(model, nn.optim.SGD(model.parameters(), lr=0.01), nn.CrossEntropyLoss(), x, y,
               jit=True)


def test_two_backward_calls_input_gradients_and_check_mode_agree_with_eager():
    # retain_graph then a second backward through the same nodes, a third loss on a leaf
    # alone, an input that requires grad, a numpy argument wrapped inside the step
    w = ag.tensor(np.arange(3.0), requires_grad=True)
    b = ag.tensor(np.ones(3), requires_grad=True)

    def step(x, scale):
        y = (x * w + b).tanh()
        first = y.sum()
        first.backward(retain_graph=True)
        second = (y * ag.Tensor(scale)).sum() * 2
        second.backward()
        (w * w).sum().backward()
        return {"first": first, "pair": (second, 3)}

    def run(function):
        w.grad = b.grad = None
        seen = []
        for i in range(5):
            x = ag.tensor(np.full(3, 0.1 * i), requires_grad=True)
            out = function(x, np.full(3, 1.0 + i))
            assert out["pair"][1] == 3
            seen += [out["first"].numpy(), out["pair"][0].numpy(), x.grad.numpy()]
        return seen + [w.grad.numpy(), b.grad.numpy()]

    eager = run(step)
    for replayed in (run(ag.jit(step)), run(ag.jit(step, check=True))):
        for a, c in zip(eager, replayed, strict=True):
            np.testing.assert_array_equal(a, c)


def test_parameters_that_are_not_python_literals_are_bound_by_name():
    def step(x):
        y = ag.clip(x, min=-float("inf"), max=2.0)
        y.sum().backward()
        return y

    run = ag.jit(step)
    for i in range(4):
        x = ag.tensor(np.array([1.0, 3.0]) * i, requires_grad=True)
        out = run(x)
    np.testing.assert_array_equal(out.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    assert "low=P1_low, high=2.0" in run.explain()
