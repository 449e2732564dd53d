"""Kernels of sliding windows (im2col, col2im, max pooling): numba loops and numpy twins against
each other and against plain Python loops written from the definitions.

The table's 2-D shapes (r, c) become images of (min(r, 6) + 3) x (min(c, 6) + 3) pixels, each
shape read with another window geometry; the tests below add windows past the image, ties, NaN
and the argument checks.
"""

from __future__ import annotations

import kernel_table
import numpy as np
import pytest
from kernel_table import Case, normal

from autograd_core.kernels import conv as KC
from autograd_core.kernels import use_jit

# (kh, kw, sh, sw, ph, pw, dh, dw) on a 5 x 6 image; the output size follows from them, plus
# one window beyond the image (as ceil_mode or 'same' padding ask for).
WINDOWS = [
    (3, 3, 1, 1, 1, 1, 1, 1),
    (2, 3, 2, 1, 0, 1, 1, 2),
    (3, 2, 3, 2, 1, 1, 2, 1),
    (1, 1, 2, 2, 0, 0, 1, 1),
    (5, 6, 1, 1, 0, 0, 1, 1),
]
H, W = 5, 6
DTYPES = [np.float32, np.float64]


def geometry(window, extra=0):
    kh, kw, sh, sw, ph, pw, dh, dw = window
    out_h = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1 + extra
    out_w = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1 + extra
    return (*window, out_h, out_w)


def taps(geo):
    """Yield (oh, ow, i, j, ih, iw) for every tap of every window, padding included."""
    kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w = geo
    for oh in range(out_h):
        for ow in range(out_w):
            for i in range(kh):
                for j in range(kw):
                    yield oh, ow, i, j, oh * sh - ph + i * dh, ow * sw - pw + j * dw


# --- the table -----------------------------------------------------------------------------------


def table_geometry(shape):
    """An image size and a window geometry for the table's (r, c) shape."""
    h, w = min(shape[0], 6) + 3, min(shape[1], 6) + 3
    kh, kw, sh, sw, ph, pw, dh, dw = WINDOWS[(shape[0] + 2 * shape[1]) % 3]
    out_h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return (h, w), (kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)


def loop_im2col(x, geo):
    kh, kw, out_w = geo[0], geo[1], geo[9]
    n, c, h, w = x.shape
    cols = np.zeros((n, c * kh * kw, geo[8] * out_w))
    for oh, ow, i, j, ih, iw in taps(geo):
        if 0 <= ih < h and 0 <= iw < w:
            cols[:, np.arange(c) * kh * kw + i * kw + j, oh * out_w + ow] = x[:, :, ih, iw]
    return cols


def loop_col2im(cols, size, geo):
    kh, kw, out_w = geo[0], geo[1], geo[9]
    n, c = cols.shape[0], cols.shape[1] // (kh * kw)
    x = np.zeros((n, c, *size))
    for oh, ow, i, j, ih, iw in taps(geo):
        if 0 <= ih < size[0] and 0 <= iw < size[1]:
            x[:, :, ih, iw] += cols[:, np.arange(c) * kh * kw + i * kw + j, oh * out_w + ow]
    return x


def loop_max_pool(x, geo):
    h, w = x.shape[2:]
    out = np.full((*x.shape[:2], geo[8], geo[9]), -np.inf)
    argmax = np.zeros(out.shape, dtype=np.int64)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for oh, ow, _, _, ih, iw in taps(geo):
                if 0 <= ih < h and 0 <= iw < w and x[n, c, ih, iw] > out[n, c, oh, ow]:
                    out[n, c, oh, ow] = x[n, c, ih, iw]
                    argmax[n, c, oh, ow] = ih * w + iw
    return out, argmax


def make_image(rng, shape, dtype):
    size, geo = table_geometry(shape)
    return [normal(rng, (2, 2, *size), dtype), geo]


def make_cols(rng, shape, dtype):
    size, geo = table_geometry(shape)
    return [normal(rng, (2, 2 * geo[0] * geo[1], geo[8] * geo[9]), dtype), size, geo]


def make_pool_grad(rng, shape, dtype):
    x, geo = make_image(rng, shape, dtype)
    return [normal(rng, (2, 2, geo[8], geo[9]), dtype), loop_max_pool(x, geo)[1], x.shape[2:]]


