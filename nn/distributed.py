"""Scale-out on Ray: synchronous data-parallel ``fit`` and Ray Tune sweeps.

Moving a script from one process to ``N`` Ray workers changes one call::

    history = nn.fit(model, loss, opt, (x, y), epochs=10, batch_size=64)             # one process
    model, history = nn.distributed.fit(lambda: nn.MLP([64, 128, 10]), loss,
                                        functools.partial(nn.optim.Adam, lr=1e-3),
                                        (x, y), epochs=10, batch_size=32, num_workers=2)

Every worker is a Ray actor holding a replica of the model (built by ``model_fn`` after
``ag.manual_seed(seed)``, so all replicas start equal, which is checked) and its own optimizer.
At each step of an epoch the global batch of ``num_workers * batch_size`` rows (consecutive rows
of the epoch's order, the order ``nn.fit`` would use) is split into one shard per worker; each
worker computes its gradient with the engine, the gradients are averaged across workers, and
every replica takes the same optimizer step with the same averaged gradient, so the replicas stay
identical (checked after every epoch). For a loss with ``reduction="mean"`` the average is
weighted by shard size, so one step equals one ``nn.fit`` step on the whole global batch::

    g = sum_r (n_r / n) * g_r        (n_r rows on worker r, n = sum_r n_r)

Gradient averaging (``gradient_sync``):

- ``"collective"``: ``ray.util.collective.allreduce`` (Gloo through ``torch.distributed``, on
  CPU) between the workers; the driver only starts one task per worker per epoch.
- ``"driver"``: every step the driver ``ray.get``s each worker's gradient from the object store,
  sums them and ``ray.put``s the average, which the workers fetch with their next step. Needs
  nothing beyond Ray; its traffic all passes through the driver.
- ``"auto"`` (default): ``"collective"`` when Ray's Gloo backend and ``torch.distributed`` are
  available (it measured faster), else ``"driver"``.

Data: ``(x, y)`` arrays are put in the object store once; workers read them as zero-copy
read-only numpy views (a worker copies only its shard of a shuffled batch, as ``DataLoader``
does). A ``ray.data.Dataset`` with columns ``"x"`` and ``"y"`` is materialised once into the
object store as one ``x`` and one ``y`` array, rows in the Dataset's order (a Ray task
concatenates its blocks; the driver never holds the data), then sharded exactly like arrays; it
must fit in the cluster's object store.

Sweeps: ``TuneReport`` is a callback that reports each epoch's logs to Ray Tune, so schedulers
such as ASHA can stop bad trials (see ``examples/sweep_digits.py``); ``report_partial_fits``
does the same for estimators trained with ``partial_fit`` (``nn.RBM``; a ``nn.DBN``
fit, greedy layer by layer, can only report once at its end).

Ray is imported only inside these functions: ``import nn`` never imports it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

import autograd_core as ag

from ._checks import non_negative_int, positive_int
from .base import Module
from .data import _check_same_length, as_array
from .losses import _ClassLoss
from .train import (
    Callback,
    History,
    _loader,
    _metric_fns,
    get_loss,
    get_optimizer,
    run_epochs,
)

__all__ = ["fit", "WorkerError", "TuneReport", "report_partial_fits", "start_local_cluster"]

SYNC_MODES = ("auto", "collective", "driver")


class WorkerError(RuntimeError):
    """A data-parallel worker failed: its rank, what it was doing, and the original exception.

    ``rank`` is the worker's index, ``cause`` the exception raised inside the worker (or Ray's
    error when the actor died or did not answer in time); it is also ``__cause__``.
    """

    def __init__(self, rank: int, num_workers: int, during: str, cause: BaseException):
        self.rank, self.cause = rank, cause
        super().__init__(f"nn.distributed.fit: worker {rank} of {num_workers} failed {during}: "
                         f"{type(cause).__name__}: {cause}")


# -- the worker ----------------------------------------------------------------------------------

class _Replica:
    """One data-parallel worker (a Ray actor): a model replica, its optimizer, the shared data.

    Gradients travel as one flat buffer per step: every trainable parameter's gradient (scaled by
    the worker's share of the global batch), then one "has a gradient" flag per parameter (so a
    parameter no worker reached keeps ``grad = None``, as in ``nn.fit``), then the worker's share
    of the batch loss. Summing the workers' buffers gives the averaged gradient, the flags and the
    global batch loss at once.
    """

    def __init__(self, rank: int, num_workers: int, model_fn: Callable[[], Module],
                 loss: Callable, optimizer_fn: Callable | str, seed: int,
                 data: tuple[np.ndarray, np.ndarray], batch_size: int):
        self.rank, self.num_workers = rank, num_workers
        self.x, self.y = data
        self.global_batch = batch_size * num_workers
        self.steps = math.ceil(len(self.x) / self.global_batch)
        self.loss = loss
        self.sum_reduction = getattr(loss, "reduction", "mean") == "sum"
        ag.manual_seed(seed)
        self.model = _build_model(model_fn)
        self.optimizer = _build_optimizer(optimizer_fn, self.model)
        # independent dropout masks per worker, as separate processes would draw
        ag.manual_seed(int(np.random.SeedSequence(seed, spawn_key=(rank,)).generate_state(1)[0]))
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        sizes = [p.size for p in self.params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.num_grads = int(self.offsets[-1])
        self.dtype = np.result_type(*[p.dtype for p in self.params], np.float32)
        self.group: str | None = None
        self.model.train()

    def digest(self) -> str:
        """A hash of every weight: equal on all workers while the replicas are identical."""
        return _digest(self.model)

    def join_group(self, group_name: str, timeout_s: float) -> None:
        from ray.util import collective

        collective.init_collective_group(self.num_workers, self.rank, backend="gloo",
                                         group_name=group_name,
                                         gloo_timeout=int(timeout_s * 1000))
        self.group = group_name

    def start_epoch(self, order: np.ndarray | None) -> None:
        self.order = order
        self.loss_total, self.count = 0.0, 0
        self.outputs: dict[int, np.ndarray] = {}
        self.targets: dict[int, np.ndarray] = {}

    def _rows(self, step: int) -> tuple[int, int, int]:
        """``(lo, hi, batch_rows)``: this worker's shard ``[lo, hi)`` of the epoch's order at
        ``step`` and the size of that global batch (the last one may be short)."""
        start = step * self.global_batch
        rows = min(self.global_batch, len(self.x) - start)
        lo = start + rows * self.rank // self.num_workers
        hi = start + rows * (self.rank + 1) // self.num_workers
        return lo, hi, rows

    def gradients(self, step: int, keep_outputs: bool) -> np.ndarray:
        """This worker's flat buffer for ``step`` (zeros if its shard is empty)."""
        lo, hi, rows = self._rows(step)
        buffer = np.zeros(self.num_grads + len(self.params) + 1, self.dtype)
        if hi == lo:
            return buffer
        # a slice is a view; a permutation slice copies just this shard, as DataLoader does
        index = slice(lo, hi) if self.order is None else self.order[lo:hi]
        xb, yb = ag.Tensor(self.x[index]), ag.Tensor(self.y[index])
        self.optimizer.zero_grad()
        out = self.model(xb)
        batch_loss = self.loss(out, yb)
        batch_loss.backward()
        share = 1.0 if self.sum_reduction else (hi - lo) / rows
        for i, p in enumerate(self.params):
            if p.grad is not None:
                grad = buffer[self.offsets[i]:self.offsets[i + 1]]
                np.multiply(p.grad.data.reshape(-1), share, out=grad, casting="unsafe")
                buffer[self.num_grads + i] = 1
        buffer[-1] = batch_loss.item() * share
        if keep_outputs:
            self.outputs[step], self.targets[step] = out.data, yb.data
        return buffer

    def apply(self, step: int, summed: np.ndarray) -> None:
        """Step the optimizer with the workers' summed buffer for ``step``."""
        flags = summed[self.num_grads:-1]
        for i, p in enumerate(self.params):
            grad = summed[self.offsets[i]:self.offsets[i + 1]].reshape(p.shape)
            p.grad = ag.Tensor(grad) if flags[i] else None
        self.optimizer.step()
        rows = self._rows(step)[2]
        self.loss_total += float(summed[-1]) * rows
        self.count += rows

    def step(self, step: int, previous: np.ndarray | None, keep_outputs: bool) -> np.ndarray:
        """Driver route: apply the previous step's sum (if any), then this step's gradients."""
        if previous is not None:
            self.apply(step - 1, previous)
        return self.gradients(step, keep_outputs)

    def finish_epoch(self, last: np.ndarray | None) -> dict[str, Any]:
        """Driver route: apply the epoch's last sum and report the epoch."""
        if last is not None:
            self.apply(self.steps - 1, last)
        return self.epoch_result()

    def run_epoch(self, order: np.ndarray | None, keep_outputs: bool) -> dict[str, Any]:
        """Collective route: the whole epoch here, one allreduce per step."""
        from ray.util import collective

        self.start_epoch(order)
        for step in range(self.steps):
            buffer = self.gradients(step, keep_outputs)
            collective.allreduce(buffer, group_name=self.group)
            self.apply(step, buffer)
        return self.epoch_result()

    def epoch_result(self) -> dict[str, Any]:
        """The epoch's loss sum and row count, outputs kept for metrics, the weights' digest;
        worker 0 adds its weights for the driver's copy of the model."""
        result = {"loss_total": self.loss_total, "count": self.count, "digest": self.digest(),
                  "outputs": self.outputs, "targets": self.targets}
        if self.rank == 0:
            result["state"] = self.model.state_dict()
        return result


