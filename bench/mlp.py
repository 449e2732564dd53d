"""Benchmark: one training step of an MLP 784-256-256-10 (ReLU), float32, against numpy and PyTorch.

A step is: zero the gradients, forward, softmax cross-entropy on integer labels, backward, and an
optimizer update (SGD lr=0.01, or Adam lr=1e-3), at batch sizes 1, 16 and 128. Contestants:

- ``ours``: ``nn.Sequential(nn.Linear(784, 256, activation="relu"), nn.Linear(256, 256,
  activation="relu"), nn.Linear(256, 10))`` (the fused layers), ``nn.CrossEntropyLoss``,
  ``nn.optim.SGD`` / ``nn.optim.Adam``;
- ``ours, nn.MLP``: the same with ``nn.MLP([784, 256, 256, 10])`` (whatever path nn.MLP takes);
- ``numpy``: the step written by hand in numpy (matmuls, in-place updates, no graph), the floor
  that an engine on numpy is measured against;
- ``torch``: the same model with torch.nn, ``F.cross_entropy`` and torch.optim, when installed;
  for Adam also with ``torch.set_flush_denormal(True)``, since our Adam flushes its subnormal
  moments to zero (repeating one batch drives many of them there; see ``bench/RESULTS.md``).

Each of ``ours`` (both models), ``numpy`` and ``torch`` runs in its own processes, with the same
thread count (``bench.harness``).

Run: ``.venv/bin/python -m bench.mlp [--rounds 5] [--threads 1 2]``
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

import autograd_core as ag
import nn
from bench.harness import (
    Case,
    common_arguments,
    dense_params,
    emit,
    import_torch,
    run_modules,
)

PROCESSES = ("ours", "numpy", "torch")
BATCHES = (1, 16, 128)
SIZES = (784, 256, 256, 10)
LR_SGD, LR_ADAM, BETAS, EPS = 0.01, 1e-3, (0.9, 0.999), 1e-8


def data(batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((batch, SIZES[0]), dtype=np.float32), rng.integers(0, SIZES[-1], batch)


def fused_model() -> nn.Sequential:
    hidden = [nn.Linear(n_in, n_out, activation="relu")
              for n_in, n_out in zip(SIZES[:-2], SIZES[1:-1])]
    return nn.Sequential(*hidden, nn.Linear(SIZES[-2], SIZES[-1]))


def ours(model: nn.Module, optimizer: str, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    opt = nn.optim.SGD(model.parameters(), lr=LR_SGD) if optimizer == "SGD" else \
        nn.optim.Adam(model.parameters(), lr=LR_ADAM, betas=BETAS, eps=EPS)
    loss_fn = nn.CrossEntropyLoss()
    xt = ag.Tensor(x)

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(xt), y).backward()
        opt.step()

    return step


def numpy_by_hand(optimizer: str, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """The step written out in numpy: forward keeps the activations, backward applies the
    rules, the update runs in place. Weights (out, in) as in the other contestants."""
    params = dense_params(SIZES)
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    rows = np.arange(len(y))
    counter = [0]

    def update(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray) -> None:
        if optimizer == "SGD":
            p -= LR_SGD * g
            return
        t = counter[0]
        m *= BETAS[0]
        m += (1 - BETAS[0]) * g
        v *= BETAS[1]
        v += (1 - BETAS[1]) * g * g
        denom = np.sqrt(v / (1 - BETAS[1] ** t))
        denom += EPS
        p -= (LR_ADAM / (1 - BETAS[0] ** t)) * m / denom

    def step() -> None:
        counter[0] += 1
        acts = [x]
        h = x
        for i in range(0, len(params), 2):
            z = h @ params[i].T
            z += params[i + 1]
            if i + 2 < len(params):
                np.maximum(z, 0, out=z)
            acts.append(z)
            h = z
        e = np.exp(h - h.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        grad = probs
        grad[rows, y] -= 1
        grad /= len(y)
        for i in range(len(params) - 2, -1, -2):
            a_in = acts[i // 2]
            grad_w, grad_b = grad.T @ a_in, grad.sum(axis=0)
            if i:
                grad = grad @ params[i]
                grad *= a_in > 0
            update(params[i], grad_w, *moments[i])
            update(params[i + 1], grad_b, *moments[i + 1])

    return step


def torch_step(torch, optimizer: str, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=LR_SGD) if optimizer == "SGD" else \
        torch.optim.Adam(model.parameters(), lr=LR_ADAM, betas=BETAS, eps=EPS)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> None:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()

    return step


def cases(process: str, threads: int) -> list[Case]:
    """The steps one process times: every batch size and optimizer."""
    torch = import_torch(threads) if process == "torch" else None
    found = []
    for batch in BATCHES:
        for optimizer in ("SGD", "Adam"):
            x, y = data(batch)
            workload = f"MLP step, batch {batch}, {optimizer}"
            if process == "ours":
                found += [Case(workload, "ours", ours(fused_model(), optimizer, x, y)),
                          Case(workload, "ours, nn.MLP",
                               ours(nn.MLP(list(SIZES)), optimizer, x, y))]
            elif process == "numpy":
                found.append(Case(workload, "numpy", numpy_by_hand(optimizer, x, y)))
            else:
                found.append(Case(workload, "torch", torch_step(torch, optimizer, x, y)))
                if optimizer == "Adam":  # our Adam flushes subnormal moments; PyTorch can too
                    found.append(Case(workload, "torch, flush_denormal",
                                      flushing(torch, torch_step(torch, optimizer, x, y))))
    return found


def flushing(torch, step: Callable[[], None]) -> Callable[[], None]:
    """``step`` with ``torch.set_flush_denormal(True)`` (subnormal floats computed as zero)."""
    def run() -> None:
        torch.set_flush_denormal(True)
        try:
            step()
        finally:
            torch.set_flush_denormal(False)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_arguments(parser, threads=True)
    args = parser.parse_args()
    emit(run_modules(["bench.mlp"], args), "numpy", args.json)


if __name__ == "__main__":
    main()
