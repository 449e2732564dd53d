"""Sliding windows over images: im2col/col2im for convolutions and average pooling, and max
pooling with argmax bookkeeping.

Geometry, one spatial axis (the other is the same): an input of size ``H`` padded by ``pad``
zeros in front, read by a kernel of ``k`` taps ``dilation`` apart, moved ``stride`` at a time::

    ih(oh, i) = oh * stride - pad + i * dilation        oh in [0, Ho), i in [0, k)

Positions with ``ih`` outside ``[0, H)`` are padding. The caller chooses ``Ho`` (and with it the
padding behind the input); the kernels only read and write positions that exist.

- ``im2col``: ``cols[n, (c, i, j), (oh, ow)] = x[n, c, ih(oh, i), iw(ow, j)]`` (0 in the padding),
  so a convolution becomes one matrix product per image;
- ``col2im``: its adjoint, adding every column entry back onto the pixel it came from;
- ``max_pool_forward``: the window maximum and the flat index ``ih * W + iw`` of its first
  occurrence (NaN wins, as in PyTorch); padding never wins;
- ``max_pool_backward``: the adjoint, each output gradient added at its argmax.
"""

from __future__ import annotations

import numpy as np

from ._checks import float_input
from .registry import get, register

Geometry = tuple[int, int, int, int, int, int, int, int, int, int]
"""(kh, kw, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, out_h, out_w)."""


# --- im2col -----------------------------------------------------------------------------------


def _im2col_loops(x, kh, kw, sh, sw, ph, pw, dh, dw, oh_size, ow_size):
    n_images, channels, h, w = x.shape
    cols = np.empty((n_images, channels * kh * kw, oh_size * ow_size), dtype=x.dtype)
    zero = x.dtype.type(0)
    for n in range(n_images):
        for c in range(channels):
            for i in range(kh):
                for j in range(kw):
                    row = (c * kh + i) * kw + j
                    for oh in range(oh_size):
                        ih = oh * sh - ph + i * dh
                        for ow in range(ow_size):
                            iw = ow * sw - pw + j * dw
                            value = zero
                            if ih >= 0 and ih < h and iw >= 0 and iw < w:
                                value = x[n, c, ih, iw]
                            cols[n, row, oh * ow_size + ow] = value
    return cols


def _im2col_numpy(x, kh, kw, sh, sw, ph, pw, dh, dw, oh_size, ow_size):
    n_images, channels, h, w = x.shape
    canvas = _padded(x, kh, kw, sh, sw, ph, pw, dh, dw, oh_size, ow_size)
    s_n, s_c, s_h, s_w = canvas.strides
    windows = np.lib.stride_tricks.as_strided(
        canvas, (n_images, channels, kh, kw, oh_size, ow_size),
        (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw), writeable=False)
    return windows.reshape(n_images, channels * kh * kw, oh_size * ow_size)


def _padded(x, kh, kw, sh, sw, ph, pw, dh, dw, oh_size, ow_size, value=0.0):
    """x with ``ph``/``pw`` rows of ``value`` in front and as many behind as the windows reach."""
    h, w = x.shape[2:]
    behind_h = max(0, (oh_size - 1) * sh + (kh - 1) * dh + 1 - ph - h)
    behind_w = max(0, (ow_size - 1) * sw + (kw - 1) * dw + 1 - pw - w)
    if not (ph or pw or behind_h or behind_w):
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, behind_h), (pw, behind_w)), constant_values=value)


# --- col2im -----------------------------------------------------------------------------------


def _col2im_loops(cols, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh_size, ow_size):
    n_images = cols.shape[0]
    channels = cols.shape[1] // (kh * kw)
    x = np.zeros((n_images, channels, h, w), dtype=cols.dtype)
    for n in range(n_images):
        for c in range(channels):
            for i in range(kh):
                for j in range(kw):
                    row = (c * kh + i) * kw + j
                    for oh in range(oh_size):
                        ih = oh * sh - ph + i * dh
                        if ih < 0 or ih >= h:
                            continue
                        for ow in range(ow_size):
                            iw = ow * sw - pw + j * dw
                            if 0 <= iw < w:
                                x[n, c, ih, iw] += cols[n, row, oh * ow_size + ow]
    return x


