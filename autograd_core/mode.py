"""Thread-local switches that change how ops are recorded.

- grad mode: ``no_grad()`` / ``enable_grad()`` decide whether ops record graph nodes;
- anomaly mode: ``detect_anomaly()`` checks every forward output and backward gradient for NaN/inf;
- name scopes: ``name_scope("fc1")`` tags the nodes created inside, for pictures of the graph.

The state is per thread (like PyTorch's), so a data-loading thread that runs ``no_grad`` cannot
switch recording off for the training thread. So is what a mode object saves on entry: one
``no_grad()`` object may decorate a function that several threads run at once.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np


class _State(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.scopes: tuple[str, ...] = ()
        # What each mode object entered in this thread saved, restored on exit. ``with`` blocks
        # nest, so one stack per thread serves every object.
        self.saved: list = []
        self.recorder = None  # the capture.Recorder of a step being recorded by ag.jit


state = _State()


def is_grad_enabled() -> bool:
    """Whether ops record the graph in this thread."""
    return state.grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Sets grad mode for a ``with`` block or a decorated function, then restores it."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __enter__(self) -> None:
        state.saved.append(state.grad_enabled)
        state.grad_enabled = self.enabled

    def __exit__(self, *exc) -> None:
        state.grad_enabled = state.saved.pop()


def no_grad() -> _GradMode:
    """Record nothing inside: ``with ag.no_grad(): y = model(x)`` or ``@ag.no_grad()``."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record again inside a ``no_grad`` block."""
    return _GradMode(True)


class detect_anomaly(contextlib.ContextDecorator):
    """Raise ``FloatingPointError`` at the first NaN/inf produced by an op, forward or backward.

    The message names the op and the line of user code that created it. Checking costs a pass
    over every array, so switch it on while hunting a NaN, not for training runs.
    """

    def __enter__(self) -> None:
        # numpy's own warnings would pre-empt the clearer error naming the op and the line.
        errstate = np.errstate(invalid="ignore", divide="ignore", over="ignore")
        errstate.__enter__()
        state.saved.append((state.anomaly, errstate))
        state.anomaly = True

    def __exit__(self, *exc) -> None:
        state.anomaly, errstate = state.saved.pop()
        errstate.__exit__(*exc)


class name_scope(contextlib.ContextDecorator):
    """Tag every node created inside with ``name`` (nested scopes join with ``/``).

    >>> with ag.name_scope("fc1"):
    ...     h = x @ w + b          # nodes carry scope "fc1"; ag.draw groups them in one box
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        state.scopes = (*state.scopes, self.name)

    def __exit__(self, *exc) -> None:
        state.scopes = state.scopes[:-1]
