"""Teaching tools: pictures of the graph, a narrated backward pass, step-through frames.

They only read the graph. ``ag.draw`` and ``ag.explain`` are re-exported at the top level.

>>> ag.draw(g)                               # the graph, inline in Jupyter
>>> print(ag.explain(g))                     # dg/dz = p = 4 ...
>>> frames = ag.viz.backward_frames(g)       # one picture per backward step
>>> ag.viz.write_frames(frames, "frames")    # frames/frame_000.svg ...
>>> ag.viz.step_through(g).save("steps.html")  # forward then backward, one step per click
"""

from .dot import draw
from .explain import Explanation, explain
from .frames import backward_frames, write_frames
from .page import StepThrough, step_through
from .render import Picture, RendererNotFoundError, find_renderer, render_source

__all__ = ["draw", "explain", "Explanation", "backward_frames", "write_frames", "step_through",
           "StepThrough", "Picture",
           "RendererNotFoundError", "find_renderer", "render_source"]
