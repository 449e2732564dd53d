"""``ag.jit``: record a training step once, then replay it as a flat plan of numpy calls.

A training step builds the same graph every time: the same ops, on arrays of the same shapes.
``ag.jit`` wraps a step function, watches it run, and keeps what it did as a *plan*: a flat list
of the ops' forward calls, the backward formulas the engine ran (with the gradient sums and the
accumulation into ``.grad``), and the optimizer's update. Later calls run the plan directly on the
new inputs' arrays: no Tensor, Function or graph walk is built per op.

>>> @ag.jit
... def step(x, y):
...     opt.zero_grad()
...     loss = loss_fn(model(x), y)
...     loss.backward()
...     opt.step()
...     return loss
>>> for x, y in loader:
...     loss = step(x, y)          # calls 1 and 2 run eagerly (recording); later calls replay
>>> print(step.explain())          # the plan, one line per op

**What is recorded, and when.** Each *signature* gets its own plan. The signature is the shape,
dtype and ``requires_grad`` of every Tensor or array argument, the value of every other argument
(it must be hashable), and the ``training`` flag of every module reachable from the function:
its arguments, the variables it closes over, the globals it names, and ``self`` of a bound method
(modules are found by having ``modules()`` and ``training``; those the step reaches other than
through its arguments are looked up once, at the first call). The first *two* calls of a signature
run eagerly while recording (as tinygrad's TinyJit does); if the two recordings differ (other ops,
or a constant made inside the step with other values, such as ``ag.rand`` or a mask computed in
numpy) the step cannot be replayed and ``CaptureError`` says where. From the third call on, the
plan replays. Python control flow that depends on the data is captured as it ran during recording,
as with ``torch.jit.trace``: the replay takes the same branches every time.

**Random numbers** drawn inside an op's forward (``ag.dropout``) are drawn again at every replay,
from the generator seeded by ``ag.manual_seed``, in the same order as eagerly: a seeded replayed
run equals a seeded eager run.

**What the step may do.** Run ops, call ``backward()`` on a scalar, and call optimizer steps and
``zero_grad`` (``nn.optim``). It may not read values into Python (``.item()``, ``float(t)``,
``.numpy()``, ``np.asarray(t)``, ``if t:``) since those would be frozen; return the tensors instead
and read them outside (the replay returns fresh tensors holding this step's values, detached from
any graph). Ops that cannot be replayed declare ``capturable = False``; hooks, ``retain_grad``,
``create_graph``, an explicit ``gradient=`` and ``ag.grad`` inside the step are refused too. Each
of these raises ``CaptureError`` while recording, never a wrong replay.

**Parameters and gradients.** The plan reads every parameter's current array at each replay, so
loading new weights between steps is seen. After a replayed step, ``p.grad`` holds this step's
gradient as after an eager one.

Recording swaps Tensor's read methods for refusing ones while the step runs, so record in one
thread at a time. Values computed outside the ops from state that persists between calls (e.g. in
numpy from a module's buffers) are frozen into the plan if they do not change between the two
recordings; ``check=True`` finds them.

``check=True`` runs every call both ways: eagerly, then (after putting parameters, gradients,
optimizer state and the random generator back) by replaying the plan, and raises ``CaptureError``
naming the first op whose output differs.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import engine, random
from .errors import AutogradError
from .function import Function
from .mode import state
from .tensor import Tensor


class CaptureError(AutogradError, RuntimeError):
    """A step that ``ag.jit`` cannot record, or a replay that differs from eager (check=True)."""


# --- recording ------------------------------------------------------------------------------


class _Op:
    """One forward op as recorded: the Function, its input tensors, its parameters, its output."""

    __slots__ = ("fn", "inputs", "params", "out")

    def __init__(self, fn: Function, inputs: tuple, params: dict, out: Tensor):
        self.fn, self.inputs, self.params, self.out = fn, inputs, params, out

    def describe(self) -> str:
        shapes = ", ".join(f"{t.shape}" for t in self.inputs)
        return f"{self.fn.name}({shapes}) -> {self.out.shape} {self.out.dtype}"


class _Backward:
    """A ``backward()`` call as recorded: the root and the engine's order of its graph."""

    __slots__ = ("root", "order")

    def __init__(self, root: Tensor, order: list[Tensor]):
        self.root, self.order = root, order


