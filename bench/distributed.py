"""Benchmark: data-parallel ``nn.distributed.fit`` on a local Ray cluster, 1 and 2 workers.

Three tables, each figure with the 1-minute load average (``uptime``) when it was taken:

1. Training throughput (samples/s, per-worker batch fixed, so 2 workers run a global batch twice
   as large): a single-process ``nn.fit`` baseline, then ``nn.distributed.fit`` with 1 and 2
   workers on both gradient routes, for the digits MLP 64-128-10 (1797 rows, 32 rows per worker)
   and a synthetic problem where compute dominates (MLP 784-1024-1024-10, float32, ``--rows``
   rows, 128 rows per worker). Each figure is rows / the median epoch time over the epochs after
   the first (which pays the workers' start-up and the kernels' loading). Scaling efficiency:
   ``samples/s(2 workers) / (2 * samples/s(1 worker))``.
2. The cost of averaging the gradients alone, per step, against the gradient's size: the
   collective route's ``allreduce`` timed inside the workers, and the driver route's round
   (``ray.get`` of each worker's buffer, sum, ``ray.put``, every worker fetching the sum),
   with no compute.

Run: ``python -m bench.distributed [--rows 8192] [--epochs 4]`` (needs ``ray``; the collective
route needs ``torch``).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time

import numpy as np

import nn
from bench.harness import markdown_table

SIZES = {"digits MLP 64-128-10": [64, 128, 10],
         "MLP 784-1024-1024-10": [784, 1024, 1024, 10]}


def load() -> float:
    return os.getloadavg()[0]


class EpochClock(nn.Callback):
    """The wall time of every epoch (on the driver, after the workers' epoch and the sync)."""

    def on_train_begin(self, model):
        self.times, self.last = [], time.perf_counter()

    def on_epoch_end(self, epoch, logs, model):
        now = time.perf_counter()
        self.times.append(now - self.last)
        self.last = now


def problem(name: str, rows: int) -> tuple[np.ndarray, np.ndarray]:
    if name.startswith("digits"):
        return nn.data.load_digits()
    rng = np.random.default_rng(0)
    return rng.random((rows, 784), dtype=np.float32), rng.integers(0, 10, rows)


def throughput(name: str, data, per_worker: int, workers: int | None, sync: str,
               epochs: int) -> tuple[float, float]:
    """Samples per second (median over the epochs after the first) and the load meanwhile;
    ``workers=None`` is the single-process ``nn.fit``."""
    clock = EpochClock()
    loss, opt = nn.CrossEntropyLoss(), functools.partial(nn.optim.SGD, lr=0.01, momentum=0.9)

    def model_fn():
        return nn.MLP(SIZES[name])

    if workers is None:
        model = model_fn()
        nn.fit(model, loss, opt(model.parameters()), data, epochs=epochs, batch_size=per_worker,
               callbacks=[clock], verbose=0, seed=0)
    else:
        nn.distributed.fit(model_fn, loss, opt, data, epochs=epochs, batch_size=per_worker,
                           num_workers=workers, gradient_sync=sync, callbacks=[clock],
                           verbose=0, seed=0)
    return len(data[0]) / statistics.median(clock.times[1:]), load()


class _Averager:
    """A worker with a gradient buffer of a given size and nothing to compute."""

    def __init__(self, rank: int, workers: int, size: int):
        self.rank, self.workers = rank, workers
        self.buffer = np.ones(size, np.float32)

    def join(self, group: str) -> None:
        from ray.util import collective

        collective.init_collective_group(self.workers, self.rank, backend="gloo",
                                         group_name=group)
        self.group = group

    def allreduce_seconds(self, steps: int) -> float:
        from ray.util import collective

        collective.allreduce(self.buffer, group_name=self.group)  # warm-up
        start = time.perf_counter()
        for _ in range(steps):
            collective.allreduce(self.buffer, group_name=self.group)
        return (time.perf_counter() - start) / steps

    def step(self, summed: np.ndarray | None) -> np.ndarray:
        return self.buffer


def averaging_cost(ray, workers: int, size: int, steps: int) -> dict[str, float]:
    """Seconds per step of each route's gradient averaging for a buffer of ``size`` floats."""
    actor = ray.remote(num_cpus=1)(_Averager)
    team = [actor.remote(rank, workers, size) for rank in range(workers)]
    try:
        ray.get([w.join.remote(f"bench-{size}-{workers}") for w in team])
        collective = max(ray.get([w.allreduce_seconds.remote(steps) for w in team]))
        summed = None
        for round_ in range(steps + 1):
            if round_ == 1:  # the first round is a warm-up
                start = time.perf_counter()
            buffers = ray.get([w.step.remote(summed) for w in team])
            summed = ray.put(np.sum(buffers, axis=0))
        driver = (time.perf_counter() - start) / steps
    finally:
        for w in team:
            ray.kill(w)
    return {"collective": collective, "driver": driver}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8192, help="rows of the synthetic problem")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run (first not timed)")
    parser.add_argument("--steps", type=int, default=20, help="steps per averaging measurement")
    args = parser.parse_args()
    import ray

    nn.distributed.start_local_cluster(num_cpus=2, attempts=3)
    try:
        rows = []
        for name, per_worker in (("digits MLP 64-128-10", 32), ("MLP 784-1024-1024-10", 128)):
            data = problem(name, args.rows)
            single, single_load = throughput(name, data, per_worker, None, "", args.epochs)
            rows.append([name, "nn.fit (1 process)", f"{single:,.0f}", "", f"{single_load:.1f}"])
            for sync in ("collective", "driver"):
                one, load_one = throughput(name, data, per_worker, 1, sync, args.epochs)
                two, load_two = throughput(name, data, per_worker, 2, sync, args.epochs)
                rows.append([name, f"1 worker, {sync}", f"{one:,.0f}", "", f"{load_one:.1f}"])
                rows.append([name, f"2 workers, {sync}", f"{two:,.0f}",
                             f"{two / (2 * one):.0%}", f"{load_two:.1f}"])
                print(rows[-2], rows[-1], file=sys.stderr, flush=True)  # progress
        print(markdown_table(["problem", "run", "samples/s", "scaling efficiency", "load"],
                             rows))
        cost_rows = []
        grad_sizes = {"digits MLP": 9_610, "784-1024-1024-10": 1_863_690}
        for size in (1_000, grad_sizes["digits MLP"], 100_000, grad_sizes["784-1024-1024-10"]):
            costs = averaging_cost(ray, 2, size, args.steps)
            cost_rows.append([f"{size:,} floats ({size * 4 / 1e6:.2g} MB)",
                              f"{costs['collective'] * 1e3:.2f} ms",
                              f"{costs['driver'] * 1e3:.2f} ms", f"{load():.1f}"])
            print(cost_rows[-1], file=sys.stderr, flush=True)  # progress
        print(markdown_table(["gradient (2 workers)", "collective allreduce", "driver route",
                              "load"], cost_rows))
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
