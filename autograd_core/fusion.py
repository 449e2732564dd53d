"""Fusion for captured plans: a run of elementwise ops becomes one loop forward, one backward.

A captured step (``plan.py``) calls each op's forward and backward on whole arrays: a chain of
200 small elementwise ops is 200 numpy calls forward and as many backward, each paying numpy's
fixed cost for a few dozen elements. This module finds *groups* in the plan, maximal runs of
neighbouring elementwise ops, and writes each as two Numba loops::

    for i in range(n):                        # forward: the group's outputs, and what the
        v2 = v0[i] * v1[i]                    # backward reads, saved in one buffer
        v4 = v2 + v3
        v5 = np.tanh(v4)  ...
    for i in range(n):                        # backward: the input gradients
        g4 = g5[i] * tanh_grad(v5)
        g2 = g4  ...

**Where the code comes from.** Each fusable op declares, beside its forward and backward, one
element of each (on its Function class)::

    scalar_forward = "{0} * {1}"                        # {0}, {1}: the inputs, {out}: the output
    scalar_backward = ("{grad} * {1}", "{grad} * {0}")  # d loss / d input j, {grad}: the gradient
    scalar_libm = True                                  # only for exp, log, tanh, sigmoid

The forms may call ``np`` (its scalar functions), ``T`` (a cast to the group's dtype, so
``T(2)`` is a float32 2 for float32 arrays, as numpy's NEP 50 keeps it) and the formulas of
``formulas.py`` (``tanh_grad``, ``sigmoid``, ``larger`` ...). An op without them ends a group.

**A group** is a run of consecutive fusable ops of the plan (at least ``MIN_OPS``) whose array
inputs all have the group's shape and dtype (float32 or float64), or are 0-d constants of that
dtype that take no gradient (``y * w + 0.1``): any other broadcasting ends it. Its *outputs* are
the values used after the group (by later ops, a backward root, the step's result) and its last
value; the others live only in registers. In every ``backward()`` the group's nodes must follow
each other in the engine's order, and their backward statements are written from the plan's own
walk (the same contributions, summed in the same order), so the loop does the unfused plan's
arithmetic element by element.

**Exactness.** ``+ - * /``, negation, comparisons and casts round as numpy does (IEEE, no
fastmath, no FMA contraction, constants cast to the array dtype): such groups equal eager bit for
bit. ``np.exp``, ``np.log``, ``np.tanh`` inside a Numba loop call the C library, which may round
1-3 ulp away from numpy's SIMD versions (measured: ``tests/core/test_fusion.py``), so a group
holding one is *inexact*: ``check=True`` compares what depends on it within
:data:`INEXACT_RTOL`. ``ag.jit(f, fuse=False)`` keeps every op unfused and exact.

**Kernel and twin.** Each loop has a numpy twin: the same statements run on whole arrays (it is
what the unfused ops compute). The twin runs when the kernels are off (``AUTOGRAD_CORE_JIT=0``,
``kernels.use_jit(False)``) and when an array is not a C-contiguous array of the group's shape and
dtype (a transposed input keeps eager's memory layout that way).

**Compiling.** Each loop's source is written once to ``<numba cache>/fused/fused_<hash>.py``
(the hash of the source) and compiled by Numba with ``cache=True``: another process running the
same plan loads the machine code instead of compiling it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import string
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from . import formulas, kernels

# Below this many ops a group is left unfused: its two calls (about 2 us each: the outputs'
# allocation, the dispatch) cost about what the few op calls they replace do, and its first
# compilation (0.7-2.7 s; a cached load: 20-100 ms) would not pay (``python -m bench.fusion``).
MIN_OPS = 4
# check=True: how far a value that depends on an inexact group may be from eager, relative to
# the largest magnitude in its array (a few ulp per libm call, grown along a chain).
INEXACT_RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-10}
FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

# The names a scalar form may use, inside the Numba loop and in the numpy twin.
_LOOP_NAMES = ("sigmoid", "sigmoid_grad", "tanh_grad", "relu_grad", "larger", "smaller")
_TWIN_NAMES = {"sigmoid": formulas.sigmoid_array, "sigmoid_grad": formulas.sigmoid_grad,
               "tanh_grad": formulas.tanh_grad, "relu_grad": formulas.relu_grad,
               "larger": np.maximum, "smaller": np.minimum, "np": np}


def fusable(fn: Any) -> bool:
    return getattr(fn, "scalar_forward", None) is not None


def _fields(form: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(form) if field}


class Group:
    """A run of fusable ops: its statements, its loops and their twins, its place in the plan.

    ``ops``: the plan's op instructions ``(fn, sources, out)``; ``arrays`` / ``scalars``: the
    slots it reads from before it (arrays of its shape, 0-d constants); ``outputs``: the slots
    used after it; ``saved``: the values its backward reads that are neither inputs nor outputs.
    """

    def __init__(self, number: int, ops: list[tuple], shape: tuple, dtype: np.dtype,
                 outputs: list[int], shapes: dict[int, tuple]):
        self.number, self.ops, self.shape, self.dtype = number, ops, shape, dtype
        self.size, self.ndim = int(np.prod(shape)), len(shape)
        self.slots = {out for _, _, out in ops}
        self.outputs = outputs
        self.arrays: list[int] = []
        self.scalars: list[int] = []
        self.inexact = False
        self.statements: list[tuple[str, str]] = []  # (code, op name)
        read_back: set[int] = set()
        for fn, sources, out in ops:
            for s in sources:
                if s not in self.slots and s not in self.arrays and s not in self.scalars:
                    (self.scalars if shapes[s][0] == () else self.arrays).append(s)
            self.statements.append((f"v{out} = {self.form(fn.scalar_forward, sources, out)}",
                                    fn.name))
            self.inexact = self.inexact or getattr(fn, "scalar_libm", False)
            for form in fn.scalar_backward:
                for field in _fields(form) - {"grad"}:
                    read_back.add(out if field == "out" else sources[int(field)])
        self.saved = sorted(s for s in read_back if s in self.slots and s not in outputs)
        self.backwards: list[Backward] = []
        self._loop: Callable | None = None
        self._twin = _twin(self.twin_source(), dtype)

    @staticmethod
    def form(form: str, sources: list[int], out: int, grad: str = "") -> str:
        return form.format(*[f"v{s}" for s in sources], out=f"v{out}", grad=grad)

    @property
    def name(self) -> str:
        return f"F{self.number}"

    # -- forward -----------------------------------------------------------------------------
    def loop_source(self) -> str:
        """``kernel(A.. (arrays), v.. (constants), R.. (outputs), S (saved, one row each))``."""
        arrays, results = [f"A{s}" for s in self.arrays], [f"R{s}" for s in self.outputs]
        lines = [f"def kernel({', '.join(arrays + [f'v{s}' for s in self.scalars] + results)}"
                 ", S):"]
        lines += _flatten(arrays + results, "S")
        lines += [f"        v{s} = A{s}f[i]" for s in self.arrays]
        lines += [f"        {code}" for code, _ in self.statements]
        lines += [f"        R{s}f[i] = v{s}" for s in self.outputs]
        lines += [f"        S[{k}, i] = v{s}" for k, s in enumerate(self.saved)]
        return _module(lines, self.dtype)

    def loop_types(self) -> list[Any]:
        return [self.ndim] * len(self.arrays) + [0] * len(self.scalars) + \
            [self.ndim] * len(self.outputs) + [2]

    def twin_source(self) -> str:
        lines = [f"def twin({', '.join(f'v{s}' for s in self.arrays + self.scalars)}):"]
        lines += [f"    {code}" for code, _ in self.statements]
        lines.append(f"    return ({''.join(f'v{s}, ' for s in self.outputs)}), "
                     f"({''.join(f'v{s}, ' for s in self.saved)})")
        return "\n".join(lines) + "\n"

    def forward(self, *values: np.ndarray) -> tuple:
        """The group's outputs, then what its backward reads (one buffer from the loop, a tuple
        of arrays from the twin); ``values``: the arrays, then the 0-d constants."""
        if kernels.jit_enabled():
            if self._loop is None:
                self._loop = _compile(self.loop_source(), self.loop_types(), self.dtype)
            n = len(self.arrays)
            results = [np.empty(self.shape, self.dtype) for _ in self.outputs]
            saved = np.empty((len(self.saved), self.size), self.dtype)
            if _run(self._loop, *values[:n], *[c[()] for c in values[n:]], *results, saved):
                return (*results, saved)
        results, saved = self._twin(*values)
        return (*results, saved)

    # -- backward ----------------------------------------------------------------------------
    def backward_for(self, block: list, present: set[int], seen: Any) -> Backward:
        """The backward of this group over ``block`` (its entries in one ``backward()``, in the
        engine's order) given the gradients ``present`` before it, written as the plan writes
        the unfused walk (same contributions, same order of summing); adds to ``present``."""
        ops = {id(fn): (fn, sources) for fn, sources, _ in self.ops}
        before = set(present)
        lines: list[tuple[str, str]] = []
        incoming: list[int] = []
        written: list[int] = []
        for slot, node, inputs in block:
            if slot not in present:
                continue  # no formula passed a gradient here
            if slot in before and slot not in incoming:
                incoming.append(slot)
            fn, sources = ops[id(node)]
            for j, (target, _) in enumerate(inputs):
                if target is None or seen.gradients[(slot, j)][0]:
                    continue
                grad = self.form(fn.scalar_backward[j], sources, slot, grad=f"g{slot}")
                if target in present:
                    if target in before and target not in incoming:
                        incoming.append(target)
                    grad = f"g{target} + ({grad})"
                present.add(target)
                lines.append((f"g{target} = {grad}", f"d {fn.name}"))
                if target not in self.slots and target not in written:
                    written.append(target)
        key = (tuple(lines), tuple(incoming), tuple(written))
        for backward in self.backwards:
            if backward.key == key:
                return backward
        backward = Backward(self, len(self.backwards), key)
        self.backwards.append(backward)
        return backward


class Backward:
    """One backward loop of a group (one per distinct ``backward()`` through it) and its twin:
    ``kernel(G.. (incoming gradients), A.. (arrays read), v.. (constants), S, R.. (out))``."""

    def __init__(self, group: Group, number: int, key: tuple):
        self.group, self.number, self.key = group, number, key
        self.ndim = group.ndim
        self.lines, self.incoming, self.written = key
        reads = {int(slot) for code, _ in self.lines for slot in re.findall(r"\bv(\d+)\b", code)}
        self.arrays = [s for s in group.arrays + group.outputs if s in reads]
        self.scalars = [s for s in group.scalars if s in reads]
        self.saved = [(k, s) for k, s in enumerate(group.saved) if s in reads]
        self._loop: Callable | None = None
        self._twin = _twin(self.twin_source(), group.dtype)

    def parameters(self) -> list[str]:
        """The plan's variables this backward reads, in order (the saved values come last)."""
        return [f"g{s}" for s in self.incoming] + [f"v{s}" for s in self.arrays + self.scalars]

    def loop_source(self) -> str:
        incoming, arrays = [f"G{s}" for s in self.incoming], [f"A{s}" for s in self.arrays]
        results = [f"R{s}" for s in self.written]
        names = incoming + arrays + [f"v{s}" for s in self.scalars] + ["S"] + results
        lines = [f"def kernel({', '.join(names)}):"]
        lines += _flatten(incoming + arrays + results, "S")
        lines += [f"        g{s} = G{s}f[i]" for s in self.incoming]
        lines += [f"        v{s} = A{s}f[i]" for s in self.arrays]
        lines += [f"        v{s} = S[{k}, i]" for k, s in self.saved]
        lines += [f"        {code}" for code, _ in self.lines]
        lines += [f"        R{s}f[i] = g{s}" for s in self.written]
        return _module(lines, self.group.dtype)

    def loop_types(self) -> list[Any]:
        return [self.ndim] * (len(self.incoming) + len(self.arrays)) + [0] * len(self.scalars) \
            + [2] + [self.ndim] * len(self.written)

    def twin_source(self) -> str:
        lines = [f"def twin({', '.join(self.parameters() + ['S'])}):"]
        lines += [f"    v{s} = S[{k}]" for k, s in self.saved]
        lines += [f"    {code}" for code, _ in self.lines]
        lines.append(f"    return ({''.join(f'g{s}, ' for s in self.written)})")
        return "\n".join(lines) + "\n"

    def __call__(self, *values: Any) -> tuple:
        """The gradients ``self.written`` (in order) from ``values``: the incoming gradients,
        the arrays and constants read, and last what the group's forward saved."""
        group, saved = self.group, values[-1]
        if saved.__class__ is not np.ndarray:  # the forward ran the twin: so does the backward
            return self._twin(*values)
        m = len(self.incoming)
        # a gradient may arrive as a broadcast view (a sum's backward): the loop reads a copy
        grads = [np.ascontiguousarray(g) for g in values[:m]]
        rest = values[m:-1]
        if kernels.jit_enabled():
            if self._loop is None:
                self._loop = _compile(self.loop_source(), self.loop_types(), group.dtype)
            n = len(self.arrays)
            results = [np.empty(group.shape, group.dtype) for _ in self.written]
            if _run(self._loop, *grads, *rest[:n], *[c[()] for c in rest[n:]], saved,
                    *results):
                return tuple(results)
        return self._twin(*grads, *rest, [row.reshape(group.shape) for row in saved])


# --- finding the groups -------------------------------------------------------------------------


def find_groups(plan: Any, seen: Any) -> list[Group]:
    """The groups of ``plan`` (see the module docstring), given what its first replay saw."""
    events = iter([e for e in plan.events if hasattr(e, "fn")])  # the Op events, in order
    runs: list[list[tuple]] = [[]]
    last_use: dict[int, int] = {}  # slot -> the position of its last use as an op's input
    for position, instruction in enumerate(plan.program):
        if instruction[0] != "op":
            runs.append([])
            continue
        _, fn, sources, params, _, out = instruction
        for s in sources:
            last_use[s] = position
        if not _fusable(fn, next(events), sources, params, out, plan, seen):
            runs.append([])
            continue
        run = runs[-1]
        if run and plan.shapes[run[0][2]] != plan.shapes[out]:
            runs.append(run := [])
        run.append((fn, sources, out, position))
    outside = set(plan._result_slots(plan.result))
    outside |= {root for kind, _, root, *_ in plan.program if kind == "backward"}
    groups = []
    for run in runs:
        if len(run) < MIN_OPS:
            continue
        end = run[-1][3]
        outputs = [out for _, _, out, _ in run
                   if out in outside or last_use.get(out, -1) > end or out == run[-1][2]]
        shape, dtype = plan.shapes[run[0][2]]
        group = Group(len(groups), [op[:3] for op in run], shape, dtype, outputs, plan.shapes)
        if _in_one_piece(group, plan, seen):
            groups.append(group)
    return groups


def _fusable(fn: Any, event: Any, sources: list[int], params: dict, out: int, plan: Any,
             seen: Any) -> bool:
    """Whether the op can join a group: a scalar form, no parameters, an array of a float dtype
    out, and as inputs arrays of that shape and dtype or 0-d constants taking no gradient."""
    shape, dtype = plan.shapes[out]
    if not fusable(fn) or params or out in seen.not_arrays or dtype not in FLOATS \
            or not shape or 0 in shape:
        return False
    return all(plan.shapes[s] == (shape, dtype)
               or (plan.shapes[s] == ((), dtype) and not tensor._requires_grad)
               for s, tensor in zip(sources, event.inputs))


def _in_one_piece(group: Group, plan: Any, seen: Any) -> bool:
    """Whether in each ``backward()`` the group's nodes follow each other in the engine's order
    and every gradient they pass has its input's shape and dtype (nothing to sum or cast).

    Leaves between them do not count: filling a leaf's ``.grad`` only reads its finished
    gradient, so it may as well come after the group's loop."""
    nodes = {id(fn) for fn, _, _ in group.ops}
    for kind, _, _, *rest in plan.program:
        if kind != "backward":
            continue
        entries = [entry for entry in rest[0] if entry[1] is not None]
        places = [k for k, (_, node, _) in enumerate(entries) if id(node) in nodes]
        if places and places[-1] - places[0] + 1 != len(places):
            return False
        for k in places:
            slot, _, inputs = entries[k]
            if any(seen.gradients.get((slot, j), (False, False))[1]
                   for j, (target, _) in enumerate(inputs) if target is not None):
                return False
    return True


def blocks(group_of: dict[int, Group], entries: list) -> dict[int, tuple[Group, list]]:
    """For one ``backward()``: the position of each group's first entry -> the group and its
    entries (consecutive, as :func:`find_groups` checked)."""
    found: dict[int, tuple[Group, list]] = {}
    first: dict[int, int] = {}
    for k, entry in enumerate(entries):
        group = group_of.get(id(entry[1]))
        if group is not None:
            start = first.setdefault(group.number, k)
            found.setdefault(start, (group, []))[1].append(entry)
    return found


# --- compiling ----------------------------------------------------------------------------------


def _run(loop: Callable, *arguments: Any) -> bool:
    """Call ``loop``, compiled for C-contiguous arrays of the group's dtype and ndim only: it
    refuses other arrays (``TypeError``) and other sizes (returns False); the caller then runs
    the twin, which also keeps eager's memory layout for a transposed input."""
    try:
        return loop(*arguments)
    except TypeError:
        return False


def _flatten(names: list[str], saved: str) -> list[str]:
    """The loop's start: every array seen flat, after checking it has the group's size."""
    size = f"{names[-1]}.size"
    check = " or ".join([f"{n}.size != n" for n in names] + [f"{saved}.shape[1] != n"])
    return [f"    n = {size}", f"    if {check}:", "        return False"] + \
        [f"    {n}f = {n}.reshape(n)" for n in names] + ["    for i in range(n):"]


def _module(lines: list[str], dtype: np.dtype) -> str:
    lines = [*lines, "    return True"]
    header = ["import numpy as np",
              f"from autograd_core.formulas import {', '.join(_LOOP_NAMES)}",
              f"T = np.{dtype.name}  # the group's dtype: T(2) is a {dtype.name} constant", ""]
    return "\n".join(header + lines) + "\n"


def _twin(source: str, dtype: np.dtype) -> Callable:
    """The numpy twin of a loop: ``source`` run on whole arrays."""
    namespace = {**_TWIN_NAMES, "T": lambda x: np.asarray(x, dtype),
                 "__name__": "autograd_core.fused"}
    exec(compile(source, "<ag.jit fused twin>", "exec"), namespace)
    return namespace["twin"]


def _read(path: str) -> str | None:
    try:
        with open(path) as file:
            return file.read()
    except (OSError, UnicodeDecodeError):
        return None


def _compile(source: str, ndims: list[int], dtype: np.dtype) -> Callable:
    """``kernel`` of ``source`` compiled by Numba for arguments of ``dtype`` (C-contiguous arrays
    of ``ndims``, 0 for a scalar) and for nothing else. The source is written to a file named by
    its hash, so that Numba's cache (``cache=True``) finds it again in the next process."""
    from .kernels import registry

    njit = registry._njit()  # configures numba's cache and makes the formulas jit-callable
    import numba

    scalar = numba.from_dtype(dtype)
    signature = tuple(numba.types.Array(scalar, ndim, "C") if ndim else scalar
                      for ndim in ndims)
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    folder = os.path.join(os.environ.get("NUMBA_CACHE_DIR")
                          or registry.user_cache_dir(os.environ), "fused")
    path = os.path.join(folder, f"fused_{digest}.py")
    try:
        # Rewrite the file only if it is missing or not this source (a file damaged or edited
        # in the cache folder must not run): rewriting changes its time and voids the cache.
        if _read(path) != source:
            os.makedirs(folder, exist_ok=True)
            temporary = f"{path}.{os.getpid()}.tmp"
            with open(temporary, "w") as file:
                file.write(source)
            os.replace(temporary, path)
        name = f"autograd_core_fused_{digest}"
        module = sys.modules.get(name)
        if module is None:  # in sys.modules: Numba's cached code names its module to reload it
            spec = importlib.util.spec_from_file_location(name, path)
            module = sys.modules[name] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        kernel = njit(module.kernel)
    except OSError:  # no writable cache folder: compile in memory, for this process only
        namespace: dict[str, Any] = {}
        exec(compile(source, "<ag.jit fused loop>", "exec"), namespace)
        kernel = numba.njit(**{**registry.NJIT_OPTIONS, "cache": False})(namespace["kernel"])
    registry._load_cached_code_without_registries(kernel)
    kernel.compile(signature)  # or loads it from the cache
    kernel.disable_compile()
    return kernel
