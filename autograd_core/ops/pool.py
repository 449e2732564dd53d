"""Pooling: max_pool1d/2d, avg_pool1d/2d and adaptive_avg_pool2d, as in torch.nn.functional.

Each output is one window of its channel, the windows placed as a convolution's (kernel, stride,
padding, dilation; see ``ops.conv``)::

    max:  y[oh, ow] = max over the window of x,   dL/dx = dL/dy added at the window's argmax
    avg:  y[oh, ow] = sum over the window of x / divisor,
          dL/dx = col2im(dL/dy / divisor), every pixel of the window gets its share

Max pooling pads with -inf (padding never wins), average pooling with zeros. The divisor is the
window's size, counting the padding (``count_include_pad=True``, PyTorch's default) or not.

Adaptive average pooling splits an axis of size H into Ho windows [floor(i H / Ho),
ceil((i + 1) H / Ho)). A mean over a rectangle is a mean over rows of means over columns, so
``y = A_h @ x @ A_w.T`` with A_h (Ho, H) holding 1 / (window length) on each window; its backward
is ``A_h.T @ g @ A_w``.

>>> x = ag.randn(8, 16, 28, 28, requires_grad=True)
>>> ag.max_pool2d(x, 2).shape               # (8, 16, 14, 14)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..function import Function
from ..kernels import conv as conv_kernels
from ..tensor import Tensor
from .conv import (
    ConvGeometry,
    IntOrTuple,
    _batched,
    _float_tensor,
    _geometry,
    int_tuple,
    positive_int,
)
from .registry import register
from .shape import scatter_add


def _planes(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) as (N * C, 1, H, W): every channel pooled as its own image."""
    return np.ascontiguousarray(x).reshape(-1, 1, *x.shape[2:])


class MaxPool(Function):
    """y = window maxima of x; dL/dx = dL/dy added at each window's argmax."""

    name = "max_pool"

    def forward(self, x, *, geometry):
        self.geometry = geo = geometry
        self.x_shape = x.shape
        out, self.argmax = conv_kernels.max_pool_forward(geo.as_2d(x), geo.window)
        return geo.as_public(out)

    def backward(self, grad):
        geo = self.geometry
        if isinstance(grad, Tensor):  # create_graph: a recorded scatter of the same gradient
            planes = np.arange(self.argmax.shape[0] * self.argmax.shape[1])
            pixels = geo.image[0] * geo.image[1]
            flat = self.argmax.reshape(len(planes), -1) + planes[:, None] * pixels
            summed = scatter_add(grad.reshape(-1), flat.ravel(), (len(planes) * pixels,))
            return summed.reshape(self.x_shape)
        grad4 = np.ascontiguousarray(geo.as_2d(grad))
        return geo.as_public(conv_kernels.max_pool_backward(grad4, self.argmax, geo.image))


def _avg_pool(x: Any, geo: ConvGeometry, divisor: np.ndarray) -> Any:
    if isinstance(x, Tensor):
        return AvgPool.apply(x, geometry=geo, divisor=divisor)
    x4 = geo.as_2d(x)
    sums = conv_kernels.im2col(_planes(x4), geo.window).sum(axis=1)
    return geo.as_public(sums.reshape(*x4.shape[:2], *geo.out) / divisor)


def _avg_unpool(g: Any, geo: ConvGeometry, divisor: np.ndarray) -> Any:
    if isinstance(g, Tensor):
        return AvgUnpool.apply(g, geometry=geo, divisor=divisor)
    g4 = geo.as_2d(g)
    shares = (g4 / divisor).reshape(-1, 1, g4.shape[2] * g4.shape[3])
    cols = np.broadcast_to(shares, (shares.shape[0], geo.kernel[0] * geo.kernel[1],
                                    shares.shape[2]))
    x = conv_kernels.col2im(cols, geo.image, geo.window)
    return geo.as_public(x.reshape(*g4.shape[:2], *geo.image))


