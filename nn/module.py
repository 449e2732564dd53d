"""ModuleBase and Parameter: the building blocks every layer and model is made of.

A ``Module`` holds ``Parameter``s and other modules as attributes; assigning one registers it, in
order, so that ``parameters()`` finds every weight of a whole network::

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 8)          # registered as child "fc1"
            self.fc2 = nn.Linear(8, 1)

        def forward(self, x):
            return self.fc2(self.fc1(x).relu())

    net = Net()
    [name for name, _ in net.named_parameters()]  # ['fc1.weight', 'fc1.bias', 'fc2.weight', ...]

Calling a module runs ``forward`` inside ``ag.name_scope(name)``, where ``name`` is the attribute
name the module has in its parent ("fc1"; "Linear_0" for the children of a ``Sequential``) or, for
a top-level module, its class name. Scopes nest ("Net/fc1"), so ``ag.draw`` can draw each layer as
one box.

Freezing: ``p.requires_grad_(False)`` (or ``module.requires_grad_(False)``) stops a parameter from
receiving a gradient; optimizers skip parameters whose ``.grad`` is None.

Describing a model for ``nn.save`` / ``nn.load`` (the config registry)
--------------------------------------------------------------------------
``nn.save`` writes a JSON description of the model next to its weights, and ``nn.load`` rebuilds
the model from it without running anything but the constructors of known classes. A class takes
part by two things:

1. it is registered under a name with the ``@register_module`` class decorator (nn's own layers
   and models use their class name: "Linear", "Sequential", "MLP" ...); the registry is the only
   place ``nn.load`` looks classes up, so a file can never make it import or call anything else;
2. it overrides ``get_config()`` to return its constructor's keyword arguments as JSON-able
   values (numbers, strings, bools, None, lists, dicts), so that ``cls.from_config(config)``,
   by default ``cls(**config)``, builds an equal module. The weights are then restored by
   ``load_state_dict``, so the constructor only has to create parameters of the right shapes.

Containers describe their children inside their config with ``module_to_config(child)`` and
rebuild them with ``module_from_config(description)`` in an overridden ``from_config``
(``Sequential`` does this). Example for a model of your own::

    @nn.register_module
    class Scaled(nn.Module):
        def __init__(self, n: int, scale: float = 2.0):
            super().__init__()
            self.n, self.scale = n, scale
            self.fc = nn.Linear(n, n)

        def get_config(self):
            return {"n": self.n, "scale": self.scale}

        def forward(self, x):
            return self.fc(x) * self.scale
"""

from __future__ import annotations

import contextlib
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, NamedTuple

import numpy as np

import autograd_core as ag
from autograd_core.capture import active_recorder
from autograd_core.mode import state as _mode_state


