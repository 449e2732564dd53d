"""The error function, element by element: ``math.erf`` in a compiled loop (numba lowers it to
the C library's erf), and a numpy twin applying ``math.erf`` per element (numpy has no erf).
Both give the C library's float64 erf (within an ulp or so, not always correctly rounded), the
function ``math.erf`` calls, so the op matches ``math.erf``.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import FLOAT_DTYPES, float_input
from .registry import get, register

_erf_elementwise = np.frompyfunc(math.erf, 1, 1)


def _erf_loops(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = math.erf(x[i])
    return out


def _erf_twin(x):
    return np.asarray(_erf_elementwise(x), dtype=x.dtype)


register("erf", _erf_loops, _erf_twin)


def erf(x: np.ndarray) -> np.ndarray:
    """erf of every element of a float32/float64 array of any shape, in its dtype (other
    dtypes are computed in float64)."""
    x = np.asarray(x)
    if x.dtype not in FLOAT_DTYPES:
        x = x.astype(np.float64)
    x = float_input("erf", "x", x)
    return get("erf")(x.reshape(-1)).reshape(x.shape)
