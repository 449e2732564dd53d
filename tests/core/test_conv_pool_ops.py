"""Convolution and pooling ops: gradients against central differences (float64), gradients of
gradients, shapes, and the errors for bad arguments. Comparisons with PyTorch live in
tests/nn/test_conv_layers.py."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.kernels import use_jit


def leaf(rng, *shape):
    return ag.tensor(rng.standard_normal(shape), requires_grad=True)


@pytest.fixture(params=[True, False], ids=["numba", "numpy"])
def jit(request):
    with use_jit(request.param):
        yield request.param


CONV2D_CASES = [  # (N, C, H, W), (O, C/G, kh, kw), keyword arguments
    ((2, 2, 5, 4), (3, 2, 3, 3), {}),
    ((1, 4, 6, 5), (4, 2, 3, 2), {"stride": 2, "padding": 1, "groups": 2}),
    ((1, 2, 6, 6), (2, 2, 2, 3), {"stride": (2, 1), "padding": (0, 2), "dilation": (2, 1)}),
    ((2, 3, 5, 5), (3, 1, 2, 2), {"padding": "same", "dilation": 2, "groups": 3}),
    ((1, 2, 4, 5), (2, 2, 3, 3), {"padding": "valid", "bias": False}),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV2D_CASES)
def test_conv2d_gradcheck(jit, x_shape, w_shape, kwargs):
    rng = np.random.default_rng(0)
    kwargs = dict(kwargs)
    inputs = [leaf(rng, *x_shape), leaf(rng, *w_shape)]
    if kwargs.pop("bias", True):
        inputs.append(leaf(rng, w_shape[0]))
    assert ag.gradcheck(lambda x, w, *b: ag.conv2d(x, w, *b, **kwargs), inputs)


@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1, "groups": 2},
                                    {"padding": "same", "dilation": 2}])
def test_conv1d_gradcheck(jit, kwargs):
    rng = np.random.default_rng(1)
    inputs = [leaf(rng, 2, 4, 7), leaf(rng, 2, 4 // kwargs.get("groups", 1), 3), leaf(rng, 2)]
    assert ag.gradcheck(lambda x, w, b: ag.conv1d(x, w, b, **kwargs), inputs)


@pytest.mark.parametrize("kwargs", [
    {},
    {"stride": 2, "padding": 1, "output_padding": 1},
    {"stride": (2, 1), "dilation": 2, "groups": 2, "output_padding": (1, 0)},
])
def test_conv_transpose2d_gradcheck(jit, kwargs):
    rng = np.random.default_rng(2)
    groups = kwargs.get("groups", 1)
    inputs = [leaf(rng, 2, 4, 3, 4), leaf(rng, 4, 6 // groups, 3, 2), leaf(rng, 6)]
    assert ag.gradcheck(lambda x, w, b: ag.conv_transpose2d(x, w, b, **kwargs), inputs)


def test_conv_transpose1d_gradcheck(jit):
    rng = np.random.default_rng(3)
    inputs = [leaf(rng, 2, 2, 5), leaf(rng, 2, 3, 3), leaf(rng, 3)]
    assert ag.gradcheck(lambda x, w, b: ag.conv_transpose1d(x, w, b, stride=2, padding=1,
                                                           output_padding=1), inputs)


def test_conv_gradients_of_gradients():
    rng = np.random.default_rng(4)
    x, w, wt = leaf(rng, 1, 4, 5, 5), leaf(rng, 4, 2, 3, 3), leaf(rng, 4, 3, 2, 2)
    assert ag.gradgradcheck(lambda x, w: ag.conv2d(x, w, stride=2, padding=1, groups=2), [x, w])
    assert ag.gradgradcheck(lambda x, w: ag.conv_transpose2d(x, w, stride=2), [x, wt])
    x1, w1 = leaf(rng, 1, 2, 6), leaf(rng, 3, 2, 2)
    assert ag.gradgradcheck(lambda x, w: ag.conv1d(x, w, dilation=2), [x1, w1])


POOL_CASES = [  # kernel_size, keyword arguments
    (2, {}),
    (3, {"stride": 2, "padding": 1}),
    ((3, 2), {"stride": (1, 2), "padding": (1, 0), "ceil_mode": True}),
    (2, {"stride": 3, "ceil_mode": True}),
]


def distinct(rng, *shape):
    """Inputs without ties, so a max's gradient is well defined under central differences."""
    values = rng.permutation(np.prod(shape)).reshape(shape) / 10.0
    return ag.tensor(values, requires_grad=True)


@pytest.mark.parametrize("kernel_size, kwargs", POOL_CASES)
def test_max_pool2d_gradcheck(jit, kernel_size, kwargs):
    x = distinct(np.random.default_rng(5), 2, 2, 5, 6)
    assert ag.gradcheck(lambda x: ag.max_pool2d(x, kernel_size, **kwargs), [x])


