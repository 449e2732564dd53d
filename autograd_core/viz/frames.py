"""Step-through pictures of the backward pass: one frame per op, outputs before inputs.

Frame 0 is the forward graph with only d out / d out = 1. Frame k highlights the op of step k of
``ag.explain`` (yellow, with red edges along which its gradient flows back), fills in the
gradients that this step completed (a value's gradient is complete once every op that read it
has passed its share back), and writes that step's narration above the picture.

The frames of one sequence hold still: the graph is measured once with every gradient filled in
and every caption, then each frame is drawn with those sizes (a value whose gradient is not
known yet shows an empty "grad ?" row of the final width; captions sit in a band of the height
of the longest). Graphviz lays out equal sizes identically, so the canvas and every node keep
their place from frame to frame.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from .dot import Geometry, caption_label, picture
from .explain import Narrator
from .graph import GraphView, backward_steps, collect, known_gradients
from .render import Picture, render_source


@dataclass
class Frame:
    """What one frame shows: the gradients known so far, the caption, the op being processed
    (``highlight``, a value made by that op), the values whose gradient it completed, and whether
    it is a step of the forward pass."""

    gradients: dict[int, np.ndarray]
    caption: str
    highlight: Tensor | None = None
    fresh: tuple[Tensor, ...] = ()
    forward: bool = False
    narration: list[str] = field(default_factory=list)


def backward_frames(t: Tensor, **draw_options) -> list[Picture]:
    """The pictures of the backward pass of ``t``, first to last (see the module docstring).

    ``draw_options`` are those of ``ag.draw`` (``show_data``, ``rankdir``, ``detail``,
    ``dpi``...). Nothing in the graph changes; gradients are computed without touching ``.grad``.

    >>> frames = ag.viz.backward_frames(g)          # g = (x + y) * z: 3 frames
    >>> ag.viz.write_frames(frames, "frames")       # frames/frame_000.svg ...
    """
    view, grads, narrator = prepare_graph(t, "backward_frames")
    return draw_frames(view, grads, backward_plan(view, grads, narrator), **draw_options)


def prepare_graph(t: Tensor,
                  caller: str) -> tuple[GraphView, dict[int, np.ndarray], Narrator]:
    """The graph of ``t``, its gradients and a narrator; ``t`` must need a backward pass."""
    view = collect(t)
    if not t.requires_grad:
        raise ValueError(f"{caller}: {view.name(t)} does not depend on any tensor that "
                         "requires grad, so there is no backward pass to show")
    grads = known_gradients(view)
    return view, grads, Narrator(view, grads)


def forward_plan(view: GraphView, narrator: Narrator) -> list[Frame]:
    """One frame per op in the order the forward pass ran them, no gradient known yet."""
    frames = []
    for number, value in enumerate((v for v in view.values if v._node is not None), start=1):
        line = narrator.forward_step(number, value)
        frames.append(Frame({}, line, highlight=value, forward=True, narration=[line]))
    return frames


def backward_plan(view: GraphView, grads: dict[int, np.ndarray],
                  narrator: Narrator) -> list[Frame]:
    """The seed d out / d out, then one frame per backward step (the steps of ``ag.explain``)."""
    root = view.root
    shown = {id(root): grads.get(id(root), np.ones_like(root.data))}
    title = narrator.title()
    frames = [Frame(dict(shown), title, narration=title.split("\n"))]
    for number, step in enumerate(backward_steps(view), start=1):
        shown.update((id(v), grads[id(v)]) for v in step.completed if id(v) in grads)
        lines = narrator.step(number, step)
        frames.append(Frame(dict(shown), "\n".join(lines), highlight=step.output,
                            fresh=tuple(step.completed), narration=lines))
    return frames


def draw_frames(view: GraphView, grads: dict[int, np.ndarray], plan: list[Frame],
                captions: bool = True, **draw_options) -> list[Picture]:
    """Draw every frame of ``plan`` with the sizes of one measurement (see the module
    docstring), so that all share the canvas size and node positions; ``captions=False``
    leaves the narration out of the pictures (a page shows it beside them)."""
    texts = [frame.caption if captions else None for frame in plan]
    geometry = measure(view, grads, [text for text in texts if text], draw_options)
    return [picture(view, frame.gradients, highlight=frame.highlight, fresh=frame.fresh,
                    forward=frame.forward, caption=text, geometry=geometry, **draw_options)
            for frame, text in zip(plan, texts)]


def measure(view: GraphView, grads: dict[int, np.ndarray], captions: list[str],
            draw_options: dict) -> Geometry:
    """Lay out the fullest frame (every gradient known) once, with each caption as a loose
    node, and read the sizes that every frame will then use."""
    full = picture(view, grads, **draw_options)
    for number, caption in enumerate(captions):
        full.node(f"caption{number}", shape="plain", fontsize="13",
                  label=caption_label(caption, None))
    layout = json.loads(render_source(full.source, "json0"))
    sizes = {obj["name"]: (float(obj["width"]), float(obj["height"]))
             for obj in layout.get("objects", []) if "width" in obj}
    slots = frozenset(grads)
    slot_nodes = {f"v{i}" for i, v in enumerate(view.values) if id(v) in slots}
    captions_sizes = [size for name, size in sizes.items() if name.startswith("caption")]
    band = (max(w for w, _ in captions_sizes), max(h for _, h in captions_sizes)) \
        if captions_sizes else (0.0, 0.0)
    return Geometry(widths={name: w * 72 for name, (w, _) in sizes.items() if name in slot_nodes},
                    boxes={name: size for name, size in sizes.items()
                           if name.startswith("scope")},
                    caption=band, slots=slots)


def write_frames(frames: list[Picture], folder: str | os.PathLike,
                 format: str = "svg") -> list[Path]:
    """Write ``frame_000.svg``, ``frame_001.svg`` ... into ``folder``; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, frame in enumerate(frames):
        path = folder / f"frame_{number:03d}.{format}"
        path.write_bytes(frame.pipe(format))
        paths.append(path)
    return paths
