"""Optimizers and learning-rate schedules, with torch.optim's names and update rules."""

from . import lr_scheduler
from .lr_scheduler import ExponentialLR, LRScheduler, StepLR
from .optimizer import SGD, Adagrad, Adam, Optimizer, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "Adagrad", "RMSprop",
           "lr_scheduler", "LRScheduler", "StepLR", "ExponentialLR"]
