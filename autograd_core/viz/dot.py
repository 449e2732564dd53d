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
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..tensor import Tensor, get_default_dtype
from .graph import GraphView, collect, known_gradients, number
from .render import Picture

LEAF, CONSTANT, OUTPUT, PLAIN = "#cfe2ff", "#e9ecef", "#ffd8a8", "#ffffff"
HIGHLIGHT, NEW_GRAD, GRAD_COLOUR, GREY = "#ffe066", "#fff3bf", "#c92a2a", "#868e96"
FORWARD_COLOUR, PENDING = "#1864ab", "#adb5bd"
FONT = "Helvetica"
DETAILS = ("auto", "values", "summary")
# Up to this many values, ``show_grad="auto"`` shows the gradient of every value (as micrograd
# does); beyond it only the ``.grad`` of leaves, which keeps large pictures readable.
SMALL_GRAPH = 40
# Deeper chains of ops than this are drawn top to bottom: they would be too wide for a slide.
DEEP_GRAPH = 4


def draw(t: Tensor, show_grad: bool | str = "auto", show_data: bool = True,
         show_shapes: bool = True, rankdir: str = "auto", collapse_scopes: bool = False,
         detail: str = "auto", max_elements: int = 12, dpi: int = 144) -> Picture:
    """The graph that produced ``t`` as a ``graphviz.Digraph`` (displays inline in Jupyter).

    - ``show_grad``: "auto" (the default) shows, once backward() has run, the gradient of every
      value in graphs of up to 40 values (computed aside while the graph holds its saved values,
      or after a backward() that freed them by running each op again; the leaves show their
      ``.grad``), and the ``.grad`` of leaves in larger ones; True shows the ``.grad`` that
      backward() left (on leaves, and on tensors that called ``retain_grad()``); "all" computes
      d t / d v for every value v without touching ``.grad`` (on a freed graph, not through an
      op that draws random numbers or was written in place since); False shows none.
    - ``detail``: "auto" writes the numbers of tensors with at most ``max_elements`` (12)
      elements, data and gradient alike, and a summary of larger ones (mean and standard
      deviation of the data, norm of the gradient); "values" writes the numbers of every tensor
      (numpy's "..." shortens big ones); "summary" summarises every tensor of more than one
      element. Numbers have 4 significant digits everywhere; a column (n, 1) is written as a
      transposed row.
    - ``show_data`` / ``show_shapes``: the data rows, and the shape of every array.
    - ``rankdir``: "auto" draws graphs with name scopes (layers) or chains of more than 4 ops
      top to bottom ("TB") and small graphs left to right ("LR"); or give "LR" / "TB".
    - ``collapse_scopes``: each name scope as one box listing its ops and parameters.
    - ``dpi``: the resolution of PNG and other bitmap renderings (``Picture.dpi``); 144 by
      default, 72 for Graphviz's own size.

    ``.pipe()`` gives SVG bytes, ``.render("g", format="png")`` writes ``g.png``.

    >>> x = ag.tensor(2.0, requires_grad=True, name="x")
    >>> ag.draw(x * x + 1).pipe()[:5]
    b'<?xml'
    """
    if show_grad not in (True, False, "all", "auto"):
        raise ValueError(f"draw: show_grad must be True, False, 'all' or 'auto', got {show_grad!r}")
    view = collect(t)
    left = {id(v): v.grad.data for v in view.values if v.grad is not None}
    if show_grad == "all" or (show_grad == "auto" and left and len(view.values) <= SMALL_GRAPH):
        gradients = {**known_gradients(view), **left}
    elif show_grad:
        gradients = left
    else:
        gradients = {}
    if gradients:  # after a backward pass, d out / d out = 1 completes the picture
        gradients.setdefault(id(view.root), np.ones_like(view.root.data))
    return picture(view, gradients, show_data=show_data, show_shapes=show_shapes,
                   rankdir=rankdir, collapse_scopes=collapse_scopes, detail=detail,
                   max_elements=max_elements, dpi=dpi)


