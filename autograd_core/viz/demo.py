"""The worked example for the terminal: ``python -m nn example``."""

from __future__ import annotations

from pathlib import Path

import autograd_core as ag

from .frames import backward_frames, write_frames
from .page import step_through


def worked_example(out_dir: Path) -> None:
    """g = (x + y) * z at x = 1, y = 3, z = -3: print the forward values and the narrated
    backward pass; write the graph with its gradients to ``out_dir/worked_example.svg``, the
    backward frames to ``out_dir/worked_example_frames/`` and a page stepping through both
    passes to ``out_dir/worked_example_steps.html``."""
    out_dir = Path(out_dir)
    x = ag.tensor(1.0, requires_grad=True, name="x")
    y = ag.tensor(3.0, requires_grad=True, name="y")
    z = ag.tensor(-3.0, requires_grad=True, name="z")
    p = x + y
    p.name = "p"
    p.retain_grad()  # keep dg/dp for the picture: intermediate gradients are dropped otherwise
    g = p * z
    g.name = "g"
    print("Forward pass:")
    print(f"  x = {x.item():g}, y = {y.item():g}, z = {z.item():g}")
    print(f"  p = x + y = {x.item():g} + {y.item():g} = {p.item():g}")
    print(f"  g = p * z = {p.item():g} * ({z.item():g}) = {g.item():g}")
    print()
    print(ag.explain(g))
    frames = write_frames(backward_frames(g), out_dir / "worked_example_frames")
    page = step_through(g).save(out_dir / "worked_example_steps.html")
    g.backward()
    print()
    print("After g.backward():")
    for tensor in (x, y, z, p):
        print(f"  {tensor.name}.grad = dg/d{tensor.name} = {tensor.grad.item():g}")
    path = out_dir / "worked_example.svg"
    path.write_bytes(ag.draw(g).pipe("svg"))
    print(f"\nThe graph with its gradients: {path}")
    print(f"The backward pass step by step: {frames[0].parent}/frame_000.svg ... "
          f"{frames[-1].name}")
    print(f"Both passes, one step per click (open in a browser): {page}")