class _Effect:
    """A side effect outside the graph (an optimizer step, zero_grad): replayed by calling
    ``run``; ``snapshot()`` (optional) returns a function that undoes what ``run`` changes."""

    __slots__ = ("name", "run", "snapshot")

    def __init__(self, name: str, run: Callable[[], Any], snapshot: Callable | None):
        self.name, self.run, self.snapshot = name, run, snapshot


_READS = ("item", "numpy", "tolist", "__float__", "__int__", "__index__", "__bool__", "__array__")


class Recorder:
    """Collects what one eager run of a step does; installed as ``mode.state.recorder``."""

    def __init__(self) -> None:
        self.events: list[_Op | _Backward | _Effect] = []

    def apply(self, cls: type[Function], inputs: tuple, params: dict) -> Tensor:
        """Run ``cls.apply`` eagerly (recording nothing inside it) and keep the op."""
        if not getattr(cls, "capturable", True):
            raise CaptureError(f"ag.jit: the op {cls.name} declares capturable = False and "
                               "cannot be replayed; run this step eagerly")
        state.recorder = None
        try:
            out = cls.apply(*inputs, **params)
        finally:
            state.recorder = self
        fn = out._node if out._node is not None else cls()
        self.events.append(_Op(fn, inputs, params, out))
        return out

    def backward(self, root: Tensor, gradient: Any, create_graph: bool) -> None:
        if create_graph or gradient is not None:
            raise CaptureError("ag.jit: backward() inside a captured step must be a plain "
                               "loss.backward() on a scalar (no gradient=, no create_graph)")
        order = engine._backward_order(root)
        for tensor in order:
            if tensor._hooks or tensor._retains_grad:
                raise CaptureError(f"ag.jit: a tensor of shape {tensor.shape} in the step has "
                                   "a hook or retain_grad(); these are not replayed")
        self.events.append(_Backward(root, order))

    def effect(self, name: str, run: Callable[[], Any],
               snapshot: Callable[[], Callable[[], None]] | None = None) -> None:
        """Record a side effect that the replay repeats by calling ``run()``."""
        self.events.append(_Effect(name, run, snapshot))

    def refuse(self, what: str) -> None:
        raise CaptureError(f"ag.jit: {what} inside a captured step is not supported")


def active_recorder() -> Recorder | None:
    """The recorder of the step being captured in this thread, or None (library hook)."""
    return state.recorder


def _refuse_read(name: str) -> Callable:
    def read(self, *args, **kwargs):
        raise CaptureError(
            f"ag.jit: Tensor.{name}() on a tensor of shape {self.shape} inside a captured step "
            "would freeze its value into the plan; return the tensor from the step and read it "
            "outside")
    return read


def _record(function: Callable, args: tuple, kwargs: dict) -> tuple[Recorder, Any]:
    """Run ``function`` eagerly under a recorder; return the recorder and the result."""
    if state.recorder is not None:
        raise CaptureError("ag.jit: a captured step called another captured step while "
                           "recording; capture the outer step only")
    recorder = Recorder()
    saved = {name: Tensor.__dict__[name] for name in _READS if name in Tensor.__dict__}
    for name in saved:
        setattr(Tensor, name, _refuse_read(name))
    state.recorder = recorder
    try:
        result = function(*args, **kwargs)
    finally:
        state.recorder = None
        for name, method in saved.items():
            setattr(Tensor, name, method)
    return recorder, result


# --- the plan ---------------------------------------------------------------------------------


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype \
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return isinstance(a, Tensor) and isinstance(b, Tensor) and _same_value(a.data, b.data)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except (ValueError, TypeError):
        return a is b