def _build_model(model_fn: Callable[[], Module]) -> Module:
    model = model_fn()
    if not isinstance(model, Module):
        raise TypeError(f"nn.distributed.fit: model_fn must return an nn.Module, got "
                        f"{type(model).__name__}")
    return model


def _build_optimizer(optimizer_fn: Callable | str, model: Module):
    if isinstance(optimizer_fn, str):
        return get_optimizer(optimizer_fn, model)
    return get_optimizer(optimizer_fn(model.parameters()), model)


def _digest(model: Module) -> str:
    sha = hashlib.sha256()
    for name, value in model.state_dict().items():
        sha.update(name.encode())
        sha.update(np.ascontiguousarray(value).tobytes())
    return sha.hexdigest()


# -- the driver ----------------------------------------------------------------------------------

def _collective_available() -> bool:
    """Whether Ray's collective Gloo backend (built on ``torch.distributed``) can run here."""
    ray_gloo = "ray.util.collective.collective_group.torch_gloo_collective_group"
    if importlib.util.find_spec(ray_gloo) is None:  # older Ray: Gloo through pygloo, not torch
        return False
    try:
        import torch.distributed as dist
    except ImportError:
        return False
    return dist.is_available()


def _wait_all(ray, refs: list, num_workers: int, during: str, timeout: float | None) -> list:
    """The results of one call per worker, in rank order. Stops at the first failure (a worker's
    exception, a dead actor, or no answer within ``timeout`` seconds) with a ``WorkerError``."""
    from ray.exceptions import GetTimeoutError, RayTaskError

    pending = {ref: rank for rank, ref in enumerate(refs)}
    results: list[Any] = [None] * len(refs)
    deadline = None if timeout is None else time.monotonic() + timeout
    while pending:
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=remaining)
        if not ready:
            rank = min(pending.values())
            raise WorkerError(rank, num_workers, during, GetTimeoutError(
                f"no answer within {timeout} s from worker(s) {sorted(pending.values())}"))
        for ref in ready:
            rank = pending.pop(ref)
            try:
                results[rank] = ray.get(ref)
            except RayTaskError as err:  # an exception inside the worker: report the original
                cause = err.cause if isinstance(getattr(err, "cause", None), BaseException) \
                    else err
                raise WorkerError(rank, num_workers, during, cause) from cause
            except Exception as err:  # the actor died, or Ray could not run the call
                raise WorkerError(rank, num_workers, during, err) from err
    return results


