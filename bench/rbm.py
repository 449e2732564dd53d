"""Benchmark: one epoch of CD-1 training of an RBM, nn.RBM against scikit-learn, numpy, PyTorch.

The task: 2000 binary samples of 784 features, 256 hidden units, mini-batches of 20,
one pass over the data, float32. The data are random Bernoulli(0.2) pixels (seed 0), about the
density of binarised MNIST; the time of a CD step does not depend on the pixel values.

Contestants, all run in this one process and interleaved (each round times every contestant
once, so load on the machine hits them alike):

- ``nn.RBM``: ``nn.RBM(784, 256, k=1, lr=0.1, batch_size=20, epochs=1).fit(X)`` with the Numba
  Gibbs kernel, with its numpy twin (``kernels.use_jit(False)``), and with ``blas_threads=None``
  (BLAS left at its process default instead of the RBM's default of one thread while training);
- ``sklearn``: ``BernoulliRBM(n_components=256, learning_rate=0.1, batch_size=20, n_iter=1).fit``
  on float64 data (its usual dtype) and on float32 data (which it keeps); it runs PCD-1, which
  costs the same as CD-1;
- ``numpy``: a plain hand-written float32 CD-1 loop, the floor that an implementation on numpy is
  measured against;
- ``torch``: the same loop in PyTorch on the CPU, only if torch is importable.

``fit`` includes input validation and initialisation for both libraries. The other libraries
are timed with their default threads and again limited to one thread (threadpoolctl; PyTorch's
own ``set_num_threads``). The table gives medians, best runs (less sensitive to other load on
the machine) and the speed-up of each median over scikit-learn's float64 median, with its default
threads and at its faster thread setting.

Run: ``.venv/bin/python bench/rbm.py [--rounds 7]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
from sklearn.neural_network import BernoulliRBM
from threadpoolctl import threadpool_info, threadpool_limits

import nn
from autograd_core import kernels

N, N_VISIBLE, N_HIDDEN, BATCH, LR = 2000, 784, 256, 20, 0.1


def numpy_cd1(X: np.ndarray) -> None:
    """The straightforward float32 CD-1 epoch, as one would write it by hand."""
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.01, (N_VISIBLE, N_HIDDEN)).astype(np.float32)
    b_v = np.zeros(N_VISIBLE, np.float32)
    b_h = np.zeros(N_HIDDEN, np.float32)
    for start in range(0, len(X), BATCH):
        v0 = X[start:start + BATCH]
        h0 = 1 / (1 + np.exp(-(v0 @ W + b_h)))
        h_sample = (rng.random(h0.shape, dtype=np.float32) < h0).astype(np.float32)
        v1 = 1 / (1 + np.exp(-(h_sample @ W.T + b_v)))
        v_sample = (rng.random(v1.shape, dtype=np.float32) < v1).astype(np.float32)
        h1 = 1 / (1 + np.exp(-(v_sample @ W + b_h)))
        W += (LR / len(v0)) * (v0.T @ h0 - v_sample.T @ h1)
        b_v += LR * (v0.mean(axis=0) - v_sample.mean(axis=0))
        b_h += LR * (h0.mean(axis=0) - h1.mean(axis=0))


def torch_cd1(torch) -> Callable[[np.ndarray], None]:
    def run(X: np.ndarray) -> None:
        gen = torch.Generator().manual_seed(0)
        x = torch.from_numpy(X)
        W = torch.randn(N_VISIBLE, N_HIDDEN, generator=gen) * 0.01
        b_v, b_h = torch.zeros(N_VISIBLE), torch.zeros(N_HIDDEN)
        for start in range(0, len(x), BATCH):
            v0 = x[start:start + BATCH]
            h0 = torch.sigmoid(v0 @ W + b_h)
            h_sample = torch.bernoulli(h0, generator=gen)
            v_sample = torch.bernoulli(torch.sigmoid(h_sample @ W.T + b_v), generator=gen)
            h1 = torch.sigmoid(v_sample @ W + b_h)
            W += (LR / len(v0)) * (v0.T @ h0 - v_sample.T @ h1)
            b_v += LR * (v0.mean(0) - v_sample.mean(0))
            b_h += LR * (h0.mean(0) - h1.mean(0))
    return run


def contestants(X32: np.ndarray) -> dict[tuple[str, str], Callable[[], None]]:
    """(contestant, threads) -> a function running one epoch."""
    X64 = X32.astype(np.float64)
    default = str(max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"),
                      default=1))

    def ours(jit: bool, blas_threads: int | None) -> Callable[[], None]:
        def run() -> None:
            with kernels.use_jit(jit):
                nn.RBM(N_VISIBLE, N_HIDDEN, k=1, lr=LR, batch_size=BATCH, epochs=1, seed=0,
                       verbose=0, blas_threads=blas_threads).fit(X32)
        return run

    def one_thread(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            with threadpool_limits(limits=1):
                fn()
        return run

    def sklearn(X: np.ndarray) -> Callable[[], None]:
        return lambda: BernoulliRBM(n_components=N_HIDDEN, learning_rate=LR, batch_size=BATCH,
                                    n_iter=1, random_state=0).fit(X)

    runs = {
        ("nn.RBM, numba kernel", "1 (its default)"): ours(True, 1),
        ("nn.RBM, numpy twin", "1 (its default)"): ours(False, 1),
        ("nn.RBM, numba kernel, blas_threads=None", default): ours(True, None),
        ("sklearn BernoulliRBM float64", default): sklearn(X64),
        ("sklearn BernoulliRBM float64", "1"): one_thread(sklearn(X64)),
        ("sklearn BernoulliRBM float32", default): sklearn(X32),
        ("sklearn BernoulliRBM float32", "1"): one_thread(sklearn(X32)),
        ("numpy by hand float32", default): lambda: numpy_cd1(X32),
        ("numpy by hand float32", "1"): one_thread(lambda: numpy_cd1(X32)),
    }
    try:
        import torch
    except ImportError:
        return runs
    torch_run = torch_cd1(torch)
    threads = torch.get_num_threads()

    def torch_one_thread() -> None:
        torch.set_num_threads(1)
        try:
            torch_run(X32)
        finally:
            torch.set_num_threads(threads)

    runs["PyTorch CPU float32", str(threads)] = lambda: torch_run(X32)
    runs["PyTorch CPU float32", "1"] = torch_one_thread
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed runs of each contestant")
    args = parser.parse_args()

    X32 = (np.random.default_rng(0).random((N, N_VISIBLE)) < 0.2).astype(np.float32)
    runs = contestants(X32)
    times: dict[tuple[str, str], list[float]] = {key: [] for key in runs}
    for run in runs.values():  # warm-up: numba compile/cache load, BLAS thread start
        run()
    for _ in range(args.rounds):
        for key, run in runs.items():
            start = time.perf_counter()
            run()
            times[key].append(time.perf_counter() - start)

    sklearn = {threads: statistics.median(values) for (name, threads), values in times.items()
               if name == "sklearn BernoulliRBM float64"}
    default, best = sklearn[max(sklearn, key=len)], min(sklearn.values())
    print(f"One epoch of CD-1: {N} x {N_VISIBLE} binary samples, {N_HIDDEN} hidden, batch "
          f"{BATCH}; median of {args.rounds} runs; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| contestant | BLAS threads | median (ms) | best (ms) | speed-up vs sklearn float64, "
          "default threads | vs sklearn float64, its faster setting |")
    print("|---|---|---:|---:|---:|---:|")
    for (name, threads), values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {threads} | {median * 1e3:.1f} | {min(values) * 1e3:.1f} | "
              f"{default / median:.2f}x | {best / median:.2f}x |")


if __name__ == "__main__":
    main()