class Plan:
    """The flat program of one signature: slots for arrays, and steps that fill them.

    ``vals`` holds every array of a replay: the step's inputs, the leaves it reads (parameters
    and constants, re-read at every replay), and each op's output. ``steps`` are closures run in
    order; ``lines`` describe them for ``explain()``.
    """

    def __init__(self, recorder: Recorder, inputs: list, result: Any):
        self.inputs = inputs  # the recorded run's tensor and array arguments: slots 0, 1, ...
        self.arrays = _arrays(inputs)
        self.recorder = recorder
        self.slot: dict[int, int] = {id(t): i for i, t in enumerate(inputs)}
        self.vals: list[Any] = list(self.arrays)
        self.leaves: list[tuple[int, Tensor]] = []
        self.op_slots: list[int] = []  # each op's output slot, in order (check=True compares)
        self.arg_tensors: list = list(inputs)  # this replay's inputs
        self.steps: list[Callable[[], None]] = []
        self.lines = [f"input  v{i} {a.shape} {a.dtype}" for i, a in enumerate(self.arrays)]
        for event in recorder.events:
            if isinstance(event, _Op):
                self._forward(event)
            elif isinstance(event, _Backward):
                self._backward(event)
            else:
                self.steps.append(event.run)
                self.lines.append(f"effect {event.name}")
        self.result = self._template(result)

    def _source(self, tensor: Tensor) -> int:
        """The slot of ``tensor``: an input, an op output, or a leaf read at every replay."""
        slot = self.slot.get(id(tensor))
        if slot is None:
            slot = _input_holding(tensor.data, self.arrays)  # a tensor made on an input array
        if slot is None:
            slot = self.slot[id(tensor)] = len(self.vals)
            self.vals.append(tensor.data)
            self.leaves.append((slot, tensor))
            self.lines.append(f"leaf   v{slot} {tensor.shape} {tensor.dtype}")
        return slot

    def _forward(self, op: _Op) -> None:
        # The recorded run's backward released what forward saved; ops that save nothing would
        # keep that mark, since the replayed forward never overwrites it.
        op.fn.__dict__.pop("saved", None)
        sources = [self._source(t) for t in op.inputs]
        out = self.slot[id(op.out)] = len(self.vals)
        self.vals.append(op.out.data)
        self.op_slots.append(out)
        from_inputs = [(name, i) for name, value in op.params.items()
                       if (i := _input_holding(value, self.arrays)) is not None]
        self.steps.append(_forward_step(self.vals, op.fn, sources, op.params, from_inputs,
                                        out))
        inputs_of = dict(from_inputs)
        params = "".join(f", {k}={_show(v, inputs_of.get(k))}" for k, v in op.params.items())
        self.lines.append(f"v{out} = {op.fn.name}({', '.join(f'v{s}' for s in sources)}"
                          f"{params})  {op.out.shape} {op.out.dtype}")

    def _backward(self, event: _Backward) -> None:
        """The engine's walk over ``event.order`` with gradient slots instead of a dict."""
        position = {id(t): i for i, t in enumerate(event.order)}
        entries = []
        for tensor in event.order:
            node = tensor._node
            if node is None:
                target = next((i for i, v in enumerate(self.inputs) if v is tensor), tensor)
                entries.append((target, None, ()))
                continue
            inputs = tuple((inp, position.get(id(inp)) if inp._requires_grad else None)
                           for inp in node.inputs)
            entries.append((None, node, inputs))
            self.lines.append(f"grad   {node.name} -> " + ", ".join(
                f"d v{self.slot[id(inp)]}" for inp, k in inputs if k is not None))
        root = self._source(event.root)
        vals, arg_tensors = self.vals, self.arg_tensors

        def backward_step() -> None:
            grads: list[Any] = [None] * len(entries)
            grads[0] = np.ones_like(vals[root])
            adopted: set[int] = set()
            for i, (target, node, inputs) in enumerate(entries):
                grad = grads[i]
                if grad is None:
                    continue
                grads[i] = None
                if node is None:
                    leaf = arg_tensors[target] if target.__class__ is int else target
                    engine._accumulate(leaf, grad, adopted)
                    continue
                input_grads = node.backward(grad, *node.saved)
                if input_grads.__class__ is not tuple:
                    input_grads = (input_grads,)
                for (inp, k), input_grad in zip(inputs, input_grads):
                    if k is None or input_grad is None:
                        continue
                    data = inp.data
                    if input_grad.shape != data.shape or input_grad.dtype is not data.dtype:
                        input_grad = engine._fit_to_input(input_grad, inp, node.name)
                    previous = grads[k]
                    grads[k] = input_grad if previous is None else previous + input_grad

        self.steps.append(backward_step)
        self.lines.append(f"backward of v{root}: {sum(n is not None for _, n, _ in entries)} "
                          f"formulas, {sum(n is None for _, n, _ in entries)} leaf gradients")

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

    def _build(self, template: Any) -> Any:
        if template.__class__ is tuple and len(template) == 2 and template[0] in ("slot",
                                                                                   "const"):
            kind, value = template
            return Tensor._wrap(self.vals[value]) if kind == "slot" else value
        if isinstance(template, (tuple, list)):
            return type(template)(self._build(v) for v in template)
        return {k: self._build(v) for k, v in template.items()}

    def replay(self, inputs: list) -> Any:
        vals = self.vals
        for i, value in enumerate(inputs):
            vals[i] = value.data if value.__class__ is Tensor else value
        self.arg_tensors[:] = inputs
        for slot, tensor in self.leaves:
            vals[slot] = tensor.data
        for step in self.steps:
            step()
        return self._build(self.result)

    def explain(self) -> str:
        return "\n".join(self.lines)

    # -- check=True --------------------------------------------------------------------------
    def snapshot(self) -> Callable[[], None]:
        """Copies of everything a step changes; the returned function puts them back."""
        leaves = [(t, t.data.copy(), None if t.grad is None else t.grad.data.copy())
                  for _, t in self.leaves if t.data.flags.writeable]
        generator = random.get_generator()
        rng_state = copy.deepcopy(generator.bit_generator.state)
        undo = [e.snapshot() for e in self.recorder.events
                if isinstance(e, _Effect) and e.snapshot is not None]

        def restore() -> None:
            for tensor, data, grad in leaves:
                tensor.data[...] = data
                tensor.grad = None if grad is None else Tensor._wrap(grad.copy())
            generator.bit_generator.state = rng_state
            for function in undo:
                function()
        return restore


