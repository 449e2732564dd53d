"""ag.draw, rendering, ag.explain and the step-through frames, on the worked example and an MLP."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.viz import backward_frames, render, write_frames
from autograd_core.viz.demo import worked_example

SVG = "{http://www.w3.org/2000/svg}"


def worked(backward: bool = True):
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


def svg_texts(svg: bytes | str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text for t in root.iter(f"{SVG}text") if t.text]


def test_draw_worked_example_svg_shows_values_and_gradients():
    *_, g = worked()
    texts = svg_texts(ag.draw(g).pipe("svg"))
    for expected in ["x", "y", "z", "p", "g", "data 1", "data 3", "data -3", "data 4", "data -12",
                     "grad -3", "grad 4", "grad 1", "+", "×"]:
        assert expected in texts, expected


def test_draw_before_backward_shows_no_gradients_and_changes_nothing():
    x, y, z, p, g = worked(backward=False)
    texts = svg_texts(ag.draw(g).pipe("svg"))
    assert not any(t.startswith("grad") for t in texts)
    print(ag.explain(g), len(backward_frames(g)))
    assert x.grad is None and p.grad is None
    g.backward()  # the graph was not freed by the pictures
    assert x.grad.item() == -3.0


def test_value_used_twice_gets_two_edges():
    x = ag.tensor(2.0, requires_grad=True, name="x")
    source = ag.draw(x * x).source
    assert len(re.findall(rf"v{id(x)} -> o\d+", source)) == 2


def test_leaves_constants_and_output_are_styled_apart():
    x = ag.tensor(2.0, requires_grad=True, name="x")
    out = x * 3.0
    source = ag.draw(out).source
    assert "#cfe2ff" in source       # the leaf's header
    assert "style=dashed" in source  # the constant 3
    assert "penwidth=2" in source    # the output


def test_name_scopes_become_nested_clusters_and_collapse_to_boxes():
    ag.manual_seed(0)
    x = ag.randn(8, 4)
    h = x
    for layer, (n_in, n_out) in enumerate([(4, 6), (6, 6), (6, 3)]):
        w = ag.randn(n_in, n_out, requires_grad=True)
        w.name = "W"
        with ag.name_scope("mlp"), ag.name_scope(f"fc{layer + 1}"):
            h = (h @ w).tanh()
    loss = h.sum()
    loss.backward()
    source = ag.draw(loss).source
    assert "cluster_mlp" in source and "cluster_mlp/fc2" in source
    collapsed = ag.draw(loss, collapse_scopes=True)
    texts = svg_texts(collapsed.pipe("svg"))
    assert "mlp/fc1" in texts and "matmul → tanh" in texts and "W (4, 6)" in texts
    assert collapsed.source.count("->") == 4  # x -> fc1 -> fc2 -> fc3 -> sum


def test_large_arrays_show_shape_and_gradient_norm():
    w = ag.tensor(np.ones((5, 5)), requires_grad=True, name="W")
    loss = (w * 2.0).sum()
    loss.backward()
    texts = svg_texts(ag.draw(loss).pipe("svg"))
    assert "(5, 5) float64" in texts
    assert any(t.startswith("grad ‖grad‖ = 10") for t in texts)


def test_explain_narrates_the_chain_rule_with_numbers():
    *_, g = worked()
    text = str(ag.explain(g))
    assert "dg/dz = p = 4" in text
    assert "dg/dp = z = -3" in text
    assert "dg/dx = dg/dp * dp/dx = -3 * 1 = -3" in text
    assert "dg/dy = dg/dp * dp/dy = -3 * 1 = -3" in text


def test_explain_sums_paths_and_reports_tensor_norms():
    a = ag.tensor(2.0, requires_grad=True, name="a")
    assert "summed: dout/da = 4" in str(ag.explain(a * a))
    w = ag.tensor(np.ones((3, 2)), requires_grad=True, name="W")
    text = str(ag.explain((ag.tensor(np.ones((4, 3))) @ w).sum()))
    assert "dout/dW via matmul" in text and "shape (3, 2), norm" in text


def test_frames_walk_backward_one_op_at_a_time(tmp_path):
    *_, g = worked()
    frames = backward_frames(g)
    assert len(frames) == 3  # the forward picture, then mul, then add
    first, second, last = (svg_texts(f.pipe("svg")) for f in frames)
    assert "grad 1" in first and "grad -3" not in first
    assert "grad 4" in second and "grad -3" in second  # z and p, once mul is done
    assert last.count("grad -3") == 3                   # x, y and p
    assert render.Picture  # frames are Pictures
    assert "#ffe066" in frames[1].source  # the op being processed is highlighted
    paths = write_frames(frames, tmp_path / "frames")
    assert [p.name for p in paths] == ["frame_000.svg", "frame_001.svg", "frame_002.svg"]
    for path in paths:
        ET.fromstring(path.read_bytes())


def test_missing_renderer_names_both_ways_and_keeps_the_source(monkeypatch, tmp_path):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    monkeypatch.setattr(render.sysconfig, "get_path", lambda name: str(tmp_path))
    monkeypatch.setattr(render.sys, "executable", str(tmp_path / "python"))
    *_, g = worked()
    picture = ag.draw(g)
    assert "digraph" in picture.source
    with pytest.raises(render.RendererNotFoundError, match="dot.*graphviz-pure"):
        picture.pipe("svg")


def test_jupyter_display_is_svg():
    *_, g = worked()
    bundle = ag.draw(g)._repr_mimebundle_()
    ET.fromstring(bundle["image/svg+xml"])


def test_worked_example_main_job_prints_and_writes_svg(tmp_path, capsys):
    path = worked_example(tmp_path)
    out = capsys.readouterr().out
    assert "g = p * z = 4 * -3 = -12" in out and "x.grad = dg/dx = -3" in out
    assert "dg/dx = dg/dp * dp/dx = -3 * 1 = -3" in out
    assert "grad 4" in svg_texts(path.read_bytes())