def _shared_data(ray, data) -> tuple[Any, int]:
    """An object reference to ``(x, y)`` in the object store and the number of samples."""
    from ray.data import Dataset

    if isinstance(data, Dataset):
        return _materialise(ray, data)
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"nn.distributed.fit: data must be an (x, y) pair of arrays or a "
                        f"ray.data.Dataset with columns 'x' and 'y', got {type(data).__name__}")
    x, y = as_array(data[0], "nn.distributed.fit x"), as_array(data[1], "nn.distributed.fit y")
    n = _check_same_length("nn.distributed.fit", {"x": x, "y": y})
    return ray.put((x, y)), n


def _concatenate_blocks(*blocks: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return (np.concatenate([block["x"] for block in blocks]),
            np.concatenate([block["y"] for block in blocks]))


def _materialise(ray, dataset) -> tuple[Any, int]:
    columns = dataset.columns()
    if not {"x", "y"} <= set(columns or []):
        raise ValueError(f"nn.distributed.fit: the Dataset needs columns 'x' and 'y', it has "
                         f"{columns}; rename them with dataset.rename_columns({{...}})")
    pairs = dataset.select_columns(["x", "y"])
    pairs.context.execution_options.preserve_order = True  # the Dataset's row order, every time
    blocks = pairs.to_numpy_refs()
    # the concatenation runs where the blocks are, not on the driver
    concatenate = ray.remote(num_cpus=0)(_concatenate_blocks)
    ref = concatenate.remote(*blocks)
    ray.wait([ref], fetch_local=False)  # before the actors take the CPUs its tasks need
    return ref, dataset.count()


def _start_ray(ray, address: str | None, cpus_needed: float) -> bool:
    """Connect to Ray (``address``, an already initialised Ray, or a new local cluster with
    enough CPUs for the workers); return True if this call started the connection."""
    if ray.is_initialized():
        return False
    if address is None:
        start_local_cluster(max(os.cpu_count() or 1, math.ceil(cpus_needed)))
    else:
        ray.init(address=address, logging_level="warning")
    return True


def start_local_cluster(num_cpus: int, attempts: int = 2) -> None:
    """``ray.init(num_cpus=num_cpus, include_dashboard=False)``: a local Ray cluster, tried up to
    ``attempts`` times, because on an overloaded machine Ray's processes can miss the 30 s that
    ``ray.init`` gives them to start."""
    import ray

    for attempt in range(1, attempts + 1):
        try:
            ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level="warning")
            return
        except Exception:  # Ray raises a bare Exception for a node that timed out starting
            ray.shutdown()
            if attempt == attempts:
                raise


