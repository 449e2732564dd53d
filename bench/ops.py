"""Benchmark: the engine's per-op overhead, against hand-written numpy (and PyTorch if installed).

Two workloads:

- ``chain200``: 200 small elementwise ops on a float32 vector of 64 elements, cycling through
  mul-by-weight, add-constant, tanh and sigmoid; forward and backward. Reported in microseconds
  per op. The hand-written numpy version computes the same values and the same gradient with no
  graph at all: it is the floor any engine on numpy pays. ``ours`` runs it eagerly; ``ours,
  ag.jit`` (process kind ``jit``) runs the same function wrapped in ``ag.jit``, timed on replays
  after the two recording calls (and checked against eager's gradients first).
- ``chain50k``: building and backpropagating a chain of 50,000 scalar multiplications.

Each contestant runs in its own processes, alternating, with the same thread count
(``bench.harness``); the table gives medians and the ratio to the numpy floor.

Run: ``.venv/bin/python -m bench.ops [--rounds 5] [--threads 1 2]`` (or as part of
``python -m bench``)
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

import autograd_core as ag
from bench.harness import (
    JIT,
    Case,
    assert_same_arrays,
    common_arguments,
    emit,
    import_torch,
    run_modules,
)

PROCESSES = ("ours", "jit", "numpy", "torch")
CHAIN200 = "chain200: 200 elementwise ops, fwd+bwd, per op"
CHAIN50K = "chain50k: build + backward of 50,000 muls"
SIZE, CHAIN, LONG_CHAIN = 64, 200, 50_000
rng = np.random.default_rng(0)
X0 = rng.standard_normal(SIZE).astype(np.float32)
W0 = (1 + 0.01 * rng.standard_normal(SIZE)).astype(np.float32)


def chain(x: ag.Tensor, w: ag.Tensor) -> None:
    """The chain on our tensors, forward and backward: the gradients land in x.grad, w.grad."""
    y = x
    for _ in range(CHAIN // 4):
        y = (y * w + 0.1).tanh().sigmoid()
    y.sum().backward()


def leaves() -> tuple[ag.Tensor, ag.Tensor]:
    return ag.Tensor(X0, requires_grad=True), ag.Tensor(W0, requires_grad=True)


def chain_ours() -> None:
    chain(*leaves())


def chain_jit() -> Callable[[], None]:
    """``chain`` wrapped in ``ag.jit``, recorded (two calls), replayed once and checked against
    eager; each timed call clears the gradients first, as eager's fresh leaves have none."""
    step = ag.jit(chain)
    x, w = leaves()

    def run() -> None:
        x.grad = w.grad = None
        step(x, w)

    for _ in range(3):
        run()
    expected = leaves()
    chain(*expected)
    assert_same_arrays([x.grad.data, w.grad.data], [t.grad.data for t in expected],
                       "chain200 gradients")
    return run


def chain_numpy() -> None:
    """The same chain by hand: forward keeps what backward needs, backward applies the rules."""
    x, w = X0, W0
    saved = []
    y = x
    for _ in range(CHAIN // 4):
        m = y * w
        t = np.tanh(m + np.float32(0.1))
        s = 1 / (1 + np.exp(-t))
        saved.append((y, t, s))
        y = s
    grad = np.ones_like(y)
    grad_w = np.zeros_like(w)
    for y_in, t, s in reversed(saved):
        grad = grad * s * (1 - s)
        grad = grad * (1 - t * t)
        grad_w = grad_w + grad * y_in
        grad = grad * w
    assert grad.shape == x.shape and grad_w.shape == w.shape


def chain_torch(torch) -> None:
    x = torch.tensor(X0, requires_grad=True)
    w = torch.tensor(W0, requires_grad=True)
    y = x
    for _ in range(CHAIN // 4):
        y = torch.sigmoid(torch.tanh(y * w + 0.1))
    y.sum().backward()


def long_ours() -> None:
    x = ag.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(LONG_CHAIN):
        y = y * 1.00001
    y.backward()


def long_numpy() -> None:
    y = np.float32(1.0)
    factor = np.float32(1.00001)
    values = []
    for _ in range(LONG_CHAIN):
        values.append(y)
        y = y * factor
    grad = np.float32(1.0)
    for _ in values:
        grad = grad * factor


def long_torch(torch) -> None:
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(LONG_CHAIN):
        y = y * 1.00001
    y.backward()


def cases(process: str, threads: int) -> list[Case]:
    if process == "jit":  # the captured chain; the 50,000-op chain is an eager workload
        return [Case(CHAIN200, JIT, chain_jit(), unit="us", per_call=CHAIN)]
    if process == "torch":
        torch = import_torch(threads)
        runs = (lambda: chain_torch(torch), lambda: long_torch(torch))
    else:
        runs = {"ours": (chain_ours, long_ours), "numpy": (chain_numpy, long_numpy)}[process]
    found = [Case(CHAIN200, process, runs[0], unit="us", per_call=CHAIN)]
    if threads == 1:  # pure Python overhead on scalars: no thread has work, so one count will do
        found.append(Case(CHAIN50K, process, runs[1], max_calls=1, blocks=3, warmup=1))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common_arguments(parser, threads=True)
    args = parser.parse_args()
    emit(run_modules(["bench.ops"], args), "numpy", args.json)


if __name__ == "__main__":
    main()