def _col2im_numpy(cols, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh_size, ow_size):
    n_images = cols.shape[0]
    channels = cols.shape[1] // (kh * kw)
    canvas_h = max(h + ph, (oh_size - 1) * sh + (kh - 1) * dh + 1)
    canvas_w = max(w + pw, (ow_size - 1) * sw + (kw - 1) * dw + 1)
    canvas = np.zeros((n_images, channels, canvas_h, canvas_w), dtype=cols.dtype)
    cols = cols.reshape(n_images, channels, kh, kw, oh_size, ow_size)
    for i in range(kh):
        for j in range(kw):
            canvas[:, :, i * dh:i * dh + (oh_size - 1) * sh + 1:sh,
                   j * dw:j * dw + (ow_size - 1) * sw + 1:sw] += cols[:, :, i, j]
    return np.ascontiguousarray(canvas[:, :, ph:ph + h, pw:pw + w])


# --- max pooling ------------------------------------------------------------------------------


def _max_pool_forward_loops(x, kh, kw, sh, sw, ph, pw, dh, dw, oh_size, ow_size):
    n_images, channels, h, w = x.shape
    out = np.empty((n_images, channels, oh_size, ow_size), dtype=x.dtype)
    argmax = np.empty((n_images, channels, oh_size, ow_size), dtype=np.int64)
    for n in range(n_images):
        for c in range(channels):
            for oh in range(oh_size):
                for ow in range(ow_size):
                    best = -np.inf
                    best_at = -1
                    for i in range(kh):
                        ih = oh * sh - ph + i * dh
                        if ih < 0 or ih >= h:
                            continue
                        for j in range(kw):
                            iw = ow * sw - pw + j * dw
                            if iw < 0 or iw >= w:
                                continue
                            value = x[n, c, ih, iw]
                            # NaN propagates, as in PyTorch; the first maximum wins ties.
                            if best_at < 0 or value > best or (value != value and best == best):
                                best = value
                                best_at = ih * w + iw
                    out[n, c, oh, ow] = best
                    argmax[n, c, oh, ow] = best_at
    return out, argmax


