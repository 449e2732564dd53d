"""Function: one op of the graph, with its forward and its backward side by side.

An op is a subclass with two methods::

    class Mul(Function):
        def forward(self, a, b):            # numpy arrays in, numpy array out
            self.save_for_backward(a, b)
            return a * b

        def backward(self, grad, a, b):     # d(loss)/d(out), then what forward saved
            return grad * b, grad * a       # d(loss)/d(a), d(loss)/d(b)

``Mul.apply(x, y)`` runs forward on the tensors' arrays and, when a gradient is needed, returns a
tensor whose ``grad_fn`` is this Function instance: the node of the graph. The node points to its
inputs, never to its output, so the graph has no reference cycles and is freed by reference
counting as soon as the user drops its output.

Two rules make one backward formula serve both first and higher derivatives:

- backward returns gradients with the *output's* shape; the engine sums them down to each input's
  shape (undoing broadcasting) and casts them to the input's dtype, in one place for every op;
- forward saves only its inputs, its output, or constants (masks, indices). In a normal backward
  the formula runs on numpy arrays. With ``create_graph=True`` the engine hands it the input and
  output *tensors* instead, and the same numpy-style code (operators, ``np.exp``, ``.sum``...)
  dispatches to differentiable ops through ``Tensor.__array_ufunc__``/``__array_function__``.
"""

from __future__ import annotations

import linecache
import os
import re
import sys
from typing import Any, ClassVar

import numpy as np

from .errors import AutogradError, DTypeError, ShapeError, describe
from .mode import state
from .tensor import Tensor, to_array, write_count

_new_object = object.__new__
NO_PARAMS: dict[str, Any] = {}  # never written: the params of an op called without any
RELEASED = object()  # marks the saved values of a node whose graph was freed by backward

# Frames from these folders are library internals; the "user line" is the first frame outside.
_library_folders: tuple[str, ...] = ()


def register_library_folder(path: str) -> None:
    """Treat code under the folder ``path`` as library code: error messages and
    ``detect_anomaly`` then point at the first line of the caller's code outside it.

    A library built on autograd_core registers its package folder once, on import::

        ag.register_library_folder(os.path.dirname(os.path.abspath(__file__)))
    """
    global _library_folders
    folder = os.path.join(os.path.abspath(path), "")
    if folder not in _library_folders:
        _library_folders = (*_library_folders, folder)


register_library_folder(os.path.dirname(os.path.abspath(__file__)))


