"""Benchmark: what version counters cost on the MLP 784-256-256-10 SGD step (batch 16 and 128).

The check (each node records the versions of the arrays it saved, backward compares them) has
no switch, so the step is timed on two trees: this one, and a commit without counters (the
``--base`` commit, exported with ``git archive`` into a temporary folder). Each timing runs in
its own process with one thread, the two trees alternating round after round, so that load on
the machine hits both alike; each tree is summarised by the median over rounds of its best
block.

Run: ``.venv/bin/python -m bench.versions [--base f788635] [--rounds 7]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in the child process: best time per step (seconds) over a few blocks of steps.
STEP_TIMER = """
import sys, time
from bench.mlp import data, fused_model, ours
batch, calls = int(sys.argv[1]), int(sys.argv[2])
step = ours(fused_model(), "SGD", *data(batch))
for _ in range(10):
    step()
best = float("inf")
for _ in range(5):
    start = time.perf_counter()
    for _ in range(calls):
        step()
    best = min(best, (time.perf_counter() - start) / calls)
print(best)
"""


def export(commit: str, into: Path) -> Path:
    """The files of ``commit`` under ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def step_seconds(tree: Path, batch: int, calls: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", STEP_TIMER, str(batch), str(calls)], env=env,
                         cwd=tree, check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="f788635", help="a commit without version counters")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 128])
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        base = export(args.base, Path(tmp))
        for batch in args.batches:
            calls = 200 if batch <= 16 else 40
            times: dict[str, list[float]] = {"without (base)": [], "with (this tree)": []}
            for _ in range(args.rounds):
                times["without (base)"].append(step_seconds(base, batch, calls))
                times["with (this tree)"].append(step_seconds(ROOT, batch, calls))
            without, with_ = (statistics.median(v) for v in times.values())
            print(f"batch {batch:4d}: without {without * 1e6:8.1f} us   with "
                  f"{with_ * 1e6:8.1f} us   overhead {100 * (with_ / without - 1):+.1f}%")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
