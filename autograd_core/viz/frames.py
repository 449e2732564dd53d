"""Step-through pictures of the backward pass: one frame per op, outputs before inputs.

Frame 0 is the forward graph with only d out / d out = 1. Frame k highlights the op of step k of
``ag.explain`` (yellow, with red edges along which its gradient flows back), fills in the
gradients that this step completed (a value's gradient is complete once every op that read it
has passed its share back), and writes that step's narration above the picture.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from .dot import picture
from .explain import Narrator
from .graph import backward_steps, collect, known_gradients
from .render import Picture


def backward_frames(t: Tensor, **draw_options) -> list[Picture]:
    """The pictures of the backward pass of ``t``, first to last (see the module docstring).

    ``draw_options`` are those of ``ag.draw`` (``show_data``, ``rankdir``, ``max_elements``...).
    Nothing in the graph changes; gradients are computed without touching ``.grad``.

    >>> frames = ag.viz.backward_frames(g)          # g = (x + y) * z: 3 frames
    >>> ag.viz.write_frames(frames, "frames")       # frames/frame_000.svg ...
    """
    view = collect(t)
    if not t.requires_grad:
        raise ValueError(f"backward_frames: {view.name(t)} does not depend on any tensor that "
                         "requires grad, so there is no backward pass to show")
    grads = known_gradients(view)
    narrator = Narrator(view, grads)
    shown = {id(t): grads.get(id(t), np.ones_like(t.data))}
    frames = [picture(view, dict(shown), caption=narrator.title(), **draw_options)]
    for number, step in enumerate(backward_steps(view), start=1):
        shown.update((id(v), grads[id(v)]) for v in step.completed if id(v) in grads)
        frames.append(picture(view, dict(shown), highlight=step.output,
                              fresh=tuple(step.completed),
                              caption="\n".join(narrator.step(number, step)), **draw_options))
    return frames


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
