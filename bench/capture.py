"""Benchmark: the MLP training step captured by ``ag.jit`` against the eager step and PyTorch.

MLP 784-256-256-10 (ReLU), float32, softmax cross-entropy on integer labels, SGD (lr=0.01) or Adam
(lr=1e-3), batch 1, 16 and 128; a step is zero_grad, forward, loss, backward, optimizer step.
Contestants, each in its own process (never two libraries' thread pools in one process), run
one after the other in every round, the order rotating from round to round:

- ``eager``: ``nn.Sequential`` of fused ``nn.Linear(..., activation="relu")`` layers, eager;
- ``jit``: the same step wrapped in ``ag.jit`` (two recorded calls, then replays);
- ``torch``: the same model in torch.nn with ``F.cross_entropy`` and torch.optim.

Every process pins BLAS, OpenMP, Numba and PyTorch to the same thread count. Within a process
each configuration times blocks of steps and keeps the median block; the table shows the median
over rounds, in microseconds per step, and the ratios jit / torch and eager / torch.

Run: ``.venv/bin/python -m bench.capture [--rounds 5] [--threads 1] [--batches 1 16 128]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

SIZES = (784, 256, 256, 10)
LR = {"sgd": 0.01, "adam": 1e-3}
CONTESTANTS = ("eager", "jit", "torch")


def _data(batch: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((batch, SIZES[0]), dtype=np.float32), rng.integers(0, SIZES[-1], batch)


def _ours(optimizer: str, batch: int, jit: bool):
    import autograd_core as ag
    import nn

    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256, activation="relu"),
                          nn.Linear(256, 256, activation="relu"), nn.Linear(256, 10))
    make = nn.optim.SGD if optimizer == "sgd" else nn.optim.Adam
    opt = make(model.parameters(), lr=LR[optimizer])
    loss_fn = nn.CrossEntropyLoss()
    x, y = _data(batch)
    x, y = ag.Tensor(x), ag.Tensor(y)

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    run = ag.jit(step) if jit else step
    return lambda: run(x, y)


def _torch(optimizer: str, batch: int):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10))
    make = torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam
    opt = make(model.parameters(), lr=LR[optimizer])
    x, y = (torch.from_numpy(a) for a in _data(batch))
    cross_entropy = torch.nn.functional.cross_entropy

    def step():
        opt.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _time(step, seconds: float) -> float:
    """Median seconds per step over blocks of steps filling about ``seconds``."""
    for _ in range(10):  # warm up (and, for jit, record)
        step()
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < 0.05:
        step()
        calls += 1
    per_block = max(1, calls)
    blocks = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(blocks) < 5:
        begin = time.perf_counter()
        for _ in range(per_block):
            step()
        blocks.append((time.perf_counter() - begin) / per_block)
    return statistics.median(blocks)


def worker(contestant: str, threads: int, batches: list[int], seconds: float) -> None:
    if contestant == "torch":
        import torch

        torch.set_num_threads(threads)
    results = {}
    for optimizer in ("sgd", "adam"):
        for batch in batches:
            step = _torch(optimizer, batch) if contestant == "torch" else \
                _ours(optimizer, batch, jit=contestant == "jit")
            results[f"{optimizer} {batch}"] = _time(step, seconds)
    print(json.dumps(results))


def _thread_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                 "NUMBA_NUM_THREADS"):
        env[name] = str(threads)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 128])
    parser.add_argument("--seconds", type=float, default=0.6, help="timing per configuration")
    parser.add_argument("--worker", choices=CONTESTANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.threads, args.batches, args.seconds)
        return
    times: dict[str, dict[str, list[float]]] = {c: {} for c in CONTESTANTS}
    for round_ in range(args.rounds):
        order = CONTESTANTS[round_ % 3:] + CONTESTANTS[:round_ % 3]
        for contestant in order:
            output = subprocess.run(
                [sys.executable, "-m", "bench.capture", "--worker", contestant,
                 "--threads", str(args.threads), "--seconds", str(args.seconds),
                 "--batches", *map(str, args.batches)],
                env=_thread_env(args.threads), capture_output=True, text=True, check=True)
            for key, value in json.loads(output.stdout.splitlines()[-1]).items():
                times[contestant].setdefault(key, []).append(value)
    load = os.getloadavg()
    print(f"MLP 784-256-256-10 float32 step, {args.threads} thread(s), median of {args.rounds} "
          f"rounds, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"{'workload':<12}{'eager us':>10}{'jit us':>10}{'torch us':>10}"
          f"{'jit/torch':>11}{'eager/torch':>13}")
    for key in times["jit"]:
        eager, jit, torch = (statistics.median(times[c][key]) * 1e6 for c in CONTESTANTS)
        print(f"{key:<12}{eager:>10.1f}{jit:>10.1f}{torch:>10.1f}{jit / torch:>11.2f}"
              f"{eager / torch:>13.2f}")


if __name__ == "__main__":
    main()
