"""Restricted Boltzmann machines, trained by contrastive divergence (``nn.dbn`` stacks them).

The model
---------
A Bernoulli RBM has binary visible units v (n_visible) and binary hidden units h (n_hidden),
joined by the weights ``W`` of shape **(n_visible, n_hidden)** (``W[i, j]`` links visible i to
hidden j; note ``nn.Linear`` stores the transpose, (out, in)). The energy and distribution are::

    E(v, h) = -v.b_v - h.b_h - v W h          p(v, h) = exp(-E(v, h)) / Z

There are no links inside a layer, so each layer is conditionally independent given the other::

    p(h_j = 1 | v) = sigmoid(b_h + v W)_j     p(v_i = 1 | h) = sigmoid(b_v + h W^T)_i

Summing h out gives the **free energy**, ``p(v) = exp(-F(v)) / Z``::

    F(v) = -v.b_v - sum_j softplus(b_h + v W)_j

Learning
--------
The gradient of the mean negative log-likelihood over a batch is a difference of two
expectations of dF/dtheta, one under the data and one under the model::

    d/dtheta [-log p(v)] = dF(v)/dtheta - E_model[dF(v')/dtheta]

Contrastive divergence (CD-k) replaces the model expectation by samples ``v'`` taken after k
steps of Gibbs sampling (v -> h -> v -> ...) started at the data; persistent CD (PCD) keeps one
set of chains running across updates instead. With ``dF/dW = -v^T sigmoid(b_h + v W)``, the
update of the weights is::

    W += lr * (v^T p(h|v) / B  -  v'^T p(h|v') / B')

which is **exactly** ``-lr`` times the gradient of ``mean F(v) - mean F(v')`` with ``v'`` held
fixed: the CD rule is autodiff of a free-energy difference. ``RBM.free_energy`` is an
autograd_core expression, so ``backward()`` gives the same numbers as ``RBM.cd_gradient``;
the test suite checks it.

The hot loop stays on numpy arrays (float32 by default). The products that read visible rows,
``v @ W`` and the weight update ``W += [v_data; v_model]^T [h_data; -h_model] lr / B``, skip the
zero units (``kernels.sparse_matmul``, ``kernels.sparse_rank_update``: binary visible rows are
mostly zeros; dense rows go to BLAS), the update is added straight into W, and ``h @ W^T`` runs
on BLAS. The bias, sigmoid and Bernoulli sampling of each Gibbs step run fused in one pass
(``kernels.gibbs_sample``), its uniforms converted from raw words of the RBM's generator. Each
kernel is Numba with a numpy twin; ``AUTOGRAD_CORE_JIT=0`` selects the twins.

>>> x, y = nn.data.load_digits()                     # pixels in [0, 1]
>>> rbm = nn.RBM(64, 100, lr=0.05, epochs=10, seed=0).fit(x)
>>> features = rbm.transform(x)                      # p(h = 1 | v), shape (1797, 100)
"""

from __future__ import annotations

import contextlib
import functools
from typing import TYPE_CHECKING, Any

import numpy as np

import autograd_core as ag
from autograd_core import kernels

from ._checks import non_negative_float, positive_int, seed_or_none
from .base import Module
from .estimator import EstimatorParams
from .layers import ensure_tensor
from .module import Parameter, register_module
from .train import tqdm

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

__all__ = ["RBM"]


@functools.cache
def _threadpools() -> ThreadpoolController:
    # Finding the loaded BLAS libraries takes milliseconds: do it once, not on every fit.
    from threadpoolctl import ThreadpoolController  # on first use: not imported by ``import nn``

    return ThreadpoolController()


