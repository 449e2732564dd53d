"""Kernels of softmax cross-entropy: forward (loss and probabilities) and backward."""

from __future__ import annotations

import warnings

import kernel_table
import numpy as np
import pytest
from kernel_table import DTYPES, IMPLS, Case, normal

import autograd_core.kernels as K


def make_xent_forward(rng, shape, dtype):
    return [normal(rng, shape, dtype, 5), rng.integers(0, shape[1], shape[0])]


def ref_xent_forward(logits, labels):
    e = np.exp(logits)
    probs = e / e.sum(axis=1, keepdims=True)
    loss = np.array([-np.log(probs[i, y]) for i, y in enumerate(labels)])
    return loss, probs


def make_xent_backward(rng, shape, dtype):
    logits = 2 * rng.standard_normal(shape)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, shape[1], shape[0])
    return [probs.astype(dtype), labels, normal(rng, shape[:1], dtype)]


def ref_xent_backward(probs, labels, grad_rows):
    onehot = np.eye(probs.shape[1])[labels]
    return ((probs - onehot) * grad_rows[:, None],)


CASES = [
    Case(
        "softmax_xent_forward",
        "softmax_xent_forward",
        K.softmax_xent_forward,
        make_xent_forward,
        ref_xent_forward,
    ),
    Case(
        "softmax_xent_backward",
        "softmax_xent_backward",
        K.softmax_xent_backward,
        make_xent_backward,
        ref_xent_backward,
    ),
]

# The table tests, run over CASES (see conftest.py).
test_matches_reference = kernel_table.test_matches_reference
test_twins_agree = kernel_table.test_twins_agree


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("impl", IMPLS)
def test_softmax_xent_is_stable_for_huge_logits(impl, dtype):
    logits = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]], dtype=dtype)
    with warnings.catch_warnings(), K.use_jit(impl == "numba"):
        warnings.simplefilter("error")
        loss, probs = K.softmax_xent_forward(logits, np.array([0, 1]))
    np.testing.assert_allclose(loss, [0.0, 2e4])
    np.testing.assert_array_equal(probs, [[1, 0, 0], [1, 0, 0]])


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint64])
def test_labels_in_range_reads_negative_labels_as_out_of_range(dtype):
    assert K.labels_in_range(np.array([0, 2, 1], dtype), 3)
    assert not K.labels_in_range(np.array([0, 3, 1], dtype), 3)
    assert K.labels_in_range(np.array([], dtype), 3)
    assert K.labels_in_range(np.array([0, 4, 1, 9], dtype)[::2], 3)  # strided: 0 and 1
    if np.dtype(dtype).kind == "i":
        assert not K.labels_in_range(np.array([0, -1, 1], dtype), 3)
        assert not K.labels_in_range(np.array([np.iinfo(dtype).min], dtype), 3)
