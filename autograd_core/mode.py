"""Thread-local switches that change how ops are recorded.

- grad mode: ``no_grad()`` / ``enable_grad()`` decide whether ops record graph nodes;
- anomaly mode: ``detect_anomaly()`` checks every forward output and backward gradient for NaN/inf;
- name scopes: ``name_scope("fc1")`` tags the nodes created inside, for pictures of the graph.

The state is per thread (like PyTorch's), so a data-loading thread that runs ``no_grad`` cannot
switch recording off for the training thread. So is what a mode object saves on entry, kept on
the object: one ``no_grad()`` object may decorate a function that several threads run at once.
"""

from __future__ import annotations

import contextlib
import operator
import threading

import numpy as np


class _State(threading.local):
    """The switches of one thread. ``plain`` is True while ops record as usual: grad mode on, no
    anomaly checks, no ag.jit recorder. ``Function.apply`` reads that one flag instead of three
    attributes (a thread-local read costs ~3 plain ones; the reads were a sixth of what apply
    adds to an op); those three are properties so that every write keeps it true. ``scopes``
    stays a plain attribute: every module call writes it twice."""

    def __init__(self) -> None:
        self._grad_enabled = True
        self._anomaly = False
        self._recorder = None  # the capture.Recorder of a step being recorded by ag.jit
        self.plain = True
        self.scopes: tuple[str, ...] = ()

    def _switch(name: str) -> property:  # runs in the class body, not a method
        private = "_" + name

        def write(self, value) -> None:
            setattr(self, private, value)
            self.plain = self._grad_enabled and not self._anomaly and self._recorder is None

        return property(operator.attrgetter(private), write)

    grad_enabled = _switch("grad_enabled")
    anomaly = _switch("anomaly")
    recorder = _switch("recorder")
    del _switch


state = _State()


def is_grad_enabled() -> bool:
    """Whether ops record the graph in this thread."""
    return state.grad_enabled


class _Switch(contextlib.ContextDecorator):
    """A mode object: what it saves on entry is kept on the object, per thread. Threads sharing
    one object (as a decorator) do not mix their states, and a block left out of order (a
    generator suspended inside one) restores its own state, not another object's."""

    _lock = threading.Lock()

    def _saved(self) -> list:
        per_thread = self.__dict__.get("_per_thread")
        if per_thread is None:
            with self._lock:
                per_thread = self.__dict__.setdefault("_per_thread", threading.local())
        if not hasattr(per_thread, "stack"):
            per_thread.stack = []
        return per_thread.stack


class _GradMode(_Switch):
    """Sets grad mode for a ``with`` block or a decorated function, then restores it."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __enter__(self) -> None:
        self._saved().append(state.grad_enabled)
        state.grad_enabled = self.enabled

    def __exit__(self, *exc) -> None:
        state.grad_enabled = self._saved().pop()


def no_grad() -> _GradMode:
    """Record nothing inside: ``with ag.no_grad(): y = model(x)`` or ``@ag.no_grad()``."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record again inside a ``no_grad`` block."""
    return _GradMode(True)


class detect_anomaly(_Switch):
    """Raise ``FloatingPointError`` at the first NaN/inf produced by an op, forward or backward.

    The message names the op and the line of user code that created it. Checking costs a pass
    over every array, so switch it on while hunting a NaN, not for training runs.
    """

    def __enter__(self) -> None:
        # numpy's own warnings would pre-empt the clearer error naming the op and the line.
        errstate = np.errstate(invalid="ignore", divide="ignore", over="ignore")
        errstate.__enter__()
        self._saved().append((state.anomaly, errstate))
        state.anomaly = True

    def __exit__(self, *exc) -> None:
        state.anomaly, errstate = self._saved().pop()
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
