"""nn.optim against torch.optim on the same problem (same weights, same gradient rule), and
state_dict round trips that continue the very same trajectory; nn.utils gradient clipping."""

import copy

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn import optim

STEPS = 20
RNG = np.random.default_rng(0)
W0 = RNG.standard_normal((3, 4))
B0 = RNG.standard_normal(4)
X = RNG.standard_normal((6, 3))
Y = RNG.standard_normal((6, 4))


def gradients(w, b, sign=1.0):
    """d/dw, d/db of sign * (sum((x w + b - y)^2) + 0.1 sum(w^4)): a small non-quadratic
    problem, negated (sign -1) for the optimizers that maximize."""
    err = X @ w + b - Y
    return sign * (2 * X.T @ err + 0.4 * w**3), sign * 2 * err.sum(axis=0)


def sign(opt):
    return -1.0 if opt.param_groups[0]["maximize"] else 1.0


def trajectory(opt, params, steps, sched=None):
    out = []
    for _ in range(steps):
        for p, g in zip(params, gradients(*(q.data for q in params), sign(opt))):
            p.grad = ag.Tensor(g.astype(p.dtype))
        opt.step()
        if sched is not None:
            sched.step()
        out.append([p.data.copy() for p in params])
    assert all(np.isfinite(p).all() for p in out[-1])  # a diverged run would compare NaNs
    return out


def ours(name, kwargs, dtype=np.float64, groups=None):
    params = [nn.Parameter(W0.astype(dtype)), nn.Parameter(B0.astype(dtype))]
    spec = params if groups is None else [{"params": [p], **g} for p, g in zip(params, groups)]
    return getattr(optim, name)(spec, **kwargs), params


OPTIMIZERS = [
    ("SGD", {"lr": 0.01}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "maximize": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "maximize": True, "amsgrad": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True}),
]
GROUPS = [{"lr": 0.02, "weight_decay": 0.2}, {}]  # the second group takes the defaults


def ids(cases):
    return [f"{name}-{'-'.join(kwargs) or 'defaults'}" for name, kwargs in cases]


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS, ids=ids(OPTIMIZERS))
@pytest.mark.parametrize("grouped", [False, True], ids=["one-group", "two-groups"])
def test_trajectory_equals_pytorch(name, kwargs, grouped):
    torch = pytest.importorskip("torch")
    groups = GROUPS if grouped else None
    opt, params = ours(name, kwargs, groups=groups)
    expected = trajectory(opt, params, STEPS)

    t_params = [torch.tensor(W0, requires_grad=True), torch.tensor(B0, requires_grad=True)]
    spec = t_params if groups is None else [{"params": [p], **g} for p, g in zip(t_params, groups)]
    t_opt = getattr(torch.optim, name)(spec, **kwargs)
    for step in range(STEPS):
        for p, g in zip(t_params, gradients(*(q.detach().numpy() for q in t_params),
                                            sign(t_opt))):
            p.grad = torch.tensor(g)
        t_opt.step()
        for ours_p, theirs in zip(expected[step], t_params):
            np.testing.assert_allclose(ours_p, theirs.detach().numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name, kwargs", [OPTIMIZERS[1], OPTIMIZERS[4], OPTIMIZERS[7]],
                         ids=ids([OPTIMIZERS[1], OPTIMIZERS[4], OPTIMIZERS[7]]))
def test_float32_trajectory_follows_pytorch_float32(name, kwargs):
    torch = pytest.importorskip("torch")
    opt, params = ours(name, kwargs, np.float32)
    got = trajectory(opt, params, STEPS)[-1]
    t_params = [torch.tensor(W0, dtype=torch.float32, requires_grad=True),
                torch.tensor(B0, dtype=torch.float32, requires_grad=True)]
    t_opt = getattr(torch.optim, name)(t_params, **kwargs)
    for _ in range(STEPS):
        for p, g in zip(t_params, gradients(*(q.detach().numpy() for q in t_params),
                                            sign(t_opt))):
            p.grad = torch.tensor(g.astype(np.float32))
        t_opt.step()
    for ours_p, theirs in zip(got, t_params):
        assert ours_p.dtype == np.float32
        np.testing.assert_allclose(ours_p, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS, ids=ids(OPTIMIZERS))
