"""In-place optimizer steps, following torch.optim.SGD and torch.optim.Adam exactly.

SGD (``b`` is the momentum buffer, ``wd`` the weight decay)::

    g = grad + wd * p
    if momentum != 0:
        b = g                                       on the first step
        b = momentum * b + (1 - dampening) * g      afterwards
        g = g + momentum * b  if nesterov  else  b
    p = p - lr * g

Adam (``t`` counts steps from 1)::

    g = grad + wd * p                               (L2 penalty added to the gradient)
    m = m + (1 - beta1) * (g - m)                   (= beta1 m + (1 - beta1) g, as Tensor.lerp_)
    v = beta2 * v + (1 - beta2) * g * g
    v_max = max(v_max, v); v = v_max               (amsgrad only: the largest v so far)
    denom = sqrt(v) / sqrt(1 - beta2^t) + eps
    p = p - lr / (1 - beta1^t) * m / denom

Like PyTorch, the scalar factors (``1 - dampening``, the bias corrections, ``lr / (1 - beta1^t)``)
are computed once in Python float64 and then rounded to the parameter's dtype; the raw kernels
receive them ready-made, so float32 parameters are updated in float32 arithmetic as in PyTorch.
Both kernels flatten their arrays (C-contiguous views), so one compiled version fits every shape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._checks import FLOAT_DTYPES, float_input, inplace_buffer
from .registry import get, register

# The velocity of a momentum-free SGD step, the maximum of an Adam step without AMSGrad: never
# read, but numba needs an array.
_NO_BUFFER = {dtype: np.empty(0, dtype) for dtype in FLOAT_DTYPES}
_TINY = {dtype: np.finfo(dtype).tiny for dtype in FLOAT_DTYPES}  # the smallest normal number

# --- SGD --------------------------------------------------------------------------------------


def _sgd_update_loops(
    param, grad, velocity, lr, momentum, one_minus_dampening, weight_decay, nesterov, first_step
):
    for i in range(param.size):
        g = grad[i]
        if weight_decay != 0:  # skipped, not multiplied by 0, so an inf param stays out of g
            g = g + weight_decay * param[i]
        if momentum != 0:
            b = g if first_step else momentum * velocity[i] + one_minus_dampening * g
            velocity[i] = b
            g = g + momentum * b if nesterov else b
        param[i] = param[i] - lr * g


def _sgd_update_numpy(
    param, grad, velocity, lr, momentum, one_minus_dampening, weight_decay, nesterov, first_step
):
    g = grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if momentum != 0:
        if first_step:
            velocity[...] = g
        else:
            velocity *= momentum
            velocity += one_minus_dampening * g
        g = g + momentum * velocity if nesterov else velocity
    param -= lr * g


register("sgd_update", _sgd_update_loops, _sgd_update_numpy)


def sgd_update(
    param: np.ndarray,
    grad: np.ndarray,
    velocity: np.ndarray | None,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    first_step: bool,
) -> None:
    """One torch.optim.SGD step, in place on ``param`` and ``velocity`` (see the module docstring).

    ``velocity`` is the momentum buffer (same shape and dtype as ``param``); it may be None when
    ``momentum == 0``. Pass ``first_step=True`` on a buffer's first step: the buffer is then set to
    the gradient, as PyTorch does, instead of being decayed. ``param`` and ``velocity`` must be
    C-contiguous; ``grad`` may have any layout.
    """
    sgd_update_many([param], [grad], [velocity], lr, momentum, dampening, weight_decay, nesterov,
                    [first_step])


def sgd_update_many(
    params: Sequence[np.ndarray],
    grads: Sequence[np.ndarray],
    velocities: Sequence[np.ndarray | None],
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    first_steps: Sequence[bool],
) -> None:
    """:func:`sgd_update` for several parameters sharing the hyper-parameters (a param group).

    The scalar factors are prepared once per dtype instead of once per parameter, which is most
    of the Python cost of a step on small layers.
    """
    kernel = "sgd_update"
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(f"{kernel}: Nesterov momentum requires a momentum and zero dampening")
    raw = get(kernel)
    scalars: dict[np.dtype, tuple] = {}
    for param, grad, velocity, first_step in zip(params, grads, velocities, first_steps):
        flat_param, flat_grad = _param_and_grad(kernel, param, grad)
        dtype = flat_param.dtype
        if momentum != 0 or velocity is not None:
            if velocity is None:
                raise ValueError(f"{kernel}: momentum={momentum} needs a velocity buffer")
            velocity = _state_buffer(kernel, "velocity", velocity, flat_param, param.shape)
        else:
            velocity = _NO_BUFFER[dtype]  # never read: one argument type for numba either way
        factors = scalars.get(dtype)
        if factors is None:
            scalar = dtype.type
            factors = scalars[dtype] = (scalar(lr), scalar(momentum), scalar(1 - dampening),
                                        scalar(weight_decay), bool(nesterov))
        raw(flat_param, flat_grad, velocity, *factors, bool(first_step))


def _param_and_grad(kernel: str, param: np.ndarray, grad: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``param`` (updated in place) and ``grad`` checked, as flat C-contiguous arrays.

    This runs for every parameter of every step, so the common case (both C-contiguous, of one
    float dtype and shape, param writeable) is recognised in one expression; anything else goes
    through the full checks, which copy a non-contiguous grad or raise naming the problem.
    ``ravel`` of a C-contiguous array is a view (and cheaper than ``reshape(-1)``).
    """
    if param.__class__ is np.ndarray and grad.__class__ is np.ndarray \
            and param.dtype in FLOAT_DTYPES and grad.dtype == param.dtype \
            and grad.shape == param.shape:
        param_flags = param.flags
        if param_flags.c_contiguous and param_flags.writeable and grad.flags.c_contiguous:
            return param.ravel(), grad.ravel()
    param = inplace_buffer(kernel, "param", param)
    grad = float_input(kernel, "grad", grad, dtype=param.dtype, shape=param.shape)
    return param.ravel(), grad.ravel()


