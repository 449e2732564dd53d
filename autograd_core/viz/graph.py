"""Reading a graph for pictures and narration: its values, its ops, names, gradients and steps.

Nothing here changes the graph. Gradients come from ``engine.grad(..., retain_graph=True)`` while
the graph still holds its saved values (it leaves every ``.grad`` untouched); after a backward()
that freed the graph, from the ``.grad`` it left on leaves and retained tensors, and for the other
values by rerunning each op on the values its inputs still hold (see rerun_backward).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import engine
from ..function import Function
from ..mode import no_grad
from ..tensor import Tensor


@dataclass
class GraphView:
    """The graph that made ``root``: every value (constants too), each after its inputs.

    ``values`` is a depth-first post-order, so ``reversed(values)`` is a valid backward order.
    """

    root: Tensor
    values: list[Tensor]
    scopes: dict[int, str | None]
    names: dict[int, str]

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

    @property
    def scalar(self) -> bool:
        """True when every value holds one number: then the narration shows the arithmetic."""
        return all(v.size == 1 for v in self.values)

    def consumers(self) -> dict[int, list[tuple[Tensor, int]]]:
        """For each value, the (output, input position) of every op that reads it."""
        uses: dict[int, list[tuple[Tensor, int]]] = {id(v): [] for v in self.values}
        for value in self.values:
            if value._node is not None:
                for index, inp in enumerate(value._node.inputs):
                    uses[id(inp)].append((value, index))
        return uses

    def expression(self, tensor: Tensor, operands: list[str] | None = None) -> str:
        """How ``tensor`` was computed, in its inputs' names: ``p * z``, ``relu(t1)`` (or in
        the ``operands`` given instead: ``4 * (-3)``)."""
        node = tensor._node
        names = operands or [self.name(t) for t in node.inputs]
        if node.symbol is not None and len(names) == 2:
            return f"{names[0]} {node.symbol} {names[1]}"
        if node.symbol is not None and len(names) == 1:
            return f"{node.symbol}{names[0]}"
        return f"{node.name}({', '.join(names)})"


def collect(root: Tensor) -> GraphView:
    """Walk the graph of ``root`` (iteratively, first inputs first) and name every value."""
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
    scopes = _scopes(values)
    return GraphView(root, values, scopes, _names(root, values, scopes))


def _scopes(values: list[Tensor]) -> dict[int, str | None]:
    """A value's scope is its op's; a parameter (a leaf requiring grad) joins the scope of its
    consumers if they share one; data and constants stay outside, where they come from."""
    scopes: dict[int, str | None] = {}
    consumer_scopes: dict[int, set] = {}
    for tensor in values:
        if tensor._node is not None:
            scopes[id(tensor)] = tensor._node.scope
            for inp in tensor._node.inputs:
                consumer_scopes.setdefault(id(inp), set()).add(tensor._node.scope)
    for tensor in values:
        if tensor._node is None:
            found = consumer_scopes.get(id(tensor), {None}) if tensor.requires_grad else {None}
            scopes[id(tensor)] = next(iter(found)) if len(found) == 1 else None
    return scopes


def number(value: float) -> str:
    """A number as the narration and the pictures write it: 4 significant digits, no -0."""
    text = f"{float(value):.4g}"
    return "0" if text == "-0" else text


def _names(root: Tensor, values: list[Tensor], scopes: dict[int, str | None]) -> dict[int, str]:
    """The user's names; scalar constants by their value; the output ``out``; others t1, t2...

    A name given to several values (each layer's "weight") is prefixed with the innermost
    scope: ``Linear_0.weight``; a name still shared gets ``#2``, ``#3``...
    """
    counts: dict[str, int] = {}
    for tensor in values:
        if tensor.name:
            counts[tensor.name] = counts.get(tensor.name, 0) + 1
    names: dict[int, str] = {}
    taken: set[str] = set()
    for tensor in values:
        if tensor.name and counts[tensor.name] > 1:
            scope = scopes[id(tensor)]
            name = f"{scope.rsplit('/', 1)[-1]}.{tensor.name}" if scope else tensor.name
            unique, copy = name, 1
            while unique in taken:
                copy += 1
                unique = f"{name}#{copy}"
            names[id(tensor)] = unique
            taken.add(unique)
    taken |= set(counts)
    counter = 0
    for tensor in values:
        if id(tensor) in names:
            continue
        if tensor.name:
            names[id(tensor)] = tensor.name
        elif not tensor.requires_grad and tensor.size == 1:
            names[id(tensor)] = number(tensor.data.reshape(-1)[0])
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

    A non-scalar root is seeded with ones (the gradients of ``root.sum()``).
    """
    root = view.root
    if not root.requires_grad:
        return {}
    wanted = [t for t in view.values if t.requires_grad]
    if not view.released:
        seed = None if root.size == 1 else np.ones_like(root.data)
        grads = engine.grad(root, wanted, gradient=seed, retain_graph=True)
        return {id(t): g.data for t, g in zip(wanted, grads)}
    known = rerun_backward(view)
    known.update({id(t): t.grad.data for t in wanted if t.grad is not None})
    known[id(root)] = np.ones_like(root.data)
    return known


def rerun_backward(view: GraphView) -> dict[int, np.ndarray]:
    """d root / d value for the values of a freed graph, redone without its saved values.

    Each op is run again on the arrays its inputs hold now, to rebuild what it saved, then its
    backward passes the gradient on. Only where that is sure to give what the first backward
    gave: an op is skipped when one of its inputs or its output was written in place since it
    ran, when it draws random numbers (``Function.draws_random``), and when the rerun's output is
    not exactly the output the graph holds; a value that reaches the root through a skipped op
    gets no gradient, not a partial one. A non-scalar root is seeded with ones.
    """
    grads: dict[int, np.ndarray] = {id(view.root): np.ones_like(view.root.data)}
    unknown: set[int] = set()
    for tensor in reversed(view.values):
        node = tensor._node
        if node is None:
            continue
        grad = grads.get(id(tensor))
        if id(tensor) in unknown:
            input_grads = None
        elif grad is None:  # its consumers passed it no gradient (an index, a mask)
            continue
        else:
            input_grads = _rerun(node, tensor, grad)
        for index, inp in enumerate(node.inputs):
            if not inp.requires_grad:
                continue
            if input_grads is None:
                unknown.add(id(inp))
            elif input_grads[index] is not None:
                fitted = engine._fit_to_input(np.asarray(input_grads[index]), inp, node.name)
                previous = grads.get(id(inp))
                grads[id(inp)] = fitted if previous is None else previous + fitted
    return {key: grad for key, grad in grads.items() if key not in unknown}


def _rerun(node: Function, output: Tensor, grad: np.ndarray) -> tuple | None:
    """The gradients ``node``'s backward passes to its inputs, from a fresh run of its forward;
    None when that run cannot be trusted to rebuild what the first one saved."""
    if node.draws_random or node.written_since_run(output):
        return None
    rerun = type(node)()
    rerun.inputs = node.inputs  # for needs_input_grad
    try:
        with no_grad():
            out = rerun.forward(*[t.data for t in node.inputs], **node.params)
            if not np.array_equal(out, output.data, equal_nan=True):
                return None
            grads = rerun.backward(grad, *rerun.saved)
    except Exception:  # an op that cannot run again on what it holds now: no gradient drawn
        return None
    return grads if isinstance(grads, tuple) else (grads,)


@dataclass
class Step:
    """One op of the backward pass: the value it made, and the inputs whose gradient is complete
    once it has passed its share back (all the ops that read them are done)."""

    output: Tensor
    completed: list[Tensor]


def backward_steps(view: GraphView) -> list[Step]:
    """The ops in backward order (outputs before inputs), as the engine may visit them."""
    pending = {key: len(uses) for key, uses in view.consumers().items()}
    steps = []
    for value in reversed(view.values):
        if value._node is None:
            continue
        completed = []
        for inp in value._node.inputs:
            pending[id(inp)] -= 1
            if pending[id(inp)] == 0 and inp.requires_grad:
                completed.append(inp)
        steps.append(Step(value, completed))
    return steps


def local_derivative(view: GraphView, output: Tensor,
                     index: int) -> tuple[str | None, float] | None:
    """d output / d (input ``index``) of a scalar op: a formula in the values' names and its value.

    An op that declares its ``derivative`` text gives that text, and its value from its own
    backward, rerun in float64 on the input values (so a freed graph can still be narrated).
    Other ops give their value from their backward while the graph holds its saved values
    (formula ``softplus'(a)`` for one input, None for more), else None.
    """
    node = output._node
    inp = node.inputs[index]
    if node.derivative is not None:
        names = [view.name(t) for t in node.inputs]
        formula = node.derivative[index].format(*names, out=view.name(output))
        rerun = type(node)()
        rerun.inputs = node.inputs  # for needs_input_grad
        out = rerun.forward(*[t.data.astype(np.float64) for t in node.inputs])
        grads = rerun.backward(np.ones_like(out), *rerun.saved)
    elif node.released:
        return None
    else:
        with no_grad():
            grads = node.backward(np.ones_like(output.data), *node.saved_values())
        formula = f"{node.name}'({view.name(inp)})" if len(node.inputs) == 1 else None
    grads = grads if isinstance(grads, tuple) else (grads,)
    if grads[index] is None:
        return None
    return formula, float(np.sum(grads[index]))
