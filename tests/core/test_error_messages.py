"""Bad input: one test per error, asserting that the message names the op, shapes and dtypes."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_core as ag


def test_broadcast_shape_mismatch_names_op_shapes_and_dtypes() -> None:
    a = ag.tensor(np.ones((2, 3)))
    b = ag.tensor(np.ones(4, dtype=np.float32))
    with pytest.raises(ag.ShapeError, match=r"add: .*\(2, 3\) float64, \(4,\) float32"):
        a + b
    with pytest.raises(ValueError):  # ShapeError is a ValueError for existing except clauses
        a * b


def test_matmul_inner_dimension_mismatch() -> None:
    a = ag.tensor(np.ones((2, 3)))
    b = ag.tensor(np.ones((4, 5)))
    with pytest.raises(ag.ShapeError, match=r"matmul: inner dimensions differ.*\(2, 3\).*\(4, 5\)"):
        a @ b


def test_matmul_rejects_0d_operands() -> None:
    with pytest.raises(ag.ShapeError, match="matmul.*0-d"):
        ag.matmul(ag.tensor(2.0), ag.tensor([1.0, 2.0]))


def test_backward_gradient_of_wrong_shape() -> None:
    y = ag.tensor(np.ones((2, 3)), requires_grad=True) * 2.0
    with pytest.raises(ag.ShapeError, match=r"backward: gradient has shape \(3,\).*\(2, 3\)"):
        y.backward(gradient=np.ones(3))


def test_non_scalar_backward_without_gradient_names_the_shape() -> None:
    y = ag.tensor(np.ones((2, 3)), requires_grad=True) * 2.0
    with pytest.raises(ag.ShapeError, match=r"backward: the output has shape \(2, 3\).*gradient="):
        y.backward()


def test_backward_on_tensor_without_graph() -> None:
    with pytest.raises(RuntimeError, match=r"does not require grad"):
        ag.tensor(1.0).backward()


def test_grad_on_integer_tensor_names_the_dtype() -> None:
    with pytest.raises(ag.DTypeError, match=r"requires_grad: only floating.*int64"):
        ag.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="bool"):
        ag.tensor([True]).requires_grad_()


def test_unsupported_operand_type_names_op_and_type() -> None:
    t = ag.tensor([1.0, 2.0])
    with pytest.raises(ag.DTypeError, match="add: unsupported operand type str"):
        t + "a"
    with pytest.raises(ag.DTypeError, match="mul: unsupported operand type list"):
        t * [1.0, 2.0]
    with pytest.raises(ag.DTypeError, match=r"tensor: cannot make a Tensor from str"):
        ag.tensor("text")


def test_out_of_range_axis() -> None:
    t = ag.tensor(np.ones((2, 3)))
    with pytest.raises(ag.ShapeError, match=r"sum: axis 2 is out of range.*\(2, 3\)"):
        t.sum(axis=2)
    with pytest.raises(ag.ShapeError, match=r"max: axis -3 is out of range"):
        t.max(axis=(0, -3))


def test_out_of_range_axis_of_softmax() -> None:
    with pytest.raises(ag.ShapeError, match=r"softmax: axis 3 .*\(2, 3\)"):
        ag.tensor(np.ones((2, 3))).softmax(axis=3)


def test_flatten_dims_out_of_range_or_out_of_order() -> None:
    t = ag.tensor(np.ones((2, 3, 4)))
    with pytest.raises(ag.ShapeError, match=r"flatten: axis 4 is out of range.*\(2, 3, 4\)"):
        t.flatten(4)
    with pytest.raises(ag.ShapeError, match=r"flatten: start_dim 2 comes after end_dim 0"):
        t.flatten(2, 0)


def test_out_of_range_axis_of_normalize() -> None:
    with pytest.raises(ag.ShapeError, match=r"normalize: axis 2 .*\(3, 4\)"):
        ag.normalize(ag.tensor(np.ones((3, 4))), (2,))


def test_squeeze_of_axis_with_size_above_one() -> None:
    with pytest.raises(ValueError, match=r"squeeze: .*\(2, 3\)"):
        ag.tensor(np.ones((2, 3))).squeeze(0)


def test_axis_and_dim_together() -> None:
    with pytest.raises(TypeError, match="mean: pass axis= or dim=, not both"):
        ag.tensor(np.ones((2, 3))).mean(axis=0, dim=1)


def test_unsupported_numpy_function() -> None:
    t = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ag.DTypeError, match=r"np\.heaviside: not supported.*lose the gradient"):
        np.heaviside(t, 0.5)
    with pytest.raises(ag.DTypeError, match=r"np\.add\.reduce: not supported"):
        np.add.reduce(t)
    with pytest.raises(ag.DTypeError, match=r"np\.median: not supported"):
        np.median(t)


def test_max_of_empty_tensor() -> None:
    with pytest.raises(ag.ShapeError, match=r"max: cannot reduce an empty tensor of shape \(0,\)"):
        ag.tensor(np.zeros(0)).max()


def test_reshape_to_incompatible_shape() -> None:
    with pytest.raises(ag.ShapeError, match=r"reshape: .*\(2, 3\) float64"):
        ag.tensor(np.ones((2, 3))).reshape(4, 2)


def test_transpose_with_bad_axes() -> None:
    with pytest.raises(ag.ShapeError, match=r"transpose: axes \(0, 0\) are not a permutation"):
        ag.tensor(np.ones((2, 3))).transpose(0, 0)


def test_index_out_of_range() -> None:
    with pytest.raises(IndexError, match=r"getitem: .*\(2, 3\) float64"):
        ag.tensor(np.ones((2, 3)))[5]


def test_concatenate_mismatched_shapes_and_empty_list() -> None:
    with pytest.raises(ag.ShapeError, match=r"concatenate: .*\(2, 3\) float64, \(2, 2\) float64"):
        ag.concatenate([ag.tensor(np.ones((2, 3))), ag.tensor(np.ones((2, 2)))])
    with pytest.raises(ValueError, match="stack: needs at least one tensor"):
        ag.stack([])


def test_hook_returning_wrong_shape() -> None:
    x = ag.tensor(np.ones(3), requires_grad=True)
    x.register_hook(lambda grad: np.ones(2))
    with pytest.raises(ag.ShapeError, match=r"register_hook: .*shape \(2,\).*shape \(3,\)"):
        (x * 2.0).sum().backward()


def test_hook_on_tensor_without_grad() -> None:
    with pytest.raises(RuntimeError, match="register_hook: cannot register a hook"):
        ag.tensor([1.0]).register_hook(print)


def test_clip_without_bounds() -> None:
    with pytest.raises(TypeError, match="clip: give min, max or both"):
        ag.tensor([1.0]).clip()


def test_functional_grad_needs_a_single_element_output() -> None:
    with pytest.raises(ag.ShapeError, match=r"grad: .*single-element Tensor, got \(2,\)"):
        ag.grad(lambda x: x * 2.0)(np.array([1.0, 2.0]))


def test_gradcheck_error_names_input_index_and_values() -> None:
    class Wrong(ag.Function):
        def forward(self, a):
            return 2 * a

        def backward(self, grad):
            return grad  # should be 2 * grad

    with pytest.raises(ag.GradcheckError, match=r"input 0 \(shape \(2,\)\), index \(0,\)") as info:
        ag.gradcheck(lambda x: Wrong.apply(x), [np.array([1.0, 2.0])])
    analytical, numerical = (float(v) for v in re.findall(r"(?:analytical gradient|numerical) "
                                                          r"(\S+)", str(info.value)))
    assert numerical == pytest.approx(2 * analytical)  # both values are in the message


def test_axis_and_dim_together_swapaxes_and_size_out_of_range_raise():
    a = ag.ones(2, 3)
    with pytest.raises(TypeError, match="concatenate: got both axis=1 and dim=0"):
        ag.concatenate([a, a], axis=1, dim=0)
    with pytest.raises(TypeError, match="softmax: got both"):
        ag.softmax(a, axis=0, dim=1)
    assert ag.concatenate([a, a], dim=1).shape == (2, 6) and ag.stack([a, a]).shape == (2, 2, 3)
    with pytest.raises(IndexError, match=r"swapaxes: axis 5 is out of range .*\(2, 3\)"):
        ag.swapaxes(a, 0, 5)
    with pytest.raises(IndexError, match="size: dimension 0 is out of range"):
        ag.tensor(1.0).size(0)  # as PyTorch: a 0-d tensor has no dimension
