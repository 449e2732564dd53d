"""Containers that hold layers without calling them in order: ModuleList and ModuleDict; and
Unflatten, the inverse of Flatten.

A container registers its layers as children, so their parameters are found by ``parameters()``
and their weights are saved under ``"<index or key>.<name>"``, as in PyTorch::

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(8, 8) for _ in range(3))

        def forward(self, x):
            for layer in self.layers:
                x = layer(x).relu()
            return x

    list(Stack().state_dict())[:2]       # ['layers.0.weight', 'layers.0.bias']
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import autograd_core as ag

from .base import Module
from .layers import ensure_tensor
from .module import ModuleBase, module_from_config, module_to_config, register_module


def _check_module(container: str, key: Any, value: Any) -> ModuleBase:
    if not isinstance(value, ModuleBase):
        raise TypeError(f"{container}: entry {key!r} must be an nn.Module, got "
                        f"{type(value).__name__}")
    return value


@register_module
class ModuleList(Module):
    """A list of layers, registered as children "0", "1", ...: indexing (also negative and
    slices), assignment, ``del``, ``len``, iteration, ``append``, ``extend``, ``insert`` and ``+=``
    behave as on a Python list. It has no forward: the parent module decides how to call them.
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _child_scope_name(self, name: str, module: Module) -> str:
        return f"{type(module).__name__}_{name}"

    def _index(self, index: Any) -> int:
        try:
            index = operator.index(index)  # ints and numpy integers, as lists take them
        except TypeError:
            raise TypeError(f"ModuleList: indices must be integers or slices, got "
                            f"{type(index).__name__}") from None
        if not -len(self) <= index < len(self):
            raise IndexError(f"ModuleList: index {index!r} out of range for {len(self)} modules")
        return index % len(self)

    def _renumber(self, modules: list[Module]) -> None:
        self._modules.clear()
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(self._index(index))]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(str(self._index(index)), _check_module("ModuleList", index, module))

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        del modules[index if isinstance(index, slice) else self._index(index)]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; return self."""
        self.add_module(str(len(self)), _check_module("ModuleList", len(self), module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each module of ``modules``; return self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (as ``list.insert``)."""
        modules = list(self._modules.values())
        modules.insert(index, _check_module("ModuleList", index, module))
        self._renumber(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward(): iterate over it in the forward "
                                  "of the module that holds it")

    def get_config(self) -> dict[str, Any]:
        return {"modules": [module_to_config(module) for module in self]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ModuleList:
        return cls(module_from_config(module) for module in config.get("modules", []))


@register_module
class ModuleDict(Module):
    """An ordered dict of layers, registered as children under their keys: ``d[key]``,
    assignment, ``del``, ``in``, ``len``, iteration over the keys, ``keys()``, ``values()``,
    ``items()``, ``update()``, ``pop()`` and ``clear()`` behave as on a dict."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict: no module under {key!r}; keys: {list(self)}") from None

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: keys must be strings, got {type(key).__name__}")
        self.add_module(key, _check_module("ModuleDict", key, module))

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 -- raises the clear KeyError
        del self._modules[key]

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace the modules of a mapping or of ``(key, module)`` pairs, in order."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for pair in pairs:
            key, module = pair
            self[key] = module

    def pop(self, key: str) -> Module:
        """Remove the module under ``key`` and return it."""
        module = self[key]
        del self._modules[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward(): pick its modules by key in the "
                                  "forward of the module that holds it")

    def get_config(self) -> dict[str, Any]:
        return {"modules": OrderedDict((key, module_to_config(module))
                                       for key, module in self.items())}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ModuleDict:
        return cls((key, module_from_config(description))
                   for key, description in config.get("modules", {}).items())


@register_module
class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``: Unflatten(1, (2, 5)) maps (N, 10) to
    (N, 2, 5). The inverse of ``Flatten``."""

    def __init__(self, dim: int, unflattened_size: Iterable[int]):
        super().__init__()
        self.dim = int(dim)
        self.unflattened_size = tuple(int(n) for n in unflattened_size)

    def forward(self, x: Any) -> ag.Tensor:
        x = ensure_tensor(x)
        if not -x.ndim <= self.dim < x.ndim:
            raise ag.ShapeError(f"{self.scope_name}: dim {self.dim} is out of range for an input "
                                f"of shape {x.shape}")
        dim = self.dim % x.ndim
        known = [n for n in self.unflattened_size if n != -1]
        size = 1
        for n in known:
            size *= n
        fits = x.shape[dim] == size if len(known) == len(self.unflattened_size) \
            else size and x.shape[dim] % size == 0
        if not fits:
            raise ag.ShapeError(f"{self.scope_name}: cannot split dimension {dim} of size "
                                f"{x.shape[dim]} (input of shape {x.shape}) into "
                                f"{self.unflattened_size}")
        return x.reshape(x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim, "unflattened_size": list(self.unflattened_size)}

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