def ref_pool_backward(grad, argmax, size):
    out = np.zeros((*grad.shape[:2], *size))
    for index in np.ndindex(grad.shape):
        out[index[0], index[1], argmax[index] // size[1], argmax[index] % size[1]] += grad[index]
    return (out,)


def max_pool_values(x, geo):
    """The maxima, and the argmax as floats: the table compares outputs in the input's dtype."""
    out, argmax = KC.max_pool_forward(x, geo)
    return out, argmax.astype(x.dtype)


CASES = [
    Case("im2col", "im2col", KC.im2col, make_image, lambda x, geo: (loop_im2col(x, geo),)),
    Case("col2im", "col2im", KC.col2im, make_cols,
         lambda cols, size, geo: (loop_col2im(cols, size, geo),)),
    Case("max_pool_forward", "max_pool_forward", max_pool_values, make_image,
         lambda x, geo: tuple(a.astype(float) for a in loop_max_pool(x, geo))),
    Case("max_pool_backward", "max_pool_backward", KC.max_pool_backward, make_pool_grad,
         ref_pool_backward),
]

test_matches_reference = kernel_table.test_matches_reference
test_twins_agree = kernel_table.test_twins_agree


def both(fn, *args):
    """fn's result with the numba loops and with the numpy twin."""
    with use_jit(True):
        jitted = fn(*args)
    with use_jit(False):
        twin = fn(*args)
    return jitted, twin


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("extra", [0, 1])
@pytest.mark.parametrize("window", WINDOWS)
def test_im2col_col2im(window, extra, dtype):
    geo = geometry(window, extra)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, H, W)).astype(dtype)
    expected = loop_im2col(x.astype(np.float64), geo)
    for cols in both(KC.im2col, x, geo):
        assert cols.dtype == dtype
        np.testing.assert_array_equal(cols, expected)  # copies only: exact
    grad = rng.standard_normal(expected.shape).astype(dtype)
    jitted, twin = both(KC.col2im, grad, (H, W), geo)
    np.testing.assert_allclose(jitted, twin, rtol=1e-5 if dtype == np.float32 else 1e-13)
    # col2im is im2col's adjoint: <grad, im2col(x)> = <col2im(grad), x>
    lhs = np.sum(grad.astype(np.float64) * expected)
    rhs = np.sum(jitted.astype(np.float64) * x)
    assert lhs == pytest.approx(rhs, rel=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("extra", [0, 1])
@pytest.mark.parametrize("window", WINDOWS)
def test_max_pool(window, extra, dtype):
    kh, kw, sh, sw, ph, pw, *_, out_h, out_w = geo = geometry(window, extra)
    # As with ceil_mode in PyTorch, every window starts inside the image or its front padding.
    geo = (*geo[:8], min(out_h, (H + ph - 1) // sh + 1), min(out_w, (W + pw - 1) // sw + 1))
    rng = np.random.default_rng(1)
    x = rng.integers(-3, 4, (2, 3, H, W)).astype(dtype)  # small integers: many ties
    expected_out, expected_argmax = loop_max_pool(x, geo)
    for out, argmax in both(KC.max_pool_forward, x, geo):
        np.testing.assert_array_equal(out, expected_out)
        np.testing.assert_array_equal(argmax, expected_argmax)  # ties: the first maximum
    grad = rng.standard_normal(expected_out.shape).astype(dtype)
    expected_grad = np.zeros(x.shape)
    for index in np.ndindex(grad.shape):
        row, col = divmod(expected_argmax[index], W)
        expected_grad[index[0], index[1], row, col] += grad[index]
    for result in both(KC.max_pool_backward, grad, expected_argmax, (H, W)):
        assert result.dtype == dtype
        np.testing.assert_allclose(result, expected_grad, rtol=1e-6)


def test_max_pool_propagates_nan_like_pytorch():
    x = np.array([[[[1.0, np.nan], [3.0, np.nan]]]])
    for out, argmax in both(KC.max_pool_forward, x, (2, 2, 2, 2, 0, 0, 1, 1, 1, 1)):
        assert np.isnan(out[0, 0, 0, 0]) and argmax[0, 0, 0, 0] == 1  # the first NaN


def test_kernels_check_their_inputs():
    geo = (3, 3, 1, 1, 1, 1, 1, 1, H, W)
    with pytest.raises(ValueError, match="im2col: x must be 4-D"):
        KC.im2col(np.zeros((3, H, W)), geo)
    with pytest.raises(TypeError, match="float32 or float64"):
        KC.im2col(np.zeros((1, 1, H, W), dtype=np.int64), geo)
    with pytest.raises(ValueError, match="geometry must be 10 integers"):
        KC.im2col(np.zeros((1, 1, H, W)), geo[:9])
    with pytest.raises(ValueError, match="do not fit"):
        KC.col2im(np.zeros((1, 8, H * W)), (H, W), geo)
    with pytest.raises(ValueError, match="outside a 5x6 image"):
        KC.max_pool_backward(np.zeros((1, 1, 1, 1)), np.full((1, 1, 1, 1), 30), (H, W))