def _max_pool_forward_numpy(x, kh, kw, sh, sw, ph, pw, dh, dw, oh_size, ow_size):
    n_images, channels, h, w = x.shape
    canvas = _padded(x, kh, kw, sh, sw, ph, pw, dh, dw, oh_size, ow_size, value=-np.inf)
    s_n, s_c, s_h, s_w = canvas.strides
    windows = np.lib.stride_tricks.as_strided(
        canvas, (n_images, channels, oh_size, ow_size, kh, kw),
        (s_n, s_c, s_h * sh, s_w * sw, s_h * dh, s_w * dw), writeable=False)
    windows = windows.reshape(n_images, channels, oh_size, ow_size, kh * kw)
    tap = windows.argmax(axis=-1)  # first maximum; the first NaN if there is one
    out = np.take_along_axis(windows, tap[..., None], axis=-1)[..., 0]
    ih = np.arange(oh_size)[:, None] * sh - ph + (tap // kw) * dh
    iw = np.arange(ow_size)[None, :] * sw - pw + (tap % kw) * dw
    return np.ascontiguousarray(out), (ih * w + iw).astype(np.int64)


def _max_pool_backward_loops(grad, argmax, h, w):
    n_images, channels, oh_size, ow_size = grad.shape
    grad_x = np.zeros((n_images, channels, h, w), dtype=grad.dtype)
    for n in range(n_images):
        for c in range(channels):
            for oh in range(oh_size):
                for ow in range(ow_size):
                    at = argmax[n, c, oh, ow]
                    grad_x[n, c, at // w, at % w] += grad[n, c, oh, ow]
    return grad_x


def _max_pool_backward_numpy(grad, argmax, h, w):
    n_images, channels = grad.shape[:2]
    planes = n_images * channels
    flat = (argmax.reshape(planes, -1) + np.arange(planes)[:, None] * (h * w)).ravel()
    # bincount accumulates in float64; the cast back rounds once, like a float32 sum would not
    # exactly, but overlapping windows share at most a few gradients per pixel.
    summed = np.bincount(flat, weights=grad.ravel(), minlength=planes * h * w)
    return summed.astype(grad.dtype).reshape(n_images, channels, h, w)


register("im2col", _im2col_loops, _im2col_numpy)
register("col2im", _col2im_loops, _col2im_numpy)
register("max_pool_forward", _max_pool_forward_loops, _max_pool_forward_numpy)
register("max_pool_backward", _max_pool_backward_loops, _max_pool_backward_numpy)


def _geometry(kernel: str, geometry: Geometry) -> Geometry:
    if len(geometry) != 10 or any(int(g) != g for g in geometry):
        raise ValueError(f"{kernel}: geometry must be 10 integers (kh, kw, sh, sw, ph, pw, dh, "
                         f"dw, out_h, out_w), got {geometry}")
    return tuple(int(g) for g in geometry)


def im2col(x: np.ndarray, geometry: Geometry) -> np.ndarray:
    """The windows of ``x`` (N, C, H, W) as columns: (N, C * kh * kw, out_h * out_w).

    ``geometry`` = (kh, kw, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, out_h,
    out_w); the padding is the number of zero rows/columns in front, see the module docstring.
    """
    x = float_input("im2col", "x", x, ndim=4)
    return get("im2col")(x, *_geometry("im2col", geometry))


def col2im(cols: np.ndarray, image_size: tuple[int, int], geometry: Geometry) -> np.ndarray:
    """The adjoint of :func:`im2col`: (N, C * kh * kw, out_h * out_w) columns summed back onto an
    (N, C, H, W) image, ``(H, W) = image_size``."""
    kernel = "col2im"
    kh, kw, *_, out_h, out_w = geometry = _geometry(kernel, geometry)
    cols = float_input(kernel, "cols", cols, ndim=3)
    if cols.shape[1] % (kh * kw) or cols.shape[2] != out_h * out_w:
        raise ValueError(f"{kernel}: cols of shape {cols.shape} do not fit a {kh}x{kw} kernel "
                         f"with {out_h}x{out_w} outputs")
    return get(kernel)(cols, int(image_size[0]), int(image_size[1]), *geometry)


def max_pool_forward(x: np.ndarray, geometry: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Window maxima of ``x`` (N, C, H, W) and where they are: (out, argmax), both
    (N, C, out_h, out_w); argmax holds flat indices ``ih * W + iw`` into each (H, W) plane."""
    x = float_input("max_pool_forward", "x", x, ndim=4)
    return get("max_pool_forward")(x, *_geometry("max_pool_forward", geometry))


def max_pool_backward(grad: np.ndarray, argmax: np.ndarray,
                      image_size: tuple[int, int]) -> np.ndarray:
    """Each of ``grad``'s entries (N, C, out_h, out_w) added onto its argmax pixel of an
    (N, C, H, W) zero image, ``(H, W) = image_size``."""
    kernel = "max_pool_backward"
    grad = float_input(kernel, "grad", grad, ndim=4)
    argmax = np.asarray(argmax)
    if argmax.shape != grad.shape or argmax.dtype != np.int64:
        raise ValueError(f"{kernel}: argmax must be int64 of shape {grad.shape}, got "
                         f"{argmax.dtype} {argmax.shape}")
    h, w = int(image_size[0]), int(image_size[1])
    # Raw kernels index without bounds checks: an index outside the image must not reach them.
    if argmax.size and (argmax.min() < 0 or argmax.max() >= h * w):
        raise ValueError(f"{kernel}: argmax holds indices outside a {h}x{w} image")
    return get(kernel)(grad, np.ascontiguousarray(argmax), h, w)