def _check_resources(ray, cpus_needed: float) -> None:
    total = ray.cluster_resources().get("CPU", 0)
    if total < cpus_needed:
        raise ValueError(f"nn.distributed.fit: the workers need {cpus_needed:g} CPUs, the Ray "
                         f"cluster has {total:g}; lower num_workers or cpus_per_worker")


def _epoch_logs(results: list[dict[str, Any]], steps: int,
                metric_fns: list[tuple[str, Callable]]) -> dict[str, float]:
    """The epoch's logs as ``nn.fit`` computes them; outputs reassembled in the epoch's order."""
    logs = {"loss": results[0]["loss_total"] / results[0]["count"]}
    if metric_fns:
        chunks = [(r["outputs"][step], r["targets"][step]) for step in range(steps)
                  for r in results if step in r["outputs"]]
        y_pred = np.concatenate([out for out, _ in chunks])
        y_true = np.concatenate([target for _, target in chunks])
        for name, fn in metric_fns:
            logs[name] = float(fn(y_true, y_pred))
    return logs


def _check_row_mean(loss: Callable, data: Any) -> None:
    """Refuse losses whose "mean" does not divide by the number of rows: the workers' gradients
    are combined by their shares of the rows, which would then differ from one nn.fit step."""
    if not isinstance(loss, _ClassLoss) or loss.reduction != "mean":
        return
    name = type(loss).__name__
    if loss.weight is not None:
        raise ValueError(f"nn.distributed.fit: {name}(weight=...) with reduction='mean' divides "
                         "by the summed weight of each batch's labels, which the shards cannot "
                         "combine exactly; use reduction='sum' or no class weight")
    labels = data[1] if isinstance(data, (tuple, list)) and len(data) == 2 else None
    if labels is not None and np.any(np.asarray(labels) == loss.ignore_index):
        raise ValueError(f"nn.distributed.fit: labels equal {name}'s ignore_index "
                         f"({loss.ignore_index}), so its 'mean' does not divide by the number "
                         "of rows and the shards cannot combine exactly; use reduction='sum' or "
                         "drop those rows")


