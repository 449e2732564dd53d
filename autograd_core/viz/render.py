"""Turning DOT source into SVG/PNG: Graphviz's ``dot`` when installed, else ``graphviz-pure``.

``graphviz-pure`` is a pip-installable port of Graphviz's ``dot`` program (a project dependency)
with the same command line, so pictures render on a fresh machine where only Python and pip
exist. It is looked for beside the running interpreter (a venv's ``bin``/``Scripts`` folder need
not be on PATH) and on PATH.

``Picture`` is the ``graphviz.Digraph`` that ``ag.draw`` returns: graphviz renders by running the
program ``dot`` by name, so ``Picture`` overrides the two public entry points that run it,
``pipe`` (which Jupyter's inline display also goes through) and ``render``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import graphviz

_PURE = ("graphviz-pure", "graphviz-pure.exe")
# Formats drawn in pixels, where the resolution matters (SVG and PDF scale freely).
BITMAP_FORMATS = frozenset({"png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp"})


class RendererNotFoundError(graphviz.ExecutableNotFound):
    """Neither Graphviz's ``dot`` nor the pip-installed ``graphviz-pure`` program was found.

    A subclass of graphviz's own error, so code written for graphviz catches it too.
    """

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


def _interpreter_script_dirs() -> list[str]:
    """Where pip puts the programs of the running interpreter's packages."""
    return [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]


def find_renderer() -> str:
    """The path of the program that renders DOT: ``dot`` first, then ``graphviz-pure``.

    >>> find_renderer()             # e.g. '/usr/bin/dot' or '.../.venv/bin/graphviz-pure'
    """
    dot = shutil.which("dot")
    if dot:
        return dot
    for folder in _interpreter_script_dirs():
        for name in _PURE:
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


def render_source(source: str, format: str = "svg", engine: str = "dot",
                  extra_args: tuple[str, ...] = ()) -> bytes:
    """Render DOT ``source`` to ``format`` (``svg``, ``png`` ...) and return the bytes.

    >>> render_source("digraph { a -> b }")[:5]
    b'<?xml'
    """
    program = find_renderer()
    result = subprocess.run([program, f"-K{engine}", f"-T{format}", *extra_args],
                            input=source.encode("utf-8"), capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"rendering the graph to {format!r} with {program} failed: "
                           f"{result.stderr.decode(errors='replace').strip()}")
    return result.stdout


class Picture(graphviz.Digraph):
    """A ``graphviz.Digraph`` that renders with whichever program ``find_renderer`` finds.

    It displays inline in Jupyter (as SVG) like any Digraph; ``pipe`` returns the rendered bytes
    (a str when ``encoding`` is given); ``render`` writes the picture (and, with
    ``cleanup=False``, keeps the DOT source beside it, as graphviz does).

    ``dpi``: the resolution of bitmap formats (PNG...): 144 draws each point as 2 pixels, sharp
    on slides and high-density screens; 72 gives Graphviz's own size. SVG is not affected.
    """

    dpi: int = 144
    #: The name of the node highlighted in a step-through frame (None in other pictures).
    highlighted: str | None = None

    def pipe(self, format: str | None = None, renderer: str | None = None,
             formatter: str | None = None, neato_no_op: bool | int | None = None,
             quiet: bool = False, *, engine: str | None = None,
             encoding: str | None = None) -> bytes | str:
        """The picture in ``format`` (default: the graph's ``format``, svg for ``ag.draw``)."""
        format = format or self.format
        output = ":".join(f for f in (format, renderer, formatter) if f)
        extra = (f"-n{int(neato_no_op)}",) if neato_no_op else ()
        if format in BITMAP_FORMATS:
            extra += (f"-Gdpi={self.dpi}",)
        data = render_source(self.source, output, engine or self.engine, extra)
        return data.decode(encoding) if encoding else data

    def render(self, filename: str | os.PathLike | None = None,
               directory: str | os.PathLike | None = None, view: bool = False,
               cleanup: bool = True, format: str | None = None, *,
               outfile: str | os.PathLike | None = None, engine: str | None = None,
               **pipe_options) -> str:
        """Write ``<filename>.<format>`` (or ``outfile``, whose suffix gives the format) and
        return its path. The DOT source is saved as ``filename`` too when ``cleanup=False``
        (graphviz's default; here the picture alone is usually what is wanted).

        >>> ag.draw(g).render("g", format="svg")     # writes g.svg, nothing else
        'g.svg'
        """
        if outfile is not None:
            outfile = Path(outfile)
            format = format or outfile.suffix.lstrip(".")
            if directory is None:
                outfile = Path(self.directory, outfile)
            if filename is None:
                filename = outfile.with_suffix(".gv").name
                directory = outfile.parent
        format = format or self.format
        source_path = self.save(filename, directory=directory)
        target = outfile if outfile is not None else Path(f"{source_path}.{format}")
        target.write_bytes(self.pipe(format, engine=engine, **pipe_options))
        if cleanup:
            os.remove(source_path)
        if view:
            self._view(target, format=format, quiet=False)
        return os.fspath(target)
