"""Reading a graph for pictures and narration: its values, its ops, names and gradients.

Nothing here changes the graph. Gradients come from what is already known (``.grad`` of leaves
and retained tensors) or, while the graph still holds its saved values, from
``engine.grad(..., retain_graph=True)``, which leaves every ``.grad`` untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import engine
from ..function import Function
from ..tensor import Tensor


@dataclass
class GraphView:
    """The graph that made ``root``: every value (constants too) listed after its inputs."""

    root: Tensor
    values: list[Tensor]
    names: dict[int, str] = field(default_factory=dict)

    @property
    def ops(self) -> list[Function]:
        """The op nodes, each after the ops that made its inputs."""
        return [t._node for t in self.values if t._node is not None]

    def name(self, tensor: Tensor) -> str:
        return self.names[id(tensor)]

    @property
    def released(self) -> bool:
        """True when a backward() without retain_graph has freed the saved values."""
        return any(op.released for op in self.ops)


def collect(root: Tensor) -> GraphView:
    """Walk the graph of ``root`` (iteratively) and name every value."""
    values: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            values.append(tensor)
            continue
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        if tensor._node is not None:
            stack.extend((t, False) for t in reversed(tensor._node.inputs) if id(t) not in seen)
    return GraphView(root, values, _names(root, values))


def _names(root: Tensor, values: list[Tensor]) -> dict[int, str]:
    """The user's names; scalar constants by their value; the rest t1, t2, ... and ``out``."""
    names, taken, counter = {}, {t.name for t in values if t.name}, 0
    for tensor in values:
        if tensor.name:
            names[id(tensor)] = tensor.name
        elif not tensor.requires_grad and tensor.size == 1:
            names[id(tensor)] = f"{tensor.data.item():g}"
        elif tensor is root and "out" not in taken:
            names[id(tensor)] = "out"
        else:
            counter += 1
            while f"t{counter}" in taken:
                counter += 1
            names[id(tensor)] = f"t{counter}"
    return names


def known_gradients(view: GraphView) -> dict[int, np.ndarray]:
    """d root / d value for every value whose gradient can be known without changing anything.

    While the saved values exist, all of them (computed afresh, ``.grad`` untouched); after a
    backward() that freed the graph, those of scalar graphs (from the local derivatives below)
    and otherwise the ``.grad`` the backward pass left on leaves and retained tensors.
    """
    root = view.root
    wanted = [t for t in view.values if t.requires_grad]
    if not root.requires_grad:
        return {}
    if not view.released:
        seed = None if root.size == 1 else np.ones_like(root.data)
        grads = engine.grad(root, wanted, gradient=seed, retain_graph=True)
        return {id(t): g.data for t, g in zip(wanted, grads)}
    known = {id(t): t.grad.data for t in wanted if t.grad is not None}
    known[id(root)] = np.ones_like(root.data)
    if all(t.size == 1 for t in view.values):
        known.update(_scalar_chain_rule(view))
    return known


def _scalar_chain_rule(view: GraphView) -> dict[int, np.ndarray]:
    grads = {id(view.root): 1.0}
    for tensor in reversed(view.values):
        node = tensor._node
        if node is None or id(tensor) not in grads:
            continue
        for index, inp in enumerate(node.inputs):
            local = local_derivative(view, tensor, index)
            if inp.requires_grad and local is not None:
                grads[id(inp)] = grads.get(id(inp), 0.0) + grads[id(tensor)] * local[1]
    return {key: np.asarray(value) for key, value in grads.items()}


# -- local derivatives of scalar ops, as text and as a number ------------------------------------
def _value(t: Tensor) -> float:
    return float(t.data.reshape(-1)[0])


_RULES: dict[str, Callable[[list[str], list[float], str, float, int], tuple[str, float]]] = {
    "add": lambda n, v, o, ov, i: ("1", 1.0),
    "sub": lambda n, v, o, ov, i: ("1", 1.0) if i == 0 else ("-1", -1.0),
    "mul": lambda n, v, o, ov, i: (n[1 - i], v[1 - i]),
    "div": lambda n, v, o, ov, i: (f"1/{n[1]}", 1 / v[1]) if i == 0
    else (f"-{n[0]}/{n[1]}²", -v[0] / v[1] ** 2),
    "neg": lambda n, v, o, ov, i: ("-1", -1.0),
    "exp": lambda n, v, o, ov, i: (o, ov),
    "log": lambda n, v, o, ov, i: (f"1/{n[0]}", 1 / v[0]),
    "sqrt": lambda n, v, o, ov, i: (f"1/(2·{o})", 1 / (2 * ov)),
    "tanh": lambda n, v, o, ov, i: (f"1 - {o}²", 1 - ov**2),
    "sigmoid": lambda n, v, o, ov, i: (f"{o}·(1 - {o})", ov * (1 - ov)),
    "relu": lambda n, v, o, ov, i: (f"[{n[0]} > 0]", float(v[0] > 0)),
    "pow": lambda n, v, o, ov, i: (f"{n[1]}·{n[0]}^({n[1]} - 1)", v[1] * v[0] ** (v[1] - 1))
    if i == 0 else (f"{o}·ln({n[0]})", ov * np.log(v[0]) if v[0] > 0 else 0.0),
    "abs": lambda n, v, o, ov, i: (f"sign({n[0]})", float(np.sign(v[0]))),
    "sum": lambda n, v, o, ov, i: ("1", 1.0),
    "mean": lambda n, v, o, ov, i: ("1", 1.0),
    "reshape": lambda n, v, o, ov, i: ("1", 1.0),
    "cast": lambda n, v, o, ov, i: ("1", 1.0),
}


def local_derivative(view: GraphView, output: Tensor, index: int) -> tuple[str, float] | None:
    """d output / d (input ``index``) of a scalar op: a formula in the values' names, and its
    value; None for ops without a rule here."""
    node = output._node
    rule = _RULES.get(node.name)
    if rule is None or output.size != 1 or any(t.size != 1 for t in node.inputs):
        return None
    names = [view.name(t) for t in node.inputs]
    values = [_value(t) for t in node.inputs]
    return rule(names, values, view.name(output), _value(output), index)
