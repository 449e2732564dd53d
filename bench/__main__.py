"""``python -m bench``: every benchmark, each in a fresh process, into one report.

Sections (each module also runs alone, e.g. ``python -m bench.mlp``):

- ``mlp``: MLP 784-256-256-10 training step, batch 1/16/128, SGD and Adam, ours vs hand-written
  numpy vs PyTorch; once with every library's default threads, once with one thread each;
- ``ops``: the 200-op elementwise chain (per op) and the 50,000-node chain;
- ``micrograd``: micrograd's demo workload (MLP 2-16-16-1 on 100 two-moons points, fwd+bwd);
- ``rbm``: one CD-1 epoch of an RBM against scikit-learn (``bench/rbm.py``, run as it is);
- ``imports``: ``import autograd_core`` / ``import nn`` and Numba's cold and warm first use.

Inside a section the contestants run in one process, interleaved round by round, and each is
summarised by its median (see ``bench.harness``). The report, with the machine's description and
a check of the project's speed targets (``targets`` below), is printed and written to
``bench/RESULTS.md``; everything below the notes marker of an existing RESULTS.md is kept.

Run: ``.venv/bin/python -m bench [--rounds 15] [--only mlp micrograd ...] [--no-write]``
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.harness import (
    Result,
    machine_description,
    markdown_table,
    parse_json_results,
    python,
    ratio_table,
)

HERE = Path(__file__).resolve().parent
NOTES_MARKER = "<!-- Notes: everything below this line is kept when python -m bench rewrites " \
               "this file. -->"
SECTIONS = ("mlp", "ops", "micrograd", "rbm", "imports")


def _run(args: Sequence[str]) -> str:
    done = subprocess.run([python(), *args], capture_output=True, text=True, cwd=HERE.parent)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def run_section(name: str, rounds: int) -> tuple[str, list[Result]]:
    """The markdown of one section and its results (the RBM's table is kept as it prints)."""
    if name == "mlp":
        results = []
        for threads in ([], ["--threads", "1"]):
            results += parse_json_results(_run(["-m", "bench.mlp", "--json",
                                                "--rounds", str(rounds), *threads]))
        text = ("Training step of an MLP 784-256-256-10 (ReLU), float32, softmax cross-entropy "
                "on integer labels, SGD (lr 0.01) or Adam. `ours` is `nn.Sequential` of "
                "`nn.Linear(..., activation=\"relu\")` (fused layers); `ours, nn.MLP` is "
                "`nn.MLP([784, 256, 256, 10])` as it is built today. Median time per step.\n\n"
                + ratio_table(results, "numpy"))
    elif name == "ops":
        results = parse_json_results(_run(["-m", "bench.ops", "--json", "--rounds",
                                           str(rounds)]))
        text = ("Per-op overhead (PyTorch on one thread): 200 elementwise ops on 64 floats, and "
                "a chain of 50,000 scalar multiplications.\n\n" + ratio_table(results, "numpy"))
    elif name == "micrograd":
        results = parse_json_results(_run(["-m", "bench.micrograd", "--json", "--rounds",
                                           str(rounds)]))
        text = ("micrograd's demo: MLP 2-16-16-1 (ReLU), hinge loss + 1e-4 L2 penalty on 100 "
                "two-moons points, one forward + backward, float32 (micrograd itself is not "
                "installed; its scalar engine is far slower).\n\n"
                + ratio_table(results, "numpy"))
    elif name == "rbm":
        results = []
        text = _run([str(HERE / "rbm.py"), "--rounds", str(max(3, rounds // 2))]).strip()
    elif name == "imports":
        from bench import imports

        results = parse_json_results(_run(["-m", "bench.imports", "--json", "--rounds",
                                           str(max(5, rounds // 2))]))
        text = ("Fresh interpreters, medians. The first step compiles (cold, empty "
                "`NUMBA_CACHE_DIR`) or loads (warm) every kernel of an MLP step.\n\n"
                + imports.table(results))
    else:
        raise ValueError(f"unknown section {name!r}; choose from {SECTIONS}")
    return text, results


def _ratio(results: list[Result], workload: str, a: str, b: str) -> float | None:
    found = {r.contestant: r.seconds for r in results if r.workload == workload}
    return found[a] / found[b] if a in found and b in found else None


def _rbm_speedup(text: str) -> float | None:
    """The first speed-up ("3.1x") in the first table row of nn.RBM with the numba kernel."""
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0].startswith("nn.RBM") and "numba" in cells[0]:
            for cell in cells[1:]:
                match = re.fullmatch(r"([\d.]+)x", cell)
                if match:
                    return float(match.group(1))
    return None


def targets(results: list[Result], rbm_text: str) -> str:
    """The project's speed targets, each against this run: met or MISSED."""
    rows = []

    def check(what: str, value: float | None, limit: float, unit: str = "x",
              at_least: bool = False) -> None:
        if value is None:
            rows.append([what, "-", "not measured"])
            return
        ok = value >= limit if at_least else value <= limit
        bound = f"{'>=' if at_least else '<='} {limit:g}{unit}"
        rows.append([what, f"{value:.2f}{unit} (target {bound})", "met" if ok else "MISSED"])

    for label in ("default threads", "1 thread"):
        for batch, limit in ((128, 0.9), (16, 0.7), (1, 0.4)):
            for opt in ("SGD", "Adam"):
                workload = f"MLP step, batch {batch}, {opt}, {label}"
                check(f"{workload}: ours / torch", _ratio(results, workload, "ours", "torch"),
                      limit)
    chain = "chain200: 200 elementwise ops, fwd+bwd, per op"
    check("chain200: ours / numpy floor", _ratio(results, chain, "ours", "numpy"), 2)
    micro = "micrograd demo: MLP 2-16-16-1, 100 moons, fwd+bwd"
    check("micrograd workload: ours / torch", _ratio(results, micro, "ours", "torch"), 0.7)
    check("RBM CD-1 epoch: speed-up vs scikit-learn", _rbm_speedup(rbm_text), 5, at_least=True)
    for module in ("autograd_core", "nn"):
        found = [r.seconds for r in results if r.workload == f"import {module}"]
        check(f"import {module}", found[0] if found else None, 0.2, " s")
    warm = [r.seconds for r in results if r.contestant == "Numba warm"]
    check("first MLP step with a warm Numba cache", warm[0] if warm else None, 0.3, " s")
    return markdown_table(["target", "this run", ""], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved timing rounds")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    header = ["# Benchmark results", "",
              f"`python -m bench --rounds {args.rounds}`, "
              f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}.", ""]
    header += [f"- {line}" for line in machine_description()]
    print("\n".join(header), flush=True)
    body, results, rbm_text = [], [], ""
    for name in args.only:
        print(f"\n## {name}\n", flush=True)
        text, section_results = run_section(name, args.rounds)
        print(text, flush=True)
        body += [f"## {name}", "", text, ""]
        results += section_results
        rbm_text = text if name == "rbm" else rbm_text
    load_after = os.getloadavg()[0]
    header += [f"- load average (1 min) before/after the run: {load_before:.2f} / "
               f"{load_after:.2f}: other processes share these cores, so single numbers move; "
               "compare ratios within one table (the contestants were interleaved)", ""]
    summary = targets(results, rbm_text)
    print("\n## Targets\n\n" + summary)
    if args.no_write:
        return
    notes = ""
    if args.output.exists():
        old = args.output.read_text()
        if NOTES_MARKER in old:
            notes = old.split(NOTES_MARKER, 1)[1]
    report = "\n".join(header + ["## Targets", "", summary, ""] + body + [NOTES_MARKER]) + notes
    args.output.write_text(report if report.endswith("\n") else report + "\n")
    print(f"\nwritten to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
