"""fit's Keras options (validation_split, class_weight), the Keras names of losses, optimizers
and metrics, and the ModelCheckpoint callback."""

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn.train import fit


def blobs(n=50, seed=0):
    """Points of the plane, labelled by how many of their two coordinates are positive."""
    x = np.random.default_rng(seed).standard_normal((n, 2)).astype(np.float32)
    return x, (x > 0).sum(axis=1)


def model_and_opt(seed=0):
    ag.manual_seed(seed)
    model = nn.MLP([2, 8, 3])
    return model, nn.optim.SGD(model.parameters(), lr=0.1)


def same_weights(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a.state_dict().values(),
                                                    b.state_dict().values()))


def test_validation_split_holds_out_the_last_fraction_before_shuffling():
    x, y = blobs()
    a, opt_a = model_and_opt()
    split = fit(a, nn.CrossEntropyLoss(), opt_a, (x, y), epochs=3, batch_size=8,
                validation_split=0.2, metrics=["acc"], verbose=0, seed=3)
    b, opt_b = model_and_opt()
    explicit = fit(b, nn.CrossEntropyLoss(), opt_b, (x[:40], y[:40]), epochs=3, batch_size=8,
                   validation_data=(x[40:], y[40:]), metrics=["acc"], verbose=0, seed=3)
    assert split.history == explicit.history
    assert list(split.history) == ["loss", "acc", "val_loss", "val_acc"]
    assert same_weights(a, b)


def test_validation_split_errors():
    x, y = blobs(4)
    model, opt = model_and_opt()
    loss = nn.CrossEntropyLoss()
    with pytest.raises(ValueError, match="not both"):
        fit(model, loss, opt, (x, y), validation_split=0.5, validation_data=(x, y), verbose=0)
    with pytest.raises(ValueError, match=r"validation_split must be a number in \[0, 1\)"):
        fit(model, loss, opt, (x, y), validation_split=1.0, verbose=0)
    with pytest.raises(ValueError, match="leaves 0 for training and 4 for validation"):
        fit(model, loss, opt, (x, y), validation_split=0.8, verbose=0)
    with pytest.raises(TypeError, match="validation_split needs data as an"):
        fit(model, loss, opt, nn.data.DataLoader(x, y), validation_split=0.5, verbose=0)


def test_class_weight_scales_each_samples_loss():
    x, y = blobs(12)
    class_weight = {0: 2.0, 2: 0.25}  # class 1 keeps weight 1
    model, opt = model_and_opt()
    fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=1, batch_size=12, shuffle=False,
        class_weight=class_weight, verbose=0)

    ref, ref_opt = model_and_opt()  # the same step written out: mean_i w_i l_i
    weights = np.array([class_weight.get(int(c), 1.0) for c in y])
    per_sample = nn.CrossEntropyLoss(reduction="none")(ref(x), y)
    ref_opt.zero_grad()
    ((per_sample * weights).sum() / len(y)).backward()
    ref_opt.step()
    for u, v in zip(model.state_dict().values(), ref.state_dict().values()):
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-7)

    ones, opt1 = model_and_opt()
    plain, opt2 = model_and_opt()
    h1 = fit(ones, nn.CrossEntropyLoss(), opt1, (x, y), epochs=2, batch_size=5, seed=1,
             class_weight={0: 1.0, 1: 1.0, 2: 1.0}, verbose=0)
    h2 = fit(plain, nn.CrossEntropyLoss(), opt2, (x, y), epochs=2, batch_size=5, seed=1,
             verbose=0)
    assert h1["loss"] == pytest.approx(h2["loss"], rel=1e-6)


def test_class_weight_with_binary_and_one_hot_targets_in_the_keras_style():
    x, y = blobs(30)
    binary = (y == 0).astype(np.float32).reshape(-1, 1)
    ag.manual_seed(0)
    model = nn.MLP([2, 4, 1]).compile("adamw", "binary_crossentropy", metrics=["acc"])
    history = model.fit(x, binary, epochs=2, batch_size=10, class_weight={1: 3.0},
                        validation_split=0.2, verbose=0)
    assert list(history.history) == ["loss", "acc", "val_loss", "val_acc"]
    one_hot = np.eye(3, dtype=np.float32)[y]
    ag.manual_seed(0)
    model = nn.MLP([2, 4, 3]).compile("sgd", "categorical_crossentropy")
    assert len(model.fit(x, one_hot, epochs=1, class_weight={2: 0.5}, verbose=0)) == 1


