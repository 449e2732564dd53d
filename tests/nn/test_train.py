"""nn.train: fit / evaluate / predict, History, EarlyStopping and the Keras-style Module methods."""

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn.data import DataLoader
from nn.train import Callback, EarlyStopping, History, evaluate, fit, predict


def blobs(n=120, seed=0):
    """Three well separated Gaussian blobs in 2-D: (x float32 (n, 2), y int64 (n,))."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    x = centres[y] + 0.5 * rng.standard_normal((n, 2))
    return x.astype(np.float32), y


def small_model(seed=0, dropout=0.0):
    ag.manual_seed(seed)
    return nn.MLP([2, 16, 3], dropout=dropout)


class Snapshots(Callback):
    """Records a copy of the weights after every epoch."""

    def __init__(self):
        self.states = []

    def on_epoch_end(self, epoch, logs, model):
        self.states.append(model.state_dict())


def test_history_records_loss_metrics_and_validation():
    x, y = blobs()
    model = small_model()
    history = fit(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters(), lr=0.05),
                  (x[:90], y[:90]), epochs=5, batch_size=16, validation_data=(x[90:], y[90:]),
                  metrics=["accuracy"], verbose=0, seed=0)
    assert isinstance(history, History)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert history.epoch == [0, 1, 2, 3, 4] and len(history) == 5
    assert all(len(v) == 5 and all(isinstance(e, float) for e in v)
               for v in history.history.values())
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] == 1.0
    # the last validation entry is what evaluate reports for the final weights
    final = evaluate(model, nn.CrossEntropyLoss(), (x[90:], y[90:]), metrics=["accuracy"])
    assert final == pytest.approx({"loss": history["val_loss"][-1], "accuracy": 1.0})
    with pytest.raises(KeyError, match="recorded"):
        history["val_precision"]


def test_fit_is_the_pytorch_loop():
    """Unshuffled fit gives exactly the weights of the hand-written zero_grad/backward/step loop."""
    x, y = blobs(50)
    a, b = small_model(), small_model()
    loss = nn.CrossEntropyLoss()
    history = fit(a, loss, nn.optim.SGD(a.parameters(), lr=0.1), (x, y), epochs=3,
                  batch_size=8, shuffle=False, verbose=0)
    opt = nn.optim.SGD(b.parameters(), lr=0.1)
    batch_losses = []
    for _ in range(3):
        for xb, yb in DataLoader(x, y, batch_size=8):
            opt.zero_grad()
            value = loss(b(xb), yb)
            value.backward()
            opt.step()
            batch_losses.append(value.item() * len(xb))
    for (name, wa), wb in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(wa, wb, err_msg=name)
    # the epoch loss is the batch losses' mean weighted by batch size
    assert history["loss"][-1] == pytest.approx(sum(batch_losses[-7:]) / 50)


def test_fit_accepts_a_dataloader_and_restores_the_mode():
    x, y = blobs(40)
    model = small_model(dropout=0.5).eval()
    loader = DataLoader(x, y, batch_size=10, shuffle=True, seed=1)
    history = fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=0.1),
                  loader, epochs=2, verbose=0)
    assert len(history) == 2
    assert not model.training and not model[2].training


def test_a_callback_can_drive_a_learning_rate_schedule():
    class Schedule(Callback):
        def __init__(self, scheduler):
            self.scheduler = scheduler

        def on_epoch_end(self, epoch, logs, model):
            self.scheduler.step()

    x, y = blobs(20)
    model = small_model()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=4, verbose=0,
        callbacks=[Schedule(nn.optim.StepLR(opt, step_size=2, gamma=0.5))])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025)


def test_verbose_zero_prints_nothing_and_verbose_one_shows_a_bar(capsys):
    x, y = blobs(30)
    model = small_model()
    fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=0.1), (x, y),
        epochs=2, validation_data=(x, y), metrics=["accuracy"], verbose=0)
    assert capsys.readouterr() == ("", "")
    fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=0.1), (x, y),
        epochs=2, verbose=1)
    err = capsys.readouterr().err
    assert "2/2" in err and "loss=" in err


def test_early_stopping_restores_the_best_weights():
    # validating on the opposite targets: training makes val_loss worse from the first epoch on
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1)).astype(np.float32)
    ag.manual_seed(0)
    model = nn.Linear(1, 1)
    snapshots = Snapshots()
    stopper = EarlyStopping(monitor="val_loss", patience=3, restore_best=True)
    history = fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.1), (x, x),
                  epochs=50, validation_data=(x, -x), callbacks=[snapshots, stopper], verbose=0)
    assert len(history) == 4                         # best epoch 0, then 3 without improvement
    assert stopper.best_epoch == 0 and stopper.stopped_epoch == 3
    assert stopper.best == history["val_loss"][0] == min(history["val_loss"])
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots.states[0][name])
    assert evaluate(model, nn.MSELoss(), (x, -x))["loss"] == pytest.approx(stopper.best)


def test_early_stopping_without_restore_keeps_the_last_weights():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1)).astype(np.float32)
    model = nn.Linear(1, 1)
    snapshots = Snapshots()
    fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.1), (x, x), epochs=50,
        validation_data=(x, -x), verbose=0,
        callbacks=[snapshots, EarlyStopping(patience=2, restore_best=False)])
    assert len(snapshots.states) == 3
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots.states[-1][name])


def test_early_stopping_min_delta_and_mode():
    model = nn.Linear(1, 1)
    stopper = EarlyStopping(monitor="loss", patience=2, min_delta=0.1)
    stopper.on_train_begin(model)
    assert not stopper.on_epoch_end(0, {"loss": 1.0}, model)
    assert not stopper.on_epoch_end(1, {"loss": 0.95}, model)   # better, but by < min_delta
    assert stopper.on_epoch_end(2, {"loss": 0.93}, model)
    assert stopper.best == 1.0 and stopper.stopped_epoch == 2
    accuracy_stopper = EarlyStopping(monitor="val_accuracy", patience=1)
    assert accuracy_stopper.mode == "max"
    accuracy_stopper.on_train_begin(model)
    assert not accuracy_stopper.on_epoch_end(0, {"val_accuracy": 0.5}, model)
    assert not accuracy_stopper.on_epoch_end(1, {"val_accuracy": 0.7}, model)
    assert accuracy_stopper.on_epoch_end(2, {"val_accuracy": 0.6}, model)
    with pytest.raises(KeyError, match="pass validation_data"):
        EarlyStopping().on_epoch_end(0, {"loss": 1.0}, model)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")


def test_predict_is_eval_mode_without_graph():
    x, _ = blobs(20)
    model = small_model(dropout=0.5)
    first, second = predict(model, x), predict(model, x, batch_size=7)
    assert isinstance(first, np.ndarray) and first.shape == (20, 3)
    np.testing.assert_allclose(first, second, rtol=1e-6)   # dropout is off
    assert model.training


def test_evaluate_loss_is_over_all_samples():
    x, y = blobs(30)
    model = small_model()
    expected = nn.CrossEntropyLoss()(model(x), y).item()
    got = evaluate(model, nn.CrossEntropyLoss(), DataLoader(x, y, batch_size=4))
    assert got["loss"] == pytest.approx(expected, rel=1e-6)


def test_custom_metric_function():
    x, y = blobs(30)
    model = small_model()

    def error_rate(y_true, y_pred):
        return 1.0 - nn.metrics.accuracy(y_true, y_pred)

    history = fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=0.1),
                  (x, y), epochs=1, metrics=[error_rate], verbose=0)
    assert 0.0 <= history["error_rate"][0] <= 1.0


def test_fit_errors():
    x, y = blobs(10)
    model = small_model()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="fit: data must be an"):
        fit(model, nn.CrossEntropyLoss(), opt, x, verbose=0)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=-1, verbose=0)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), metrics=["f7"], verbose=0)
    with pytest.raises(ValueError, match="no targets"):
        fit(model, nn.CrossEntropyLoss(), opt, DataLoader(x), verbose=0)
    with pytest.raises(ValueError, match="no complete batch"):
        fit(model, nn.CrossEntropyLoss(), opt, DataLoader(x, y, batch_size=32, drop_last=True),
            verbose=0)


def test_keras_style_compile_fit_evaluate_predict():
    x, y = blobs()
    model = small_model()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y)
    assert model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"]) is model
    history = model.fit(x, y, epochs=30, batch_size=16, validation_data=(x, y), verbose=0,
                        seed=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    scores = model.evaluate(x, y)
    assert scores["accuracy"] == 1.0 and scores["loss"] == pytest.approx(history["val_loss"][-1])
    assert model.predict(x).argmax(axis=1).tolist() == y.tolist()
    # objects work as well as names, and a DataLoader as well as arrays
    model.compile(nn.optim.SGD(model.parameters(), lr=0.01), nn.CrossEntropyLoss())
    assert len(model.fit(DataLoader(x, y, batch_size=32), epochs=2, verbose=0)) == 2


def test_compile_names():
    model = small_model()
    model.compile("sgd", "mse")
    assert isinstance(model._compiled.optimizer, nn.optim.SGD)
    assert model._compiled.optimizer.param_groups[0]["lr"] == 0.01
    assert isinstance(model._compiled.loss, nn.MSELoss)
    for name, cls in [("bce", nn.BCELoss), ("bce_with_logits", nn.BCEWithLogitsLoss),
                      ("l2", nn.L2Loss)]:
        model.compile("rmsprop", name)
        assert isinstance(model._compiled.loss, cls)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        model.compile("adam", "hinge")
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        model.compile("lbfgs", "mse")


def test_train_digits_writes_the_model_and_the_curve(tmp_path, capsys):
    from nn.demo import train_digits

    train_digits(tmp_path, epochs=2)
    out = capsys.readouterr().out
    assert "test accuracy:" in out and "true  9" in out
    assert (tmp_path / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = nn.load(tmp_path / "digits_mlp.nnz")
    x, y = nn.data.load_digits()
    assert isinstance(model, nn.MLP) and nn.metrics.accuracy(y, model.predict(x)) > 0.8
