"""ag.jit's fused elementwise groups (autograd_core.fusion): the Numba loops and their numpy twins
against eager, bit for bit where only arithmetic is fused, within a few ulp where exp, log, tanh or
sigmoid are."""

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
import autograd_core.kernels as K
import nn
from autograd_core import fusion

# --- one table: each group runs through the loop (kernels on) and the twin (kernels off) --------


def arith(x, w, b):
    return -((x * w + 0.5) - b) / (w * w + 1.0)


def piecewise(x, w, b):
    return ag.maximum(ag.minimum(x, w), b).relu().square() - x * 0.25


def transcendental(x, w, b):
    return ((x * w + 0.1).tanh().sigmoid() + (b * 0.5).exp() + (w * w + 1.0).log())


GROUPS = [(arith, True), (piecewise, True), (transcendental, False)]
CASES = [(np.float32, (64,)), (np.float64, (5, 7))]


def _leaves(dtype, shape, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]
    if ties:  # equal and signed-zero pairs, for maximum / minimum and relu
        values[0].flat[::3] = values[1].flat[::3]
        values[2].flat[1::4] = -0.0
        values[0].flat[2::5] = 0.0
    return [ag.Tensor(v, requires_grad=True) for v in values]


def _eager_and_replayed(function, leaves, fuse=True, steps=4):
    """Eager's output and gradients, then the captured step's after ``steps`` calls."""
    def step(x, w, b):
        out = function(x, w, b)
        out.sum().backward()
        return out

    results = []
    for run in (step, ag.jit(step, fuse=fuse)):
        for _ in range(steps if run is not step else 1):
            for t in leaves:
                t.grad = None
            out = run(*leaves)
        results.append([out.data] + [t.grad.data for t in leaves if t.grad is not None])
    return results, run


def assert_close(expected, got, exact):
    for a, b in zip(expected, got, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        if exact:
            np.testing.assert_array_equal(b, a)
            assert np.array_equal(np.signbit(a), np.signbit(b))  # signed zeros too
        else:
            tol = fusion.INEXACT_RTOL[a.dtype]
            np.testing.assert_allclose(b, a, rtol=0, atol=tol * np.max(np.abs(a)))


@pytest.mark.parametrize("impl", ["numba", "numpy"])
@pytest.mark.parametrize("dtype,shape", CASES)
@pytest.mark.parametrize("function,exact", GROUPS, ids=[f.__name__ for f, _ in GROUPS])
def test_fused_group_equals_eager(function, exact, dtype, shape, impl):
    with K.use_jit(impl == "numba"):
        (expected, got), step = _eager_and_replayed(function, _leaves(dtype, shape, ties=True))
    plan = next(iter(step.plans.values()))
    assert len(plan.groups) == 1 and len(plan.groups[0].ops) >= fusion.MIN_OPS
    group = plan.groups[0]
    assert (group._loop is not None) == (impl == "numba")  # the loop ran, or the twin
    # the twin is numpy's own arithmetic: bitwise equal to eager even with exp, log and tanh
    assert_close(expected, got, exact or impl == "numpy")
    assert plan.inexact == (not exact)


def test_unfused_plan_and_explain():
    leaves = _leaves(np.float32, (64,))
    (expected, got), step = _eager_and_replayed(transcendental, leaves, fuse=False)
    assert_close(expected, got, exact=True)
    assert "F0" not in step.explain()
    _, step = _eager_and_replayed(transcendental, leaves)
    text = step.explain()
    assert "# F0: 11 ops in one loop over (64,) float32, per element:" in text
    assert "v6 = np.tanh(v5)" in text and "v16, S0 = F0.forward(v0, v1, v2, v4, v8, v13)" in text
    assert "F0_B0: the backward of F0 in one loop" in text and "g5 = g6 * tanh_grad(v6)" in text
    assert "g1, g2, g0 = F0_B0(g16, v0, v1, v8, S0)" in text


def test_input_of_another_layout_runs_the_twin_and_keeps_eager_layout():
    rng = np.random.default_rng(3)
    leaves = [ag.Tensor(np.asfortranarray(rng.standard_normal((6, 5)).astype(np.float32)),
                        requires_grad=True) for _ in range(3)]
    (expected, got), step = _eager_and_replayed(arith, leaves)
    assert_close(expected, got, exact=True)
    # the loop would have written a C-contiguous output: the twin ran
    assert got[0].flags.f_contiguous and expected[0].flags.f_contiguous
    assert len(next(iter(step.plans.values())).groups) == 1


# --- whole steps ----------------------------------------------------------------------------


def test_a_chain_like_bench_ops_gives_eager_gradients():
    def chain(x, w, b):
        y = x
        for _ in range(10):  # 40 ops, as bench.ops's chain200 cycles them
            y = (y * w + 0.1).tanh().sigmoid()
        return y

    (expected, got), step = _eager_and_replayed(chain, _leaves(np.float32, (64,)))
    assert_close(expected, got, exact=False)
    assert len(next(iter(step.plans.values())).groups[0].ops) == 40


def test_micrograd_like_step_is_bit_exact():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16, activation="relu"), nn.Linear(16, 1))
    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.standard_normal((100, 2)).astype(np.float32))
    y = ag.Tensor(np.sign(rng.standard_normal((100, 1))).astype(np.float32))

    def step(xb, yb):
        model.zero_grad()
        loss = ((1 - yb * model(xb)).relu() * 0.5).mean()  # mul sub relu mul: one group
        loss.backward()
        return loss

    eager = [step(x, y).data] + [p.grad.data.copy() for p in model.parameters()]
    run = ag.jit(step)
    for _ in range(4):
        out = run(x, y)
    assert_close(eager, [out.data] + [p.grad.data for p in model.parameters()], exact=True)
    assert len(next(iter(run.plans.values())).groups) == 1


