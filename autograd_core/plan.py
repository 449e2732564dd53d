"""The plan of a captured step (``ag.jit``): what a recording did, compiled to one Python function.

A recording (``capture.Recorder``) is a list of events: ops (a Function with its inputs, its
parameters and its output), ``backward()`` calls (the engine's order of the graph) and side effects
(an optimizer step, ``zero_grad``). The plan numbers every array of the step as a *slot* (the step's
inputs first, then the leaves it reads, such as parameters, then each op's output) and writes the
whole step as straight-line Python source, compiled once::

    def step(v0, v1, A, vals):
        v2 = L2.data                                       # leaves: read at every call
        v5 = N5.forward(v0, v2, v3, activation='relu')     # (8, 16) float32  linear
        ...
        g9 = ONE9.copy()                                   # backward of v9: d v9 / d v9
        r = N9.backward(g9, *N9.saved); N9.saved = ()
        g5 = r[0]
        ...
        ACC(L2, g2, adopted)                               # into the parameter's .grad
        E12()                                              # Adam.step

Each op's forward and backward are the Function's own methods, so a replay computes what eager
computes, with no Tensor, graph or walk built per op. The walk's decisions that depend only on the
signature are taken once, when the code is written: which formulas run, which input gradients
exist, where contributions are summed, and where a gradient must be summed over broadcast axes or
cast (``FIT``). Those facts are seen on the first replay, which runs a *generic* version of the same
code (every decision checked at run time, as the engine does); from the second replay on the
*specialised* code runs. ``explain()`` shows that source.

The specialised code fuses runs of neighbouring elementwise ops into one Numba loop forward and
one backward (``fusion.py``; ``fuse=False`` keeps every op a call of its own)::

    v201, S0 = F0.forward(v0, v1, v3)                  # 200 ops: mul add tanh sigmoid ...
    g0, g1 = F0_B0(g201, v0, v1, v3, S0)               # their backward, in one loop
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import engine, fusion
from .errors import AutogradError
from .function import Function
from .tensor import Tensor


class CaptureError(AutogradError, RuntimeError):
    """A step that ``ag.jit`` cannot record, or a replay that differs from eager (check=True)."""


# --- what a recording holds -------------------------------------------------------------------


class Op:
    """One forward op as recorded: the Function, its input tensors, its parameters, its output."""

    __slots__ = ("fn", "inputs", "params", "out")

    def __init__(self, fn: Function, inputs: tuple, params: dict, out: Tensor):
        self.fn, self.inputs, self.params, self.out = fn, inputs, params, out

    def describe(self) -> str:
        shapes = ", ".join(f"{t.shape}" for t in self.inputs)
        return f"{self.fn.name}({shapes}) -> {self.out.shape} {self.out.dtype}"


class Backward:
    """A ``backward()`` call as recorded: the root and the engine's order of its graph."""

    __slots__ = ("root", "order")

    def __init__(self, root: Tensor, order: list[Tensor]):
        self.root, self.order = root, order


class Effect:
    """A side effect outside the graph (an optimizer step, zero_grad): replayed by calling
    ``run``; ``snapshot()`` (optional) returns a function that undoes what ``run`` changes."""

    __slots__ = ("name", "run", "snapshot")

    def __init__(self, name: str, run: Callable[[], Any], snapshot: Callable | None):
        self.name, self.run, self.snapshot = name, run, snapshot


def arrays_of(inputs: list) -> list[np.ndarray]:
    return [v.data if isinstance(v, Tensor) else v for v in inputs]


def input_holding(value: Any, arrays: list[np.ndarray]) -> int | None:
    """The index of the step input whose array ``value`` is (or views whole), if any."""
    if isinstance(value, np.ndarray):
        for i, array in enumerate(arrays):
            if array is value or (value.base is array and value.shape == array.shape
                                  and value.strides == array.strides
                                  and value.dtype == array.dtype
                                  and value.ctypes.data == array.ctypes.data):
                return i
    return None


# --- what the first replay sees ---------------------------------------------------------------


