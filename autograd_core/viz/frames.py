"""Step-through pictures of the backward pass: one frame per op, as the engine visits them.

Frame 0 shows the forward graph with only d out / d out = 1. Each following frame highlights the
op being processed and fills in every gradient that is complete by then (a value's gradient is
complete once all the ops that consumed it have passed theirs back).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from .dot import draw
from .graph import collect, known_gradients
from .render import Picture


def backward_frames(t: Tensor, **draw_options) -> list[Picture]:
    """The pictures of the backward pass of ``t``, first to last (see the module docstring).

    Options are passed on to ``ag.draw`` (``rankdir``, ``max_elements`` ...).
    """
    view = collect(t)
    grads = known_gradients(view)
    pending = {id(v): 0 for v in view.values}
    for value in view.values:
        if value._node is not None:
            for inp in value._node.inputs:
                pending[id(inp)] += 1
    shown = {id(t): grads.get(id(t), np.ones_like(t.data))}
    frames = [draw(t, gradients=dict(shown), **draw_options)]
    for value in reversed(view.values):
        node = value._node
        if node is None or not value.requires_grad:
            continue
        for inp in node.inputs:
            pending[id(inp)] -= 1
            if pending[id(inp)] == 0 and id(inp) in grads:
                shown[id(inp)] = grads[id(inp)]
        frames.append(draw(t, gradients=dict(shown), highlight=node, **draw_options))
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
