"""Step-through frames of the backward pass, and the terminal's worked example."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from viz_examples import small_mlp, svg_texts, worked_example

import autograd_core as ag
from autograd_core.viz import Picture, backward_frames, write_frames
from autograd_core.viz.demo import worked_example as main_job


def test_one_frame_per_op_with_the_gradients_known_so_far(tmp_path):
    x, y, z, p, g = worked_example()
    frames = backward_frames(g)
    assert len(frames) == 3 and all(isinstance(f, Picture) for f in frames)
    first, second, last = (svg_texts(f.pipe("svg")) for f in frames)
    assert "grad 1" in first and not any(t in first for t in ("grad -3", "grad 4"))
    assert "dg/dg = 1" in first
    assert "step 1: g = p * z" in second and "dg/dz = p = 4" in second
    assert second.count("grad -3") == 1 and "grad 4" in second  # p and z, once mul is done
    assert last.count("grad -3") == 3                            # x, y and p
    assert "dg/dx = dg/dp * dp/dx = -3 * 1 = -3" in last
    assert "#ffe066" not in frames[0].source and "#ffe066" in frames[1].source  # the op
    assert x.grad is None  # the frames computed their gradients aside
    paths = write_frames(frames, tmp_path / "frames")
    assert [p.name for p in paths] == ["frame_000.svg", "frame_001.svg", "frame_002.svg"]
    assert "+" in svg_texts(paths[2].read_bytes())


def test_frames_take_draw_options_and_work_on_tensor_graphs():
    loss, _ = small_mlp()
    frames = backward_frames(loss, rankdir="TB", show_data=False)
    assert len(frames) == 1 + 10  # the forward picture; mean, **, and 3 + 3 + 2 layer ops
    assert "rankdir=TB" in frames[-1].source
    texts = svg_texts(frames[-1].pipe("svg"))
    assert any("dloss/dW1 = X^T @ dloss/dt1: shape (4, 6)" in t for t in texts)


def test_frames_refuse_a_tensor_without_graph():
    with pytest.raises(ValueError, match="no backward pass"):
        backward_frames(ag.tensor(1.0))


def test_main_job_prints_the_worked_example_and_writes_svg(tmp_path, capsys):
    main_job(tmp_path)
    out = capsys.readouterr().out
    assert "g = p * z = 4 * (-3) = -12" in out and "x.grad = dg/dx = -3" in out
    assert "dg/dz = p = 4" in out and "dg/dx = dg/dp * dp/dx = -3 * 1 = -3" in out
    texts = svg_texts((tmp_path / "worked_example.svg").read_bytes())
    assert texts.count("grad -3") == 3 and "grad 4" in texts
    assert (tmp_path / "worked_example_frames" / "frame_002.svg").exists()
    assert "forward 1: p = x + y" in (tmp_path / "worked_example_steps.html").read_text()


SVG_NS = "{http://www.w3.org/2000/svg}"


def node_positions(svg: bytes) -> dict[str, str]:
    """Each node's name and the coordinates of its first shape (its place on the canvas)."""
    root = ET.fromstring(svg)
    places = {}
    for group in root.iter(f"{SVG_NS}g"):
        if group.get("class") != "node":
            continue
        shape = next(e for e in group.iter() if e.tag in (f"{SVG_NS}polygon", f"{SVG_NS}ellipse",
                                                   f"{SVG_NS}path"))
        places[group.find(f"{SVG_NS}title").text] = " ".join(
            shape.get(key) for key in ("points", "cx", "cy", "d") if shape.get(key))
    return places


def png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.parametrize("case", ["worked", "mlp", "collapsed"])
def test_frames_of_one_sequence_share_canvas_and_node_positions(case):
    if case == "worked":
        frames = backward_frames(worked_example()[-1])
    else:
        frames = backward_frames(small_mlp(batch=2)[0], collapse_scopes=case == "collapsed")
    svgs = [frame.pipe("svg") for frame in frames]
    roots = [ET.fromstring(svg) for svg in svgs]
    assert len({(r.get("width"), r.get("height")) for r in roots}) == 1
    places = [node_positions(svg) for svg in svgs]
    assert all(p == places[0] for p in places[1:]) and len(places[0]) > 5
    sizes = {png_size(frame.pipe("png")) for frame in frames[:3]}
    assert len(sizes) == 1
    captions = [svg_texts(svg)[0] for svg in svgs]  # each frame its own narration
    assert len(set(captions)) == len(captions)


def test_pending_gradients_are_empty_rows_until_their_step():
    frames = backward_frames(worked_example()[-1])
    first, last = (svg_texts(f.pipe("svg")) for f in (frames[0], frames[-1]))
    assert first.count("grad ?") == 4 and "grad ?" not in last   # x, y, z, p