class _Seen:
    """The facts the specialised code is written from, gathered by the generic first replay:
    ops whose forward returns something other than an ndarray (a numpy scalar), and for each
    (formula, input) whether its gradient is None, whether it needs ``FIT`` and whether the
    formula returned a tuple."""

    def __init__(self) -> None:
        self.not_arrays: set[int] = set()
        self.gradients: dict[tuple[int, int], tuple[bool, bool, bool]] = {}

    def output(self, value: Any, slot: int) -> np.ndarray:
        if value.__class__ is np.ndarray:
            return value
        self.not_arrays.add(slot)
        return np.asarray(value)

    def contribute(self, previous: Any, returned: Any, j: int, inp: Tensor, op: str,
                   key: tuple[int, int]) -> Any:
        """The engine's handling of input ``j``'s gradient from one formula: fit, then sum."""
        is_tuple = returned.__class__ is tuple
        grads = returned if is_tuple else (returned,)
        grad = grads[j] if j < len(grads) else None
        fit = grad is not None and (grad.shape != inp.data.shape
                                    or grad.dtype != inp.data.dtype)
        self.gradients[key] = (grad is None, fit, is_tuple)
        if grad is None:
            return previous
        if fit:
            grad = engine._fit_to_input(grad, inp, op)
        return grad if previous is None else previous + grad


# --- the plan ---------------------------------------------------------------------------------


