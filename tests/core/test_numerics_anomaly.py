"""Numerical stability at extreme inputs, tie handling, and NaN/inf hunting with detect_anomaly."""

from __future__ import annotations

import importlib.util
import inspect
import math
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.ops.reduce import Max


@contextmanager
def strict_floating_point() -> Iterator[None]:
    """Every warning is an error, and so is any overflow, invalid operation or division by zero.

    Underflow is left at numpy's default (ignored): e**-10000 rounding to 0 is the correctly
    rounded result, not a loss of accuracy, and the values below are checked exactly anyway.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            yield


def sigmoid_reference(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_and_exact_up_to_1e4(dtype) -> None:
    values = np.array([-1e4, -1e3, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1e3, 1e4])
    x = ag.tensor(values.astype(dtype), requires_grad=True)
    with strict_floating_point():
        out = x.sigmoid()
        out.sum().backward()
    expected = np.array([sigmoid_reference(v) for v in values])
    assert out.dtype == dtype and x.grad.dtype == dtype
    # values below the smallest normal number (sigmoid(-100) in float32) may flush to zero
    np.testing.assert_allclose(out.numpy(), expected.astype(dtype), rtol=1e-6,
                               atol=np.finfo(dtype).tiny)
    # the derivative out * (1 - out) is exact up to the rounding of out near 1 (as in PyTorch)
    np.testing.assert_allclose(x.grad.numpy(), expected * (1 - expected), rtol=1e-6,
                               atol=np.finfo(dtype).eps)
    assert out.numpy()[0] == 0.0 and out.numpy()[-1] == 1.0


def test_softplus_is_stable_for_large_inputs() -> None:
    x = ag.tensor(np.array([-1e4, -50.0, 0.0, 50.0, 1e4]), requires_grad=True)
    with strict_floating_point():
        out = x.softplus()
        out.sum().backward()
    np.testing.assert_allclose(out.numpy(), [0.0, np.exp(-50.0), np.log(2.0), 50.0, 1e4],
                               rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, np.exp(-50.0), 0.5, 1.0, 1.0], rtol=1e-12)


def test_softmax_family_is_stable_for_large_logits() -> None:
    logits = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 999.0]])
    x = ag.tensor(logits, requires_grad=True)
    with strict_floating_point():
        probabilities = x.softmax()
        log_probabilities = x.log_softmax()
        total = x.logsumexp(axis=1)
        (probabilities.sum() + log_probabilities.sum() + total.sum()).backward()
    shifted = logits - logits.max(axis=1, keepdims=True)
    expected_log = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(log_probabilities.numpy(), expected_log, rtol=1e-12)
    np.testing.assert_allclose(probabilities.numpy(), np.exp(expected_log), rtol=1e-12)
    np.testing.assert_allclose(total.numpy(), [1000.0, 1000.0 + np.log(2 + np.exp(-1.0))],
                               rtol=1e-15)
    np.testing.assert_allclose(probabilities.numpy().sum(axis=1), [1.0, 1.0])
    assert np.isfinite(x.grad.numpy()).all()


def test_logsumexp_of_all_minus_infinity_is_minus_infinity() -> None:
    with np.errstate(divide="ignore"):
        out = ag.tensor(np.array([-np.inf, -np.inf])).logsumexp()
    assert out.item() == -np.inf


def test_max_ties_split_the_gradient_evenly() -> None:
    assert "tie" in Max.__doc__  # the rule is documented where it is implemented
    x = ag.tensor(np.array([1.0, 3.0, 3.0, 2.0]), requires_grad=True)
    x.max().backward()
    assert x.grad.numpy().tolist() == [0.0, 0.5, 0.5, 0.0]

    three_way = ag.tensor(np.array([[5.0, 5.0, 5.0], [1.0, 2.0, 1.0]]), requires_grad=True)
    three_way.max(axis=1).backward(gradient=np.array([3.0, 1.0]))
    assert three_way.grad.numpy().tolist() == [[1.0, 1.0, 1.0], [0.0, 1.0, 0.0]]


def test_min_ties_split_the_gradient_evenly() -> None:
    x = ag.tensor(np.array([[0.0, 2.0], [0.0, -1.0]]), requires_grad=True)
    x.min(axis=0).sum().backward()
    assert x.grad.numpy().tolist() == [[0.5, 0.0], [0.5, 1.0]]


def test_maximum_minimum_ties_split_the_gradient_evenly() -> None:
    a = ag.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = ag.tensor(np.array([1.0, 5.0, 0.0]), requires_grad=True)
    (ag.maximum(a, b) + 10.0 * ag.minimum(a, b)).sum().backward()
    assert a.grad.numpy().tolist() == [5.5, 10.0, 1.0]
    assert b.grad.numpy().tolist() == [5.5, 1.0, 10.0]
    x = ag.tensor(2.0, requires_grad=True)
    ag.maximum(x, x).backward()
    assert x.grad.item() == 1.0


def test_relu_and_abs_gradient_at_zero_is_zero() -> None:
    x = ag.tensor(np.zeros(2), requires_grad=True)
    (x.relu() + abs(x)).sum().backward()
    assert x.grad.numpy().tolist() == [0.0, 0.0]


def test_zero_power_has_zero_slope_everywhere() -> None:
    """d/da a**0 = 0 even at a = 0 (not 0 * 0**-1 = nan), for scalar and tensor exponents."""
    a = ag.tensor(np.array([0.0, 2.0]), requires_grad=True)
    b = ag.tensor(np.array([0.0, 0.0]), requires_grad=True)
    with strict_floating_point():
        (a**0 + a**b).sum().backward()
    assert a.grad.numpy().tolist() == [0.0, 0.0]
    np.testing.assert_allclose(b.grad.numpy(), [0.0, np.log(2.0)])


def test_clip_passes_the_gradient_at_its_bounds() -> None:
    x = ag.tensor(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]), requires_grad=True)
    x.clip(-1.0, 1.0).sum().backward()
    assert x.grad.numpy().tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


# -- detect_anomaly ------------------------------------------------------------------------------
THIS_FILE = os.path.basename(__file__)


def test_detect_anomaly_forward_names_op_and_user_line() -> None:
    x = ag.tensor(np.array([1.0, -1.0]), requires_grad=True)
    # numpy's own RuntimeWarning is silenced so that the anomaly check is what reports it
    with ag.detect_anomaly(), np.errstate(invalid="ignore"):
        line = inspect.currentframe().f_lineno + 2
        with pytest.raises(FloatingPointError) as info:
            ag.log(x)
    message = str(info.value)
    assert "log produced NaN in its forward output" in message
    assert f"{THIS_FILE}:{line}" in message
    assert "ag.log(x)" in message


def test_detect_anomaly_backward_names_op_and_user_line() -> None:
    x = ag.tensor(np.array([4.0, 0.0]), requires_grad=True)
    with ag.detect_anomaly(), np.errstate(divide="ignore"):
        line = inspect.currentframe().f_lineno + 1
        root = x.sqrt()
        loss = (root * 3.0).sum()  # finite forward: the inf appears only in backward
        with pytest.raises(FloatingPointError) as info:
            loss.backward()
    message = str(info.value)
    assert "sqrt produced inf in its backward gradient" in message
    assert f"{THIS_FILE}:{line}" in message
    assert "x.sqrt()" in message


def test_frames_in_a_registered_library_folder_are_skipped(tmp_path) -> None:
    library = tmp_path / "somelib"
    library.mkdir()
    (library / "layers.py").write_text("def double(x):\n    return x * 2.0\n")
    spec = importlib.util.spec_from_file_location("somelib_layers", library / "layers.py")
    layers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layers)
    x = ag.tensor(np.array([1.0]), requires_grad=True)
    with ag.detect_anomaly():
        inside = layers.double(x).grad_fn.created_at
        ag.register_library_folder(str(library))
        line = inspect.currentframe().f_lineno + 1
        outside = layers.double(x).grad_fn.created_at
    assert inside.startswith(f"{library / 'layers.py'}:2 in double")
    assert f"{THIS_FILE}:{line} in " in outside
    assert "layers.double(x)" in outside


def test_without_detect_anomaly_nan_passes_silently() -> None:
    with np.errstate(invalid="ignore"):
        out = ag.log(ag.tensor(np.array([-1.0]), requires_grad=True))
    assert np.isnan(out.item())
    assert out.grad_fn.created_at is None  # no frame walk outside anomaly mode


def test_detect_anomaly_reports_even_when_warnings_are_errors() -> None:
    x = ag.tensor(np.array([-1.0]), requires_grad=True)
    with warnings.catch_warnings(), ag.detect_anomaly():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match="log produced NaN"):
            ag.log(x)
