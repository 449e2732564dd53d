"""The functional style: ``ag.grad(f)(x)`` and ``ag.value_and_grad(f)(x)``, as in JAX, and
``torch.autograd.functional``'s transforms: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``.

Calls nest: ``ag.grad(ag.grad(f))(x)`` is the second derivative. The inner call sees an argument
that already requires grad, so it builds the graph of its backward pass (``create_graph``) for
the outer call to differentiate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import engine
from .errors import ShapeError
from .mode import enable_grad
from .tensor import Tensor, to_array


def value_and_grad(fun: Callable[..., Tensor], argnums: int | Sequence[int] = 0
                   ) -> Callable[..., tuple[Tensor, Any]]:
    """Make a function returning ``(fun(*args), d fun / d args[argnums])``.

    ``fun`` must return a single-element Tensor. Arguments at ``argnums`` may be Tensors, numpy
    arrays or Python numbers; the gradient has the argument's shape.

    >>> f = lambda x: (x ** 3).sum()
    >>> value, slope = ag.value_and_grad(f)(ag.tensor([1.0, 2.0]))   # 9, [3, 12]
    """
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def run(*args: Any, **kwargs: Any) -> tuple[Tensor, Any]:
        args = list(args)
        nested = False
        for i in positions:
            if isinstance(args[i], Tensor) and args[i].requires_grad:
                nested = True
            else:
                args[i] = Tensor(np.array(to_array(args[i])), requires_grad=True)
        with enable_grad():
            value = fun(*args, **kwargs)
        if not isinstance(value, Tensor) or value.size != 1:
            shape = value.shape if isinstance(value, Tensor) else type(value).__name__
            raise ShapeError(f"grad: the function must return a single-element Tensor, got "
                             f"{shape}")
        if not value.requires_grad:
            grads = [Tensor._wrap(np.zeros_like(args[i].data)) for i in positions]
        else:
            grads = engine.grad(value, [args[i] for i in positions], create_graph=nested)
        if not nested:
            value = value.detach()
        return value, grads[0] if isinstance(argnums, int) else tuple(grads)

    return run


def grad(fun: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Make a function returning d fun / d args[argnums] (a Tensor, or a tuple for several).

    >>> ag.grad(lambda x: x * x)(3.0)            # tensor(6.)
    >>> ag.grad(ag.grad(lambda x: x ** 3))(2.0)  # second derivative: tensor(12.)
    """
    with_value = value_and_grad(fun, argnums)
    return lambda *args, **kwargs: with_value(*args, **kwargs)[1]


# -- torch.autograd.functional: vjp, jvp, jacobian, hessian, hvp ---------------------------------
# ``inputs`` is a Tensor or a tuple of Tensors, and each result comes back in the same form;
# ``func`` returns a Tensor or a tuple of Tensors. Unless ``create_graph=True`` the inputs are
# differentiated as fresh leaves and the results are cut from the graph; with it, inputs that
# require grad stay connected (through an identity op), so results can be differentiated again.
# ``strict=True`` raises where an output does not depend on an input instead of giving zeros.

Inputs = Tensor | Sequence[Tensor]


def _prepare_inputs(inputs: Any, create_graph: bool) -> tuple[bool, tuple[Tensor, ...]]:
    is_tuple = isinstance(inputs, (tuple, list))
    prepared = []
    for value in inputs if is_tuple else (inputs,):
        t = value if isinstance(value, Tensor) else Tensor(to_array(value))
        if create_graph and t.requires_grad:
            prepared.append(t.reshape(t.shape))  # an identity op: the graph reaches the caller's t
        else:
            prepared.append(t.detach().requires_grad_())
    return is_tuple, tuple(prepared)


def _call(func: Callable[..., Any], inputs: tuple[Tensor, ...], where: str
          ) -> tuple[bool, tuple[Tensor, ...]]:
    with enable_grad():
        result = func(*inputs)
    is_tuple = isinstance(result, (tuple, list))
    outputs = tuple(result) if is_tuple else (result,)
    if not all(isinstance(o, Tensor) for o in outputs):
        raise TypeError(f"{where}: the function must return a Tensor or a tuple of Tensors, got "
                        f"{type(result).__name__}")
    return is_tuple, outputs


