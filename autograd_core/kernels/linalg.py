"""Matrix products too small or too thin for BLAS to pay off.

``small_matmul`` is a plain triple loop, ``out[i, j] = sum_p a[i, p] b[p, j]``, ordered i-p-j so
the inner loop streams along rows of ``b`` and ``out``. It is meant for degenerate GEMMs (outer
products with k == 1, or a handful of rows or columns) where the fixed cost of an OpenBLAS call
dominates. It never calls np.dot: inside numba that would start a second BLAS thread pool.

``matmul`` routes between the two. Measured on the 2-core development machine (numpy 2.4 with
OpenBLAS 0.3.31 on 2 threads, numba 0.68; best of 9, microseconds, float32)::

    m x 1 @ 1 x n       m*n    numpy @   small_matmul
       8 x 8             64      0.98       1.59
      32 x 16           512      1.71       1.80
      32 x 32          1024      2.19       1.77
     128 x 128        16384     19.2        3.5
     784 x 256       200704    224         24

OpenBLAS spends about 1.1 ns per output on an outer product, the loop 0.1 ns plus about 1.6 us of
fixed cost (numba's dispatch and the input checks), so the loop wins from about 1000 outputs on
(float64: the same crossover). For k >= 2 numpy won at every size tried, tiny ones included
(2x2x2 to 64x64x64, 1 x k x n, 128 x 2 x 128 ...): its own fixed cost, about 1 us, is no larger
than the cost of calling any numba function. Hence the rule: k == 1 and m * n >= 1024.

``matmul_nt(a, b)`` is ``a @ b.T``, the product in a dense layer's forward (``x @ W.T`` with W of
shape (out, in)). OpenBLAS's kernels are much slower for this "NT" product when ``a`` has few
rows than for the same product computed transposed, ``(b @ a.T).T``, where the many rows of W
lead. Measured (1 BLAS thread, float32, microseconds, median of 9)::

    W (out x in)   rows of x    x @ W.T   (W @ x.T).T
     256 x 784        16          167        106
     256 x 784       128          649        589
     256 x 256        16           54         31
     256 x 256       128          202        188
      10 x 256       128           16         25

So the transposed form is used when W has at least 64 rows. Its result is an F-contiguous view;
the fused bias + activation kernel reads it as it is and writes a C-contiguous output, so the
transpose costs no extra pass.

BLAS threads: ``matmul`` runs a product with a short inner dimension, ``k < 128`` (a layer's
weight gradient ``grad.T @ x`` at batch sizes below 128), on one BLAS thread, because OpenBLAS
splits it badly across two. Other shapes gain from the second thread and are left alone.
Measured on the 2-core machine (float32, microseconds, best of 40 interleaved runs)::

    product                         m x k x n        1 thread   2 threads
    weight gradient g.T @ x     256 x  16 x 784          83        268
                                256 x  64 x 784         273        318
                                256 x 128 x 784         528        433
                                256 x  16 x 256          28         88
    forward (W @ x.T)           256 x 784 x  16          94         55
    input gradient g @ W         16 x 256 x 784          92         86

The limit is lowered for that one product and restored at once (about 3 us, through
threadpoolctl, imported on first use), only when numpy's BLAS runs more than one thread and only
above ``m*n*k = 262144``, below which OpenBLAS uses one thread by itself. It is never raised,
so a limit the user set (``threadpool_limits``, ``OPENBLAS_NUM_THREADS``) stays in force.
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
    # each output once (784 x 256: 20 -> 13 us).
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