def creation_site() -> str:
    """``file:line in function: source`` of the innermost frame outside the library folders."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_library_folders):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    source = linecache.getline(filename, lineno).strip()
    return f"{filename}:{lineno} in {frame.f_code.co_name}: {source}"


def check_finite(array: np.ndarray, op: str, what: str, site: str | None) -> None:
    """Raise FloatingPointError naming ``op`` if ``array`` holds a NaN or an infinity."""
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        kind = "NaN" if np.isnan(array).any() else "inf"
        where = site or "<unknown: build the graph inside detect_anomaly() to record it>"
        raise FloatingPointError(f"detect_anomaly: {op} produced {kind} in its {what} "
                                 f"(shape {array.shape}, {array.dtype}); op created at {where}")


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Function:
    """Base class of every op; see the module docstring for how to write one."""

    __slots__ = ("inputs", "__dict__")
    name: ClassVar[str] = "function"
    # How pictures and narrations write the op (autograd_core.viz). ``symbol``: drawn in a circle
    # and written between two operands ("a + b") or before one ("-a"); None: "name(a, b)".
    # ``derivative``: d out / d input i as text, with {0}, {1} the inputs' names and {out} the
    # output's; ops that give one must take no parameters (viz reruns them on the values).
    # ``gradient_rule``: the gradient passed back to input i of a tensor op in matrix form, with
    # {grad} the incoming gradient ("{grad} @ {1}^T"); elementwise ops are told from
    # ``derivative`` ("{grad} * {1}").
    symbol: ClassVar[str | None] = None
    derivative: ClassVar[tuple[str, ...] | None] = None
    gradient_rule: ClassVar[tuple[str, ...] | None] = None
    # Class-level defaults, overridden per instance only when used, keep ``apply`` cheap.
    saved: tuple = ()
    # For a node that saved arrays: the versions of its inputs and output when it ran; None when
    # none of them had a version counter (all at 0, the common case); see check_saved.
    saved_versions: tuple[int, ...] | None = None
    writes_before: int = 0  # tensor.write_count when it saved them
    scope: str | None = None
    created_at: str | None = None
    params: dict[str, Any] = NO_PARAMS  # the keyword arguments forward ran with (viz reruns it)
    # True for ops whose forward draws random numbers (dropout): rerunning one would draw
    # others and move the generator on, so viz never does
    draws_random: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = _snake_case(cls.__name__)

    def forward(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad, *saved):
        """Return d(loss)/d(input) for each input (a tuple, or one value for one input)."""
        raise NotImplementedError

    def save_for_backward(self, *values: Any) -> None:
        """Keep inputs, the output, or constants (masks, indices) for backward."""
        self.saved = values

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """Which inputs want a gradient; ops may skip computing the others."""
        return tuple(t._requires_grad for t in self.inputs)

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """Run forward on the inputs' arrays and record a node if any input requires grad.

        Plain numbers and arrays among the inputs are taken as constants (no gradient)."""
        requires_grad = False
        for t in inputs:
            if not isinstance(t, Tensor):
                return cls.apply(*[t if isinstance(t, Tensor) else Tensor._wrap(to_array(t))
                                   for t in inputs], **params)
            if t._requires_grad:
                requires_grad = True
        return cls.apply_to_tensors(inputs, requires_grad, params)

    @classmethod
    def apply_to_tensors(cls, inputs: tuple[Tensor, ...], requires_grad: bool,
                         params: dict[str, Any] = NO_PARAMS) -> Tensor:
        """``apply`` for callers that hold Tensors already and know whether any requires grad
        (the registry's operators): the conversion loop and the ``*inputs, **params`` packing
        cost ~10% of a small op."""
        mode = state
        plain = mode.plain  # grad on, no anomaly, no recorder; else check each below
        if not plain and mode.recorder is not None:  # ag.jit is recording a step
            return mode.recorder.apply(cls, inputs, params)
        fn = cls()
        try:
            # the common calls skip building a list, and a call with **{} costs as much again
            # as one without: ~10% of an op each
            if params:
                fn.params = params
                out = fn.forward(*[t.data for t in inputs], **params)
            elif len(inputs) == 2:
                out = fn.forward(inputs[0].data, inputs[1].data)
            elif len(inputs) == 1:
                out = fn.forward(inputs[0].data)
            else:
                out = fn.forward(*[t.data for t in inputs])
        except AutogradError:
            raise
        except (ValueError, TypeError, IndexError) as err:
            raise _op_error(cls.name, inputs, err) from err
        if out.__class__ is not np.ndarray:
            out = np.asarray(out)
        if not plain and mode.anomaly:
            fn.created_at = creation_site()
            check_finite(out, cls.name, "forward output", fn.created_at)
        recorded = requires_grad and (plain or mode.grad_enabled)
        # Tensor._wrap(out, fn or None), written out: the call costs ~5% of a small op
        result = _new_object(Tensor)
        result.data = out
        result._node = fn if recorded else None
        result._requires_grad = recorded
        if out.base is not None:
            _share_version_counter(result, inputs)
        if recorded:
            if out.dtype.kind == "c":
                raise DTypeError(f"{cls.name}: produced a {out.dtype} tensor (shape {out.shape}) "
                                 f"that would require grad; complex tensors cannot require "
                                 f"gradients (inputs: {describe(*[t.data for t in inputs])})")
            fn.inputs = inputs
            scopes = mode.scopes
            if scopes:
                fn.scope = "/".join(scopes)
            if fn.saved:
                fn.writes_before = write_count[0]  # read before the versions: see _bump_version
                for t in inputs:  # written out: the call cost ~3% of a small op
                    if t._version_counter is not None:
                        fn.saved_versions = _versions(inputs, result)
                        break
        return result

    # -- used by the engine -------------------------------------------------------------------
    def saved_values(self, output: Tensor | None = None) -> tuple:
        """What forward saved: arrays, or, given this node's ``output`` tensor (create_graph),
        the graph's tensors those arrays belong to, so the backward formula is recorded."""
        if self.saved is RELEASED:
            raise RuntimeError(
                f"backward: trying to backpropagate through the graph a second time, but the "
                f"saved values of {self.name} were freed by the first backward(). Pass "
                f"retain_graph=True to the first backward() if you need to run it again."
            )
        if output is None:
            return self.saved
        resolved = []
        for value in self.saved:
            if isinstance(value, np.ndarray):
                if value is output.data:
                    value = output
                else:
                    value = next((t for t in self.inputs if t.data is value), value)
            resolved.append(value)
        return tuple(resolved)

    def written_since_run(self, output: Tensor) -> list[tuple[int, Tensor]]:
        """The (slot, tensor) of each input and of the output (this node's ``output``) written
        in place since this node ran (its version moved on); the slot of the output is the
        number of inputs. Conservative for nodes that saved nothing: any write counts."""
        versions = self.saved_versions
        written = []
        for slot, tensor in enumerate((*self.inputs, output)):
            counter = tensor._version_counter
            if counter is not None and counter[0] != (versions[slot] if versions else 0):
                written.append((slot, tensor))
        return written

    def check_saved(self, output: Tensor) -> None:
        """Raise if an input or the output (this node's ``output``) whose array forward saved was
        written in place since (its version moved on): the gradient would use the new values."""
        versions = self.saved_versions
        for slot, tensor in self.written_since_run(output):
            if any(value is tensor.data for value in self.saved):
                version = versions[slot] if versions else 0
                which = "output" if tensor is output else f"input {slot}"
                name = f" {tensor.name!r}" if tensor.name else ""
                raise RuntimeError(
                    f"backward: one of the variables needed for gradient computation has been "
                    f"modified by an inplace operation: the {which}{name} of {self.name} (shape "
                    f"{tensor.shape}, {tensor.dtype}) is at version {tensor._version}; expected "
                    f"version {version} instead. Change the in-place write (e.g. an optimizer "
                    f"step before a second backward) to happen after backward, or make it "
                    f"out of place."
                )

    @property
    def released(self) -> bool:
        return self.saved is RELEASED

    def __repr__(self) -> str:
        return f"<{self.name} node>"


def _share_version_counter(view: Tensor, inputs: tuple[Tensor, ...]) -> None:
    """Give an op output that is a view of an input's memory that input's version counter, so
    a write through either is seen by the nodes that saved the other (numpy points every view's
    ``base`` at the array owning the memory); mark a view of a tensor requiring grad made
    without recording (under no_grad) as such."""
    owner = view.data.base
    for t in inputs:
        if t.data is owner or t.data.base is owner:
            view._version_counter = t._shared_version_counter()
            if view._node is None and (t._requires_grad or t._no_grad_view):
                view._no_grad_view = True
            return


def _versions(inputs: tuple[Tensor, ...], output: Tensor) -> tuple[int, ...]:
    """The versions of the inputs, then the output (an output shares a counter only with an
    input, so ``apply`` asks only when an input has one)."""
    return tuple(t._version for t in (*inputs, output))


def _op_error(op: str, inputs: tuple[Tensor, ...], err: Exception) -> Exception:
    """Rewrap a numpy error so that it names the op and the shapes and dtypes of its inputs."""
    message = f"{op}: {err} (inputs: {describe(*[t.data for t in inputs])})"
    if isinstance(err, IndexError):
        return IndexError(message)
    if isinstance(err, TypeError):
        return DTypeError(message)
    return ShapeError(message)
