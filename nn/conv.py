"""Convolution layers: Conv1d, Conv2d, ConvTranspose2d, with PyTorch's arguments, parameter names
and shapes (a PyTorch state_dict loads one to one) and its default initialisation.

>>> conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)       # weight (8, 1, 3, 3), bias (8,)
>>> conv(ag.randn(32, 1, 28, 28)).shape
(32, 8, 28, 28)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import autograd_core as ag
from autograd_core.ops.conv import int_tuple

from . import init
from ._checks import positive_int
from .base import Module
from .layers import ensure_tensor
from .module import Parameter, register_module

IntOrTuple = int | tuple[int, ...]


@contextmanager
def layer_errors(module: Module) -> Iterator[None]:
    """Prefix the op's error with the layer (its name and arguments), keeping the error type."""
    try:
        yield
    except (ag.ShapeError, ag.DTypeError, ValueError) as err:
        raise type(err)(f"{module.scope_name} ({module.extra_repr()}): {err}") from err


def check_rank(module: Module, x: ag.Tensor, spatial_dims: int) -> None:
    """A batch (N, C, *spatial) or one unbatched sample (C, *spatial), as in PyTorch."""
    if x.ndim not in (spatial_dims + 1, spatial_dims + 2):
        layout = "(N, C, L)" if spatial_dims == 1 else "(N, C, H, W)"
        raise ag.ShapeError(f"{module.scope_name} ({module.extra_repr()}): expected a "
                            f"{spatial_dims + 2}-D input {layout} or a {spatial_dims + 1}-D "
                            f"unbatched one, got shape {x.shape} {x.dtype}")


class _ConvNd(Module):
    """What Conv1d, Conv2d and ConvTranspose2d share: arguments, parameters, initialisation."""

    spatial_dims: int
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple | str = 0,
                 dilation: IntOrTuple = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", output_padding: IntOrTuple = 0):
        super().__init__()
        layer, n = type(self).__name__, self.spatial_dims
        self.in_channels = positive_int(layer, "in_channels", in_channels)
        self.out_channels = positive_int(layer, "out_channels", out_channels)
        self.groups = positive_int(layer, "groups", groups)
        for label, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % self.groups:
                raise ValueError(f"{layer}: {label}={channels} must be divisible by "
                                 f"groups={groups}")
        self.kernel_size = int_tuple(kernel_size, n, "kernel_size", layer, 1)
        self.stride = int_tuple(stride, n, "stride", layer, 1)
        self.dilation = int_tuple(dilation, n, "dilation", layer, 1)
        self.output_padding = int_tuple(output_padding, n, "output_padding", layer)
        if isinstance(padding, str):
            if self.transposed or padding not in ("same", "valid"):
                allowed = "an int or a tuple" if self.transposed else \
                    "an int, a tuple, 'same' or 'valid'"
                raise ValueError(f"{layer}: padding must be {allowed}, got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{layer}: padding='same' needs stride 1, got stride "
                                 f"{self.stride}")
            self.padding: tuple[int, ...] | str = padding
        else:
            self.padding = int_tuple(padding, n, "padding", layer)
        if padding_mode != "zeros":
            raise ValueError(f"{layer}: only padding_mode='zeros' is supported, got "
                             f"{padding_mode!r}")
        self.padding_mode = padding_mode
        channels = (self.in_channels, self.out_channels // self.groups) if self.transposed \
            else (self.out_channels, self.in_channels // self.groups)
        self.weight = Parameter.empty((*channels, *self.kernel_size))
        self.bias = Parameter.empty((self.out_channels,)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, i.e. U(-b, b) with
        b = 1/sqrt(fan_in), and the same bound for the bias; fan_in is computed from the weight's
        shape (for a transposed convolution that is out_channels/groups * kernel area)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _checked_input(self, x: Any) -> ag.Tensor:
        x = ensure_tensor(x)
        check_rank(self, x, self.spatial_dims)
        channels = x.shape[-self.spatial_dims - 1]
        if channels != self.in_channels:
            raise ag.ShapeError(f"{self.scope_name} ({self.extra_repr()}): expected an input "
                                f"with {self.in_channels} channels, got shape {x.shape} "
                                f"{x.dtype}")
        return x

    def get_config(self) -> dict[str, Any]:
        config = {"in_channels": self.in_channels, "out_channels": self.out_channels,
                  "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                  "padding": self.padding if isinstance(self.padding, str)
                  else list(self.padding),
                  "dilation": list(self.dilation), "groups": self.groups,
                  "bias": self.bias is not None}
        if self.transposed:
            config["output_padding"] = list(self.output_padding)
        return config

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.spatial_dims:
            text += f", padding={self.padding!r}" if isinstance(self.padding, str) \
                else f", padding={self.padding}"
        if self.transposed and self.output_padding != (0,) * self.spatial_dims:
            text += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * self.spatial_dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple | str = 0,
                 dilation: IntOrTuple = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode)

    def forward(self, x: Any) -> ag.Tensor:
        x = self._checked_input(x)
        conv = ag.conv1d if self.spatial_dims == 1 else ag.conv2d
        with layer_errors(self):
            return conv(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


@register_module
class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) inputs, ``torch.nn.Conv1d``: weight
    (out_channels, in_channels / groups, kernel_size), bias (out_channels,).

    Output length ``(L + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1``;
    ``padding="same"`` keeps L (stride 1).

    >>> nn.Conv1d(4, 8, 3, padding="same")(ag.randn(2, 4, 50)).shape
    (2, 8, 50)
    """

    spatial_dims = 1


@register_module
class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W) inputs, ``torch.nn.Conv2d``: weight
    (out_channels, in_channels / groups, kh, kw), bias (out_channels,).

    y[n, o] = bias[o] + sum over c in o's group of cross_correlation(x[n, c], weight[o, c]).
    ``stride``, ``padding``, ``dilation``: an int or an (h, w) pair; ``padding`` also "valid"
    or "same" (stride 1). ``groups`` splits the channels into independent convolutions
    (``groups=in_channels``: depthwise).

    >>> nn.Conv2d(3, 16, 3, stride=2, padding=1)(ag.randn(8, 3, 32, 32)).shape
    (8, 16, 16, 16)
    """

    spatial_dims = 2


@register_module
class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the gradient of Conv2d with respect to its input), to
    upsample; ``torch.nn.ConvTranspose2d``: weight (in_channels, out_channels / groups, kh, kw).

    Output size per axis ``(H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1``.

    >>> nn.ConvTranspose2d(16, 8, 2, stride=2)(ag.randn(1, 16, 7, 7)).shape
    (1, 8, 14, 14)
    """

    spatial_dims = 2
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                 output_padding: IntOrTuple = 0, groups: int = 1, bias: bool = True,
                 dilation: IntOrTuple = 1, padding_mode: str = "zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding)

    def forward(self, x: Any) -> ag.Tensor:
        x = self._checked_input(x)
        with layer_errors(self):
            return ag.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                       self.output_padding, self.groups, self.dilation)
