"""backward(): walk the graph in reverse topological order and apply the chain rule.

The order comes from counting each tensor's consumers and releasing a tensor once all of them
are done (Kahn's algorithm, from the output back). It is iterative (no recursion), so a chain of
a million ops works. A gradient travels with its tensor on the stack of ready tensors (only the
partial sums of tensors still waiting for a consumer sit in a table) and is dropped once its
tensor has been processed, and each node releases its saved values as it is passed (unless
``retain_graph=True``), so memory falls during the walk instead of peaking at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import ShapeError
from .function import RELEASED, check_finite
from .kernels.registry import sole_owner
from .mode import state
from .tensor import Tensor, to_array, write_count


def _count_consumers(root: Tensor) -> dict[Tensor, int]:
    """For each tensor that requires grad in the graph of ``root``: how many edges consume it.

    A tensor's gradient is complete once all its consumers have passed theirs back, which is how
    the walk below knows when a tensor is ready, with no recursion and no sorting.

    The walk's tables are keyed by the tensors themselves: Tensor hashes by identity (object's
    own C hash, distinct for distinct live objects, so ``==`` is never called), which saves an
    ``id()`` call per lookup, a few percent of a small op's backward.
    """
    consumers = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()._node
        if node is None:
            continue
        for inp in node.inputs:
            if inp._requires_grad:
                if inp in consumers:
                    consumers[inp] += 1
                else:
                    consumers[inp] = 1
                    stack.append(inp)
    return consumers


def _backward_order(root: Tensor) -> list[Tensor]:
    """The tensors that require grad in the graph of ``root``, each after all its consumers:
    the order in which their gradients become complete."""
    consumers = _count_consumers(root)
    order, ready = [], [root]
    while ready:
        tensor = ready.pop()
        order.append(tensor)
        if tensor._node is not None:
            for inp in tensor._node.inputs:
                if inp._requires_grad:
                    remaining = consumers[inp] - 1
                    consumers[inp] = remaining
                    if not remaining:
                        ready.append(inp)
    return order


def topological_order(root: Tensor) -> list[Tensor]:
    """The tensors that require grad in the graph of ``root``, each listed after its inputs."""
    order = _backward_order(root)
    order.reverse()
    return order


def sum_to_shape(grad, shape: tuple[int, ...]):
    """Undo broadcasting: sum ``grad`` over the axes that broadcasting added or stretched.

    Works on numpy arrays and on Tensors alike (it only uses ``.sum`` and ``.reshape``).
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise ShapeError(f"sum_to_shape: gradient of shape {grad.shape} cannot be reduced to "
                         f"{shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _fit_to_input(grad, inp: Tensor, op: str):
    """The central step applied to every input gradient: match the input's shape and dtype."""
    if grad.shape != inp.data.shape:
        try:
            grad = sum_to_shape(grad, inp.data.shape)
        except (ValueError, ShapeError) as err:
            raise RuntimeError(f"backward of {op}: gradient of shape {grad.shape} does not fit "
                               f"its input of shape {inp.data.shape}") from err
    if grad.dtype != inp.data.dtype:
        grad = grad.astype(inp.data.dtype)
    return grad


def _seed(root: Tensor, gradient: Any, create_graph: bool):
    """d(root)/d(root): ones for a scalar, else the user's ``gradient`` (checked)."""
    if gradient is None:
        if root.data.size != 1:
            raise ShapeError(
                f"backward: the output has shape {root.shape}; a gradient can be created "
                f"implicitly only for a single-element output. Pass gradient= an array of shape "
                f"{root.shape}, or reduce the output first (e.g. y.sum().backward())"
            )
        seed = np.ones_like(root.data)
    else:
        seed = gradient.data if isinstance(gradient, Tensor) else to_array(gradient)
        if seed.shape != root.shape:
            raise ShapeError(f"backward: gradient has shape {seed.shape} {seed.dtype} but the "
                             f"output has shape {root.shape} {root.dtype}; they must match")
        if create_graph and isinstance(gradient, Tensor):
            return gradient
        seed = np.array(seed, dtype=root.dtype)  # a copy: the walk may adopt it as a .grad
    return Tensor._wrap(seed) if create_graph else seed


def _grad_tensor(grad) -> Tensor:
    """A gradient as a Tensor: one already (create_graph), or an array wrapped without a copy."""
    return grad if isinstance(grad, Tensor) else Tensor._wrap(grad)


def _run_hooks(tensor: Tensor, grad):
    for hook in tensor._hooks:
        replaced = hook(_grad_tensor(grad))
        if replaced is not None:
            replacement = replaced if isinstance(grad, Tensor) else to_array(replaced)
            if replacement.shape != tensor.shape:
                raise ShapeError(f"register_hook: a hook returned a gradient of shape "
                                 f"{replacement.shape} for a tensor of shape {tensor.shape}")
            grad = replacement
    return grad


def _accumulate(tensor: Tensor, grad, adopted: set[int]) -> None:
    """Add ``grad`` to ``tensor.grad``, never sharing an array with anything else.

    A fresh array that the walk made (numpy's or a kernel's, see ``kernels.sole_owner``) is
    adopted as it is (copying every parameter's gradient on every step costs a pass over all
    weights). It is copied when it could be shared: a view
    (e.g. the read-only broadcast of a sum's gradient), an array already handed to another
    tensor in this walk (add passes one gradient to both inputs), or a dtype to convert.
    """
    if isinstance(grad, Tensor):  # create_graph: keep the sum differentiable
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad
    elif tensor.grad is None:
        if not sole_owner(grad) or id(grad) in adopted or grad.dtype != tensor.data.dtype \
                or not grad.flags.writeable:
            grad = np.array(grad, dtype=tensor.data.dtype)
        adopted.add(id(grad))
        tensor.grad = Tensor._wrap(grad)
    else:
        tensor.grad = Tensor._wrap(tensor.grad.data + grad)


def _walk(root: Tensor, seed, retain_graph: bool, create_graph: bool,
          targets: Sequence[Tensor] | None) -> list | None:
    """The chain rule over the whole graph; returns the targets' gradients when given.

    Tensors are taken in ``_backward_order``'s order (the same steps, run here as the walk goes
    rather than listed first, which would cost a second pass over the graph): each once all its
    consumers have passed their gradient contributions to it. A tensor's gradient travels with
    it on the ``ready`` stack; ``partial`` holds only the sums of tensors still waiting for a
    consumer, so a tensor with one consumer (most of them) never enters a table.
    """
    consumers = _count_consumers(root)
    partial: dict[Tensor, Any] = {}
    wanted = None if targets is None else {id(t): i for i, t in enumerate(targets)}
    found: list = [None] * (len(targets) if targets is not None else 0)
    anomaly = state.anomaly
    adopted: set[int] = set()
    ready = [(root, seed)]
    # Hooks and create_graph formulas record ops only under create_graph. The mode is set and
    # restored here directly: a _GradMode block costs more than the walk of a small graph.
    grad_enabled, state.grad_enabled = state.grad_enabled, create_graph
    try:
        while ready:
            tensor, grad = ready.pop()
            node = tensor._node
            if grad is not None:
                if tensor._hooks:
                    grad = _run_hooks(tensor, grad)
                if wanted is not None:
                    if id(tensor) in wanted:  # a copy: the table's arrays may be shared views
                        found[wanted[id(tensor)]] = grad if isinstance(grad, Tensor) \
                            else Tensor._wrap(np.array(grad))
                elif node is None or tensor._retains_grad:
                    _accumulate(tensor, grad, adopted)
            if node is None:
                continue
            inputs = node.inputs
            if grad is None:  # nothing flowed here (a backward formula returned None)
                input_grads = (None,) * len(inputs)
            else:
                saved = node.saved
                if create_graph or saved is RELEASED:  # the common case skips the call
                    saved = node.saved_values(tensor if create_graph else None)
                # its inputs/output written since it saved them? (only if anything was written)
                if saved and node.writes_before != write_count[0]:
                    node.check_saved(tensor)
                input_grads = node.backward(grad, *saved)
                if input_grads.__class__ is not tuple:
                    input_grads = (input_grads,)
                if len(input_grads) != len(inputs):  # zip would silently drop the rest
                    raise RuntimeError(f"backward of {node.name} returned {len(input_grads)} "
                                       f"gradients for {len(inputs)} inputs")
                if not retain_graph:
                    node.saved = RELEASED
            for inp, input_grad in zip(inputs, input_grads):
                if not inp._requires_grad:
                    continue
                if input_grad is not None:
                    data = inp.data
                    # ``is`` first: the common case, one dtype object (a kernel's output may
                    # carry an equal dtype that is another object)
                    if input_grad.shape != data.shape or (input_grad.dtype is not data.dtype
                                                          and input_grad.dtype != data.dtype):
                        input_grad = _fit_to_input(input_grad, inp, node.name)
                    if anomaly:
                        check_finite(_grad_tensor(input_grad).data, node.name,
                                     "backward gradient", node.created_at)
                remaining = consumers[inp] - 1  # this consumer is done with ``inp``
                if partial:
                    previous = partial.pop(inp, None)
                    if previous is not None:
                        input_grad = previous if input_grad is None else previous + input_grad
                if remaining:
                    consumers[inp] = remaining
                    if input_grad is not None:
                        partial[inp] = input_grad
                else:
                    ready.append((inp, input_grad))
    finally:
        state.grad_enabled = grad_enabled
    return found if targets is not None else None


def _check_root(root: Tensor, where: str) -> None:
    if not root._requires_grad:
        raise RuntimeError(f"{where}: the tensor (shape {root.shape}) does not require grad and "
                           "has no grad_fn: no input that requires grad went into it")


def backward(root: Tensor, gradient: Any = None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
    _check_root(root, "backward")
    if state.recorder is not None:  # ag.jit is recording a step
        state.recorder.backward(root, gradient, create_graph)
    seed = _seed(root, gradient, create_graph)
    _walk(root, seed, retain_graph or create_graph, create_graph, targets=None)


def grad(output: Tensor, inputs: Sequence[Tensor], gradient: Any = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         materialize_grads: bool = True) -> list[Tensor | None]:
    """d(output)/d(input) for each of ``inputs``, leaving every ``.grad`` untouched.

    Inputs the output does not depend on get zeros (None with ``materialize_grads=False``).
    ``retain_graph`` defaults to ``create_graph``, as in PyTorch.

    >>> x = ag.tensor(3.0, requires_grad=True)
    >>> (dx,) = ag.engine.grad(x * x, [x])       # dx == 6
    """
    _check_root(output, "grad")
    if state.recorder is not None:
        state.recorder.refuse("ag.grad (or value_and_grad)")
    retain = create_graph if retain_graph is None else retain_graph
    seed = _seed(output, gradient, create_graph)
    found = _walk(output, seed, retain, create_graph, targets=list(inputs))
    if not materialize_grads:
        return found
    return [g if g is not None else Tensor._wrap(np.zeros_like(t.data))
            for g, t in zip(found, inputs)]
