"""nn.distributed on a local 2-CPU Ray cluster: equivalence with nn.fit, failures, data, sweeps."""

import functools
import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_core as ag
import nn

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster(request):
    """One local cluster for the module, shut down even when a test fails."""
    from ray import cloudpickle

    # the workers cannot import this test module: send its functions by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    # Fresh worker processes would spend seconds loading the Numba kernels for a few tiny steps;
    # the numpy twins (tested against the kernels elsewhere) keep these tests short. The workers
    # inherit the environment of the Ray processes that ray.init starts.
    saved = os.environ.get("AUTOGRAD_CORE_JIT")
    os.environ["AUTOGRAD_CORE_JIT"] = "0"
    try:
        nn.distributed.start_local_cluster(num_cpus=2)
    finally:
        if saved is None:
            del os.environ["AUTOGRAD_CORE_JIT"]
        else:
            os.environ["AUTOGRAD_CORE_JIT"] = saved
    request.addfinalizer(ray.shutdown)
    return ray


def float64_mlp():
    model = nn.MLP([64, 16, 10])
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    return model


def float64_digits(rows):
    x, y = nn.data.load_digits()
    return x[:rows].astype(np.float64), y[:rows]


class WeightsPerEpoch(nn.Callback):
    def __init__(self):
        self.states = []

    def on_epoch_end(self, epoch, logs, model):
        self.states.append(model.state_dict())


def single_process_run(optimizer_fn, data, epochs, batch_size, shuffle, seed):
    ag.manual_seed(seed)
    model = float64_mlp()
    record = WeightsPerEpoch()
    history = nn.fit(model, nn.CrossEntropyLoss(), optimizer_fn(model.parameters()), data,
                     epochs=epochs, batch_size=batch_size, shuffle=shuffle, seed=seed,
                     metrics=["accuracy"], callbacks=[record], verbose=0)
    return record.states, history


def assert_same_runs(states, history, ref_states, ref_history):
    assert len(states) == len(ref_states)
    for state, ref in zip(states, ref_states):
        for key in ref:
            np.testing.assert_allclose(state[key], ref[key], rtol=1e-10, atol=1e-12)
    assert history.history.keys() == ref_history.history.keys()
    for key, values in ref_history.history.items():
        np.testing.assert_allclose(history[key], values, rtol=1e-10)


def test_import_nn_does_not_import_ray():
    code = ("import sys, nn; nn.distributed; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("optimizer_fn, sync, shuffle", [
    (functools.partial(nn.optim.SGD, lr=0.1, momentum=0.9), "collective", False),
    (functools.partial(nn.optim.Adam, lr=1e-2), "driver", True),
], ids=["sgd-momentum-collective", "adam-driver-shuffled"])
def test_two_workers_match_single_process_fit_each_epoch(cluster, optimizer_fn, sync, shuffle):
    # 149 rows, 2 x 16 per step: the last global batch (21 rows) splits unevenly, 10 + 11
    data, per_worker, epochs, seed = float64_digits(149), 16, 2, 7
    if sync == "collective":
        pytest.importorskip("torch")
    record = WeightsPerEpoch()
    model, history = nn.distributed.fit(
        float64_mlp, nn.CrossEntropyLoss(), optimizer_fn, data, epochs=epochs,
        batch_size=per_worker, num_workers=2, shuffle=shuffle, seed=seed, metrics=["accuracy"],
        callbacks=[record], verbose=0, gradient_sync=sync, timeout=120)
    ref_states, ref_history = single_process_run(optimizer_fn, data, epochs, 2 * per_worker,
                                                 shuffle, seed)
    assert_same_runs(record.states, history, ref_states, ref_history)
    assert isinstance(history, nn.History) and isinstance(model, nn.MLP)
    assert ray.is_initialized()  # fit used the running cluster and left it running
    assert {key: value.dtype for key, value in model.state_dict().items()} == \
        {key: np.dtype(np.float64) for key in ref_states[-1]}


def test_ray_dataset_input_matches_single_process_fit(cluster):
    data = float64_digits(96)
    dataset = ray.data.from_items([{"x": row, "y": label} for row, label in zip(*data)])
    sgd = functools.partial(nn.optim.SGD, lr=0.1, momentum=0.9)
    record = WeightsPerEpoch()
    _, history = nn.distributed.fit(float64_mlp, nn.CrossEntropyLoss(), sgd, dataset, epochs=1,
                                    batch_size=8, shuffle=True, seed=1, metrics=["accuracy"],
                                    callbacks=[record], verbose=0, gradient_sync="driver",
                                    timeout=120)
    ref_states, ref_history = single_process_run(sgd, data, 1, 16, True, 1)
    assert_same_runs(record.states, history, ref_states, ref_history)


