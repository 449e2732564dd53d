"""nn: neural networks built on autograd_core's public API (PyTorch's names, a Keras-style fit)."""

import os

import autograd_core as ag

from . import data, distributed, functional, init, metrics, optim, train, utils
from .base import Module
from .containers import ModuleDict, ModuleList, Unflatten
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .dbn import DBN
from .embedding import Embedding
from .interop import export_onnx, load_safetensors, save_safetensors
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
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    L2Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .mlp import MLP
from .module import Parameter, register_module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .perceptron import Perceptron
from .pooling import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .rbm import RBM
from .recurrent import GRU, LSTM, RNN
from .serialization import ModelFileError, load, load_state_dict, save
from .train import Callback, EarlyStopping, History, ModelCheckpoint, evaluate, fit, predict

__version__ = "0.2.0"

# Error locations and detect_anomaly point past nn's own frames, at the user's line.
ag.register_library_folder(os.path.dirname(os.path.abspath(__file__)))

__all__ = [
    "data", "distributed", "functional", "init", "metrics", "optim", "train", "utils",
    "Module", "Parameter", "register_module",
    "Linear", "Sequential", "ReLU", "Sigmoid", "Tanh", "Softmax", "LeakyReLU", "Identity",
    "Dropout", "Flatten", "Unflatten", "ModuleList", "ModuleDict",
    "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
    "AdaptiveAvgPool2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Embedding", "RNN", "LSTM", "GRU",
    "MSELoss", "L2Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
    "L1Loss", "SmoothL1Loss", "HuberLoss", "KLDivLoss",
    "MLP", "Perceptron", "RBM", "DBN",
    "fit", "evaluate", "predict", "History", "Callback", "EarlyStopping", "ModelCheckpoint",
    "save", "load", "load_state_dict", "ModelFileError",
    "save_safetensors", "load_safetensors", "export_onnx",
]


def __getattr__(name: str):
    # nn.sklearn imports scikit-learn, so it is loaded on first use rather than by `import nn`.
    if name == "sklearn":
        import importlib

        return importlib.import_module(".sklearn", __name__)
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
