"""The PyTorch-style losses and options against torch.nn (values and gradients, every
reduction), float64 gradient checks, Keras-style sample weighting, and their errors."""

import numpy as np
import pytest

import autograd_core as ag
import nn

rng = np.random.default_rng(1)
N, C = 6, 4
LOGITS = rng.standard_normal((N, C)) * 2
LABELS = np.array([0, 1, 3, 1, 2, 1])
WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])
PRED, TARGET = rng.standard_normal((N, C)), rng.standard_normal((N, C))
PROBS = rng.dirichlet(np.ones(C), N)
PROBS[0, 1] = 0.0  # a zero target probability: KL's y log y is 0 there
PROBS[0] /= PROBS[0].sum()
LOG_Q = np.log(rng.dirichlet(np.ones(C), N))
BINARY = (rng.random((N, C)) < 0.4).astype(float)
REDUCTIONS = ["mean", "sum", "none"]

# (name, kwargs, prediction, target, target is differentiable)
CASES = [
    ("CrossEntropyLoss", {}, LOGITS, LABELS, False),
    ("CrossEntropyLoss", {"weight": WEIGHT}, LOGITS, LABELS, False),
    ("CrossEntropyLoss", {"ignore_index": 1}, LOGITS, LABELS, False),
    ("CrossEntropyLoss", {"label_smoothing": 0.2}, LOGITS, LABELS, False),
    ("CrossEntropyLoss", {"weight": WEIGHT, "ignore_index": 3, "label_smoothing": 0.3},
     LOGITS, LABELS, False),
    ("CrossEntropyLoss", {"weight": WEIGHT, "label_smoothing": 0.1}, LOGITS, PROBS, True),
    ("NLLLoss", {}, LOG_Q, LABELS, False),
    ("NLLLoss", {"weight": WEIGHT, "ignore_index": 2}, LOG_Q, LABELS, False),
    ("L1Loss", {}, PRED, TARGET, True),
    ("SmoothL1Loss", {}, PRED, TARGET, True),
    ("SmoothL1Loss", {"beta": 0.4}, PRED, TARGET, True),
    ("SmoothL1Loss", {"beta": 0.0}, PRED, TARGET, True),
    ("HuberLoss", {"delta": 0.6}, PRED, TARGET, True),
    ("HuberLoss", {}, PRED * 3, TARGET, True),
    ("KLDivLoss", {}, LOG_Q, PROBS, True),
    ("KLDivLoss", {"log_target": True}, LOG_Q, np.log(rng.dirichlet(np.ones(C), N)), True),
    ("BCEWithLogitsLoss", {"pos_weight": np.array([1.0, 3.0, 0.5, 2.0])}, LOGITS, BINARY, True),
    ("BCEWithLogitsLoss", {"weight": rng.random((N, 1)), "pos_weight": np.array([2.5])},
     LOGITS, PROBS, True),
]


def case_id(case):
    return f"{case[0]}-{'-'.join(case[1]) or 'plain'}-{'probs' if case[3] is PROBS else ''}"


def torch_kwargs(torch, kwargs):
    return {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def reductions(name):
    return REDUCTIONS + (["batchmean"] if name == "KLDivLoss" else [])


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_values_and_gradients_equal_pytorchs(case):
    torch = pytest.importorskip("torch")
    name, kwargs, pred, target, target_grad = case
    for reduction in reductions(name):
        x = ag.tensor(pred, requires_grad=True)
        y = ag.tensor(target, requires_grad=True) if target_grad else target
        out = getattr(nn, name)(reduction=reduction, **kwargs)(x, y)
        upstream = rng.standard_normal(out.shape)
        (out * upstream).sum().backward()

        tx = torch.tensor(pred, requires_grad=True)
        ty = torch.tensor(target, requires_grad=target_grad)
        t_out = getattr(torch.nn, name)(reduction=reduction, **torch_kwargs(torch, kwargs))(tx, ty)
        (t_out * torch.tensor(upstream)).sum().backward()

        np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=f"{name} {reduction}")
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-11, atol=1e-14,
                                   err_msg=f"{name} {reduction} d/dprediction")
        if target_grad:
            # at a zero target probability KL's d/dy is undefined: torch gives NaN, we -x
            defined = ~np.isnan(ty.grad.numpy())
            assert defined.sum() >= defined.size - 1
            np.testing.assert_allclose(y.grad.data[defined], ty.grad.numpy()[defined],
                                       rtol=1e-11, atol=1e-14,
                                       err_msg=f"{name} {reduction} d/dtarget")


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_gradcheck_in_float64(case):
    name, kwargs, pred, target, target_grad = case
    if target is PROBS:  # central differences must not step across KL's y = 0
        target = np.where(target == 0, 0.05, target)
    for reduction in ["mean", reductions(name)[-1]]:
        loss_fn = getattr(nn, name)(reduction=reduction, **kwargs)
        if target_grad:
            ag.gradcheck(lambda p, t, fn=loss_fn: fn(p, t), [pred, target])
        else:
            ag.gradcheck(lambda p, fn=loss_fn: fn(p, target), [pred])