def choose_rankdir(view: GraphView, rankdir: str) -> str:
    """ "LR" or "TB" as given; for "auto", TB for layered (scoped) or deep graphs, else LR."""
    if rankdir not in ("auto", "LR", "TB", "RL", "BT"):
        raise ValueError(f"draw: rankdir must be 'auto', 'LR' or 'TB', got {rankdir!r}")
    if rankdir != "auto":
        return rankdir
    depth: dict[int, int] = {}
    for value in view.values:
        node = value._node
        depth[id(value)] = 0 if node is None else 1 + max(depth[id(i)] for i in node.inputs)
    layered = any(scope is not None for scope in view.scopes.values())
    return "TB" if layered or max(depth.values()) > DEEP_GRAPH else "LR"


@dataclass
class Geometry:
    """Sizes that hold the picture still from frame to frame (see ``frames``): the width in
    points of each value's table, the (width, height) in inches of each collapsed scope box and
    of the caption, and the values that get a gradient row, empty ("grad ?") until it is known."""

    widths: Mapping[str, float]
    boxes: Mapping[str, tuple[float, float]]
    caption: tuple[float, float]
    slots: frozenset[int]


def picture(view: GraphView, gradients: Mapping[int, np.ndarray], *, show_data: bool = True,
            show_shapes: bool = True, rankdir: str = "auto", collapse_scopes: bool = False,
            detail: str = "auto", max_elements: int = 12, dpi: int = 144,
            highlight: Tensor | None = None, forward: bool = False,
            fresh: tuple[Tensor, ...] = (), caption: str | None = None,
            geometry: Geometry | None = None) -> Picture:
    """Draw ``view`` with the given gradients (id(value) -> array).

    For step-through frames: ``highlight`` is the value whose op is being processed (the op is
    filled yellow; the edges its gradient flows back along are red, or with ``forward=True``
    the edges the forward pass takes are blue), ``fresh`` the values whose gradient that step
    completed, ``caption`` the text written above the picture and ``geometry`` the sizes that
    keep every frame of a sequence the same.
    """
    if detail not in DETAILS:
        raise ValueError(f"draw: detail must be one of {', '.join(DETAILS)}, got {detail!r}")
    graph_attr = {"rankdir": choose_rankdir(view, rankdir), "fontname": FONT, "nodesep": "0.25",
                  "ranksep": "0.35"}
    if caption:
        graph_attr.update(label=caption_label(caption, geometry and geometry.caption),
                          labelloc="t", labeljust="l", fontsize="13")
    pic = Picture(name="graph", format="svg", graph_attr=graph_attr,
                  node_attr={"fontname": FONT, "fontsize": "12"},
                  edge_attr={"arrowsize": "0.7", "color": "#495057"})
    pic.dpi = dpi
    ids = {id(v): str(i) for i, v in enumerate(view.values)}
    scopes = dict(view.scopes)
    box_of = {}
    if collapse_scopes:
        box_of = _collapsed_boxes(view, gradients, geometry)
        scopes[id(view.root)] = None  # the output stays visible, outside the boxes
    members: dict[str | None, list[tuple[str, dict]]] = {None: list(box_of.values())}
    rep = {}  # id(value) or id(node) -> the picture node that shows it
    fresh_ids = {id(v) for v in fresh}
    text = Formatter(detail, max_elements)
    for tensor in view.values:
        scope = scopes[id(tensor)]
        if scope in box_of:
            rep[id(tensor)] = box_of[scope][0]
        else:
            rep[id(tensor)] = f"v{ids[id(tensor)]}"
            grad = gradients.get(id(tensor))
            slot = geometry is not None and id(tensor) in geometry.slots
            attrs = _value_node(view, tensor, grad, text, show_data, show_shapes,
                                id(tensor) in fresh_ids, slot,
                                geometry.widths.get(rep[id(tensor)]) if geometry else None)
            members.setdefault(scope, []).append((rep[id(tensor)], attrs))
        node = tensor._node
        if node is None:
            continue
        if node.scope in box_of:
            rep[id(node)] = box_of[node.scope][0]
            if tensor is highlight:  # the op's collapsed box stands for it
                box_of[node.scope][1].update(fillcolor=HIGHLIGHT, penwidth="2.5",
                                             color=GRAD_COLOUR)
        else:
            rep[id(node)] = f"op{ids[id(tensor)]}"
            attrs = _op_node(view, tensor, highlighted=tensor is highlight)
            members.setdefault(node.scope, []).append((rep[id(node)], attrs))
    _emit_scopes(pic, members, graph_attr["rankdir"])
    _emit_edges(pic, view, rep, {box_id for box_id, _ in box_of.values()}, highlight, forward)
    pic.highlighted = rep[id(highlight._node)] if highlight is not None else None
    return pic


