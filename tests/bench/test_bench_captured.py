"""The benchmarks' captured (ag.jit) contestants: they build, replay what eager computes, and the
Goals table of ``python -m bench`` checks them against the right rows. No speed is asserted."""

import json

import numpy as np
import pytest

from bench import capture, micrograd, ops
from bench.__main__ import targets
from bench.harness import JIT, Result, assert_same_arrays


@pytest.mark.parametrize("module", [ops, micrograd, capture])
def test_captured_cases_build_and_run(module):
    """Each builder records, replays once and compares with eager (raising on a difference)."""
    assert "jit" in module.PROCESSES
    found = module.cases("jit", 1)
    assert found and all(case.contestant == JIT for case in found)
    for case in found:
        case.run()


def test_a_differing_replay_is_refused():
    with pytest.raises(AssertionError, match="differs from eager"):
        assert_same_arrays([np.ones(3, np.float32)], [np.full(3, 1.001, np.float32)], "w")
    assert_same_arrays([np.ones(3, np.float32)], [np.ones(3, np.float32)], "w")


def _verdict(table: str, start: str) -> str:
    rows = [line for line in table.splitlines() if line.startswith(f"| {start}")]
    assert len(rows) == 1, (start, rows)
    return rows[0].rsplit("|", 2)[1].strip()


def test_goals_table_checks_the_captured_rows():
    label = "1 thread"
    mlp = f"MLP step, batch {{}}, SGD, {label}"
    chain = f"chain200: 200 elementwise ops, fwd+bwd, per op, {label}"
    micro = f"micrograd demo: MLP 2-16-16-1, 100 moons, fwd+bwd, {label}"
    results = [Result(mlp.format(1), "torch", 1.0), Result(mlp.format(1), JIT, 0.39),
               Result(mlp.format(1), "ours", 0.9),
               Result(mlp.format(16), "torch", 1.0), Result(mlp.format(16), JIT, 0.51),
               Result(chain, "numpy", 1.0), Result(chain, JIT, 1.4), Result(chain, "ours", 2.1),
               Result(micro, "torch", 1.0), Result(micro, JIT, 0.6)]
    table = targets(results, {1: 0.0, 2: 0.0})
    assert _verdict(table, f"{mlp.format(1)}, captured: {JIT} / torch") == "met"
    assert _verdict(table, f"{mlp.format(1)}, eager: ours / torch") == "MISSED"
    assert _verdict(table, f"{mlp.format(16)}, captured: {JIT} / torch") == "MISSED"
    assert _verdict(table, f"{mlp.format(128)}, captured: {JIT} / torch") == "not measured"
    assert _verdict(table, f"chain200, captured, {label}: {JIT} / numpy floor") == "met"
    assert _verdict(table, f"chain200, eager, {label}: ours / numpy floor") == "MISSED"
    assert _verdict(table, f"micrograd workload, captured, {label}: {JIT} / torch") == "MISSED"


@pytest.mark.parametrize("child", ["FIRST_USE_CHILD", "CAPTURED_CHILD"])
def test_first_step_children_run(child):
    """The fresh-interpreter programs of bench.imports run against the current bench API."""
    from bench import imports

    timings = json.loads(imports._child(getattr(imports, child)))
    assert all(value > 0 for value in timings.values())
