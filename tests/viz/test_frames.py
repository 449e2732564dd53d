"""Step-through frames of the backward pass, and the terminal's worked example."""

from __future__ import annotations

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
    assert any("dloss/dW1: shape (4, 6)" in t for t in svg_texts(frames[-1].pipe("svg")))


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