def test_hundred_mlp_steps_with_dropout_and_a_fused_group_equal_eager():
    data_rng = np.random.default_rng(1)
    xs = data_rng.standard_normal((100, 8, 12)).astype(np.float32)
    ys = data_rng.integers(0, 4, (100, 8))
    finals = []
    for jit in (False, True):
        ag.manual_seed(0)
        first, drop, last = nn.Linear(12, 16), nn.Dropout(0.3), nn.Linear(16, 4)
        params = [*first.parameters(), *last.parameters()]
        opt = nn.optim.Adam(params, lr=1e-2)
        loss_fn = nn.CrossEntropyLoss()

        def step(xb, yb, first=first, drop=drop, last=last, opt=opt, loss_fn=loss_fn):
            opt.zero_grad()
            h = first(xb)
            hidden = ag.maximum(h * 0.5 + 0.1, h * -0.25).relu()  # one group of 5 ops
            loss = loss_fn(last(drop(hidden)), yb)
            loss.backward()
            opt.step()
            return loss

        run = ag.jit(step) if jit else step
        ag.manual_seed(7)
        losses = [run(ag.Tensor(xs[i]), ag.Tensor(ys[i])).data.copy() for i in range(100)]
        finals.append(losses + [p.data.copy() for p in params])
        if jit:
            assert len(next(iter(run.plans.values())).groups) == 1
    assert_close(*finals, exact=True)


def test_check_mode_tolerates_fused_rounding_and_catches_a_wrong_loop():
    with K.use_jit(True):  # the test breaks the loop itself
        for function in (arith, transcendental):
            leaves = _leaves(np.float32, (64,))

            def step(x, w, b, function=function):
                out = function(x, w, b)
                out.sum().backward()
                return out

            run = ag.jit(step, check=True)
            for _ in range(5):  # the replays are checked against eager: they pass
                run(*leaves)
            group = next(iter(run.plans.values())).groups[0]
            loop = group._loop

            def wrong(*args, loop=loop):
                ran = loop(*args)
                args[-2][...] *= 1.001  # the group's output, a little off
                return ran

            group._loop = wrong
            note = " .*beyond the rounding of fused" if function is transcendental else ""
            with pytest.raises(ag.CaptureError, match="differs from eager" + note):
                run(*leaves)


# --- random chains --------------------------------------------------------------------------

UNARY = {"neg": lambda y: -y, "relu": ag.relu, "square": ag.square, "tanh": ag.tanh,
         "sigmoid": ag.sigmoid, "exp": lambda y: ag.exp(y * 0.1), "log": lambda y: (y * y).log()}
BINARY = {"add": ag.add, "sub": ag.subtract, "mul": ag.multiply, "div": ag.divide,
          "maximum": ag.maximum, "minimum": ag.minimum}
LIBM = {"tanh", "sigmoid", "exp", "log"}

op_step = st.one_of(
    st.tuples(st.sampled_from(sorted(UNARY)), st.none()),
    st.tuples(st.sampled_from(sorted(BINARY)),
              st.one_of(st.sampled_from(["x", "w"]),
                         st.floats(-3, 3, allow_nan=False, width=32).filter(lambda c: c != 0))),
)


@settings(max_examples=12, deadline=None)
@given(ops=st.lists(op_step, min_size=3, max_size=8),
       case=st.sampled_from(CASES), reversed_operands=st.booleans())
def test_random_chains_of_fusable_ops_equal_eager(ops, case, reversed_operands):
    dtype, shape = case

    def chain(x, w, b):
        y = x + b
        for name, other in ops:
            if other is None:
                y = UNARY[name](y)
                continue
            operand = {"x": x, "w": w}.get(other, other)
            y = BINARY[name](operand, y) if reversed_operands else BINARY[name](y, operand)
        return y

    with np.errstate(all="ignore"):  # divisions by values near zero may overflow, in both
        (expected, got), _ = _eager_and_replayed(chain, _leaves(dtype, shape, seed=len(ops)))
    exact = not any(name in LIBM for name, _ in ops)
    if exact:
        assert_close(expected, got, exact=True)
        return
    for a, b in zip(expected, got):  # transcendental: a few ulp, grown through the chain
        finite = np.isfinite(a)
        np.testing.assert_array_equal(np.isfinite(b), finite)
        scale = np.max(np.abs(a[finite]), initial=1.0)
        np.testing.assert_allclose(b[finite], a[finite], rtol=0,
                                   atol=fusion.INEXACT_RTOL[a.dtype] * scale)


def test_a_damaged_cached_loop_file_is_rewritten_not_run(tmp_path, monkeypatch):
    """The loop's source file in the cache folder runs only if it is the source asked for."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    marker = f"{np.random.default_rng().integers(1 << 30)}"  # a source no earlier test compiled
    source = fusion._module(["def kernel(A0, R1):", f"    # {marker}",
                             "    for i in range(A0.size):", "        R1[i] = A0[i] * T(3)"],
                            np.dtype(np.float64))
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    path = tmp_path / "fused" / f"fused_{digest}.py"
    path.parent.mkdir()
    path.write_text("raise SystemExit('this damaged file must not run')\n")
    kernel = fusion._compile(source, [1, 1], np.dtype(np.float64))
    out = np.zeros(3)
    assert kernel(np.arange(3.0), out) and out.tolist() == [0.0, 3.0, 6.0]
    assert path.read_text() == source
