"""Benchmark: what the user waits for before the first step. Import times and Numba's first use.

- ``import autograd_core`` and ``import nn``: each timed in fresh interpreters (median of several),
  as the wall time of the import statement alone; the child also reports whether numba got
  imported (it must not be: kernels compile lazily). Python's bytecode is cached as in any
  installation (pip compiles the ``.pyc`` files when it installs): the children may write
  ``__pycache__``, whatever ``PYTHONDONTWRITEBYTECODE`` says (set on some machines, it would have
  every start compile all of our modules from source, about 0.15 s more), and a first untimed
  child writes them.
- Numba's first use: a fresh interpreter imports nn and runs one training step of the benchmark
  MLP (784-256-256-10, batch 16, SGD, and an Adam step), which compiles or loads every kernel an
  MLP uses. "Cold" runs with an empty ``NUMBA_CACHE_DIR`` (everything compiles); "warm" runs
  again with the cache the cold run filled (everything loads). Reported: the time of that first
  step, and the best of 5 repeats in the same process (steady state). The warm time is mostly
  Numba's own start: ``import numba`` (about two thirds), then the first cached kernel (numba's
  runtime is compiled, its array module and ``numpy.ma`` imported); each further kernel then
  loads in a few milliseconds. Numba's typing registries (and with them ``scipy.linalg``) and its
  third-party extensions (found by reading every installed distribution's entry points) are not
  loaded at all with a warm cache (``kernels.registry``).
- The first captured step: a fresh interpreter with the warm cache imports nn, then (clock
  started after the imports) builds the benchmark MLP with Adam (``bench.capture``'s model, batch
  16), wraps its step in ``ag.jit`` and calls it: the first call runs eagerly while recording
  (it loads the kernels); the third call is the first replay of the plan. Reported: the time from
  the clock's start to the end of the first call, and to the end of the third.

The targets for both figures are checked by ``python -m bench`` (``bench.__main__.targets``);
the measured figures belong in ``bench/RESULTS.md``.

Run: ``.venv/bin/python -m bench.imports [--rounds 7]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile

from bench.harness import Result, common_arguments, emit, markdown_table, python

IMPORT_CHILD = """
import sys, time
start = time.perf_counter()
import {module}
elapsed = time.perf_counter() - start
print(elapsed, "numba" in sys.modules)
"""

FIRST_USE_CHILD = """
import json, time
import numpy as np
import nn, autograd_core as ag

def step(model, opt, x, y):
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(x), y).backward()
    opt.step()

rng = np.random.default_rng(0)
x, y = ag.Tensor(rng.random((16, 784), dtype=np.float32)), rng.integers(0, 10, 16)
layers = [nn.Linear(784, 256, activation="relu"), nn.Linear(256, 256, activation="relu"),
          nn.Linear(256, 10)]
model = nn.Sequential(*layers)
optimizers = [nn.optim.SGD(model.parameters(), lr=0.01), nn.optim.Adam(model.parameters())]
start = time.perf_counter()
for opt in optimizers:
    step(model, opt, x, y)
first = time.perf_counter() - start
again = []
for _ in range(5):
    start = time.perf_counter()
    for opt in optimizers:
        step(model, opt, x, y)
    again.append(time.perf_counter() - start)
print(json.dumps({"first": first, "again": min(again)}))
"""

CAPTURED_CHILD = """
import json, time
import nn, autograd_core as ag
from bench.capture import training_step
from bench.mlp import data, fused_model

start = time.perf_counter()
step = ag.jit(training_step(fused_model(), "Adam"))  # model and optimizer, wrapped in ag.jit
x, y = data(16)
x = ag.Tensor(x)
step(x, y)  # records eagerly
first = time.perf_counter() - start
step(x, y)  # records again, builds the plan
step(x, y)  # the first replay
print(json.dumps({"first": first, "replay": time.perf_counter() - start}))
"""


CAPTURED = "first captured MLP step (ag.jit, Adam, batch 16)"


def _child(code: str, env: dict[str, str] | None = None) -> str:
    environment = {**os.environ, **(env or {})}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)  # see the module docstring
    done = subprocess.run([python(), "-c", code], capture_output=True, text=True, check=True,
                          env=environment)
    return done.stdout.strip().splitlines()[-1]


def import_times(module: str, runs: int) -> tuple[float, bool]:
    """Median seconds of ``import module`` in fresh interpreters; whether numba came along."""
    times, numba_seen = [], False
    for _ in range(runs):
        seconds, numba = _child(IMPORT_CHILD.format(module=module)).split()
        times.append(float(seconds))
        numba_seen |= numba == "True"
    return statistics.median(times), numba_seen


def first_use(runs: int) -> dict[str, float]:
    """Median seconds of the first MLP step (SGD + Adam): cold cache, warm cache, steady; and of
    the first captured step (Adam) with a warm cache: its first call, and up to its first replay."""
    timings: dict[str, list[float]] = {key: [] for key in
                                       ("cold", "warm", "steady", "captured", "replay")}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = {"NUMBA_CACHE_DIR": cache}
            timings["cold"].append(json.loads(_child(FIRST_USE_CHILD, env))["first"])
            eager = json.loads(_child(FIRST_USE_CHILD, env))
            timings["warm"].append(eager["first"])
            timings["steady"].append(eager["again"])
            captured = json.loads(_child(CAPTURED_CHILD, env))
            timings["captured"].append(captured["first"])
            timings["replay"].append(captured["replay"])
    return {key: statistics.median(values) for key, values in timings.items()}


def run(rounds: int) -> list[Result]:
    _child("import nn, bench.capture; print(0)")  # writes the bytecode caches (not timed)
    results = []
    for module in ("autograd_core", "nn"):
        seconds, numba = import_times(module, rounds)
        results.append(Result(f"import {module}", "ours", seconds,
                              note="numba imported!" if numba else "numba not imported"))
    first = first_use(max(1, rounds // 3))
    workload = "first MLP step (SGD + Adam, batch 16)"
    results += [
        Result(workload, "Numba cold", first["cold"], note="empty cache: every kernel compiles"),
        Result(workload, "Numba warm", first["warm"], note="cache filled by the cold run"),
        Result(workload, "steady state", first["steady"], note="the same steps, best of 5"),
        Result(CAPTURED, "first call", first["captured"],
               note="warm cache; from after the imports: model, optimizer, records eagerly"),
        Result(CAPTURED, "to the first replay", first["replay"],
               note="warm cache; from after the imports to the end of the third call"),
    ]
    return results


def table(results: list[Result]) -> str:
    return markdown_table(["what", "", "median", "note"],
                          [[r.workload, r.contestant, r.formatted(), r.note] for r in results])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_arguments(parser)
    parser.set_defaults(rounds=7)
    args = parser.parse_args()
    results = run(args.rounds)
    if args.json:
        emit(results, "ours", True)
    else:
        print(table(results))


if __name__ == "__main__":
    main()
