"""nn.data: DataLoader, train_test_split, StandardScaler and the bundled data sets."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
from nn.data import (
    DataLoader,
    StandardScaler,
    load_digits,
    logic_gate,
    noisy_line,
    train_test_split,
)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 50), batch_size=st.integers(1, 20), shuffle=st.booleans(),
       drop_last=st.booleans())
def test_loader_covers_every_sample_once(n, batch_size, shuffle, drop_last):
    x = np.arange(n, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    y = np.arange(n)
    loader = DataLoader(x, y, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                        seed=1)
    batches = list(loader)
    assert len(batches) == len(loader)
    sizes = [len(xb) for xb, _ in batches]
    assert all(s == batch_size for s in sizes[:-1])
    if drop_last:
        assert sizes == [batch_size] * (n // batch_size)
    seen = np.concatenate([yb.numpy() for _, yb in batches]) if batches else np.array([])
    assert len(seen) == (n - n % batch_size if drop_last else n)
    assert len(set(seen.tolist())) == len(seen)
    for xb, yb in batches:  # rows stay paired with their labels
        assert isinstance(xb, ag.Tensor) and isinstance(yb, ag.Tensor)
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy())
        assert not xb.requires_grad


def test_loader_order_and_dtypes_without_shuffle():
    x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    (xb, yb), (xb2, yb2), (xb3, yb3) = DataLoader(x, y, batch_size=2)
    assert yb.numpy().tolist() == [0, 1] and yb3.numpy().tolist() == [4]
    assert xb.dtype == np.float64 and yb.dtype == np.int64
    # lists follow ag.tensor's rules: Python floats become float32
    (xb, yb), = DataLoader([[1.0, 2.0]], [1], batch_size=4)
    assert xb.dtype == np.float32


def test_loader_shuffle_is_seeded_and_changes_each_epoch():
    y = np.arange(100)
    a = DataLoader(y, batch_size=100, shuffle=True, seed=3)
    b = DataLoader(y, batch_size=100, shuffle=True, seed=3)
    first_a, second_a = next(iter(a)).numpy(), next(iter(a)).numpy()
    np.testing.assert_array_equal(first_a, next(iter(b)).numpy())
    assert not np.array_equal(first_a, second_a)
    assert sorted(first_a.tolist()) == y.tolist()


def test_loader_without_seed_follows_manual_seed():
    y = np.arange(50)
    ag.manual_seed(7)
    first = next(iter(DataLoader(y, batch_size=50, shuffle=True))).numpy()
    ag.manual_seed(7)
    again = next(iter(DataLoader(y, batch_size=50, shuffle=True))).numpy()
    np.testing.assert_array_equal(first, again)


def test_loader_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"DataLoader.*x \(3, 2\), y \(4,\)"):
        DataLoader(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(np.zeros(3), batch_size=0)
    with pytest.raises(TypeError, match="DataLoader x"):
        DataLoader(["a", "b"])


def test_train_test_split_partitions_the_data():
    x = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, seed=0)
    assert len(x_te) == 10 and len(x_tr) == 40
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == y.tolist()
    np.testing.assert_array_equal(x_te[:, 0] // 2, y_te)  # rows stay paired
    again = train_test_split(x, y, test_size=0.2, seed=0)
    np.testing.assert_array_equal(again[3], y_te)
    assert len(train_test_split(x, y, test_size=7, seed=0)[1]) == 7


def test_train_test_split_stratified_keeps_class_shares():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    x = np.arange(100)
    _, _, y_tr, y_te = train_test_split(x, y, test_size=0.3, seed=1, stratify=y)
    assert len(y_te) == 30
    assert np.bincount(y_te).tolist() == [18, 9, 3]
    assert np.bincount(y_tr).tolist() == [42, 21, 7]


def test_train_test_split_errors():
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.zeros(10), np.zeros(10), test_size=1.5)
    with pytest.raises(ValueError, match="train_test_split"):
        train_test_split(np.zeros(10), np.zeros(9))


def test_standard_scaler_fits_on_train_only():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 3.0, size=(200, 3)).astype(np.float32)
    train[:, 2] = 1.0  # a constant feature is centred, not divided by zero
    test = rng.normal(5.0, 3.0, size=(20, 3)).astype(np.float32)
    scaler = StandardScaler().fit(train)
    z = scaler.transform(train)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(z[:, :2].std(axis=0), 1.0, atol=1e-5)
    assert z.dtype == np.float32 and np.all(z[:, 2] == 0)
    np.testing.assert_allclose(scaler.transform(test), (test - train.mean(0)) / scaler.scale_,
                               rtol=1e-5)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test, rtol=1e-5)
    with pytest.raises(RuntimeError, match="fit first"):
        StandardScaler().transform(test)
    with pytest.raises(ValueError, match=r"\(3,\).*\(20, 2\)"):
        scaler.transform(test[:, :2])


def test_load_digits():
    x, y = load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert sorted(set(y.tolist())) == list(range(10))
    assert load_digits(flatten=False)[0].shape == (1797, 8, 8)


def test_bundled_digits_equal_scikit_learns():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    bunch = sklearn_datasets.load_digits()
    x, y = load_digits(flatten=False)
    np.testing.assert_array_equal(x * 16, bunch.images)
    np.testing.assert_array_equal(y, bunch.target)
    np.testing.assert_array_equal(load_digits()[0], (bunch.data / 16.0).astype(np.float32))


@pytest.mark.parametrize("name, expected", [("and", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]),
                                            ("xor", [0, 1, 1, 0])])
def test_logic_gates(name, expected):
    x, y = logic_gate(name)
    assert x.shape == (4, 2) and x.dtype == np.float32
    assert y.tolist() == expected
    assert [int(a) ^ int(b) for a, b in x] == [0, 1, 1, 0]  # rows in truth-table order


def test_logic_gate_unknown():
    with pytest.raises(ValueError, match="'nope'"):
        logic_gate("nope")


def test_noisy_line():
    x, y = noisy_line(500, slope=-3.0, intercept=0.5, noise=0.05, seed=2)
    assert x.shape == y.shape == (500, 1) and x.dtype == y.dtype == np.float32
    slope, intercept = np.polyfit(x[:, 0], y[:, 0], 1)
    assert abs(slope + 3.0) < 0.02 and abs(intercept - 0.5) < 0.02
    np.testing.assert_array_equal(noisy_line(10, seed=4)[1], noisy_line(10, seed=4)[1])