def fit(model_fn: Callable[[], Module], loss: Callable | str, optimizer_fn: Callable | str,
        data, epochs: int = 1, batch_size: int = 32, num_workers: int = 2,
        validation_data=None, callbacks: Sequence[Callback] | None = None,
        metrics: Sequence | None = None, verbose: int = 1, shuffle: bool = True,
        seed: int | None = None, *, address: str | None = None, gradient_sync: str = "auto",
        timeout: float | None = 1800.0, cpus_per_worker: float = 1
        ) -> tuple[Module, History]:
    """Data-parallel ``nn.fit`` on ``num_workers`` Ray actors; return ``(model, history)``.

    - ``model_fn()``: builds the model (called on every worker after ``ag.manual_seed(seed)``,
      and once on the driver for the copy returned); it must be deterministic given that seed.
    - ``loss``: an ``nn`` loss (or its name, as in ``compile``); with ``reduction="sum"`` the
      workers' gradients are summed, otherwise weighted by shard size.
    - ``optimizer_fn(params)``: builds the optimizer, e.g.
      ``functools.partial(nn.optim.SGD, lr=0.1, momentum=0.9)``, or a name ("adam", "sgd").
    - ``data``: ``(x, y)`` arrays or a ``ray.data.Dataset`` with columns "x" and "y".
    - ``batch_size``: rows per worker per step (PyTorch DDP's convention); the global batch is
      ``num_workers * batch_size``, so ``nn.fit(batch_size=num_workers * batch_size)`` takes the
      same steps.
    - ``shuffle``, ``seed``: as in ``nn.fit``: the driver draws each epoch's order as
      ``DataLoader`` would (``np.random.default_rng(seed)``, or ``ag``'s generator without a
      seed); ``seed`` also seeds the replicas' construction (None: drawn from ``ag``'s generator).
    - ``validation_data``, ``metrics``, ``callbacks``, ``verbose``: as in ``nn.fit``; they run on
      the driver against its copy of the model, updated from the workers after every epoch.
      Callbacks observe that copy: weights they change are not sent back to the workers.
    - ``address``: a Ray cluster to join ("auto", "ray://host:10001"); by default an already
      initialised Ray is used, else a local cluster is started (and shut down at the end). On a
      remote cluster the workers need ``nn`` importable: install it there or pass
      ``runtime_env={"py_modules": [nn, autograd_core]}`` to your own ``ray.init``.
    - ``gradient_sync``: "auto", "collective" or "driver" (see the module docstring).
    - ``timeout``: seconds the driver waits for one call to a worker (one step on the driver
      route, one epoch on the collective route; also the collective rendezvous) before stopping
      the run; None waits forever. An exception inside a worker or a dead actor stops the run at
      once with a ``WorkerError`` naming the worker and the original exception.

    The History holds what ``nn.fit``'s would: ``loss`` (mean over the epoch's rows of the global
    batch losses), metrics on the epoch's training outputs, ``val_*``; with the same data order
    the weights after every epoch equal ``nn.fit``'s to rounding.
    """
    import ray

    epochs = non_negative_int("nn.distributed.fit", "epochs", epochs)
    batch_size = positive_int("nn.distributed.fit", "batch_size", batch_size)
    num_workers = positive_int("nn.distributed.fit", "num_workers", num_workers)
    if gradient_sync not in SYNC_MODES:
        raise ValueError(f"nn.distributed.fit: gradient_sync must be one of {SYNC_MODES}, got "
                         f"{gradient_sync!r}")
    if gradient_sync == "auto":
        gradient_sync = "collective" if _collective_available() else "driver"
    loss = get_loss(loss)
    _check_row_mean(loss, data)
    metric_fns = _metric_fns(metrics)
    val_loader = None if validation_data is None else _loader(
        "nn.distributed.fit validation_data", validation_data, None)
    if seed is None:
        seed = int(ag.random.get_generator().integers(2**63))
    order_rng = np.random.default_rng(seed) if shuffle else None
    cpus_needed = num_workers * cpus_per_worker
    started = _start_ray(ray, address, cpus_needed)
    workers: list = []
    try:
        _check_resources(ray, cpus_needed)
        data_ref, n = _shared_data(ray, data)
        steps = math.ceil(n / (num_workers * batch_size))
        actor = ray.remote(num_cpus=cpus_per_worker)(_Replica)
        workers = [actor.remote(rank, num_workers, model_fn, loss, optimizer_fn, seed, data_ref,
                                batch_size) for rank in range(num_workers)]
        digests = _wait_all(ray, [w.digest.remote() for w in workers], num_workers,
                            "building its replica", timeout)
        _check_identical(digests, "model_fn built different replicas (make it deterministic "
                                  "given ag.manual_seed, which every worker calls with the seed)")
        if gradient_sync == "collective":
            group = f"nn-{uuid.uuid4().hex}"
            _wait_all(ray, [w.join_group.remote(group, timeout or 1800.0) for w in workers],
                      num_workers, "joining the collective group", timeout)
        model = _build_model(model_fn)

        def train_epoch() -> dict[str, float]:
            order = None if order_rng is None else order_rng.permutation(n)
            order_ref = ray.put(order)
            keep = bool(metric_fns)
            if gradient_sync == "collective":
                results = _wait_all(ray, [w.run_epoch.remote(order_ref, keep) for w in workers],
                                    num_workers, "during an epoch", timeout)
            else:
                results = _driver_epoch(ray, workers, order_ref, steps, keep, timeout)
            _check_identical([r["digest"] for r in results],
                             "the replicas diverged during the epoch")
            model.load_state_dict(results[0]["state"])
            return _epoch_logs(results, steps, metric_fns)

        history = run_epochs(model, train_epoch, epochs, loss, val_loader, metrics, callbacks,
                             verbose, desc=f"fit ({num_workers} workers)")
    finally:
        for worker in workers:
            ray.kill(worker)
        if started:
            ray.shutdown()
    return model, history


