"""Shared graphs for the viz tests: the worked example and a small MLP in name scopes.

A plain module (imported by name), not a conftest, so it cannot clash with other folders.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import autograd_core as ag

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(svg: bytes | str) -> list[str]:
    """The text of every label in an SVG picture (parsing also checks it is valid XML)."""
    root = ET.fromstring(svg)
    return [t.text.strip() for t in root.iter(f"{SVG}text") if t.text and t.text.strip()]


def worked_example(backward: bool = False):
    """g = (x + y) * z at x = 1, y = 3, z = -3, with p = x + y kept for its gradient."""
    x = ag.tensor(1.0, requires_grad=True, name="x")
    y = ag.tensor(3.0, requires_grad=True, name="y")
    z = ag.tensor(-3.0, requires_grad=True, name="z")
    p = x + y
    p.name = "p"
    p.retain_grad()
    g = p * z
    g.name = "g"
    if backward:
        g.backward()
    return x, y, z, p, g


def small_mlp(batch: int = 8):
    """A 3-layer MLP on a batch, each layer in its own name scope; returns (loss, params)."""
    ag.manual_seed(0)
    x = ag.randn(batch, 4)
    x.name = "X"
    h, params = x, []
    for layer, (n_in, n_out) in enumerate([(4, 6), (6, 6), (6, 3)], start=1):
        w = ag.randn(n_in, n_out, requires_grad=True)
        w.name = f"W{layer}"
        b = ag.zeros(n_out, requires_grad=True)
        b.name = f"b{layer}"
        params += [w, b]
        with ag.name_scope("mlp"), ag.name_scope(f"fc{layer}"):
            h = h @ w + b
            if layer < 3:
                h = h.relu()
    loss = (h**2).mean()
    loss.name = "loss"
    return loss, params