def _vectors(v: Any, like: tuple[Tensor, ...], where: str, what: str) -> tuple[Any, ...]:
    """``v`` matched to ``like`` (the outputs or the inputs): one vector of the same shape each;
    None only when each of ``like`` has one element (then v = 1)."""
    if v is None:
        if any(t.size != 1 for t in like):
            raise ShapeError(f"{where}: v may be omitted only when every {what} has one element; "
                             f"the {what} shapes are {[t.shape for t in like]}")
        return tuple(np.ones_like(t.data) for t in like)
    vs = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    vs = tuple(x if isinstance(x, Tensor) else to_array(x) for x in vs)
    if len(vs) != len(like) or any(x.shape != t.shape for x, t in zip(vs, like)):
        raise ShapeError(f"{where}: v has shapes {[x.shape for x in vs]} but the {what} shapes "
                         f"are {[t.shape for t in like]}; they must match")
    return vs


def _vjp(outputs: Sequence[Tensor], inputs: Sequence[Tensor], vs: Sequence[Any],
         create_graph: bool) -> list[Tensor | None]:
    """sum_k v_k^T d outputs_k / d inputs for each input; None where no output depends on it."""
    total: list[Tensor | None] = [None] * len(inputs)
    for output, v in zip(outputs, vs):
        if output.requires_grad:
            grads = engine.grad(output, inputs, gradient=v, retain_graph=True,
                                create_graph=create_graph, materialize_grads=False)
            total = [g if t is None else t if g is None else t + g for t, g in zip(total, grads)]
    return total


def _filled(grads: Sequence[Tensor | None], like: Sequence[Tensor], strict: bool,
            where: str) -> list[Tensor]:
    """Zeros where a gradient is None (the output does not depend on that input), or an error
    under ``strict``."""
    for i, g in enumerate(grads):
        if g is None and strict:
            raise RuntimeError(f"{where}: the output of the function is independent of input "
                               f"{i}; this is not allowed with strict=True")
    return [g if g is not None else Tensor._wrap(np.zeros_like(t.data))
            for g, t in zip(grads, like)]


def _pack(tensors: Sequence[Tensor], is_tuple: bool, create_graph: bool) -> Any:
    tensors = tuple(t if create_graph else t.detach() for t in tensors)
    return tensors if is_tuple else tensors[0]


def vjp(func: Callable[..., Any], inputs: Inputs, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), v^T J)``: the vector-Jacobian product, one backward pass.

    >>> ag.vjp(lambda x: x ** 2, ag.tensor([1.0, 3.0]), ag.tensor([1.0, 1.0]))[1]  # [2, 6]
    """
    in_tuple, inputs = _prepare_inputs(inputs, create_graph)
    out_tuple, outputs = _call(func, inputs, "vjp")
    grads = _vjp(outputs, inputs, _vectors(v, outputs, "vjp", "output"), create_graph)
    return (_pack(outputs, out_tuple, create_graph),
            _pack(_filled(grads, inputs, strict, "vjp"), in_tuple, create_graph))


def jvp(func: Callable[..., Any], inputs: Inputs, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), J v)``: the Jacobian-vector product (forward-mode derivative along v).

    Computed by two reverse passes: g(u) = u^T J is linear in a dummy cotangent u, so the
    gradient of <g(u), v> with respect to u is J v.

    >>> ag.jvp(lambda x: x ** 2, ag.tensor([1.0, 3.0]), ag.tensor([1.0, 0.0]))[1]  # [2, 0]
    """
    in_tuple, inputs = _prepare_inputs(inputs, create_graph)
    vs = _vectors(v, inputs, "jvp", "input")
    out_tuple, outputs = _call(func, inputs, "jvp")
    cotangents = tuple(Tensor._wrap(np.zeros_like(o.data)).requires_grad_() for o in outputs)
    u_grads = _vjp(outputs, inputs, cotangents, create_graph=True)
    used = [(g, x) for g, x in zip(u_grads, vs) if g is not None]
    grads = _vjp([g for g, _ in used], cotangents, [x for _, x in used], create_graph)
    if strict and any(g is None for g in grads):
        raise RuntimeError("jvp: an output of the function is independent of the inputs; this "
                           "is not allowed with strict=True")
    return (_pack(outputs, out_tuple, create_graph),
            _pack(_filled(grads, outputs, False, "jvp"), out_tuple, create_graph))