def test_max_pool_dilation_and_1d_gradcheck(jit):
    rng = np.random.default_rng(6)
    x = distinct(rng, 1, 2, 7, 6)
    assert ag.gradcheck(lambda x: ag.max_pool2d(x, 2, 1, dilation=(2, 3)), [x])
    x1 = distinct(rng, 2, 3, 9)
    assert ag.gradcheck(lambda x: ag.max_pool1d(x, 3, 2, padding=1), [x1])


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("kernel_size, kwargs", POOL_CASES)
def test_avg_pool2d_gradcheck(jit, kernel_size, kwargs, count_include_pad):
    x = leaf(np.random.default_rng(7), 2, 2, 5, 6)
    assert ag.gradcheck(lambda x: ag.avg_pool2d(x, kernel_size, count_include_pad=count_include_pad,
                                                **kwargs), [x])


def test_avg_pool_1d_and_divisor_override_gradcheck(jit):
    rng = np.random.default_rng(8)
    assert ag.gradcheck(lambda x: ag.avg_pool1d(x, 3, 2, 1), [leaf(rng, 2, 3, 8)])
    assert ag.gradcheck(lambda x: ag.avg_pool2d(x, 2, divisor_override=3), [leaf(rng, 1, 2, 4, 5)])


@pytest.mark.parametrize("output_size", [1, (2, 3), (None, 4), 5])
def test_adaptive_avg_pool2d_gradcheck(output_size):
    x = leaf(np.random.default_rng(9), 2, 2, 5, 7)
    assert ag.gradcheck(lambda x: ag.adaptive_avg_pool2d(x, output_size), [x])


def test_pool_gradients_of_gradients():
    rng = np.random.default_rng(10)
    x = distinct(rng, 1, 2, 5, 5)
    assert ag.gradgradcheck(lambda x: ag.max_pool2d(x, 2, 1) ** 2, [x])
    assert ag.gradgradcheck(lambda x: ag.avg_pool2d(x, 3, 2, 1) ** 2, [x])
    assert ag.gradgradcheck(lambda x: ag.adaptive_avg_pool2d(x, (2, 3)) ** 2, [x])


