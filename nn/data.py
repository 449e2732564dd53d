"""Data: batches over arrays, a train/test split, standardisation and small offline data sets.

Everything works on in-memory arrays. ``DataLoader`` yields ``autograd_core`` Tensors (leaves that
do not require grad), so a batch goes straight into a model and a loss:

>>> x, y = load_digits()
>>> x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=0, stratify=y)
>>> loader = DataLoader(x_train, y_train, batch_size=32, shuffle=True, seed=0)
>>> for xb, yb in loader:            # xb: Tensor (32, 64) float32, yb: Tensor (32,) int64
...     ...
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

import autograd_core as ag

from ._checks import positive_int, seed_or_none

__all__ = [
    "DataLoader", "train_test_split", "StandardScaler", "as_array",
    "load_digits", "logic_gate", "noisy_line",
]


def as_array(values, name: str = "values") -> np.ndarray:
    """``values`` (Tensor, ndarray or nested lists) as a numpy array, sharing memory when possible.

    numpy arrays keep their dtype; Python floats become ``ag.get_default_dtype()`` (float32), as
    ``ag.tensor`` does, so lists and arrays give the same batches.
    """
    if isinstance(values, ag.Tensor):
        return values.data
    if isinstance(values, np.ndarray):
        return values
    array = np.asarray(values)
    if array.dtype.kind == "f":
        return array.astype(ag.get_default_dtype())
    if array.dtype.kind not in "biu":
        raise TypeError(f"{name}: expected numbers or an array, got {type(values).__name__} "
                        f"(numpy dtype {array.dtype})")
    return array


def generator_for(where: str, seed: int | None) -> np.random.Generator:
    """``np.random.default_rng(seed)`` for an integer seed; for None, ``ag.random.get_generator()``
    (so that ``ag.manual_seed`` governs the draws)."""
    seed = seed_or_none(where, seed)
    return np.random.default_rng(seed) if seed is not None else ag.random.get_generator()


def _check_same_length(caller: str, arrays: dict[str, np.ndarray]) -> int:
    """The common number of samples (first axis), or a clear error naming every shape."""
    for key, array in arrays.items():
        if array.ndim == 0:
            raise ValueError(f"{caller}: {key} must have a sample axis, got a scalar")
    lengths = {len(array) for array in arrays.values()}
    if len(lengths) != 1:
        shapes = ", ".join(f"{key} {array.shape}" for key, array in arrays.items())
        raise ValueError(f"{caller}: the arrays must hold the same number of samples (first "
                         f"axis), got {shapes}")
    return lengths.pop()


class DataLoader:
    """Mini-batches over in-memory arrays, optionally shuffled each epoch.

    ``DataLoader(x, y, batch_size=32, shuffle=True, seed=0)`` yields ``(x_batch, y_batch)`` pairs of
    Tensors (just ``x_batch`` when ``y`` is None). Batches are taken along the first axis; the last
    one is smaller unless ``drop_last=True``. ``len(loader)`` is the number of batches per epoch.

    Shuffling draws a fresh permutation at the start of every epoch (every ``iter``) from a
    ``numpy.random.Generator``: ``np.random.default_rng(seed)`` made once when a seed is given (so
    the sequence of epochs is reproducible), otherwise ``ag.random.get_generator()`` (so
    ``ag.manual_seed`` governs it). Without shuffling the batches are views, not copies.

    >>> loader = DataLoader(np.arange(10.0), np.arange(10), batch_size=4)
    >>> [len(xb) for xb, yb in loader]
    [4, 4, 2]
    """

    def __init__(self, x, y=None, batch_size: int = 32, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None):
        self.x = as_array(x, "DataLoader x")
        self.y = None if y is None else as_array(y, "DataLoader y")
        arrays = {"x": self.x} if self.y is None else {"x": self.x, "y": self.y}
        self.num_samples = _check_same_length("DataLoader", arrays)
        self.batch_size = positive_int("DataLoader", "batch_size", batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        seed = seed_or_none("DataLoader", seed)
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_samples // self.batch_size
        return -(-self.num_samples // self.batch_size)

    def __iter__(self) -> Iterator[tuple[ag.Tensor, ag.Tensor] | ag.Tensor]:
        n, size = self.num_samples, self.batch_size
        stop = n - n % size if self.drop_last else n
        order = None
        if self.shuffle:
            rng = self._rng if self._rng is not None else ag.random.get_generator()
            order = rng.permutation(n)
        for start in range(0, stop, size):
            # one index per batch: basic slices are views; a permutation slice copies one batch
            index = slice(start, start + size) if order is None else order[start:start + size]
            xb = ag.Tensor(self.x[index])
            if self.y is None:
                yield xb
            else:
                yield xb, ag.Tensor(self.y[index])

    def __repr__(self) -> str:
        return (f"DataLoader({self.num_samples} samples, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")


def train_test_split(x, y, test_size: float | int = 0.25, seed: int | None = None,
                     stratify=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split at random into ``x_train, x_test, y_train, y_test`` (scikit-learn's order).

    ``test_size`` is a fraction in (0, 1) or a number of samples. ``stratify`` (class labels,
    usually ``y``) keeps each class's share the same in both parts: each class gives its share of
    the test set, rounded so that the counts add up to the requested size. Randomness comes from
    ``np.random.default_rng(seed)``, or ``ag.random.get_generator()`` when ``seed`` is None.

    >>> x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=0)
    """
    x, y = as_array(x, "train_test_split x"), as_array(y, "train_test_split y")
    n = _check_same_length("train_test_split", {"x": x, "y": y})
    if isinstance(test_size, (float, np.floating)):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"train_test_split: a fractional test_size must lie in (0, 1), got "
                             f"{test_size}")
        n_test = int(np.ceil(test_size * n))
    else:
        n_test = int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size!r} leaves an empty part of "
                         f"{n} samples")
    rng = generator_for("train_test_split", seed)
    if stratify is None:
        test_index = rng.permutation(n)[:n_test]
    else:
        test_index = _stratified_test_index(as_array(stratify, "train_test_split stratify"),
                                            n, n_test, rng)
    is_test = np.zeros(n, dtype=bool)
    is_test[test_index] = True
    return x[~is_test], x[is_test], y[~is_test], y[is_test]


