"""nn: neural networks built on autograd_core's public API (PyTorch's names, a Keras-style fit)."""

from . import init, optim
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
from .module import Module, Parameter, register_module
from .serialization import ModelFileError, load, load_state_dict, save
from . import data, metrics, train
from .mlp import MLP
from .perceptron import Perceptron
from .rbm import DBN, RBM
from .train import Callback, EarlyStopping, History, evaluate, fit, predict