class Plan:
    """The compiled program of one signature (see the module docstring).

    ``vals`` receives the arrays the step returns (and, for ``check=True``, every op's output) by
    slot; ``op_slots`` lists each op's output slot in order. With ``fuse``, the specialised code
    runs groups of elementwise ops as loops (``fusion.py``): ``fused_away`` holds the slots that
    then never exist as arrays, ``inexact_slots`` those that may differ from eager by the
    rounding of a fused transcendental (``inexact``: the plan has such a group at all).
    """

    def __init__(self, events: list, inputs: list, result: Any, fuse: bool = True):
        self.events = events
        self.inputs = inputs  # the recorded run's tensor and array arguments: slots 0, 1, ...
        self.arrays = arrays_of(inputs)
        self.slot: dict[int, int] = {id(t): i for i, t in enumerate(inputs)}
        self.count = len(inputs)
        self.leaves: list[tuple[int, Tensor]] = []
        self.op_slots: list[int] = []
        self.shapes = {i: (a.shape, a.dtype) for i, a in enumerate(self.arrays)}
        self.program: list[tuple] = []  # ("op", ...), ("backward", ...), ("effect", ...)
        self.last_backward: dict[int, int] = {}  # node id -> number of its last backward()
        for event in events:
            if isinstance(event, Op):
                self._op(event)
            elif isinstance(event, Backward):
                self._backward(event)
            else:
                self.program.append(("effect", len(self.program), event))
        self.result = self._template(result)
        self.vals: list[Any] = [None] * self.count
        self._holding_all = False
        self.seen: _Seen | None = None
        self._compiled: dict[bool, Callable] = {}
        self.fuse = fuse
        self.groups: list[fusion.Group] | None = None
        self.fused_away: set[int] = set()
        self.inexact_slots: set[int] = set()
        self.inexact = False

    # -- slots -------------------------------------------------------------------------------
    def _new_slot(self, array: np.ndarray) -> int:
        slot = self.count
        self.count += 1
        self.shapes[slot] = (array.shape, array.dtype)
        return slot

    def _source(self, tensor: Tensor) -> int:
        """The slot of ``tensor``: an input, an op output, or a leaf read at every replay."""
        slot = self.slot.get(id(tensor))
        if slot is None:
            slot = input_holding(tensor.data, self.arrays)  # a tensor made on an input array
        if slot is None:
            if tensor._node is not None:
                raise CaptureError(f"ag.jit: a tensor of shape {tensor.shape} computed before "
                                   "the step is part of its graph; compute it inside the step "
                                   "or detach it")
            slot = self.slot[id(tensor)] = self._new_slot(tensor.data)
            self.leaves.append((slot, tensor))
        return slot

    def _op(self, op: Op) -> None:
        # The recorded run's backward released what forward saved; ops that save nothing would
        # keep that mark, since the replayed forward never overwrites it.
        op.fn.__dict__.pop("saved", None)
        sources = [self._source(t) for t in op.inputs]
        out = self.slot[id(op.out)] = self._new_slot(op.out.data)
        self.op_slots.append(out)
        from_inputs = {name: i for name, value in op.params.items()
                       if (i := input_holding(value, self.arrays)) is not None}
        self.program.append(("op", op.fn, sources, op.params, from_inputs, out))

    def _backward(self, event: Backward) -> None:
        """The engine's walk over ``event.order``: per tensor its slot, and either its node and
        its inputs' slots (None for an input that takes no gradient) or the leaf to fill."""
        entries = []
        for tensor in event.order:
            slot = self._source(tensor)
            node = tensor._node
            if node is None:  # a leaf: an argument of the step (by position) or a tensor
                position = next((i for i, v in enumerate(self.inputs) if v is tensor), None)
                entries.append((slot, None, tensor if position is None else position))
                continue
            inputs = tuple((self.slot[id(inp)] if inp._requires_grad else None, inp)
                           for inp in node.inputs)
            entries.append((slot, node, inputs))
        number = sum(kind == "backward" for kind, *_ in self.program)
        for _, node, _ in entries:
            if node is not None:
                self.last_backward[id(node)] = number
        self.program.append(("backward", number, self._source(event.root), entries))

    def _template(self, value: Any) -> Any:
        """The step's result with each tensor replaced by its slot (as ``("slot", k)``)."""
        if isinstance(value, Tensor):
            return ("slot", self._source(value))
        if isinstance(value, (tuple, list)):
            return type(value)(self._template(v) for v in value)
        if isinstance(value, dict):
            return {k: self._template(v) for k, v in value.items()}
        if value is None or isinstance(value, (bool, int, float, str)):
            return ("const", value)
        raise CaptureError(f"ag.jit: a captured step may return tensors, tuples, lists and "
                           f"dicts of them and plain constants, got {type(value).__name__}")

    def _result_slots(self, template: Any) -> list[int]:
        if template.__class__ is tuple and len(template) == 2 and template[0] in ("slot",
                                                                                   "const"):
            return [template[1]] if template[0] == "slot" else []
        values = template.values() if isinstance(template, dict) else template
        return [s for v in values for s in self._result_slots(v)]

    def _build(self, template: Any) -> Any:
        if template.__class__ is tuple and len(template) == 2 and template[0] in ("slot",
                                                                                   "const"):
            kind, value = template
            return Tensor._wrap(self.vals[value]) if kind == "slot" else value
        if isinstance(template, (tuple, list)):
            return type(template)(self._build(v) for v in template)
        return {k: self._build(v) for k, v in template.items()}

    # -- running -----------------------------------------------------------------------------
    def replay(self, inputs: list, keep_all: bool = False) -> Any:
        """Run the step on this call's ``inputs`` (tensors and arrays, in signature order);
        ``keep_all``: keep every op's output in ``vals`` (for check=True)."""
        arrays = [v.data if v.__class__ is Tensor else v for v in inputs]
        if self.seen is None:  # the first replay runs the generic code, and looks
            seen = _Seen()
            self._compile(_Writer(self, None, keep_all=True, seeing=seen))(*arrays, inputs,
                                                                            self.vals)
            self.seen, self._holding_all = seen, True
            return self._build(self.result)
        if keep_all:
            self._holding_all = True
        elif self._holding_all:  # let go of the activations a check (or the first replay) kept
            self.vals[:] = [None] * len(self.vals)
            self._holding_all = False
        function = self._compiled.get(keep_all)
        if function is None:
            function = self._compiled[keep_all] = self._compile(_Writer(self, self.seen,
                                                                        keep_all))
        function(*arrays, inputs, self.vals)
        return self._build(self.result)

    def explain(self) -> str:
        """The source of the specialised step (the generic one before the first replay)."""
        return _Writer(self, self.seen, keep_all=False).source()

    def find_groups(self) -> list[fusion.Group]:
        """The fused groups of the specialised code (found once, from what the first replay
        saw), and the slots they leave out or make inexact."""
        if self.groups is None:
            self.groups = fusion.find_groups(self, self.seen) if self.fuse else []
            inexact = set()
            for group in self.groups:
                self.fused_away |= group.slots - set(group.outputs)
                if group.inexact:
                    inexact |= set(group.outputs)
            for instruction in self.program:  # and what is computed from them
                if instruction[0] == "op" and inexact.intersection(instruction[2]):
                    inexact.add(instruction[-1])
            self.inexact_slots, self.inexact = inexact, bool(inexact)
        return self.groups

    def _compile(self, writer: _Writer) -> Callable:
        source = writer.source()
        exec(compile(source, f"<ag.jit plan {id(self):x}>", "exec"), writer.namespace)
        return writer.namespace["step"]


