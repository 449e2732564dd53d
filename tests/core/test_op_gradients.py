"""Every op, checked against central differences, from one table.

Each row of ``CASES`` is ``case(id, function, *input generators)``: the function takes Tensors and
returns a Tensor; each generator draws one float64 input array from a seeded ``numpy`` Generator.
Indices, masks and conditions are constants inside the function, so every input is checked.
Adding an op (or a shape, or a broadcasting pattern) to the suite is one more row.

Inputs are drawn away from kinks (relu/abs at 0, clip bounds, ties of max/min) because central
differences across a kink measure the average of two slopes, not the gradient.

Two checks run on every row:

- ``gradcheck``: backward() in float64 against (f(x + eps) - f(x - eps)) / 2 eps;
- float32: the same inputs as float32 give a float32 output close to the float64 one, and float32
  gradients close to the float64 ones (so no op silently upcasts or loses precision).

Rows spell ops in all the ways users reach them (operators, methods, ``ag.*`` functions, numpy
dispatch such as ``np.exp(t)``, the ``dim=`` alias), so the table covers those paths too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

import autograd_core as ag

Generator = Callable[[np.random.Generator], np.ndarray]


# -- input generators ----------------------------------------------------------------------------
def normal(*shape: int) -> Generator:
    """Standard normal values: for smooth ops defined everywhere."""
    return lambda rng: np.asarray(rng.standard_normal(shape))


def positive(*shape: int, low: float = 0.5, high: float = 2.0) -> Generator:
    """Values in [low, high]: for log, sqrt, denominators and bases of real powers."""
    return lambda rng: np.asarray(rng.uniform(low, high, shape))


def off_grid(*shape: int, offset: float = 0.125) -> Generator:
    """Values k/4 + offset in [-2, 2]: at least 1/8 away from 0 and from every multiple of 1/4.

    Two inputs drawn with offsets 1/8 and 0 never tie, so maximum/minimum are checked off
    their kink; clip bounds at multiples of 1/4 are never touched.
    """
    return lambda rng: np.asarray(rng.integers(-8, 8, shape) / 4 + offset)


def uniform(*shape: int, low: float = 0.1, high: float = 0.9) -> Generator:
    """Values in [low, high]: for ops defined on an interval (arcsin, arctanh ...)."""
    return lambda rng: np.asarray(rng.uniform(low, high, shape))


def distinct(*shape: int) -> Generator:
    """Distinct values at least 0.3 apart in random order: max/min have one clear winner."""
    size = int(np.prod(shape))
    return lambda rng: (rng.permutation(size) * 0.3 - size * 0.15).reshape(shape)


# -- the table -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpCase:
    name: str
    function: Callable[..., ag.Tensor]
    inputs: tuple[Generator, ...]
    tolerances: dict = field(default_factory=dict)  # gradcheck eps/atol/rtol overrides
    float32_output: bool = True  # False where the op itself picks the output dtype


def case(name: str, function: Callable, *inputs: Generator, marks=(), **options) -> pytest.param:
    return pytest.param(OpCase(name, function, inputs, **options), id=name, marks=marks)


MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
CONDITION = np.array([[True, False, True], [False, True, True]])
INDEX = np.array([[0, 3, 3, 1], [2, 2, 0, 1], [1, 0, 3, 3]])  # repeated entries accumulate

CASES = [
    # arithmetic, with every broadcasting pattern
    case("add", lambda a, b: a + b, normal(2, 3), normal(2, 3)),
    case("add_row", lambda a, b: a + b, normal(2, 3), normal(3)),
    case("add_outer", lambda a, b: a + b, normal(2, 1), normal(1, 3)),
    case("add_3d_column", lambda a, b: a + b, normal(2, 3, 4), normal(3, 1)),
    case("add_scalar_tensor", lambda a, b: a + b, normal(4), normal()),
    case("add_python_float", lambda a: a + 2.5, normal(2, 3)),
    case("radd_python_float", lambda a: 2.5 + a, normal(2, 3)),
    case("ag_add", lambda a, b: ag.add(a, b), normal(3), normal(2, 3)),
    case("sub", lambda a, b: a - b, normal(2, 3), normal(2, 3)),
    case("sub_row", lambda a, b: a - b, normal(2, 3), normal(3)),
    case("sub_outer", lambda a, b: a - b, normal(2, 1), normal(1, 3)),
    case("rsub_python_float", lambda a: 1.5 - a, normal(3)),
    case("mul", lambda a, b: a * b, normal(2, 3), normal(2, 3)),
    case("mul_outer", lambda a, b: a * b, normal(2, 1), normal(1, 3)),
    case("mul_scalar_tensor", lambda a, b: a * b, normal(3), normal()),
    case("mul_both_scalars", lambda a, b: a * b, normal(), normal()),
    case("mul_python_float", lambda a: a * 3.0, normal(2, 2)),
    case("rmul_python_int", lambda a: 3 * a, normal(2, 2)),
    case("np_multiply", lambda a, b: np.multiply(a, b), normal(2, 3), normal(3)),
    case("div", lambda a, b: a / b, normal(2, 3), positive(2, 3)),
    case("div_row", lambda a, b: a / b, normal(2, 3), positive(3)),
    case("div_outer", lambda a, b: a / b, normal(2, 1), positive(1, 3)),
    case("div_python_float", lambda a: a / 4.0, normal(3)),
    case("rdiv_python_float", lambda a: 2.0 / a, positive(2, 3)),
    case("pow_square", lambda a: a**2, normal(2, 3)),
    case("pow_cube", lambda a: a**3, normal(4)),
    case("pow_half", lambda a: a**0.5, positive(2, 3)),
    case("pow_negative_real", lambda a: a**-1.5, positive(3)),
    case("pow_tensor_tensor", lambda a, b: a**b, positive(2, 3), normal(2, 3)),
    case("pow_tensor_row", lambda a, b: a**b, positive(2, 3), normal(3)),
    case("pow_scalar_tensor_exponent", lambda a, b: a**b, positive(3), normal()),
    case("rpow_python_float", lambda a: 2.0**a, normal(2, 3)),
    case("ag_power", lambda a, b: ag.power(a, b), positive(2, 2), normal(2, 1)),
    case("neg", lambda a: -a, normal(2, 3)),
    case("ag_negative", lambda a: ag.negative(a), normal()),
    # elementwise functions
    case("abs", lambda a: abs(a), off_grid(2, 3)),
    case("abs_method", lambda a: a.abs(), off_grid(5)),
    case("exp", lambda a: a.exp(), normal(2, 3)),
    case("np_exp", lambda a: np.exp(a), normal(4)),
    case("exp_scalar", lambda a: ag.exp(a), normal()),
    case("log", lambda a: a.log(), positive(2, 3)),
    case("np_log", lambda a: np.log(a), positive(2, 2, 2)),
    case("log1p", lambda a: a.log1p(), positive(2, 3)),
    case("sqrt", lambda a: a.sqrt(), positive(2, 3)),
    case("tanh", lambda a: a.tanh(), normal(2, 3)),
    case("sigmoid", lambda a: a.sigmoid(), normal(2, 3)),
    case("sigmoid_wide", lambda a: ag.sigmoid(a * 10.0), normal(6)),
    case("relu", lambda a: a.relu(), off_grid(2, 3)),
    case("leaky_relu", lambda a: a.leaky_relu(), off_grid(2, 3)),
    case("leaky_relu_slope", lambda a: ag.leaky_relu(a, negative_slope=0.2), off_grid(8)),
    case("softplus", lambda a: a.softplus(), normal(2, 3)),
    case("softplus_wide", lambda a: ag.softplus(a * 20.0), normal(6)),
    case("clip", lambda a: a.clip(-1.0, 1.0), off_grid(3, 4)),
    case("clip_min_only", lambda a: ag.clip(a, min=0.5), off_grid(3, 4)),
    case("clip_max_only", lambda a: ag.clip(a, max=-0.5), off_grid(3, 4)),
    case("maximum", lambda a, b: ag.maximum(a, b), off_grid(2, 3), off_grid(2, 3, offset=0)),
    case("maximum_row", lambda a, b: ag.maximum(a, b), off_grid(2, 3), off_grid(3, offset=0)),
    case("minimum", lambda a, b: ag.minimum(a, b), off_grid(2, 3), off_grid(2, 3, offset=0)),
    case("minimum_outer", lambda a, b: ag.minimum(a, b), off_grid(2, 1), off_grid(1, 3, offset=0)),
    case("where", lambda a, b: ag.where(CONDITION, a, b), normal(2, 3), normal(2, 3)),
    case("where_broadcast", lambda a, b: ag.where(CONDITION, a, b), normal(3), normal(2, 1)),
    case("where_tensor_condition", lambda a, b: ag.where(a > b, a, b * 2.0), normal(2, 3),
         normal(2, 3)),
    case("np_where", lambda a, b: np.where(CONDITION, a, b), normal(2, 3), normal(3)),
    # reductions
    case("sum_all", lambda a: a.sum(), normal(2, 3)),
    case("sum_axis0", lambda a: a.sum(axis=0), normal(2, 3)),
    case("sum_axis1_keepdims", lambda a: a.sum(axis=1, keepdims=True), normal(2, 3)),
    case("sum_tuple_axes", lambda a: a.sum(axis=(0, 2)), normal(2, 3, 4)),
    case("sum_negative_axis", lambda a: a.sum(axis=-1), normal(2, 3, 2)),
    case("sum_negative_tuple_keepdims", lambda a: a.sum(axis=(-1, 0), keepdims=True),
         normal(2, 3, 2)),
    case("sum_dim_alias", lambda a: a.sum(dim=1), normal(2, 3)),
    case("sum_scalar", lambda a: a.sum(), normal()),
    case("np_sum_axis", lambda a: np.sum(a, axis=1), normal(2, 3)),
    case("mean_all", lambda a: a.mean(), normal(2, 3)),
    case("mean_axis0", lambda a: ag.mean(a, axis=0), normal(2, 3)),
    case("mean_tuple_keepdims", lambda a: a.mean(axis=(1, 2), keepdims=True), normal(2, 3, 2)),
    case("mean_dim_negative", lambda a: a.mean(dim=-2), normal(2, 3, 2)),
    case("max_all", lambda a: a.max(), distinct(2, 3)),
    case("max_axis1", lambda a: a.max(axis=1), distinct(2, 3)),
    case("max_keepdims", lambda a: a.max(axis=0, keepdims=True), distinct(3, 4)),
    case("max_tuple_negative", lambda a: ag.max(a, axis=(0, -1)), distinct(2, 3, 2)),
    case("min_all", lambda a: a.min(), distinct(2, 3)),
    case("min_dim_alias", lambda a: a.min(dim=1), distinct(3, 4)),
    case("min_tuple_keepdims", lambda a: a.min(axis=(0, 1), keepdims=True), distinct(2, 3, 2)),
    case("var_all", lambda a: a.var(), normal(2, 3)),
    case("var_axis0", lambda a: a.var(axis=0), normal(3, 4)),
    case("var_tuple_keepdims", lambda a: a.var(axis=(0, 2), keepdims=True), normal(2, 3, 2)),
    case("var_dim_ddof", lambda a: ag.var(a, dim=-1, ddof=1), normal(2, 4)),
    case("logsumexp_all", lambda a: a.logsumexp(), normal(2, 3)),
    case("logsumexp_axis1", lambda a: a.logsumexp(axis=1), normal(2, 3)),
    case("logsumexp_tuple_keepdims", lambda a: ag.logsumexp(a, axis=(0, -1), keepdims=True),
         normal(2, 3, 2)),
    case("softmax", lambda a: a.softmax(), normal(2, 3)),
    case("softmax_axis0", lambda a: ag.softmax(a, axis=0), normal(3, 2)),
    case("softmax_dim_3d", lambda a: ag.softmax(a, dim=1), normal(2, 3, 2)),
    case("log_softmax", lambda a: a.log_softmax(), normal(2, 3)),
    case("log_softmax_axis0", lambda a: ag.log_softmax(a, axis=0), normal(3, 2)),
    case("log_softmax_dim_3d", lambda a: ag.log_softmax(a, dim=-2), normal(2, 3, 2)),
    # shapes
    case("reshape", lambda a: a.reshape(3, 2), normal(2, 3)),
    case("reshape_tuple_infer", lambda a: ag.reshape(a, (-1, 4)), normal(2, 2, 2)),
    case("reshape_from_scalar", lambda a: a.reshape(1, 1), normal()),
    case("transpose", lambda a: a.transpose(), normal(2, 3)),
    case("transpose_3d_reversed", lambda a: ag.transpose(a), normal(2, 3, 4)),
    case("transpose_axes", lambda a: a.transpose(1, 0, 2), normal(2, 3, 4)),
    case("transpose_tuple_negative", lambda a: a.transpose((-1, 0, 1)), normal(2, 3, 4)),
    case("T", lambda a: a.T, normal(2, 3)),
    case("swapaxes", lambda a: a.swapaxes(0, 2), normal(2, 3, 4)),
    case("swapaxes_negative", lambda a: ag.swapaxes(a, -1, -2), normal(2, 3, 4)),
    case("flatten", lambda a: a.flatten(), normal(2, 3, 2)),
    case("flatten_start_dim", lambda a: ag.flatten(a, start_dim=1), normal(2, 3, 2)),
    case("squeeze_all", lambda a: a.squeeze(), normal(1, 3, 1)),
    case("squeeze_axis", lambda a: ag.squeeze(a, axis=-1), normal(1, 3, 1)),
    case("squeeze_dim", lambda a: a.squeeze(dim=0), normal(1, 3, 1)),
    case("expand_dims_front", lambda a: a.expand_dims(0), normal(2, 3)),
    case("expand_dims_negative", lambda a: ag.expand_dims(a, -1), normal(2, 3)),
    case("expand_dims_dim_alias", lambda a: a.expand_dims(dim=1), normal(2, 3)),
    case("broadcast_to_row", lambda a: ag.broadcast_to(a, (2, 3)), normal(3)),
    case("broadcast_to_column", lambda a: ag.broadcast_to(a, (2, 2, 4)), normal(2, 1)),
    case("np_broadcast_to_scalar", lambda a: np.broadcast_to(a, (3,)), normal()),
    # matmul: 2-D, batched (with batch broadcasting), and every 1-D rule
    case("matmul_2d", lambda a, b: a @ b, normal(2, 3), normal(3, 4)),
    case("matmul_batched", lambda a, b: a @ b, normal(2, 2, 3), normal(2, 3, 2)),
    case("matmul_batch_by_matrix", lambda a, b: ag.matmul(a, b), normal(2, 2, 3), normal(3, 2)),
    case("matmul_broadcast_batches", lambda a, b: a.matmul(b), normal(2, 1, 2, 3),
         normal(3, 3, 2)),
    case("matmul_1d_1d", lambda a, b: a @ b, normal(3), normal(3)),
    case("matmul_1d_2d", lambda a, b: a @ b, normal(3), normal(3, 2)),
    case("matmul_1d_3d", lambda a, b: a @ b, normal(3), normal(2, 3, 2)),
    case("matmul_2d_1d", lambda a, b: a @ b, normal(2, 3), normal(3)),
    case("matmul_3d_1d", lambda a, b: np.matmul(a, b), normal(2, 2, 3), normal(3)),
    # indexing
    case("index_int", lambda a: a[1], normal(3, 4)),
    case("index_int_int", lambda a: a[1, -1], normal(3, 4)),
    case("index_slices", lambda a: a[:, 1:3], normal(3, 4)),
    case("index_steps", lambda a: a[::2, ::-1], normal(3, 4)),
    case("index_none_ellipsis", lambda a: a[None, ..., 0], normal(2, 3, 4)),
    case("index_ellipsis_slice", lambda a: a[..., 1:], normal(2, 3)),
    case("index_int_array", lambda a: a[np.array([2, 0])], normal(3, 4)),
    case("index_repeated", lambda a: a[np.array([0, 2, 0, 0])], normal(3, 2)),
    case("index_repeated_pairs", lambda a: a[[0, 0, 1, 0], [1, 1, 2, 1]], normal(3, 4)),
    case("index_slice_and_list", lambda a: a[1:, [0, 2, 2]], normal(3, 4)),
    case("index_tensor_indices", lambda a: a[ag.tensor([1, 1, 0])], normal(2, 3)),
    case("index_bool_mask", lambda a: a[MASK], normal(3, 4)),
    case("index_bool_rows", lambda a: a[np.array([True, False, True])], normal(3, 4)),
    case("index_bool_tensor", lambda a: a[a > 0.0], off_grid(3, 4)),
    # joining
    case("concatenate", lambda a, b: ag.concatenate([a, b]), normal(2, 3), normal(1, 3)),
    case("concatenate_axis1_three", lambda a, b, c: ag.concatenate([a, b, c], axis=1),
         normal(2, 1), normal(2, 3), normal(2, 2)),
    case("concatenate_dim_negative", lambda a, b: ag.concatenate((a, b), dim=-1),
         normal(2, 2, 1), normal(2, 2, 3)),
    case("np_concatenate", lambda a, b: np.concatenate([a, b]), normal(2), normal(3)),
    case("stack", lambda a, b: ag.stack([a, b]), normal(2, 3), normal(2, 3)),
    case("stack_axis1_three", lambda a, b, c: ag.stack([a, b, c], axis=1), normal(2, 3),
         normal(2, 3), normal(2, 3)),
    case("stack_dim_negative", lambda a, b: ag.stack((a, b), dim=-1), normal(2), normal(2)),
    case("stack_scalars", lambda a, b: ag.stack([a, b]), normal(), normal()),
    # normalisation, embedding, recurrent layers
    case("batch_norm_train", lambda x, w, b: ag.batch_norm(x, weight=w, bias=b, training=True),
         normal(4, 3, 2), normal(3), normal(3)),
    case("batch_norm_eval", lambda x, w, b: ag.batch_norm(
        x, np.array([0.5, -1.0, 0.0]), np.array([1.0, 2.0, 0.5]), w, b), normal(4, 3),
         normal(3), normal(3)),
    case("layer_norm", lambda x, w, b: ag.layer_norm(x, (3,), w, b), normal(2, 4, 3), normal(3),
         normal(3)),
    case("group_norm", lambda x, w, b: ag.group_norm(x, 2, w, b), normal(2, 4, 3), normal(4),
         normal(4)),
    case("normalize_axes_0_2", lambda x: ag.normalize(x, (0, 2)), normal(3, 2, 4)),
    case("embedding", lambda w: ag.embedding(np.array([[0, 2], [2, 3]]), w), normal(4, 3)),
    case("lstm", lambda x, h, c, w_ih, w_hh, b_ih, b_hh: ag.lstm(x, h, c, w_ih, w_hh, b_ih, b_hh),
         normal(3, 2, 2), normal(2, 2), normal(2, 2), normal(8, 2), normal(8, 2), normal(8),
         normal(8)),
    case("lstm_reverse", lambda x, h, c, w_ih, w_hh: ag.lstm(x, h, c, w_ih, w_hh, reverse=True),
         normal(3, 2, 2), normal(2, 2), normal(2, 2), normal(8, 2), normal(8, 2)),
    # dtype conversion: the gradient flows back and is cast to the input's dtype
    case("astype_float64", lambda a: a.astype(np.float64) * 2.0, normal(2, 3),
         float32_output=False),
    case("astype_float32", lambda a: ag.astype(a, np.float32) * 2.0, normal(2, 3),
         tolerances={"eps": 1e-2, "atol": 1e-4}, float32_output=False),
    # trigonometric and hyperbolic functions (inverses inside their domains)
    case("sin", lambda a: a.sin(), normal(2, 3)),
    case("np_cos", lambda a: np.cos(a), normal(3, 2)),
    case("tan", lambda a: ag.tan(a), uniform(2, 3, low=-1.2, high=1.2)),
    case("arcsin", lambda a: a.arcsin(), uniform(2, 3, low=-0.9, high=0.9)),
    case("asin_alias", lambda a: ag.asin(a), uniform(4, low=-0.9, high=0.9)),
    case("arccos", lambda a: np.arccos(a), uniform(2, 3, low=-0.9, high=0.9)),
    case("arctan", lambda a: a.atan(), normal(2, 3)),
    case("arctan2", lambda a, b: ag.arctan2(a, b), normal(2, 3), normal(2, 3)),
    case("atan2_broadcast", lambda a, b: ag.atan2(a, b), normal(2, 3), positive(3)),
    case("sinh", lambda a: a.sinh(), normal(2, 3)),
    case("cosh", lambda a: np.cosh(a), normal(2, 3)),
    case("arcsinh", lambda a: ag.asinh(a), normal(2, 3)),
    case("arccosh", lambda a: a.arccosh(), positive(2, 3, low=1.2, high=3.0)),
    case("arctanh", lambda a: ag.atanh(a), uniform(2, 3, low=-0.9, high=0.9)),
    # more arithmetic
    case("square", lambda a: a.square(), normal(2, 3)),
    case("np_square", lambda a: np.square(a), normal(4)),
    case("reciprocal", lambda a: ag.reciprocal(a), positive(2, 3)),
    case("rsqrt", lambda a: a.rsqrt(), positive(2, 3)),
    case("expm1", lambda a: np.expm1(a), normal(2, 3)),
    case("exp2", lambda a: a.exp2(), normal(2, 3)),
    case("log2", lambda a: ag.log2(a), positive(2, 3)),
    case("log10", lambda a: np.log10(a), positive(2, 3)),
    case("hypot", lambda a, b: ag.hypot(a, b), normal(2, 3), normal(2, 3)),
    case("hypot_broadcast", lambda a, b: np.hypot(a, b), normal(2, 1), normal(1, 3)),
    case("logaddexp", lambda a, b: ag.logaddexp(a, b), normal(2, 3), normal(3)),
    case("logaddexp_wide", lambda a, b: np.logaddexp(a * 50.0, b), normal(4), normal(4)),
    case("lerp_float_weight", lambda a, b: ag.lerp(a, b, 0.25), normal(2, 3), normal(2, 3)),
    case("lerp_tensor_weight", lambda a, b, w: a.lerp(b, w), normal(2, 3), normal(3),
         uniform(2, 1)),
    case("erf", lambda a: ag.erf(a), normal(2, 3)),
    case("cbrt", lambda a: np.cbrt(a), off_grid(2, 3)),
    case("np_fabs", lambda a: np.fabs(a), off_grid(2, 3)),
    # piecewise-constant: the gradient is zeros (inputs off the jumps)
    case("sign", lambda a: a.sign() * a, off_grid(2, 3)),
    case("floor", lambda a: a.floor() + a, off_grid(2, 3)),
    case("ceil", lambda a: np.ceil(a) * a, off_grid(2, 3)),
    case("round", lambda a: ag.round(a) * a, off_grid(2, 3)),
    case("trunc", lambda a: a.trunc() + a * a, off_grid(2, 3)),
    # activations
    case("elu", lambda a: a.elu(), off_grid(2, 3)),
    case("elu_alpha", lambda a: ag.elu(a, alpha=0.5), off_grid(6)),
    case("selu", lambda a: ag.selu(a), off_grid(2, 3)),
    case("celu", lambda a: ag.celu(a, alpha=2.0), off_grid(2, 3)),
    case("gelu", lambda a: a.gelu(), normal(2, 3)),
    case("gelu_tanh", lambda a: ag.gelu(a, approximate="tanh"), normal(2, 3)),
    case("silu", lambda a: a.silu(), normal(2, 3)),
    case("mish", lambda a: ag.mish(a), normal(2, 3)),
    case("softsign", lambda a: a.softsign(), off_grid(2, 3)),
    case("hardtanh", lambda a: a.hardtanh(), off_grid(3, 4)),
    case("hardtanh_bounds", lambda a: ag.hardtanh(a, -0.5, 1.5), off_grid(3, 4)),
    case("relu6", lambda a: ag.relu6(a * 4.0), off_grid(3, 4)),
    case("hardsigmoid", lambda a: a.hardsigmoid(), uniform(3, 4, low=-4.0, high=4.0)),
    case("hardswish", lambda a: ag.hardswish(a), uniform(3, 4, low=-4.0, high=4.0)),
    case("softmin", lambda a: a.softmin(dim=0), normal(3, 2)),
    # more reductions
    case("std_all", lambda a: a.std(), normal(2, 3)),
    case("std_dim_keepdim_ddof", lambda a: ag.std(a, dim=1, keepdim=True, ddof=1),
         normal(3, 4)),
    case("np_std_axis", lambda a: np.std(a, axis=0), normal(3, 2)),
    case("prod_all", lambda a: a.prod(), normal(2, 3)),
    case("prod_axis_keepdim", lambda a: ag.prod(a, dim=1, keepdim=True), normal(2, 3)),
    case("prod_tuple", lambda a: np.prod(a, axis=(0, 2)), normal(2, 3, 2)),
    case("prod_with_zero", lambda a: (a * ag.tensor([1.0, 0.0, 1.0])).prod(axis=-1),
         normal(2, 3)),
    case("sum_keepdim_alias", lambda a: a.sum(dim=0, keepdim=True), normal(2, 3)),
    case("cumsum", lambda a: a.cumsum(axis=1), normal(2, 3)),
    case("cumsum_flat", lambda a: np.cumsum(a), normal(2, 3)),
    case("cumsum_dim", lambda a: ag.cumsum(a, dim=0), normal(3, 2)),
    case("cumprod", lambda a: a.cumprod(axis=-1), normal(2, 4)),
    case("cumprod_with_zero", lambda a: (a * ag.tensor([1.0, 0.0, 1.0, 0.0])).cumprod(dim=1),
         normal(2, 4)),
    case("cumprod_flat", lambda a: np.cumprod(a), normal(2, 2)),
    # sorting and gathering
    case("sort", lambda a: ag.sort(a), distinct(3, 4)),
    case("sort_axis0_descending", lambda a: ag.sort(a, axis=0, descending=True), distinct(3, 4)),
    case("np_sort_flat", lambda a: np.sort(a, axis=None), distinct(2, 3)),
    case("topk", lambda a: ag.topk(a, 2)[0], distinct(3, 4)),
    case("topk_smallest_dim0", lambda a: a.topk(2, dim=0, largest=False)[0], distinct(3, 4)),
    case("take_along_axis", lambda a: ag.take_along_axis(a, INDEX, axis=1), normal(3, 4)),
    case("np_take_along_axis_bcast", lambda a: np.take_along_axis(a, INDEX[:1], 1), normal(3, 4)),
    case("take_along_axis_flat", lambda a: ag.take_along_axis(a, INDEX[0], None), normal(2, 3)),
    case("gather", lambda a: a.gather(0, INDEX[:2, :3] % 3), normal(3, 4)),
    case("scatter_add", lambda a, s: ag.scatter_add(a, 1, INDEX, s), normal(3, 4), normal(3, 4)),
    case("scatter_add_bigger_src", lambda a, s: a.scatter_add(0, INDEX[:2, :2] % 3, s),
         normal(3, 4), normal(3, 4)),
    case("index_add", lambda a, s: ag.index_add(a, 1, np.array([0, 2, 0]), s, alpha=2.0),
         normal(2, 4), normal(2, 3)),
    case("masked_fill", lambda a: a.masked_fill(MASK, 0.5), normal(3, 4)),
    case("masked_fill_tensor_value", lambda a, v: ag.masked_fill(a, MASK[0], v), normal(3, 4),
         normal()),
    # rearranging
    case("flip", lambda a: a.flip(0), normal(3, 4)),
    case("flip_all_dims", lambda a: ag.flip(a, dims=(0, 1)) * a, normal(3, 4)),
    case("roll", lambda a: a.roll(1, axis=1), normal(3, 4)),
    case("roll_flat", lambda a: np.roll(a, -2), normal(3, 4)),
    case("roll_pairs", lambda a: ag.roll(a, (1, -1), dims=(0, 1)), normal(3, 4)),
    case("tile", lambda a: a.tile(2, 1), normal(2, 3)),
    case("tile_more_reps", lambda a: np.tile(a, (2, 1, 2)), normal(2, 3)),
    case("repeat", lambda a: a.repeat(2, axis=1), normal(2, 3)),
    case("repeat_counts_flat", lambda a: np.repeat(a, [1, 0, 2, 1, 1, 3]), normal(2, 3)),
    case("repeat_interleave", lambda a: ag.repeat_interleave(a, 3, 0), normal(2, 3)),
    case("pad_constant", lambda a: ag.pad(a, 1, constant_values=2.0), normal(2, 3)),
    case("pad_reflect", lambda a: np.pad(a, ((1, 0), (2, 1)), mode="reflect"), normal(3, 4)),
    case("pad_edge", lambda a: a.pad((0, 2), mode="edge"), normal(2, 3)),
    case("split", lambda a: ag.split(a, 2, axis=1)[1] * 2.0, normal(2, 4)),
    case("split_points", lambda a: np.split(a, [1, 3])[1] * 3.0, normal(5)),
    case("split_method_sizes", lambda a: a.split([1, 2], dim=1)[1], normal(2, 3)),
    case("chunk", lambda a: ag.concatenate(a.chunk(2)[::-1]), normal(3, 2)),
    case("unbind", lambda a: a.unbind(1)[2] * a.unbind()[0][2], normal(2, 3)),
    case("clone", lambda a: a.clone() * a, normal(2, 3)),
    case("view", lambda a: a.view(3, 2), normal(2, 3)),
    case("permute", lambda a: a.permute(2, 0, 1), normal(2, 3, 4)),
    case("unsqueeze", lambda a: a.unsqueeze(1), normal(2, 3)),
    case("cat", lambda a, b: ag.cat([a, b], dim=1), normal(2, 3), normal(2, 1)),
    # matrices
    case("einsum_matmul", lambda a, b: ag.einsum("ij,jk->ik", a, b), normal(2, 3), normal(3, 4)),
    case("einsum_batched_ellipsis", lambda a, b: np.einsum("...ij,...jk", a, b),
         normal(2, 2, 3), normal(3, 2)),
    case("einsum_sum_one_operand", lambda a, b: ag.einsum("ij,k->j", a, b), normal(2, 3),
         normal(4)),
    case("einsum_implicit_outer", lambda a, b: ag.einsum("i,j", a, b), normal(2), normal(3)),
    case("outer", lambda a, b: ag.outer(a, b), normal(3), normal(2, 2)),
    case("diagonal", lambda a: a.diagonal(), normal(3, 4)),
    case("diagonal_offset_axes", lambda a: ag.diagonal(a, -1, 1, 2), normal(2, 3, 3)),
    case("trace", lambda a: a.trace(), normal(3, 3)),
    case("tril", lambda a: a.tril(), normal(3, 4)),
    case("triu_batched_k", lambda a: ag.triu(a, diagonal=1), normal(2, 3, 3)),
    case("norm_flat", lambda a: ag.linalg.norm(a), normal(2, 3)),
    case("norm_vector_axis", lambda a: ag.linalg.norm(a, axis=1, keepdims=True), normal(2, 3)),
    case("norm_vector_l1", lambda a: ag.norm(a, ord=1, axis=0), off_grid(3, 2)),
    case("norm_vector_inf", lambda a: np.linalg.norm(a, ord=np.inf, axis=-1), normal(2, 3)),
    case("norm_vector_p3", lambda a: ag.linalg.norm(a, ord=3, dim=0), positive(3, 2)),
    case("norm_matrix_fro", lambda a: ag.linalg.norm(a, "fro", axis=(1, 2)), normal(2, 3, 2)),
    case("norm_matrix_1", lambda a: ag.linalg.norm(a, 1), distinct(3, 3)),
    case("norm_matrix_inf", lambda a: ag.linalg.norm(a, -np.inf, axis=(0, 1)), distinct(3, 3)),
    case("norm_matrix_nuc", lambda a: ag.linalg.norm(a, "nuc"), normal(3, 2)),
    case("norm_matrix_2_batched", lambda a: ag.linalg.norm(a, 2, axis=(0, 2)), normal(3, 2, 4)),
    case("norm_matrix_minus_2", lambda a: ag.linalg.norm(a, -2), normal(3, 3)),
    case("svdvals", lambda a: ag.linalg.svdvals(a), normal(2, 4, 3)),
    case("einsum_trace", lambda a: ag.einsum("ii", a), normal(3, 3)),
    case("einsum_diagonal_times", lambda a, b: ag.einsum("iij,j->ji", a, b), normal(2, 2, 3),
         normal(3)),
    # convolution and pooling (more strides, paddings and groups: test_conv_pool_ops.py)
    case("conv2d", lambda x, w, b: ag.conv2d(x, w, b, stride=2, padding=1, groups=2),
         normal(2, 4, 5, 4), normal(4, 2, 3, 3), normal(4)),
    case("conv2d_same_dilated", lambda x, w: ag.conv2d(x, w, padding="same", dilation=2),
         normal(1, 2, 5, 5), normal(3, 2, 2, 3)),
    case("conv1d", lambda x, w: ag.conv1d(x, w, stride=2, padding=1), normal(2, 3, 7),
         normal(2, 3, 3)),
    case("conv_transpose2d", lambda x, w, b: ag.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                   output_padding=1),
         normal(2, 3, 3, 2), normal(3, 2, 3, 3), normal(2)),
    case("conv_transpose1d", lambda x, w: ag.conv_transpose1d(x, w, stride=3, dilation=2),
         normal(1, 2, 4), normal(2, 2, 2)),
    case("max_pool2d", lambda a: ag.max_pool2d(a, 3, 2, padding=1), distinct(2, 2, 5, 5)),
    case("max_pool1d", lambda a: ag.max_pool1d(a, 2, ceil_mode=True), distinct(2, 2, 5)),
    case("avg_pool2d", lambda a: ag.avg_pool2d(a, (2, 3), padding=1, count_include_pad=False),
         normal(2, 2, 5, 4)),
    case("avg_pool1d", lambda a: ag.avg_pool1d(a, 3, 2, 1), normal(2, 2, 6)),
    case("adaptive_avg_pool2d", lambda a: ag.adaptive_avg_pool2d(a, (2, 3)), normal(2, 2, 5, 7)),
    # a small composite: the ops must also compose
    case("composite_mlp", lambda x, w, b: (x @ w + b).tanh().mean(axis=0).sum(), normal(4, 3),
         normal(3, 2), normal(2)),
]


def draw_inputs(op: OpCase, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.asarray(draw(rng), dtype=np.float64) for draw in op.inputs]


@pytest.mark.parametrize("op", CASES)
def test_gradcheck(op: OpCase) -> None:
    assert ag.gradcheck(op.function, draw_inputs(op), **op.tolerances)


@pytest.mark.parametrize("op", CASES)
def test_float32_matches_float64(op: OpCase) -> None:
    inputs = draw_inputs(op, seed=1)
    wide = [ag.tensor(x, requires_grad=True) for x in inputs]
    narrow = [ag.tensor(x.astype(np.float32), requires_grad=True) for x in inputs]
    out64, out32 = op.function(*wide), op.function(*narrow)
    if op.float32_output:
        assert out64.dtype == np.float64
        assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.numpy(), out64.numpy(), rtol=1e-5, atol=1e-5)

    weights = np.random.default_rng(2).standard_normal(out64.shape)
    grads64 = ag.engine.grad(out64, wide, gradient=weights)
    grads32 = ag.engine.grad(out32, narrow, gradient=weights)
    for g32, g64, leaf in zip(grads32, grads64, narrow):
        assert g32.dtype == np.float32, "a gradient has the dtype of its leaf"
        assert g32.shape == leaf.shape
        np.testing.assert_allclose(g32.numpy(), g64.numpy(), rtol=1e-4, atol=1e-5)