def test_state_dict_round_trip_continues_the_same_trajectory(name, kwargs):
    opt, params = ours(name, kwargs, groups=GROUPS)
    sched = optim.StepLR(opt, step_size=3, gamma=0.7)
    trajectory(opt, params, 7, sched)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    weights = [p.data.copy() for p in params]
    uninterrupted = trajectory(opt, params, 8, sched)

    restored = [nn.Parameter(w) for w in weights]
    opt2 = getattr(optim, name)([{"params": [p]} for p in restored], **kwargs)
    sched2 = optim.StepLR(opt2, step_size=3, gamma=0.7)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    resumed = trajectory(opt2, restored, 8, sched2)
    for a, b in zip(uninterrupted, resumed):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_state_dict_has_pytorchs_layout_and_is_a_copy():
    opt, params = ours("Adam", {"lr": 0.1, "amsgrad": True}, groups=GROUPS)
    trajectory(opt, params, 2)
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"][0]["lr"] == 0.02 and state["param_groups"][1]["lr"] == 0.1
    assert set(state["state"]) == {0, 1}
    assert set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert state["state"][0]["step"] == 2
    state["state"][0]["exp_avg"][...] = 123.0
    assert not np.any(opt.state[id(params[0])]["exp_avg"] == 123.0)


def test_state_dict_keys_match_pytorchs():
    torch = pytest.importorskip("torch")
    for name, kwargs in [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"amsgrad": True}),
                         ("AdamW", {}), ("Adagrad", {}), ("RMSprop", {"centered": True,
                                                                       "momentum": 0.1})]:
        opt, params = ours(name, kwargs)
        trajectory(opt, params, 1)
        t_param = torch.zeros(3, requires_grad=True)
        t_opt = getattr(torch.optim, name)([t_param], **kwargs)
        t_param.grad = torch.ones(3)
        t_opt.step()
        t_state = t_opt.state_dict()
        ours_state = opt.state_dict()
        assert set(ours_state["state"][0]) - {"step"} == set(t_state["state"][0]) - {"step"}
        assert set(ours_state["param_groups"][0]) <= set(t_state["param_groups"][0]), name


def test_load_state_dict_refuses_what_does_not_fit_and_changes_nothing():
    opt, params = ours("Adam", {"lr": 0.1})
    trajectory(opt, params, 1)
    state = opt.state_dict()
    other, _ = ours("Adam", {"lr": 0.1}, groups=GROUPS)
    with pytest.raises(ValueError, match=r"groups of \[2\] parameters, this optimizer \[1, 1\]"):
        other.load_state_dict(state)
    bad = copy.deepcopy(state)
    bad["state"][1]["exp_avg"] = np.zeros(5)
    fresh, _ = ours("Adam", {"lr": 0.5})
    with pytest.raises(ValueError, match=r"'exp_avg' has shape \(5,\), its parameter \(4,\)"):
        fresh.load_state_dict(bad)
    assert fresh.state == {} and fresh.param_groups[0]["lr"] == 0.5
    with pytest.raises(ValueError, match="expected a dict with keys"):
        fresh.load_state_dict({"state": {}})


def test_loaded_state_takes_the_parameters_dtype():
    opt, params = ours("SGD", {"lr": 0.1, "momentum": 0.9})
    trajectory(opt, params, 2)
    opt32, params32 = ours("SGD", {"lr": 0.1, "momentum": 0.9}, np.float32)
    opt32.load_state_dict(opt.state_dict())
    assert opt32.state[id(params32[0])]["momentum_buffer"].dtype == np.float32


def test_add_param_group_and_bad_options():
    w = nn.Parameter(np.zeros(3))
    opt = optim.AdamW([w], lr=0.1)
    v = nn.Parameter(np.zeros(2))
    opt.add_param_group({"params": [v], "lr": 0.01, "amsgrad": True})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["amsgrad"]
    assert opt.param_groups[1]["weight_decay"] == 0.01 and opt.param_groups[1]["betas"] == (0.9,
                                                                                            0.999)
    with pytest.raises(ValueError, match="appears twice"):
        opt.add_param_group({"params": [v]})
    with pytest.raises(TypeError, match="unknown hyper-parameter"):
        opt.add_param_group({"params": [nn.Parameter(np.zeros(1))], "momentum": 0.9})
    with pytest.raises(ValueError, match=r"AdamW: betas must be two numbers in \[0, 1\)"):
        optim.AdamW([nn.Parameter(np.zeros(1))], betas=(0.9, 1.5))