def test_class_weight_is_refused_where_it_cannot_apply():
    x, y = blobs(10)
    model, opt = model_and_opt()

    def plain_function(out, target):
        return ((out - target) ** 2).mean()

    with pytest.raises(ValueError, match="class_weight needs an nn loss.*got function"):
        fit(model, plain_function, opt, (x, y), class_weight={0: 2.0}, verbose=0)
    with pytest.raises(ValueError, match="cannot be combined with the loss's own class weight"):
        fit(model, nn.CrossEntropyLoss(weight=[1.0, 2.0, 3.0]), opt, (x, y),
            class_weight={0: 2.0}, verbose=0)
    with pytest.raises(ValueError, match="class_weight needs class labels"):
        fit(model, nn.MSELoss(), opt, (x, x[:, :1] * 0.3), class_weight={0: 2.0}, verbose=0)
    with pytest.raises(TypeError, match="class_weight must be a dict from integer class"):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), class_weight={"cat": 2.0}, verbose=0)
    with pytest.raises(ValueError, match="class weights must be finite and >= 0"):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), class_weight={0: -1}, verbose=0)


@pytest.mark.parametrize("name, cls, kwargs", [
    ("sparse_categorical_crossentropy", nn.CrossEntropyLoss, {}),
    ("categorical_crossentropy", nn.CrossEntropyLoss, {}),
    ("binary_crossentropy", nn.BCEWithLogitsLoss, {}),
    ("mae", nn.L1Loss, {}), ("mean_absolute_error", nn.L1Loss, {}),
    ("MSE", nn.MSELoss, {}), ("mean_squared_error", nn.MSELoss, {}),
    ("huber", nn.HuberLoss, {"delta": 1.0}),
    ("kld", nn.KLDivLoss, {"reduction": "batchmean"}),
    ("kl_divergence", nn.KLDivLoss, {"reduction": "batchmean"}),
])
def test_keras_loss_names(name, cls, kwargs):
    loss = nn.train.get_loss(name)
    assert type(loss) is cls
    assert all(getattr(loss, k) == v for k, v in kwargs.items())


def test_keras_optimizer_and_metric_names():
    model, _ = model_and_opt()
    model.compile("adamw", "mse", metrics=["mae", "mean_squared_error"])
    opt = model._compiled.optimizer
    assert isinstance(opt, nn.optim.AdamW)
    assert opt.param_groups[0]["lr"] == 1e-3 and opt.param_groups[0]["weight_decay"] == 4e-3
    x = np.linspace(-1, 1, 20, dtype=np.float32).reshape(10, 2)
    target = np.zeros((10, 3), dtype=np.float32)
    logs = model.evaluate(x, target)
    out = model.predict(x)
    assert logs["mae"] == pytest.approx(np.abs(out).mean(), rel=1e-6)
    assert logs["mean_squared_error"] == pytest.approx(logs["loss"], rel=1e-6)
    assert nn.metrics.mean_absolute_error([1.0, 2.0], [[1.5], [2.0]]) == 0.25
    with pytest.raises(ValueError, match=r"y_true has shape \(2,\) but y_pred \(3,\)"):
        nn.metrics.mean_squared_error([1.0, 2.0], [1.0, 2.0, 3.0])


class ScriptedLogs(nn.Callback):
    """Replaces the epoch's val_loss with a scripted sequence (callbacks run in order)."""

    def __init__(self, values):
        self.values = values

    def on_epoch_end(self, epoch, logs, model):
        logs["val_loss"] = self.values[epoch]


def test_model_checkpoint_keeps_the_best_model(tmp_path):
    x, y = blobs(20)
    model, opt = model_and_opt()
    path = tmp_path / "best.nnz"
    snapshots = []

    class Snapshot(nn.Callback):
        def on_epoch_end(self, epoch, logs, model):
            snapshots.append(model.state_dict())

    checkpoint = nn.ModelCheckpoint(path, save_best_only=True)
    fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=5, verbose=0,
        callbacks=[ScriptedLogs([3.0, 2.0, 2.5, 1.0, 1.5]), Snapshot(), checkpoint])
    assert checkpoint.best == 1.0 and checkpoint.best_epoch == 3
    assert checkpoint.saved == [str(path)] * 3
    best = nn.load(path)
    assert all(np.array_equal(v, best.state_dict()[k]) for k, v in snapshots[3].items())
    assert not list(tmp_path.glob("*.tmp"))


