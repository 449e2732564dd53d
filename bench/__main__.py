"""``python -m bench``: every benchmark, each contestant in its own processes, into one report.

Sections (each module also runs alone, e.g. ``python -m bench.mlp``):

- ``mlp``: MLP 784-256-256-10 training step, batch 1/16/128, SGD and Adam, ours (eager, and
  captured by ``ag.jit``: ``bench/capture.py``) vs hand-written numpy vs PyTorch;
- ``ops``: the 200-op elementwise chain (per op; eager and captured) and the 50,000-node chain;
- ``micrograd``: micrograd's demo workload (MLP 2-16-16-1 on 100 two-moons points, fwd+bwd;
  eager and captured);
- ``rbm``: one CD-1 epoch of an RBM against scikit-learn, numpy and PyTorch;
- ``imports``: ``import autograd_core`` / ``import nn`` and Numba's cold and warm first use;
- ``lstm``, ``conv``, ``distributed``, ``versions``, when those modules exist: their own
  scripts, run as they are (each keeps its contestants in separate processes).

Method (``bench.harness``): for each thread count (1 and 2), each round starts one process per
library (ours, numpy, PyTorch, scikit-learn), one after another in an order that rotates from
round to round (our captured steps, ``ag.jit``, in a process of their own), with
``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` and
``torch.set_num_threads`` all set to that count; each process times every workload of the first
four sections for its library (median of a few blocks of calls; CPU time at 1 thread, wall
time at 2) and the table gives the median over rounds. The report, with the machine, the load
and a check of the project's speed goals (``targets`` below), is printed and written to
``bench/RESULTS.md``; everything below the notes marker of an existing RESULTS.md is kept.

Run: ``.venv/bin/python -m bench [--quick] [--rounds 5] [--only mlp rbm ...] [--no-write]``
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.harness import (
    JIT,
    ROOT,
    Result,
    load_average,
    machine_description,
    markdown_table,
    parse_json_results,
    python,
    ratio_table,
    separate_processes,
)

HERE = Path(__file__).resolve().parent
NOTES_MARKER = "<!-- Notes: everything below this line is kept when python -m bench rewrites " \
               "this file. -->"
TIMED = ("mlp", "ops", "micrograd", "rbm")  # timed together, one process per library
MODULES = {"mlp": ("bench.mlp", "bench.capture")}  # a section's modules, when not bench.<name>
SCRIPTS = ("lstm", "conv", "distributed", "versions")  # run as they are
QUICK_ARGS = {"lstm": ["--rounds", "3", "--calls", "10"],
              "conv": ["--rounds", "3", "--calls", "10"], "versions": ["--rounds", "3"],
              "distributed": ["--epochs", "2", "--steps", "10"]}
SECTIONS = (*TIMED, "imports", *SCRIPTS)
THREADS = (1, 2)

DESCRIPTIONS = {
    "mlp": "Training step of an MLP 784-256-256-10 (ReLU), float32, softmax cross-entropy on "
           "integer labels, SGD (lr 0.01) or Adam. `ours` is `nn.Sequential` of "
           "`nn.Linear(..., activation=\"relu\")` (fused layers); `ours, nn.MLP` is "
           "`nn.MLP([784, 256, 256, 10])`; `ours, ag.jit` is `ours`'s step wrapped in `ag.jit` "
           "(`bench/capture.py`), timed on replays. Median time per step.",
    "ops": "Per-op overhead: 200 elementwise ops on 64 floats, and a chain of 50,000 scalar "
           "multiplications (pure Python overhead, timed at 1 thread only). `ours, ag.jit`: the "
           "200-op chain wrapped in `ag.jit`, timed on replays.",
    "micrograd": "micrograd's demo: MLP 2-16-16-1 (ReLU), hinge loss + 1e-4 L2 penalty on 100 "
                 "two-moons points, one forward + backward, float32 (micrograd itself is not "
                 "installed; its scalar engine is far slower). `ours, ag.jit`: the same step "
                 "wrapped in `ag.jit`, timed on replays.",
    "rbm": "One epoch of CD-1 (`bench/rbm.py`): 2000 x 784 binary samples, 256 hidden, batch "
           "20, float32 unless stated. nn.RBM trains on one BLAS thread unless "
           "`blas_threads=None`.",
}
REFERENCES = {"rbm": "sklearn float64"}


def _run(args: Sequence[str], timeout: float | None = None) -> str:
    done = subprocess.run([python(), *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def timed_sections(names: Sequence[str], rounds: int, blocks: int, loads: dict[int, float]
                   ) -> dict[str, list[Result]]:
    """The results of the ``TIMED`` sections in ``names``, by section, for every thread count,
    with the load average at the start and end of each thread count's runs (the higher of the
    two goes into ``loads``)."""
    modules = [module for name in names for module in MODULES.get(name, (f"bench.{name}",))]
    results: dict[str, list[Result]] = {name: [] for name in names}
    for threads in THREADS:
        before = load_average()
        found = separate_processes(modules, threads, rounds, blocks)
        after = load_average()
        loads[threads] = max(float(before), float(after))
        for r in found:
            r.note = f"load {before}-{after}" if r.contestant in ("ours", REFERENCES.get(
                _section_of(r), "")) else ""
            results[_section_of(r)].append(r)
    return results


def _section_of(result: Result) -> str:
    workload = result.workload
    if workload.startswith("MLP step"):
        return "mlp"
    if workload.startswith("chain"):
        return "ops"
    if workload.startswith("micrograd"):
        return "micrograd"
    return "rbm"


def script_section(name: str, quick: bool) -> str:
    """The output of ``bench/<name>.py`` run as it is (fewer rounds and calls when quick)."""
    args = ["-m", f"bench.{name}", *(QUICK_ARGS[name] if quick else [])]
    try:
        return _run(args, timeout=600).strip()
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        return f"not measured: {str(error).splitlines()[0]}"


def imports_section(rounds: int) -> tuple[str, list[Result]]:
    from bench import imports

    results = parse_json_results(_run(["-m", "bench.imports", "--json", "--rounds",
                                       str(rounds)]))
    text = (f"Fresh interpreters, medians (load {load_average()}). The first step compiles "
            "(cold, empty `NUMBA_CACHE_DIR`) or loads (warm) every kernel of an MLP step.\n\n"
            + imports.table(results))
    return text, results


def _ratio(results: list[Result], workload: str, a: str, b: str) -> float | None:
    found = {r.contestant: r.seconds for r in results if r.workload == workload}
    return found[a] / found[b] if a in found and b in found else None


def targets(results: list[Result], loads: dict[int, float]) -> str:
    """The project's speed goals, each against this run: met or MISSED; with several threads
    on a machine loaded beyond its cores, "unreliable" (the wall clock then measures stalls)."""
    rows = []
    cores = os.cpu_count() or 1
    unreliable = ""

    def check(what: str, value: float | None, limit: float, unit: str = "x") -> None:
        if value is None:
            rows.append([what, "-", "not measured"])
            return
        verdict = "met" if value <= limit else "MISSED"
        rows.append([what, f"{value:.2f}{unit} (goal <= {limit:g}{unit})",
                     f"{verdict}, {unreliable}" if unreliable else verdict])

    for threads in THREADS:
        label = f"{threads} thread{'s' if threads > 1 else ''}"
        load = loads.get(threads, 0.0)
        unreliable = (f"unreliable: load {load:.1f} on {cores} cores"
                      if threads > 1 and load > cores else "")
        for batch, captured_goal in ((1, 0.4), (16, 0.5), (128, 0.8)):
            for opt in ("SGD", "Adam"):
                workload = f"MLP step, batch {batch}, {opt}, {label}"
                references = ["torch"] + (["torch, flush_denormal"] if opt == "Adam" else [])
                for contestant, kind, goal in (("ours", "eager", 0.8),
                                               (JIT, "captured", captured_goal)):
                    for reference in references:
                        versus = " with flush_denormal" if reference != "torch" else ""
                        check(f"{workload}, {kind}: {contestant} / torch{versus}",
                              _ratio(results, workload, contestant, reference), goal)
        chain = f"chain200: 200 elementwise ops, fwd+bwd, per op, {label}"
        check(f"chain200, eager, {label}: ours / numpy floor",
              _ratio(results, chain, "ours", "numpy"), 2)
        check(f"chain200, captured, {label}: {JIT} / numpy floor",
              _ratio(results, chain, JIT, "numpy"), 1.5)
        micro = f"micrograd demo: MLP 2-16-16-1, 100 moons, fwd+bwd, {label}"
        check(f"micrograd workload, captured, {label}: {JIT} / torch",
              _ratio(results, micro, JIT, "torch"), 0.5)
        rbm = f"RBM CD-1 epoch, 2000 x 784, 256 hidden, batch 20, {label}"
        check(f"RBM CD-1 epoch, {label}: nn.RBM / sklearn float64",
              _ratio(results, rbm, "nn.RBM, numba kernel", "sklearn float64"), 0.2)
    unreliable = ""
    for module in ("autograd_core", "nn"):
        found = [r.seconds for r in results if r.workload == f"import {module}"]
        check(f"import {module}", found[0] if found else None, 0.2, " s")
    from bench.imports import CAPTURED

    captured = [r.seconds for r in results
                if r.workload == CAPTURED and r.contestant == "first call"]
    check("first captured MLP step with a warm Numba cache (from after the imports)",
          captured[0] if captured else None, 0.3, " s")
    return markdown_table(["goal", "this run", ""], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, help="processes per contestant (5; 3 if quick)")
    parser.add_argument("--blocks", type=int, help="timed blocks per process (5; 3 if quick)")
    parser.add_argument("--quick", action="store_true",
                        help="3 rounds of 3 blocks, shorter lstm (about half the time)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.blocks = args.blocks or (3 if args.quick else 5)

    load_before = os.getloadavg()[0]
    command = f"python -m bench --rounds {args.rounds} --blocks {args.blocks}"
    header = ["# Benchmark results", "",
              f"`{command}`, {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}.", ""]
    header += [f"- {line}" for line in machine_description()]
    print("\n".join(header), flush=True)
    loads: dict[int, float] = {}
    timed = timed_sections([name for name in args.only if name in TIMED], args.rounds,
                           args.blocks, loads)
    body, results = [], []
    for name in args.only:
        if name in TIMED:
            text = (DESCRIPTIONS[name] + "\n\n"
                    + ratio_table(timed[name], REFERENCES.get(name, "numpy")))
            results += timed[name]
        elif name == "imports":
            text, found = imports_section(max(3, args.rounds))
            results += found
        elif importlib.util.find_spec(f"bench.{name}") is not None:
            text = script_section(name, args.quick)
        else:
            continue
        print(f"\n## {name}\n\n{text}", flush=True)
        body += [f"## {name}", "", text, ""]
    load_after = os.getloadavg()[0]
    header += [
        f"- load average (1 min) before/after the run: {load_before:.2f} / {load_after:.2f}; "
        "each table row's note gives the load while its thread count ran",
        f"- method: each library in its own fresh processes (never two libraries' thread pools "
        "in one process; our captured `ag.jit` steps apart from our eager ones), "
        f"{args.rounds} rounds per thread count with the order of the "
        f"processes rotating; each process warms up, then times {args.blocks} blocks of calls "
        "(about 20 ms each) and reports its median block; a row is the median over rounds. "
        "Clock: the process's CPU time at 1 thread (the wall clock on a loaded machine also "
        "counts waiting for a core), the wall clock at 2 threads. "
        "`N thread(s)`: OPENBLAS/OMP/MKL_NUM_THREADS=N and torch.set_num_threads(N) in every "
        "process. Other programs share these cores: compare ratios within a table, not single "
        "numbers across runs", ""]
    summary = targets(results, loads)
    print("\n## Goals\n\n" + summary)
    if args.no_write:
        return
    notes = ""
    if args.output.exists():
        old = args.output.read_text()
        if NOTES_MARKER in old:
            notes = old.split(NOTES_MARKER, 1)[1]
    report = "\n".join(header + ["## Goals", "", summary, ""] + body + [NOTES_MARKER]) + notes
    args.output.write_text(report if report.endswith("\n") else report + "\n")
    print(f"\nwritten to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
