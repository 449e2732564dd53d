"""Convolutions: conv1d, conv2d, conv_transpose1d, conv_transpose2d (PyTorch's cross-correlation).

One image, one group, kernel ``w`` of shape (out, in, kh, kw)::

    y[o, oh, ow] = b[o] + sum_{c, i, j} w[o, c, i, j] * x[c, oh*s - p + i*d, ow*s - p + j*d]

``im2col`` lays the windows of ``x`` out as columns, ``cols`` of shape (in*kh*kw, Ho*Wo), and
the convolution becomes a matrix product, ``y = W @ cols`` with ``W = w.reshape(out, -1)``.
The backward follows from that product:

    dL/dW    = dL/dy @ cols.T                     (the weight gradient)
    dL/dcols = W.T @ dL/dy,  dL/dx = col2im(dL/dcols)   (the input gradient)
    dL/db    = dL/dy summed over images and positions

Groups split the channels into ``groups`` independent convolutions (one product per group).
A 1-D convolution is the 2-D one on images of height 1. The columns (kh*kw times the input) are
built for a few images at a time, and built again in the backward instead of being kept.

The input gradient, seen as a function of ``dL/dy``, is the transposed convolution:
``conv_transpose2d(x, w)`` is the input gradient of ``conv2d`` with ``dL/dy = x``. Three linear
maps close under differentiation, which gives gradients of gradients for free:

    conv(x, w)           -> d/dx: input_grad(g, w)   d/dw: weight_grad(x, g)
    input_grad(g, w)     -> d/dg: conv(h, w)         d/dw: weight_grad(h, g)
    weight_grad(x, g)    -> d/dx: input_grad(g, h)   d/dg: conv(x, h)

>>> x, w = ag.randn(8, 3, 28, 28), ag.randn(16, 3, 3, 3, requires_grad=True)
>>> ag.conv2d(x, w, padding=1).shape        # (8, 16, 28, 28)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import Function
from ..kernels import conv as conv_kernels
from ..tensor import Tensor
from .registry import register

IntOrTuple = int | tuple[int, ...]


@dataclass(frozen=True)
class ConvGeometry:
    """How a kernel slides over an image; 1-D convolutions use height 1.

    ``image`` is the (H, W) of the convolution's *input* (the transposed convolution's output),
    ``out`` the (Ho, Wo) of its output; ``padding`` counts the zeros in front of each axis.
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    image: tuple[int, int]
    out: tuple[int, int]
    spatial_dims: int  # 1 or 2: the rank of the public tensors is spatial_dims + 2

    @property
    def window(self) -> conv_kernels.Geometry:
        """The 10 integers the im2col/col2im kernels take."""
        return (*self.kernel, *self.stride, *self.padding, *self.dilation, *self.out)

    def as_2d(self, a: np.ndarray) -> np.ndarray:
        """An (N, C, L) array of a 1-D convolution as (N, C, 1, L); 2-D arrays unchanged."""
        return a[:, :, None, :] if self.spatial_dims == 1 else a

    def as_public(self, a: np.ndarray) -> np.ndarray:
        return a[:, :, 0, :] if self.spatial_dims == 1 else a


# The columns of a few images at a time: about 1 MB, so they stay in the cache between im2col
# and the product, and no batch-sized temporary (9x the input for a 3x3 kernel) is allocated.
CHUNK_BYTES = 1 << 20


