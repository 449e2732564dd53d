"""Benchmark: the MLP training step of ``bench.mlp`` captured by ``ag.jit``.

The workload is ``bench.mlp``'s: MLP 784-256-256-10 (ReLU), float32, softmax cross-entropy on
integer labels, SGD (lr 0.01) or Adam (lr 1e-3), batch 1, 16 and 128; a step is zero_grad,
forward, loss, backward, optimizer step. This module adds one contestant, ``ours, ag.jit``: the
same step (same fused ``nn.Sequential``, loss and optimizer as ``ours``, the batch passed as
arguments ``step(x, y)`` as in a training loop) wrapped in ``ag.jit`` and timed on replays only.
It runs in its own process kind, ``jit`` (as do the captured cases of ``bench.ops`` and
``bench.micrograd``), so eager ``ours``, ``ours, ag.jit``, ``numpy`` and ``torch`` never share a
process.

Before it is timed, each captured step is called three times (two recording calls, one replay)
next to an eager twin of the same model built from the same seed, and the parameters must agree:
a replay that skipped work would otherwise be timed as a fast one.

Method: ``bench.harness`` (each process kind in its own fresh processes, rotating order, the same
BLAS/OpenMP/PyTorch thread count in each; per process the median of blocks of calls after
warm-up, CPU time at 1 thread and wall time at 2; per row the median over rounds).

Run: ``.venv/bin/python -m bench.capture [--rounds 5] [--threads 1 2]``: the full ``bench.mlp``
table (eager, numpy, PyTorch) with the captured rows; ``python -m bench`` puts them in its ``mlp``
section and checks the captured-step goals.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

import autograd_core as ag
import nn
from bench.harness import (
    JIT,
    Case,
    assert_same_arrays,
    common_arguments,
    emit,
    run_modules,
)
from bench.mlp import BATCHES, BETAS, EPS, LR_ADAM, LR_SGD, data, fused_model

PROCESSES = ("jit",)
SEED = 0


def training_step(model: nn.Module, optimizer: str) -> Callable[[ag.Tensor, np.ndarray], None]:
    """``step(x, y)``: ``bench.mlp.ours``'s step with the batch as arguments, as in a loop."""
    opt = nn.optim.SGD(model.parameters(), lr=LR_SGD) if optimizer == "SGD" else \
        nn.optim.Adam(model.parameters(), lr=LR_ADAM, betas=BETAS, eps=EPS)
    loss_fn = nn.CrossEntropyLoss()

    def step(x: ag.Tensor, y: np.ndarray) -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def captured_step(optimizer: str, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """The step wrapped in ``ag.jit``, recorded, and checked against an eager twin."""
    ag.manual_seed(SEED)
    model = fused_model()
    step = ag.jit(training_step(model, optimizer))
    ag.manual_seed(SEED)
    twin = fused_model()
    eager = training_step(twin, optimizer)
    xt = ag.Tensor(x)
    for _ in range(3):  # two recording calls, then the first replay
        step(xt, y)
        eager(xt, y)
    assert_same_arrays([p.data for p in model.parameters()],
                       [p.data for p in twin.parameters()],
                       f"MLP {optimizer} step, batch {len(y)}, parameters after 3 steps")
    return lambda: step(xt, y)


def cases(process: str, threads: int) -> list[Case]:
    found = []
    for batch in BATCHES:
        for optimizer in ("SGD", "Adam"):
            x, y = data(batch)
            found.append(Case(f"MLP step, batch {batch}, {optimizer}", JIT,
                              captured_step(optimizer, x, y)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_arguments(parser, threads=True)
    args = parser.parse_args()
    emit(run_modules(["bench.mlp", "bench.capture"], args), "numpy", args.json)


if __name__ == "__main__":
    main()
