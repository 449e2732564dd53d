"""Mode objects shared between threads, and complex tensors refused."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autograd_core as ag


def run_in_threads(*targets) -> None:
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as err:  # re-raised in the main thread
            errors.append(err)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    if errors:
        raise errors[0]


def test_one_no_grad_decorator_used_by_two_threads_at_once() -> None:
    """Thread A enters with grad on, thread B (inside no_grad) enters second, A leaves first: a
    stack shared between threads would hand A the mode B saved, and B the one A saved."""
    both_inside, a_left = threading.Barrier(2), threading.Event()
    after = {}

    @ag.no_grad()
    def inside(leave_first: bool) -> None:
        both_inside.wait(timeout=5)
        if not leave_first:
            a_left.wait(timeout=5)

    def thread_a() -> None:
        inside(leave_first=True)
        a_left.set()
        after["a"] = ag.is_grad_enabled()
        x = ag.tensor(1.0, requires_grad=True)
        after["a records"] = (x * x).requires_grad

    def thread_b() -> None:
        with ag.no_grad():
            inside(leave_first=False)
            after["b"] = ag.is_grad_enabled()

    run_in_threads(thread_a, thread_b)
    assert after == {"a": True, "a records": True, "b": False}


@pytest.mark.parametrize("make", [ag.enable_grad, ag.detect_anomaly,
                                  lambda: ag.name_scope("shared")])
def test_other_mode_objects_shared_between_threads(make) -> None:
    mode = make()
    both_inside = threading.Barrier(2)
    seen = []

    def worker() -> None:
        with ag.no_grad(), mode:
            both_inside.wait(timeout=5)
            x = ag.tensor([1.0], requires_grad=True)
            seen.append((ag.is_grad_enabled(), ag.mode.state.scopes, ag.mode.state.anomaly,
                         (x * 2).requires_grad))
        seen.append((ag.is_grad_enabled(), ag.mode.state.scopes, ag.mode.state.anomaly))

    run_in_threads(worker, worker)
    inside, outside = [s for s in seen if len(s) == 4], [s for s in seen if len(s) == 3]
    assert len(inside) == 2 and len(set(inside)) == 1
    assert outside == [(True, (), False)] * 2


def test_detect_anomaly_object_reused_and_as_decorator() -> None:
    guard = ag.detect_anomaly()

    @guard
    def log_of(values):
        return ag.log(ag.tensor(values))

    with pytest.raises(FloatingPointError, match="log"):
        log_of([-1.0])
    with guard, pytest.raises(FloatingPointError):
        ag.log(ag.tensor([0.0]))
    assert not ag.mode.state.anomaly


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_tensors_cannot_require_grad(dtype) -> None:
    z = np.array([1 + 2j, 3 - 1j], dtype=dtype)
    with pytest.raises(ag.DTypeError, match=f"complex.*{np.dtype(dtype).name}"):
        ag.tensor(z, requires_grad=True)
    with pytest.raises(ag.DTypeError, match=np.dtype(dtype).name):
        ag.tensor(z).requires_grad_()
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ag.DTypeError, match=f"cast: .*{np.dtype(dtype).name}"):
        ag.astype(x, dtype)
    assert ag.tensor(z).dtype == dtype  # as plain data they are fine


def test_blocks_left_out_of_order_restore_their_own_state():
    # a generator suspended inside no_grad() leaves it inside another mode block
    def steps():
        with ag.no_grad():
            yield
        yield

    with ag.enable_grad():
        gen = steps()
        next(gen)                          # inside no_grad
        with ag.enable_grad():             # saves "off"
            next(gen)                      # no_grad exits, restoring "on"
            assert ag.is_grad_enabled()
        assert not ag.is_grad_enabled()    # enable_grad restores what it found, as PyTorch's
    assert ag.is_grad_enabled()
    gen = steps()
    next(gen)
    with ag.detect_anomaly():
        next(gen)
    assert ag.is_grad_enabled() and not ag.mode.state.anomaly


def test_plain_flag_follows_every_switch_per_thread() -> None:
    """Function.apply trusts ``state.plain`` instead of reading grad mode, anomaly mode and the
    recorder: each switch, set or restored, must keep it true, and only in its own thread."""
    state = ag.mode.state
    assert state.plain
    with ag.no_grad():
        assert not state.plain
        x = ag.tensor([1.0, 2.0], requires_grad=True) * 2.0
        assert x.grad_fn is None
        seen = []
        run_in_threads(lambda: seen.append(state.plain))
        assert seen == [True]
        with ag.enable_grad():
            assert state.plain
        assert not state.plain
    assert state.plain
    with ag.detect_anomaly():
        assert not state.plain
        with pytest.raises(FloatingPointError):
            ag.tensor([-1.0], requires_grad=True).log()
    assert state.plain
    state.recorder = object()
    assert not state.plain
    state.recorder = None
    assert state.plain
