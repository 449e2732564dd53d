"""nn.optim: each optimizer against torch.optim's update rules written out here, groups,
freezing, schedules, and transfer learning."""

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn import optim

STEPS = 4


def run(make_optimizer, param0, grads):
    """Apply the optimizer for len(grads) steps with the given gradients; return the params."""
    p = nn.Parameter(param0.copy())
    opt = make_optimizer([p])
    history = []
    for g in grads:
        p.grad = ag.tensor(g)
        opt.step()
        history.append(p.data.copy())
    return history


def reference_sgd(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, b, out = p.copy(), None, []
    for g in grads:
        g = g + weight_decay * p
        if momentum != 0:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        out.append(p)
    return out


def reference_adam(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    (b1, b2), p, out = betas, p.copy(), []
    m = v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def reference_adagrad(p, grads, lr, lr_decay=0.0, weight_decay=0.0,
                      initial_accumulator_value=0.0, eps=1e-10):
    p, out = p.copy(), []
    s = np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(grads, start=1):
        clr = lr / (1 + (t - 1) * lr_decay)
        g = g + weight_decay * p
        s = s + g**2
        p = p - clr * g / (np.sqrt(s) + eps)
        out.append(p)
    return out


def reference_rmsprop(p, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                      centered=False):
    p, out = p.copy(), []
    v, b, g_avg = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g**2
        v_tilde = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            v_tilde = v - g_avg**2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            p = p - lr * b
        else:
            p = p - lr * g / (np.sqrt(v_tilde) + eps)
        out.append(p)
    return out


CASES = [
    (optim.SGD, reference_sgd, {"lr": 0.1}),
    (optim.SGD, reference_sgd, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, reference_sgd, {"lr": 0.05, "momentum": 0.8, "dampening": 0.3,
                                "weight_decay": 0.01}),
    (optim.SGD, reference_sgd, {"lr": 0.1, "momentum": 0.9, "nesterov": True,
                                "weight_decay": 0.1}),
    (optim.Adam, reference_adam, {"lr": 1e-3}),
    (optim.Adam, reference_adam, {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-6,
                                  "weight_decay": 0.05}),
    (optim.Adagrad, reference_adagrad, {"lr": 0.1}),
    (optim.Adagrad, reference_adagrad, {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.1,
                                        "initial_accumulator_value": 0.3, "eps": 1e-6}),
    (optim.RMSprop, reference_rmsprop, {"lr": 0.01}),
    (optim.RMSprop, reference_rmsprop, {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1,
                                        "momentum": 0.5, "centered": True}),
]


@pytest.mark.parametrize("optimizer, reference, kwargs", CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_updates_follow_the_pytorch_formulas(optimizer, reference, kwargs):
    r = np.random.default_rng(0)
    param0 = r.standard_normal((3, 2))
    grads = [r.standard_normal((3, 2)) for _ in range(STEPS)]
    ours = run(lambda params: optimizer(params, **kwargs), param0, grads)
    expected = reference(param0, grads, **kwargs)
    for step, (a, b) in enumerate(zip(ours, expected)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"step {step + 1}")


@pytest.mark.parametrize("optimizer", [optim.SGD, optim.Adam, optim.Adagrad, optim.RMSprop])
def test_float32_parameters_stay_float32_in_place(optimizer):
    p = nn.Parameter(np.ones(4, dtype=np.float32))
    data = p.data
    opt = optimizer([p], lr=0.1)
    p.grad = ag.tensor(np.full(4, 0.5))  # a float64 gradient is cast to the parameter's dtype
    opt.step()
    assert p.data is data and p.dtype == np.float32 and np.all(p.data < 1)


def test_parameters_without_gradient_are_skipped():
    a, b = nn.Parameter([1.0]), nn.Parameter([1.0])
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = ag.tensor([1.0])
    opt.step()
    assert a.data[0] < 1 and b.data[0] == 1 and id(b) not in opt.state


def test_zero_grad():
    p = nn.Parameter([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1)
    p.grad = ag.tensor([3.0, 4.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, [0, 0])
    opt.zero_grad()
    assert p.grad is None


def test_param_groups_override_the_defaults():
    a, b = nn.Parameter([1.0]), nn.Parameter([1.0])
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1)
    a.grad, b.grad = ag.tensor([1.0]), ag.tensor([1.0])
    opt.step()
    assert a.data[0] == pytest.approx(0.9) and b.data[0] == pytest.approx(0.5)
    assert "Parameter Group 1" in repr(opt)


def test_closure_recomputes_the_loss():
    p = nn.Parameter([2.0])
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 4.0
    assert p.data[0] == pytest.approx(1.0)  # 2 - 0.25 * 2 * 2


def test_bad_arguments_are_named():
    p = nn.Parameter([1.0])
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Adam: lr must be a number >= 0, got -1"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match=r"Adam: betas must be two numbers in \[0, 1\), got"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum > 0"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match="got a single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 must be a floating-point leaf Tensor"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match=r"unknown hyper-parameter\(s\) \['momentum'\]"):
        optim.Adam([{"params": [p], "momentum": 0.9}])


def test_step_lr():
    p = nn.Parameter([1.0])
    opt = optim.SGD([p], lr=0.1)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert sched.get_last_lr() == [pytest.approx(0.0125)]
    assert optim.lr_scheduler.StepLR is optim.StepLR


def test_exponential_lr_per_group():
    a, b = nn.Parameter([1.0]), nn.Parameter([1.0])
    opt = optim.Adam([{"params": [a], "lr": 1.0}, {"params": [b], "lr": 0.1}])
    sched = optim.ExponentialLR(opt, gamma=0.9)
    for _ in range(3):
        sched.step()
    np.testing.assert_allclose(sched.get_last_lr(), [0.9**3, 0.1 * 0.9**3])
    np.testing.assert_allclose([g["lr"] for g in opt.param_groups], sched.get_last_lr())


def test_transfer_learning_freezes_all_but_a_new_last_layer():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(),
                          nn.Linear(8, 3))
    model.requires_grad_(False)
    model[-1] = nn.Linear(8, 2)  # the new head: trainable
    frozen = {k: v for k, v in model.state_dict().items() if not k.startswith("4.")}
    head = model[-1].weight.data.copy()
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    x = ag.randn(16, 4)
    y = (x.data[:, 0] > 0).astype(np.int64)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    state = model.state_dict()
    for key, value in frozen.items():
        np.testing.assert_array_equal(state[key], value, err_msg=key)
    assert not np.allclose(model[-1].weight.data, head)
    assert losses[-1] < losses[0]
