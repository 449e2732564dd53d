"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool2d, with PyTorch's arguments.

>>> pool = nn.MaxPool2d(2)                 # stride defaults to the kernel size
>>> pool(ag.randn(8, 16, 28, 28)).shape
(8, 16, 14, 14)
"""

from __future__ import annotations

from typing import Any

import autograd_core as ag

from .base import Module
from .conv import IntOrTuple, check_rank, layer_errors
from .layers import ensure_tensor
from .module import register_module


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _from_json(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class _Pool(Module):
    """Arguments kept as given (an int stays an int, as in PyTorch), checked by the op."""

    spatial_dims: int

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = _from_json(kernel_size)
        self.stride = self.kernel_size if stride is None else _from_json(stride)
        self.padding = _from_json(padding)
        self.ceil_mode = bool(ceil_mode)

    def _pool(self, x: Any, op, **kwargs: Any) -> ag.Tensor:
        x = ensure_tensor(x)
        check_rank(self, x, self.spatial_dims)
        with layer_errors(self):
            return op(x, self.kernel_size, self.stride, self.padding,
                      ceil_mode=self.ceil_mode, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {"kernel_size": _jsonable(self.kernel_size), "stride": _jsonable(self.stride),
                "padding": _jsonable(self.padding), "ceil_mode": self.ceil_mode}

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                + (", ceil_mode=True" if self.ceil_mode else ""))


class _MaxPool(_Pool):
    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        if return_indices:
            raise ValueError(f"{type(self).__name__}: return_indices=True is not supported")
        self.dilation = _from_json(dilation)

    def forward(self, x: Any) -> ag.Tensor:
        op = ag.max_pool1d if self.spatial_dims == 1 else ag.max_pool2d
        return self._pool(x, op, dilation=self.dilation)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dilation": _jsonable(self.dilation)}

    def extra_repr(self) -> str:
        return super().extra_repr() + f", dilation={self.dilation}"


@register_module
class MaxPool1d(_MaxPool):
    """Maximum over windows of (N, C, L), ``torch.nn.MaxPool1d``; padding pads with -inf."""

    spatial_dims = 1


@register_module
class MaxPool2d(_MaxPool):
    """Maximum over windows of (N, C, H, W), ``torch.nn.MaxPool2d``; the gradient flows to each
    window's (first) maximum. ``stride`` defaults to ``kernel_size``."""

    spatial_dims = 2


@register_module
class AvgPool1d(_Pool):
    """Mean over windows of (N, C, L), ``torch.nn.AvgPool1d``; zero padding counts in the mean
    unless ``count_include_pad=False``."""

    spatial_dims = 1

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x: Any) -> ag.Tensor:
        return self._pool(x, ag.avg_pool1d, count_include_pad=self.count_include_pad)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "count_include_pad": self.count_include_pad}


@register_module
class AvgPool2d(_Pool):
    """Mean over windows of (N, C, H, W), ``torch.nn.AvgPool2d``; zero padding counts in the
    mean unless ``count_include_pad=False``; ``divisor_override`` replaces the divisor."""

    spatial_dims = 2

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x: Any) -> ag.Tensor:
        return self._pool(x, ag.avg_pool2d, count_include_pad=self.count_include_pad,
                          divisor_override=self.divisor_override)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "count_include_pad": self.count_include_pad,
                "divisor_override": self.divisor_override}


@register_module
class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (Ho, Wo) whatever the input's size,
    ``torch.nn.AdaptiveAvgPool2d``; None keeps that axis. ``AdaptiveAvgPool2d(1)`` is global
    average pooling.

    >>> nn.AdaptiveAvgPool2d((1, 1))(ag.randn(8, 64, 7, 7)).shape
    (8, 64, 1, 1)
    """

    def __init__(self, output_size: int | tuple[int | None, int | None]):
        super().__init__()
        self.output_size = _from_json(output_size)

    def forward(self, x: Any) -> ag.Tensor:
        x = ensure_tensor(x)
        check_rank(self, x, 2)
        with layer_errors(self):
            return ag.adaptive_avg_pool2d(x, self.output_size)

    def get_config(self) -> dict[str, Any]:
        return {"output_size": _jsonable(self.output_size)}

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
