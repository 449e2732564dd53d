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
"""

from __future__ import annotations

import numpy as np

from ._checks import float_input
from .registry import get, jit_enabled, register

# matmul sends an outer product (k == 1) with at least this many outputs to small_matmul.
OUTER_PRODUCT_MIN_SIZE = 1024


def _small_matmul_loops(a, b):
    m, k = a.shape
    n = b.shape[1]
    out = np.zeros((m, n), dtype=a.dtype)
    for i in range(m):
        for p in range(k):
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
    Everything else, batched and mixed-dtype products included, goes to ``a @ b`` unchanged.
    """
    if (
        jit_enabled()
        and isinstance(a, np.ndarray)
        and isinstance(b, np.ndarray)
        and a.ndim == 2
        and b.ndim == 2
        and a.dtype == b.dtype
        and a.dtype in (np.float32, np.float64)
        and a.shape[1] == b.shape[0]
    ):
        m, k = a.shape
        if k == 1 and m * b.shape[1] >= OUTER_PRODUCT_MIN_SIZE:
            return small_matmul(a, b)
    return a @ b