class Parameter(ag.Tensor):
    """A tensor that is a weight of a module: a leaf that requires grad (unless told otherwise).

    The data follows ``ag.tensor``'s dtype rules (Python floats become float32, numpy arrays keep
    their dtype) and is copied, so the parameter never aliases the caller's array.

    >>> w = nn.Parameter(np.zeros((3, 2), dtype=np.float32))
    >>> w.requires_grad, w.is_leaf
    (True, True)
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True):
        _spend_parameter_budget(np.shape(data), spend=True)
        super().__init__(ag.tensor(data).data, requires_grad=requires_grad)

    @classmethod
    def empty(cls, shape: tuple[int, ...], dtype: Any = None) -> Parameter:
        """An uninitialised parameter (default dtype unless given), for a layer's constructor to
        fill in ``reset_parameters``. Under ``parameter_budget`` the shape is checked before
        anything is allocated.
        """
        _spend_parameter_budget(shape, spend=False)
        return cls(np.empty(shape, dtype=dtype or ag.get_default_dtype()))

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


_PARAMETER_BUDGET: ContextVar[list[int] | None] = ContextVar("nn_parameter_budget", default=None)


@contextlib.contextmanager
def parameter_budget(max_values: int) -> Iterator[None]:
    """Inside the block, new Parameters and persistent buffers may hold at most ``max_values``
    numbers in total.

    ``nn.load`` builds a model under the number of values its file holds, so a small file whose
    architecture declares huge layers fails before those layers are allocated (provided they
    are created with ``Parameter.empty``; other parameters and buffers fail before their data is
    copied, but after the layer allocated it).
    """
    token = _PARAMETER_BUDGET.set([max_values])
    try:
        yield
    finally:
        _PARAMETER_BUDGET.reset(token)


def _spend_parameter_budget(shape: tuple[int, ...], spend: bool) -> None:
    budget = _PARAMETER_BUDGET.get()
    if budget is None:
        return
    needed = math.prod(int(n) for n in shape)
    if needed > budget[0]:
        raise ValueError(f"a weight of shape {tuple(shape)} needs {needed} values, but only "
                         f"{budget[0]} are left of the budget (the values stored in the file)")
    if spend:
        budget[0] -= needed


class NotDescribableError(TypeError):
    """A module that ``nn.save`` cannot describe: unregistered, or without ``get_config()``."""


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class RemovableHandle:
    """What ``register_forward_hook`` returns: ``remove()`` unregisters the hook (also on
    leaving a ``with`` block)."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict, hook: Callable) -> None:
        self._hooks, self.id = hooks, RemovableHandle._next_id
        RemovableHandle._next_id += 1
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


def zero_grads(params: Iterable[ag.Tensor], set_to_none: bool = True) -> None:
    """Set each ``p.grad`` to None, or (``set_to_none=False``) to zeros where it exists.

    Zeros are a new array, never written into the old one, which the engine may share.
    """
    recorder = active_recorder()
    if recorder is not None:  # inside ag.jit: the replay zeroes the same parameters again
        params = list(params)
        recorder.effect("zero_grad", lambda: zero_grads(params, set_to_none))
    for p in params:
        if set_to_none:
            p.grad = None
        elif p.grad is not None:
            p.grad = ag.Tensor(np.zeros_like(p.grad.data))


_REGISTRY: dict[str, type] = {}


def register_module(cls: type | None = None, *, name: str | None = None):
    """Class decorator: let ``nn.load`` rebuild instances of ``cls`` from their ``get_config()``.

    ``name`` (default: the class name) is what the saved JSON stores. Registering a different
    class under a name already taken raises ``ValueError``.
    """

    def decorate(klass: type) -> type:
        if not (isinstance(klass, type) and issubclass(klass, ModuleBase)):
            raise TypeError(f"register_module: expected an nn.Module subclass, got {klass!r}")
        key = name or klass.__name__
        existing = _REGISTRY.get(key)
        # Re-running a class definition (a notebook cell) replaces it; another class may not.
        if existing is not None and (existing.__module__, existing.__qualname__) != \
                (klass.__module__, klass.__qualname__):
            raise ValueError(f"register_module: the name {key!r} is already taken by "
                             f"{existing.__module__}.{existing.__qualname__}; pass name=...")
        _REGISTRY[key] = klass
        klass._registered_name = key
        return klass

    return decorate(cls) if cls is not None else decorate


def module_to_config(module: ModuleBase) -> dict[str, Any]:
    """``{"class": registered name, "config": module.get_config()}``: JSON-able."""
    key = type(module).__dict__.get("_registered_name")
    if key is None or _REGISTRY.get(key) is not type(module):
        raise NotDescribableError(
            f"{type(module).__name__} is not registered, so nn.load could not rebuild it; "
            "decorate the class with @nn.register_module and define get_config(), or load only "
            "its weights with nn.load_state_dict(path)"
        )
    return {"class": key, "config": module.get_config()}


