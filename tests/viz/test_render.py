"""Rendering through dot or graphviz-pure, Jupyter display, and the missing-renderer error."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import graphviz
import pytest
from viz_examples import svg_texts, worked_example

import autograd_core as ag
from autograd_core.viz import RendererNotFoundError, find_renderer, render


def test_a_renderer_is_found_on_a_fresh_environment():
    assert os.path.basename(find_renderer()) in ("dot", "dot.exe", "graphviz-pure",
                                                 "graphviz-pure.exe")


def test_pipe_svg_png_and_text():
    picture = ag.draw(worked_example()[-1])
    ET.fromstring(picture.pipe())                         # svg bytes by default
    assert picture.pipe("svg", encoding="utf-8").lstrip().startswith("<?xml")
    assert picture.pipe("png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_writes_the_picture_alone_unless_the_source_is_wanted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    picture = ag.draw(worked_example()[-1])
    assert picture.render("g", format="svg") == "g.svg"  # the README tour's line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.svg"]
    path = picture.render(tmp_path / "kept", format="png", cleanup=False)
    assert path == os.fspath(tmp_path / "kept.png") and (tmp_path / "kept").exists()
    svg = picture.render(outfile=tmp_path / "pic.svg")
    with open(svg, "rb") as file:
        assert "g" in svg_texts(file.read())
    assert not (tmp_path / "pic.gv").exists()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_png_resolution_follows_dpi_and_svg_does_not():
    g = worked_example()[-1]
    sharp, plain = ag.draw(g), ag.draw(g, dpi=72)
    assert sharp.dpi == 144
    (w2, h2), (w1, h1) = png_size(sharp.pipe("png")), png_size(plain.pipe("png"))
    assert abs(w2 - 2 * w1) <= 2 and abs(h2 - 2 * h1) <= 2
    assert sharp.pipe("svg") == plain.pipe("svg")
    plain.dpi = 96  # the documented attribute works on any picture
    assert abs(png_size(plain.pipe("png"))[0] - w1 * 96 / 72) <= 2


def test_jupyter_display_is_svg():
    bundle = ag.draw(worked_example()[-1])._repr_mimebundle_()
    assert "x" in svg_texts(bundle["image/svg+xml"])


def test_graphviz_pure_is_used_when_dot_is_absent(monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)  # nothing on PATH
    assert "graphviz-pure" in os.path.basename(find_renderer())
    assert "+" in svg_texts(ag.draw(worked_example()[-1]).pipe("svg"))


def test_missing_renderer_names_both_ways_and_keeps_the_source(monkeypatch, tmp_path):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    monkeypatch.setattr(render, "_interpreter_script_dirs", lambda: [str(tmp_path)])
    picture = ag.draw(worked_example()[-1])
    assert picture.source.startswith("digraph") and "<b>x</b>" in picture.source
    with pytest.raises(RendererNotFoundError, match=r"`dot`.*pip install graphviz-pure"):
        picture.pipe("svg")
    with pytest.raises(graphviz.ExecutableNotFound):  # graphviz's own error catches it too
        picture.render(tmp_path / "g")


def test_renderer_failure_names_the_format():
    with pytest.raises(RuntimeError, match="'nonsense'"):
        render.render_source("digraph { a }", "nonsense")
