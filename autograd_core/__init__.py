"""autograd_core: a reverse-mode automatic differentiation engine on numpy.

>>> import autograd_core as ag
>>> x, y, z = (ag.tensor(v, requires_grad=True) for v in (1.0, 3.0, -3.0))
>>> g = (x + y) * z
>>> g.backward()
>>> x.grad, z.grad        # (tensor(-3.), tensor(4.))
"""

import importlib

from . import inplace, linalg, random  # noqa: F401  (inplace attaches t += u, t.add_(u)...)
from .capture import CaptureError, jit
from .creation import arange, eye, full, ones, ones_like, rand, randn, zeros, zeros_like
from .engine import backward
from .errors import AutogradError, DTypeError, ShapeError
from .function import Function, register_library_folder
from .functional import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .mode import detect_anomaly, enable_grad, is_grad_enabled, name_scope, no_grad
from .ops import registry as _registry
from .random import manual_seed
from .tensor import Tensor, get_default_dtype, set_default_dtype, tensor

__version__ = "0.2.0"

# The ops (add, exp, sum, reshape, linear ...) come from their one declaration in ops/registry.
globals().update(_registry.public_functions())

__all__ = [
    "Tensor", "tensor", "draw", "explain", "Function", "backward", "grad", "value_and_grad",
    "vjp", "jvp", "jacobian", "hessian", "hvp",
    "gradcheck", "gradgradcheck", "GradcheckError", "AutogradError", "ShapeError", "DTypeError",
    "jit", "CaptureError",
    "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly", "name_scope",
    "set_default_dtype", "get_default_dtype", "manual_seed", "random", "linalg",
    "register_library_folder",
    "zeros", "ones", "full", "zeros_like", "ones_like", "eye", "arange", "rand", "randn",
    *_registry.public_functions(),
]


def __getattr__(name: str):
    # The teaching tools import graphviz; load them on first use to keep ``import`` fast.
    if name in ("draw", "explain", "viz"):
        viz = importlib.import_module(".viz", __name__)
        return viz if name == "viz" else getattr(viz, name)
    raise AttributeError(f"module 'autograd_core' has no attribute {name!r}")