def test_model_checkpoint_formats_paths_every_period(tmp_path):
    x, y = blobs(20)
    model, opt = model_and_opt()
    checkpoint = nn.ModelCheckpoint(tmp_path / "run" / "ckpt-{epoch:02d}-{loss:.3f}.nnz",
                                    period=2, save_weights_only=True, verbose=1)
    history = fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=5, verbose=0,
                  callbacks=[checkpoint])
    names = [p.split("/")[-1] for p in checkpoint.saved]
    assert names == [f"ckpt-{e:02d}-{history['loss'][e - 1]:.3f}.nnz" for e in (2, 4)]
    weights = nn.load_state_dict(checkpoint.saved[-1])
    assert list(weights) == list(model.state_dict())


def test_model_checkpoint_in_keras_fit_with_accuracy_mode(tmp_path):
    x, y = blobs(30)
    ag.manual_seed(0)
    model = nn.MLP([2, 8, 3]).compile("adam", "sparse_categorical_crossentropy",
                                      metrics=["accuracy"])
    checkpoint = nn.ModelCheckpoint(str(tmp_path / "m-{epoch}.nnz"), monitor="val_accuracy",
                                    save_best_only=True)
    assert checkpoint.mode == "max"
    model.fit(x, y, epochs=3, validation_split=0.3, callbacks=[checkpoint], verbose=0)
    assert checkpoint.saved and checkpoint.saved[0].endswith("m-1.nnz")


def test_model_checkpoint_errors(tmp_path):
    x, y = blobs(10)
    model, opt = model_and_opt()
    with pytest.raises(ValueError, match="save_freq must be 'epoch'.*period=N"):
        nn.ModelCheckpoint(tmp_path / "a.nnz", save_freq=100)
    with pytest.raises(ValueError, match="period must be a positive integer"):
        nn.ModelCheckpoint(tmp_path / "a.nnz", period=0)
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        nn.ModelCheckpoint(tmp_path / "a.nnz", mode="best")
    with pytest.raises(ValueError, match=r"cannot fill in filepath .*\{val_acc\}"):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), verbose=0,
            callbacks=[nn.ModelCheckpoint(str(tmp_path / "{val_acc}.nnz"))])
    with pytest.raises(KeyError, match="ModelCheckpoint: monitored value 'val_loss'.*"
                                       "validation_split"):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), verbose=0,
            callbacks=[nn.ModelCheckpoint(tmp_path / "a.nnz", save_best_only=True)])


def test_model_checkpoint_with_optimizer_resumes_the_same_run(tmp_path):
    x, y = blobs(40)

    def start(seed=0):
        ag.manual_seed(seed)
        model = nn.MLP([2, 8, 3])
        opt = nn.optim.Adam(model.parameters(), lr=0.05)
        return model, opt, nn.optim.StepLR(opt, step_size=1, gamma=0.7)

    class StepScheduler(nn.Callback):
        def __init__(self, scheduler):
            self.scheduler = scheduler

        def on_epoch_end(self, epoch, logs, model):
            self.scheduler.step()

    model, opt, sched = start()
    straight = fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=4, verbose=0, shuffle=False,
                   callbacks=[StepScheduler(sched)])

    model, opt, sched = start()
    checkpoint = nn.ModelCheckpoint(tmp_path / "ckpt-{epoch}.nnz", monitor="loss",
                                    optimizer=opt, scheduler=sched)
    first = fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=2, verbose=0, shuffle=False,
                callbacks=[StepScheduler(sched), checkpoint])
    ckpt = nn.load(tmp_path / "ckpt-2.nnz")
    assert ckpt["epoch"] == 2
    model = ckpt["model"]
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    opt.load_state_dict(ckpt["optimizer"])
    sched = nn.optim.StepLR(opt, step_size=1, gamma=0.7)
    sched.load_state_dict(ckpt["scheduler"])
    rest = fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=2, verbose=0, shuffle=False,
               callbacks=[StepScheduler(sched)])
    assert first["loss"] + rest["loss"] == straight["loss"]
    with pytest.raises(ValueError, match="save_weights_only=True saves the model's weights only"):
        nn.ModelCheckpoint(tmp_path / "a.nnz", save_weights_only=True, optimizer=opt)