def _chunks(n: int, geo: ConvGeometry, channels: int, itemsize: int) -> list[slice]:
    """Slices of the batch whose im2col columns take about CHUNK_BYTES each."""
    per_image = channels * geo.kernel[0] * geo.kernel[1] * geo.out[0] * geo.out[1] * itemsize
    step = max(1, CHUNK_BYTES // max(per_image, 1))
    return [slice(start, min(n, start + step)) for start in range(0, n, step)]


def _grouped(a: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, ...) as (N, G, C / G, rest): one matrix per image and group."""
    return a.reshape(a.shape[0], groups, a.shape[1] // groups, -1)


def conv_arrays(x: np.ndarray, w: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """The convolution of x (N, C, H, W) by w (O, C/G, kh, kw): W @ im2col(x) per image/group."""
    n, groups = x.shape[0], geo.groups
    weight = w.reshape(groups, w.shape[0] // groups, -1)
    y = np.empty((n, *weight.shape[:2], geo.out[0] * geo.out[1]), dtype=x.dtype)
    for part in _chunks(n, geo, x.shape[1], x.itemsize):
        cols = conv_kernels.im2col(x[part], geo.window)  # (n', C*kh*kw, Ho*Wo)
        np.matmul(weight, _grouped(cols, groups), out=y[part])
    return y.reshape(n, w.shape[0], *geo.out)


def input_grad_arrays(g: np.ndarray, w: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """dL/dx of the convolution, given g = dL/dy (N, O, Ho, Wo): col2im(W.T @ g)."""
    n, groups = g.shape[0], geo.groups
    weight_t = w.reshape(groups, w.shape[0] // groups, -1).transpose(0, 2, 1)
    grad_x = np.empty((n, weight_t.shape[1] * groups // (geo.kernel[0] * geo.kernel[1]),
                       *geo.image), dtype=g.dtype)
    for part in _chunks(n, geo, grad_x.shape[1], g.itemsize):
        cols = np.matmul(weight_t, _grouped(g[part], groups))  # (n', G, C/G*kh*kw, Ho*Wo)
        grad_x[part] = conv_kernels.col2im(cols.reshape(len(cols), -1, cols.shape[-1]),
                                           geo.image, geo.window)
    return grad_x


def weight_grad_arrays(x: np.ndarray, g: np.ndarray, geo: ConvGeometry,
                       w_shape: tuple[int, ...]) -> np.ndarray:
    """dL/dw of the convolution, given g = dL/dy: the sum over images of g @ im2col(x).T."""
    n, groups = x.shape[0], geo.groups
    grad_w = np.zeros((groups, w_shape[0] // groups, int(np.prod(w_shape[1:]))), dtype=g.dtype)
    for part in _chunks(n, geo, x.shape[1], x.itemsize):
        cols = _grouped(conv_kernels.im2col(x[part], geo.window), groups)
        grad_w += np.matmul(_grouped(g[part], groups), cols.transpose(0, 1, 3, 2)).sum(axis=0)
    return grad_w.reshape(w_shape)


def _common_dtype(*arrays: np.ndarray) -> list[np.ndarray]:
    dtype = np.result_type(*arrays)
    return [a if a.dtype == dtype else a.astype(dtype) for a in arrays]


def _tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value))


def _conv(x: Any, w: Any, geo: ConvGeometry) -> Any:
    """The convolution of arrays, or a recorded node for tensors (create_graph)."""
    if isinstance(x, Tensor) or isinstance(w, Tensor):
        return Conv.apply(_tensor(x), _tensor(w), geometry=geo)
    x, w = _common_dtype(geo.as_2d(x), geo.as_2d(w))
    return geo.as_public(conv_arrays(np.ascontiguousarray(x), w, geo))


def _input_grad(g: Any, w: Any, geo: ConvGeometry) -> Any:
    if isinstance(g, Tensor) or isinstance(w, Tensor):
        return ConvTranspose.apply(_tensor(g), _tensor(w), geometry=geo)
    g, w = _common_dtype(geo.as_2d(g), geo.as_2d(w))
    return geo.as_public(input_grad_arrays(np.ascontiguousarray(g), w, geo))


def _weight_grad(x: Any, g: Any, geo: ConvGeometry, w_shape: tuple[int, ...]) -> Any:
    if isinstance(x, Tensor) or isinstance(g, Tensor):
        return ConvWeightGrad.apply(_tensor(x), _tensor(g), geometry=geo, w_shape=w_shape)
    x, g = _common_dtype(geo.as_2d(x), geo.as_2d(g))
    w4 = w_shape if geo.spatial_dims == 2 else (*w_shape[:2], 1, w_shape[2])
    return weight_grad_arrays(np.ascontiguousarray(x), np.ascontiguousarray(g), geo,
                              w4).reshape(w_shape)


def _biased_forward(fn: Function, product, x, weight, bias, geometry: ConvGeometry):
    """product(x, w) + b, for Conv and ConvTranspose, which save the same values."""
    fn.geometry = geo = geometry
    x4, w4 = _common_dtype(geo.as_2d(x), geo.as_2d(weight))
    y = product(np.ascontiguousarray(x4), w4, geo)
    if bias is not None:
        y += bias.reshape(-1, 1, 1).astype(y.dtype, copy=False)
    fn.save_for_backward(x, weight)
    return geo.as_public(y)


def _with_bias_grad(fn: Function, grad, grad_x, grad_w) -> tuple:
    """The gradients of (x, w) and, when the op has a bias, of the bias: grad summed over the
    images and positions."""
    needs = fn.needs_input_grad
    if len(needs) == 2:
        return grad_x, grad_w
    return grad_x, grad_w, grad.sum(axis=(0, *range(2, grad.ndim))) if needs[2] else None


class Conv(Function):
    """y = conv(x, w) + b: see the module docstring for the product and its backward."""

    name = "conv"

    def forward(self, x, weight, bias=None, *, geometry):
        return _biased_forward(self, conv_arrays, x, weight, bias, geometry)

    def backward(self, grad, x, weight):
        geo, needs = self.geometry, self.needs_input_grad
        return _with_bias_grad(self, grad,
                               _input_grad(grad, weight, geo) if needs[0] else None,
                               _weight_grad(x, grad, geo, weight.shape) if needs[1] else None)


class ConvTranspose(Function):
    """y = conv_transpose(x, w) + b: Conv's input gradient with dL/dy = x, plus b.

    Its backward swaps the roles: dL/dx = conv(g, w), dL/dw = weight_grad(g, x).
    """

    name = "conv_transpose"

    def forward(self, x, weight, bias=None, *, geometry):
        return _biased_forward(self, input_grad_arrays, x, weight, bias, geometry)

    def backward(self, grad, x, weight):
        geo, needs = self.geometry, self.needs_input_grad
        return _with_bias_grad(self, grad,
                               _conv(grad, weight, geo) if needs[0] else None,
                               _weight_grad(grad, x, geo, weight.shape) if needs[1] else None)


class ConvWeightGrad(Function):
    """dw = weight_grad(x, g), recorded only when differentiating a convolution's backward."""

    name = "conv_weight_grad"

    def forward(self, x, g, *, geometry, w_shape):
        self.geometry, self.w_shape = geometry, w_shape
        self.save_for_backward(x, g)
        return _weight_grad(x, g, geometry, w_shape)

    def backward(self, grad, x, g):
        geo, needs = self.geometry, self.needs_input_grad
        return (_input_grad(g, grad, geo) if needs[0] else None,
                _conv(x, grad, geo) if needs[1] else None)


# --- argument checks and the public functions -------------------------------------------------


def int_tuple(value: IntOrTuple, n: int, what: str, op: str, minimum: int = 0) -> tuple[int, ...]:
    """``value`` (an int, or n ints in a tuple or list) as n ints, each at least ``minimum``."""
    parts = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(parts) != n or not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool)
                                  for p in parts):
        raise ValueError(f"{op}: {what} must be an int or a tuple of {n} ints, got {value!r}")
    if any(p < minimum for p in parts):
        raise ValueError(f"{op}: {what} must be at least {minimum}, got {value!r}")
    return tuple(int(p) for p in parts)