def test_plain_labels_keep_the_fused_op():
    x = ag.tensor(LOGITS, requires_grad=True)
    assert nn.CrossEntropyLoss()(x, LABELS).grad_fn.name == "softmax_cross_entropy"
    assert nn.CrossEntropyLoss(ignore_index=7)(x, LABELS).grad_fn.name == \
        "softmax_cross_entropy"  # nothing to ignore
    assert nn.CrossEntropyLoss(ignore_index=1)(x, LABELS).grad_fn.name != \
        "softmax_cross_entropy"


def test_float32_losses_stay_float32():
    x = ag.tensor(LOGITS.astype(np.float32), requires_grad=True)
    for loss in [nn.CrossEntropyLoss(weight=WEIGHT, label_smoothing=0.1), nn.NLLLoss(WEIGHT),
                 nn.BCEWithLogitsLoss(pos_weight=np.ones(C)), nn.KLDivLoss("batchmean"),
                 nn.HuberLoss(), nn.SmoothL1Loss(), nn.L1Loss()]:
        target = LABELS if isinstance(loss, (nn.CrossEntropyLoss, nn.NLLLoss)) else PROBS
        out = loss(x, target)
        out.backward()
        assert out.dtype == np.float32 and x.grad.dtype == np.float32, loss


def test_sample_weights_are_keras_style_and_ones_give_the_plain_loss():
    x = ag.tensor(PRED)
    weights = rng.random(N)
    for loss in [nn.MSELoss(), nn.L1Loss(reduction="sum"), nn.KLDivLoss("batchmean"),
                 nn.CrossEntropyLoss(), nn.CrossEntropyLoss(ignore_index=1),
                 nn.BCEWithLogitsLoss()]:
        if isinstance(loss, nn.CrossEntropyLoss):
            target = LABELS
        elif isinstance(loss, nn.KLDivLoss):
            target = PROBS
        else:
            target = BINARY
        plain = loss(x, target).item()
        assert loss.weighted(x, target, np.ones(N)).item() == pytest.approx(plain, rel=1e-12)
        per_sample = type(loss)(reduction="none", **(
            {"ignore_index": 1} if getattr(loss, "ignore_index", -100) == 1 else {}))(x, target)
        values = per_sample.data.reshape(N, -1)
        values = values.sum(axis=1) if loss.reduction in ("sum", "batchmean") \
            else values.mean(axis=1)
        counted = np.sum(LABELS != 1) if getattr(loss, "ignore_index", -100) == 1 else N
        expected = (values * weights).sum() / (1 if loss.reduction == "sum" else counted)
        assert loss.weighted(x, target, weights).item() == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="cannot be combined with the loss's own class weight"):
        nn.CrossEntropyLoss(weight=WEIGHT).weighted(x, LABELS, weights)
    with pytest.raises(ag.ShapeError, match="6 samples but sample weights of shape"):
        nn.MSELoss().weighted(x, TARGET, np.ones(3))


def test_errors_name_the_loss():
    x = ag.tensor(LOGITS)
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: label 4 is out of range for 4 "
                                         r"classes .*ignore_index=-100"):
        nn.CrossEntropyLoss()(x, [0, 1, 2, 3, 4, 0])
    with pytest.raises(ag.ShapeError, match="NLLLoss: weight has 3 entries for 4 classes"):
        nn.NLLLoss(weight=[1.0, 2.0, 3.0])(x, LABELS)
    with pytest.raises(ValueError, match=r"label_smoothing must be a probability in \[0, 1\]"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="KLDivLoss: reduction must be 'mean', 'batchmean', "
                                         "'sum' or 'none'"):
        nn.KLDivLoss(reduction="average")
    with pytest.raises(ValueError, match="HuberLoss: delta must be > 0"):
        nn.HuberLoss(delta=0)
    with pytest.raises(ag.ShapeError, match=r"BCEWithLogitsLoss: pos_weight of shape \(3,\) "
                                            r"does not broadcast"):
        nn.BCEWithLogitsLoss(pos_weight=np.ones(3))(x, BINARY)
    with pytest.raises(ag.ShapeError, match=r"NLLLoss: log-probabilities have shape \(6, 4\), "
                                            r"so the target must be 6 integer labels"):
        nn.NLLLoss()(x, PROBS)
    assert repr(nn.CrossEntropyLoss(ignore_index=0, label_smoothing=0.1)) == \
        "CrossEntropyLoss(reduction='mean', ignore_index=0, label_smoothing=0.1)"


def test_huber_second_derivatives():
    for loss_fn in [nn.HuberLoss(delta=0.6), nn.SmoothL1Loss(beta=0.4)]:
        ag.gradgradcheck(lambda p, t, fn=loss_fn: fn(p, t), [PRED, TARGET])
