"""Benchmark: one LSTM step, forward and backward, ours against PyTorch, each in its own process.

The workload: ``nn.LSTM(128, 128)`` on a float32 sequence of 35 steps, batch 32; a step is zero
the gradients, run the layer, weight its output by fixed random numbers, sum, and backward (to
the input and every weight). PyTorch runs ``torch.nn.LSTM`` with the same shapes.

Unlike the other benchmarks, each timing is taken in a fresh process (``--child``), so that the
two libraries never share a process, a BLAS pool or a cache; ours and PyTorch alternate, round
after round, with the same thread count (numpy's BLAS and PyTorch's intra-op threads), and each
child reports the median of ``--calls`` steps after a warm-up. The table gives the median over
rounds and the ratio ours / torch, with the load average before and after.

Run: ``.venv/bin/python -m bench.lstm [--rounds 7] [--threads 1 2] [--calls 20]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess

from bench.harness import markdown_table, median_step_seconds, python

STEPS, BATCH, INPUT, HIDDEN = 35, 32, 128, 128
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def child(contestant: str, threads: int, calls: int) -> float:
    """The median seconds of one step of ``contestant``, measured in this process."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((STEPS, BATCH, INPUT), dtype=np.float32)
    weights = rng.standard_normal((STEPS, BATCH, HIDDEN), dtype=np.float32)
    if contestant == "ours":
        import autograd_core as ag
        import nn

        ag.manual_seed(0)
        layer, xt = nn.LSTM(INPUT, HIDDEN), ag.Tensor(x)

        def step() -> None:
            layer.zero_grad()
            output, _ = layer(xt)
            (output * weights).sum().backward()
    else:
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        layer, xt = torch.nn.LSTM(INPUT, HIDDEN), torch.from_numpy(x)
        weights_t = torch.from_numpy(weights)

        def step() -> None:
            layer.zero_grad()
            output, _ = layer(xt)
            (output * weights_t).sum().backward()

    return median_step_seconds(step, calls)


def measure(contestant: str, threads: int, calls: int) -> float:
    env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, str(threads))}
    out = subprocess.run([python(), "-m", "bench.lstm", "--child", contestant, "--threads",
                          str(threads), "--calls", str(calls)],
                         env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def run(rounds: int, thread_counts: list[int], calls: int) -> str:
    load_before = os.getloadavg()
    rows = []
    for threads in thread_counts:
        times: dict[str, list[float]] = {"ours": [], "torch": []}
        for i in range(rounds):
            order = ["ours", "torch"] if i % 2 == 0 else ["torch", "ours"]
            for contestant in order:
                times[contestant].append(measure(contestant, threads, calls))
        ours, theirs = (statistics.median(times[name]) for name in ("ours", "torch"))
        rows.append([f"LSTM step fwd+bwd, {threads} thread{'s' if threads > 1 else ''}",
                     f"{ours * 1e3:.1f} ms", f"{theirs * 1e3:.1f} ms", f"{ours / theirs:.2f}x"])
    load_after = os.getloadavg()
    table = markdown_table(["workload (batch 32, 128 -> 128, 35 steps, float32)", "ours",
                            "torch", "ours / torch"], rows)
    loads = " / ".join(f"{v:.2f}" for v in load_before), " / ".join(f"{v:.2f}" for v in load_after)
    return (f"{table}\n\nmedian of {rounds} rounds, each a fresh process timing {calls} steps; "
            f"{os.cpu_count()} cores; load average (1/5/15 min) before {loads[0]}, after "
            f"{loads[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="processes per contestant")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--calls", type=int, default=20, help="timed steps per process")
    parser.add_argument("--child", choices=["ours", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.threads[0], args.calls)))
        return
    print(run(args.rounds, args.threads, args.calls))


if __name__ == "__main__":
    main()
