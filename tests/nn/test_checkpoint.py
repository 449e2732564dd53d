"""nn.save / nn.load of training checkpoints: dicts of models, optimizer and scheduler states,
numbers, strings and nested containers; resuming training from one."""

import json
import math
import zipfile

import numpy as np
import pytest

import autograd_core as ag
import nn


class StandInOptimizer:
    """Holds a state_dict shaped as torch.optim's: int keys, arrays, lists of param ids."""

    def __init__(self, n_params):
        self.state = {i: {"step": np.float32(i + 1), "exp_avg": np.full((2, 3), i, np.float64)}
                      for i in range(n_params)}
        self.param_groups = [{"lr": 0.01, "betas": (0.9, 0.999), "weight_decay": 0.0,
                              "params": list(range(n_params))}]

    def state_dict(self):
        return {"state": self.state, "param_groups": self.param_groups}


class StandInScheduler:
    def state_dict(self):
        return {"last_epoch": 4, "best": math.inf, "_last_lr": [0.001], "mode": "min"}


def make_model():
    ag.manual_seed(1)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def test_a_checkpoint_round_trips_every_kind_of_value(tmp_path):
    model = make_model().eval()
    optimizer, scheduler = StandInOptimizer(4), StandInScheduler()
    extras = {"epoch": 3, "losses": [0.5, float("nan"), -math.inf, 1e-300], "name": "run-1",
              "nothing": None, "flag": False, "shape": (2, 3), "seed": np.int64(7),
              "weights": np.arange(6, dtype=np.int16).reshape(2, 3).T,
              "odd keys": {1: "one", 2.5: "float", None: "none", False: "bool", "$x": "dollar"},
              "deep": {"a": [{"b": np.float32(1.5)}, ()]}}
    path = tmp_path / "ckpt.nnz"
    nn.save({"model": model, "optimizer": optimizer, "scheduler": scheduler, **extras}, path)
    ckpt = nn.load(path)
    assert list(ckpt) == ["model", "optimizer", "scheduler", *extras]
    x = ag.randn(5, 3)
    assert isinstance(ckpt["model"], nn.Sequential) and not ckpt["model"].training
    np.testing.assert_array_equal(ckpt["model"](x).data, model(x).data)
    assert_same(ckpt["optimizer"], optimizer.state_dict())
    assert_same(ckpt["scheduler"], scheduler.state_dict())
    for key, value in extras.items():
        assert_same(ckpt[key], value)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        meta = json.loads(archive.read("model.json"))
    assert "model/0.weight.npy" in names and "optimizer/state/3/exp_avg.npy" in names
    assert meta["content"]["optimizer"]["$state_of"] == "StandInOptimizer"


def test_a_state_dict_checkpoint_loads_the_pytorch_way(tmp_path):
    model, optimizer = make_model(), StandInOptimizer(2)
    nn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 1},
            tmp_path / "ckpt.nnz")
    ckpt = nn.load(tmp_path / "ckpt.nnz")
    fresh = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    fresh.load_state_dict(ckpt["model"])
    x = ag.randn(2, 3)
    np.testing.assert_array_equal(fresh(x).data, model(x).data)
    assert_same(ckpt["optimizer"], optimizer.state_dict())


class Undescribable(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)


def test_an_undescribable_module_in_a_checkpoint_comes_back_as_its_state_dict(tmp_path):
    model = Undescribable()
    nn.save({"model": model, "epoch": 2}, tmp_path / "ckpt.nnz")
    ckpt = nn.load(tmp_path / "ckpt.nnz")
    assert list(ckpt["model"]) == ["fc.weight", "fc.bias"]
    fresh = Undescribable()
    fresh.load_state_dict(ckpt["model"])
    np.testing.assert_array_equal(fresh.fc.weight.data, model.fc.weight.data)


def test_saving_an_optimizer_alone_and_reading_checkpoints_as_weights(tmp_path):
    optimizer = StandInOptimizer(1)
    nn.save(optimizer, tmp_path / "opt.nnz")
    assert_same(nn.load(tmp_path / "opt.nnz"), optimizer.state_dict())
    with pytest.raises(nn.ModelFileError, match="holds a checkpoint.*nn.load"):
        nn.load_state_dict(tmp_path / "opt.nnz")


def test_values_that_cannot_be_stored_are_named(tmp_path):
    with pytest.raises(TypeError, match=r"scheduler/lr_lambda is a function"):
        nn.save({"scheduler": {"lr_lambda": lambda e: 0.9 ** e}}, tmp_path / "c.nnz")
    with pytest.raises(TypeError, match=r"a/0 has dtype <U1"):
        nn.save({"a": [np.array(["x"])]}, tmp_path / "c.nnz")
    with pytest.raises(TypeError, match=r"x has a key of type tuple"):
        nn.save({"x": {(1, 2): 3}}, tmp_path / "c.nnz")
    deep = []
    for _ in range(150):
        deep = [deep]
    with pytest.raises(TypeError, match="nested more than 100 levels"):
        nn.save({"deep": deep}, tmp_path / "c.nnz")
    with pytest.raises(TypeError, match="expected an nn.Module"):
        nn.save(3, tmp_path / "c.nnz")
    assert list(tmp_path.iterdir()) == []


def train_epochs(model, optimizer, scheduler, x, y, epochs):
    losses = []
    loss_fn = nn.MSELoss()
    for _ in range(epochs):
        for start in range(0, len(x), 8):
            optimizer.zero_grad()
            loss = loss_fn(model(x[start:start + 8]), y[start:start + 8])
            loss.backward()
            optimizer.step()
            losses.append(float(loss.data))
        scheduler.step()
    return losses


@pytest.mark.parametrize("make_optimizer", [
    lambda params: nn.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda params: nn.optim.Adam(params, lr=0.01, weight_decay=1e-3),
], ids=["sgd-momentum", "adam"])
def test_resuming_from_a_checkpoint_continues_the_loss_curve_exactly(tmp_path, make_optimizer):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3)).astype(np.float32)
    y = rng.standard_normal((32, 2)).astype(np.float32)

    def start():
        model = make_model()
        optimizer = make_optimizer(model.parameters())
        return model, optimizer, nn.optim.StepLR(optimizer, step_size=2, gamma=0.5)

    uninterrupted = train_epochs(*start(), x, y, epochs=6)

    model, optimizer, scheduler = start()
    first_half = train_epochs(model, optimizer, scheduler, x, y, epochs=3)
    path = tmp_path / "ckpt.nnz"
    nn.save({"model": model, "optimizer": optimizer, "scheduler": scheduler, "epoch": 3}, path)
    del model, optimizer, scheduler

    ckpt = nn.load(path)
    model = ckpt["model"]
    optimizer = make_optimizer(model.parameters())
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler = nn.optim.StepLR(optimizer, step_size=2, gamma=0.5)
    scheduler.load_state_dict(ckpt["scheduler"])
    assert ckpt["epoch"] == 3
    second_half = train_epochs(model, optimizer, scheduler, x, y, epochs=3)
    assert first_half + second_half == uninterrupted
