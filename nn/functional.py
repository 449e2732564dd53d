"""The functional forms of the layers, with PyTorch's names and signatures
(``import nn.functional as F``, then ``F.conv2d(x, w, padding=1)``, ``F.relu(x)``...).

A flat list: the ops of ``autograd_core`` re-exported, and thin wrappers where a layer holds the
logic (dropout, the losses).

>>> import nn.functional as F
>>> F.max_pool2d(F.relu(F.conv2d(ag.randn(8, 1, 28, 28), ag.randn(4, 1, 3, 3))), 2).shape
(8, 4, 13, 13)
"""

from __future__ import annotations

from typing import Any

import autograd_core as ag
from autograd_core import (
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    batch_norm,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    dropout,
    embedding,
    group_norm,
    layer_norm,
    leaky_relu,
    linear,
    log_softmax,
    max_pool1d,
    max_pool2d,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)

from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    Reduction,
    SmoothL1Loss,
)

__all__ = [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d",
    "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax",
    "batch_norm", "layer_norm", "group_norm", "embedding",
    "linear", "dropout",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
]


def mse_loss(input: Any, target: Any, reduction: Reduction = "mean") -> ag.Tensor:
    """reduce((input - target)**2), ``nn.MSELoss``."""
    return MSELoss(reduction).forward(input, target)


def cross_entropy(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
                  reduction: Reduction = "mean", label_smoothing: float = 0.0) -> ag.Tensor:
    """Softmax cross-entropy of (N, C) logits against integer labels or class probabilities,
    ``nn.CrossEntropyLoss``."""
    return CrossEntropyLoss(weight, ignore_index, reduction, label_smoothing).forward(input, target)


def nll_loss(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: Reduction = "mean") -> ag.Tensor:
    """Negative log-likelihood of (N, C) log-probabilities at integer labels, ``nn.NLLLoss``."""
    return NLLLoss(weight, ignore_index, reduction).forward(input, target)


def binary_cross_entropy(input: Any, target: Any, reduction: Reduction = "mean") -> ag.Tensor:
    """Binary cross-entropy of probabilities, ``nn.BCELoss``."""
    return BCELoss(reduction=reduction).forward(input, target)


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None,
                                     reduction: Reduction = "mean",
                                     pos_weight: Any = None) -> ag.Tensor:
    """Binary cross-entropy of sigmoid(input), computed stably, ``nn.BCEWithLogitsLoss``."""
    return BCEWithLogitsLoss(weight, reduction, pos_weight).forward(input, target)


def l1_loss(input: Any, target: Any, reduction: Reduction = "mean") -> ag.Tensor:
    """reduce(|input - target|), ``nn.L1Loss``."""
    return L1Loss(reduction).forward(input, target)


def smooth_l1_loss(input: Any, target: Any, reduction: Reduction = "mean",
                   beta: float = 1.0) -> ag.Tensor:
    """Quadratic below ``beta``, linear above, ``nn.SmoothL1Loss``."""
    return SmoothL1Loss(reduction, beta).forward(input, target)


def huber_loss(input: Any, target: Any, reduction: Reduction = "mean",
               delta: float = 1.0) -> ag.Tensor:
    """Quadratic below ``delta``, linear above, ``nn.HuberLoss``."""
    return HuberLoss(reduction, delta).forward(input, target)


def kl_div(input: Any, target: Any, reduction: str = "mean",
           log_target: bool = False) -> ag.Tensor:
    """KL(target || exp(input)) with ``input`` log-probabilities, ``nn.KLDivLoss``."""
    return KLDivLoss(reduction, log_target).forward(input, target)
