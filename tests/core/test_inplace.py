"""In-place operations: PyTorch's rules on who may be written, and the dtype kept."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ag

LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."


def leaf(values, dtype=np.float64) -> ag.Tensor:
    return ag.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_gradient_descent_by_hand_updates_the_same_parameter() -> None:
    w = leaf([1.0, -2.0])
    same = w
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with ag.no_grad():
            w -= 0.25 * w.grad
        w.grad = None
    assert w is same and w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.numpy(), np.array([1.0, -2.0]) * 0.5**3)
    (w * w).sum().backward()  # still a working parameter
    np.testing.assert_allclose(w.grad.numpy(), 2 * w.numpy())


@pytest.mark.parametrize("write", [
    lambda t: t.__iadd__(1.0), lambda t: t.__isub__(1.0), lambda t: t.__imul__(2.0),
    lambda t: t.__itruediv__(2.0), lambda t: t.add_(1.0), lambda t: t.sub_(1.0),
    lambda t: t.mul_(2.0), lambda t: t.div_(2.0), lambda t: t.zero_(), lambda t: t.fill_(3.0),
    lambda t: t.copy_(np.ones(2)), lambda t: t.clamp_(0.0, 1.0),
    lambda t: t.__setitem__(0, 5.0),
])
def test_every_write_is_refused_on_a_leaf_requiring_grad_and_allowed_under_no_grad(write):
    w = leaf([0.5, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable") as info:
        write(w)
    assert "(2,)" in str(info.value) and "float64" in str(info.value)
    np.testing.assert_array_equal(w.numpy(), [0.5, 2.0])  # refused before writing
    with ag.no_grad():
        write(w)
    assert w._version == 1 and w.is_leaf and w.requires_grad


def test_values_of_each_write_match_numpy() -> None:
    with ag.no_grad():
        t = ag.tensor([1.0, 2.0, 3.0])
        t += 1
        t -= ag.tensor([1.0, 1.0, 1.0])
        t *= 4
        t /= 2
        np.testing.assert_allclose(t.numpy(), [2.0, 4.0, 6.0])
        t.add_(ag.tensor([1.0, 1.0, 1.0]), alpha=2).sub_(1.0, alpha=3)
        np.testing.assert_allclose(t.numpy(), [1.0, 3.0, 5.0])
        t.clamp_(min=2.0, max=4.0)
        np.testing.assert_allclose(t.numpy(), [2.0, 3.0, 4.0])
        t[t.numpy() > 2.5] = 0.0
        t[0] = ag.tensor(7.0)
        np.testing.assert_allclose(t.numpy(), [7.0, 0.0, 0.0])
        t.copy_(ag.tensor([1.0]))  # broadcast
        np.testing.assert_allclose(t.numpy(), [1.0, 1.0, 1.0])
        assert t.fill_(2.5).zero_() is t
        assert t._version == 12


def test_tensor_not_requiring_grad_is_a_plain_update_with_grad_on() -> None:
    t = ag.tensor([1.0, 2.0])
    array = t.numpy()
    t += 1
    t[1] = 0
    assert t.numpy() is array
    np.testing.assert_allclose(array, [2.0, 0.0])


def test_graph_tensor_written_in_place_is_refused_clearly() -> None:
    """The chosen rule for non-leaves: refused under grad mode (never a silently wrong gradient)."""
    x = leaf([1.0, 2.0])
    y = x * x
    with pytest.raises(RuntimeError, match="part of the graph .*output of mul"):
        y += 1
    with pytest.raises(RuntimeError, match="part of the graph"):
        y[0] = 3.0


def test_view_of_a_parameter_taken_under_no_grad_is_refused_with_grad_on() -> None:
    w = leaf([1.0, 2.0, 3.0])
    with ag.no_grad():
        head = w[:2]
        column = head.reshape(2, 1)  # a view of the view carries the mark on
        head += 1  # allowed: no graph is recorded
    for view in (head, column):
        with pytest.raises(RuntimeError, match="view of a tensor that requires grad, taken "
                                               "under no_grad"):
            view.mul_(2)
    np.testing.assert_allclose(w.numpy(), [2.0, 3.0, 3.0])
    detached = w.detach()  # detach() is meant for writing, as in PyTorch
    detached += 1
    np.testing.assert_allclose(w.numpy(), [3.0, 4.0, 4.0])
    plain = ag.tensor([1.0, 2.0])
    with ag.no_grad():
        view = plain[:1]
    view += 1  # the base requires no grad: a plain update
    np.testing.assert_allclose(plain.numpy(), [2.0, 2.0])


def test_value_requiring_grad_into_a_plain_tensor_is_refused() -> None:
    buffer = ag.zeros(2, dtype=np.float64)
    with pytest.raises(RuntimeError, match="requires grad .* gradient would be lost"):
        buffer[0] = leaf(1.0)
    with pytest.raises(RuntimeError, match="requires grad"):
        buffer.add_(leaf([1.0, 1.0]))
    with ag.no_grad():  # no graph is being recorded: a plain copy of the values
        buffer[0] = leaf(1.0)
    np.testing.assert_allclose(buffer.numpy(), [1.0, 0.0])


def test_in_place_keeps_the_dtype_and_refuses_a_float_result_into_int() -> None:
    counts = ag.tensor([1, 2])
    counts += 2
    counts *= ag.tensor([2, 2], dtype=np.int32)
    assert counts.dtype == np.int64
    np.testing.assert_array_equal(counts.numpy(), [6, 8])
    for write in (lambda: counts.__iadd__(0.5), lambda: counts.__itruediv__(2),
                  lambda: counts.add_(ag.tensor([1.0, 1.0]))):
        with pytest.raises(ag.DTypeError, match="float.* can't be cast .* int64"):
            write()
    flags = ag.tensor([True, False])
    with pytest.raises(ag.DTypeError, match="bool"):
        flags += 1
    half = ag.tensor([1.0, 2.0], dtype=np.float32)
    half += np.array([0.1, 0.1])  # float64 value, float32 tensor: same kind, kept float32
    assert half.dtype == np.float32
    counts[0] = 1.7  # assignment converts like PyTorch
    counts.fill_(3.9)
    np.testing.assert_array_equal(counts.numpy(), [3, 3])


def test_bad_shapes_and_read_only_views_are_named() -> None:
    t = ag.zeros(3, dtype=np.float64)
    with pytest.raises(ag.ShapeError, match=r"shape \(2, 3\).*\(3,\)"):
        t += np.ones((2, 3))
    with pytest.raises(ag.ShapeError, match="fill_"):
        t.fill_(np.ones(2))
    view = ag.broadcast_to(ag.tensor([1.0]), (3,))
    with pytest.raises(ValueError, match="read-only"):
        view += 1
    with pytest.raises(TypeError, match="alpha"):
        t.mul_(2.0, alpha=2)


def test_writing_through_a_view_writes_the_base() -> None:
    base = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    row = base[0]
    row *= 10
    np.testing.assert_allclose(base.numpy(), [[10.0, 20.0], [3.0, 4.0]])
    assert base._version == row._version == 1
    with ag.no_grad():
        w = leaf([1.0, 2.0])
        w[0] += 5  # reads a view, writes it, assigns it back
    np.testing.assert_allclose(w.numpy(), [6.0, 2.0])
