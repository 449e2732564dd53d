"""Matrix products too small or too thin for BLAS to pay off.

``small_matmul`` is a plain triple loop, ``out[i, j] = sum_p a[i, p] b[p, j]``, ordered i-p-j so
the inner loop streams along rows of ``b`` and ``out``. It is meant for degenerate GEMMs (outer
products with k == 1, or a handful of rows or columns) where the fixed cost of an OpenBLAS call
dominates. It never calls np.dot: inside numba that would start a second BLAS thread pool.

``matmul`` routes between the two: the loop for outer products (k == 1) with at least
``OUTER_PRODUCT_MIN_SIZE`` outputs, where OpenBLAS's per-output cost overtakes the loop's fixed
cost; numpy everywhere else, tiny products included, since numpy's own fixed cost is no larger than
that of calling any numba function.

``matmul_nt(a, b)`` is ``a @ b.T``, the product in a dense layer's forward (``x @ W.T`` with W of
shape (out, in)). OpenBLAS's kernels are much slower for this "NT" product when ``a`` has few
rows than for the same product computed transposed, ``(b @ a.T).T``, where the many rows of W
lead; so the transposed form is used when W has at least ``TRANSPOSED_NT_MIN_ROWS`` rows. Its
result is an F-contiguous view; the fused bias + activation kernel reads it as it is and writes a
C-contiguous output, so the transpose costs no extra pass.

BLAS threads: ``matmul`` runs a product with a short inner dimension, ``k < 128`` (a layer's
weight gradient ``grad.T @ x`` at batch sizes below 128), on one BLAS thread, because OpenBLAS
splits it badly across two; other shapes gain from the second thread and are left alone. The
limit is lowered for that one product and restored at once (through threadpoolctl, imported on
first use), only when numpy's BLAS runs more than one thread and only above ``m*n*k = 262144``,
below which OpenBLAS uses one thread by itself. It is never raised, so a limit the user set
(``threadpool_limits``, ``OPENBLAS_NUM_THREADS``) stays in force.

Each of these thresholds was chosen by measuring both sides; ``python -m bench`` measures the
layer-sized products again on the machine at hand.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ._checks import FLOAT_DTYPES, float_input
from .registry import get, jit_enabled, register

# matmul sends an outer product (k == 1) with at least this many outputs to small_matmul.
OUTER_PRODUCT_MIN_SIZE = 1024
# matmul_nt computes a @ b.T as (b @ a.T).T when b has at least this many rows.
TRANSPOSED_NT_MIN_ROWS = 64
# matmul runs products with an inner dimension below this on one BLAS thread...
SINGLE_THREAD_MAX_K = 127
# ... when they are large enough for OpenBLAS to use several (it stays on one up to 65536 * 4).
OPENBLAS_SINGLE_THREAD_MAX_MNK = 262144


def _small_matmul_loops(a, b):
    m, k = a.shape
    n = b.shape[1]
    if k == 0:
        return np.zeros((m, n), dtype=a.dtype)
    # The first term is written, not added to zeros: an outer product (k == 1) then touches
    # each output once.
    out = np.empty((m, n), dtype=a.dtype)
    for i in range(m):
        a_i0 = a[i, 0]
        for j in range(n):
            out[i, j] = a_i0 * b[0, j]
        for p in range(1, k):
            a_ip = a[i, p]
            for j in range(n):
                out[i, j] += a_ip * b[p, j]
    return out


def _small_matmul_numpy(a, b):
    return a @ b


register("small_matmul", _small_matmul_loops, _small_matmul_numpy)


def small_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-D ``a`` (m, k) and ``b`` (k, n) of one float dtype, by a plain loop."""
    kernel = "small_matmul"
    a = float_input(kernel, "a", a, ndim=2)
    b = float_input(kernel, "b", b, dtype=a.dtype, ndim=2)
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"{kernel}: shapes {a.shape} and {b.shape} do not align (k differs)")
    return get(kernel)(a, b)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b``, by :func:`small_matmul` for large outer products, else by numpy (BLAS).

    The loop is chosen for 2-D operands of one float dtype with ``k == 1`` and
    ``m * n >= OUTER_PRODUCT_MIN_SIZE`` (see the module docstring for the measurements), and only
    when the numba kernels are enabled (the numpy twin of small_matmul is ``@`` itself).
    Everything else, batched and mixed-dtype products included, goes to ``a @ b``; 2-D products
    with ``k <= SINGLE_THREAD_MAX_K`` on one BLAS thread (see the module docstring).
    """
    if (
        isinstance(a, np.ndarray)
        and isinstance(b, np.ndarray)
        and a.ndim == 2
        and b.ndim == 2
        and a.shape[1] == b.shape[0]
    ):
        m, k = a.shape
        n = b.shape[1]
        if (
            k == 1
            and m * n >= OUTER_PRODUCT_MIN_SIZE
            and a.dtype == b.dtype
            and a.dtype in FLOAT_DTYPES
            and jit_enabled()
        ):
            return small_matmul(a, b)
        if k <= SINGLE_THREAD_MAX_K and m * n * k > OPENBLAS_SINGLE_THREAD_MAX_MNK:
            return _single_threaded_matmul(a, b)
    return a @ b


_blas_lock = threading.Lock()
_blas: list[Any] = []  # numpy's BLAS as a threadpoolctl controller, or None; found on first use


def _numpy_blas() -> Any:
    """threadpoolctl's controller of the BLAS library that numpy calls, or None if unclear."""
    if not _blas:
        from threadpoolctl import ThreadpoolController

        libraries = [lib for lib in ThreadpoolController().lib_controllers
                     if lib.user_api == "blas"]
        # Wheels ship numpy's OpenBLAS in numpy.libs; scipy (imported by scikit-learn) may
        # have loaded a second one, whose threads numpy never uses.
        own = [lib for lib in libraries if "numpy" in lib.filepath] or libraries
        _blas.append(own[0] if len(own) == 1 else None)
    return _blas[0]


def _single_threaded_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    blas = _numpy_blas()
    if blas is None:
        return a @ b
    with _blas_lock:  # so that concurrent callers restore the limit they found
        threads = blas.get_num_threads()
        if not threads or threads <= 1:
            return a @ b
        blas.set_num_threads(1)
        try:
            return a @ b
        finally:
            blas.set_num_threads(threads)


def matmul_nt(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` for 2-D ``a`` (m, k) and ``b`` (n, k), in the faster form for numpy's BLAS.

    With ``n >= TRANSPOSED_NT_MIN_ROWS`` it is computed as ``(b @ a.T).T`` and returned as that
    F-contiguous view (see the module docstring); otherwise by :func:`matmul`, whose outer
    product loop then serves ``k == 1``. The values are the same either way.
    """
    if a.ndim == 2 and b.ndim == 2 and b.shape[0] >= TRANSPOSED_NT_MIN_ROWS and a.shape[1] > 1:
        return (b @ a.T).T
    return matmul(a, b.T)
