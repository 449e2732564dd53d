"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm and GroupNorm (PyTorch's names,
arguments, parameters and buffers, so a PyTorch state_dict loads one to one).

BatchNorm normalises each channel with the batch's statistics in training and with running
averages in eval mode; the running averages are buffers (``running_mean``, ``running_var``,
``num_batches_tracked``), saved in the state_dict but never trained::

    bn = nn.BatchNorm1d(16)
    y = bn(x)              # training: batch statistics, running averages updated
    bn.eval()
    y = bn(x)              # eval: running averages, nothing updated
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core.capture import active_recorder

from . import init
from ._checks import non_negative_float, positive_int, probability
from .base import Module
from .layers import ensure_tensor
from .module import Parameter, register_module


def _affine_parameters(module: Module, shape: tuple[int, ...], weight: bool, bias: bool) -> None:
    """``weight`` (ones) and ``bias`` (zeros) of ``shape``, or None placeholders."""
    module.weight = init.ones_(Parameter.empty(shape)) if weight else None
    module.bias = init.zeros_(Parameter.empty(shape)) if bias else None


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d; subclasses say which input ranks they take."""

    RANKS: tuple[int, ...]
    INPUT: str

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True):
        super().__init__()
        self.num_features = positive_int(type(self).__name__, "num_features", num_features)
        self.eps = non_negative_float(type(self).__name__, "eps", eps)
        self.momentum = None if momentum is None else \
            probability(type(self).__name__, "momentum", momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        _affine_parameters(self, (self.num_features,), affine, affine)
        dtype = ag.get_default_dtype()
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batch seen."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0
            self._bump_buffer_versions()

    def _bump_buffer_versions(self) -> None:
        # a graph that saved a buffer (a user's loss on running_mean) must see it was overwritten
        for buffer in (self.running_mean, self.running_var, self.num_batches_tracked):
            buffer._bump_version()

    def forward(self, x: Any) -> ag.Tensor:
        x = ensure_tensor(x)
        if x.ndim not in self.RANKS or x.shape[1] != self.num_features:
            raise ag.ShapeError(f"{self.scope_name} ({self.extra_repr()}): expected input of "
                                f"shape {self.INPUT} with C={self.num_features}, got shape "
                                f"{x.shape}")
        momentum = 0.0 if self.momentum is None else self.momentum
        counting = self.training and self.track_running_stats
        if counting:
            self._count_batch()
            recorder = active_recorder()
            if recorder is not None and self.momentum is None:
                recorder.refuse(f"{self.scope_name} with momentum=None (its factor changes "
                                "every batch)")
            if recorder is not None:  # inside ag.jit: the op updates the averages at replay
                recorder.effect(f"{self.scope_name}: count the batch", self._count_batch,
                                self._snapshot_count)
            if self.momentum is None:  # cumulative moving average of all batches so far
                momentum = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or not self.track_running_stats
        running = (self.running_mean, self.running_var) \
            if self.track_running_stats else (None, None)
        return ag.batch_norm(x, *running, self.weight, self.bias, training=use_batch_stats,
                             momentum=momentum, eps=self.eps)

    def _count_batch(self) -> None:
        """One more training batch: the op that follows updates the running averages."""
        self.num_batches_tracked.data[...] += 1
        self._bump_buffer_versions()

    def _snapshot_count(self) -> Callable[[], None]:
        count = self.num_batches_tracked.data.copy()

        def restore() -> None:
            self.num_batches_tracked.data[...] = count
        return restore

    def get_config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.affine, "track_running_stats": self.track_running_stats}

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


@register_module
class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C.

    y = (x - mean) / sqrt(var + eps) * weight + bias. Training: mean and biased variance of the
    batch (over N and L); the running averages move by ``momentum`` (None: the cumulative
    average of every batch so far) towards the batch mean and the unbiased batch variance. Eval
    mode: the running averages. ``track_running_stats=False`` always uses batch statistics.

    >>> bn = nn.BatchNorm1d(3)
    >>> bn(ag.randn(8, 3)).shape
    (8, 3)
    """

    RANKS, INPUT = (2, 3), "(N, C) or (N, C, L)"


@register_module
class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W), per channel C (see BatchNorm1d)."""

    RANKS, INPUT = (4,), "(N, C, H, W)"


def _shape_tuple(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)


@register_module
class LayerNorm(Module):
    """Standardise each sample over its trailing ``normalized_shape`` dimensions, then scale by
    ``weight`` and shift by ``bias`` (each of ``normalized_shape``; ones and zeros at first).
    The same computation in training and eval mode.

    >>> ln = nn.LayerNorm(8)
    >>> ln(ag.randn(4, 10, 8)).shape                    # each of the 40 rows: mean 0, var 1
    (4, 10, 8)
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = non_negative_float("LayerNorm", "eps", eps)
        self.elementwise_affine = bool(elementwise_affine)
        _affine_parameters(self, self.normalized_shape, elementwise_affine,
                           elementwise_affine and bias)

    def forward(self, x: Any) -> ag.Tensor:
        x = ensure_tensor(x)
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k:] != self.normalized_shape or x.ndim < k:
            raise ag.ShapeError(f"{self.scope_name} ({self.extra_repr()}): expected an input "
                                f"whose trailing dimensions are {self.normalized_shape}, got "
                                f"shape {x.shape}")
        return ag.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def get_config(self) -> dict[str, Any]:
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine, "bias": self.bias is not None}

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


@register_module
class GroupNorm(Module):
    """Split the C channels into ``num_groups`` groups and standardise each sample's group over
    its channels and positions, then scale and shift per channel (``weight``, ``bias`` of
    shape (C,)). Independent of the batch: the same in training and eval mode.

    >>> gn = nn.GroupNorm(2, 6)
    >>> gn(ag.randn(4, 6, 5, 5)).shape
    (4, 6, 5, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True):
        super().__init__()
        self.num_groups = positive_int("GroupNorm", "num_groups", num_groups)
        self.num_channels = positive_int("GroupNorm", "num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by "
                             f"num_groups={num_groups}")
        self.eps, self.affine = non_negative_float("GroupNorm", "eps", eps), bool(affine)
        _affine_parameters(self, (self.num_channels,), affine, affine)

    def forward(self, x: Any) -> ag.Tensor:
        x = ensure_tensor(x)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ag.ShapeError(f"{self.scope_name} ({self.extra_repr()}): expected input of "
                                f"shape (N, C, ...) with C={self.num_channels}, got shape "
                                f"{x.shape}")
        return ag.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def get_config(self) -> dict[str, Any]:
        return {"num_groups": self.num_groups, "num_channels": self.num_channels,
                "eps": self.eps, "affine": self.affine}

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
