"""``ag.explain``: the backward pass told as chain-rule steps, with the numbers.

One step per op, outputs before inputs; each step gives the gradients that become complete once
that op has passed its share back. For a graph of scalars each line reads like a hand derivation
(g = (x + y) * z at x = 1, y = 3, z = -3)::

    dg/dg = 1
    step 1: g = p * z
      dg/dp = z = -3
      dg/dz = p = 4
    step 2: p = x + y
      dg/dx = dg/dp * dp/dx = -3 * 1 = -3
      dg/dy = dg/dp * dp/dy = -3 * 1 = -3

A value read by several ops sums one term per use (the multivariable chain rule). For tensors,
each line gives the rule in matrix form and the numbers of tensors of up to 12 elements (the
shape and norm of larger ones); a sum that undoes broadcasting is called out::

    step 2: t2 = t1 + b   [fc]
      dloss/dt1 = dloss/dt2 = [[0.5, -0.5], [0.25, 1]]
      dloss/db = (dloss/dt2 summed over the batch axis 0) = [0.75, 0.5]
    step 3: t1 = X @ W   [fc]
      dloss/dW = X^T @ dloss/dt1 = [[...]]
"""

from __future__ import annotations

import html

import numpy as np

from ..tensor import Tensor
from .dot import format_array
from .graph import (
    GraphView,
    Step,
    backward_steps,
    collect,
    known_gradients,
    local_derivative,
    number,
)

# Tensors with at most this many elements are narrated with their numbers.
SMALL = 12
FREED = ("the graph was freed by backward(): the gradients of intermediate values were redone "
         "by running each op again, but not through an op that draws random numbers or whose "
         "values were written in place since; call backward(retain_graph=True), or explain "
         "before backward, to see them all")


class Explanation(str):
    """The narration: a str (print it), shown as preformatted text in Jupyter."""

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self)}</pre>"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


def explain(t: Tensor) -> Explanation:
    """Narrate d t / d v for every value v of the graph of ``t``, in backward order.

    Works before or after ``t.backward()``: it reads the graph and computes gradients without
    touching ``.grad``. A non-scalar ``t`` is explained as ``t.sum()``.

    >>> print(ag.explain(g))      # g = (x + y) * z: "dg/dz = p = 4", "dg/dp = z = -3", ...
    """
    view = collect(t)
    if not t.requires_grad:
        return Explanation(f"{view.name(t)} does not depend on any tensor that requires grad: "
                           "there is no backward pass to explain.")
    grads = known_gradients(view)
    narration = Narrator(view, grads)
    lines = [narration.title()]
    for number_, step in enumerate(backward_steps(view), start=1):
        lines.extend(narration.step(number_, step))
    return Explanation("\n".join(lines))


