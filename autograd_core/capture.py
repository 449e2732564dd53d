"""``ag.jit``: record a training step, then replay it as one compiled, straight-line function.

A training step builds the same graph every time: the same ops, on arrays of the same shapes.
``ag.jit`` wraps a step function, watches it run, and keeps what it did as a *plan*
(``autograd_core.plan``): the ops' forward calls, the backward formulas the engine ran (with the
gradient sums and the accumulation into ``.grad``) and the optimizer's update, written out as
Python source. Later calls run that code on the new inputs' arrays: no Tensor, Function or graph
walk is built per op.

>>> @ag.jit
... def step(x, y):
...     opt.zero_grad()
...     loss = loss_fn(model(x), y)
...     loss.backward()
...     opt.step()
...     return loss
>>> for x, y in loader:
...     loss = step(x, y)          # calls 1 and 2 run eagerly (recording); later calls replay
>>> print(step.explain())          # the plan's source, one line per op

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

**Fusion.** The replay runs runs of neighbouring elementwise ops (at least four, on arrays of one
shape, e.g. ``sigmoid(tanh(y * w + 0.1))``) as one compiled Numba loop forward and one backward
(``autograd_core.fusion``; ``step.explain()`` shows each group's scalar code). Arithmetic fused
this way equals eager bit for bit; exp, log, tanh and sigmoid in a loop come from the C library
and may differ from numpy's by a few ulp, so ``check=True`` compares what depends on them within
``fusion.INEXACT_RTOL`` of each array's magnitude (its error says so). ``ag.jit(f, fuse=False)``
replays every op unfused, bitwise equal to eager. A group's first replay compiles its loops
(seconds for long groups), cached on disk for later processes.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import engine, fusion, random
from .function import Function
from .mode import state
from .plan import Backward, CaptureError, Effect, Op, Plan, arrays_of, input_holding
from .tensor import Tensor

__all__ = ["CaptureError", "Captured", "Recorder", "active_recorder", "jit"]


_READS = ("item", "numpy", "tolist", "__float__", "__int__", "__index__", "__bool__", "__array__")


class Recorder:
    """Collects what one eager run of a step does; installed as ``mode.state.recorder``."""

    def __init__(self) -> None:
        self.events: list[Op | Backward | Effect] = []

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
        self.events.append(Op(fn, inputs, params, out))
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
        self.events.append(Backward(root, order))

    def effect(self, name: str, run: Callable[[], Any],
               snapshot: Callable[[], Callable[[], None]] | None = None) -> None:
        """Record a side effect that the replay repeats by calling ``run()``."""
        self.events.append(Effect(name, run, snapshot))

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


def _snapshot(plan: Plan, inputs: list) -> Callable[[], None]:
    """Copies of everything a step changes (leaves, and the gradients of this call's input
    tensors); the returned function puts them back."""
    tensors = [t for _, t in plan.leaves] + [t for t in inputs if isinstance(t, Tensor)]
    leaves = [(t, t.data.copy(), None if t.grad is None else t.grad.data.copy())
              for t in tensors if t.data.flags.writeable]
    generator = random.get_generator()
    rng_state = copy.deepcopy(generator.bit_generator.state)
    undo = [e.snapshot() for e in plan.events if isinstance(e, Effect) and e.snapshot is not None]

    def restore() -> None:
        for tensor, data, grad in leaves:
            tensor.data[...] = data
            tensor.grad = None if grad is None else Tensor._wrap(grad.copy())
        generator.bit_generator.state = rng_state
        for function in undo:
            function()
    return restore


def _compare(first: list, second: list, inputs1: list, inputs2: list) -> None:
    """Raise CaptureError unless two recordings (their events) of one signature did the same."""
    kinds = [type(e).__name__ for e in first], [type(e).__name__ for e in second]
    if len(first) != len(second):
        raise CaptureError(f"ag.jit: two calls with the same signature ran different steps "
                           f"({len(first)} and {len(second)} recorded events): "
                           "the step's control flow depends on the data")
    arrays1, arrays2 = arrays_of(inputs1), arrays_of(inputs2)
    where1: dict[int, tuple] = {}
    where2: dict[int, tuple] = {}
    for k, (a, b) in enumerate(zip(first, second)):
        if kinds[0][k] != kinds[1][k] or (isinstance(a, Effect) and a.name != b.name):
            raise CaptureError(f"ag.jit: event {k} differs between two recordings "
                               f"({kinds[0][k]} vs {kinds[1][k]}): data-dependent control flow")
        if not isinstance(a, Op):
            continue
        if type(a.fn) is not type(b.fn) or len(a.inputs) != len(b.inputs) \
                or a.params.keys() != b.params.keys():
            raise CaptureError(f"ag.jit: op {k} is {a.describe()} in one recording and "
                               f"{b.describe()} in the other: data-dependent control flow")
        for name, x in a.params.items():
            y = b.params[name]
            place_x, place_y = input_holding(x, arrays1), input_holding(y, arrays2)
            if place_x != place_y or (place_x is None and x is not y
                                      and not _same_value(x, y)):
                raise CaptureError(
                    f"ag.jit: the argument {name}= of op {k} ({a.describe()}) changes between "
                    "calls but is not the array of an input of the step (it is computed inside "
                    "the step, or converted: pass it ready-made, e.g. int64 labels)")
        for i, (x, y) in enumerate(zip(a.inputs, b.inputs)):
            place_x = where1.get(id(x), input_holding(x.data, arrays1))
            place_y = where2.get(id(y), input_holding(y.data, arrays2))
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


def _key_part(value: Any, what: Any) -> Any:
    if value.__class__ is Tensor:  # the common case first: this runs at every call
        data = value.data
        return ("tensor", data.shape, data.dtype, value._requires_grad)
    if isinstance(value, Tensor):
        return ("tensor", value.shape, value.dtype, value._requires_grad)
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype)
    try:
        hash(value)
    except TypeError:
        raise CaptureError(f"ag.jit: argument {what} ({type(value).__name__}) must be a "
                           "Tensor, a numpy array or a hashable constant") from None
    return ("value", type(value).__name__, value)


class Captured:
    """A step function wrapped by ``ag.jit``: records per signature, then replays."""

    def __init__(self, function: Callable, check: bool = False, fuse: bool = True):
        functools.update_wrapper(self, function)
        self.function = function
        self.check, self.fuse = check, fuse
        self.plans: dict[Any, Plan] = {}
        self._first: dict[Any, tuple[Recorder, list]] = {}
        self._modules: list[Any] | None = None

    def signature(self, args: tuple, kwargs: dict) -> Any:
        parts = tuple([_key_part(a, i) for i, a in enumerate(args)])
        if kwargs:
            parts += tuple((k, _key_part(v, k)) for k, v in sorted(kwargs.items()))
        if self._modules is None:  # looked up at the first call: globals may come later
            self._modules = _submodules(_closed_over(self.function))
        modes = tuple([m.training for m in self._modules])
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
            _compare(first[0].events, recorder.events, first[1], tensors)
            self.plans[key] = Plan(recorder.events, tensors, result, fuse=self.fuse)
        return result

    def _checked(self, plan: Plan, args: tuple, kwargs: dict, tensors: list) -> Any:
        restore = _snapshot(plan, tensors)
        recorder, expected = _record(self.function, args, kwargs)
        _compare(plan.events, recorder.events, plan.inputs, tensors)
        after = [(t, t.data.copy(), None if t.grad is None else t.grad.data.copy())
                 for _, t in plan.leaves]
        restore()
        result = plan.replay(tensors, keep_all=True)
        ops = [e for e in recorder.events if isinstance(e, Op)]
        inexact = " (beyond the rounding of fused exp/log/tanh/sigmoid loops)"
        for op, slot in zip(ops, plan.op_slots):
            if slot in plan.fused_away:
                continue  # inside a fused loop: checked through the group's outputs
            got = plan.vals[slot]
            if not _close(op.out.data, got, slot in plan.inexact_slots):
                raise CaptureError(f"ag.jit check: the replayed op {op.describe()} differs from "
                                   f"eager (max abs difference {_difference(op.out.data, got)})"
                                   + (inexact if slot in plan.inexact_slots else ""))
        for tensor, data, grad in after:
            if not _close(data, tensor.data, plan.inexact) \
                    or (grad is None) != (tensor.grad is None) \
                    or (grad is not None and not _close(grad, tensor.grad.data, plan.inexact)):
                raise CaptureError(f"ag.jit check: after the replay a leaf of shape "
                                   f"{tensor.shape} (a parameter or its gradient) differs from "
                                   "eager" + (inexact if plan.inexact else ""))
        if not all(_close(a, b, plan.inexact)
                   for a, b in zip(_flat(result), _flat(expected), strict=True)):
            raise CaptureError("ag.jit check: the replayed step returned other values than eager"
                               + (inexact if plan.inexact else ""))
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


def _close(expected: Any, got: Any, inexact: bool) -> bool:
    """Equal values; or, for a value that depends on a fused loop calling exp, log, tanh or
    sigmoid (``inexact``), floats within ``fusion.INEXACT_RTOL`` of the array's largest
    magnitude, which C's and numpy's rounding of those functions stay well inside."""
    if not inexact or not isinstance(expected, np.ndarray) \
            or expected.dtype not in fusion.INEXACT_RTOL or _same_value(expected, got):
        return _same_value(expected, got)
    if not isinstance(got, np.ndarray) or got.shape != expected.shape \
            or got.dtype != expected.dtype:
        return False
    nan = np.isnan(expected)
    if not np.array_equal(nan, np.isnan(got)) or not np.array_equal(
            expected[np.isinf(expected)], got[np.isinf(expected)]):
        return False
    finite = np.isfinite(expected)
    error = np.abs(expected[finite].astype(np.float64) - got[finite])
    scale = np.max(np.abs(expected[finite]), initial=0.0)
    return bool(np.all(error <= fusion.INEXACT_RTOL[expected.dtype] * scale))


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


def jit(function: Callable | None = None, *, check: bool = False, fuse: bool = True) -> Any:
    """Capture a training step (see the module docstring): ``step = ag.jit(step)``,
    ``@ag.jit`` or ``@ag.jit(check=True)``. ``step.explain()`` shows the plan.

    ``fuse``: run runs of neighbouring elementwise ops as one compiled loop each way
    (``autograd_core.fusion``); ``fuse=False`` keeps one call per op, bitwise equal to eager."""
    if function is None:
        return functools.partial(jit, check=check, fuse=fuse)
    return Captured(function, check=check, fuse=fuse)