def _literal(value: Any) -> bool:
    """Whether ``repr(value)`` evaluates back to an equal value (so it can be written inline)."""
    if value is None or value.__class__ in (bool, int, str):
        return True
    if value.__class__ is float:
        return value == value and abs(value) != float("inf")  # repr(nan) is not Python
    return value.__class__ is tuple and all(_literal(v) for v in value)


class _Writer:
    """Writes the plan's program as the source of ``step(v0, v1, ..., A, vals)``; ``namespace``
    holds the objects the source names (nodes ``N5``, leaves ``L2``, effects ``E12``, ...).

    ``seen=None`` writes the generic code of the first replay, which checks each decision at run
    time and records it in ``seeing``; otherwise the code specialised to what was seen.
    """

    def __init__(self, plan: Plan, seen: _Seen | None, keep_all: bool,
                 seeing: _Seen | None = None):
        self.plan, self.seen, self.keep_all = plan, seen, keep_all
        self.namespace: dict[str, Any] = {
            "asarray": np.asarray, "ACC": engine._accumulate,
            "FIT": engine._fit_to_input, "SEEN": seeing,
        }
        self.lines: list[str] = []
        groups = plan.find_groups() if seen is not None else []
        self.starts = {group.ops[0][2]: group for group in groups}  # first op's slot -> group
        self.node_group = {id(fn): group for group in groups for fn, _, _ in group.ops}

    def name(self, prefix: str, key: Any, value: Any) -> str:
        name = f"{prefix}{key}"
        self.namespace[name] = value
        return name

    def source(self) -> str:
        plan = self.plan
        inputs = ", ".join(f"v{i}" for i in range(len(plan.inputs)))
        self.lines = [f"def step({inputs}{', ' if inputs else ''}A, vals):"]
        for slot, tensor in plan.leaves:
            self.emit(f"v{slot} = {self.name('L', slot, tensor)}.data", plan.shapes[slot],
                      "leaf")
        for instruction in plan.program:
            getattr(self, f"write_{instruction[0]}")(*instruction[1:])
        kept = plan.op_slots + plan._result_slots(plan.result) if self.keep_all \
            else plan._result_slots(plan.result)
        for slot in dict.fromkeys(s for s in kept if s not in plan.fused_away):
            self.lines.append(f"    vals[{slot}] = v{slot}")
        self.lines.append("    return None")
        return "\n".join(self.lines) + "\n"

    def emit(self, line: str, shape: tuple | None = None, note: str = "") -> None:
        if shape is not None:
            note = f"{shape[0]} {shape[1]}  {note}"
        self.lines.append(f"    {line:<56}  # {note}" if note else f"    {line}")

    def write_op(self, fn: Function, sources: list[int], params: dict,
                 from_inputs: dict[str, int], out: int) -> None:
        if id(fn) in self.node_group:  # a fused op: the group's call stands for it
            if out in self.starts:
                self.write_group(self.starts[out])
            return
        node = self.name("N", out, fn)
        arguments = [f"v{s}" for s in sources]
        for key, value in params.items():
            if key in from_inputs:
                arguments.append(f"{key}=v{from_inputs[key]}")
            elif _literal(value):
                arguments.append(f"{key}={value!r}")
            else:
                arguments.append(f"{key}={self.name(f'P{out}_', key, value)}")
        call = f"{node}.forward({', '.join(arguments)})"
        if self.seen is None:
            call = f"SEEN.output({call}, {out})"
        elif out in self.seen.not_arrays:
            call = f"asarray({call})"
        self.emit(f"v{out} = {call}", self.plan.shapes[out], fn.name)

    def write_group(self, group: fusion.Group) -> None:
        """One fused group's forward: its scalar code as a comment, then the call."""
        names = " ".join(dict.fromkeys(name for _, name in group.statements))
        self.lines.append(f"    # {group.name}: {len(group.ops)} ops in one loop over "
                          f"{group.shape} {group.dtype}, per element:")
        self.lines += [f"    #     {code:<48}  {name}" for code, name in group.statements]
        outputs = "".join(f"v{s}, " for s in group.outputs)
        call = f"{self.name('F', group.number, group)}.forward(" \
            f"{', '.join(f'v{s}' for s in group.arrays + group.scalars)})"
        self.emit(f"{outputs}S{group.number} = {call}", (group.shape, group.dtype),
                  f"fused: {names}")

    def write_fused_backward(self, group: fusion.Group, block: list, present: set[int]) -> None:
        """One fused group's backward over its entries ``block``: scalar code, then the call."""
        backward = group.backward_for(block, present, self.seen)
        if not backward.written:
            return  # no gradient reached the group in this backward()
        name = self.name(f"{group.name}_B", backward.number, backward)
        self.lines.append(f"    # {name}: the backward of {group.name} in one loop, per element:")
        self.lines += [f"    #     {code:<48}  {op}" for code, op in backward.lines]
        arguments = ", ".join(backward.parameters() + [f"S{group.number}"])
        written = ", ".join(f"g{s}" for s in backward.written) + \
            ("," if len(backward.written) == 1 else "")
        self.emit(f"{written} = {name}({arguments})", note=f"d {group.name}")
        for slot in backward.incoming:
            if slot in group.slots:
                self.emit(f"del g{slot}")

    def write_backward(self, number: int, root: int, entries: list) -> None:
        generic = self.seen is None
        shape, dtype = self.plan.shapes[root]
        ones = self.name("ONE", root, np.ones(shape, dtype))  # a fresh copy: it may be adopted
        self.emit(f"g{root} = {ones}.copy()", note=f"backward of v{root}: d v{root} / d v{root}")
        self.emit("adopted = set()")
        if generic:  # every gradient starts absent; the specialised code knows which exist
            names = {f"g{slot}" for slot, _, _ in entries} - {f"g{root}"}
            for name in sorted(names):
                self.emit(f"{name} = None")
        present = {root}
        fused = fusion.blocks(self.node_group, entries)
        for k, (slot, node, inputs) in enumerate(entries):
            if k in fused:
                self.write_fused_backward(*fused[k], present)
            if id(node) in self.node_group:
                continue
            if not generic and slot not in present:
                continue  # no formula passed a gradient here
            guard = f"if g{slot} is not None: " if generic else ""
            if node is None:
                leaf = f"A[{inputs}]" if inputs.__class__ is int else self.name("L", slot, inputs)
                self.emit(f"{guard}ACC({leaf}, g{slot}, adopted)", note=f"d v{slot} into .grad")
                continue
            name = self.name("N", slot, node)
            release = f"; {name}.saved = ()" if self.plan.last_backward[id(node)] == number \
                else ""  # freed after the last backward() through it, as retain_graph=False
            self.emit(f"{guard}r = {name}.backward(g{slot}, *{name}.saved){release}",
                      note=f"d {node.name}")
            for j, (target, inp) in enumerate(inputs):
                if target is None:
                    continue
                key = (slot, j)
                if generic:
                    fitted = self.name(f"I{slot}_", j, inp)
                    self.emit(f"{guard}g{target} = SEEN.contribute(g{target}, r, {j}, {fitted}, "
                              f"{node.name!r}, {key})")
                    continue
                missing, fit, is_tuple = self.seen.gradients[key]
                if missing:
                    continue
                grad = f"r[{j}]" if is_tuple else "r"
                if fit:
                    grad = f"FIT({grad}, {self.name(f'I{slot}_', j, inp)}, {node.name!r})"
                summed = f"g{target} + {grad}" if target in present else grad
                present.add(target)
                self.emit(f"g{target} = {summed}")
            if not generic:
                self.emit(f"del g{slot}")

    def write_effect(self, position: int, effect: Effect) -> None:
        self.emit(f"{self.name('E', position, effect.run)}()", note=effect.name)

