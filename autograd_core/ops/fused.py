"""Fused ops: a whole dense layer, or softmax + cross-entropy, as one node of the graph.

A dense layer written with the basic ops is four nodes (matmul, transpose, add, activation), each
making a temporary array and paying the engine's per-node cost. Here the layer is one node whose
forward runs the matmul on numpy's BLAS and then bias + activation in one pass, and whose backward
runs the activation's derivative and the bias gradient in one pass before the two matmuls::

    linear:   z = x @ W.T + b,  out = act(z)
              dz = grad * act'(out)    (from the output: relu [out > 0], sigmoid out (1 - out),
                                        tanh 1 - out**2, identity 1)
              dx = dz @ W,   dW = dz.T @ x,   db = sum over rows of dz

    softmax_cross_entropy:   loss_i = logsumexp(x_i) - x_i[y_i]
              d loss_i / d x_i = softmax(x_i) - onehot(y_i)

The one-pass loops are the Numba kernels of ``autograd_core.kernels`` (or their numpy twins with
``AUTOGRAD_CORE_JIT=0``). Sigmoid and tanh are the exception in the forward pass: numpy's SIMD
``tanh`` and ``exp`` beat the scalar libm calls that Numba compiles to (``python -m bench``
measures both), so those run as numpy ufuncs on the matmul's output. All of them evaluate the
activations and their derivatives with the one set of formulas in ``autograd_core.formulas``.

Gradients of gradients: with ``create_graph=True`` the engine hands ``backward`` tensors instead
of arrays. The formulas above are then composed from differentiable ops (matmul, mul, softmax ...)
instead of the kernels, so second derivatives flow through them as through any other op.

>>> x, w, b = ag.randn(4, 3), ag.randn(2, 3, requires_grad=True), ag.zeros(2, requires_grad=True)
>>> y = ag.linear(x, w, b, activation="relu")          # one node: y.grad_fn.name == "linear"
>>> loss = ag.softmax_cross_entropy(y, [0, 1, 1, 0])    # one node: "softmax_cross_entropy"
>>> loss.backward()
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import formulas, kernels
from ..errors import DTypeError, ShapeError
from ..function import Function
from ..kernels._checks import FLOAT_DTYPES
from ..tensor import Tensor
from .registry import register

_REDUCTIONS = ("mean", "sum", "none")


def _to_tensor(value: Any) -> Tensor:
    """``value`` as a Tensor, converted with ``ag.tensor``'s dtype rules when it is not one."""
    return value if isinstance(value, Tensor) else Tensor(value)


def _kernel(name: str, dtype: np.dtype) -> Any:
    """The raw kernel ``name``; dtypes the loops don't take (float16) get the numpy twin."""
    return kernels.get(name, None if dtype in FLOAT_DTYPES else False)


def _bias_act(z: np.ndarray, bias: np.ndarray | None, act: str) -> np.ndarray:
    """``act(z + bias)`` as a C-contiguous array, reusing ``z`` (the matmul's fresh output, C- or
    F-contiguous, see ``kernels.matmul_nt``) where numpy works in place."""
    if bias is not None and (act in ("identity", "relu") or not z.flags.c_contiguous):
        # One kernel pass adds the bias (and relu), and writes C order whatever z's layout.
        fused = act if act in ("identity", "relu") else "identity"
        z = _kernel("bias_act_forward", z.dtype)(z, bias, kernels.ACTIVATION_CODES[fused])
        if act == fused:
            return z
    elif not z.flags.c_contiguous:
        z = np.ascontiguousarray(z)
    elif bias is not None:
        np.add(z, bias, out=z)
    if act == "relu":
        return formulas.relu(z)
    if act == "tanh":
        return np.tanh(z, out=z)
    if act == "sigmoid":
        return formulas.sigmoid_array(z)
    return z


