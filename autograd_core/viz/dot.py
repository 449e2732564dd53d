"""``ag.draw``: the graph that made a tensor, as a Graphviz picture.

Values are tables (name, data, grad); ops are small circles between them. Leaves that require
grad have a blue header, constants are grey and dashed, the output is orange and bold. Values
created inside ``ag.name_scope`` (nn's layers open one each) are grouped in a box per scope, and
``collapse_scopes=True`` draws each scope as a single box, so a real MLP stays legible.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np

from ..tensor import Tensor
from .graph import GraphView, collect
from .render import Picture

OP_SYMBOLS = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "matmul": "@", "pow": "^",
              "neg": "−x"}
LEAF, CONSTANT, OUTPUT, PLAIN = "#cfe2ff", "#eeeeee", "#ffd8a8", "#ffffff"
HIGHLIGHT, GRAD_COLOUR = "#ffe066", "#c92a2a"


def _format(array: np.ndarray, max_elements: int) -> str:
    if array.size == 1:
        return f"{array.item():.4g}"
    if array.size <= max_elements:
        return np.array2string(array, precision=3, separator=", ", suppress_small=True)
    return f"shape {tuple(array.shape)}"


def _grad_text(grad: np.ndarray, max_elements: int) -> str:
    if grad.size <= max_elements:
        return _format(grad, max_elements)
    return f"‖grad‖ = {np.linalg.norm(grad):.4g}"


def _value_label(view: GraphView, tensor: Tensor, grad: np.ndarray | None, show_data: bool,
                 max_elements: int) -> str:
    if tensor is view.root:
        header = OUTPUT
    elif tensor.is_leaf:
        header = LEAF if tensor.requires_grad else CONSTANT
    else:
        header = PLAIN
    title = f"<b>{html.escape(view.name(tensor))}</b>"
    if tensor.size > 1:
        title += f' <font point-size="10">{tuple(tensor.shape)} {tensor.dtype}</font>'
    rows = [f'<tr><td bgcolor="{header}">{title}</td></tr>']
    if show_data and tensor.size <= max_elements:  # else the title already gives the shape
        rows.append(f"<tr><td>data {html.escape(_format(tensor.data, max_elements))}</td></tr>")
    if grad is not None:
        text = html.escape(_grad_text(np.asarray(grad), max_elements))
        rows.append(f'<tr><td><font color="{GRAD_COLOUR}">grad {text}</font></td></tr>')
    return ('<<table border="0" cellborder="1" cellspacing="0" cellpadding="4">'
            + "".join(rows) + "</table>>")


def _scope_of_values(view: GraphView) -> dict[int, str | None]:
    """A value's scope is its op's; a parameter (a leaf requiring grad) joins the scope of its
    consumers if they share one; data and constants stay outside, where they come from."""
    scopes: dict[int, str | None] = {}
    consumer_scopes: dict[int, set] = {}
    for tensor in view.values:
        if tensor._node is not None:
            scopes[id(tensor)] = tensor._node.scope
            for inp in tensor._node.inputs:
                consumer_scopes.setdefault(id(inp), set()).add(tensor._node.scope)
    for tensor in view.values:
        if tensor._node is None:
            found = consumer_scopes.get(id(tensor), {None}) if tensor.requires_grad else {None}
            scopes[id(tensor)] = next(iter(found)) if len(found) == 1 else None
    return scopes


def draw(t: Tensor, show_grad: bool = True, show_data: bool = True, rankdir: str = "LR",
         collapse_scopes: bool = False, max_elements: int = 4,
         gradients: Mapping[int, np.ndarray] | None = None,
         highlight: object | None = None) -> Picture:
    """The graph that produced ``t`` as a ``graphviz.Digraph`` (displays inline in Jupyter).

    ``show_grad`` adds each value's ``.grad`` where the backward pass left one (leaves, and
    tensors that called ``retain_grad()``); ``gradients`` (id(tensor) -> array) overrides that.
    Arrays with more than ``max_elements`` elements are shown by shape and gradient norm.
    ``collapse_scopes`` draws each name scope as one box. ``highlight`` is an op node to mark.

    >>> g = (ag.tensor(1.0, name="x") + 3) * 2
    >>> ag.draw(g).pipe("svg")         # or .render("g", format="png"), or display in Jupyter
    """
    view = collect(t)
    if gradients is None:
        gradients = {id(v): v.grad.data for v in view.values if v.grad is not None} \
            if show_grad else {}
        if gradients:  # after a backward pass, d out / d out = 1 completes the picture
            gradients.setdefault(id(view.root), np.ones_like(view.root.data))
    picture = Picture(name="graph", graph_attr={"rankdir": rankdir, "fontname": "Helvetica",
                                                "nodesep": "0.25", "ranksep": "0.35"},
                      node_attr={"fontname": "Helvetica", "fontsize": "12"},
                      edge_attr={"arrowsize": "0.7"})
    scopes = _scope_of_values(view)
    if collapse_scopes:
        _draw_collapsed(picture, view, scopes, gradients, max_elements)
        return picture
    members: dict[str | None, list[tuple[str, dict]]] = {}
    edges: list[tuple[str, str]] = []
    for tensor in view.values:
        value_id = f"v{id(tensor)}"
        style = {"shape": "plain",
                 "label": _value_label(view, tensor, gradients.get(id(tensor)), show_data,
                                       max_elements)}
        if tensor is view.root:
            style.update(shape="box", style="bold", margin="0", penwidth="2")
        elif tensor.is_leaf and not tensor.requires_grad:
            style.update(shape="box", style="dashed", margin="0", color="#888888")
        members.setdefault(scopes[id(tensor)], []).append((value_id, style))
        node = tensor._node
        if node is None:
            continue
        op_id = f"o{id(node)}"
        symbol = OP_SYMBOLS.get(node.name)
        op_style = {"shape": "circle" if symbol else "box", "label": symbol or node.name,
                    "width": "0.35", "height": "0.35", "margin": "0.05,0.03",
                    "style": "filled" if symbol else "rounded,filled",
                    "fillcolor": HIGHLIGHT if node is highlight else "white"}
        members.setdefault(node.scope, []).append((op_id, op_style))
        edges.extend((f"v{id(inp)}", op_id) for inp in node.inputs)
        edges.append((op_id, value_id))
    _emit_scopes(picture, members)
    for tail, head in edges:
        picture.edge(tail, head)
    return picture


def _emit_scopes(picture: Picture, members: dict[str | None, list[tuple[str, dict]]]) -> None:
    """Nodes outside any scope at top level; scope "a/b" as a box inside the box of "a"."""
    for node_id, style in members.pop(None, []):
        picture.node(node_id, **style)
    tree: dict = {}
    for scope in members:
        level = tree
        for part in scope.split("/"):
            level = level.setdefault(part, {})

    def emit(parent: Picture, level: dict, prefix: str) -> None:
        for part, children in level.items():
            scope = f"{prefix}/{part}" if prefix else part
            with parent.subgraph(name=f"cluster_{scope}") as box:
                box.attr(label=part, style="rounded,filled", fillcolor="#f8f9fa",
                         color="#adb5bd", fontname="Helvetica", fontsize="12")
                for node_id, style in members.get(scope, []):
                    box.node(node_id, **style)
                emit(box, children, scope)

    emit(picture, tree, "")


def _draw_collapsed(picture: Picture, view: GraphView, scopes: dict[int, str | None],
                    gradients: Mapping[int, np.ndarray], max_elements: int) -> None:
    """One box per scope listing its ops, parameters and output shape; values outside scopes
    are drawn as usual."""
    inside: dict[str, dict] = {}
    for tensor in view.values:
        scope = scopes[id(tensor)]
        if scope is None:
            picture.node(f"v{id(tensor)}", shape="plain",
                         label=_value_label(view, tensor, gradients.get(id(tensor)), True,
                                            max_elements))
            continue
        box = inside.setdefault(scope, {"ops": [], "params": [], "out": tensor})
        if tensor._node is not None:
            box["ops"].append(tensor._node.name)
            box["out"] = tensor
        elif tensor.requires_grad:
            box["params"].append(f"{view.name(tensor)} {tuple(tensor.shape)}")
    for scope, box in inside.items():
        lines = [f"<b>{html.escape(scope)}</b>", html.escape(" → ".join(box["ops"]))]
        lines += [html.escape(p) for p in box["params"]]
        lines.append(f"out {tuple(box['out'].shape)}")
        picture.node(f"s{scope}", shape="box", style="rounded,filled", fillcolor="#f8f9fa",
                     label="<" + "<br/>".join(lines) + ">")
    seen_edges = set()
    for tensor in view.values:
        node = tensor._node
        if node is None:
            continue
        head = f"s{scopes[id(tensor)]}" if scopes[id(tensor)] else f"v{id(tensor)}"
        for inp in node.inputs:
            tail = f"s{scopes[id(inp)]}" if scopes[id(inp)] else f"v{id(inp)}"
            if tail != head and (tail, head) not in seen_edges:
                seen_edges.add((tail, head))
                picture.edge(tail, head)
