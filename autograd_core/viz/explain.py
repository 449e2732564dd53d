"""``ag.explain``: the backward pass told as chain-rule steps, with the numbers.

For a graph of scalars each step reads like a hand derivation::

    dg/dg = 1
    dg/dz = p = 4
    dg/dp = z = -3
    dg/dx = dg/dp * dp/dx = -3 * 1 = -3

For tensors, each step gives the shape of the gradient and its norm.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .graph import GraphView, collect, known_gradients, local_derivative


class Explanation(str):
    """The narration: a str (print it), shown as preformatted text in Jupyter."""

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self)}</pre>"


def _number(value) -> str:
    return f"{float(np.asarray(value).reshape(-1)[0]):.6g}"


def explain(t: Tensor) -> Explanation:
    """Narrate d t / d v for every value v of the graph of ``t``, in backward order.

    Works before or after ``t.backward()`` (it reads the graph, and computes gradients without
    touching ``.grad``).

    >>> print(ag.explain(g))      # g = (x + y) * z
    """
    view = collect(t)
    if not t.requires_grad:
        return Explanation(f"{view.name(t)} does not depend on any tensor that requires grad: "
                           "there is no backward pass to explain.")
    grads = known_gradients(view)
    out = view.name(t)
    scalar = all(v.size == 1 for v in view.values)
    lines = [f"Backward pass of {out} (chain rule, from the output back to the inputs):",
             f"d{out}/d{out} = 1" if scalar else f"d{out}/d{out}: ones of shape {t.shape}"]
    for tensor in reversed(view.values):
        node = tensor._node
        if node is None or not tensor.requires_grad:
            continue
        for index, inp in enumerate(node.inputs):
            if not inp.requires_grad:
                continue
            lines.append(_step(view, grads, tensor, index, inp, scalar))
    return Explanation("\n".join(lines))


def _step(view: GraphView, grads: dict, tensor: Tensor, index: int, inp: Tensor,
          scalar: bool) -> str:
    out, here, there = view.name(view.root), view.name(tensor), view.name(inp)
    target = f"d{out}/d{there}"
    if not scalar:
        grad = grads.get(id(inp))
        summary = "unknown (graph freed; use retain_graph=True or retain_grad())" \
            if grad is None else f"shape {tuple(grad.shape)}, norm {np.linalg.norm(grad):.4g}"
        return f"{target} via {tensor._node.name} → {here}: {summary}"
    local = local_derivative(view, tensor, index)
    upstream = grads.get(id(tensor))
    if local is None or upstream is None:
        total = grads.get(id(inp))
        return f"{target} (through {tensor._node.name}) = " + \
            (_number(total) if total is not None else "unknown")
    formula, value = local
    contribution = float(np.asarray(upstream).reshape(-1)[0]) * value
    if tensor is view.root:
        text = f"{target} = {formula} = {_number(contribution)}" if formula != "1" \
            else f"{target} = 1"
    else:
        chain = f"d{out}/d{here} * d{here}/d{there}"
        text = (f"{target} = {chain} = {_number(upstream)} * {_number(value)} = "
                f"{_number(contribution)}")
        if formula not in ("1", "-1"):
            text += f"    (d{here}/d{there} = {formula})"
    uses = sum(1 for v in view.values if v._node is not None for i in v._node.inputs if i is inp)
    if uses > 1:
        text += f"    [one of {uses} paths; summed: {target} = {_number(grads[id(inp)])}]"
    return text
