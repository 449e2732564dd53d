"""``ag.draw``: the graph that made a tensor, as a Graphviz picture.

Values are small tables (name and shape; data; grad), ops are circles ("+", "*", "@") or rounded
boxes ("relu", "sum") between them, and every input of an op gets its own edge (``x * x`` draws
two), the first input on top (``ordering=in``). Leaves that require grad have a blue header,
constants are grey and dashed, the output is orange with a bold frame. Values made inside
``ag.name_scope`` (nn's layers open one each) are grouped in a box per scope, nested for "a/b";
``collapse_scopes=True`` draws each scope as one box, so a whole MLP fits on a slide.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np

from ..tensor import Tensor, get_default_dtype
from .graph import GraphView, collect, known_gradients, number
from .render import Picture

LEAF, CONSTANT, OUTPUT, PLAIN = "#cfe2ff", "#e9ecef", "#ffd8a8", "#ffffff"
HIGHLIGHT, NEW_GRAD, GRAD_COLOUR, GREY = "#ffe066", "#fff3bf", "#c92a2a", "#868e96"
FONT = "Helvetica"


def draw(t: Tensor, show_grad: bool | str = True, show_data: bool = True,
         show_shapes: bool = True, rankdir: str = "LR", collapse_scopes: bool = False,
         max_elements: int = 4) -> Picture:
    """The graph that produced ``t`` as a ``graphviz.Digraph`` (displays inline in Jupyter).

    - ``show_grad``: True shows the ``.grad`` that backward() left (on leaves, and on tensors
      that called ``retain_grad()``); ``"all"`` computes d t / d v for every value v without
      touching ``.grad`` (the graph must not have been freed); False shows none.
    - ``show_data`` / ``show_shapes``: the values of arrays with at most ``max_elements``
      elements, and the shape of every array (larger arrays show their gradient's norm).
    - ``rankdir``: "LR" (inputs on the left) or "TB" (inputs on top).
    - ``collapse_scopes``: each name scope as one box listing its ops and parameters.

    ``.pipe()`` gives SVG bytes, ``.render("g", format="png")`` writes ``g.png``.

    >>> x = ag.tensor(2.0, requires_grad=True, name="x")
    >>> ag.draw(x * x + 1).pipe()[:5]
    b'<?xml'
    """
    if show_grad not in (True, False, "all"):
        raise ValueError(f"draw: show_grad must be True, False or 'all', got {show_grad!r}")
    view = collect(t)
    if show_grad == "all":
        gradients = known_gradients(view)
    elif show_grad:
        gradients = {id(v): v.grad.data for v in view.values if v.grad is not None}
        if gradients:  # after a backward pass, d out / d out = 1 completes the picture
            gradients.setdefault(id(view.root), np.ones_like(view.root.data))
    else:
        gradients = {}
    return picture(view, gradients, show_data=show_data, show_shapes=show_shapes,
                   rankdir=rankdir, collapse_scopes=collapse_scopes, max_elements=max_elements)


def picture(view: GraphView, gradients: Mapping[int, np.ndarray], *, show_data: bool = True,
            show_shapes: bool = True, rankdir: str = "LR", collapse_scopes: bool = False,
            max_elements: int = 4, highlight: Tensor | None = None,
            fresh: tuple[Tensor, ...] = (), caption: str | None = None) -> Picture:
    """Draw ``view`` with the given gradients (id(value) -> array).

    For step-through frames: ``highlight`` is the value whose op is being processed (the op is
    filled yellow, the edges its gradient flows back along are red), ``fresh`` the values whose
    gradient that step completed, ``caption`` the text written above the picture.
    """
    graph_attr = {"rankdir": rankdir, "fontname": FONT, "nodesep": "0.25", "ranksep": "0.35"}
    if caption:
        lines = "".join(f'{html.escape(line)}<br align="left"/>' for line in caption.split("\n"))
        graph_attr.update(label=f"<{lines}>", labelloc="t", labeljust="l", fontsize="13")
    pic = Picture(name="graph", format="svg", graph_attr=graph_attr,
                  node_attr={"fontname": FONT, "fontsize": "12"},
                  edge_attr={"arrowsize": "0.7", "color": "#495057"})
    ids = {id(v): str(i) for i, v in enumerate(view.values)}
    scopes = dict(view.scopes)
    box_of = {}
    if collapse_scopes:
        box_of = _collapsed_boxes(view, gradients)
        scopes[id(view.root)] = None  # the output stays visible, outside the boxes
    members: dict[str | None, list[tuple[str, dict]]] = {None: list(box_of.values())}
    rep = {}  # id(value) or id(node) -> the picture node that shows it
    fresh_ids = {id(v) for v in fresh}
    for tensor in view.values:
        scope = scopes[id(tensor)]
        if scope in box_of:
            rep[id(tensor)] = box_of[scope][0]
        else:
            rep[id(tensor)] = f"v{ids[id(tensor)]}"
            attrs = _value_node(view, tensor, gradients.get(id(tensor)), show_data,
                                show_shapes, max_elements, id(tensor) in fresh_ids)
            members.setdefault(scope, []).append((rep[id(tensor)], attrs))
        node = tensor._node
        if node is None:
            continue
        if node.scope in box_of:
            rep[id(node)] = box_of[node.scope][0]
        else:
            rep[id(node)] = f"op{ids[id(tensor)]}"
            attrs = _op_node(view, tensor, highlighted=tensor is highlight)
            members.setdefault(node.scope, []).append((rep[id(node)], attrs))
    _emit_scopes(pic, members)
    _emit_edges(pic, view, rep, {box_id for box_id, _ in box_of.values()}, highlight)
    return pic


def _format(array: np.ndarray) -> str:
    if array.size == 1:
        return number(array.reshape(-1)[0])
    text = np.array2string(array, separator=", ", formatter={"all": number})
    return " ".join(text.split())  # one line: [[1, 2], [3, 4]]


def _grad_text(grad: np.ndarray, max_elements: int) -> str:
    if grad.size <= max_elements:
        return f"grad {_format(grad)}"
    return f"‖grad‖ = {number(np.linalg.norm(grad))}"


def _value_node(view: GraphView, tensor: Tensor, grad: np.ndarray | None, show_data: bool,
                show_shapes: bool, max_elements: int, fresh: bool) -> dict[str, str]:
    name = view.name(tensor)
    constant = tensor.is_leaf and not tensor.requires_grad
    if constant and tensor.size == 1 and not tensor.name:  # a number in the expression
        return {"shape": "box", "style": "rounded,filled", "fillcolor": CONSTANT,
                "color": GREY, "label": name, "fontsize": "11", "width": "0", "height": "0",
                "margin": "0.06,0.03"}
    header = OUTPUT if tensor is view.root else LEAF if tensor.requires_grad and tensor.is_leaf \
        else CONSTANT if constant else PLAIN
    # inside its scope's box the user's own name is unambiguous ("weight" in box "Linear_0")
    shown = tensor.name if tensor.name and view.scopes[id(tensor)] else name
    title = f"<b>{html.escape(shown)}</b>"
    details = []
    if show_shapes and tensor.size > 1:
        details.append(str(tuple(tensor.shape)))
    if tensor.dtype != get_default_dtype():
        details.append(str(tensor.dtype))
    if details:
        title += f' <font point-size="10">{html.escape(" ".join(details))}</font>'
    rows = [f'<tr><td bgcolor="{header}">{title}</td></tr>']
    if show_data and tensor.size <= max_elements:
        rows.append(f"<tr><td>data {html.escape(_format(tensor.data))}</td></tr>")
    if grad is not None:
        text = html.escape(_grad_text(np.asarray(grad), max_elements))
        background = f' bgcolor="{NEW_GRAD}"' if fresh else ""
        rows.append(f'<tr><td{background}><font color="{GRAD_COLOUR}">{text}</font></td></tr>')
    frame = ('border="1" style="dashed" cellborder="0" color="#868e96"' if constant
             else 'border="0" cellborder="1"')
    label = f'<<table {frame} cellspacing="0" cellpadding="4">{"".join(rows)}</table>>'
    if tensor is view.root:  # a bold frame around the table marks the output
        return {"shape": "box", "margin": "0", "penwidth": "2.5", "label": label}
    return {"shape": "plain", "label": label}


def _op_node(view: GraphView, tensor: Tensor, highlighted: bool) -> dict[str, str]:
    node = tensor._node
    symbol = node.symbol if len(node.inputs) <= 2 else None
    attrs = {"label": symbol or node.name, "ordering": "in", "style": "filled",
             "fillcolor": HIGHLIGHT if highlighted else "white",
             "tooltip": f"{view.name(tensor)} = {view.expression(tensor)}"}
    if symbol:
        attrs.update(shape="circle", width="0.36", fixedsize="true", fontsize="14")
    else:
        attrs.update(shape="box", style="rounded,filled", height="0.3", margin="0.08,0.03")
    if highlighted:
        attrs.update(penwidth="2.5", color=GRAD_COLOUR)
    return attrs


def _collapsed_boxes(view: GraphView,
                     gradients: Mapping[int, np.ndarray]) -> dict[str, tuple[str, dict]]:
    """scope -> (node id, attributes) of one box listing the scope's ops, parameters (with their
    gradient's norm when known) and output shape."""
    contents: dict[str, dict] = {}
    for tensor in view.values:
        node = tensor._node
        scope = node.scope if node is not None else view.scopes[id(tensor)]
        if scope is None:
            continue
        box = contents.setdefault(scope, {"ops": [], "params": [], "out": tensor})
        if node is not None:
            box["ops"].append(node.name)
            box["out"] = tensor
        else:  # a parameter: only leaves requiring grad are given a scope
            text = f"{tensor.name or view.name(tensor)} {tuple(tensor.shape)}"
            if id(tensor) in gradients:
                text += f"  ‖grad‖ = {number(np.linalg.norm(gradients[id(tensor)]))}"
            box["params"].append(text)
    boxes = {}
    for number_, (scope, box) in enumerate(contents.items()):
        lines = [f"<b>{html.escape(scope)}</b>", html.escape(" -> ".join(box["ops"]))]
        lines += [f'<font point-size="11">{html.escape(p)}</font>' for p in box["params"]]
        lines.append(f'<font point-size="11">out {tuple(box["out"].shape)}</font>')
        boxes[scope] = (f"scope{number_}", {"shape": "box", "style": "rounded,filled",
                                            "fillcolor": "#f1f3f5", "color": GREY,
                                            "margin": "0.15,0.08",
                                            "label": "<" + "<br/>".join(lines) + ">"})
    return boxes


def _emit_scopes(pic: Picture, members: dict[str | None, list[tuple[str, dict]]]) -> None:
    """Nodes outside any scope at top level; scope "a/b" as a box inside the box of "a"."""
    for node_id, attrs in members.pop(None, []):
        pic.node(node_id, **attrs)
    tree: dict = {}
    for scope in members:
        level = tree
        for part in scope.split("/"):
            level = level.setdefault(part, {})

    def emit(parent: Picture, level: dict, prefix: str) -> None:
        for part, children in level.items():
            scope = f"{prefix}/{part}" if prefix else part
            with parent.subgraph(name=f"cluster_{scope}") as box:
                box.attr(label=part, style="rounded,filled", fillcolor="#f8f9fa", color=GREY,
                         fontname=FONT, fontsize="12", fontcolor="#495057")
                for node_id, attrs in members.get(scope, []):
                    box.node(node_id, **attrs)
                emit(box, children, scope)

    emit(pic, tree, "")


def _emit_edges(pic: Picture, view: GraphView, rep: dict[int, str], box_ids: set[str],
                highlight: Tensor | None) -> None:
    """input -> op for every input position, op -> output; edges touching a collapsed box once."""
    drawn: set[tuple[str, str]] = set()

    def edge(tail: str, head: str, **attrs) -> None:
        if tail == head:
            return
        if tail in box_ids or head in box_ids:
            if (tail, head) in drawn:
                return
            drawn.add((tail, head))
        pic.edge(tail, head, **attrs)

    for tensor in view.values:
        node = tensor._node
        if node is None:
            continue
        red = {"color": GRAD_COLOUR, "penwidth": "2"} if tensor is highlight else {}
        for inp in node.inputs:
            edge(rep[id(inp)], rep[id(node)], **(red if inp.requires_grad else {}))
        edge(rep[id(node)], rep[id(tensor)], **red)