# --- Adam -------------------------------------------------------------------------------------


def _adam_update_loops(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step_size,
    one_minus_beta1,
    beta2,
    one_minus_beta2,
    bias_correction2_sqrt,
    eps,
    weight_decay,
    max_exp_avg_sq,
    amsgrad,
    tiny,
):
    zero = tiny - tiny  # a zero of the arrays' dtype, so that m and v keep their type
    for i in range(param.size):
        g = grad[i]
        if weight_decay != 0:
            g = g + weight_decay * param[i]
        m = exp_avg[i] + one_minus_beta1 * (g - exp_avg[i])
        v = beta2 * exp_avg_sq[i] + one_minus_beta2 * g * g
        # Subnormal moments (a zero gradient decays m by beta1 every step) cost the CPU ~100
        # cycles per operation in every later step: flush them to zero.
        if abs(m) < tiny:
            m = zero
        if v < tiny:
            v = zero
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            if not max_exp_avg_sq[i] >= v:  # torch.maximum: a NaN on either side wins
                max_exp_avg_sq[i] = v
            v = max_exp_avg_sq[i]
        denom = math.sqrt(v) / bias_correction2_sqrt + eps
        param[i] = param[i] - step_size * m / denom


def _adam_update_numpy(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step_size,
    one_minus_beta1,
    beta2,
    one_minus_beta2,
    bias_correction2_sqrt,
    eps,
    weight_decay,
    max_exp_avg_sq,
    amsgrad,
    tiny,
):
    g = grad
    if weight_decay != 0:
        g = g + weight_decay * param
    exp_avg += one_minus_beta1 * (g - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += one_minus_beta2 * g * g
    np.copyto(exp_avg, 0, where=np.abs(exp_avg) < tiny)  # subnormals to zero, as the loops do
    np.copyto(exp_avg_sq, 0, where=exp_avg_sq < tiny)
    v = exp_avg_sq
    if amsgrad:
        v = np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    denom = np.sqrt(v) / bias_correction2_sqrt + eps
    param -= step_size * exp_avg / denom


register("adam_update", _adam_update_loops, _adam_update_numpy)


def adam_update(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    step: int,
    max_exp_avg_sq: np.ndarray | None = None,
) -> None:
    """One torch.optim.Adam step, in place on ``param``, ``exp_avg``, ``exp_avg_sq``.

    ``step`` is the number of this step, counting from 1 (PyTorch increments its counter before
    the update). ``param`` and the moment buffers must be C-contiguous arrays of one dtype;
    ``grad`` may have any layout. Passing ``max_exp_avg_sq`` (the running maximum of
    ``exp_avg_sq``, zeros at first) turns on AMSGrad, as ``Adam(amsgrad=True)``.

    Moments below the smallest normal number of the dtype (``np.finfo(dtype).tiny``) are
    stored as zero: arithmetic on subnormals is ~100x slower on x86, and a gradient that stays
    zero (dead units, a fitted batch) would otherwise decay ``exp_avg`` into them for good.
    """
    adam_update_many([param], [grad], [exp_avg], [exp_avg_sq], lr, beta1, beta2, eps,
                     weight_decay, [step],
                     None if max_exp_avg_sq is None else [max_exp_avg_sq])


def adam_update_many(
    params: Sequence[np.ndarray],
    grads: Sequence[np.ndarray],
    exp_avgs: Sequence[np.ndarray],
    exp_avg_sqs: Sequence[np.ndarray],
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    steps: Sequence[int],
    max_exp_avg_sqs: Sequence[np.ndarray] | None = None,
) -> None:
    """:func:`adam_update` for several parameters sharing the hyper-parameters (a param group);
    the scalar factors are prepared once per (dtype, step). ``max_exp_avg_sqs`` turns on
    AMSGrad."""
    kernel = "adam_update"
    raw = get(kernel)
    scalars: dict[tuple[np.dtype, int], tuple] = {}
    amsgrad = max_exp_avg_sqs is not None
    maxima = max_exp_avg_sqs if amsgrad else [None] * len(params)
    for param, grad, exp_avg, exp_avg_sq, step, max_sq in zip(params, grads, exp_avgs,
                                                                exp_avg_sqs, steps, maxima):
        if step < 1:
            raise ValueError(f"{kernel}: step counts from 1, got {step}")
        flat_param, flat_grad = _param_and_grad(kernel, param, grad)
        dtype, shape = flat_param.dtype, param.shape
        exp_avg = _state_buffer(kernel, "exp_avg", exp_avg, flat_param, shape)
        exp_avg_sq = _state_buffer(kernel, "exp_avg_sq", exp_avg_sq, flat_param, shape)
        max_sq = _NO_BUFFER[dtype] if max_sq is None else \
            _state_buffer(kernel, "max_exp_avg_sq", max_sq, flat_param, shape)
        factors = scalars.get((dtype, step))
        if factors is None:
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            scalar = dtype.type
            factors = scalars[dtype, step] = (
                scalar(lr / bias_correction1),
                scalar(1 - beta1),
                scalar(beta2),
                scalar(1 - beta2),
                scalar(math.sqrt(bias_correction2)),
                scalar(eps),
                scalar(weight_decay),
            )
        raw(flat_param, flat_grad, exp_avg, exp_avg_sq, *factors, max_sq, amsgrad, _TINY[dtype])


def _state_buffer(kernel: str, name: str, buffer: np.ndarray, flat_param: np.ndarray,
            shape: tuple[int, ...]) -> np.ndarray:
    """A state buffer (momentum, moments) of the parameter's dtype and ``shape``, updated in
    place, as a flat view; the common case is recognised at once, as in :func:`_param_and_grad`."""
    if buffer.__class__ is np.ndarray and buffer.dtype == flat_param.dtype \
            and buffer.shape == shape:
        flags = buffer.flags
        if flags.c_contiguous and flags.writeable:
            return buffer.ravel()
    return inplace_buffer(kernel, name, buffer, dtype=flat_param.dtype, shape=shape).ravel()
