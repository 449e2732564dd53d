"""Benchmark: what version counters cost on the MLP 784-256-256-10 SGD step (batch 16 and 128).

A recorded node that saved arrays notes the library's write count and, when one of its inputs
has a version counter (the parameters, once an optimizer wrote them), their versions
(``function._versions``); backward compares them only for nodes with a write since. "without"
replaces that function by one returning None, which records nothing (this step writes nothing
between forward and backward, so no comparison runs either way); the view bookkeeping (one
``base`` test per op) and the loop asking for counters stay. Each timing runs in its own
process with one thread, the two variants alternating round after round so that load on the
machine hits both alike; each is summarised by the median over rounds of its best block. Time is
the process's CPU time: on a shared, loaded machine the wall clock also counts the time the
process waits for a core, which swamps a difference of a few percent.

Run: ``.venv/bin/python -m bench.versions [--rounds 9] [--batches 16 128]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in the child process: best time per step (seconds) over a few blocks of steps.
STEP_TIMER = """
import sys, time
import autograd_core.function
from bench.mlp import data, fused_model, ours
batch, calls, checked = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "with"
if not checked:
    autograd_core.function._versions = lambda inputs, output: None
step = ours(fused_model(), "SGD", *data(batch))
for _ in range(10):
    step()
best = float("inf")
for _ in range(5):
    start = time.process_time()
    for _ in range(calls):
        step()
    best = min(best, (time.process_time() - start) / calls)
print(best)
"""


def step_seconds(variant: str, batch: int, calls: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", STEP_TIMER, str(batch), str(calls), variant],
                         env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 128])
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}")
    for batch in args.batches:
        calls = 200 if batch <= 16 else 40
        times: dict[str, list[float]] = {"without": [], "with": []}
        for _ in range(args.rounds):
            for variant, seconds in times.items():
                seconds.append(step_seconds(variant, batch, calls))
        without, with_ = (statistics.median(v) for v in times.values())
        print(f"batch {batch:4d}: without {without * 1e6:8.1f} us   with {with_ * 1e6:8.1f} us   "
              f"overhead {100 * (with_ / without - 1):+.1f}%  (CPU time per step, medians of "
              f"{args.rounds} rounds)")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
