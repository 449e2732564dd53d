"""The lesson notebooks teach first: their checks sit in one collapsed, tagged cell at the end.

(The suite executes the notebooks themselves through nbmake.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WITH_CHECKS_CELL = NOTEBOOKS


def code_cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [cell for cell in cells if cell["cell_type"] == "code"]


def test_the_ten_lessons_are_there():
    assert len(NOTEBOOKS) == 10


@pytest.mark.parametrize("path", WITH_CHECKS_CELL, ids=lambda p: p.stem)
def test_checks_are_collapsed_at_the_end_and_lessons_hold_none(path):
    *lesson, checks = code_cells(path)
    assert "checks" in checks["metadata"].get("tags", [])
    assert checks["metadata"]["jupyter"]["source_hidden"] is True
    assert "assert" in "".join(checks["source"])
    for cell in lesson:
        source = "".join(cell["source"])
        assert "assert" not in source and "checks" not in cell["metadata"].get("tags", [])


def test_notebook_01_opens_with_the_example_and_has_the_intuition_cell():
    first, *_ = code_cells(NOTEBOOKS[0])
    source = "".join(first["source"])
    assert "ElementTree" not in source and "def labels" not in source
    assert 'x = ag.tensor(1.0, requires_grad=True, name="x")' in source
    everything = "".join("".join(c["source"]) for c in code_cells(NOTEBOOKS[0]))
    assert "g_of(1 + eps, 3, -3) - g_of(1, 3, -3)" in everything
    assert "ag.viz.step_through(g)" in everything