def caption_label(caption: str, size: tuple[float, float] | None) -> str:
    """The caption as a left-aligned block; given a size (inches), a block of exactly that size
    with the text at its top left, so that captions of different lengths take the same room."""
    lines = "".join(f'{html.escape(line)}<br align="left"/>' for line in caption.split("\n"))
    if size is None:
        return f"<{lines}>"
    # a little room under the text keeps the caption off the picture
    width, height = math.ceil(size[0] * 72), math.ceil(size[1] * 72) + 8
    return (f'<<table border="0" cellspacing="0" cellpadding="0"><tr><td width="{width}" '
            f'height="{height}" align="left" valign="top" balign="left">{lines}</td></tr>'
            "</table>>")


class Formatter:
    """The one way pictures write a tensor's data and gradient, for a ``detail`` level."""

    def __init__(self, detail: str, max_elements: int) -> None:
        self.detail, self.max_elements = detail, max_elements

    def numbers_shown(self, array: np.ndarray) -> bool:
        if array.size == 1 or self.detail == "values":
            return True
        return self.detail == "auto" and array.size <= self.max_elements

    def data(self, array: np.ndarray) -> list[str]:
        if self.numbers_shown(array):
            return _lines("data ", format_array(array))
        return [f"mean {number(array.mean())}, std {number(array.std())}"]

    def grad(self, array: np.ndarray) -> list[str]:
        if self.numbers_shown(array):
            return _lines("grad ", format_array(array))
        return [f"‖grad‖ = {number(np.linalg.norm(array))}"]


def _lines(prefix: str, text: str) -> list[str]:
    """``prefix`` before the first line, the others indented under it."""
    first, *rest = text.split("\n")
    return [prefix + first] + [" " * len(prefix) + line for line in rest]


def format_array(array: np.ndarray) -> str:
    """Numbers with 4 significant digits; a matrix one row per line, a column (n, 1) as a
    transposed row so that it stays narrow.

    >>> format_array(np.array([[1.0], [2.5]]))
    '[1, 2.5]ᵀ'
    """
    array = np.asarray(array)
    if array.size == 1:
        return number(array.reshape(-1)[0])
    if array.ndim == 2 and array.shape[1] == 1:
        return format_array(array[:, 0]) + "ᵀ"
    text = np.array2string(array, separator=", ", formatter={"all": number},
                           max_line_width=72, threshold=64, edgeitems=3)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _rows(lines: list[str], colour: str | None = None, background: str = "") -> str:
    """One table row holding ``lines`` (several: aligned on the left), optionally coloured."""
    # leading spaces (the indent of a matrix's later rows) would be dropped by Graphviz
    text = '<br align="left"/>'.join(
        "&#160;" * (len(line) - len(line.lstrip(" "))) + html.escape(line.lstrip(" "))
        for line in lines)
    if colour:
        text = f'<font color="{colour}">{text}</font>'
    if len(lines) > 1:
        return f'<tr><td{background} align="left">{text}<br align="left"/></td></tr>'
    return f"<tr><td{background}>{text}</td></tr>"