def _jacobian(outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...], create_graph: bool,
              strict: bool, where: str) -> list[list[Tensor]]:
    """[output][input] blocks of shape output.shape + input.shape, one backward per row."""
    blocks = []
    for output in outputs:
        rows: list[list[Tensor]] = [[] for _ in inputs]
        independent = [True] * len(inputs)
        for k in range(output.size):
            basis = np.zeros(output.size, output.dtype)
            basis[k] = 1
            grads = _vjp((output,), inputs, (basis.reshape(output.shape),), create_graph)
            for i, g in enumerate(grads):
                independent[i] &= g is None
                rows[i].append(g if g is not None else Tensor._wrap(np.zeros_like(inputs[i].data)))
        if strict and output.size and any(independent):
            raise RuntimeError(f"{where}: output {len(blocks)} of the function is independent of "
                               f"input {independent.index(True)}; this is not allowed with "
                               f"strict=True")
        blocks.append([_stack_rows(r, output, x, create_graph) for r, x in zip(rows, inputs)])
    return blocks


def _stack_rows(rows: list[Tensor], output: Tensor, inp: Tensor, create_graph: bool) -> Tensor:
    shape = output.shape + inp.shape
    if not rows:
        return Tensor._wrap(np.zeros(shape, inp.dtype))
    if create_graph:
        from .ops import stack

        return stack(rows).reshape(shape)
    return Tensor._wrap(np.stack([r.data for r in rows]).reshape(shape))


def jacobian(func: Callable[..., Any], inputs: Inputs, create_graph: bool = False,
             strict: bool = False) -> Any:
    """The Jacobian d func / d inputs: for each output and input a block of shape
    ``output.shape + input.shape`` (a Tensor, a tuple, or a tuple of tuples, as in PyTorch).

    >>> ag.jacobian(lambda x: x ** 2, ag.tensor([1.0, 3.0]))   # [[2, 0], [0, 6]]
    """
    in_tuple, inputs = _prepare_inputs(inputs, create_graph)
    out_tuple, outputs = _call(func, inputs, "jacobian")
    blocks = _jacobian(outputs, inputs, create_graph, strict, "jacobian")
    rows = [_pack(row, in_tuple, create_graph) for row in blocks]
    return tuple(rows) if out_tuple else rows[0]


def _scalar_output(func: Callable[..., Any], inputs: tuple[Tensor, ...], where: str) -> Tensor:
    _, outputs = _call(func, inputs, where)
    if len(outputs) != 1 or outputs[0].size != 1:
        raise ShapeError(f"{where}: the function must return a single-element Tensor, got shapes "
                         f"{[o.shape for o in outputs]}")
    return outputs[0]


def hessian(func: Callable[..., Any], inputs: Inputs, create_graph: bool = False,
            strict: bool = False) -> Any:
    """The Hessian of a scalar function: the Jacobian of its gradient. One input gives a
    Tensor of shape ``input.shape * 2``; a tuple gives a tuple of tuples of blocks.

    >>> ag.hessian(lambda x: (x ** 3).sum(), ag.tensor([1.0, 2.0]))  # [[6, 0], [0, 12]]
    """
    in_tuple, inputs = _prepare_inputs(inputs, create_graph)

    def gradient(*xs: Tensor) -> tuple[Tensor, ...]:
        value = _scalar_output(func, xs, "hessian")
        grads = _vjp((value,), xs, (np.ones_like(value.data),), create_graph=True)
        return tuple(_filled(grads, xs, strict, "hessian"))

    blocks = _jacobian(gradient(*inputs), inputs, create_graph, strict, "hessian")
    rows = [_pack(row, in_tuple, create_graph) for row in blocks]
    return tuple(rows) if in_tuple else rows[0]


def hvp(func: Callable[..., Any], inputs: Inputs, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), H v)`` for a scalar function, without forming H: the gradient of
    <grad func, v> (two backward passes).

    >>> ag.hvp(lambda x: (x ** 3).sum(), ag.tensor([1.0, 2.0]), ag.tensor([1.0, 1.0]))[1]  # [6, 12]
    """
    in_tuple, inputs = _prepare_inputs(inputs, create_graph)
    vs = _vectors(v, inputs, "hvp", "input")
    value = _scalar_output(func, inputs, "hvp")
    grads = _vjp((value,), inputs, (np.ones_like(value.data),), create_graph=True)
    grads = _filled(grads, inputs, strict, "hvp")
    products = _vjp(grads, inputs, vs, create_graph)
    return (_pack((value,), False, create_graph),
            _pack(_filled(products, inputs, strict, "hvp"), in_tuple, create_graph))