def _stratified_test_index(labels: np.ndarray, n: int, n_test: int,
                           rng: np.random.Generator) -> np.ndarray:
    if labels.shape[:1] != (n,):
        raise ValueError(f"train_test_split: stratify must hold one label per sample ({n}), got "
                         f"shape {labels.shape}")
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    # largest-remainder rounding: every class gets floor(share), the biggest remainders get one more
    shares = counts * n_test / n
    take = np.floor(shares).astype(np.int64)
    take[np.argsort(take - shares)[: n_test - take.sum()]] += 1
    parts = [rng.permutation(np.flatnonzero(inverse == k))[:take[k]] for k in range(len(classes))]
    return np.concatenate(parts)


class StandardScaler:
    """Standardise features: ``(x - mean) / std`` with the statistics of the data it was fitted on.

    Fit on the training set only and apply the same transform to the test set, so that no
    information from the test set leaks into training. Features with zero spread are only centred.

    >>> scaler = StandardScaler().fit(x_train)
    >>> x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, x) -> StandardScaler:
        """Learn the per-feature mean and standard deviation (over the first axis)."""
        x = as_array(x, "StandardScaler.fit x")
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"StandardScaler.fit: expected samples along the first axis, got "
                             f"shape {x.shape}")
        dtype = x.dtype if x.dtype.kind == "f" else ag.get_default_dtype()
        self.mean_ = x.mean(axis=0).astype(dtype)
        std = x.std(axis=0).astype(dtype)
        self.scale_ = np.where(std > 0, std, np.ones_like(std))
        return self

    def _check_fitted(self, caller: str, x: np.ndarray) -> None:
        if self.mean_ is None:
            raise RuntimeError(f"StandardScaler.{caller}: call fit first")
        if x.shape[1:] != self.mean_.shape:
            raise ValueError(f"StandardScaler.{caller}: fitted on samples of shape "
                             f"{self.mean_.shape}, got an array of shape {x.shape}")

    def transform(self, x) -> np.ndarray:
        """``(x - mean_) / scale_``."""
        x = as_array(x, "StandardScaler.transform x")
        self._check_fitted("transform", x)
        return (x - self.mean_) / self.scale_

    def fit_transform(self, x) -> np.ndarray:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def inverse_transform(self, x) -> np.ndarray:
        """``x * scale_ + mean_``: back to the original units."""
        x = as_array(x, "StandardScaler.inverse_transform x")
        self._check_fitted("inverse_transform", x)
        return x * self.scale_ + self.mean_


# -- bundled data sets (offline) -----------------------------------------------------------------

_DIGITS_FILE = Path(__file__).with_name("datasets") / "digits.npz"


def load_digits(flatten: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The 1797 handwritten digits (8x8 grey images, 10 classes) of the UCI "Optical Recognition
    of Handwritten Digits" set (Alpaydin and Kaynak, CC BY 4.0), bundled with ``nn``.

    The same arrays as scikit-learn's ``load_digits``. Returns ``x`` float32 scaled to [0, 1]
    (pixel / 16), shape (1797, 64) or (1797, 8, 8) with ``flatten=False``, and ``y`` int64
    labels 0-9, shape (1797,).
    """
    with np.load(_DIGITS_FILE, allow_pickle=False) as archive:
        pixels, targets = archive["pixels"], archive["targets"]
    x = (pixels / np.float32(16)).astype(np.float32)
    if not flatten:
        x = x.reshape(len(x), 8, 8)
    return x, targets.astype(np.int64)


_GATES = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "xor": [0, 1, 1, 0],
    "nand": [1, 1, 1, 0],
    "nor": [1, 0, 0, 0],
}


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The truth table of a two-input gate: ``x`` float32 (4, 2), ``y`` int64 (4,).

    ``name`` is one of "and", "or", "xor", "nand", "nor" (any case). Rows are (0,0), (0,1), (1,0),
    (1,1).

    >>> x, y = logic_gate("or")
    >>> y
    array([0, 1, 1, 1])
    """
    key = name.lower()
    if key not in _GATES:
        raise ValueError(f"logic_gate: unknown gate {name!r}; choose one of {sorted(_GATES)}")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return x, np.array(_GATES[key], dtype=np.int64)


def noisy_line(n: int = 100, slope: float = 2.0, intercept: float = 1.0, noise: float = 0.1,
               seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points ``y = slope * x + intercept + noise * N(0, 1)`` with ``x`` uniform in [-1, 1].

    Returns ``x`` and ``y`` as float32 columns of shape (n, 1), ready for ``Linear(1, 1)`` and
    ``MSELoss``. ``seed=None`` draws from ``ag.random.get_generator()``.
    """
    n = positive_int("noisy_line", "n", n)
    rng = generator_for("noisy_line", seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 1))
    y = slope * x + intercept + noise * rng.standard_normal((n, 1))
    return x.astype(np.float32), y.astype(np.float32)
