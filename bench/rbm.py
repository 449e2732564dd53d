"""Benchmark: one epoch of CD-1 training of an RBM, nn.RBM against scikit-learn, numpy, PyTorch.

The task: 2000 binary samples of 784 features, 256 hidden units, mini-batches of 20,
one pass over the data, float32. The data are random Bernoulli(0.2) pixels (seed 0), about the
density of binarised MNIST; the time of a CD step does not depend on the pixel values.

Contestants, each in its own processes (``bench.harness``: alternating, the same thread count
for numpy's BLAS and PyTorch):

- ``nn.RBM``: ``nn.RBM(784, 256, k=1, lr=0.1, batch_size=20, epochs=1).fit(X)`` with the Numba
  Gibbs kernel and with its numpy twin (``kernels.use_jit(False)``); the RBM trains on one BLAS
  thread by default, so with several threads it is also timed with ``blas_threads=None``;
- ``sklearn``: ``BernoulliRBM(n_components=256, learning_rate=0.1, batch_size=20, n_iter=1).fit``
  on float64 data (its usual dtype, the reference) and on float32 data (which it keeps); it runs
  PCD-1, which costs the same as CD-1;
- ``numpy``: a plain hand-written float32 CD-1 loop, the floor that an implementation on numpy is
  measured against;
- ``torch``: the same loop in PyTorch on the CPU, when installed.

``fit`` includes input validation and initialisation for both libraries.

Run: ``.venv/bin/python -m bench.rbm [--rounds 5] [--threads 1 2]``
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from bench.harness import Case, common_arguments, emit, import_torch, run_modules

PROCESSES = ("ours", "sklearn", "numpy", "torch")
REFERENCE = "sklearn float64"
WORKLOAD = "RBM CD-1 epoch, 2000 x 784, 256 hidden, batch 20"
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


def data() -> np.ndarray:
    return (np.random.default_rng(0).random((N, N_VISIBLE)) < 0.2).astype(np.float32)


def ours(X: np.ndarray, jit: bool, blas_threads: int | None) -> Callable[[], None]:
    import nn
    from autograd_core import kernels

    def run() -> None:
        with kernels.use_jit(jit):
            nn.RBM(N_VISIBLE, N_HIDDEN, k=1, lr=LR, batch_size=BATCH, epochs=1, seed=0,
                   verbose=0, blas_threads=blas_threads).fit(X)
    return run


def sklearn(X: np.ndarray) -> Callable[[], None]:
    from sklearn.neural_network import BernoulliRBM

    return lambda: BernoulliRBM(n_components=N_HIDDEN, learning_rate=LR, batch_size=BATCH,
                                n_iter=1, random_state=0).fit(X)


def cases(process: str, threads: int) -> list[Case]:
    X32 = data()
    runs = {}
    if process == "ours":
        runs = {"nn.RBM, numba kernel": ours(X32, True, 1),
                "nn.RBM, numpy twin": ours(X32, False, 1)}
        if threads > 1:
            runs["nn.RBM, numba kernel, blas_threads=None"] = ours(X32, True, None)
    elif process == "sklearn":
        runs = {"sklearn float64": sklearn(X32.astype(np.float64)),
                "sklearn float32": sklearn(X32)}
    elif process == "numpy":
        runs = {"numpy by hand float32": lambda: numpy_cd1(X32)}
    else:
        torch_run = torch_cd1(import_torch(threads))
        runs = {"PyTorch float32": lambda: torch_run(X32)}
    return [Case(WORKLOAD, name, run, max_calls=1, blocks=3, warmup=1)
            for name, run in runs.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_arguments(parser, threads=True)
    args = parser.parse_args()
    emit(run_modules(["bench.rbm"], args), REFERENCE, args.json)


if __name__ == "__main__":
    main()