def test_exception_in_a_worker_names_it_and_the_original_error(cluster):
    pytest.importorskip("torch")  # the collective route, where worker 0 waits in an allreduce
    x, y = float64_digits(64)
    y = y.copy()
    y[16 + 3] = 99  # worker 1's shard of the first step (rows 16-31, no shuffle)
    with pytest.raises(nn.distributed.WorkerError, match=r"worker 1 of 2 failed during an epoch"
                       r": ValueError: .*label 99 is out of range") as info:
        nn.distributed.fit(float64_mlp, nn.CrossEntropyLoss(), "sgd", (x, y), epochs=1,
                           batch_size=16, shuffle=False, verbose=0, timeout=120,
                           gradient_sync="collective")
    assert info.value.rank == 1 and isinstance(info.value.cause, ValueError)


def exit_on_worker_one(output, target):
    if len(target) and target.data[0] == 99:  # worker 1 only: its shard starts at row 16
        os._exit(3)
    return nn.CrossEntropyLoss()(output, target)


def test_dead_worker_stops_the_run(cluster):
    x, y = float64_digits(64)
    y = y.copy()
    y[16] = 99
    with pytest.raises(nn.distributed.WorkerError, match=r"worker 1 of 2 failed at step 0"):
        nn.distributed.fit(float64_mlp, exit_on_worker_one, "sgd", (x, y), epochs=1,
                           batch_size=16, shuffle=False, verbose=0, gradient_sync="driver",
                           timeout=120)


def unseeded_mlp():
    model = nn.MLP([4, 2])
    model[0].weight.data[...] = np.random.default_rng().standard_normal((2, 4))
    return model


def test_replicas_that_differ_are_refused(cluster):
    x, y = np.zeros((8, 4), np.float32), np.zeros(8, np.int64)
    with pytest.raises(RuntimeError, match="model_fn built different replicas"):
        nn.distributed.fit(unseeded_mlp, nn.CrossEntropyLoss(), "sgd", (x, y), verbose=0,
                           gradient_sync="driver", timeout=120)


def test_bad_arguments_fail_before_starting_workers():
    with pytest.raises(ValueError, match="gradient_sync must be one of"):
        nn.distributed.fit(float64_mlp, nn.CrossEntropyLoss(), "sgd", float64_digits(8),
                           gradient_sync="fast")
    with pytest.raises(ValueError, match="num_workers must be a positive integer"):
        nn.distributed.fit(float64_mlp, nn.CrossEntropyLoss(), "sgd", float64_digits(8),
                           num_workers=0)


def test_losses_whose_mean_is_not_over_rows_are_refused():
    # the shards' gradients are combined by their shares of the rows: a class-weighted mean, or
    # one that skips ignored labels, would silently differ from one nn.fit step
    x, y = float64_digits(8)
    with pytest.raises(ValueError, match=r"CrossEntropyLoss\(weight=...\) with reduction='mean'"):
        nn.distributed.fit(float64_mlp, nn.CrossEntropyLoss(weight=np.ones(10)), "sgd", (x, y))
    y = y.copy()
    y[0] = -100
    with pytest.raises(ValueError, match="labels equal NLLLoss's ignore_index"):
        nn.distributed.fit(float64_mlp, nn.NLLLoss(), "sgd", (x, y))


def test_sweep_example_runs_with_asha(cluster, tmp_path):
    pytest.importorskip("ray.tune")
    example = runpy.run_path(str(ROOT / "examples" / "sweep_digits.py"), run_name="sweep_example")
    results = example["main"](["--trials", "2", "--epochs", "2",
                               "--storage", str(tmp_path)])
    assert len(results) == 2 and not results.errors
    for result in results:
        assert result.metrics["epoch"] >= 1 and 0 <= result.metrics["val_accuracy"] <= 1
    assert results.get_best_result().config.keys() == {"lr", "hidden"}


@pytest.fixture
def tune_reports(monkeypatch):
    """What ray.tune.report receives, outside a Tune session."""
    tune = pytest.importorskip("ray.tune")
    reports = []
    monkeypatch.setattr(tune, "report", reports.append)
    return reports


def test_tune_report_sends_each_epochs_logs(tune_reports):
    x, y = nn.data.load_digits()
    model = nn.MLP([64, 8, 10])
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=0.1),
                     (x[:64], y[:64]), epochs=2, validation_data=(x[64:96], y[64:96]),
                     metrics=["accuracy"], verbose=0,
                     callbacks=[nn.distributed.TuneReport(["val_accuracy", "loss"])])
    assert tune_reports == [{"val_accuracy": history["val_accuracy"][epoch],
                             "loss": history["loss"][epoch], "epoch": epoch + 1}
                            for epoch in range(2)]
    with pytest.raises(KeyError, match="TuneReport: \\['val_loss'\\] not among"):
        nn.fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=0.1),
               (x[:64], y[:64]), verbose=0, callbacks=[nn.distributed.TuneReport(["val_loss"])])


def test_report_partial_fits_reports_an_rbm_pass_by_pass(tune_reports):
    x = (nn.data.load_digits()[0][:100] > 0.5).astype(np.float32)
    rbm = nn.RBM(64, 16, seed=0, verbose=0)
    assert nn.distributed.report_partial_fits(rbm, x, epochs=3) is rbm
    errors = rbm.history_["reconstruction_error"]
    assert len(errors) == 3
    assert tune_reports == [{"reconstruction_error": error, "epoch": epoch + 1}
                            for epoch, error in enumerate(errors)]
