"""What backward() does to the graph and to ``.grad``: the rules users rely on."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autograd_core as ag


def leaf(value, dtype=np.float64) -> ag.Tensor:
    return ag.tensor(np.asarray(value, dtype=dtype), requires_grad=True)


def test_worked_example() -> None:
    """g = (x + y) * z at x=1, y=3, z=-3 (the example in DESIGN.md and the package docstring)."""
    x, y, z = (ag.tensor(v, requires_grad=True) for v in (1.0, 3.0, -3.0))
    p = x + y
    p.retain_grad()
    g = p * z
    g.backward()
    assert g.item() == -12.0
    assert (x.grad.item(), y.grad.item(), z.grad.item(), p.grad.item()) == (-3.0, -3.0, 4.0, -3.0)
    assert all(isinstance(t.grad, ag.Tensor) for t in (x, y, z, p))
    assert g.grad is None  # non-leaves keep no grad unless asked


def test_grad_accumulates_on_leaves_across_backward_calls() -> None:
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0 + 3.0, 4.0 + 3.0])
    x.zero_grad()
    assert x.grad is None


def test_retain_graph_allows_a_second_backward() -> None:
    x = leaf(2.0)
    y = x.exp() * x
    y.backward(retain_graph=True)
    first = x.grad.item()
    y.backward()
    assert x.grad.item() == pytest.approx(2 * first)


def test_second_backward_through_freed_graph_raises() -> None:
    x = leaf(2.0)
    y = x * x
    y.backward()
    assert y.grad_fn.released
    with pytest.raises(RuntimeError, match=r"second time.*mul.*retain_graph=True"):
        y.backward()


def test_retain_grad_on_non_leaves() -> None:
    x = leaf([1.0, 2.0])
    h = x * 2.0
    h.retain_grad()
    unkept = h + 1.0
    (unkept * unkept).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * (h.numpy() + 1))
    assert unkept.grad is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.tensor([1.0]).retain_grad()


def test_hook_observes_the_gradient() -> None:
    x = leaf([1.0, 2.0])
    h = x * 3.0
    seen = []
    h.register_hook(lambda grad: seen.append(grad.numpy().copy()))
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_hook_replaces_the_gradient_and_can_be_removed() -> None:
    x = leaf([1.0, 2.0])
    remove = x.register_hook(lambda grad: grad * 10.0)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 40.0])
    remove()
    x.zero_grad()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_hook_on_intermediate_changes_what_flows_upstream() -> None:
    x = leaf(1.0)
    h = x * 2.0
    h.register_hook(lambda grad: grad * 0.0)
    (h * h + x).backward()
    assert x.grad.item() == 1.0  # only the direct path through "+ x" survives


def test_detach_cuts_the_graph_and_shares_data() -> None:
    x = leaf([1.0, 2.0])
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), d.numpy())  # d is a constant
    shared = x.detach()
    shared.data[0] = 5.0
    assert x.data[0] == 5.0


def test_requires_grad_() -> None:
    x = ag.tensor([1.0, 2.0])
    assert not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    y = leaf(1.0) * 2.0
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.requires_grad_(False)


def test_is_leaf_and_grad_fn() -> None:
    x = leaf([1.0, 2.0])
    c = ag.tensor([3.0, 4.0])
    y = x * c
    assert x.is_leaf and x.grad_fn is None
    assert c.is_leaf and not c.requires_grad
    assert not y.is_leaf and y.grad_fn.name == "mul"
    assert y.grad_fn.inputs[0] is x and y.grad_fn.inputs[1] is c
    assert (c * c).grad_fn is None  # nothing that requires grad went in: no node


def test_no_grad_records_nothing() -> None:
    x = leaf([1.0, 2.0])
    with ag.no_grad():
        y = x * 2.0
        assert not ag.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert ag.is_grad_enabled()


def test_no_grad_as_decorator_and_enable_grad_inside() -> None:
    x = leaf(2.0)

    @ag.no_grad()
    def frozen():
        inner_off = x * x
        with ag.enable_grad():
            inner_on = x * x
        return inner_off, inner_on

    off, on = frozen()
    assert off.grad_fn is None
    assert on.grad_fn is not None
    on.backward()
    assert x.grad.item() == 4.0


def test_no_grad_is_thread_local() -> None:
    """A worker thread sitting inside no_grad must not switch recording off for this thread."""
    entered, release = threading.Event(), threading.Event()
    worker_saw = {}

    def worker() -> None:
        with ag.no_grad():
            entered.set()
            worker_saw["recorded"] = (leaf(1.0) * 2.0).requires_grad
            release.wait(timeout=10)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert entered.wait(timeout=10)
        assert ag.is_grad_enabled()
        y = leaf(3.0) * 2.0
        assert y.requires_grad and y.grad_fn is not None
    finally:
        release.set()
        thread.join(timeout=10)
    assert worker_saw["recorded"] is False


def test_engine_grad_leaves_dot_grad_untouched() -> None:
    x, y = leaf(2.0), leaf(3.0)
    h = x * y
    out = h * h
    gx, gh = ag.engine.grad(out, [x, h])  # non-leaves are allowed as targets
    assert gx.item() == pytest.approx(2 * 6.0 * 3.0)
    assert gh.item() == pytest.approx(12.0)
    assert x.grad is None and y.grad is None and h.grad is None
    unused = leaf(1.0)
    (zero,) = ag.engine.grad(x * 2.0, [unused])
    assert zero.item() == 0.0


def test_value_and_grad_with_argnums_tuple() -> None:
    def f(x, y, scale):
        return (x * y).sum() * scale

    value, (dx, dy) = ag.value_and_grad(f, argnums=(0, 1))(
        np.array([1.0, 2.0]), np.array([3.0, 4.0]), 2.0)
    assert value.item() == pytest.approx(22.0)
    assert not value.requires_grad
    np.testing.assert_allclose(dx.numpy(), [6.0, 8.0])
    np.testing.assert_allclose(dy.numpy(), [2.0, 4.0])
    dy_only = ag.grad(f, argnums=1)(np.array([1.0, 2.0]), np.array([3.0, 4.0]), 2.0)
    np.testing.assert_allclose(dy_only.numpy(), [2.0, 4.0])


def test_functional_grad_of_constant_function_is_zero() -> None:
    assert ag.grad(lambda x: ag.tensor(1.0))(np.array([1.0, 2.0])).numpy().tolist() == [0.0, 0.0]


def test_backward_with_explicit_gradient() -> None:
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(gradient=np.array([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, -6.0])


def test_shared_subexpression_gradients_add() -> None:
    """A tensor used twice gets both contributions (the diamond graph)."""
    x = leaf(3.0)
    h = x * 2.0
    (h * h + h).backward()  # d/dx (4x**2 + 2x) = 8x + 2
    assert x.grad.item() == pytest.approx(26.0)


def test_name_scope_tags_nodes() -> None:
    x = leaf(1.0)
    with ag.name_scope("fc1"), ag.name_scope("inner"):
        y = x * 2.0
    assert y.grad_fn.scope == "fc1/inner"
    assert (y + 1.0).grad_fn.scope is None


def test_gradients_returned_by_engine_grad_are_writable_arrays() -> None:
    x = leaf([1.0, 2.0, 3.0])
    (gx,) = ag.engine.grad(x.sum(), [x])
    gx.data *= 2.0  # e.g. gradient clipping in place
    np.testing.assert_array_equal(gx.numpy(), [2.0, 2.0, 2.0])


def test_engine_grad_does_not_alias_the_users_gradient() -> None:
    y = leaf([1.0, 2.0]) * 1.0
    seed = np.array([1.0, 1.0])
    (gy,) = ag.engine.grad(y, [y], gradient=seed)
    assert gy.data is not seed


def test_leaf_gradients_never_share_arrays():
    # the walk adopts fresh gradient arrays instead of copying them; add passes one array to
    # both inputs, sum's gradient is a read-only broadcast, and the user's gradient stays theirs
    a = ag.tensor(np.ones(3), requires_grad=True)
    b = ag.tensor(np.ones(3), requires_grad=True)
    seed = np.arange(3.0)
    (a + b).backward(gradient=seed)
    assert a.grad.data is not b.grad.data and a.grad.data is not seed
    a.grad.data *= 2
    assert b.grad.data[1] == 1 and seed[1] == 1
    x = ag.tensor(np.ones(3), requires_grad=True)
    x.sum().backward()
    x.grad.data *= 2  # writable, not a broadcast view
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_backward_returning_fewer_gradients_than_inputs_is_refused() -> None:
    """A formula that forgets an input's gradient would leave that input's count (and every
    tensor above it) unprocessed: the walk names the op instead of dropping it silently."""

    class Forgetful(ag.Function):
        def forward(self, a, b):
            return a * b

        def backward(self, grad):
            return grad

    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    with pytest.raises(RuntimeError, match="backward of forgetful returned 1 gradients for 2"):
        Forgetful.apply(x, y).sum().backward()
