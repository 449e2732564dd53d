"""Matrix products too small or too thin for BLAS to pay off.

``small_matmul`` is a plain triple loop, ``out[i, j] = sum_p a[i, p] b[p, j]``, ordered i-p-j so
the inner loop streams along rows of ``b`` and ``out``. It is meant for degenerate GEMMs (outer
products with k == 1, or a handful of rows or columns) where the fixed cost of an OpenBLAS call
dominates. It never calls np.dot: inside numba that would start a second BLAS thread pool.

``matmul`` routes between the two: small_matmul for tiny or k == 1 problems, numpy's ``@``
otherwise.
"""

from __future__ import annotations

import numpy as np

from ._checks import float_input
from .registry import get, jit_enabled, register

# matmul sends a product to small_matmul when k == 1 or m * n * k <= this (multiply-adds).
# Measured on the 2-core development machine (OpenBLAS 0.3.31, 2 threads): see the report in
# bench/ or the kernels' PR notes for the table behind this number.
SMALL_MATMUL_MAX_FLOPS = 0


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
    """``a @ b``, by :func:`small_matmul` when the product is degenerate, else by numpy (BLAS).

    The loop is chosen for 2-D operands of one float dtype with ``k == 1`` or
    ``m * n * k <= SMALL_MATMUL_MAX_FLOPS``, and only when the numba kernels are enabled (the
    numpy twin of small_matmul is ``@`` itself). Everything else, batched products included,
    goes to ``a @ b`` unchanged.
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
        if k == 1 or m * k * b.shape[1] <= SMALL_MATMUL_MAX_FLOPS:
            return small_matmul(a, b)
    return a @ b