class Linear(Function):
    """out = act(x @ weight.T + bias), one node; see the module docstring for the backward.

    ``x`` has shape (..., in), ``weight`` (out, in) as in PyTorch, ``bias`` (out,) or absent.
    """

    name = "linear"

    @property
    def gradient_rule(self) -> tuple[str, ...]:
        """dL/dx = dL/dz W,  dL/dW = dL/dz^T x,  dL/db = dL/dz summed over the batch, with
        dL/dz = dL/dy * act'(z) (just dL/dy without activation)."""
        dz = "{grad}" if self.activation == "identity" else f"({{grad}} * {self.activation}')"
        return f"{dz} @ {{1}}", f"{dz}^T @ {{0}}", f"{dz} summed over the batch axis 0"

    def forward(self, x, weight, bias=None, *, activation):
        self.activation = activation
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        z = kernels.matmul_nt(x2, weight)
        if bias is not None and (bias.dtype != z.dtype or not bias.flags.c_contiguous):
            bias = np.ascontiguousarray(bias, dtype=z.dtype)
        out = _bias_act(z, bias, activation)
        if x.ndim != 2:
            out = out.reshape(*x.shape[:-1], weight.shape[0])
        self.save_for_backward(x, weight, out)
        return out

    def backward(self, grad, x, weight, out):
        if isinstance(grad, Tensor):
            return self._backward_composed(grad, x, weight, out)
        needs = self.needs_input_grad
        flat = x.ndim == 2  # the common case: no reshapes
        if not flat:
            n_out = weight.shape[0]
            grad, out = grad.reshape(-1, n_out), out.reshape(-1, n_out)
        has_bias = len(needs) == 3
        grad_bias = None
        if self.activation == "identity":
            grad_z = grad
            if has_bias and needs[2]:
                grad_bias = grad.sum(axis=0)
        else:
            if grad.dtype != out.dtype or not grad.flags.c_contiguous:
                grad = np.ascontiguousarray(grad, dtype=out.dtype)
            grad_z, grad_bias = _kernel("bias_act_backward", out.dtype)(
                grad, out, kernels.ACTIVATION_CODES[self.activation])
        grad_x = grad_weight = None
        if needs[0]:
            grad_x = kernels.matmul(grad_z, weight)
            if not flat:
                grad_x = grad_x.reshape(x.shape)
        if needs[1]:
            grad_weight = kernels.matmul(grad_z.T, x if flat else x.reshape(-1, x.shape[-1]))
        return (grad_x, grad_weight, grad_bias) if has_bias else (grad_x, grad_weight)

    def _backward_composed(self, grad, x, weight, out):
        """The same formulas on tensors (create_graph), so that they can be differentiated."""
        needs = self.needs_input_grad
        act = self.activation
        if act == "relu":
            grad = grad * formulas.relu_grad(out.data)
        elif act == "sigmoid":
            grad = grad * formulas.sigmoid_grad(out)
        elif act == "tanh":
            grad = grad * formulas.tanh_grad(out)
        grad_z = grad.reshape(-1, weight.shape[0])
        grad_x = (grad_z @ weight).reshape(x.shape) if needs[0] else None
        grad_weight = grad_z.T @ x.reshape(-1, x.shape[-1]) if needs[1] else None
        if len(needs) == 3:
            return grad_x, grad_weight, grad_z.sum(axis=0) if needs[2] else None
        return grad_x, grad_weight


@register()
def linear(x: Any, weight: Tensor, bias: Tensor | None = None,
           activation: str | None = None) -> Tensor:
    """``act(x @ weight.T + bias)`` as one node of the graph (PyTorch's ``F.linear`` + activation).

    ``x``: (..., in) (1-D and N-D inputs work on the last axis); ``weight``: (out, in);
    ``bias``: (out,) or None; ``activation``: None/"identity", "relu", "sigmoid" or "tanh".
    The dtypes follow numpy's promotion (a float64 input to float32 weights gives float64); an
    integer input is converted to the weight's dtype.

    >>> w = ag.tensor([[1.0, -1.0]], requires_grad=True)
    >>> ag.linear(ag.tensor([[2.0, 1.0]]), w, activation="relu")    # tensor([[1.]])
    """
    x, weight = _to_tensor(x), _to_tensor(weight)
    act = "identity" if activation is None else activation
    if act not in kernels.ACTIVATION_CODES:
        raise ValueError(f"linear: unknown activation {activation!r}; use None or one of "
                         f"{list(kernels.ACTIVATION_CODES)}")
    w, data = weight.data, x.data  # the arrays' attributes: cheaper than the Tensor properties
    if w.ndim != 2 or w.dtype.kind != "f":
        raise ShapeError(f"linear: weight must be a 2-D float (out_features, in_features) "
                         f"tensor, got shape {w.shape} {w.dtype}")
    if data.ndim == 0 or data.shape[-1] != w.shape[1]:
        raise ShapeError(f"linear: input of shape {data.shape} {data.dtype} does not fit weight "
                         f"of shape {w.shape}: the input's last dimension must be {w.shape[1]}")
    if data.dtype.kind != "f":
        if data.dtype.kind not in "biu":
            raise DTypeError(f"linear: input must be numeric, got {data.dtype}")
        x = Tensor._wrap(data.astype(w.dtype))
    if bias is None:
        return Linear.apply(x, weight, activation=act)
    bias = _to_tensor(bias)
    b = bias.data
    if b.shape != (w.shape[0],) or b.dtype.kind != "f":
        raise ShapeError(f"linear: bias must be a float tensor of shape ({w.shape[0]},), "
                         f"got shape {b.shape} {b.dtype}")
    return Linear.apply(x, weight, bias, activation=act)