class AvgPool(Function):
    """y = window sums of x / divisor; dL/dx = col2im(dL/dy / divisor)."""

    name = "avg_pool"

    def forward(self, x, *, geometry, divisor):
        self.geometry, self.divisor = geometry, divisor.astype(x.dtype)
        return _avg_pool(x, geometry, self.divisor)

    def backward(self, grad):
        return _avg_unpool(grad, self.geometry, self.divisor)


class AvgUnpool(Function):
    """The adjoint of AvgPool (its backward, recorded for gradients of gradients)."""

    name = "avg_unpool"

    def forward(self, g, *, geometry, divisor):
        self.geometry, self.divisor = geometry, divisor
        return _avg_unpool(g, geometry, divisor)

    def backward(self, grad):
        return _avg_pool(grad, self.geometry, self.divisor)


class AdaptiveAvgPool(Function):
    """y = rows @ x @ cols.T (window means along each axis); dL/dx = rows.T @ g @ cols."""

    name = "adaptive_avg_pool"

    def forward(self, x, *, rows, cols):
        self.rows, self.cols = rows.astype(x.dtype), cols.astype(x.dtype)
        return self.rows @ x @ self.cols.T

    def backward(self, grad):
        return self.rows.T @ grad @ self.cols


# --- argument checks and the public functions -------------------------------------------------


def _pool_out_size(op: str, size: int, k: int, s: int, p: int, d: int, ceil_mode: bool,
                   x_shape: tuple[int, ...]) -> int:
    """PyTorch's output length: floor (or ceil) of the window count; with ceil_mode the last
    window must still start inside the input or its front padding."""
    reach = d * (k - 1) + 1
    span = size + 2 * p - reach
    if span < 0:
        raise ShapeError(f"{op}: input of shape {x_shape} is smaller than the kernel: spatial "
                         f"size {size} + padding {2 * p} < kernel size {reach}"
                         + (f" (kernel {k}, dilation {d})" if d > 1 else ""))
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_geometry(op: str, spatial_dims: int, x: Tensor, kernel_size: IntOrTuple,
                   stride: IntOrTuple | None, padding: IntOrTuple, dilation: IntOrTuple,
                   ceil_mode: bool) -> ConvGeometry:
    kernel = int_tuple(kernel_size, spatial_dims, "kernel_size", op, 1)
    # PyTorch: stride=None (or an empty list) means stride = kernel_size
    stride = kernel if stride is None or stride == [] or stride == () else \
        int_tuple(stride, spatial_dims, "stride", op, 1)
    padding = int_tuple(padding, spatial_dims, "padding", op, 0)
    dilation = int_tuple(dilation, spatial_dims, "dilation", op, 1)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size "
                         f"{kernel}")
    out = tuple(_pool_out_size(op, *args, ceil_mode, x.shape) for args in
                zip(x.shape[2:], kernel, stride, padding, dilation))
    return _geometry(spatial_dims, kernel, stride, padding, dilation, 1, x.shape[2:], out)


def _unbatch(y: Tensor, unbatched: bool) -> Tensor:
    return y.reshape(*y.shape[1:]) if unbatched else y


def _max_pool_nd(spatial_dims: int, input: Any, kernel_size, stride, padding, dilation,
                 ceil_mode: bool) -> Tensor:
    op = f"max_pool{spatial_dims}d"
    x, unbatched = _batched(_float_tensor(input, op, "input"), spatial_dims, op)
    geo = _pool_geometry(op, spatial_dims, x, kernel_size, stride, padding, dilation, ceil_mode)
    return _unbatch(MaxPool.apply(x, geometry=geo), unbatched)


