"""The worked example for the terminal: ``python -m nn example``."""

from __future__ import annotations

from pathlib import Path

import autograd_core as ag


def worked_example(out_dir: Path) -> Path:
    """g = (x + y) * z at x = 1, y = 3, z = -3: print forward values and the narrated backward
    pass, write the graph (with gradients) as ``out_dir/worked_example.svg`` and return its
    path."""
    x = ag.tensor(1.0, requires_grad=True, name="x")
    y = ag.tensor(3.0, requires_grad=True, name="y")
    z = ag.tensor(-3.0, requires_grad=True, name="z")
    p = x + y
    p.name = "p"
    p.retain_grad()
    g = p * z
    g.name = "g"
    print("Forward pass:")
    print(f"  p = x + y = {x.item():g} + {y.item():g} = {p.item():g}")
    print(f"  g = p * z = {p.item():g} * {z.item():g} = {g.item():g}")
    print()
    print(ag.explain(g))
    g.backward()
    print()
    print("After g.backward():")
    for tensor in (x, y, z, p):
        print(f"  {tensor.name}.grad = dg/d{tensor.name} = {tensor.grad.item():g}")
    path = Path(ag.draw(g).render(Path(out_dir) / "worked_example", format="svg"))
    print(f"\nThe graph with its gradients: {path}")
    return path
