"""Thread-local switches that change how ops are recorded.

- grad mode: ``no_grad()`` / ``enable_grad()`` decide whether ops record graph nodes;
- anomaly mode: ``detect_anomaly()`` checks every forward output and backward gradient for NaN/inf;
- name scopes: ``name_scope("fc1")`` tags the nodes created inside, for pictures of the graph.

The state is per thread (like PyTorch's), so a data-loading thread that runs ``no_grad`` cannot
switch recording off for the training thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np


class _State(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.scopes: tuple[str, ...] = ()


state = _State()


def is_grad_enabled() -> bool:
    """Whether ops record the graph in this thread."""
    return state.grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Sets grad mode for a ``with`` block or a decorated function, then restores it."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._saved: list[bool] = []

    def __enter__(self) -> None:
        self._saved.append(state.grad_enabled)
        state.grad_enabled = self.enabled

    def __exit__(self, *exc) -> None:
        state.grad_enabled = self._saved.pop()


def no_grad() -> _GradMode:
    """Record nothing inside: ``with ag.no_grad(): y = model(x)`` or ``@ag.no_grad()``."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record again inside a ``no_grad`` block."""
    return _GradMode(True)


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise ``FloatingPointError`` at the first NaN/inf produced by an op, forward or backward.

    The message names the op and the line of user code that created it. Checking costs a pass
    over every array, so switch it on while hunting a NaN, not for training runs.
    """
    previous = state.anomaly
    state.anomaly = True
    try:
        # numpy's own warnings would pre-empt the clearer error naming the op and the line.
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            yield
    finally:
        state.anomaly = previous


@contextlib.contextmanager
def name_scope(name: str) -> Iterator[None]:
    """Tag every node created inside with ``name`` (nested scopes join with ``/``).

    >>> with ag.name_scope("fc1"):
    ...     h = x @ w + b          # nodes carry scope "fc1"; ag.draw groups them in one box
    """
    state.scopes = (*state.scopes, name)
    try:
        yield
    finally:
        state.scopes = state.scopes[:-1]
