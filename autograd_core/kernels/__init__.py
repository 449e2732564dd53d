"""Numba kernels, each with a plain-numpy twin of the same signature.

The kernels hold no autodiff logic: ops call them with numpy arrays and get numpy arrays back.

Selecting the implementation:

- by default the numba loops run, compiled on first use with
  ``numba.njit(cache=True, fastmath=False, nogil=True, error_model="numpy")``;
- ``AUTOGRAD_CORE_JIT=0`` in the environment, or ``use_jit(False)`` at run time (also a context
  manager), selects the numpy twins; ``jit_enabled()`` tells which is active.

Importing this package imports numba only lazily: nothing is compiled until a kernel first runs,
and with the twins selected numba is never imported. Compiled code is cached next to the sources
(``kernels/__pycache__``) or, when that folder is read-only, in ``~/.cache/autograd_core/numba``
(``$NUMBA_CACHE_DIR`` wins when set).

Inputs: float32 or float64 arrays, one dtype per call. Read-only inputs of any memory layout are
accepted (a non-contiguous one is first copied with ``np.ascontiguousarray``); arrays updated in
place (optimizer state) must already be C-contiguous.

``get(name)`` returns the raw kernel (no checks, normalised arguments) for code that has already
prepared its inputs; everything else should call the public functions below.
"""

from .activation import (
    ACTIVATION_CODES,
    bias_act_backward,
    bias_act_forward,
    gibbs_sample,
    random_words,
    sigmoid_forward,
)
from .conv import col2im, im2col, max_pool_backward, max_pool_forward
from .linalg import OUTER_PRODUCT_MIN_SIZE, TRANSPOSED_NT_MIN_ROWS, matmul, matmul_nt, small_matmul
from .lstm import lstm_backward_step, lstm_forward_step
from .norm import batch_norm_apply, batch_norm_backward, batch_norm_stats
from .optim import adam_update, adam_update_many, sgd_update, sgd_update_many
from .registry import get, jit_enabled, names, use_jit
from .softmax_xent import labels_in_range, softmax_xent_backward, softmax_xent_forward
from .sparse import sparse_matmul, sparse_rank_update
from .special import erf

__all__ = [
    "ACTIVATION_CODES",
    "OUTER_PRODUCT_MIN_SIZE",
    "TRANSPOSED_NT_MIN_ROWS",
    "adam_update",
    "adam_update_many",
    "batch_norm_apply",
    "batch_norm_backward",
    "batch_norm_stats",
    "bias_act_backward",
    "bias_act_forward",
    "col2im",
    "erf",
    "get",
    "gibbs_sample",
    "im2col",
    "jit_enabled",
    "labels_in_range",
    "lstm_backward_step",
    "lstm_forward_step",
    "matmul",
    "matmul_nt",
    "max_pool_backward",
    "max_pool_forward",
    "names",
    "random_words",
    "sgd_update",
    "sgd_update_many",
    "sigmoid_forward",
    "small_matmul",
    "sparse_matmul",
    "sparse_rank_update",
    "softmax_xent_backward",
    "softmax_xent_forward",
    "use_jit",
]
