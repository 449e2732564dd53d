"""Shared helpers of the benchmarks: interleaved timing, medians, tables, the machine's description.

Timing rule: all contestants of one workload run in one process, interleaved round by round
(round 1 times A, B, C; round 2 times A, B, C; ...), and each is summarised by the median over
rounds. Load from other processes then hits every contestant alike, and a burst of it moves a few
rounds, not the median. Each round times a block of ``calls`` back-to-back calls and reports the
time per call, so that very short workloads are not dominated by the timer.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

try:  # PyTorch is optional: every benchmark leaves its column out when it is missing
    import torch
except ImportError:
    torch = None


@dataclass
class Result:
    """One row of a results table: a workload, a contestant, its median and the unit."""

    workload: str
    contestant: str
    seconds: float  # median over rounds, per call
    unit: str = "ms"  # how to print it: "ms", "us" or "s"
    note: str = ""

    def formatted(self) -> str:
        scale = {"s": 1.0, "ms": 1e3, "us": 1e6}[self.unit]
        value = self.seconds * scale
        return f"{value:.3g} {self.unit}" if value < 100 else f"{value:.0f} {self.unit}"


def interleaved(contestants: Mapping[str, Callable[[], object]], rounds: int = 15,
                calls: int | Mapping[str, int] = 1, warmup: int = 2,
                settle: float = 0.0) -> dict[str, float]:
    """The median seconds per call of each contestant, timed in interleaved rounds.

    ``calls`` (one number or one per contestant) is how many calls each timed block makes.
    ``settle`` seconds of sleep precede each block: OpenBLAS's idle workers spin for about
    0.1 s after a call, and in that time they take a core from the next contestant's threads.
    """
    per_block = calls if isinstance(calls, Mapping) else dict.fromkeys(contestants, calls)
    for run in contestants.values():
        for _ in range(warmup):  # first-call costs (caches, compilation, thread start-up)
            run()
    times: dict[str, list[float]] = {name: [] for name in contestants}
    names = list(contestants)
    for i in range(rounds):
        # Rotate the order: whoever runs right after another contestant inherits its busy
        # threads and cache state, and that handicap should not always fall on the same one.
        for name in names[i % len(names):] + names[:i % len(names)]:
            run, n = contestants[name], per_block[name]
            if settle:
                time.sleep(settle)
            start = time.perf_counter()
            for _ in range(n):
                run()
            times[name].append((time.perf_counter() - start) / n)
    return {name: statistics.median(values) for name, values in times.items()}


def calls_for(run: Callable[[], object], target_seconds: float = 0.02) -> int:
    """How many calls of ``run`` take about ``target_seconds`` (at least 1)."""
    run()
    start = time.perf_counter()
    run()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, round(target_seconds / once))


def dense_params(sizes: Sequence[int], seed: int = 1) -> list[np.ndarray]:
    """[W1, b1, W2, b2, ...] of a dense net, W of shape (out, in), float32, drawn like PyTorch's
    default init: U(-1/sqrt(in), 1/sqrt(in)). For the hand-written numpy contestants."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(n_in)
        params += [rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32),
                   rng.uniform(-bound, bound, n_out).astype(np.float32)]
    return params


def torch_threads() -> int | None:
    """Give PyTorch one intra-op thread per core (its usual default); None without PyTorch."""
    if torch is None:
        return None
    torch.set_num_threads(os.cpu_count() or 1)
    return torch.get_num_threads()


@contextlib.contextmanager
def thread_setting(threads: int | None) -> Iterator[None]:
    """None: every library with its default threads (numpy's BLAS, PyTorch: one per core);
    a number: numpy's BLAS and PyTorch both limited to that many threads inside the block."""
    if threads is None:
        torch_threads()
        yield
        return
    from threadpoolctl import threadpool_limits

    if torch is not None:
        torch.set_num_threads(threads)
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; columns after the first two (the numbers) are right-aligned."""
    def align(i: int) -> str:
        return "---:" if i >= 2 else "---"

    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join(align(i) for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio_table(results: Sequence[Result], reference: str) -> str:
    """One line per result, with its ratio to the ``reference`` contestant of the same workload
    (and to PyTorch's, when there is one)."""
    by_workload: dict[str, dict[str, Result]] = {}
    for r in results:
        by_workload.setdefault(r.workload, {})[r.contestant] = r
    has_torch = any("torch" in group for group in by_workload.values())
    headers = ["workload", "contestant", "median", f"vs {reference}"]
    headers += ["vs torch"] if has_torch else []
    rows = []
    for workload, group in by_workload.items():
        ref = group.get(reference)
        torch_result = group.get("torch")
        for name, r in group.items():
            row = [workload, name + (f" ({r.note})" if r.note else ""), r.formatted(),
                   f"{r.seconds / ref.seconds:.2f}x" if ref else "-"]
            if has_torch:
                row.append(f"{r.seconds / torch_result.seconds:.2f}x" if torch_result else "-")
            rows.append(row)
    return markdown_table(headers, rows)


def emit(results: Sequence[Result], reference: str, as_json: bool) -> None:
    """Print the results: JSON lines for the runner, or a markdown table for a person."""
    if as_json:
        print(json.dumps([asdict(r) for r in results]))
    else:
        print(ratio_table(results, reference))


def parse_json_results(text: str) -> list[Result]:
    """The results printed by ``emit(..., as_json=True)`` (the last JSON line of ``text``)."""
    line = [line for line in text.splitlines() if line.startswith("[")][-1]
    return [Result(**fields) for fields in json.loads(line)]


def machine_description() -> list[str]:
    """CPU, cores, load, Python, numpy and its BLAS (threadpoolctl), numba, PyTorch."""
    import numba
    from threadpoolctl import threadpool_info

    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [
        f"CPU: {cpu}, {os.cpu_count()} logical cores; load average at start "
        f"{os.getloadavg()[0]:.2f}",
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}",
        f"numpy {np.__version__}, numba {numba.__version__}",
    ]
    for pool in threadpool_info():
        if pool["user_api"] == "blas":
            lines.append(f"numpy's BLAS: {pool['internal_api']} {pool.get('version')} "
                         f"({pool.get('architecture', '?')} kernels, {pool['num_threads']} "
                         f"threads)")
    if torch is not None:
        lines.append(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)")
    else:
        lines.append("PyTorch: not installed (its columns are left out)")
    return lines


def common_arguments(parser, threads: bool = False) -> None:
    """``--rounds`` and ``--json`` (and ``--threads``), shared by the benchmark modules."""
    parser.add_argument("--rounds", type=int, default=15, help="interleaved timing rounds")
    parser.add_argument("--json", action="store_true", help="print JSON for the runner")
    if threads:
        parser.add_argument("--threads", type=int, default=None,
                            help="limit numpy's BLAS and PyTorch to this many threads "
                                 "(default: each library's own default)")


def python() -> str:
    """The interpreter running the benchmarks (the project's venv when run through it)."""
    return sys.executable
