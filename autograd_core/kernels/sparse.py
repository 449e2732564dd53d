"""Matrix products that skip the zero entries of their first operand (mostly-zero dense arrays).

An RBM's visible units are binary: the model's samples always, the data often (binarised
images). About one visible unit in five is on for MNIST-like data, so most of the multiply-adds
of the two products of a training step that read visible rows are by zero:

- ``sparse_matmul(a, b)`` is ``a @ b`` (the hidden pre-activations ``v @ W``): each row of the
  result sums the rows of ``b`` picked by the nonzero entries of that row of ``a``;
- ``sparse_rank_update(c, a, b)`` is ``c += a.T @ b`` in place (the weight update
  ``W += [v_data; v_model]^T [h_data; -h_model] * lr / B``): each row ``i`` of ``c`` receives
  the rows of ``b`` picked by the nonzero entries of column ``i`` of ``a``, summed first and then
  added, as BLAS's product followed by ``+=`` would; the weight gradient is never stored.

Both list the nonzero positions first (a branch-free compaction) and then add four picked rows
per pass over an output row, which LLVM vectorises. Their cost follows the number of nonzeros, not
the size of ``a``; at full density the loops are 2.5-3x slower than OpenBLAS, so each routes
to numpy (BLAS) above a density measured on the RBM's shapes (one thread, best of 7 blocks of
calls, load ~6; the epoch itself is ``bench/rbm.py``):

=====================================  ========  ========  ========  ========
density of ``a``                        0.1       0.2       0.3       0.5
=====================================  ========  ========  ========  ========
``(20, 784) @ (784, 256)``, loop        46 us     83 us     125 us    194 us
same, OpenBLAS                          128 us    134 us    142 us    126 us
``c += (40, 784).T @ (40, 256)``, loop  119 us    184 us    201 us    284 us
same, OpenBLAS + ``+=``                 306 us    276 us    308 us    273 us
=====================================  ========  ========  ========  ========

The loops run on one thread; the RBM trains on one BLAS thread by default. Both functions run
the one kernel ``sparse_matmul_add`` (``c += a @ b``; its numpy twin is that line), the rank
update on the transposed view of ``a``. The sums run in another order than BLAS's, so results
agree with ``a @ b`` to rounding, not bit for bit. With the twins selected both are numpy.
"""

from __future__ import annotations

import numpy as np

from ._checks import float_input, inplace_buffer
from .registry import get, jit_enabled, register

# Route to the loops at or below these fractions of nonzero entries in ``a`` (table above).
SPARSE_MATMUL_MAX_DENSITY = 0.3
SPARSE_RANK_UPDATE_MAX_DENSITY = 0.4
PASS = 4  # rows of b added per pass over an output row


def _sparse_matmul_add_loops(c, a, b):
    rows, inner = a.shape
    # the indices and values of the nonzero entries of a row of a, padded with PASS - 1 zero
    # terms (index 0, coefficient 0) so that the passes of PASS rows need no remainder loop
    positions = np.empty(inner + PASS, dtype=np.int64)
    coefficients = np.empty(inner + PASS, dtype=a.dtype)
    total = np.empty(b.shape[1], dtype=c.dtype)
    for i in range(rows):
        count = 0
        for k in range(inner):  # branch-free: the index is written, the count moves on
            positions[count] = k
            count += a[i, k] != 0
        if count == 0:
            continue
        for k in range(count):
            coefficients[k] = a[i, positions[k]]
        for k in range(count, count + PASS - 1):
            positions[k] = 0
            coefficients[k] = 0
        # the picked rows of b, summed first and then added to c, as BLAS's product and a +=
        total[:] = 0
        for k in range(0, count, PASS):
            a0, a1 = coefficients[k], coefficients[k + 1]
            a2, a3 = coefficients[k + 2], coefficients[k + 3]
            b0, b1 = b[positions[k]], b[positions[k + 1]]
            b2, b3 = b[positions[k + 2]], b[positions[k + 3]]
            for j in range(total.shape[0]):
                total[j] += (a0 * b0[j] + a1 * b1[j]) + (a2 * b2[j] + a3 * b3[j])
        out = c[i]
        for j in range(total.shape[0]):
            out[j] += total[j]


def _sparse_matmul_add_numpy(c, a, b):
    c += a @ b


register("sparse_matmul_add", _sparse_matmul_add_loops, _sparse_matmul_add_numpy)


INTEGER_VIEW = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}


def _dense(a: np.ndarray, max_density: float) -> bool:
    """True when the loop would lose to BLAS: more than ``max_density`` of ``a`` is nonzero, or
    the twins are selected (whose loop is BLAS itself)."""
    # Counted on the bits: 4x faster than on the floats (18 -> 4.5 us for 40 x 784 float32).
    # -0.0 counts as nonzero there, which can only send a product to BLAS; the loops skip it.
    nonzeros = np.count_nonzero(a.view(INTEGER_VIEW[a.dtype])) if jit_enabled() else a.size
    return nonzeros > max_density * a.size


def sparse_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-D ``a`` (m, k) and ``b`` (k, n) of one float dtype, by the loop that skips
    the zeros of ``a`` when at most ``SPARSE_MATMUL_MAX_DENSITY`` of its entries are nonzero,
    else by numpy.
    """
    kernel = "sparse_matmul_add"
    a = float_input(kernel, "a", a, ndim=2)
    b = float_input(kernel, "b", b, dtype=a.dtype, ndim=2)
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"{kernel}: shapes {a.shape} and {b.shape} do not align (k differs)")
    if _dense(a, SPARSE_MATMUL_MAX_DENSITY):
        return a @ b
    out = np.zeros((a.shape[0], b.shape[1]), dtype=a.dtype)
    get(kernel)(out, a, b)
    return out


def sparse_rank_update(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """``c += a.T @ b`` in place, for ``a`` (k, m), ``b`` (k, n) and a C-contiguous ``c`` (m, n)
    of one float dtype; by the loop that skips the zeros of ``a`` when at most
    ``SPARSE_RANK_UPDATE_MAX_DENSITY`` of its entries are nonzero, else by numpy.
    """
    kernel = "sparse_matmul_add"
    a = float_input(kernel, "a", a, ndim=2)
    b = float_input(kernel, "b", b, dtype=a.dtype, ndim=2)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"{kernel}: a {a.shape} and b {b.shape} must have the same rows")
    c = inplace_buffer(kernel, "c", c, dtype=a.dtype, shape=(a.shape[1], b.shape[1]))
    if _dense(a, SPARSE_RANK_UPDATE_MAX_DENSITY):
        c += a.T @ b
    else:  # the loop reads the columns of a through the transposed (F-ordered) view
        get(kernel)(c, a.T, b)