def test_values_on_a_small_example():
    x = ag.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    w = ag.tensor(np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(ag.conv2d(x, w, stride=2).numpy()[0, 0], [[10, 18], [42, 50]])
    np.testing.assert_array_equal(ag.max_pool2d(x, 2).numpy()[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(ag.avg_pool2d(x, 2).numpy()[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    # padding counts as zeros in the mean by default: the corner window holds x[0, 0] only
    assert ag.avg_pool2d(x, 2, padding=1).numpy()[0, 0, 0, 0] == 0.0 / 4
    assert ag.avg_pool2d(x, 2, padding=1, count_include_pad=False).numpy()[0, 0, 1, 1] == 7.5
    up = ag.conv_transpose2d(ag.ones((1, 1, 2, 2)), w, stride=2)
    np.testing.assert_array_equal(up.numpy(), np.ones((1, 1, 4, 4)))


def test_shapes_dtypes_and_unbatched_inputs():
    x32 = ag.randn(2, 3, 9, 8, dtype=np.float32)
    w32 = ag.randn(4, 3, 3, 3, dtype=np.float32)
    y = ag.conv2d(x32, w32, padding="same")
    assert y.shape == (2, 4, 9, 8) and y.dtype == np.float32
    assert ag.conv2d(x32, w32, stride=2, dilation=2).shape == (2, 4, 3, 2)
    assert ag.conv2d(x32[0], w32).shape == (4, 7, 6)  # (C, H, W) without the batch
    assert ag.max_pool2d(x32[0], 2).shape == (3, 4, 4)
    assert ag.conv1d(ag.randn(3, 10), ag.randn(2, 3, 4), padding="same").shape == (2, 10)
    # 'same' with an even kernel: the extra zero goes behind, the size is kept
    assert ag.conv2d(ag.randn(1, 1, 5, 6), ag.randn(1, 1, 2, 4), padding="same").shape == \
        (1, 1, 5, 6)
    assert ag.conv_transpose2d(ag.randn(1, 4, 7, 7), ag.randn(4, 2, 3, 3), stride=2, padding=1,
                               output_padding=1).shape == (1, 2, 14, 14)
    assert ag.max_pool2d(x32, 2, ceil_mode=True).shape == (2, 3, 5, 4)
    assert ag.adaptive_avg_pool2d(x32, (None, 3)).shape == (2, 3, 9, 3)


@pytest.mark.parametrize("call, error, message", [
    (lambda: ag.conv2d(ag.randn(2, 3, 8, 8), ag.randn(4, 2, 3, 3)), ag.ShapeError,
     r"conv2d: input of shape \(2, 3, 8, 8\) has 3 channels, but weight of shape "
     r"\(4, 2, 3, 3\) with groups=1 expects 2"),
    (lambda: ag.conv2d(ag.randn(1, 1, 2, 8), ag.randn(1, 1, 3, 3)), ag.ShapeError,
     r"conv2d: input of shape \(1, 1, 2, 8\) is smaller than the kernel"),
    (lambda: ag.conv2d(ag.randn(1, 1, 4, 8), ag.randn(1, 1, 3, 3), dilation=2), ag.ShapeError,
     r"dilated kernel size 5 \(kernel 3, dilation 2\)"),
    (lambda: ag.conv2d(ag.randn(8, 8), ag.randn(1, 1, 3, 3)), ag.ShapeError,
     r"conv2d: expected a 4-D input \(N, C, H, W\) \(or 3-D without the batch\), got shape "
     r"\(8, 8\)"),
    (lambda: ag.conv2d(ag.randn(1, 4, 5, 5), ag.randn(3, 2, 3, 3), groups=2), ag.ShapeError,
     "3 output channels, not divisible by groups=2"),
    (lambda: ag.conv2d(ag.randn(1, 1, 5, 5), ag.randn(1, 1, 3, 3), stride=2, padding="same"),
     ValueError, "padding='same' needs stride 1"),
    (lambda: ag.conv2d(ag.randn(1, 1, 5, 5), ag.randn(1, 1, 3, 3), padding="full"),
     ValueError, "'same' or 'valid'"),
    (lambda: ag.conv2d(ag.randn(1, 1, 5, 5), ag.randn(1, 1, 3, 3), stride=(1, 0)),
     ValueError, "stride must be at least 1"),
    (lambda: ag.conv2d(ag.randn(1, 1, 5, 5), ag.randn(1, 1, 3, 3), ag.randn(2)), ag.ShapeError,
     r"bias must have shape \(1,\)"),
    (lambda: ag.conv1d(ag.randn(1, 2, 5, 5), ag.randn(1, 2, 3)), ag.ShapeError,
     r"conv1d: expected a 3-D input \(N, C, L\)"),
    (lambda: ag.conv2d(ag.tensor(np.ones((1, 1, 4, 4), dtype=np.int64)), ag.randn(1, 1, 3, 3)),
     ag.DTypeError, "conv2d: input must be a float tensor, got int64"),
    (lambda: ag.conv_transpose2d(ag.randn(1, 3, 4, 4), ag.randn(2, 2, 3, 3)), ag.ShapeError,
     r"conv_transpose2d: input of shape \(1, 3, 4, 4\) has 3 channels, but weight of shape "
     r"\(2, 2, 3, 3\) expects 2"),
    (lambda: ag.conv_transpose2d(ag.randn(1, 2, 4, 4), ag.randn(2, 2, 3, 3), stride=2,
                                 output_padding=2), ValueError,
     "output_padding .* must be smaller than stride"),
    (lambda: ag.max_pool2d(ag.randn(1, 1, 5, 5), 3, padding=2), ValueError,
     r"max_pool2d: padding \(2, 2\) must be at most half the kernel size \(3, 3\)"),
    (lambda: ag.avg_pool2d(ag.randn(1, 1, 2, 5), 3), ag.ShapeError,
     r"avg_pool2d: input of shape \(1, 1, 2, 5\) is smaller than the kernel"),
    (lambda: ag.max_pool1d(ag.randn(4), 2), ag.ShapeError,
     r"max_pool1d: expected a 3-D input \(N, C, L\) \(or 2-D without the batch\)"),
    (lambda: ag.adaptive_avg_pool2d(ag.randn(1, 1, 4, 4), (1, 2, 3)), ValueError,
     "output_size must be an int or a pair"),
])
def test_bad_arguments_name_the_op_and_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_batches_split_into_chunks_give_the_same_results(monkeypatch):
    """Large batches run through im2col a few images at a time: one image per chunk here."""
    from autograd_core.ops import conv as conv_module

    rng = np.random.default_rng(11)
    x, w, b = leaf(rng, 3, 4, 6, 5), leaf(rng, 6, 2, 3, 3), leaf(rng, 6)

    def run():
        for t in (x, w, b):
            t.grad = None
        y = ag.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2)
        z = ag.conv_transpose2d(y, w, stride=(2, 1), padding=1, groups=2)
        (z * z).sum().backward()
        return [z.numpy()] + [t.grad.numpy() for t in (x, w, b)]

    whole = run()
    monkeypatch.setattr(conv_module, "CHUNK_BYTES", 1)
    for chunked, expected in zip(run(), whole, strict=True):
        np.testing.assert_allclose(chunked, expected, rtol=1e-12, atol=1e-12)
    assert ag.gradcheck(lambda x, w, b: ag.conv2d(x, w, b, padding="same", groups=2), [x, w, b])
