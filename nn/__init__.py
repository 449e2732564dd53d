"""nn: neural networks built on autograd_core's public API (PyTorch's names, a Keras-style fit)."""

from . import data, distributed, init, metrics, optim, train
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
from .module import Module, Parameter, register_module
from .perceptron import Perceptron
from .rbm import DBN, RBM
from .serialization import ModelFileError, load, load_state_dict, save
from .train import Callback, EarlyStopping, History, evaluate, fit, predict

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
