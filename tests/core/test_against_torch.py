"""Differential test against PyTorch: values and gradients of every op, one line per op.

``compare(ag_fn, torch_fn, shapes)`` draws float64 inputs of the given shapes, runs both
libraries on them, checks the outputs agree, then backpropagates the same random output
weighting through both and checks every input gradient agrees. Ops whose spelling is the same in
both libraries pass one function for both; numpy-style ``axis``/``keepdims`` against
PyTorch's ``dim``/``keepdim`` is the usual difference. Outputs that are tuples (split, topk)
are compared element by element; integer outputs (argmax, argsort ...) are compared by value
only.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_core as ag

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _pieces(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def compare(ag_fn, torch_fn=None, shapes=((2, 3),), low=-2.0, high=2.0, grad=True,
            atol=1e-6, rtol=1e-6, seed=0, inputs=None):
    """Run ``ag_fn`` and ``torch_fn`` (``ag_fn`` when None) on the same float64 inputs and
    compare outputs and, when ``grad``, the gradients of a random weighting of the outputs."""
    torch_fn = torch_fn or ag_fn
    rng = np.random.default_rng(seed)
    arrays = inputs if inputs is not None else \
        [rng.uniform(low, high, shape) for shape in shapes]
    ours = [ag.tensor(x, requires_grad=grad) for x in arrays]
    theirs = [torch.tensor(x, requires_grad=grad) for x in arrays]
    outs, expected = _pieces(ag_fn(*ours)), _pieces(torch_fn(*theirs))
    assert len(outs) == len(expected)
    for out, want in zip(outs, expected):
        want = want.detach().numpy() if isinstance(want, torch.Tensor) else np.asarray(want)
        assert out.shape == want.shape, f"shape {out.shape} != torch {want.shape}"
        np.testing.assert_allclose(out.numpy(), want, atol=atol, rtol=rtol)
    if not grad:
        return
    loss_ours, loss_theirs = 0.0, 0.0
    for out, want in zip(outs, expected):
        if out.dtype.kind != "f":
            continue
        weights = rng.standard_normal(out.shape)
        loss_ours = loss_ours + (out * ag.tensor(weights)).sum()
        loss_theirs = loss_theirs + (want * torch.tensor(weights)).sum()
    loss_ours.backward()
    loss_theirs.backward()
    for k, (leaf, reference) in enumerate(zip(ours, theirs)):
        expected_grad = reference.grad.numpy() if reference.grad is not None else None
        got = leaf.grad.numpy() if leaf.grad is not None else None
        if expected_grad is None or got is None:
            assert got is None or not got.any(), f"input {k}: torch has no gradient"
            assert expected_grad is None or not expected_grad.any(), f"input {k}: no gradient"
            continue
        np.testing.assert_allclose(got, expected_grad, atol=atol * 10, rtol=rtol * 10,
                                   err_msg=f"gradient of input {k}")


def distinct(*shape):
    """Distinct values (no ties for max/sort), in random order."""
    size = int(np.prod(shape))
    return (np.random.default_rng(size).permutation(size) * 0.37 - size * 0.15).reshape(shape)


def off_grid(*shape):
    """Values away from 0 and from every multiple of 1/4: off relu/abs/round kinks."""
    return np.random.default_rng(len(shape)).integers(-12, 12, shape) / 4 + 0.125


IDX = np.array([[0, 3, 3, 1], [2, 2, 0, 1], [1, 0, 3, 3]])
MASK = np.array([[True, False, True, True], [False, False, True, False],
                 [True, True, False, True]])
T = torch.tensor

OPS = {
    # arithmetic and broadcasting
    "add": lambda: compare(lambda a, b: a + b, shapes=[(2, 3), (3,)]),
    "sub": lambda: compare(lambda a, b: a - b, shapes=[(2, 1), (1, 3)]),
    "mul": lambda: compare(lambda a, b: a * b, shapes=[(2, 3), (2, 3)]),
    "div": lambda: compare(lambda a, b: a / b, shapes=[(2, 3), (3,)], low=0.5),
    "pow": lambda: compare(lambda a, b: a**b, shapes=[(2, 3), (2, 3)], low=0.5),
    "pow_scalar": lambda: compare(lambda a: a**3 + 2.0**a),
    "neg": lambda: compare(lambda a: -a),
    "abs": lambda: compare(abs, inputs=[off_grid(2, 3)]),
    "exp": lambda: compare(lambda a: a.exp()),
    "log": lambda: compare(lambda a: a.log(), low=0.5),
    "log1p": lambda: compare(lambda a: a.log1p(), low=0.0),
    "sqrt": lambda: compare(lambda a: a.sqrt(), low=0.5),
    "maximum": lambda: compare(ag.maximum, torch.maximum, inputs=[off_grid(3, 4),
                                                                   off_grid(3, 4) + 0.125]),
    "minimum": lambda: compare(ag.minimum, torch.minimum, inputs=[off_grid(3, 4),
                                                                   off_grid(3, 4) + 0.125]),
    "where": lambda: compare(lambda a, b: ag.where(MASK, a, b),
                             lambda a, b: torch.where(T(MASK), a, b), shapes=[(3, 4), (4,)]),
    "clip": lambda: compare(lambda a: a.clip(-1.0, 1.0), lambda a: a.clamp(-1.0, 1.0),
                            inputs=[off_grid(3, 4)]),
    "square": lambda: compare(lambda a: a.square()),
    "reciprocal": lambda: compare(lambda a: a.reciprocal(), low=0.5),
    "rsqrt": lambda: compare(lambda a: a.rsqrt(), low=0.5),
    "expm1": lambda: compare(lambda a: a.expm1()),
    "exp2": lambda: compare(lambda a: a.exp2()),
    "log2": lambda: compare(lambda a: a.log2(), low=0.5),
    "log10": lambda: compare(lambda a: a.log10(), low=0.5),
    "hypot": lambda: compare(ag.hypot, torch.hypot, shapes=[(2, 3), (3,)]),
    "logaddexp": lambda: compare(ag.logaddexp, torch.logaddexp, shapes=[(2, 3), (2, 1)]),
    "lerp": lambda: compare(ag.lerp, torch.lerp, shapes=[(2, 3), (2, 3), (3,)]),
    "lerp_float": lambda: compare(lambda a, b: ag.lerp(a, b, 0.3),
                                  lambda a, b: torch.lerp(a, b, 0.3), shapes=[(2, 3), (3,)]),
    "erf": lambda: compare(ag.erf, torch.erf, shapes=[(4, 5)], low=-3, high=3),
    "cbrt": lambda: compare(lambda a: a.cbrt(), lambda a: a.sign() * a.abs() ** (1 / 3),
                            inputs=[off_grid(3, 4)]),
    "predicates": lambda: compare(
        lambda a: (a.isnan(), a.isinf(), a.isfinite(), a.signbit(), (a > 0).logical_not(),
                   np.logical_and(a > 0, a < 2), np.logical_or(a > 0, a < -2),
                   np.logical_xor(a > 0, a < 2)),
        lambda a: (a.isnan(), a.isinf(), a.isfinite(), a.signbit(), (a > 0).logical_not(),
                   torch.logical_and(a > 0, a < 2), torch.logical_or(a > 0, a < -2),
                   torch.logical_xor(a > 0, a < 2)),
        inputs=[np.array([1.0, np.nan, -np.inf, np.inf, -2.5, 0.0, -0.0, 3.0])], grad=False),
    "sign": lambda: compare(lambda a: a.sign(), inputs=[off_grid(3, 4)]),
    "floor": lambda: compare(lambda a: a.floor(), inputs=[off_grid(3, 4)]),
    "ceil": lambda: compare(lambda a: a.ceil(), inputs=[off_grid(3, 4)]),
    "round": lambda: compare(lambda a: a.round(), inputs=[off_grid(3, 4)]),
    "round_halves_to_even": lambda: compare(lambda a: a.round(),
                                            inputs=[np.array([-2.5, -1.5, -0.5, 0.5, 1.5])]),
    "trunc": lambda: compare(lambda a: a.trunc(), inputs=[off_grid(3, 4)]),
    # trigonometric and hyperbolic
    "sin": lambda: compare(lambda a: a.sin()),
    "cos": lambda: compare(lambda a: a.cos()),
    "tan": lambda: compare(lambda a: a.tan(), low=-1.2, high=1.2),
    "asin": lambda: compare(lambda a: a.asin(), low=-0.9, high=0.9),
    "acos": lambda: compare(lambda a: a.acos(), low=-0.9, high=0.9),
    "atan": lambda: compare(lambda a: a.atan()),
    "atan2": lambda: compare(ag.atan2, torch.atan2, shapes=[(2, 3), (3,)]),
    "sinh": lambda: compare(lambda a: a.sinh()),
    "cosh": lambda: compare(lambda a: a.cosh()),
    "tanh": lambda: compare(lambda a: a.tanh()),
    "asinh": lambda: compare(lambda a: a.asinh()),
    "acosh": lambda: compare(lambda a: a.acosh(), low=1.2, high=3.0),
    "atanh": lambda: compare(lambda a: a.atanh(), low=-0.9, high=0.9),
    # activations
    "sigmoid": lambda: compare(lambda a: a.sigmoid(), low=-6, high=6),
    "relu": lambda: compare(lambda a: a.relu(), inputs=[off_grid(3, 4)]),
    "leaky_relu": lambda: compare(lambda a: ag.leaky_relu(a, 0.2),
                                  lambda a: F.leaky_relu(a, 0.2), inputs=[off_grid(3, 4)]),
    "softplus": lambda: compare(ag.softplus, F.softplus, low=-6, high=6),
    "elu": lambda: compare(lambda a: ag.elu(a, 0.7), lambda a: F.elu(a, 0.7),
                           inputs=[off_grid(3, 4)]),
    "selu": lambda: compare(ag.selu, F.selu, inputs=[off_grid(3, 4)]),
    "celu": lambda: compare(lambda a: ag.celu(a, 1.5), lambda a: F.celu(a, 1.5),
                            inputs=[off_grid(3, 4)]),
    "gelu": lambda: compare(ag.gelu, F.gelu, shapes=[(3, 4)], low=-4, high=4),
    "gelu_tanh": lambda: compare(lambda a: ag.gelu(a, approximate="tanh"),
                                 lambda a: F.gelu(a, approximate="tanh"), low=-4, high=4),
    "silu": lambda: compare(ag.silu, F.silu, low=-5, high=5),
    "mish": lambda: compare(ag.mish, F.mish, low=-5, high=5),
    "softsign": lambda: compare(ag.softsign, F.softsign, inputs=[off_grid(3, 4)]),
    "hardtanh": lambda: compare(lambda a: ag.hardtanh(a, -0.5, 1.5),
                                lambda a: F.hardtanh(a, -0.5, 1.5), inputs=[off_grid(3, 4)]),
    "hardtanh_at_bounds": lambda: compare(ag.hardtanh, F.hardtanh,
                                          inputs=[np.array([-2.0, -1.0, 0.0, 1.0, 2.0])]),
    "hardsigmoid": lambda: compare(ag.hardsigmoid, F.hardsigmoid, low=-4, high=4),
    "hardswish": lambda: compare(ag.hardswish, F.hardswish,
                                 inputs=[np.array([-4.0, -3.0, -1.0, 0.5, 3.0, 4.0])]),
    "relu6": lambda: compare(ag.relu6, F.relu6,
                             inputs=[np.array([-1.0, 0.0, 3.0, 6.0, 7.0, 2.5])]),
    "softmax": lambda: compare(lambda a: a.softmax(dim=0), lambda a: a.softmax(dim=0)),
    "log_softmax": lambda: compare(lambda a: a.log_softmax(dim=1),
                                   lambda a: a.log_softmax(dim=1)),
    "softmin": lambda: compare(lambda a: a.softmin(dim=1), lambda a: F.softmin(a, dim=1)),
    # reductions, with PyTorch's dim/keepdim spelled the same way
    "sum": lambda: compare(lambda a: a.sum(dim=(0, 2), keepdim=True), shapes=[(2, 3, 2)]),
    "mean": lambda: compare(lambda a: a.mean(dim=1)),
    "max": lambda: compare(lambda a: a.max(), inputs=[distinct(3, 4)]),
    "amax": lambda: compare(lambda a: a.max(dim=1, keepdim=True),
                            lambda a: a.amax(dim=1, keepdim=True), inputs=[distinct(3, 4)]),
    "amin": lambda: compare(lambda a: a.min(dim=0), lambda a: a.amin(dim=0),
                            inputs=[distinct(3, 4)]),
    "logsumexp": lambda: compare(lambda a: a.logsumexp(dim=1, keepdim=True),
                                 lambda a: a.logsumexp(dim=1, keepdim=True)),
    "var": lambda: compare(lambda a: a.var(dim=1, ddof=1, keepdim=True),
                           lambda a: a.var(dim=1, keepdim=True)),
    "std": lambda: compare(lambda a: a.std(dim=0, keepdim=True, ddof=1),
                           lambda a: a.std(dim=0, keepdim=True), shapes=[(4, 3)]),
    "std_population": lambda: compare(lambda a: a.std(), lambda a: a.std(correction=0)),
    "prod": lambda: compare(lambda a: a.prod(dim=1), lambda a: a.prod(dim=1)),
    "prod_with_zeros": lambda: compare(lambda a: a.prod(dim=1, keepdim=True),
                                       lambda a: a.prod(dim=1, keepdim=True),
                                       inputs=[np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0],
                                                         [1.0, -2.0, 0.5]])]),
    "prod_all": lambda: compare(lambda a: a.prod()),
    "cumsum": lambda: compare(lambda a: a.cumsum(dim=1), lambda a: a.cumsum(dim=1)),
    "cumprod": lambda: compare(lambda a: a.cumprod(dim=0), lambda a: a.cumprod(dim=0)),
    "cumprod_with_zeros": lambda: compare(lambda a: a.cumprod(dim=1),
                                          lambda a: a.cumprod(dim=1),
                                          inputs=[np.array([[1.5, 0.0, 2.0, -1.0],
                                                            [0.0, 0.0, 3.0, 2.0]])]),
    "argmax": lambda: compare(lambda a: a.argmax(dim=1), lambda a: a.argmax(dim=1),
                              inputs=[distinct(3, 4)], grad=False),
    "argmin_keepdim": lambda: compare(lambda a: a.argmin(dim=0, keepdim=True),
                                      lambda a: a.argmin(dim=0, keepdim=True),
                                      inputs=[distinct(3, 4)], grad=False),
    "argmax_flat": lambda: compare(lambda a: a.argmax(), inputs=[distinct(3, 4)], grad=False),
    "any": lambda: compare(lambda a: (a > 1).any(dim=1), inputs=[off_grid(3, 4)], grad=False),
    "all": lambda: compare(lambda a: (a > -1).all(dim=0, keepdim=True),
                           inputs=[off_grid(3, 4)], grad=False),
    "norm": lambda: compare(ag.linalg.norm, torch.linalg.norm),
    "norm_vector": lambda: compare(lambda a: ag.linalg.norm(a, ord=3, dim=1, keepdim=True),
                                   lambda a: torch.linalg.norm(a, ord=3, dim=1, keepdim=True),
                                   low=0.2),
    "norm_l1_inf": lambda: compare(lambda a: (ag.linalg.norm(a, 1, axis=0),
                                              ag.linalg.norm(a, np.inf, axis=1)),
                                   lambda a: (torch.linalg.norm(a, 1, dim=0),
                                              torch.linalg.norm(a, math.inf, dim=1)),
                                   inputs=[distinct(3, 4)]),
    "norm_matrix": lambda: compare(lambda a: (ag.linalg.norm(a, "fro", axis=(1, 2)),
                                              ag.linalg.norm(a, 1, axis=(1, 2)),
                                              ag.linalg.norm(a, -np.inf, axis=(1, 2))),
                                   lambda a: (torch.linalg.norm(a, "fro", dim=(1, 2)),
                                              torch.linalg.norm(a, 1, dim=(1, 2)),
                                              torch.linalg.norm(a, -math.inf, dim=(1, 2))),
                                   inputs=[distinct(2, 3, 3)]),
    "norm_svd": lambda: compare(lambda a: (ag.linalg.norm(a, "nuc", axis=(0, 2)),
                                           ag.linalg.norm(a, 2, axis=(0, 2), keepdims=True),
                                           ag.linalg.norm(a, -2, axis=(2, 0))),
                                lambda a: (torch.linalg.norm(a, "nuc", dim=(0, 2)),
                                           torch.linalg.norm(a, 2, dim=(0, 2), keepdim=True),
                                           torch.linalg.norm(a, -2, dim=(2, 0))),
                                shapes=[(3, 2, 4)]),
    "svdvals": lambda: compare(ag.linalg.svdvals, torch.linalg.svdvals, shapes=[(2, 3, 5)]),
    "norm_at_zero": lambda: compare(ag.linalg.norm, torch.linalg.norm,
                                    inputs=[np.zeros((2, 2))]),
    # sorting and gathering
    "sort": lambda: compare(lambda a: (ag.sort(a, dim=1), a.argsort(dim=1)),
                            lambda a: tuple(torch.sort(a, dim=1)), inputs=[distinct(3, 4)]),
    "sort_descending": lambda: compare(lambda a: ag.sort(a, axis=0, descending=True),
                                       lambda a: torch.sort(a, dim=0, descending=True)[0],
                                       inputs=[distinct(3, 4)]),
    "topk": lambda: compare(lambda a: a.topk(2, dim=1), lambda a: tuple(a.topk(2, dim=1)),
                            inputs=[distinct(3, 4)]),
    "topk_smallest": lambda: compare(lambda a: ag.topk(a, 3, 0, largest=False),
                                     lambda a: tuple(torch.topk(a, 3, 0, largest=False)),
                                     inputs=[distinct(4, 2)]),
    "gather": lambda: compare(lambda a: a.gather(1, IDX), lambda a: a.gather(1, T(IDX)),
                              shapes=[(3, 4)]),
    "gather_smaller_index": lambda: compare(lambda a: a.gather(0, IDX[:2, :3] % 3),
                                            lambda a: a.gather(0, T(IDX[:2, :3] % 3)),
                                            shapes=[(3, 4)]),
    "take_along_axis": lambda: compare(lambda a: ag.take_along_axis(a, IDX, 1),
                                       lambda a: torch.take_along_dim(a, T(IDX), 1),
                                       shapes=[(3, 4)]),
    "scatter_add": lambda: compare(lambda a, s: a.scatter_add(1, IDX, s),
                                   lambda a, s: a.scatter_add(1, T(IDX), s),
                                   shapes=[(3, 4), (3, 4)]),
    "scatter_add_smaller_index": lambda: compare(
        lambda a, s: a.scatter_add(0, IDX[:2, :2] % 3, s),
        lambda a, s: a.scatter_add(0, T(IDX[:2, :2] % 3), s), shapes=[(3, 4), (2, 2)]),
    "index_add": lambda: compare(lambda a, s: a.index_add(0, [2, 0, 2], s, alpha=1.5),
                                 lambda a, s: a.index_add(0, T([2, 0, 2]), s, alpha=1.5),
                                 shapes=[(3, 2), (3, 2)]),
    "masked_fill": lambda: compare(lambda a: a.masked_fill(MASK, -1.0),
                                   lambda a: a.masked_fill(T(MASK), -1.0), shapes=[(3, 4)]),
    "one_hot": lambda: compare(lambda a: ag.one_hot(ag.tensor([2, 0, 3])),
                               lambda a: F.one_hot(T([2, 0, 3])), grad=False),
    "one_hot_classes": lambda: compare(lambda a: ag.one_hot(ag.tensor([[1], [0]]), 4),
                                       lambda a: F.one_hot(T([[1], [0]]), 4), grad=False),
    "getitem": lambda: compare(lambda a: a[1:, [0, 2, 2]], shapes=[(3, 4)]),
    # shapes and rearranging, PyTorch spellings
    "reshape": lambda: compare(lambda a: a.reshape(3, 2)),
    "view": lambda: compare(lambda a: a.view(3, 2)),
    "transpose": lambda: compare(lambda a: a.T, lambda a: a.T),
    "permute": lambda: compare(lambda a: a.permute(2, 0, 1), shapes=[(2, 3, 4)]),
    "squeeze": lambda: compare(lambda a: a.squeeze(dim=1), shapes=[(2, 1, 3)]),
    "unsqueeze": lambda: compare(lambda a: a.unsqueeze(-1)),
    "flatten": lambda: compare(lambda a: a.flatten(1, 2), shapes=[(2, 3, 4, 2)]),
    "broadcast_to": lambda: compare(lambda a: ag.broadcast_to(a, (2, 3)),
                                    lambda a: a.broadcast_to((2, 3)), shapes=[(3,)]),
    "cat": lambda: compare(lambda a, b: ag.cat([a, b], dim=1),
                           lambda a, b: torch.cat([a, b], dim=1), shapes=[(2, 3), (2, 1)]),
    "stack": lambda: compare(lambda a, b: ag.stack([a, b], dim=1),
                             lambda a, b: torch.stack([a, b], dim=1), shapes=[(2, 3), (2, 3)]),
    "clone": lambda: compare(lambda a: a.clone() * a),
    "flip": lambda: compare(lambda a: a.flip(dims=(0, 2)), lambda a: a.flip(dims=(0, 2)),
                            shapes=[(2, 3, 2)]),
    "roll": lambda: compare(lambda a: a.roll(1, dims=0), lambda a: a.roll(1, dims=0)),
    "roll_flat": lambda: compare(lambda a: a.roll(-2), lambda a: a.roll(-2)),
    "tile_is_torch_repeat": lambda: compare(lambda a: a.tile(2, 1, 3),
                                            lambda a: a.repeat(2, 1, 3)),
    "repeat_interleave": lambda: compare(lambda a: a.repeat_interleave(2, dim=1),
                                         lambda a: a.repeat_interleave(2, dim=1)),
    "repeat_counts": lambda: compare(lambda a: a.repeat([1, 0, 3], axis=1),
                                     lambda a: a.repeat_interleave(T([1, 0, 3]), dim=1)),
    "pad_constant": lambda: compare(lambda a: ag.pad(a, ((1, 2), (0, 1)), constant_values=0.5),
                                    lambda a: F.pad(a, (0, 1, 1, 2), value=0.5)),
    "pad_reflect": lambda: compare(lambda a: ag.pad(a, ((0, 0), (0, 0), (2, 1)), "reflect"),
                                   lambda a: F.pad(a, (2, 1), mode="reflect"),
                                   shapes=[(1, 2, 4)]),
    "pad_edge": lambda: compare(lambda a: ag.pad(a, ((0, 0), (0, 0), (3, 1)), "edge"),
                                lambda a: F.pad(a, (3, 1), mode="replicate"),
                                shapes=[(1, 2, 3)]),
    "split": lambda: compare(lambda a: a.split([1, 3], dim=1), lambda a: a.split([1, 3], dim=1),
                             shapes=[(2, 4)]),
    "split_size": lambda: compare(lambda a: a.split(2), lambda a: a.split(2), shapes=[(5, 2)]),
    "split_numpy_sections": lambda: compare(lambda a: ag.split(a, 2, axis=1),
                                            lambda a: torch.tensor_split(a, 2, dim=1),
                                            shapes=[(2, 4)]),
    "chunk": lambda: compare(lambda a: a.chunk(3, dim=1), lambda a: a.chunk(3, dim=1),
                             shapes=[(2, 5)]),
    "unbind": lambda: compare(lambda a: a.unbind(1), lambda a: a.unbind(1)),
    "tril": lambda: compare(lambda a: a.tril(-1), lambda a: a.tril(-1), shapes=[(3, 4)]),
    "triu": lambda: compare(lambda a: ag.triu(a, diagonal=1),
                            lambda a: torch.triu(a, diagonal=1), shapes=[(2, 3, 3)]),
    "diagonal": lambda: compare(lambda a: a.diagonal(1, 1, 2), lambda a: a.diagonal(1, 1, 2),
                                shapes=[(2, 3, 4)]),
    "trace": lambda: compare(lambda a: a.trace(), lambda a: a.trace(), shapes=[(3, 4)]),
    "outer": lambda: compare(ag.outer, torch.outer, shapes=[(3,), (4,)]),
    "matmul": lambda: compare(lambda a, b: a @ b, shapes=[(2, 2, 3), (3, 4)]),
    "einsum": lambda: compare(lambda a, b: ag.einsum("bij,jk->bki", a, b),
                              lambda a, b: torch.einsum("bij,jk->bki", a, b),
                              shapes=[(2, 2, 3), (3, 4)]),
    "einsum_ellipsis_sum": lambda: compare(lambda a, b: ag.einsum("...i,j->...", a, b),
                                           lambda a, b: torch.einsum("...i,j->...", a, b),
                                           shapes=[(2, 3, 4), (2,)]),
    "einsum_diagonals": lambda: compare(lambda a, b: (ag.einsum("ii", a), ag.einsum("ii->i", a),
                                                      ag.einsum("ij,jj->ij", b, a)),
                                        lambda a, b: (torch.einsum("ii", a),
                                                      torch.einsum("ii->i", a),
                                                      torch.einsum("ij,jj->ij", b, a)),
                                        shapes=[(3, 3), (2, 3)]),
    "subtract": lambda: compare(ag.subtract, torch.subtract, shapes=[(2, 3), (3,)]),
    "multiply": lambda: compare(ag.multiply, torch.multiply, shapes=[(2, 1), (3,)]),
    "divide": lambda: compare(ag.divide, torch.divide, shapes=[(2, 3), (2, 3)], low=0.5),
    "power": lambda: compare(ag.power, torch.pow, shapes=[(2, 3), (3,)], low=0.5),
    "negative": lambda: compare(ag.negative, torch.negative),
    "astype": lambda: compare(lambda a: a.astype(np.float32), lambda a: a.float(),
                              atol=1e-6, rtol=1e-6),
    "comparisons": lambda: compare(
        lambda a, b: (a == b, a != b, a < b, a <= b, a > b, a >= b),
        lambda a, b: (a == b, a != b, a < b, a <= b, a > b, a >= b),
        inputs=[off_grid(3, 4), np.where(MASK, off_grid(3, 4), 0.0)], grad=False),
    "expand_dims": lambda: compare(lambda a: ag.expand_dims(a, 1),
                                   lambda a: torch.unsqueeze(a, 1)),
    "swapaxes": lambda: compare(lambda a: a.swapaxes(0, 2), lambda a: a.swapaxes(0, 2),
                                shapes=[(2, 3, 4)]),
    "concatenate": lambda: compare(lambda a, b: ag.concatenate([a, b], axis=-1),
                                   lambda a, b: torch.concatenate([a, b], dim=-1),
                                   shapes=[(2, 1), (2, 3)]),
    # convolution, pooling, normalisation, embedding and recurrent ops
    "conv1d": lambda: compare(lambda x, w, b: ag.conv1d(x, w, b, stride=2, padding=1),
                              lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
                              shapes=[(2, 3, 7), (4, 3, 3), (4,)]),
    "conv2d": lambda: compare(lambda x, w, b: ag.conv2d(x, w, b, 1, 1, 2, 2),
                              lambda x, w, b: F.conv2d(x, w, b, 1, 1, 2, 2),
                              shapes=[(2, 4, 5, 6), (4, 2, 3, 2), (4,)]),
    "conv_transpose1d": lambda: compare(
        lambda x, w: ag.conv_transpose1d(x, w, stride=3, dilation=2),
        lambda x, w: F.conv_transpose1d(x, w, stride=3, dilation=2),
        shapes=[(1, 2, 4), (2, 3, 2)]),
    "conv_transpose2d": lambda: compare(
        lambda x, w, b: ag.conv_transpose2d(x, w, b, 2, 1, 1),
        lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1),
        shapes=[(2, 3, 3, 2), (3, 2, 3, 3), (2,)]),
    "max_pool1d": lambda: compare(lambda a: ag.max_pool1d(a, 2, ceil_mode=True),
                                  lambda a: F.max_pool1d(a, 2, ceil_mode=True),
                                  inputs=[distinct(2, 2, 5)]),
    "max_pool2d": lambda: compare(lambda a: ag.max_pool2d(a, 3, 2, padding=1),
                                  lambda a: F.max_pool2d(a, 3, 2, padding=1),
                                  inputs=[distinct(2, 2, 5, 5)]),
    "avg_pool1d": lambda: compare(lambda a: ag.avg_pool1d(a, 3, 2, 1),
                                  lambda a: F.avg_pool1d(a, 3, 2, 1), shapes=[(2, 2, 6)]),
    "avg_pool2d": lambda: compare(
        lambda a: ag.avg_pool2d(a, (2, 3), padding=1, count_include_pad=False),
        lambda a: F.avg_pool2d(a, (2, 3), padding=1, count_include_pad=False),
        shapes=[(2, 2, 5, 4)]),
    "adaptive_avg_pool2d": lambda: compare(lambda a: ag.adaptive_avg_pool2d(a, (2, 3)),
                                           lambda a: F.adaptive_avg_pool2d(a, (2, 3)),
                                           shapes=[(2, 2, 5, 7)]),
    "embedding": lambda: compare(lambda w: ag.embedding(IDX, w),
                                 lambda w: F.embedding(T(IDX), w), shapes=[(4, 3)]),
    "batch_norm": lambda: compare(
        lambda x, w, b: ag.batch_norm(x, None, None, w, b, training=True),
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        shapes=[(4, 3, 2), (3,), (3,)]),
    "layer_norm": lambda: compare(lambda x, w, b: ag.layer_norm(x, (2, 3), w, b),
                                  lambda x, w, b: F.layer_norm(x, (2, 3), w, b),
                                  shapes=[(4, 2, 3), (2, 3), (2, 3)]),
    "group_norm": lambda: compare(lambda x, w, b: ag.group_norm(x, 2, w, b),
                                  lambda x, w, b: F.group_norm(x, 2, w, b),
                                  shapes=[(2, 4, 3), (4,), (4,)]),
    "normalize": lambda: compare(lambda x: ag.normalize(x, (1, 2)),
                                 lambda x: F.layer_norm(x, (2, 3)), shapes=[(4, 2, 3)]),
    "lstm": lambda: compare(
        lambda x, h, c, wi, wh, bi, bh: ag.lstm(x, h, c, wi, wh, bi, bh)[..., :2],  # h_t
        lambda x, h, c, wi, wh, bi, bh: torch.func.functional_call(
            torch.nn.LSTM(3, 2).double(), {"weight_ih_l0": wi, "weight_hh_l0": wh,
                                           "bias_ih_l0": bi, "bias_hh_l0": bh},
            (x, (h[None], c[None])))[0],
        shapes=[(4, 2, 3), (2, 2), (2, 2), (8, 3), (8, 2), (8,), (8,)], low=-1, high=1),
    # fused ops
    "linear": lambda: compare(lambda x, w, b: ag.linear(x, w, b, activation="tanh"),
                              lambda x, w, b: torch.tanh(F.linear(x, w, b)),
                              shapes=[(4, 3), (2, 3), (2,)]),
    "softmax_cross_entropy": lambda: compare(
        lambda a: ag.softmax_cross_entropy(a, [0, 2, 1]),
        lambda a: F.cross_entropy(a, T([0, 2, 1])), shapes=[(3, 4)]),
    # random masks differ between libraries: PyTorch applies the mask ag draws from the seed
    "dropout": lambda: compare(
        lambda a: (ag.manual_seed(5), ag.dropout(a, 0.3))[1],
        lambda a: a * T((np.random.default_rng(5).random((4, 5), dtype=np.float32) >= 0.3)
                        / 0.7),
        shapes=[(4, 5)]),
}


# ops compared under another row's name (PyTorch spelling, or several ops in one row)
COMPARED_AS = {
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2", "arcsinh": "asinh",
    "arccosh": "acosh", "arctanh": "atanh", "min": "amin", "argmin": "argmin_keepdim",
    "argsort": "sort", "tile": "tile_is_torch_repeat", "repeat": "repeat_counts",
    "pad": "pad_reflect", "split_sizes": "split_size", "equal": "comparisons",
    "not_equal": "comparisons", "less": "comparisons", "less_equal": "comparisons",
    "greater": "comparisons", "greater_equal": "comparisons", **dict.fromkeys(
        ["isnan", "isinf", "isfinite", "signbit", "logical_not", "logical_and", "logical_or",
         "logical_xor"], "predicates"),
}


def test_every_op_is_compared() -> None:
    ops = ag.ops.registry.OPS
    missing = [name for name in ops if COMPARED_AS.get(name, name) not in OPS]
    assert not missing, f"ops without a PyTorch comparison: {missing}"


@pytest.mark.parametrize("name", sorted(OPS))
def test_matches_torch(name: str) -> None:
    OPS[name]()


def test_tensor_conveniences_match_torch() -> None:
    x = np.arange(6.0).reshape(2, 3)
    ours, theirs = ag.tensor(x), torch.tensor(x)
    assert ours.size() == tuple(theirs.size()) and ours.size(-1) == theirs.size(-1)
    assert ours.size == x.size and ours.dim() == theirs.dim() and ours.numel() == theirs.numel()
    assert ours.tolist() == theirs.tolist()
    assert ours.float().dtype == np.float32 and ours.double().dtype == np.float64
    assert ours.long().dtype == np.int64 and not ours.long().requires_grad