def _forward_step(vals: list, fn: Function, sources: list[int], params: dict,
                  from_inputs: list[tuple[str, int]], out: int) -> Callable[[], None]:
    """One op's forward on slots; the common arities avoid building a list. ``from_inputs``:
    parameters that are a step input's array (labels, indices), taken from this replay's."""
    if from_inputs:
        return _forward_step_with_inputs(vals, fn, sources, params, from_inputs, out)
    if len(sources) == 1:
        (a,) = sources

        def step() -> None:
            result = fn.forward(vals[a], **params)
            vals[out] = result if result.__class__ is np.ndarray else np.asarray(result)
    elif len(sources) == 2:
        a, b = sources

        def step() -> None:
            result = fn.forward(vals[a], vals[b], **params)
            vals[out] = result if result.__class__ is np.ndarray else np.asarray(result)
    else:
        def step() -> None:
            result = fn.forward(*[vals[s] for s in sources], **params)
            vals[out] = result if result.__class__ is np.ndarray else np.asarray(result)
    return step


def _show(value: Any, input_slot: int | None) -> str:
    if input_slot is not None:
        return f"v{input_slot}"
    if isinstance(value, np.ndarray):
        return f"<array {value.shape} {value.dtype}>"
    return f"{value!r:.40}"


def _arrays(inputs: list) -> list[np.ndarray]:
    return [v.data if isinstance(v, Tensor) else v for v in inputs]


def _input_holding(value: Any, arrays: list[np.ndarray]) -> int | None:
    """The index of the step input whose array ``value`` is (or views whole), if any."""
    if isinstance(value, np.ndarray):
        for i, array in enumerate(arrays):
            if array is value or (value.base is array and value.shape == array.shape
                                  and value.strides == array.strides
                                  and value.dtype == array.dtype
                                  and value.ctypes.data == array.ctypes.data):
                return i
    return None


def _forward_step_with_inputs(vals: list, fn: Function, sources: list[int], params: dict,
                              from_inputs: list[tuple[str, int]],
                              out: int) -> Callable[[], None]:
    def step() -> None:
        current = dict(params)
        for name, i in from_inputs:
            current[name] = vals[i]
        result = fn.forward(*[vals[s] for s in sources], **current)
        vals[out] = result if result.__class__ is np.ndarray else np.asarray(result)
    return step


