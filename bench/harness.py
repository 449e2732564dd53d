"""Shared helpers of the benchmarks: one process per contestant, medians, tables, the machine.

Timing rule: every contestant runs in its OWN fresh process (``python -m bench.child``), never
two libraries' thread pools in one process, and every process of a table gets the same thread
count: ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` are set in its
environment and PyTorch's contestants call ``torch.set_num_threads`` with the same number. The
processes alternate: round 1 starts ours, numpy, torch; round 2 starts numpy, torch, ours; and so
on, so load from other programs hits every contestant alike. Inside its process a contestant is
warmed up (kernels compiled or loaded, caches filled), then timed in ``blocks`` blocks of
back-to-back calls (each block about ``BLOCK_SECONDS``); the process reports its median block.
With one thread the clock is the process's CPU time, with several the wall clock
(``clock_for``).
Our captured steps (``ag.jit``, contestant ``JIT``) are a process kind of their own, ``jit``:
eager and captured figures never come from one process.
A table gives, for each contestant, the median over rounds of those per-process medians.

A benchmark module takes part by defining ``PROCESSES`` (the process kinds, e.g. ``("ours",
"numpy", "torch")``) and ``cases(process, threads)``, which builds that process's ``Case``s.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
BLOCK_SECONDS = 0.02
JIT = "ours, ag.jit"  # the contestant name of our captured steps (their process kind is "jit")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Result:
    """One row of a results table: a workload, a contestant, its median and the unit."""

    workload: str
    contestant: str
    seconds: float  # median over rounds, per call (per op when the case says so)
    unit: str = "ms"  # how to print it: "ms", "us" or "s"
    note: str = ""

    def formatted(self) -> str:
        scale = {"s": 1.0, "ms": 1e3, "us": 1e6}[self.unit]
        value = self.seconds * scale
        return f"{value:.3g} {self.unit}" if value < 100 else f"{value:.0f} {self.unit}"


@dataclass
class Case:
    """One contestant on one workload, as built inside its process: ``run`` is one call."""

    workload: str
    contestant: str
    run: Callable[[], object]
    unit: str = "ms"
    per_call: int = 1  # results are divided by this (e.g. per op of a 200-op chain)
    max_calls: int | None = None  # cap on calls per block, for slow workloads
    blocks: int | None = None  # timed blocks, when not the run's default
    warmup: int = 2


def time_case(case: Case, blocks: int, warmup: int = 2,
              clock: Callable[[], float] = time.perf_counter) -> float:
    """Median seconds per call over ``blocks`` timed blocks, after ``warmup`` calls."""
    for _ in range(warmup):
        case.run()
    start = clock()
    case.run()
    once = max(clock() - start, 1e-7)
    calls = max(1, round(BLOCK_SECONDS / once))
    calls = min(calls, case.max_calls) if case.max_calls else calls
    times = []
    for _ in range(blocks):
        start = clock()
        for _ in range(calls):
            case.run()
        times.append((clock() - start) / calls)
    return statistics.median(times)


def median_step_seconds(step: Callable[[], object], calls: int, warmup: int = 3) -> float:
    """Median wall seconds of ``step()`` over ``calls`` calls, after ``warmup`` untimed ones
    (first-call costs: Numba's cache load, allocator and thread warm-up)."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def clock_for(threads: int) -> Callable[[], float]:
    """The process's CPU time with one thread: on a loaded machine the wall clock also counts
    the time spent waiting for a core, which swamps the differences being measured. With
    several threads CPU time would add them up, so the wall clock it is."""
    return time.process_time if threads == 1 else time.perf_counter


def child(modules: Sequence[str], process: str, threads: int, blocks: int) -> list[Result]:
    """What one contestant process measures: every case of ``process`` in ``modules``."""
    results = []
    for module in modules:
        found = importlib.import_module(module)
        if process in found.PROCESSES:
            for c in found.cases(process, threads):
                seconds = time_case(c, c.blocks or blocks, c.warmup, clock_for(threads))
                results.append(Result(c.workload, c.contestant, seconds / c.per_call, c.unit))
    return results


def thread_environment(threads: int) -> dict[str, str]:
    return {**os.environ, **dict.fromkeys(THREAD_VARIABLES, str(threads))}


def thread_label(threads: int) -> str:
    return f"{threads} thread{'s' if threads > 1 else ''}"


def separate_processes(modules: Sequence[str], threads: int, rounds: int,
                       blocks: int = 5) -> list[Result]:
    """Median over ``rounds`` of each contestant's per-process median. A round starts one process
    per process kind of ``modules`` (the union of their ``PROCESSES``), one after another, in an
    order that rotates from round to round; a process times that kind's cases of every module.
    Workload names get the thread count appended."""
    kinds = []
    for module in modules:
        kinds += [k for k in importlib.import_module(module).PROCESSES if k not in kinds]
    if not torch_installed():
        kinds.remove("torch")
    times: dict[tuple[str, str], list[float]] = {}
    units: dict[tuple[str, str], str] = {}
    for i in range(rounds):
        for kind in kinds[i % len(kinds):] + kinds[:i % len(kinds)]:
            done = subprocess.run(
                [python(), "-m", "bench.child", kind, str(threads), str(blocks), *modules],
                env=thread_environment(threads), capture_output=True, text=True, cwd=ROOT)
            if done.returncode != 0:
                raise RuntimeError(f"bench.child {kind} ({threads} threads) failed:\n"
                                   f"{done.stderr[-3000:]}")
            for r in parse_json_results(done.stdout):
                times.setdefault((r.workload, r.contestant), []).append(r.seconds)
                units[r.workload, r.contestant] = r.unit
    return [Result(f"{workload}, {thread_label(threads)}", contestant, statistics.median(values),
                   units[workload, contestant])
            for (workload, contestant), values in times.items()]


def load_average() -> str:
    """The 1-minute load average, for the tables: the cores are shared with other programs."""
    return f"{os.getloadavg()[0]:.1f}"


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


def assert_same_arrays(got: Sequence[np.ndarray], expected: Sequence[np.ndarray],
                       what: str) -> None:
    """Raise AssertionError unless ``got`` equals ``expected`` to float32 tolerance: a captured
    (``ag.jit``) contestant is checked against its eager twin before it is timed, since a replay
    that skipped work would be timed as a fast one."""
    if len(got) != len(expected):
        raise AssertionError(f"{what}: {len(got)} arrays, expected {len(expected)}")
    for a, b in zip(got, expected):
        if a.shape != b.shape or not np.allclose(a, b, rtol=1e-5, atol=1e-6):
            raise AssertionError(f"{what}: the captured step differs from eager")


def import_torch(threads: int):
    """PyTorch with ``threads`` intra-op threads; imported only by PyTorch's own processes."""
    import torch

    torch.set_num_threads(threads)
    return torch


def torch_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; columns after the first two (the numbers) are right-aligned."""
    def align(i: int) -> str:
        return "---:" if i >= 2 else "---"

    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join(align(i) for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio_table(results: Sequence[Result], reference: str, other: str = "torch") -> str:
    """One line per result, with its ratio to the ``reference`` contestant of the same workload
    (and to ``other``'s, when there is one)."""
    by_workload: dict[str, dict[str, Result]] = {}
    for r in results:
        by_workload.setdefault(r.workload, {})[r.contestant] = r
    has_other = other != reference and any(other in group for group in by_workload.values())
    headers = ["workload", "contestant", "median", f"vs {reference}"]
    headers += [f"vs {other}"] if has_other else []
    rows = []
    for workload, group in by_workload.items():
        ref = group.get(reference)
        other_result = group.get(other)
        for name, r in group.items():
            row = [workload, name + (f" ({r.note})" if r.note else ""), r.formatted(),
                   f"{r.seconds / ref.seconds:.2f}x" if ref else "-"]
            if has_other:
                row.append(f"{r.seconds / other_result.seconds:.2f}x" if other_result else "-")
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
    """CPU, cores, load, Python, numpy and its BLAS, numba, PyTorch (versions read without
    importing PyTorch here: this process never times anything)."""
    import importlib.metadata

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
                         f"({pool.get('architecture', '?')} kernels)")
    try:
        lines.append(f"PyTorch {importlib.metadata.version('torch')} (CPU)")
    except importlib.metadata.PackageNotFoundError:
        lines.append("PyTorch: not installed (its columns are left out)")
    return lines


def common_arguments(parser, threads: bool = False) -> None:
    """``--rounds`` and ``--json``; with ``threads``, also ``--threads`` and ``--blocks``."""
    parser.add_argument("--rounds", type=int, default=5, help="processes per contestant")
    parser.add_argument("--json", action="store_true", help="print JSON for the runner")
    if threads:
        parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                            help="thread counts to measure (one table each)")
        parser.add_argument("--blocks", type=int, default=5, help="timed blocks per process")


def run_modules(modules: Sequence[str], args) -> list[Result]:
    """Every thread count of ``args.threads``, each contestant in its own processes."""
    results = []
    for threads in args.threads:
        results += separate_processes(modules, threads, args.rounds, args.blocks)
    return results


def python() -> str:
    """The interpreter running the benchmarks (the project's venv when run through it)."""
    return sys.executable
