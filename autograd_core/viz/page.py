"""``ag.viz.step_through``: the forward pass, then the backward pass, one step at a time on a page.

The page holds every frame (pictures of one layout, see ``frames``) with its narration beside
it; next / previous buttons, a slider and the arrow keys move between them. It shows inline in
Jupyter and saves as one standalone HTML file: the SVG pictures, the style and the script are
all inlined, so it opens without a network (on a laptop in a lecture hall, or attached to a mail).
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re
from pathlib import Path

from ..tensor import Tensor
from .frames import backward_plan, draw_frames, forward_plan, prepare_graph

_ids = itertools.count()

STYLE = """
.ag-steps { font-family: Helvetica, Arial, sans-serif; color: #212529; outline: none; }
.ag-steps .ag-bar { display: flex; align-items: center; gap: 0.6em; margin-bottom: 0.6em; }
.ag-steps button { font-size: 1em; padding: 0.2em 0.9em; cursor: pointer; }
.ag-steps input[type=range] { flex: 1; max-width: 28em; }
.ag-steps .ag-body { display: flex; gap: 1.5em; align-items: flex-start; flex-wrap: wrap; }
.ag-steps .ag-picture { flex: 1 1 55%; min-width: 20em; }
.ag-steps .ag-picture svg { width: 100%; height: auto; }
.ag-steps .ag-side { flex: 1 1 30%; min-width: 22em; position: sticky; top: 0.5em; }
.ag-steps .ag-phase { font-weight: bold; margin-bottom: 0.4em; }
.ag-steps pre.ag-note { margin: 0; white-space: pre-wrap; font-size: 1.05em; line-height: 1.5;
  background: #f8f9fa; border-left: 4px solid #ffe066; padding: 0.6em 0.8em; }
"""

SCRIPT = """
(function () {
  const root = document.getElementById(%(id)s);
  const frames = root.querySelectorAll(".ag-frame");
  const notes = root.querySelectorAll(".ag-note");
  const phases = root.querySelectorAll(".ag-phase");
  const slider = root.querySelector(".ag-slider");
  const counter = root.querySelector(".ag-counter");
  let current = 0;
  function show(k) {
    current = Math.max(0, Math.min(frames.length - 1, k));
    for (const group of [frames, notes, phases]) {
      group.forEach((el, j) => { el.style.display = j === current ? "" : "none"; });
    }
    slider.value = current;
    counter.textContent = (current + 1) + " / " + frames.length;
    root.dataset.step = current;
    root.dataset.highlight = frames[current].dataset.highlight;
  }
  root.querySelector(".ag-prev").addEventListener("click", () => show(current - 1));
  root.querySelector(".ag-next").addEventListener("click", () => show(current + 1));
  slider.addEventListener("input", () => show(Number(slider.value)));
  function key(event) {
    if (event.target.tagName === "INPUT" && event.target !== slider) return;
    if (event.key === "ArrowRight") { show(current + 1); event.preventDefault(); }
    if (event.key === "ArrowLeft") { show(current - 1); event.preventDefault(); }
  }
  (%(page_keys)s ? document : root).addEventListener("keydown", key);
  show(0);
})();
"""


class StepThrough:
    """The step-through page of one graph: ``_repr_html_`` for Jupyter, ``save`` for a file.

    ``narrations[k]`` is the text beside frame k, ``highlights[k]`` the name of the op node
    highlighted in it (None on the first backward frame, which only seeds d out / d out).
    """

    def __init__(self, svgs: list[str], phases: list[str], narrations: list[str],
                 highlights: list[str | None], title: str) -> None:
        self.svgs, self.phases, self.narrations = svgs, phases, narrations
        self.highlights, self.title = highlights, title

    def __len__(self) -> int:
        return len(self.svgs)

    def html(self, page_keys: bool = False) -> str:
        """The page as an HTML fragment; ``page_keys``: the arrow keys work anywhere on the
        page (a standalone file), not only once the fragment has the focus (in a notebook)."""
        element = f"ag-steps-{next(_ids)}"
        last = len(self) - 1
        parts = [f'<div class="ag-steps" id="{element}" tabindex="0">', f"<style>{STYLE}</style>",
                 '<div class="ag-bar"><button class="ag-prev" title="previous (left arrow)">'
                 '&#9664; previous</button><button class="ag-next" title="next (right arrow)">'
                 f'next &#9654;</button><input class="ag-slider" type="range" min="0" '
                 f'max="{last}" value="0" aria-label="step"><span class="ag-counter">'
                 f"1 / {len(self)}</span></div>", '<div class="ag-body"><div class="ag-picture">']
        # all but the first step hidden from the start: where the script may not run (output of
        # an untrusted notebook), the first step still shows alone
        hidden = ['', ' style="display:none"']
        for k, (svg, highlight) in enumerate(zip(self.svgs, self.highlights)):
            parts.append(f'<div class="ag-frame" data-highlight="{highlight or ""}"'
                         f"{hidden[k > 0]}>{svg}</div>")
        parts.append('</div><div class="ag-side">')
        parts += [f'<div class="ag-phase"{hidden[k > 0]}>{html.escape(p)}</div>'
                  for k, p in enumerate(self.phases)]
        parts += [f'<pre class="ag-note"{hidden[k > 0]}>{html.escape(n)}</pre>'
                  for k, n in enumerate(self.narrations)]
        script = SCRIPT % {"id": json.dumps(element), "page_keys": json.dumps(page_keys)}
        parts.append(f"</div></div><script>{script}</script></div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.html()

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page as one standalone HTML file (no network needed); return its path."""
        path = Path(path)
        document = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                    f"<title>{html.escape(self.title)}</title></head>\n"
                    '<body style="font-family: Helvetica, Arial, sans-serif; margin: 1.5em">\n'
                    f"<h2>{html.escape(self.title)}</h2>\n"
                    f"{self.html(page_keys=True)}\n</body></html>\n")
        path.write_text(document, encoding="utf-8")
        return path


def step_through(t: Tensor, **draw_options) -> StepThrough:
    """A page that steps through the forward pass of ``t``, op by op, then its backward pass
    (the steps of ``ag.explain``), with the narration beside each picture.

    ``draw_options`` are those of ``ag.draw``. Nothing in the graph changes.

    >>> page = ag.viz.step_through(g)      # shows inline in Jupyter
    >>> page.save("steps.html")            # one file, opens in any browser, offline
    """
    view, grads, narrator = prepare_graph(t, "step_through")
    forward, backward = forward_plan(view, narrator), backward_plan(view, grads, narrator)
    plan = forward + backward
    pictures = draw_frames(view, grads, plan, captions=False, **draw_options)
    svgs = [_inline(p.pipe("svg", encoding="utf-8")) for p in pictures]
    phases = [f"Forward pass: step {k} of {len(forward)}" for k in range(1, len(forward) + 1)]
    phases += ["Backward pass: the seed"] + [
        f"Backward pass: step {k} of {len(backward) - 1}" for k in range(1, len(backward))]
    return StepThrough(svgs, phases, ["\n".join(frame.narration) for frame in plan],
                       [picture.highlighted for picture in pictures],
                       f"Forward and backward pass of {view.name(view.root)}")


def _inline(svg: str) -> str:
    """An SVG document made fit to sit inside HTML: no XML prolog, doctype or comments."""
    svg = re.sub(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", "", svg, flags=re.DOTALL)
    return svg.strip()
