"""nn: neural networks built on autograd_core's public API (PyTorch's names, a Keras-style fit)."""

from . import data, init, metrics, optim, train
from .containers import ModuleDict, ModuleList, Unflatten
from .embedding import Embedding
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
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .perceptron import Perceptron
from .rbm import DBN, RBM
from .recurrent import GRU, LSTM, RNN
from .serialization import ModelFileError, load, load_state_dict, save
from .train import Callback, EarlyStopping, History, evaluate, fit, predict

__all__ = [
    "data", "init", "metrics", "optim", "train",
    "Module", "Parameter", "register_module",
    "Linear", "Sequential", "ReLU", "Sigmoid", "Tanh", "Softmax", "LeakyReLU", "Identity",
    "Dropout", "Flatten", "Unflatten", "ModuleList", "ModuleDict",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Embedding", "RNN", "LSTM", "GRU",
    "MSELoss", "L2Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "MLP", "Perceptron", "RBM", "DBN",
    "fit", "evaluate", "predict", "History", "Callback", "EarlyStopping",
    "save", "load", "load_state_dict", "ModelFileError",
]
