"""nn.init: the distributions' parameters, in-place filling, dtypes and seeding."""

import math

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn import init

SHAPE = (300, 200)  # fan_in 200, fan_out 300: 60 000 samples for the statistics


def weight(dtype=np.float32):
    return nn.Parameter(np.empty(SHAPE, dtype=dtype))


def test_uniform_and_normal():
    ag.manual_seed(0)
    w = init.uniform_(weight(), -2.0, 3.0)
    assert w.data.min() >= -2 and w.data.max() <= 3
    assert abs(w.data.mean() - 0.5) < 0.03
    w = init.normal_(weight(), mean=1.0, std=0.5)
    assert abs(w.data.mean() - 1) < 0.01 and abs(w.data.std() - 0.5) < 0.01


def test_trunc_normal_redraws_beyond_two_std():
    ag.manual_seed(0)
    w = init.trunc_normal_(weight(), mean=1.0, std=0.5)
    assert w.data.min() >= 0.0 and w.data.max() <= 2.0
    # the standard normal truncated to [-2, 2] has standard deviation 0.8796
    assert abs(w.data.std() - 0.5 * 0.8796) < 0.01
    assert abs(w.data.mean() - 1) < 0.01
    w = init.trunc_normal_(weight(), a=-0.1, b=0.3)  # absolute bounds, as PyTorch
    assert w.data.min() >= -0.1 and w.data.max() <= 0.3
    with pytest.raises(ValueError, match="need a < b"):
        init.trunc_normal_(weight(), a=1, b=0)


def test_xavier():
    ag.manual_seed(0)
    bound = math.sqrt(6 / (200 + 300))
    w = init.xavier_uniform_(weight(), gain=2.0)
    assert np.abs(w.data).max() <= 2 * bound
    assert abs(w.data.std() - 2 * bound / math.sqrt(3)) < 0.02 * bound
    w = init.xavier_normal_(weight())
    assert abs(w.data.std() - math.sqrt(2 / 500)) < 0.01 * math.sqrt(2 / 500)


def test_kaiming():
    ag.manual_seed(0)
    w = init.kaiming_normal_(weight(), nonlinearity="relu")
    assert abs(w.data.std() - math.sqrt(2 / 200)) < 0.01 * math.sqrt(2 / 200)
    w = init.kaiming_normal_(weight(), mode="fan_out", nonlinearity="relu")
    assert abs(w.data.std() - math.sqrt(2 / 300)) < 0.01 * math.sqrt(2 / 300)
    w = init.kaiming_uniform_(weight(), nonlinearity="relu")
    assert np.abs(w.data).max() <= math.sqrt(6 / 200)
    w = init.kaiming_uniform_(weight(), a=math.sqrt(5))  # nn.Linear's choice: 1 / sqrt(fan_in)
    assert np.abs(w.data).max() <= 1 / math.sqrt(200)
    assert np.abs(w.data).max() > 0.99 / math.sqrt(200)
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(weight(), mode="fan")


def test_constants_fill_in_place_and_keep_dtype():
    w = weight(np.float64)
    array = w.data
    assert init.zeros_(w) is w and w.data is array and np.all(array == 0)
    init.ones_(w)
    assert np.all(array == 1) and array.dtype == np.float64
    init.constant_(w, 0.25)
    assert np.all(array == 0.25)
    plain = np.empty(3, dtype=np.float32)
    assert init.constant_(plain, 2.0) is plain and np.all(plain == 2)


def test_seeding_makes_initialisation_reproducible():
    ag.manual_seed(7)
    first = init.xavier_uniform_(weight()).data.copy()
    ag.manual_seed(7)
    np.testing.assert_array_equal(init.xavier_uniform_(weight()).data, first)


def test_gain_and_fans():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    assert init.calculate_fan_in_and_fan_out(np.empty((8, 3, 5, 5))) == (75, 200)
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init.xavier_uniform_(nn.Parameter(np.zeros(5)))


def test_integer_arrays_are_refused():
    with pytest.raises(TypeError, match="nn.init.zeros_: expected a floating-point"):
        init.zeros_(np.zeros(3, dtype=np.int64))


def test_trunc_normal_refuses_bounds_that_hold_almost_nothing():
    with pytest.raises(ValueError, match=r"trunc_normal_: \[a, b\] = \[5, 6\]"):
        nn.init.trunc_normal_(np.zeros(3), a=5, b=6)


def test_xavier_on_an_empty_weight_names_the_shape():
    with pytest.raises(ValueError, match=r"xavier_uniform_: .*\(0, 0\)"):
        nn.init.xavier_uniform_(np.zeros((0, 0), np.float32))
