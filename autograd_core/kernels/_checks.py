"""Input checks shared by the public kernel functions.

Raw kernels index memory without bounds checks, so every public function validates dtypes and
shapes first and raises an error that names the kernel, the argument and what was expected.
"""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def float_input(
    kernel: str,
    name: str,
    x: np.ndarray,
    *,
    dtype: np.dtype | None = None,
    ndim: int | None = None,
    shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Check a read-only float argument and return it C-contiguous.

    Non-contiguous inputs (transposes, strided slices) are copied by ``np.ascontiguousarray``;
    contiguous ones pass through without a copy. Numba then compiles one C-layout version per dtype.
    """
    x = np.asarray(x)
    _check_dtype(kernel, name, x, dtype)
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{kernel}: {name} must be {ndim}-D, got shape {x.shape}")
    if shape is not None and x.shape != shape:
        raise ValueError(f"{kernel}: {name} must have shape {shape}, got {x.shape}")
    # (np.ascontiguousarray itself would turn a 0-d array into a 1-d one.)
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


def inplace_buffer(
    kernel: str,
    name: str,
    x: np.ndarray,
    *,
    dtype: np.dtype | None = None,
    shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Check an array that the kernel updates in place.

    It must already be a writeable C-contiguous array: a contiguous copy would receive the update
    and the caller's array would silently stay unchanged.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{kernel}: {name} must be a numpy array, got {type(x).__name__}")
    _check_dtype(kernel, name, x, dtype)
    if shape is not None and x.shape != shape:
        raise ValueError(f"{kernel}: {name} must have shape {shape}, got {x.shape}")
    if not x.flags.c_contiguous:
        raise ValueError(f"{kernel}: {name} is updated in place and must be C-contiguous")
    if not x.flags.writeable:
        raise ValueError(f"{kernel}: {name} is updated in place and must be writeable")
    return x


def _check_dtype(kernel: str, name: str, x: np.ndarray, dtype: np.dtype | None) -> None:
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{kernel}: {name} must be float32 or float64, got {x.dtype}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{kernel}: {name} has dtype {x.dtype}, expected {dtype} like the others")