@register_module
class RBM(EstimatorParams, Module):
    """A Bernoulli-Bernoulli restricted Boltzmann machine trained by CD-k or persistent CD-k.

    Parameters (constructor):

    - ``n_visible``, ``n_hidden``: the numbers of units.
    - ``k``: Gibbs steps per update (CD-k / PCD-k). ``persistent=True`` selects PCD: the negative
      samples come from ``batch_size`` chains kept running across updates (scikit-learn's
      ``BernoulliRBM`` is PCD-1).
    - ``lr``, ``momentum``, ``weight_decay``: ``velocity = momentum * velocity + lr * (CD
      direction - weight_decay * W)``; then ``param += velocity`` (weight decay on W only).
    - ``batch_size``, ``epochs`` (passes over the data in ``fit``), ``shuffle`` (reshuffle
      the rows each pass).
    - ``seed``: seeds the initial weights, the shuffling and every Bernoulli draw, so ``fit``
      is reproducible; None draws a seed from ``ag.random.get_generator()`` (``ag.manual_seed``).
    - ``verbose``: 1 shows a tqdm bar over the epochs of ``fit``, 0 nothing.
    - ``dtype``: "float32" (the default, fast) or "float64".
    - ``blas_threads``: BLAS threads while training (threadpoolctl), 1 by default: the products
      of a mini-batch are small and the sampling between them runs on one thread anyway; more
      threads help a little on an idle machine but hurt badly once other work shares the cores
      (idle BLAS threads spin), so one thread is the predictable choice (``bench/rbm.py``
      measures it). None leaves BLAS alone.

    Attributes: ``W`` (n_visible, n_hidden), ``b_visible`` (n_visible,), ``b_hidden``
    (n_hidden,) are ``nn.Parameter``s; ``history_["reconstruction_error"]`` holds one value per
    training pass (see :meth:`partial_fit`). ``W`` starts as N(0, 0.01^2), the biases as 0.

    Data: rows of ``n_visible`` values in [0, 1]: binary data, or probabilities (grey levels,
    the hidden probabilities of another RBM), which are used as such in the positive phase.

    >>> rbm = nn.RBM(64, 32, k=1, lr=0.05, batch_size=10, epochs=5, seed=0).fit(x)
    >>> rbm.transform(x[:2]).shape, rbm.free_energy(x[:2]).shape
    ((2, 32), (2,))
    """

    def __init__(self, n_visible: int, n_hidden: int, k: int = 1, persistent: bool = False,
                 lr: float = 0.1, momentum: float = 0.0, weight_decay: float = 0.0,
                 batch_size: int = 10, epochs: int = 10, shuffle: bool = True,
                 seed: int | None = None, verbose: int = 1, dtype: str = "float32",
                 blas_threads: int | None = 1):
        super().__init__()
        self.n_visible = positive_int("RBM", "n_visible", n_visible)
        self.n_hidden = positive_int("RBM", "n_hidden", n_hidden)
        self.k = positive_int("RBM", "k", k)
        self.persistent = bool(persistent)
        self.lr = non_negative_float("RBM", "lr", lr)
        self.momentum = non_negative_float("RBM", "momentum", momentum, below=1.0)
        self.weight_decay = non_negative_float("RBM", "weight_decay", weight_decay)
        self.batch_size = positive_int("RBM", "batch_size", batch_size)
        self.epochs = positive_int("RBM", "epochs", epochs)
        self.shuffle = bool(shuffle)
        self.seed = seed_or_none("RBM", seed)
        self.verbose = int(verbose)
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ag.DTypeError(f"RBM: dtype must be 'float32' or 'float64', got {dtype!r}")
        self.dtype = np.dtype(dtype)
        self.blas_threads = (None if blas_threads is None
                             else positive_int("RBM", "blas_threads", blas_threads))
        # reset_parameters fills all three
        self.W = Parameter.empty((self.n_visible, self.n_hidden), self.dtype)
        self.b_visible = Parameter.empty((self.n_visible,), self.dtype)
        self.b_hidden = Parameter.empty((self.n_hidden,), self.dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Start over: fresh weights, random stream, momentum, persistent chains and history.

        With a ``seed`` the weights and the stream are the same every time.
        """
        seed = self.seed
        if seed is None:
            seed = int(ag.random.get_generator().integers(2**63))
        self._rng = np.random.default_rng(seed)
        self.W.data[...] = self._rng.standard_normal(self.W.shape, self.dtype)
        self.W.data *= 0.01
        self.b_visible.data[...] = 0
        self.b_hidden.data[...] = 0
        for tensor in (self.W, self.b_visible, self.b_hidden):
            tensor._bump_version()
        self._velocity: list[np.ndarray] | None = None  # for W, b_visible, b_hidden
        self._chain: np.ndarray | None = None  # PCD: hidden states of the persistent chains
        self.history_: dict[str, list[float]] = {"reconstruction_error": []}

    def get_config(self) -> dict[str, Any]:
        return {"n_visible": self.n_visible, "n_hidden": self.n_hidden, "k": self.k,
                "persistent": self.persistent, "lr": self.lr, "momentum": self.momentum,
                "weight_decay": self.weight_decay, "batch_size": self.batch_size,
                "epochs": self.epochs, "shuffle": self.shuffle, "seed": self.seed,
                "verbose": self.verbose, "dtype": self.dtype.name,
                "blas_threads": self.blas_threads}

    def extra_repr(self) -> str:
        mode = "PCD" if self.persistent else "CD"
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}, {mode}-{self.k}"

    # -- input checks -------------------------------------------------------------------------
    def _check(self, caller: str, x: Any) -> np.ndarray:
        """``x`` as a C-contiguous (n, n_visible) array of this RBM's dtype, values checked to lie
        in [0, 1]. A 1-D ``x`` is one sample.
        """
        n_features = self.n_visible
        where = f"RBM.{caller}"
        raw = x.data if isinstance(x, ag.Tensor) else np.asarray(x)
        if raw.dtype.kind not in "biuf":
            raise ag.DTypeError(f"{where}: expected numbers in [0, 1], got dtype {raw.dtype} "
                                f"(shape {raw.shape})")
        if raw.ndim == 1:
            raw = raw[None, :]
        if raw.ndim != 2 or raw.shape[1] != n_features:
            raise ag.ShapeError(
                f"{where}: expected samples of {n_features} features, shape (n, {n_features}), "
                f"got shape {raw.shape}" + ("" if raw.ndim != 2 else
                                            f" ({raw.shape[1]} features)"))
        if len(raw) == 0:
            raise ValueError(f"{where}: got no samples (shape {raw.shape})")
        arr = np.ascontiguousarray(raw, dtype=self.dtype)
        lo, hi = arr.min(), arr.max()
        if not (lo >= 0 and hi <= 1):  # also catches NaN, which fails every comparison
            nan = np.isnan(arr)
            if nan.any():
                row, col = np.argwhere(nan)[0]
                raise ValueError(f"{where}: the data contains NaN (first at row {row}, "
                                 f"column {col}; shape {arr.shape})")
            raise ValueError(f"{where}: the data must be binary or probabilities in [0, 1], got "
                             f"values in [{lo:g}, {hi:g}] (shape {arr.shape}); scale it "
                             f"(x / x.max()), clip rounding noise (np.clip(x, 0, 1)) or "
                             f"binarise it (x > 0.5)")
        return arr

    # -- conditional distributions (numpy, no graph) ------------------------------------------
    def _hidden_probs(self, v: np.ndarray) -> np.ndarray:
        return kernels.gibbs_sample(v @ self.W.data, self.b_hidden.data)[0]

    def _visible_probs(self, h: np.ndarray) -> np.ndarray:
        return kernels.gibbs_sample(h @ self.W.data.T, self.b_visible.data)[0]

    def _sample(self, pre: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and Bernoulli samples of ``sigmoid(pre + bias)``, from the RBM's stream."""
        words = kernels.random_words(self._rng, pre.size, self.dtype)
        return kernels.gibbs_sample(pre, bias, words)

    def _hidden_pre_activation(self, v: np.ndarray) -> np.ndarray:
        """``v @ W`` for the Gibbs steps, whose visible rows are mostly zeros (binary samples;
        ``kernels.sparse_matmul`` falls back to BLAS for dense rows)."""
        return kernels.sparse_matmul(v, self.W.data)

    def _sample_hidden(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._sample(self._hidden_pre_activation(v), self.b_hidden.data)

    def _sample_visible(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._sample(h @ self.W.data.T, self.b_visible.data)

    # -- training -----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> RBM:
        """Train from scratch (:meth:`reset_parameters`) for ``epochs`` passes over ``X``.

        ``X``: (n_samples, n_visible) values in [0, 1]; ``y`` is ignored (scikit-learn's
        signature). Returns self. Refitting with the same seed gives the same weights.
        """
        X = self._check("fit", X)
        self.reset_parameters()
        bar = tqdm(range(self.epochs), desc=f"RBM({self.n_visible}, {self.n_hidden})",
                   unit="epoch", disable=not self.verbose)
        with self._blas_limit(), bar:  # the bar is closed even if a pass raises
            for _ in bar:
                error = self._train_pass(X)
                bar.set_postfix(reconstruction_error=f"{error:.4g}", refresh=False)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> RBM:
        """One more pass of CD updates over ``X`` (batches of ``batch_size``), from the current
        weights; returns self.

        Each pass appends to ``history_["reconstruction_error"]`` the mean over its batches of
        the squared error per feature between a batch and its one-step reconstruction
        ``p(v | h ~ p(h | batch))``, taken during the update (under PCD this costs one extra
        product per batch). ``X`` must have the ``n_visible`` features the RBM was built with.
        """
        X = self._check("partial_fit", X)
        with self._blas_limit():
            self._train_pass(X)
        return self

    def _blas_limit(self) -> contextlib.AbstractContextManager:
        if self.blas_threads is None:
            return contextlib.nullcontext()
        return _threadpools().limit(limits=self.blas_threads, user_api="blas")

    def _train_pass(self, X: np.ndarray) -> float:
        n = len(X)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        error = 0.0
        for start in range(0, n, self.batch_size):
            error += self._cd_update(X[order[start:start + self.batch_size]])
        error /= n * self.n_visible
        self.history_["reconstruction_error"].append(error)
        return error

    def _negative_phase(self, h_sample: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The k Gibbs steps of CD-k (from ``h_sample``, the hidden sample of the batch) or
        PCD-k (from the persistent chains).

        Returns ``(v_model, h_model, v_recon)``: the visible samples after k steps, their
        hidden probabilities, and ``p(v | h_sample)``, the one-step reconstruction of the batch.
        """
        h = h_sample
        if self.persistent:
            if self._chain is None:  # scikit-learn's start: hidden units all off
                self._chain = np.zeros((self.batch_size, self.n_hidden), self.dtype)
            h = self._chain
        v_recon = None
        for step in range(self.k):
            v_probs, v_model = self._sample_visible(h)
            if step == 0 and not self.persistent:
                v_recon = v_probs
            if step == self.k - 1 and not self.persistent:
                # the last hidden samples are not needed
                h_model = kernels.gibbs_sample(self._hidden_pre_activation(v_model),
                                               self.b_hidden.data)[0]
            else:
                h_model, h = self._sample_hidden(v_model)
        if self.persistent:
            self._chain = h
            v_recon = self._visible_probs(h_sample)
        return v_model, h_model, v_recon

    def _cd_update(self, v_data: np.ndarray) -> float:
        """One CD/PCD update from a batch; returns its summed squared reconstruction error."""
        h_data, h_sample = self._sample_hidden(v_data)
        v_model, h_model, v_recon = self._negative_phase(h_sample)
        self._step(*self._stacked(v_data, h_data, v_model, h_model, self.lr))
        diff = (v_data - v_recon).ravel()
        return float(diff @ diff)

    def _stacked(self, v_data: np.ndarray, h_data: np.ndarray, v_model: np.ndarray,
                 h_model: np.ndarray, lr: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The statistics of both phases stacked, so that one product gives the descent step
        ``-lr * d/dtheta [mean F(v_data) - mean F(v_model)]``: returns ``(v_both, h_both,
        row_weights)`` with ``v_both^T h_both`` the step of W, ``row_weights @ v_both`` that of
        b_visible and ``h_both.sum(axis=0)`` that of b_hidden.
        """
        # [v_data; v_model]^T [h_data * lr / B; -h_model * lr / B']: the scale is folded into
        # the small factor, and the visible biases come from the same rows.
        b, b_model = len(v_data), len(v_model)
        pos, neg = lr / b, -lr / b_model
        v_both = np.empty((b + b_model, self.n_visible), self.dtype)
        v_both[:b] = v_data
        v_both[b:] = v_model
        h_both = np.empty((b + b_model, self.n_hidden), self.dtype)
        np.multiply(h_data, pos, out=h_both[:b])
        np.multiply(h_model, neg, out=h_both[b:])
        row_weights = np.full(b + b_model, neg, self.dtype)
        row_weights[:b] = pos
        return v_both, h_both, row_weights

    def _step(self, v_both: np.ndarray, h_both: np.ndarray, row_weights: np.ndarray) -> None:
        """Apply the descent step of :meth:`_stacked` with momentum and weight decay:
        ``velocity = momentum * velocity + step - lr * weight_decay * W``; ``param += velocity``
        (without momentum ``W *= 1 - lr * weight_decay``, then ``param += step``).

        The step of W is added by ``kernels.sparse_rank_update`` straight into W (or into its
        velocity): the visible rows are mostly zeros, and the gradient is never stored.
        """
        W = self.W.data
        params = (W, self.b_visible.data, self.b_hidden.data)
        for tensor in (self.W, self.b_visible, self.b_hidden):
            tensor._bump_version()  # the update below writes their arrays in place
        bias_steps = (row_weights @ v_both, h_both.sum(axis=0))
        decay = self.lr * self.weight_decay
        if not self.momentum:
            if decay:
                W *= 1 - decay
            kernels.sparse_rank_update(W, v_both, h_both)
            for param, step in zip(params[1:], bias_steps):
                param += step
            return
        if self._velocity is None:
            self._velocity = [np.zeros_like(p) for p in params]
        for velocity in self._velocity:
            velocity *= self.momentum
        kernels.sparse_rank_update(self._velocity[0], v_both, h_both)
        if decay:
            self._velocity[0] -= decay * W
        for velocity, step in zip(self._velocity[1:], bias_steps):
            velocity += step
        for param, velocity in zip(params, self._velocity):
            param += velocity

    def cd_gradient(self, v_data: Any, v_model: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The contrastive-divergence gradient for (W, b_visible, b_hidden), as numpy arrays.

        It is the gradient of ``mean F(v_data) - mean F(v_model)`` with the negative samples
        ``v_model`` held fixed; the training update is ``param -= lr * grad``::

            dW   = v_model^T p(h|v_model) / B'  -  v_data^T p(h|v_data) / B
            db_v = mean(v_model) - mean(v_data)
            db_h = mean p(h|v_model) - mean p(h|v_data)

        ``(rbm.free_energy(v).mean() - rbm.free_energy(v_neg).mean()).backward()`` leaves the
        same numbers in ``W.grad``, ``b_visible.grad`` and ``b_hidden.grad``.
        """
        v_data = self._check("cd_gradient", v_data)
        v_model = self._check("cd_gradient", v_model)
        v_both, h_both, row_weights = self._stacked(v_data, self._hidden_probs(v_data), v_model,
                                                    self._hidden_probs(v_model), -1.0)
        return v_both.T @ h_both, row_weights @ v_both, h_both.sum(axis=0)

    # -- inference ----------------------------------------------------------------------------
    def forward(self, v: Any) -> ag.Tensor:
        """``p(h = 1 | v) = sigmoid(v @ W + b_hidden)`` as a differentiable Tensor."""
        return ag.sigmoid(ensure_tensor(v) @ self.W + self.b_hidden)

    def transform(self, X: Any) -> np.ndarray:
        """The hidden probabilities ``p(h = 1 | v)`` of each row: features, shape (n, n_hidden)."""
        return self._hidden_probs(self._check("transform", X))

    def reconstruct(self, X: Any) -> np.ndarray:
        """The mean-field reconstruction ``p(v = 1 | h = p(h = 1 | v))``, deterministic."""
        return self._visible_probs(self._hidden_probs(self._check("reconstruct", X)))

    def reconstruction_error(self, X: Any) -> float:
        """Mean squared error per feature between ``X`` and :meth:`reconstruct` of ``X``."""
        X = self._check("reconstruction_error", X)
        return float(np.mean((X - self._visible_probs(self._hidden_probs(X))) ** 2))

    def gibbs(self, v: Any, steps: int = 1) -> np.ndarray:
        """Run ``steps`` Gibbs steps v -> h -> v from ``v``; return the visible samples (0/1).

        Draws from the RBM's own random stream (seeded by ``seed``).
        """
        v = self._check("gibbs", v)
        for _ in range(positive_int("RBM.gibbs", "steps", steps)):
            v = self._sample_visible(self._sample_hidden(v)[1])[1]
        return v

    def sample(self, n_samples: int, steps: int = 1000, probabilities: bool = False
               ) -> np.ndarray:
        """``n_samples`` fantasies: ``steps`` Gibbs steps from uniformly random binary images.

        Returns binary samples, or with ``probabilities=True`` the visible probabilities of the
        last step (the same chains, less noisy to look at).
        """
        n_samples = positive_int("RBM.sample", "n_samples", n_samples)
        steps = positive_int("RBM.sample", "steps", steps)
        v = (self._rng.random((n_samples, self.n_visible)) < 0.5).astype(self.dtype)
        if steps > 1:
            v = self.gibbs(v, steps - 1)
        probs, v = self._sample_visible(self._sample_hidden(v)[1])
        return probs if probabilities else v

    def free_energy(self, v: Any) -> ag.Tensor:
        """``F(v) = -v.b_visible - sum_j softplus(b_hidden + v W)_j`` per row, shape (n,).

        An autograd_core expression in the parameters (and in ``v`` if it is a Tensor that
        requires grad), so ``backward()`` differentiates it. Lower free energy means higher
        probability: ``p(v) = exp(-F(v)) / Z``.
        """
        if not (isinstance(v, ag.Tensor) and v.requires_grad):
            v = ag.Tensor(self._check("free_energy", v))
        elif v.ndim != 2 or v.shape[1] != self.n_visible:
            raise ag.ShapeError(f"RBM.free_energy: expected shape (n, {self.n_visible}), got "
                                f"{v.shape}")
        return -(v @ self.b_visible) - ag.softplus(v @ self.W + self.b_hidden).sum(axis=1)

    def score_samples(self, X: Any, n_features: int | None = None, seed: int | None = None
                      ) -> np.ndarray:
        """The log pseudo-likelihood of each row, **per feature** (so comparable across sizes).

        ``mean_i log p(v_i | v_-i)``, where ``log p(v_i | v_-i) = log sigmoid(F(v with bit i
        flipped) - F(v))``. By default every feature is flipped in turn (exact; cost
        O(n * n_visible * n_hidden)). With ``n_features=m``, ``m`` distinct features drawn per
        row (from a generator seeded by ``seed``) give an unbiased estimate; scikit-learn's
        ``BernoulliRBM.score_samples`` is the ``m = 1`` estimate multiplied by n_visible.
        Values are <= 0; a row of independent fair coins scores log(1/2) = -0.693.
        """
        X = self._check("score_samples", X)
        n, d = X.shape
        W, b_v = self.W.data, self.b_visible.data
        if n_features is None:
            cols = np.broadcast_to(np.arange(d), (n, d))
        else:
            m = positive_int("RBM.score_samples", "n_features", n_features)
            if m > d:
                raise ValueError(f"RBM.score_samples: n_features={m} exceeds the {d} features")
            rng = np.random.default_rng(seed)
            cols = np.argsort(rng.random((n, d)), axis=1)[:, :m]
        rows = np.arange(n)[:, None]
        pre = X @ W + self.b_hidden.data  # (n, h)
        sign = 1 - 2 * X[rows, cols]  # (n, m): +1 turns a bit on, -1 off
        out = np.empty(n, dtype=self.dtype)
        chunk = max(1, (1 << 22) // (cols.shape[1] * self.n_hidden))  # bounds the (c, m, h) array
        for s in range(0, n, chunk):
            sl = slice(s, s + chunk)
            flipped = pre[sl, None, :] + sign[sl, :, None] * W[cols[sl]]
            # F(flipped) - F(v), by the bits that change
            delta = -sign[sl] * b_v[cols[sl]] - (np.logaddexp(0, flipped)
                                                 - np.logaddexp(0, pre[sl, None, :])).sum(-1)
            out[sl] = -np.logaddexp(0, -delta).mean(axis=1)  # log sigmoid(delta)
        return out

    def score(self, X: Any, y: Any = None) -> float:
        """The mean of :meth:`score_samples`: the log pseudo-likelihood per feature."""
        return float(self.score_samples(X).mean())