class Narrator:
    """Writes the lines of the narration; ``backward_frames`` uses it for its captions."""

    def __init__(self, view: GraphView, grads: dict[int, np.ndarray]) -> None:
        self.view, self.grads = view, grads
        self.out = view.name(view.root)
        self.uses = view.consumers()

    def title(self) -> str:
        root = self.view.root
        lines = [f"Backward pass of {self.out} (chain rule, from {self.out} back to the inputs):"]
        if self.view.released and any(id(value) not in self.grads for value in self.view.values
                                      if value.requires_grad):
            lines.append(f"({FREED})")
        seed = "1" if root.size == 1 else f"ones of shape {root.shape} (as for {self.out}.sum())"
        lines.append(f"d{self.out}/d{self.out} = {seed}")
        return "\n".join(lines)

    def step(self, index: int, step: Step) -> list[str]:
        made = step.output
        header = f"step {index}: {self.view.name(made)} = {self.view.expression(made)}"
        scope = made._node.scope
        lines = [header + (f"   [{scope}]" if scope else "")]
        for value in step.completed:
            text = self._scalar_line(value) if self.view.scalar else self._tensor_line(value)
            lines.append("  " + text)
        return lines

    def forward_step(self, index: int, value: Tensor) -> str:
        """``forward 1: p = x + y = 1 + 3 = 4``: the op, its numbers when small, else its shape."""
        view = self.view
        line = f"forward {index}: {view.name(value)} = {view.expression(value)}"
        inputs = value._node.inputs
        if value.size == 1 and all(t.size == 1 for t in inputs):
            numbers = [_bracket(number(t.data.reshape(-1)[0])) for t in inputs]
            line += f" = {view.expression(value, numbers)}"
        if value.size <= SMALL:
            return f"{line} = {one_line(value.data)}"
        return f"{line}, shape {tuple(value.shape)}"

    def _tensor_line(self, value: Tensor) -> str:
        """``dL/dW = X^T @ dL/dt1 = [[...]]`` for small tensors, ``...: shape, norm`` for large."""
        grad = self.grads.get(id(value))
        line = f"d{self.out}/d{self.view.name(value)}"
        if grad is None:
            return line + " = unknown (graph freed)"
        uses = self.uses[id(value)]
        rules = [self._rule(consumer, index) for consumer, index in uses]
        if all(rules):
            line += " = " + _sum(rules)
        elif len(uses) > 1:
            line += f" (summed over its {len(uses)} uses)"
        if grad.size <= SMALL:
            return f"{line} = {one_line(grad)}"
        return f"{line}: shape {tuple(grad.shape)}, norm {number(np.linalg.norm(grad))}"

    def _rule(self, consumer: Tensor, index: int) -> str | None:
        """The gradient ``consumer``'s op passes back to its input ``index``, as text: the op's
        ``gradient_rule``, or for an elementwise op its ``derivative`` times the incoming
        gradient, with any broadcasting undone by a sum called out."""
        node = consumer._node
        names = [self.view.name(t) for t in node.inputs]
        # d out / d out = 1 for a scalar output
        upstream = "1" if consumer is self.view.root and consumer.size == 1 \
            else f"d{self.out}/d{self.view.name(consumer)}"
        if node.gradient_rule is not None:
            return node.gradient_rule[index].format(*names, grad=upstream,
                                                    out=self.view.name(consumer))
        if node.derivative is None:
            return None
        local = node.derivative[index].format(*names, out=self.view.name(consumer))
        text = {"1": upstream, "-1": f"-{upstream}"}.get(local, f"{upstream} * {_bracket(local)}")
        axes = broadcast_axes(node.inputs[index].shape, consumer.shape)
        if not axes:
            return text
        if axes == (0,) and consumer.ndim >= 2:
            return f"({text} summed over the batch axis 0)"
        return f"({text} summed over axes {', '.join(map(str, axes))})"

    def _scalar_line(self, value: Tensor) -> str:
        """``dg/dx = dg/dp * dp/dx [+ ...] = <formulas> = <numbers> = <total>``."""
        out, name = self.out, self.view.name(value)
        total = self.grads.get(id(value))
        symbolic, formulas, numbers = [], [], []
        substituted = False  # whether a local derivative has a formula worth showing
        for consumer, index in self.uses[id(value)]:
            c = self.view.name(consumer)
            local = local_derivative(self.view, consumer, index)
            upstream = self.grads.get(id(consumer))
            if local is None or upstream is None:
                known = "unknown" if total is None else number(total.reshape(-1)[0])
                return f"d{out}/d{name} = {known}"
            formula, slope = local
            if consumer is self.view.root:  # d out/d out = 1 drops out of the product
                symbolic.append(formula or number(slope))
                formulas.append(formula or number(slope))
                numbers.append(number(slope))
            else:
                symbolic.append(f"d{out}/d{c} * d{c}/d{name}")
                formulas.append(f"d{out}/d{c} * {_bracket(formula or f'd{c}/d{name}')}")
                substituted = substituted or not _is_number(formula or "1")
                up = number(np.asarray(upstream).reshape(-1)[0])
                numbers.append(f"{up} * {_bracket(number(slope))}")
        stages = [_sum(symbolic)]
        if substituted:
            stages.append(_sum(formulas))
        stages.append(_sum(numbers))
        stages.append(number(np.asarray(total).reshape(-1)[0]))
        kept = [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]]
        return f"d{out}/d{name} = " + " = ".join(kept)


def one_line(array: np.ndarray) -> str:
    """An array's numbers on one line: ``[[1, 2], [3, 4]]``."""
    return " ".join(format_array(array).split())


def broadcast_axes(input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of the output over which an input was broadcast (its gradient is summed over
    them): the leading axes it lacks and those where it has size 1."""
    lead = len(output_shape) - len(input_shape)
    return tuple(range(lead)) + tuple(lead + i for i, size in enumerate(input_shape)
                                      if size == 1 and output_shape[lead + i] != 1)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bracket(text: str) -> str:
    """``text`` ready to be a factor: negative numbers and sums in brackets."""
    if text.startswith("[") and text.endswith("]"):  # an indicator [a > 0] is one factor
        return text
    return f"({text})" if text.startswith("-") or " " in text else text


def _sum(terms: list[str]) -> str:
    """Terms joined by + , a leading minus turned into - (a*b with a < 0 is -(|a|*b))."""
    text = terms[0]
    for term in terms[1:]:
        text += f" - {term[1:]}" if term.startswith("-") else f" + {term}"
    return text
