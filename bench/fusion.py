"""Benchmark: what fusing a run of elementwise ops (``autograd_core.fusion``) costs and saves.

For chains of k ops on 64 float32 elements, captured with ``ag.jit`` (forward and backward,
``y.sum().backward()``): the replay time unfused (``fuse=False``) and fused, the saving per step,
and the one-off cost of the first fused replay, which compiles the two loops (*cold*: an empty
Numba cache) or loads them from the cache a previous process wrote (*warm*). Two chains: ``arith``
cycles mul-by-weight and add-constant (bit-exact with eager); ``chain`` cycles mul, add, tanh and
sigmoid as ``bench.ops``'s chain200. The saving per step against the cold cost says from which
size a group pays (``fusion.MIN_OPS``).

Each chain runs in a fresh process twice, first on an empty cache folder, then on the one it
left. Run: ``.venv/bin/python -m bench.fusion [--sizes 2 3 4 8 20 200]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from bench.harness import markdown_table

SIZE = 64


def chain_function(kind: str, length: int):
    import autograd_core as ag

    def step(x: ag.Tensor, w: ag.Tensor) -> ag.Tensor:
        y = x
        for k in range(length):
            part = k % (2 if kind == "arith" else 4)
            if part == 0:
                y = y * w
            elif part == 1:
                y = y + 0.1
            else:
                y = y.tanh() if part == 2 else y.sigmoid()
        y.sum().backward()
        return y

    return step


def measure(kind: str, length: int) -> dict[str, float]:
    """In this process: the first fused replay's time and both replay times per step."""
    import autograd_core as ag

    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.standard_normal(SIZE).astype(np.float32), requires_grad=True)
    w = ag.Tensor((1 + 0.01 * rng.standard_normal(SIZE)).astype(np.float32), requires_grad=True)
    # numba's own start (import, registries) is paid once per process by any kernel: pay it
    # first on a float64 chain, so that the first fused replay below times this group alone
    warm_up = ag.jit(chain_function("chain", 5))
    for _ in range(4):
        warm_up(x.detach().astype(np.float64).requires_grad_(), w.detach().astype(np.float64))
    out = {}
    for fuse in (False, True):
        step = ag.jit(chain_function(kind, length), fuse=fuse)
        for _ in range(3):  # two recordings, the generic first replay
            step(x, w)
        start = time.perf_counter()
        step(x, w)  # the first specialised replay: compiles or loads the loops when fused
        out[f"first_{fuse}"] = time.perf_counter() - start
        out[f"replay_{fuse}"] = median_cpu_seconds(lambda s=step: s(x, w))
    return out


def median_cpu_seconds(step, calls: int = 200, blocks: int = 7) -> float:
    """The median over blocks of the CPU time per call (steadier than wall time on a busy
    machine; the step runs in one thread)."""
    times = []
    for _ in range(blocks):
        start = time.process_time()
        for _ in range(calls):
            step()
        times.append((time.process_time() - start) / calls)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 3, 4, 8, 20, 200])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]))))
        return
    rows = []
    for kind in ("arith", "chain"):
        for length in args.sizes:
            with tempfile.TemporaryDirectory() as cache:
                env = {**os.environ, "NUMBA_CACHE_DIR": cache}
                runs = [json.loads(subprocess.run(
                    [sys.executable, "-m", "bench.fusion", "--child", kind, str(length)],
                    env=env, check=True, capture_output=True, text=True).stdout)
                    for _ in range(2)]
            cold, warm = runs
            unfused, fused = warm["replay_False"] * 1e6, warm["replay_True"] * 1e6
            compile_s = cold["first_True"] - cold["first_False"]
            load_s = warm["first_True"] - warm["first_False"]
            rows.append([kind, length, f"{unfused:.1f}", f"{fused:.1f}",
                         f"{unfused - fused:.1f}", f"{compile_s:.2f}", f"{load_s * 1e3:.0f}"])
    print(markdown_table(["chain", "ops", "unfused us/step", "fused us/step", "saved us/step",
                          "compile s (cold)", "load ms (warm)"], rows))


if __name__ == "__main__":
    main()