# -- schedulers ---------------------------------------------------------------------------------

SCHEDULERS = [
    ("StepLR", {"step_size": 4, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [3, 7, 7, 12], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("LinearLR", {"start_factor": 0.25, "end_factor": 0.9, "total_iters": 6}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 1 / (1 + epoch) ** 0.5}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.01}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5}),
    ("OneCycleLR", {"max_lr": [0.5, 0.2], "total_steps": 31}),
    ("OneCycleLR", {"max_lr": 0.5, "epochs": 3, "steps_per_epoch": 10, "pct_start": 0.25,
                    "anneal_strategy": "linear", "three_phase": True}),
]


def two_groups(make, torch=None):
    if torch is None:
        params = [nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(3))]
    else:
        params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    return make([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.05}],
                lr=0.1, momentum=0.9)


def lr_sequence(sched, opt, steps=30, metrics=None):
    seq = []
    for i in range(steps):
        seq.append((sched.get_last_lr(), [g["momentum"] for g in opt.param_groups]))
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[i])
    return seq


@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=ids(SCHEDULERS))
def test_scheduler_lrs_equal_pytorchs(name, kwargs):
    torch = pytest.importorskip("torch")
    opt = two_groups(optim.SGD)
    t_opt = two_groups(torch.optim.SGD, torch)
    got = lr_sequence(getattr(optim, name)(opt, **kwargs), opt)
    expected = lr_sequence(getattr(torch.optim.lr_scheduler, name)(t_opt, **kwargs), t_opt)
    assert got == expected


def test_one_cycle_cycles_adams_beta1_as_pytorch():
    torch = pytest.importorskip("torch")
    opt = optim.Adam([nn.Parameter(np.zeros(2))], lr=0.1)
    t_opt = torch.optim.Adam([torch.zeros(2, requires_grad=True)], lr=0.1)
    ours_sched = optim.OneCycleLR(opt, max_lr=0.3, total_steps=12)
    theirs = torch.optim.lr_scheduler.OneCycleLR(t_opt, max_lr=0.3, total_steps=12)
    for _ in range(12):
        assert opt.param_groups[0]["betas"] == t_opt.param_groups[0]["betas"]
        assert ours_sched.get_last_lr() == theirs.get_last_lr()
        opt.step(), t_opt.step(), ours_sched.step(), theirs.step()
    with pytest.raises(ValueError, match="more than total_steps=12"):
        ours_sched.step()


def test_warm_restarts_with_fractional_epochs_equal_pytorchs():
    torch = pytest.importorskip("torch")
    opt = two_groups(optim.SGD)
    t_opt = two_groups(torch.optim.SGD, torch)
    ours_sched = optim.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3)
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(t_opt, T_0=2, T_mult=3)
    for epoch in np.arange(0, 12, 0.25):
        ours_sched.step(float(epoch))
        theirs.step(float(epoch))
        assert ours_sched.get_last_lr() == theirs.get_last_lr()


def test_reduce_on_plateau_equals_pytorchs():
    torch = pytest.importorskip("torch")
    metrics = [1.0, 0.9, 0.9, 0.95, 0.91, 0.9, 0.8, 0.85, 0.85, 0.85, 0.85, 0.7] * 3
    for kwargs in [{"patience": 2, "factor": 0.5, "cooldown": 1, "min_lr": [0.02, 0.001]},
                   {"mode": "max", "patience": 1, "threshold": 0.05, "threshold_mode": "abs"}]:
        opt = two_groups(optim.SGD)
        t_opt = two_groups(torch.optim.SGD, torch)
        got = lr_sequence(optim.ReduceLROnPlateau(opt, **kwargs), opt, len(metrics), metrics)
        expected = lr_sequence(torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kwargs),
                               t_opt, len(metrics), metrics)
        assert got == expected


