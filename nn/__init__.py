"""nn: neural networks built on autograd_core's public API (PyTorch's names, a Keras-style fit)."""

import importlib
import os

import autograd_core as ag

from . import data, functional, init, metrics, optim, train, utils
from .base import Module
from .containers import ModuleDict, ModuleList, Unflatten
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .dbn import DBN
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


# Loaded on first use rather than by ``import nn``: what they import (hashlib and uuid, json and
# zipfile, scikit-learn) is a large part of the import for code most programs never run.
# ``nn.save`` or ``nn.distributed`` work as if imported here. name -> its submodule.
_LAZY = {
    "distributed": "distributed",
    "sklearn": "sklearn",
    **dict.fromkeys(("save", "load", "load_state_dict", "ModelFileError"), "serialization"),
    **dict.fromkeys(("save_safetensors", "load_safetensors", "export_onnx"), "interop"),
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'nn' has no attribute {name!r}")
    module = importlib.import_module(f".{_LAZY[name]}", __name__)
    value = module if name == _LAZY[name] else getattr(module, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
