"""ag.viz.step_through: the page's content, and the page driven in a real headless browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from viz_examples import small_mlp, worked_example

import autograd_core as ag

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium() -> str | None:
    """Debian's chromium (Playwright's own browser download is not needed)."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return found if os.path.exists(found) else None


def test_page_holds_forward_then_backward_steps_standalone(tmp_path):
    x, y, z, p, g = worked_example()
    page = ag.viz.step_through(g)
    assert len(page) == 2 + 3  # two forward ops, the seed and two backward steps
    assert page.narrations[0] == "forward 1: p = x + y = 1 + 3 = 4"
    assert page.narrations[1] == "forward 2: g = p * z = 4 * (-3) = -12"
    assert page.narrations[3] == "step 1: g = p * z\n  dg/dp = z = -3\n  dg/dz = p = 4"
    assert page.highlights[0] != page.highlights[1] and page.highlights[2] is None
    fragment = page._repr_html_()
    assert fragment.count('class="ag-frame"') == 5 and "<?xml" not in fragment
    saved = Path(page.save(tmp_path / "steps.html")).read_text(encoding="utf-8")
    assert saved.startswith("<!DOCTYPE html>")
    for fetch in ("<script src", "<link", "<img", "@import", "url("):  # nothing to download
        assert fetch not in saved
    assert x.grad is None  # the page computed its gradients aside


def test_page_in_a_headless_browser(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium()
    if executable is None:
        pytest.skip("no chromium browser installed")
    *_, g = worked_example()
    page_data = ag.viz.step_through(g)
    path = page_data.save(tmp_path / "steps.html")
    requests = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 700})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(path.as_uri())
            root = page.locator(".ag-steps")
            seen = []
            for step, expected in enumerate(page_data.narrations):
                assert root.get_attribute("data-step") == str(step)
                assert page.locator(".ag-note:visible").inner_text() == expected
                assert page.locator(".ag-frame:visible").count() == 1
                highlighted = page.evaluate("""() => {
                    const frame = [...document.querySelectorAll('.ag-frame')]
                        .find(f => f.style.display !== 'none');
                    const shape = frame.querySelector('.node [fill="#ffe066"]');
                    return shape ? shape.closest('.node').querySelector('title').textContent
                                 : null; }""")
                assert highlighted == (page_data.highlights[step])
                seen.append(highlighted)
                if step % 2:
                    page.keyboard.press("ArrowRight")
                else:
                    page.click(".ag-next")
            assert root.get_attribute("data-step") == str(len(page_data) - 1)  # stops at the end
            assert len({h for h in seen if h}) >= 2    # the highlighted op moved
            page.click(".ag-prev")
            page.keyboard.press("ArrowLeft")
            assert root.get_attribute("data-step") == str(len(page_data) - 3)
            page.locator(".ag-slider").fill("1")
            assert page.locator(".ag-note:visible").inner_text() == page_data.narrations[1]
            page.locator(".ag-slider").fill(str(len(page_data) - 1))
            shot = tmp_path / "steps.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert requests == [path.as_uri()]  # one file, no network


def test_collapsed_layers_are_highlighted_as_boxes():
    page = ag.viz.step_through(small_mlp(batch=2)[0], collapse_scopes=True)
    boxes = [h for h in page.highlights if h and h.startswith("scope")]
    assert {"scope0", "scope1", "scope2"} <= set(boxes)
    for svg, highlight in zip(page.svgs, page.highlights):
        if highlight:
            node = svg.split(f"<title>{highlight}</title>")[1].split("</g>")[0]
            assert 'fill="#ffe066"' in node
