"""Turning DOT source into SVG/PNG: Graphviz's ``dot`` when installed, else ``graphviz-pure``.

``graphviz-pure`` is a pip-installable port of Graphviz's ``dot`` program (a project
dependency), so pictures render on a fresh machine where only Python and pip exist. It is looked
for beside the running interpreter (a venv's ``bin``/``Scripts`` folder need not be on PATH) and
on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig

import graphviz


class RendererNotFoundError(RuntimeError):
    """Neither Graphviz's ``dot`` nor the pip-installed ``graphviz-pure`` program was found."""


def find_renderer() -> str:
    """The path of the program that renders DOT: ``dot`` first, then ``graphviz-pure``."""
    dot = shutil.which("dot")
    if dot:
        return dot
    folders = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    for folder in folders:
        for name in ("graphviz-pure", "graphviz-pure.exe"):
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    found = shutil.which("graphviz-pure")
    if found:
        return found
    raise RendererNotFoundError(
        "no Graphviz renderer found: install Graphviz's `dot` program (e.g. `apt-get install "
        "graphviz` or `brew install graphviz`), or `pip install graphviz-pure` into this "
        "environment. The DOT source is still available as `.source`."
    )


def render_source(source: str, format: str = "svg") -> bytes:
    """Render DOT ``source`` to ``format`` (``svg``, ``png``, ``pdf`` ...) and return the bytes."""
    result = subprocess.run([find_renderer(), f"-T{format}"], input=source.encode("utf-8"),
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"rendering the graph to {format} failed: "
                           f"{result.stderr.decode(errors='replace').strip()}")
    return result.stdout


class Picture(graphviz.Digraph):
    """A ``graphviz.Digraph`` that renders with whichever program ``find_renderer`` finds.

    It displays inline in Jupyter (as SVG) like any Digraph; ``pipe`` returns the rendered bytes
    (a str when ``encoding`` is given) and ``render`` writes ``<filename>.<format>`` and returns
    its path.
    """

    def pipe(self, format: str | None = None, *args, encoding: str | None = None, **kwargs):
        data = render_source(self.source, format or self.format or "svg")
        return data.decode(encoding) if encoding else data

    def render(self, filename: str | os.PathLike | None = None,
               directory: str | os.PathLike | None = None, view: bool = False,
               cleanup: bool = False, format: str | None = None, **kwargs) -> str:
        if view:
            raise NotImplementedError("Picture.render: view=True is not supported; open the "
                                      "written file instead")
        format = format or self.format or "svg"
        path = os.path.join(os.fspath(directory or ""), os.fspath(filename or self.filename
                                                                  or "graph"))
        if not path.endswith("." + format):
            path = f"{path}.{format}"
        with open(path, "wb") as file:
            file.write(self.pipe(format))
        return path
