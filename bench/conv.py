"""conv2d forward + backward, ours against PyTorch, each contestant in its own process.

Workload: a 3x3 convolution, 16 -> 32 channels, padding 1, on a batch of 32 float32 images of
28 x 28 (a middle layer of a small CNN): the forward, then the backward of a fixed upstream
gradient into the input, the weight and the bias.

Each timing round starts one fresh process per contestant (alternating which goes first), with
OPENBLAS/OMP/MKL_NUM_THREADS set before numpy or PyTorch load, and ``torch.set_num_threads`` to
the same count. The process warms up, times ``--calls`` steps and prints its median; the report
gives the median over rounds and the ratio ours / PyTorch. Processes keep the two libraries'
thread pools and allocators apart, so neither inherits the other's busy threads or caches.

Run: ``.venv/bin/python -m bench.conv [--rounds 7] [--threads 1 2] [--calls 20] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.harness import Result, common_arguments, emit, median_step_seconds, python

ROOT = Path(__file__).resolve().parent.parent
BATCH, C_IN, C_OUT, SIZE, KERNEL = 32, 16, 32, 28, 3
WORKLOAD = f"conv2d fwd+bwd, {BATCH}x{C_IN}x{SIZE}x{SIZE} -> {C_OUT}, {KERNEL}x{KERNEL}, pad 1"
CONTESTANTS = ("ours", "torch")


def arrays():
    """The input, weight, bias and upstream gradient, float32, the same for both contestants."""
    import numpy as np

    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(C_IN * KERNEL * KERNEL)
    return (rng.standard_normal((BATCH, C_IN, SIZE, SIZE)).astype(np.float32),
            rng.uniform(-bound, bound, (C_OUT, C_IN, KERNEL, KERNEL)).astype(np.float32),
            rng.uniform(-bound, bound, C_OUT).astype(np.float32),
            rng.standard_normal((BATCH, C_OUT, SIZE, SIZE)).astype(np.float32))


def ours_step():
    import autograd_core as ag

    x, w, b, g = arrays()
    x, w, b = (ag.tensor(a, requires_grad=True) for a in (x, w, b))

    def step() -> None:
        x.grad = w.grad = b.grad = None
        ag.conv2d(x, w, b, padding=1).backward(g)

    return step


def torch_step():
    import torch

    x, w, b, g = (torch.from_numpy(a) for a in arrays())
    x, w, b = (t.requires_grad_() for t in (x, w, b))

    def step() -> None:
        x.grad = w.grad = b.grad = None
        torch.nn.functional.conv2d(x, w, b, padding=1).backward(g)

    return step


def worker(contestant: str, threads: int, calls: int) -> float:
    """Median seconds per step in this process (the environment already limits the threads)."""
    if contestant == "torch":
        import torch

        torch.set_num_threads(threads)
    step = ours_step() if contestant == "ours" else torch_step()
    return median_step_seconds(step, calls)


def spawn(contestant: str, threads: int, calls: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **{
        var: str(threads) for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                      "MKL_NUM_THREADS")})
    done = subprocess.run([python(), "-m", "bench.conv", "--worker", contestant,
                           "--threads", str(threads), "--calls", str(calls)],
                          capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def run(rounds: int, thread_counts: tuple[int, ...], calls: int) -> list[Result]:
    results = []
    for threads in thread_counts:
        times: dict[str, list[float]] = {name: [] for name in CONTESTANTS}
        for i in range(rounds):
            order = CONTESTANTS if i % 2 == 0 else CONTESTANTS[::-1]
            for name in order:
                times[name].append(spawn(name, threads, calls))
        label = f"{WORKLOAD}, {threads} thread{'s' if threads > 1 else ''}"
        results += [Result(label, name, statistics.median(values))
                    for name, values in times.items()]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_arguments(parser)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--calls", type=int, default=20, help="timed steps per process")
    parser.add_argument("--worker", choices=CONTESTANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps({"seconds": worker(args.worker, args.threads[0], args.calls)}))
        return
    print(f"load average at start: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    emit(run(args.rounds, tuple(args.threads), args.calls), "ours", args.json)


if __name__ == "__main__":
    main()