def _value_node(view: GraphView, tensor: Tensor, grad: np.ndarray | None, text: Formatter,
                show_data: bool, show_shapes: bool, fresh: bool, slot: bool,
                width: float | None) -> dict[str, str]:
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
    size = f' width="{math.ceil(width)}"' if width else ""
    rows = [f'<tr><td bgcolor="{header}"{size}>{title}</td></tr>']
    if show_data:
        rows.append(_rows(text.data(tensor.data)))
    if grad is not None:
        rows.append(_rows(text.grad(np.asarray(grad)), GRAD_COLOUR,
                          f' bgcolor="{NEW_GRAD}"' if fresh else ""))
    elif slot:  # the row its gradient will fill, as many lines high
        lines = text.grad(np.zeros(tensor.shape))
        rows.append(_rows(["grad ?"] + [""] * (len(lines) - 1), PENDING))
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


def _collapsed_boxes(view: GraphView, gradients: Mapping[int, np.ndarray],
                     geometry: Geometry | None = None) -> dict[str, tuple[str, dict]]:
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
        node_id = f"scope{number_}"
        attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": "#f1f3f5",
                 "color": GREY, "margin": "0.15,0.08", "label": "<" + "<br/>".join(lines) + ">"}
        if geometry is not None and node_id in geometry.boxes:
            width, height = geometry.boxes[node_id]
            attrs.update(width=str(width), height=str(height), fixedsize="true")
        boxes[scope] = (node_id, attrs)
    return boxes


def _emit_scopes(pic: Picture, members: dict[str | None, list[tuple[str, dict]]],
                 rankdir: str) -> None:
    """Nodes outside any scope at top level; scope "a/b" as a box inside the box of "a".

    Drawn top to bottom, a box's name sits at its top right: the main path comes in at the
    middle or, beside parameters (which ``ordering=in`` puts on the right), at the left."""
    for node_id, attrs in members.pop(None, []):
        pic.node(node_id, **attrs)
    tree: dict = {}
    for scope in members:
        level = tree
        for part in scope.split("/"):
            level = level.setdefault(part, {})
    top_down = rankdir in ("TB", "BT")

    def label(part: str) -> str:
        if not top_down:
            return part
        # the name at the right of a band twice its width: the box is at least that wide, so
        # an edge coming in at its middle passes beside the name, not through it
        width = 2 * math.ceil(7.5 * len(part)) + 12
        return (f'<<table border="0" cellpadding="0" cellspacing="0"><tr><td width="{width}" '
                f'align="right">{html.escape(part)}</td></tr></table>>')

    def emit(parent: Picture, level: dict, prefix: str) -> None:
        for part, children in level.items():
            scope = f"{prefix}/{part}" if prefix else part
            with parent.subgraph(name=f"cluster_{scope}") as box:
                box.attr(label=label(part), style="rounded,filled", fillcolor="#f8f9fa",
                         color=GREY, fontname=FONT, fontsize="12", fontcolor="#495057",
                         labeljust="r" if top_down else "c")
                for node_id, attrs in members.get(scope, []):
                    box.node(node_id, **attrs)
                emit(box, children, scope)

    emit(pic, tree, "")


def _emit_edges(pic: Picture, view: GraphView, rep: dict[int, str], box_ids: set[str],
                highlight: Tensor | None, forward: bool = False) -> None:
    """input -> op for every input position, op -> output; edges touching a collapsed box once.

    The highlighted op's edges are red where its gradient flows back (to inputs that require
    grad), or blue for a forward step."""
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
        bold = {}
        if tensor is highlight:
            bold = {"color": FORWARD_COLOUR if forward else GRAD_COLOUR, "penwidth": "2"}
        # The first operand and the result form the main path, kept straight; the other
        # operands (weights, biases) come in from the side. Entering another scope's box, the
        # main path skips a rank, where that box's parameters sit, so that boxes stack instead
        # of being pushed sideways.
        for index, inp in enumerate(node.inputs):
            style = dict(bold) if forward or inp.requires_grad else {}
            if index == 0:
                style["weight"] = "3"
                if len(node.inputs) > 1 and node.scope not in (None, view.scopes[id(inp)]):
                    style["minlen"] = "2"
            edge(rep[id(inp)], rep[id(node)], **style)
        edge(rep[id(node)], rep[id(tensor)], weight="3", **bold)