def module_from_config(description: Mapping[str, Any]) -> ModuleBase:
    """Rebuild a module from ``module_to_config``'s output, using only registered classes."""
    if not isinstance(description, Mapping) or "class" not in description:
        raise ValueError(f"nn.load: a module description must be a dict with a 'class' entry, "
                         f"got {description!r:.200}")
    key = description["class"]
    cls = _REGISTRY.get(key)
    if cls is None:
        raise ValueError(f"nn.load: unknown module class {key!r}; known: {sorted(_REGISTRY)}. "
                         "Import the code that registers it (@nn.register_module) first")
    config = description.get("config") or {}
    if not isinstance(config, Mapping):
        raise ValueError(f"nn.load: the config of {key} must be a dict, got {config!r:.200}")
    return cls.from_config(dict(config))


class ModuleBase:
    """``nn.Module`` without its Keras-style training methods (``nn.base`` adds them): a tree of
    modules whose leaves hold Parameters. Subclass ``nn.Module``, not this class.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_name", None)
        object.__setattr__(self, "training", True)

    # -- registration -------------------------------------------------------------------------
    def _check_initialised(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: cannot assign {what} before "
                                 "Module.__init__() runs; call super().__init__() first")

    def _check_name(self, kind: str, name: str) -> None:
        if "." in name or not name:
            raise KeyError(f"{type(self).__name__}: {kind} name {name!r} must be non-empty and "
                           "contain no '.'")

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, ModuleBase):
            self.add_module(name, value)
        else:
            params = self.__dict__.get("_parameters")
            if params is not None and name in params:
                if value is not None:
                    raise TypeError(
                        f"{type(self).__name__}.{name}: cannot replace a Parameter with a "
                        f"{type(value).__name__}; assign nn.Parameter(...) or None"
                    )
                params[name] = None
                return
            modules = self.__dict__.get("_modules")
            if modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"{type(self).__name__}.{name}: cannot replace a Module "
                                    f"with a {type(value).__name__}; assign a Module or None")
                modules[name] = None
                return
            if name in self.__dict__.get("_buffers", ()):
                self._set_buffer(name, value)
                return
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: parameters and children live in the two dicts.
        d = self.__dict__
        if "_parameters" in d:
            if name in d["_parameters"]:
                return d["_parameters"][name]
            if name in d["_modules"]:
                return d["_modules"][name]
            if name in d.get("_buffers", ()):
                return d["_buffers"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self.__dict__.get("_buffers", ()):
            del self._buffers[name]
            self._non_persistent_buffers.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, a placeholder) under ``name``."""
        self._check_initialised(f"parameter {name!r}")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{type(self).__name__}.register_parameter: {name!r} must be an "
                            f"nn.Parameter or None, got {type(param).__name__}")
        self._check_name("parameter", name)
        # Replacing keeps the registration order (e.g. swapping the last layer of a model).
        self.__dict__.pop(name, None)
        self._modules.pop(name, None)
        self._parameters[name] = param
        if param is not None and param.name is None:
            param.name = name  # pictures of the graph label it "weight", "bias" ...

    def add_module(self, name: str, module: ModuleBase | None) -> None:
        """Register ``module`` as a child called ``name`` (its name scope unless renamed)."""
        self._check_initialised(f"module {name!r}")
        if module is not None and not isinstance(module, ModuleBase):
            raise TypeError(f"{type(self).__name__}.add_module: {name!r} must be an nn.Module, "
                            f"got {type(module).__name__}")
        self._check_name("module", name)
        self.__dict__.pop(name, None)
        self._parameters.pop(name, None)
        self._modules[name] = module
        # The first parent names the module: slicing a Sequential must not rename its layers.
        if module is not None and module._name is None:
            object.__setattr__(module, "_name", self._child_scope_name(name, module))

    def _child_scope_name(self, name: str, module: ModuleBase) -> str:
        """The name scope of a child registered as ``name`` (containers override)."""
        return name

    # -- buffers: state that is saved and loaded but not trained -------------------------------
    def register_buffer(self, name: str, value: Any, persistent: bool = True) -> None:
        """Keep ``value`` (an array or Tensor, stored as a Tensor without gradient; or None) as
        the attribute ``name``: in ``state_dict()`` unless ``persistent=False``, never in
        ``parameters()``. BatchNorm's running statistics are buffers.

        >>> layer.register_buffer("step", np.zeros((), dtype=np.int64))
        >>> layer.step                   # tensor(0), and "step" is a key of layer.state_dict()
        """
        self._check_initialised(f"buffer {name!r}")
        self._check_name("buffer", name)
        if name in self._parameters or name in self._modules:
            raise KeyError(f"{type(self).__name__}.register_buffer: {name!r} is already a "
                           "parameter or a child module")
        if persistent and value is not None:  # saved with the weights: nn.load's budget counts it
            _spend_parameter_budget(np.shape(value), spend=True)
        if "_buffers" not in self.__dict__:
            object.__setattr__(self, "_buffers", OrderedDict())
            object.__setattr__(self, "_non_persistent_buffers", set())
        self.__dict__.pop(name, None)
        self._buffers[name] = None
        self._set_buffer(name, value)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def _set_buffer(self, name: str, value: Any) -> None:
        if value is not None and not isinstance(value, ag.Tensor):
            value = np.asarray(value)
            if value.dtype.kind not in "biuf":
                raise TypeError(f"{type(self).__name__}: buffer {name!r} must hold numbers, got "
                                f"dtype {value.dtype}")
            value = ag.Tensor(value)
        self._buffers[name] = None if value is None else value.detach()

    def named_buffers(self, prefix: str = "", recurse: bool = True
                      ) -> Iterator[tuple[str, ag.Tensor]]:
        """Yield ``("bn.running_mean", buffer)`` pairs, persistent or not, each buffer once."""
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, buffer in module.__dict__.get("_buffers", {}).items():
                if buffer is not None:
                    yield (f"{module_prefix}.{name}" if module_prefix else name), buffer

    def buffers(self, recurse: bool = True) -> Iterator[ag.Tensor]:
        """Yield every buffer."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def _named_state(self) -> Iterator[tuple[str, ag.Tensor]]:
        """What ``state_dict`` holds: per module, its parameters, then its persistent buffers."""
        for prefix, module in self.named_modules(remove_duplicate=False):
            for name, param in module._parameters.items():
                if param is not None:
                    yield (f"{prefix}.{name}" if prefix else name), param
            skip = module.__dict__.get("_non_persistent_buffers", ())
            for name, buffer in module.__dict__.get("_buffers", {}).items():
                if buffer is not None and name not in skip:
                    yield (f"{prefix}.{name}" if prefix else name), buffer

    # -- forward hooks ---------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Callable[[ModuleBase, tuple], Any]
                                  ) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward; a non-None result replaces the
        positional arguments (a tuple, or one value). Returns a handle: ``handle.remove()``."""
        return self._add_hook("pre", hook)

    def register_forward_hook(self, hook: Callable[[ModuleBase, tuple, Any], Any]
                              ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward; a non-None result replaces
        the output. Returns a handle: ``handle.remove()``.

        >>> seen = []
        >>> handle = model.fc1.register_forward_hook(lambda m, args, out: seen.append(out.shape))
        """
        return self._add_hook("post", hook)

    def _add_hook(self, kind: str, hook: Callable) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"{type(self).__name__}: a forward hook must be callable, got "
                            f"{type(hook).__name__}")
        if "_forward_hooks" not in self.__dict__:
            object.__setattr__(self, "_forward_hooks", {"pre": OrderedDict(),
                                                        "post": OrderedDict()})
        return RemovableHandle(self._forward_hooks[kind], hook)

    def _forward_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in list(self._forward_hooks["pre"].values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks["post"].values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # -- forward ------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    @property
    def scope_name(self) -> str:
        """The name scope its forward runs in: its name in its parent, else its class name."""
        return self._name or type(self).__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # ag.name_scope(self.scope_name), written out: a generator-based context manager costs
        # a few microseconds per layer and step
        scopes = _mode_state.scopes
        _mode_state.scopes = (*scopes, self._name or type(self).__name__)
        try:
            if "_forward_hooks" in self.__dict__:
                return self._forward_with_hooks(args, kwargs)
            return self.forward(*args, **kwargs)
        finally:
            _mode_state.scopes = scopes

    # -- traversal ----------------------------------------------------------------------------
    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Yield ``("fc1.weight", param)`` pairs in registration order, each parameter once."""
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, param in module._parameters.items():
                if param is None or (remove_duplicate and id(param) in seen):
                    continue
                seen.add(id(param))
                yield (f"{module_prefix}.{name}" if module_prefix else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Yield every parameter once (shared parameters are not repeated)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_children(self) -> Iterator[tuple[str, ModuleBase]]:
        """Yield ``(name, child)`` for the direct sub-modules."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[ModuleBase]:
        """Yield the direct sub-modules."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "", remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, ModuleBase]]:
        """Yield ``(dotted name, module)`` for this module ("" unless ``prefix``) and all below,
        parents before children; a module reachable by two paths comes once unless
        ``remove_duplicate`` is False."""
        seen: set[int] = set()
        stack: list[tuple[str, ModuleBase]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate and id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module.named_children()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[ModuleBase]:
        """Yield this module and every module below it, each once."""
        for _, module in self.named_modules():
            yield module

    def apply(self, fn: Callable[[ModuleBase], Any]) -> ModuleBase:
        """Call ``fn`` on every sub-module, children first, then on self; return self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of scalar weights (only those requiring grad if ``trainable_only``)."""
        return sum(p.size for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    # -- modes and gradients ------------------------------------------------------------------
    def train(self, mode: bool = True) -> ModuleBase:
        """Set training mode (dropout active) on this module and all below; return self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> ModuleBase:
        """Set evaluation mode (dropout off): ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> ModuleBase:
        """Freeze (False) or unfreeze every parameter; return self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``.grad = None``, or zeros if not ``set_to_none``."""
        zero_grads(self.parameters(), set_to_none)

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """An ordered ``{dotted name: copy of the weights}`` of every parameter and persistent
        buffer (each module's parameters, then its buffers, then its children's, as in PyTorch).

        A parameter shared by two layers appears under both names, so the keys depend only on
        the structure of the model.
        """
        return OrderedDict((name, np.array(value.data, copy=True))
                           for name, value in self._named_state())

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy weights into the parameters, in place (optimizers keep working).

        Values may be numpy arrays or Tensors and are cast to each parameter's dtype. With
        ``strict`` (the default), any missing or unexpected key is an error; a shape mismatch is
        always an error. Nothing is copied unless every check passes. Returns the keys skipped.
        """
        own = OrderedDict(self._named_state())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        values = {}
        for key, param in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.data if isinstance(value, ag.Tensor) else np.asarray(value)
            if value.shape != param.shape:
                problems.append(f"shape mismatch for {key!r}: the state has {value.shape}, the "
                                f"model has {param.shape}")
            elif value.dtype.kind not in "biuf":
                problems.append(f"{key!r} has non-numeric dtype {value.dtype}")
            values[key] = value
        if problems:
            raise RuntimeError(f"load_state_dict: error(s) loading the state into "
                               f"{type(self).__name__}: " + "; ".join(problems))
        for key, value in values.items():
            own[key].data[...] = value
            own[key]._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # -- description for nn.save --------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor's keyword arguments, JSON-able (see the module docstring)."""
        raise NotDescribableError(
            f"{type(self).__name__} does not define get_config(), so nn.load could not rebuild "
            "it; define it (and register the class with @nn.register_module), or load only its "
            "weights with nn.load_state_dict(path)"
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ModuleBase:
        """Build a module from ``get_config()``'s output (default: ``cls(**config)``)."""
        try:
            return cls(**config)
        except TypeError as err:
            raise ValueError(f"nn.load: cannot build {cls.__name__} from config {config!r:.300}: "
                             f"{err}") from err

    # -- display ------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text between the parentheses of this module's repr (layers override)."""
        return ""

    def __repr__(self) -> str:
        children = [f"({name}): " + repr(child).replace("\n", "\n  ")
                    for name, child in self.named_children()]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = ([extra] if extra else []) + children
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"