def _driver_epoch(ray, workers: list, order_ref, steps: int, keep: bool,
                  timeout: float | None) -> list[dict[str, Any]]:
    """One epoch on the driver route: gather, sum and broadcast every step's gradients."""
    num_workers = len(workers)
    _wait_all(ray, [w.start_epoch.remote(order_ref) for w in workers], num_workers,
              "starting an epoch", timeout)
    summed_ref = None
    for step in range(steps):
        buffers = _wait_all(ray, [w.step.remote(step, summed_ref, keep) for w in workers],
                            num_workers, f"at step {step}", timeout)
        summed_ref = ray.put(np.sum(buffers, axis=0))
    return _wait_all(ray, [w.finish_epoch.remote(summed_ref) for w in workers], num_workers,
                     "ending an epoch", timeout)


def _check_identical(digests: list[str], problem: str) -> None:
    differing = [rank for rank, digest in enumerate(digests) if digest != digests[0]]
    if differing:
        raise RuntimeError(f"nn.distributed.fit: {problem}: the weights of worker(s) "
                           f"{differing} differ from worker 0's")


# -- sweeps with Ray Tune ------------------------------------------------------------------------

class TuneReport(Callback):
    """Report each epoch's logs to Ray Tune (``ray.tune.report``), for ``nn.fit`` run in a trial.

    Every epoch reports the History's values (all of them, or just ``metrics``) plus ``epoch``
    (counted from 1), so a scheduler such as ASHA can stop a bad trial after any epoch::

        def trainable(config):
            model = nn.MLP([64, config["hidden"], 10])
            opt = nn.optim.Adam(model.parameters(), lr=config["lr"])
            nn.fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=20, verbose=0,
                   validation_data=(x_val, y_val), metrics=["accuracy"],
                   callbacks=[nn.distributed.TuneReport()])

        tune.Tuner(trainable, param_space={...},
                   tune_config=tune.TuneConfig(metric="val_accuracy", mode="max",
                                               scheduler=ASHAScheduler(max_t=20))).fit()
    """

    def __init__(self, metrics: Iterable[str] | None = None):
        self.metrics = None if metrics is None else list(metrics)

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Module) -> None:
        _report(epoch, logs, self.metrics)


def _report(epoch: int, logs: dict[str, float], names: list[str] | None) -> None:
    from ray import tune

    if names is not None:
        missing = [name for name in names if name not in logs]
        if missing:
            raise KeyError(f"TuneReport: {missing} not among the epoch's logs {sorted(logs)}")
        logs = {name: logs[name] for name in names}
    tune.report({**logs, "epoch": epoch + 1})


def report_partial_fits(estimator, x, epochs: int, metrics: Iterable[str] | None = None):
    """Train ``estimator`` (``nn.RBM``, or anything with ``reset_parameters``,
    ``partial_fit`` and a ``history_`` dict of per-pass lists) for ``epochs`` passes over ``x``
    inside a Ray Tune trial, reporting the last value of every ``history_`` entry after each
    pass (e.g. ``reconstruction_error``); return the estimator.

    >>> def trainable(config):
    ...     rbm = nn.RBM(64, config["n_hidden"], lr=config["lr"], seed=0, verbose=0)
    ...     nn.distributed.report_partial_fits(rbm, x_binary, epochs=20)
    """
    epochs = non_negative_int("report_partial_fits", "epochs", epochs)
    names = None if metrics is None else list(metrics)
    estimator.reset_parameters()
    for epoch in range(epochs):
        estimator.partial_fit(x)
        logs = {key: float(values[-1]) for key, values in estimator.history_.items() if values}
        _report(epoch, logs, names)
    return estimator