def _window_counts(geo: ConvGeometry, count_include_pad: bool) -> np.ndarray:
    """How many pixels each output averages: a product of per-axis counts, PyTorch's rule
    (windows are clipped to the padded input, then to the input itself unless padding counts)."""
    counts = []
    for out, k, s, p, size in zip(geo.out, geo.kernel, geo.stride, geo.padding, geo.image):
        start = np.arange(out) * s - p
        end = np.minimum(start + k, size + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(end - start)
    return (counts[0][:, None] * counts[1][None, :]).astype(np.float64)


def _avg_pool_nd(spatial_dims: int, input: Any, kernel_size, stride, padding, ceil_mode: bool,
                 count_include_pad: bool, divisor_override: int | None) -> Tensor:
    op = f"avg_pool{spatial_dims}d"
    x, unbatched = _batched(_float_tensor(input, op, "input"), spatial_dims, op)
    geo = _pool_geometry(op, spatial_dims, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        divisor = np.full(geo.out, float(positive_int(divisor_override, "divisor_override", op)))
    else:
        divisor = _window_counts(geo, count_include_pad)
    return _unbatch(AvgPool.apply(x, geometry=geo, divisor=divisor), unbatched)


@register
def max_pool1d(input: Any, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
               ceil_mode: bool = False) -> Tensor:
    """Maximum over sliding windows of (N, C, L) or (C, L), as ``torch.nn.functional.max_pool1d``.

    ``stride`` defaults to ``kernel_size``; ``padding`` (at most half the kernel) pads with -inf.

    >>> ag.max_pool1d(ag.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).numpy()     # [[[3., 2.]]]
    """
    return _max_pool_nd(1, input, kernel_size, stride, padding, dilation, ceil_mode)


@register
def max_pool2d(input: Any, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
               ceil_mode: bool = False) -> Tensor:
    """Maximum over sliding windows of (N, C, H, W) or (C, H, W), as
    ``torch.nn.functional.max_pool2d``: the gradient flows to the first maximum of each window.

    ``stride`` defaults to ``kernel_size``; ``padding`` (at most half the kernel) pads with -inf;
    output size per axis ``(H + 2p - d (k - 1) - 1) // s + 1`` (rounded up with ``ceil_mode``).

    >>> ag.max_pool2d(ag.randn(8, 16, 28, 28), 2).shape          # (8, 16, 14, 14)
    """
    return _max_pool_nd(2, input, kernel_size, stride, padding, dilation, ceil_mode)


@register
def avg_pool1d(input: Any, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over sliding windows of (N, C, L) or (C, L), as ``torch.nn.functional.avg_pool1d``.

    >>> ag.avg_pool1d(ag.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).numpy()     # [[[2., 1.]]]
    """
    return _avg_pool_nd(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        None)


@register
def avg_pool2d(input: Any, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over sliding windows of (N, C, H, W) or (C, H, W), as
    ``torch.nn.functional.avg_pool2d``.

    Zero padding counts in the mean unless ``count_include_pad=False``; ``divisor_override``
    replaces the divisor altogether.

    >>> ag.avg_pool2d(ag.ones((1, 1, 4, 4)), 2, padding=1).numpy()[0, 0, 0]   # [0.25, 0.5, 0.25]
    """
    return _avg_pool_nd(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override)


def adaptive_windows(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size): row i averages [floor(i size / out), ceil((i + 1) size / out))."""
    matrix = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, end = (i * size) // out, math.ceil((i + 1) * size / out)
        matrix[i, start:end] = 1 / (end - start)
    return matrix


@register
def adaptive_avg_pool2d(input: Any, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """Average pooling to a fixed (Ho, Wo), whatever the input's size, as
    ``torch.nn.functional.adaptive_avg_pool2d``; None in ``output_size`` keeps that axis.

    >>> ag.adaptive_avg_pool2d(ag.randn(8, 64, 7, 5), 1).shape      # (8, 64, 1, 1)
    """
    op = "adaptive_avg_pool2d"
    x, unbatched = _batched(_float_tensor(input, op, "input"), 2, op)
    sizes = (output_size, output_size) if isinstance(output_size, (int, np.integer)) or \
        output_size is None else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    out = tuple(x.shape[2 + i] if size is None else int_tuple(size, 1, "output_size", op, 1)[0]
                for i, size in enumerate(sizes))
    if min(x.shape[2:]) < 1:
        raise ShapeError(f"{op}: input of shape {x.shape} has an empty spatial axis")
    rows = adaptive_windows(x.shape[2], out[0], x.dtype)
    cols = adaptive_windows(x.shape[3], out[1], x.dtype)
    return _unbatch(AdaptiveAvgPool.apply(x, rows=rows, cols=cols), unbatched)
