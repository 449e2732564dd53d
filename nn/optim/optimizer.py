"""Optimizers with torch.optim's names, arguments and exact update rules.

Each one updates ``p.data`` in place (outside the graph) for every parameter whose ``.grad`` is
not None, so frozen parameters (``requires_grad_(False)``) are left alone. Parameters are given
as an iterable of Parameters, or as a list of dicts ("param groups") that override the defaults::

    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt = nn.optim.Adam([{"params": model[0].parameters(), "lr": 1e-4},
                         {"params": model[2].parameters()}], lr=1e-3)

    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

The formulas (``g`` the gradient, ``t`` the step number from 1) are in each class's docstring;
``maximize=True`` (every optimizer) ascends instead, using ``g = -grad``. Training resumes
exactly from ``opt.state_dict()`` / ``opt.load_state_dict(...)`` (PyTorch's layout: per-parameter
state under the parameter's position counted over the groups, then the groups' settings).
SGD and Adam (AdamW) run them as one fused pass per parameter, the scalars prepared once per group
(``autograd_core.kernels.sgd_update_many`` / ``adam_update_many``: Numba loops, or their numpy
twins with ``AUTOGRAD_CORE_JIT=0``); Adagrad and RMSprop in numpy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import kernels
from autograd_core.capture import active_recorder

from .._checks import non_negative_float
from ..module import zero_grads

ParamsArg = Iterable[ag.Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad`` and ``step``.

    Every subclass takes ``maximize`` (keyword-only, as in PyTorch). Subclasses define
    ``_check(group)`` (validate hyper-parameters) and
    ``_update(param, grad, group, state)`` (one step for one parameter, in place), or instead
    ``_update_group(params, grads, group, states)`` (the step for all of a group's parameters at
    once, as SGD and Adam do to hand the whole group to one fused kernel call).
    """

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}  # keyed by id(param)
        if isinstance(params, ag.Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Parameters "
                            "(e.g. model.parameters()), got a single Tensor")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group ``{"params": [...], **hyper-parameters}``; missing ones take the defaults."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, ag.Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, ag.Tensor) or p.dtype.kind != "f" or not p.is_leaf:
                what = f"a {p.dtype} non-leaf Tensor" if isinstance(p, ag.Tensor) \
                    else type(p).__name__
                raise TypeError(f"{name}: parameter {i} must be a floating-point leaf Tensor "
                                f"(an nn.Parameter), got {what}")
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} (shape {p.shape}) appears twice; "
                                 "a parameter may belong to one group only")
            seen.add(id(p))
        # the schedulers keep their own entries in the groups, as PyTorch's do
        unknown = set(group) - set(self.defaults) - {"params", *_SCHEDULER_KEYS}
        if unknown:
            raise TypeError(f"{name}: unknown hyper-parameter(s) {sorted(unknown)}; "
                            f"expected some of {sorted(self.defaults)}")
        full = {**self.defaults, **group, "params": params}
        self._check(full)
        self.param_groups.append(full)

    def _check(self, group: dict[str, Any]) -> None:
        """Raise ValueError naming the optimizer for an invalid hyper-parameter."""
        _check_non_negative(self, group, "lr", "weight_decay")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``.grad = None``, or zeros if not ``set_to_none``."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` (optional) recomputes and
        returns the loss first, as in PyTorch."""
        recorder = active_recorder()
        if recorder is not None:  # inside ag.jit: the replay calls step() again
            if closure is not None:
                recorder.refuse(f"{type(self).__name__}.step(closure)")
            recorder.effect(f"{type(self).__name__}.step", self.step, self._snapshot)
        loss = None
        if closure is not None:
            with ag.enable_grad():
                loss = closure()
        all_states = self.state
        for group in self.param_groups:
            params, grads, states = [], [], []
            maximize = group.get("maximize")
            for p in group["params"]:  # runs for every parameter of every step: kept lean
                if p.grad is None:
                    continue
                grad, data = p.grad.data, p.data
                if grad.shape != data.shape:
                    raise ag.ShapeError(f"{type(self).__name__}.step: a gradient of shape "
                                        f"{grad.shape} for a parameter of shape {data.shape}")
                flags = data.flags
                if not (flags.c_contiguous and flags.writeable):
                    data = p.data = np.array(data, order="C")  # own, contiguous memory
                state = all_states.get(id(p))
                if state is None:
                    state = all_states[id(p)] = {"step": 0}
                state["step"] = state.get("step", 0) + 1
                p._bump_version()  # the update below writes p.data in place
                params.append(data)
                if grad.dtype != data.dtype:
                    grad = grad.astype(data.dtype)
                grads.append(-grad if maximize else grad)
                states.append(state)
            if params:
                self._update_group(params, grads, group, states)
        return loss

    def _snapshot(self) -> Callable[[], None]:
        """A function that puts the per-parameter state back as it is now (ag.jit's check)."""
        saved = copy.deepcopy(self.state)
        return lambda: setattr(self, "state", saved)

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as PyTorch lays it out, copied (numpy arrays)::

            {"state": {0: {"step": 3, "exp_avg": array, ...}, 1: {...}},
             "param_groups": [{"lr": 0.001, ..., "params": [0, 1]}, {..., "params": [2]}]}

        Parameters are numbered in order over all groups; ``state`` holds only those that have
        been updated.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[key]: {name: copy.deepcopy(value) for name, value in values.items()}
                 for key, values in self.state.items() if key in index}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore ``state_dict()``'s output (the same parameters, grouped the same way).

        Arrays are copied and cast to their parameter's dtype; nothing changes unless the whole
        state fits (group sizes, array shapes, hyper-parameters). A ``torch.optim`` optimizer's
        state_dict of CPU tensors loads too, so training begun in PyTorch continues here.
        """
        name = type(self).__name__
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}.load_state_dict: expected a dict with keys 'state' and "
                             "'param_groups' (from Optimizer.state_dict())")
        saved_groups = list(state_dict["param_groups"])
        sizes = [len(g["params"]) for g in self.param_groups]
        saved_sizes = [len(g.get("params", ())) for g in saved_groups]
        if sizes != saved_sizes:
            raise ValueError(f"{name}.load_state_dict: the saved state has groups of "
                             f"{saved_sizes} parameters, this optimizer {sizes}")
        by_index = {}
        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            by_index.update(zip(saved["params"], group["params"]))
            new = {**copy.deepcopy({k: v for k, v in saved.items() if k != "params"}),
                   "params": group["params"]}
            missing = set(self.defaults) - set(new)
            if missing:
                raise ValueError(f"{name}.load_state_dict: a saved group lacks {sorted(missing)}")
            self._check(new)
            groups.append(new)
        state = {}
        for index, values in state_dict["state"].items():
            param = by_index.get(int(index))
            if param is None:
                raise ValueError(f"{name}.load_state_dict: state for parameter {index}, which "
                                 "no group lists")
            state[id(param)] = {key: _state_value(name, key, value, param)
                                for key, value in values.items() if value is not None}
        self.param_groups[:] = groups
        self.state = state

    def _update_group(self, params: list[np.ndarray], grads: list[np.ndarray],
                      group: dict[str, Any], states: list[dict[str, Any]]) -> None:
        """One step for every parameter of ``group`` that has a gradient, in place."""
        for param, grad, state in zip(params, grads, states):
            self._update(param, grad, group, state)

    def _update(self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items())
                      if key != "params"]
        return "\n".join(lines) + "\n)"


# What LRScheduler and OneCycleLR store in the groups (PyTorch stores the same names there).
_SCHEDULER_KEYS = {"initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"}


def _state_value(name: str, key: str, value: Any, param: ag.Tensor) -> Any:
    """A copy of one saved state entry, an array cast to the parameter's dtype and checked."""
    if key == "step":
        return int(value)
    # np.asarray also reads a torch CPU tensor
    value = np.array(value.data if isinstance(value, ag.Tensor) else np.asarray(value), copy=True)
    if value.shape != param.shape:
        raise ValueError(f"{name}.load_state_dict: state {key!r} has shape {value.shape}, its "
                         f"parameter {param.shape}")
    return np.ascontiguousarray(value, dtype=param.dtype)