def _compare(first: Recorder, second: Recorder, inputs1: list, inputs2: list) -> None:
    """Raise CaptureError unless two recordings of one signature did the same thing."""
    kinds = [type(e).__name__ for e in first.events], [type(e).__name__ for e in second.events]
    if len(first.events) != len(second.events):
        raise CaptureError(f"ag.jit: two calls with the same signature ran different steps "
                           f"({len(first.events)} and {len(second.events)} recorded events): "
                           "the step's control flow depends on the data")
    arrays1, arrays2 = _arrays(inputs1), _arrays(inputs2)
    where1: dict[int, tuple] = {}
    where2: dict[int, tuple] = {}
    for k, (a, b) in enumerate(zip(first.events, second.events)):
        if kinds[0][k] != kinds[1][k] or (isinstance(a, _Effect) and a.name != b.name):
            raise CaptureError(f"ag.jit: event {k} differs between two recordings "
                               f"({kinds[0][k]} vs {kinds[1][k]}): data-dependent control flow")
        if not isinstance(a, _Op):
            continue
        if type(a.fn) is not type(b.fn) or len(a.inputs) != len(b.inputs) \
                or a.params.keys() != b.params.keys():
            raise CaptureError(f"ag.jit: op {k} is {a.describe()} in one recording and "
                               f"{b.describe()} in the other: data-dependent control flow")
        for name, x in a.params.items():
            y = b.params[name]
            place_x, place_y = _input_holding(x, arrays1), _input_holding(y, arrays2)
            if place_x != place_y or (place_x is None and x is not y
                                      and not _same_value(x, y)):
                raise CaptureError(
                    f"ag.jit: the argument {name}= of op {k} ({a.describe()}) changes between "
                    "calls but is not the array of an input of the step (it is computed inside "
                    "the step, or converted: pass it ready-made, e.g. int64 labels)")
        for i, (x, y) in enumerate(zip(a.inputs, b.inputs)):
            place_x = where1.get(id(x), _input_holding(x.data, arrays1))
            place_y = where2.get(id(y), _input_holding(y.data, arrays2))
            if place_x != place_y:
                raise CaptureError(f"ag.jit: input {i} of op {k} ({a.describe()}) comes from "
                                   "different places in two recordings")
            if place_x is None and x is not y and not _same_value(x.data, y.data):
                raise CaptureError(
                    f"ag.jit: input {i} of op {k} ({a.describe()}) is a tensor made inside the "
                    f"step whose values change between calls (random numbers drawn outside an "
                    f"op, such as ag.rand, or values computed in numpy from the inputs); "
                    "pass it as an argument of the step or use an op (ag.dropout)")
        where1[id(a.out)] = where2[id(b.out)] = ("op", k)


# --- the public wrapper ---------------------------------------------------------------------


def _closed_over(function: Callable) -> list[Any]:
    """What the step can reach besides its arguments: closure, named globals, bound self."""
    candidates = []
    code = getattr(function, "__code__", None)
    if hasattr(function, "__self__"):
        candidates.append(function.__self__)
    for cell in getattr(function, "__closure__", None) or ():
        with contextlib.suppress(ValueError):  # an empty cell
            candidates.append(cell.cell_contents)
    if code is not None:
        module_globals = getattr(function, "__globals__", {})
        candidates += [module_globals[name] for name in code.co_names if name in module_globals]
    return candidates


def _submodules(values: Any) -> list[Any]:
    """Every module among ``values`` and below them, each once (modules have ``modules()``
    and ``training``)."""
    found, seen = [], set()
    for value in values:
        if hasattr(value, "training") and callable(getattr(value, "modules", None)):
            for module in value.modules():
                if id(module) not in seen:
                    seen.add(id(module))
                    found.append(module)
    return found


def _key_part(value: Any, what: str) -> Any:
    if isinstance(value, Tensor):
        return ("tensor", value.shape, value.dtype.str, value._requires_grad)
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype.str)
    try:
        hash(value)
    except TypeError:
        raise CaptureError(f"ag.jit: argument {what} ({type(value).__name__}) must be a "
                           "Tensor, a numpy array or a hashable constant") from None
    return ("value", type(value).__name__, value)