def make_sequences(lr, opt):
    """Warm-up, cosine, then steps; ``lr`` is nn.optim or torch.optim.lr_scheduler."""
    warmup = lr.LinearLR(opt, start_factor=0.1, total_iters=4)
    cosine = lr.CosineAnnealingLR(opt, T_max=6)
    step = lr.StepLR(opt, step_size=3, gamma=0.5)
    return lr.SequentialLR(opt, [warmup, cosine, step], milestones=[4, 11])


def test_sequential_lr_equals_pytorchs():
    torch = pytest.importorskip("torch")
    opt = two_groups(optim.SGD)
    t_opt = two_groups(torch.optim.SGD, torch)
    got = lr_sequence(make_sequences(optim, opt), opt)
    expected = lr_sequence(make_sequences(torch.optim.lr_scheduler, t_opt), t_opt)
    assert got == expected


class Halving:
    """A callable object: its attributes go into LambdaLR's state_dict."""

    def __init__(self):
        self.every = 4

    def __call__(self, epoch):
        return 0.5 ** (epoch // self.every)


RESUMABLE = SCHEDULERS + [("LambdaLR", {"lr_lambda": Halving()})]


@pytest.mark.parametrize("name, kwargs", RESUMABLE, ids=ids(RESUMABLE))
def test_scheduler_state_dict_round_trip(name, kwargs):
    opt = two_groups(optim.SGD)
    sched = getattr(optim, name)(opt, **kwargs)
    lr_sequence(sched, opt, 9)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    rest = lr_sequence(sched, opt, 20)

    opt2 = two_groups(optim.SGD)
    kwargs2 = copy.deepcopy(kwargs)
    sched2 = getattr(optim, name)(opt2, **kwargs2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    assert lr_sequence(sched2, opt2, 20) == rest


def test_plateau_and_sequential_state_dict_round_trip():
    metrics = [1.0, 0.9, 0.9, 0.95, 0.91, 0.9, 0.8, 0.85, 0.85, 0.85, 0.85, 0.7] * 2
    opt = two_groups(optim.SGD)
    sched = optim.ReduceLROnPlateau(opt, patience=1)
    lr_sequence(sched, opt, 5, metrics)
    states = opt.state_dict(), sched.state_dict()
    rest = lr_sequence(sched, opt, 19, metrics[5:])
    opt2 = two_groups(optim.SGD)
    sched2 = optim.ReduceLROnPlateau(opt2, patience=1)
    opt2.load_state_dict(states[0])
    sched2.load_state_dict(states[1])
    assert lr_sequence(sched2, opt2, 19, metrics[5:]) == rest

    opt = two_groups(optim.SGD)
    sched = make_sequences(optim, opt)
    lr_sequence(sched, opt, 6)
    states = opt.state_dict(), sched.state_dict()
    rest = lr_sequence(sched, opt, 15)
    opt2 = two_groups(optim.SGD)
    sched2 = make_sequences(optim, opt2)
    opt2.load_state_dict(states[0])
    sched2.load_state_dict(states[1])
    assert lr_sequence(sched2, opt2, 15) == rest


def test_scheduler_errors_are_named():
    opt = two_groups(optim.SGD)
    with pytest.raises(ValueError, match="CosineAnnealingLR: T_max must be a positive integer"):
        optim.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="OneCycleLR: give total_steps"):
        optim.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="max_lr has 3 values for 2 parameter groups"):
        optim.OneCycleLR(opt, max_lr=[0.1, 0.2, 0.3], total_steps=10)
    with pytest.raises(ValueError, match="cycle_momentum needs an optimizer with momentum"):
        optim.OneCycleLR(optim.Adagrad([nn.Parameter(np.zeros(1))]), max_lr=0.1, total_steps=5)
    with pytest.raises(ValueError, match="2 schedulers need 1 milestones, got 0"):
        optim.SequentialLR(opt, [optim.StepLR(opt, 2), optim.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        optim.SequentialLR(opt, [optim.ReduceLROnPlateau(opt)], milestones=[])
    with pytest.raises(KeyError, match="no 'initial_lr'"):
        optim.StepLR(optim.SGD([nn.Parameter(np.zeros(1))], lr=0.1), 2, last_epoch=4)
    with pytest.raises(TypeError, match="expected an nn.optim optimizer"):
        optim.ExponentialLR(object(), gamma=0.5)


# -- gradient clipping --------------------------------------------------------------------------


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_equals_pytorchs(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grads = [RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal(2)]
    params = [nn.Parameter(np.zeros_like(g)) for g in grads]
    for p, g in zip(params[:2], grads):  # the third parameter has no gradient
        p.grad = ag.Tensor(g.copy())
    t_params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(t_params[:2], grads):
        p.grad = torch.tensor(g)
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type)
    assert isinstance(total, ag.Tensor)
    np.testing.assert_allclose(total.item(), t_total.item(), rtol=1e-14)
    for p, t in zip(params[:2], t_params):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-14)
    assert params[2].grad is None


def test_clip_grad_norm_scales_into_the_ball_and_flags_nonfinite():
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    p.grad = ag.Tensor(np.array([3.0, 4.0], dtype=np.float32))
    total = nn.utils.clip_grad_norm_([p], max_norm=1.0)
    assert float(total) == 5.0 and p.grad.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(p.grad.data), 1.0, rtol=1e-5)
    p.grad = ag.Tensor(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total 2.0-norm .* inf"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert float(nn.utils.clip_grad_norm_([], 1.0)) == 0.0


def test_clip_grad_value_equals_pytorchs():
    torch = pytest.importorskip("torch")
    g = RNG.standard_normal((4, 5)) * 3
    p = nn.Parameter(np.zeros_like(g))
    p.grad = ag.Tensor(g.copy())
    t = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
    t.grad = torch.tensor(g)
    nn.utils.clip_grad_value_([p], 1.5)
    torch.nn.utils.clip_grad_value_([t], 1.5)
    np.testing.assert_array_equal(p.grad.data, t.grad.numpy())
    with pytest.raises(ValueError, match="clip_value must be >= 0"):
        nn.utils.clip_grad_value_([p], -1.0)


def test_multistep_state_survives_a_json_round_trip():
    import json

    opt = two_groups(optim.SGD)
    sched = optim.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
    lr_sequence(sched, opt, 1)
    state = json.loads(json.dumps(sched.state_dict()))  # milestone keys become strings
    rest = lr_sequence(sched, opt, 5)
    opt2 = two_groups(optim.SGD)
    sched2 = optim.MultiStepLR(opt2, milestones=[2, 4], gamma=0.5)
    for group, lr in zip(opt2.param_groups, state["_last_lr"]):
        group["lr"] = lr
    sched2.load_state_dict(state)
    assert lr_sequence(sched2, opt2, 5) == rest


@pytest.mark.parametrize("name, kwargs", [OPTIMIZERS[1], OPTIMIZERS[4], OPTIMIZERS[7],
                                          OPTIMIZERS[9], OPTIMIZERS[11]],
                         ids=ids([OPTIMIZERS[1], OPTIMIZERS[4], OPTIMIZERS[7], OPTIMIZERS[9],
                                  OPTIMIZERS[11]]))
def test_training_begun_in_pytorch_continues_here(name, kwargs):
    torch = pytest.importorskip("torch")
    t_params = [torch.tensor(W0, requires_grad=True), torch.tensor(B0, requires_grad=True)]
    t_opt = getattr(torch.optim, name)([{"params": [p]} for p in t_params], **kwargs)
    for step in range(STEPS):
        if step == 6:
            params = [nn.Parameter(p.detach().numpy().copy()) for p in t_params]
            opt = getattr(optim, name)([{"params": [p]} for p in params], **kwargs)
            opt.load_state_dict(t_opt.state_dict())
            ours_rest = trajectory(opt, params, STEPS - 6)
        for p, g in zip(t_params, gradients(*(q.detach().numpy() for q in t_params))):
            p.grad = torch.tensor(g)
        t_opt.step()
    for ours_p, theirs in zip(ours_rest[-1], t_params):
        np.testing.assert_allclose(ours_p, theirs.detach().numpy(), rtol=1e-12, atol=1e-13)