def _check_non_negative(opt: Optimizer, group: dict[str, Any], *keys: str) -> None:
    for key in keys:
        non_negative_float(type(opt).__name__, key, group[key])


def _buffer(state: dict[str, Any], key: str, like: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """The state array ``key``, created as ``fill`` like the parameter on first use."""
    if key not in state:
        state[key] = np.full_like(like, fill)
    return state[key]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov and weight decay::

        g = grad + weight_decay * p
        if momentum != 0:
            b = g                                     (step 1)
            b = momentum * b + (1 - dampening) * g    (later steps)
            g = g + momentum * b   if nesterov   else   b
        p = p - lr * g
    """

    def __init__(self, params: ParamsArg, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov,
                                  "maximize": maximize})

    def _check(self, group: dict[str, Any]) -> None:
        _check_non_negative(self, group, "lr", "momentum", "dampening", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")

    def _update_group(self, params, grads, group, states):
        first_steps = ["momentum_buffer" not in state for state in states]
        if group["momentum"] != 0:
            for param, state, first_step in zip(params, states, first_steps):
                if first_step:
                    state["momentum_buffer"] = np.empty_like(param)
        kernels.sgd_update_many(params, grads, [state.get("momentum_buffer") for state in states],
                                group["lr"], group["momentum"], group["dampening"],
                                group["weight_decay"], group["nesterov"], first_steps)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with PyTorch's weight decay (an L2 term added to the gradient)::

        g = grad + weight_decay * p          (AdamW instead: p = p * (1 - lr * weight_decay))
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        v_max = max(v_max, v);  v = v_max     (amsgrad=True only)
        p = p - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)

    ``decoupled_weight_decay=True`` is AdamW (as in PyTorch's Adam).
    """

    def __init__(self, params: ParamsArg, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad,
                                  "maximize": maximize,
                                  "decoupled_weight_decay": decoupled_weight_decay})

    def _check(self, group: dict[str, Any]) -> None:
        _check_non_negative(self, group, "lr", "eps", "weight_decay")
        betas = tuple(group["betas"])
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"{type(self).__name__}: betas must be two numbers in [0, 1), "
                             f"got {group['betas']!r}")

    def _update_group(self, params, grads, group, states):
        beta1, beta2 = group["betas"]
        weight_decay = group["weight_decay"]
        if group["decoupled_weight_decay"] and weight_decay != 0:
            for param in params:  # PyTorch's param.mul_(1 - lr * weight_decay), in param's dtype
                param *= param.dtype.type(1 - group["lr"] * weight_decay)
            weight_decay = 0.0
        maxima = [_buffer(state, "max_exp_avg_sq", p) for p, state in zip(params, states)] \
            if group["amsgrad"] else None
        kernels.adam_update_many(
            params, grads, [_buffer(state, "exp_avg", p) for p, state in zip(params, states)],
            [_buffer(state, "exp_avg_sq", p) for p, state in zip(params, states)], group["lr"],
            beta1, beta2, group["eps"], weight_decay, [state["step"] for state in states], maxima)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's rule and defaults::

        p = p * (1 - lr * weight_decay)       (weight_decay defaults to 0.01)

    then the Adam step without any L2 term in the gradient.

    >>> opt = nn.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    """

    def __init__(self, params: ParamsArg, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)


class Adagrad(Optimizer):
    """Adagrad: per-weight learning rates shrinking with the sum of squared gradients::

        lr_t = lr / (1 + (t - 1) * lr_decay)
        g = grad + weight_decay * p
        s = s + g**2                     (s starts at initial_accumulator_value)
        p = p - lr_t * g / (sqrt(s) + eps)
    """

    def __init__(self, params: ParamsArg, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False):
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "eps": eps, "maximize": maximize})

    def _check(self, group: dict[str, Any]) -> None:
        _check_non_negative(self, group, "lr", "lr_decay", "weight_decay",
                      "initial_accumulator_value", "eps")

    def _update(self, param, grad, group, state):
        g = grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * param
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = _buffer(state, "sum", param, group["initial_accumulator_value"])
        s += g * g
        param -= clr * g / (np.sqrt(s) + group["eps"])


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centered and with momentum::

        g = grad + weight_decay * p
        v = alpha * v + (1 - alpha) * g**2
        if centered:  a = alpha * a + (1 - alpha) * g;   v~ = v - a**2    else  v~ = v
        if momentum > 0:  b = momentum * b + g / (sqrt(v~) + eps);   p = p - lr * b
        else:             p = p - lr * g / (sqrt(v~) + eps)
    """

    def __init__(self, params: ParamsArg, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False):
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps,
                                  "weight_decay": weight_decay, "momentum": momentum,
                                  "centered": centered, "maximize": maximize})

    def _check(self, group: dict[str, Any]) -> None:
        _check_non_negative(self, group, "lr", "alpha", "eps", "weight_decay", "momentum")

    def _update(self, param, grad, group, state):
        alpha, eps = group["alpha"], group["eps"]
        g = grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * param
        v = _buffer(state, "square_avg", param)
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            a = _buffer(state, "grad_avg", param)
            a *= alpha
            a += (1 - alpha) * g
            denom = np.sqrt(v - a * a) + eps
        else:
            denom = np.sqrt(v) + eps
        if group["momentum"] > 0:
            b = _buffer(state, "momentum_buffer", param)
            b *= group["momentum"]
            b += g / denom
            param -= group["lr"] * b
        else:
            param -= group["lr"] * g / denom
