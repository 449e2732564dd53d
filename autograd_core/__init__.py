"""autograd_core: a reverse-mode automatic differentiation engine on numpy.

>>> import autograd_core as ag
>>> x, y, z = (ag.tensor(v, requires_grad=True) for v in (1.0, 3.0, -3.0))
>>> g = (x + y) * z
>>> g.backward()
>>> x.grad, z.grad        # (tensor(-3.), tensor(4.))
"""

import importlib

from . import random
from .creation import arange, eye, full, ones, ones_like, rand, randn, zeros, zeros_like
from .engine import backward
from .errors import AutogradError, DTypeError, ShapeError
from .function import Function
from .functional import grad, value_and_grad
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .mode import detect_anomaly, enable_grad, is_grad_enabled, name_scope, no_grad
from .ops import (
                  abs,
                  add,
                  astype,
                  broadcast_to,
                  clip,
                  concatenate,
                  divide,
                  equal,
                  exp,
                  expand_dims,
                  flatten,
                  greater,
                  greater_equal,
                  leaky_relu,
                  less,
                  less_equal,
                  linear,
                  log,
                  log_softmax,
                  logsumexp,
                  matmul,
                  max,
                  maximum,
                  mean,
                  min,
                  minimum,
                  multiply,
                  negative,
                  not_equal,
                  power,
                  relu,
                  reshape,
                  sigmoid,
                  softmax,
                  softmax_cross_entropy,
                  softplus,
                  sqrt,
                  squeeze,
                  stack,
                  subtract,
                  sum,
                  swapaxes,
                  tanh,
                  transpose,
                  var,
                  where,
)
from .ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from .ops.pool import adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .random import manual_seed
from .tensor import Tensor, get_default_dtype, set_default_dtype, tensor

__all__ = [
    "Tensor", "tensor", "draw", "explain", "Function", "backward", "grad", "value_and_grad",
    "gradcheck", "gradgradcheck", "GradcheckError", "AutogradError", "ShapeError", "DTypeError",
    "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly", "name_scope",
    "set_default_dtype", "get_default_dtype", "manual_seed", "random",
    "zeros", "ones", "full", "zeros_like", "ones_like", "eye", "arange", "rand", "randn",
    "add", "subtract", "multiply", "divide", "power", "negative", "matmul", "astype",
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu", "softplus", "clip",
    "sum", "mean", "max", "min", "var", "logsumexp", "softmax", "log_softmax",
    "reshape", "transpose", "swapaxes", "flatten", "squeeze", "expand_dims", "broadcast_to",
    "maximum", "minimum", "where", "concatenate", "stack",
    "linear", "softmax_cross_entropy",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d",
]


def __getattr__(name: str):
    # The teaching tools import graphviz; load them on first use to keep ``import`` fast.
    if name in ("draw", "explain", "viz"):
        viz = importlib.import_module(".viz", __name__)
        return viz if name == "viz" else getattr(viz, name)
    raise AttributeError(f"module 'autograd_core' has no attribute {name!r}")