class SoftmaxCrossEntropy(Function):
    """loss_i = logsumexp(logits_i) - logits_i[labels_i], reduced; one node.

    d loss_i / d logits_i = softmax(logits_i) - onehot(labels_i), times the incoming gradient of
    row i (1/N each for the mean).
    """

    name = "softmax_cross_entropy"

    def forward(self, logits, *, labels, reduction):
        self.reduction = reduction
        loss, probs = _kernel("softmax_xent_forward", logits.dtype)(np.ascontiguousarray(logits),
                                                                    labels)
        self.save_for_backward(logits, probs, labels)
        if reduction == "none":
            return loss
        total = loss.sum()  # not loss.mean(): numpy's mean costs several microseconds more
        if reduction == "mean":
            total = total / len(loss) if len(loss) else np.nan  # PyTorch: nan for no rows
        return np.asarray(total, dtype=loss.dtype)

    def backward(self, grad, logits, probs, labels):
        n = len(labels)
        if isinstance(grad, Tensor):  # create_graph: softmax of the logits tensor, recorded
            onehot = np.zeros(logits.shape, dtype=logits.dtype)
            onehot[np.arange(n), labels] = 1
            rows = grad.reshape(-1, 1) / n if self.reduction == "mean" else grad.reshape(-1, 1)
            return (logits.softmax(axis=1) - onehot) * rows
        if self.reduction == "none":
            rows = np.ascontiguousarray(grad, dtype=probs.dtype)
        else:
            rows = np.full(n, grad / n if self.reduction == "mean" else grad, dtype=probs.dtype)
        return _kernel("softmax_xent_backward", probs.dtype)(probs, labels, rows)


@register()
def softmax_cross_entropy(logits: Tensor, labels: Any, reduction: str = "mean") -> Tensor:
    """Cross-entropy of ``softmax(logits)`` against integer class ``labels``, as one node.

    ``logits``: (N, C) floats; ``labels``: N integers in [0, C) (array, list or int Tensor);
    ``reduction``: "mean" (over rows), "sum" or "none" (one loss per row). Stable for any logits
    (shifted by the row maximum). PyTorch's ``F.cross_entropy`` with integer targets.

    >>> logits = ag.tensor([[2.0, 0.0], [0.0, 2.0]], requires_grad=True)
    >>> ag.softmax_cross_entropy(logits, [0, 0]).item()       # (0.127 + 2.127) / 2 = 1.127
    """
    logits = _to_tensor(logits)
    if logits.ndim != 2 or logits.dtype.kind != "f":
        raise ShapeError(f"softmax_cross_entropy: logits must be a 2-D float (N, C) tensor, got "
                         f"shape {logits.shape} {logits.dtype}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"softmax_cross_entropy: reduction must be one of {list(_REDUCTIONS)}, "
                         f"got {reduction!r}")
    n, c = logits.shape
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if labels.dtype.kind not in "iu":
        raise DTypeError(f"softmax_cross_entropy: labels must be integers, got {labels.dtype} "
                         f"(shape {labels.shape})")
    if labels.shape != (n,):
        raise ShapeError(f"softmax_cross_entropy: logits of shape {logits.shape} need {n} labels "
                         f"(shape ({n},)), got shape {labels.shape}")
    if not kernels.labels_in_range(labels, c):
        bad = labels[(labels < 0) | (labels >= c)][0]
        raise ValueError(f"softmax_cross_entropy: label {bad} is out of range for {c} classes "
                         f"(logits of shape {logits.shape})")
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    return SoftmaxCrossEntropy.apply(logits, labels=labels, reduction=reduction)
