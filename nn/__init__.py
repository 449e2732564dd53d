"""nn: neural networks built on autograd_core's public API (PyTorch's names, a Keras-style fit)."""

import os

import autograd_core as ag

from . import data, distributed, init, metrics, optim, train
from .base import Module
from .dbn import DBN
from .layers import (
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L2Loss, MSELoss
from .mlp import MLP
from .module import Parameter, register_module
from .perceptron import Perceptron
from .rbm import RBM
from .serialization import ModelFileError, load, load_state_dict, save
from .train import Callback, EarlyStopping, History, evaluate, fit, predict

__version__ = "0.2.0"

# Error locations and detect_anomaly point past nn's own frames, at the user's line.
ag.register_library_folder(os.path.dirname(os.path.abspath(__file__)))

__all__ = [
    "data", "distributed", "init", "metrics", "optim", "train",
    "Module", "Parameter", "register_module",
    "Linear", "Sequential", "ReLU", "Sigmoid", "Tanh", "Softmax", "LeakyReLU", "Identity",
    "Dropout", "Flatten",
    "MSELoss", "L2Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "MLP", "Perceptron", "RBM", "DBN",
    "fit", "evaluate", "predict", "History", "Callback", "EarlyStopping",
    "save", "load", "load_state_dict", "ModelFileError",
]