def positive_int(value: Any, what: str, op: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{op}: {what} must be a positive int, got {value!r}")
    return int(value)


def _float_tensor(value: Any, op: str, what: str) -> Tensor:
    t = _tensor(value)
    if t.dtype.kind != "f":
        raise DTypeError(f"{op}: {what} must be a float tensor, got {t.dtype} (shape {t.shape})")
    return t


def _batched(x: Tensor, spatial_dims: int, op: str) -> tuple[Tensor, bool]:
    """x with a batch axis (PyTorch also takes one unbatched image), and whether one was added."""
    rank = spatial_dims + 2
    if x.ndim == rank - 1:
        return x.reshape(1, *x.shape), True
    if x.ndim != rank:
        layout = "(N, C, L)" if spatial_dims == 1 else "(N, C, H, W)"
        raise ShapeError(f"{op}: expected a {rank}-D input {layout} (or {rank - 1}-D without the "
                         f"batch), got shape {x.shape} {x.dtype}")
    return x, False


def _operands(x: Any, weight: Any, bias: Any, spatial_dims: int,
              op: str) -> tuple[Tensor, Tensor, Tensor | None, bool]:
    x = _float_tensor(x, op, "input")
    weight = _float_tensor(weight, op, "weight")
    x, unbatched = _batched(x, spatial_dims, op)
    if weight.ndim != spatial_dims + 2:
        raise ShapeError(f"{op}: weight must be {spatial_dims + 2}-D, got shape {weight.shape}")
    if bias is not None:
        bias = _float_tensor(bias, op, "bias")
    return x, weight, bias, unbatched


def _check_bias(bias: Tensor | None, channels: int, op: str) -> None:
    if bias is not None and bias.shape != (channels,):
        raise ShapeError(f"{op}: bias must have shape ({channels},), got {bias.shape}")


def _out_size(op: str, image: tuple[int, ...], kernel: tuple[int, ...], stride, dilation,
              pad_front, pad_back, x_shape) -> tuple[int, ...]:
    out = []
    for size, k, s, d, lo, hi in zip(image, kernel, stride, dilation, pad_front, pad_back):
        reach = d * (k - 1) + 1
        if size + lo + hi < reach:
            raise ShapeError(f"{op}: input of shape {x_shape} is smaller than the kernel: "
                             f"spatial size {size} + padding {lo + hi} < dilated kernel size "
                             f"{reach} (kernel {k}, dilation {d})")
        out.append((size + lo + hi - reach) // s + 1)
    return tuple(out)


def _geometry(spatial_dims: int, kernel, stride, padding, dilation, groups, image,
              out) -> ConvGeometry:
    def two(t):
        return (1, *t) if spatial_dims == 1 else tuple(t)

    pad = two(padding) if spatial_dims == 2 else (0, *padding)
    return ConvGeometry(two(kernel), two(stride), pad, two(dilation), groups, two(image),
                        two(out), spatial_dims)


def same_padding(kernel: tuple[int, ...], dilation: tuple[int, ...]
                 ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """padding="same" at stride 1: the zeros in front and behind that keep each axis's size,
    d (k - 1) in all; an odd total puts the extra zero behind, as PyTorch does."""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    front = tuple(t // 2 for t in total)
    return front, tuple(t - f for t, f in zip(total, front))


def _conv_nd(spatial_dims: int, x: Any, weight: Any, bias: Any, stride: IntOrTuple,
             padding: IntOrTuple | str, dilation: IntOrTuple, groups: int) -> Tensor:
    op = f"conv{spatial_dims}d"
    x, weight, bias, unbatched = _operands(x, weight, bias, spatial_dims, op)
    stride = int_tuple(stride, spatial_dims, "stride", op, 1)
    dilation = int_tuple(dilation, spatial_dims, "dilation", op, 1)
    groups = positive_int(groups, "groups", op)
    out_channels, in_per_group, *kernel = weight.shape
    channels, image = x.shape[1], x.shape[2:]
    if out_channels % groups:
        raise ShapeError(f"{op}: weight of shape {weight.shape} has {out_channels} output "
                         f"channels, not divisible by groups={groups}")
    if channels != in_per_group * groups:
        raise ShapeError(f"{op}: input of shape {x.shape} has {channels} channels, but weight of "
                         f"shape {weight.shape} with groups={groups} expects "
                         f"{in_per_group * groups}")
    _check_bias(bias, out_channels, op)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got "
                             f"{padding!r}")
        if padding == "same" and any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        front, back = same_padding(kernel, dilation) if padding == "same" else \
            ((0,) * spatial_dims,) * 2
    else:
        front = back = int_tuple(padding, spatial_dims, "padding", op, 0)
    out = _out_size(op, image, kernel, stride, dilation, front, back, x.shape)
    geo = _geometry(spatial_dims, kernel, stride, front, dilation, groups, image, out)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    y = Conv.apply(*inputs, geometry=geo)
    return y.reshape(*y.shape[1:]) if unbatched else y


def _conv_transpose_nd(spatial_dims: int, x: Any, weight: Any, bias: Any, stride: IntOrTuple,
                       padding: IntOrTuple, output_padding: IntOrTuple, groups: int,
                       dilation: IntOrTuple) -> Tensor:
    op = f"conv_transpose{spatial_dims}d"
    x, weight, bias, unbatched = _operands(x, weight, bias, spatial_dims, op)
    stride = int_tuple(stride, spatial_dims, "stride", op, 1)
    dilation = int_tuple(dilation, spatial_dims, "dilation", op, 1)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    padding = int_tuple(padding, spatial_dims, "padding", op, 0)
    output_padding = int_tuple(output_padding, spatial_dims, "output_padding", op, 0)
    groups = positive_int(groups, "groups", op)
    in_channels, out_per_group, *kernel = weight.shape
    if in_channels % groups:
        raise ShapeError(f"{op}: weight of shape {weight.shape} has {in_channels} input "
                         f"channels, not divisible by groups={groups}")
    if x.shape[1] != in_channels:
        raise ShapeError(f"{op}: input of shape {x.shape} has {x.shape[1]} channels, but weight "
                         f"of shape {weight.shape} expects {in_channels}")
    for extra, s, d in zip(output_padding, stride, dilation):
        if extra >= max(s, d):
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than "
                             f"stride {stride} or dilation {dilation}")
    _check_bias(bias, out_per_group * groups, op)
    image = tuple((size - 1) * s - 2 * p + d * (k - 1) + extra + 1 for size, s, p, d, k, extra
                  in zip(x.shape[2:], stride, padding, dilation, kernel, output_padding))
    if min(image) < 1:
        raise ShapeError(f"{op}: input of shape {x.shape} with weight {weight.shape}, stride "
                         f"{stride}, padding {padding} gives an empty output {image}")
    geo = _geometry(spatial_dims, kernel, stride, padding, dilation, groups, image,
                    x.shape[2:])
    inputs = (x, weight) if bias is None else (x, weight, bias)
    y = ConvTranspose.apply(*inputs, geometry=geo)
    return y.reshape(*y.shape[1:]) if unbatched else y


@register
def conv1d(input: Any, weight: Any, bias: Any = None, stride: IntOrTuple = 1,
           padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) as in ``torch.nn.functional.conv1d``.

    ``input`` (N, C_in, L) or (C_in, L); ``weight`` (C_out, C_in / groups, k); ``bias`` (C_out,).
    ``padding``: an int, "valid" (none) or "same" (output length = input length, stride 1).
    Output length: ``(L + 2p - d (k - 1) - 1) // s + 1``.

    >>> ag.conv1d(ag.ones((1, 1, 5)), ag.ones((1, 1, 3))).numpy()     # [[[3., 3., 3.]]]
    """
    return _conv_nd(1, input, weight, bias, stride, padding, dilation, groups)


@register
def conv2d(input: Any, weight: Any, bias: Any = None, stride: IntOrTuple = 1,
           padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) as in ``torch.nn.functional.conv2d``.

    ``input`` (N, C_in, H, W) or (C_in, H, W); ``weight`` (C_out, C_in / groups, kh, kw);
    ``bias`` (C_out,) or None. ``stride``, ``padding``, ``dilation``: an int or an (h, w) pair;
    ``padding`` may also be "valid" (none) or "same" (output size = input size, stride 1; an odd
    total puts the extra zero row/column behind, as PyTorch does).
    Output size per axis: ``(H + 2p - d (k - 1) - 1) // s + 1``.

    >>> x, w = ag.randn(2, 3, 8, 8), ag.randn(4, 3, 3, 3)
    >>> ag.conv2d(x, w, padding="same").shape       # (2, 4, 8, 8)
    """
    return _conv_nd(2, input, weight, bias, stride, padding, dilation, groups)


@register
def conv_transpose1d(input: Any, weight: Any, bias: Any = None, stride: IntOrTuple = 1,
                     padding: IntOrTuple = 0, output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    """1-D transposed convolution as in ``torch.nn.functional.conv_transpose1d``: the gradient
    of ``conv1d`` with respect to its input. ``weight`` (C_in, C_out / groups, k); output length
    ``(L - 1) s - 2p + d (k - 1) + output_padding + 1``."""
    return _conv_transpose_nd(1, input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


@register
def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: IntOrTuple = 1,
                     padding: IntOrTuple = 0, output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    """2-D transposed convolution as in ``torch.nn.functional.conv_transpose2d``: the gradient
    of ``conv2d`` with respect to its input, used to upsample.

    ``input`` (N, C_in, H, W); ``weight`` (C_in, C_out / groups, kh, kw); ``bias`` (C_out,).
    Output size per axis: ``(H - 1) s - 2p + d (k - 1) + output_padding + 1``.

    >>> ag.conv_transpose2d(ag.randn(1, 4, 7, 7), ag.randn(4, 2, 2, 2), stride=2).shape
    (1, 2, 14, 14)
    """
    return _conv_transpose_nd(2, input, weight, bias, stride, padding, output_padding, groups,
                              dilation)
