"""Benchmark: micrograd's classic demo, one forward + backward of an MLP 2-16-16-1 on two moons.

micrograd's demo notebook trains ``MLP(2, [16, 16, 1])`` (ReLU hidden layers, linear output) on
100 points of ``sklearn.datasets.make_moons(n_samples=100, noise=0.1)`` with labels in {-1, 1},
and the loss: the mean SVM hinge loss ``relu(1 - y * score)`` plus an L2 penalty
``1e-4 * sum(p * p)`` over every weight. One timed call computes that loss on all 100 points and
backpropagates it (gradients cleared first), float32. micrograd itself builds one Python object
per scalar; it is not installable here, so the contestants are:

- ``ours``: ``nn.Sequential(nn.Linear(2, 16, activation="relu"), nn.Linear(16, 16,
  activation="relu"), nn.Linear(16, 1))`` and the loss written with tensor ops;
- ``ours, ag.jit`` (process kind ``jit``): the same step function wrapped in ``ag.jit``, timed on
  replays after its two recording calls (the captured-step goal: <= 0.5x PyTorch);
- ``numpy``: forward and backward written by hand;
- ``torch``: the same model and loss in PyTorch, when installed.

Each contestant runs in its own processes, alternating, with the same thread count.

Run: ``.venv/bin/python -m bench.micrograd [--rounds 5] [--threads 1 2]``
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
from sklearn.datasets import make_moons

import autograd_core as ag
import nn
from bench.harness import (
    JIT,
    Case,
    assert_same_arrays,
    common_arguments,
    dense_params,
    emit,
    import_torch,
    run_modules,
)

PROCESSES = ("ours", "jit", "numpy", "torch")

SIZES, ALPHA = (2, 16, 16, 1), 1e-4
WORKLOAD = "micrograd demo: MLP 2-16-16-1, 100 moons, fwd+bwd"


def moons() -> tuple[np.ndarray, np.ndarray]:
    x, y = make_moons(n_samples=100, noise=0.1, random_state=1)
    return x.astype(np.float32), (2 * y - 1).astype(np.float32).reshape(-1, 1)


def hinge_step(model: nn.Module) -> Callable[[ag.Tensor, ag.Tensor], None]:
    """``step(x, y)``: clear the gradients, the loss on all points, backward."""
    params = list(model.parameters())

    def step(x: ag.Tensor, y: ag.Tensor) -> None:
        model.zero_grad()
        margins = (1 - y * model(x)).relu()
        penalty = ag.stack([(p * p).sum() for p in params]).sum()
        (margins.mean() + ALPHA * penalty).backward()

    return step


def ours(x: np.ndarray, y: np.ndarray, jit: bool = False) -> Callable[[], None]:
    """Our step, eager or (``jit``) wrapped in ``ag.jit``: then recorded (two calls), replayed
    once and checked against an eager call's gradients before it is timed."""
    model = nn.Sequential(nn.Linear(2, 16, activation="relu"),
                          nn.Linear(16, 16, activation="relu"), nn.Linear(16, 1))
    xt, yt = ag.Tensor(x), ag.Tensor(y)
    eager = hinge_step(model)
    if not jit:
        return lambda: eager(xt, yt)
    step = ag.jit(eager)
    for _ in range(3):
        step(xt, yt)
    replayed = [p.grad.data.copy() for p in model.parameters()]
    eager(xt, yt)
    assert_same_arrays(replayed, [p.grad.data for p in model.parameters()],
                       "micrograd gradients")
    return lambda: step(xt, yt)


def numpy_by_hand(x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    params = dense_params(SIZES)

    def step() -> None:
        acts, h = [x], x
        for i in range(0, len(params), 2):
            h = h @ params[i].T + params[i + 1]
            if i + 2 < len(params):
                h = np.maximum(h, 0)
            acts.append(h)
        margins = 1 - y * h
        loss = np.maximum(margins, 0).mean() + ALPHA * sum((p * p).sum() for p in params)
        grads = [2 * ALPHA * p for p in params]
        grad = -y * (margins > 0) / len(y)
        for i in range(len(params) - 2, -1, -2):
            a_in = acts[i // 2]
            grads[i] += grad.T @ a_in
            grads[i + 1] += grad.sum(axis=0)
            if i:
                grad = (grad @ params[i]) * (a_in > 0)
        assert np.isfinite(loss)

    return step


def torch_step(torch, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                                torch.nn.ReLU(), torch.nn.Linear(16, 1))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> None:
        model.zero_grad()
        margins = torch.relu(1 - yt * model(xt))
        penalty = sum((p * p).sum() for p in model.parameters())
        (margins.mean() + ALPHA * penalty).backward()

    return step


def cases(process: str, threads: int) -> list[Case]:
    x, y = moons()
    if process == "torch":
        step = torch_step(import_torch(threads), x, y)
        return [Case(WORKLOAD, "torch", step, unit="us")]
    if process == "jit":
        return [Case(WORKLOAD, JIT, ours(x, y, jit=True), unit="us")]
    step = {"ours": ours, "numpy": numpy_by_hand}[process](x, y)
    return [Case(WORKLOAD, process, step, unit="us")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_arguments(parser, threads=True)
    args = parser.parse_args()
    emit(run_modules(["bench.micrograd"], args), "numpy", args.json)


if __name__ == "__main__":
    main()