class Captured:
    """A step function wrapped by ``ag.jit``: records per signature, then replays."""

    def __init__(self, function: Callable, check: bool = False):
        functools.update_wrapper(self, function)
        self.function = function
        self.check = check
        self.plans: dict[Any, Plan] = {}
        self._first: dict[Any, tuple[Recorder, list]] = {}
        self._modules: list[Any] | None = None

    def signature(self, args: tuple, kwargs: dict) -> Any:
        parts = tuple(_key_part(a, f"{i}") for i, a in enumerate(args))
        parts += tuple((k, _key_part(v, k)) for k, v in sorted(kwargs.items()))
        if self._modules is None:  # looked up at the first call: globals may come later
            self._modules = _submodules(_closed_over(self.function))
        modes = tuple(m.training for m in self._modules)
        others = [v for v in (*args, *kwargs.values())
                  if v.__class__ is not Tensor and hasattr(v, "training")]
        if others:
            modes += tuple(m.training for m in _submodules(others))
        return parts, modes

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = self.signature(args, kwargs)
        tensors = [v for v in (*args, *kwargs.values()) if isinstance(v, (Tensor, np.ndarray))]
        plan = self.plans.get(key)
        if plan is None:
            return self._record(key, args, kwargs, tensors)
        if self.check:
            return self._checked(plan, args, kwargs, tensors)
        return plan.replay(tensors)

    def _record(self, key: Any, args: tuple, kwargs: dict, tensors: list) -> Any:
        recorder, result = _record(self.function, args, kwargs)
        first = self._first.pop(key, None)
        if first is None:
            self._first[key] = (recorder, tensors)
        else:
            _compare(first[0], recorder, first[1], tensors)
            self.plans[key] = Plan(recorder, tensors, result)
        return result

    def _checked(self, plan: Plan, args: tuple, kwargs: dict, tensors: list) -> Any:
        restore = plan.snapshot()
        recorder, expected = _record(self.function, args, kwargs)
        _compare(plan.recorder, recorder, plan.inputs, tensors)
        after = [(t, t.data.copy(), None if t.grad is None else t.grad.data.copy())
                 for _, t in plan.leaves]
        restore()
        result = plan.replay(tensors)
        ops = [e for e in recorder.events if isinstance(e, _Op)]
        for op, slot in zip(ops, plan.op_slots):
            got = plan.vals[slot]
            if not _same_value(op.out.data, got):
                raise CaptureError(f"ag.jit check: the replayed op {op.describe()} differs from "
                                   f"eager (max abs difference "
                                   f"{_difference(op.out.data, got)})")
        for tensor, data, grad in after:
            if not _same_value(data, tensor.data) or (grad is None) != (tensor.grad is None) \
                    or (grad is not None and not _same_value(grad, tensor.grad.data)):
                raise CaptureError(f"ag.jit check: after the replay a leaf of shape "
                                   f"{tensor.shape} (a parameter or its gradient) differs from "
                                   "eager")
        if not _same_value(_flat(result), _flat(expected)):
            raise CaptureError("ag.jit check: the replayed step returned other values than eager")
        return result

    def explain(self) -> str:
        """Every plan recorded so far, as text: one line per op, with slots and shapes."""
        if not self.plans:
            return f"{self.__name__}: no plan yet (the first two calls of a signature record)"
        return "\n\n".join(f"plan for {key[0]}:\n{plan.explain()}"
                           for key, plan in self.plans.items())

    @property
    def plan(self) -> str:
        return self.explain()


def _difference(a: np.ndarray, b: np.ndarray) -> str:
    if a.shape != b.shape:
        return f"shapes {a.shape} vs {b.shape}"
    return f"{np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))):.3g}"


def _flat(value: Any) -> list:
    if isinstance(value, Tensor):
        return [value.data]
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _flat(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat(v)]
    return [value]


def jit(function: Callable | None = None, *, check: bool = False) -> Any:
    """Capture a training step (see the module docstring): ``step = ag.jit(step)``,
    ``@ag.jit`` or ``@ag.jit(check=True)``. ``step.explain()`` shows the plan."""
    if function is None:
        return functools.partial(jit, check=check)
    return Captured(function, check=check)
