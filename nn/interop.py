"""Weights in and out: safetensors files with PyTorch's key names, and ONNX export.

The optional packages (``pip install autograd-core[interop]``: safetensors, onnx, onnxruntime)
are imported inside the functions, never by ``import nn``.

PyTorch's names are ours: a ``Sequential``'s children are "0", "1", ... and ``Linear`` holds
``weight`` (out_features, in_features) and ``bias``, so ``nn.Sequential(nn.Linear(4, 8),
nn.ReLU(), nn.Linear(8, 3))`` and ``torch.nn.Sequential(torch.nn.Linear(4, 8),
torch.nn.ReLU(), torch.nn.Linear(8, 3))`` have the same state_dict keys and shapes::

    # in PyTorch
    safetensors.torch.save_file(torch_model.state_dict(), "weights.safetensors")
    # here
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    nn.load_safetensors(model, "weights.safetensors")   # same outputs as torch_model
    nn.save_safetensors(model, "ours.safetensors")      # torch_model.load_state_dict(
                                                        #   safetensors.torch.load_file(...))
    nn.export_onnx(model.eval(), "model.onnx", input_shape=(None, 4))
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import autograd_core as ag

from . import layers, normalization
from .module import IncompatibleKeys, ModuleBase

ONNX_OPSET = 17
ONNX_IR_VERSION = 8  # what onnxruntime releases of the last years all read


def save_safetensors(model: ModuleBase | Mapping[str, Any], path: str | os.PathLike,
                     metadata: Mapping[str, str] | None = None) -> None:
    """Write ``model``'s state_dict (or a state_dict) to a ``.safetensors`` file."""
    from safetensors.numpy import save_file

    state = model.state_dict() if isinstance(model, ModuleBase) else model
    arrays = {}
    for key, value in state.items():
        array = np.ascontiguousarray(value.data if isinstance(value, ag.Tensor) else value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"nn.save_safetensors: {key!r} has dtype {array.dtype}; only "
                            "numeric arrays can be saved")
        arrays[key] = array
    save_file(arrays, os.fspath(path), metadata=dict(metadata) if metadata else None)


def load_safetensors(model: ModuleBase, path: str | os.PathLike, strict: bool = True
                     ) -> IncompatibleKeys:
    """Copy the weights of a ``.safetensors`` file into ``model`` (``load_state_dict`` rules:
    keys must match unless ``strict=False``, shapes always; values are cast to each
    parameter's dtype). Returns the keys skipped."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        state = load_file(os.fspath(path))
    except (SafetensorError, TypeError, ValueError) as err:
        raise ValueError(f"nn.load_safetensors: cannot read {os.fspath(path)!r} (its dtypes must "
                         f"be ones numpy has; bfloat16 is not): {err}") from err
    return model.load_state_dict(state, strict=strict)


def export_onnx(model: ModuleBase, path: str | os.PathLike,
                input_shape: Sequence[int | None] | None = None, example_input: Any = None
                ) -> None:
    """Write ``model`` as an ONNX graph (opset 17), checked by ``onnx.checker``.

    Give the input's shape (``None`` or -1 for the batch dimension, which stays dynamic) or an
    example input. Supported: ``Sequential`` (and ``MLP``) of ``Linear`` (its fused activation
    included), ``ReLU``, ``Sigmoid``, ``Tanh``, ``LeakyReLU``, ``Softmax``, ``Flatten``
    (``start_dim=1, end_dim=-1``), ``Identity``, ``Dropout`` and ``BatchNorm1d``/``2d``
    (exported as in eval mode: the identity, the running statistics) and ``LayerNorm``. Any
    other layer raises ``NotImplementedError`` naming it.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if (input_shape is None) == (example_input is None):
        raise ValueError("nn.export_onnx: give exactly one of input_shape and example_input")
    if example_input is not None:
        example = np.asarray(example_input.data if isinstance(example_input, ag.Tensor)
                             else example_input)
        dims: list[Any] = ["batch", *example.shape[1:]]
    else:
        dims = ["batch" if d in (None, -1) else int(d) for d in input_shape]
        example = np.zeros([1 if d == "batch" else d for d in dims])
    dtype = next((p.dtype for p in model.parameters()), ag.get_default_dtype())
    example = example.astype(dtype)
    elem_type = {np.dtype(np.float32): TensorProto.FLOAT,
                 np.dtype(np.float64): TensorProto.DOUBLE}[np.dtype(dtype)]

    builder = _GraphBuilder(helper, numpy_helper, np.dtype(dtype))
    output = builder.add(model, "input", "model")
    was_training = model.training
    model.eval()
    try:
        with ag.no_grad():
            out_shape = model(ag.Tensor(example)).shape
    finally:
        model.train(was_training)
    out_dims = ["batch" if i == 0 and dims[0] == "batch" else n for i, n in enumerate(out_shape)]
    builder.nodes.append(helper.make_node("Identity", [output], ["output"]))
    graph = helper.make_graph(
        builder.nodes, type(model).__name__,
        [helper.make_tensor_value_info("input", elem_type, dims)],
        [helper.make_tensor_value_info("output", elem_type, out_dims)],
        initializer=builder.initializers)
    onnx_model = helper.make_model(graph, producer_name="autograd_core.nn",
                                   opset_imports=[helper.make_opsetid("", ONNX_OPSET)])
    onnx_model.ir_version = ONNX_IR_VERSION
    onnx.checker.check_model(onnx_model, full_check=True)
    onnx.save(onnx_model, os.fspath(path))


class _GraphBuilder:
    """Appends the ONNX nodes of each layer; names follow the layer's state_dict prefix."""

    ACTIVATIONS = {layers.ReLU: "Relu", layers.Sigmoid: "Sigmoid", layers.Tanh: "Tanh",
                   "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}

    def __init__(self, helper: Any, numpy_helper: Any, dtype: np.dtype):
        self.helper, self.numpy_helper, self.dtype = helper, numpy_helper, dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def node(self, op: str, inputs: list[str], name: str, **attributes: Any) -> str:
        self.nodes.append(self.helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def constant(self, array: np.ndarray, name: str) -> str:
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def affine(self, layer: ModuleBase, shape: tuple[int, ...], name: str, bias: bool
               ) -> list[str]:
        """A normalisation layer's scale and (if ``bias``) shift: ones and zeros without them."""
        scale = np.ones(shape, self.dtype) if layer.weight is None else layer.weight.data
        names = [self.constant(scale, f"{name}.weight")]
        if bias:
            shift = np.zeros(shape, self.dtype) if layer.bias is None else layer.bias.data
            names.append(self.constant(shift, f"{name}.bias"))
        return names

    def add(self, layer: ModuleBase, x: str, name: str) -> str:
        kind = type(layer)
        if isinstance(layer, layers.Sequential):
            for child_name, child in layer.named_children():
                x = self.add(child, x, f"{name}.{child_name}")
            return x
        if kind is layers.Linear:
            y = self.node("MatMul", [x, self.constant(layer.weight.data.T, f"{name}.weight_t")],
                          f"{name}.matmul")
            if layer.bias is not None:
                y = self.node("Add", [y, self.constant(layer.bias.data, f"{name}.bias")],
                              f"{name}.add")
            if layer.activation is not None:
                y = self.node(self.ACTIVATIONS[layer.activation], [y], f"{name}.activation")
            return y
        if kind in (layers.ReLU, layers.Sigmoid, layers.Tanh):
            return self.node(self.ACTIVATIONS[kind], [x], name)
        if kind is layers.LeakyReLU:
            return self.node("LeakyRelu", [x], name, alpha=layer.negative_slope)
        if kind is layers.Softmax:
            return self.node("Softmax", [x], name, axis=layer.dim)
        if kind in (layers.Identity, layers.Dropout):
            return self.node("Identity", [x], name)
        if kind is layers.Flatten and layer.start_dim == 1 and layer.end_dim == -1:
            return self.node("Flatten", [x], name, axis=1)
        if kind in (normalization.BatchNorm1d, normalization.BatchNorm2d) and \
                layer.track_running_stats:  # exported as in eval mode, like Dropout
            inputs = [x, *self.affine(layer, (layer.num_features,), name, bias=True),
                      self.constant(layer.running_mean.data, f"{name}.running_mean"),
                      self.constant(layer.running_var.data, f"{name}.running_var")]
            return self.node("BatchNormalization", inputs, name, epsilon=layer.eps)
        if kind is normalization.LayerNorm:
            return self.node("LayerNormalization",
                             [x, *self.affine(layer, layer.normalized_shape, name,
                                              bias=layer.bias is not None)],
                             name, axis=-len(layer.normalized_shape), epsilon=layer.eps)
        detail = (f" with start_dim={layer.start_dim}, end_dim={layer.end_dim} (only 1, -1)"
                  if kind is layers.Flatten else
                  " with track_running_stats=False" if isinstance(layer, normalization._BatchNorm)
                  else "")
        raise NotImplementedError(
            f"nn.export_onnx: layer {name!r} ({kind.__name__}{detail}) has no ONNX export; "
            "supported: Sequential/MLP of Linear, ReLU, Sigmoid, Tanh, LeakyReLU, Softmax, "
            "Flatten, Identity, Dropout, BatchNorm1d/2d, LayerNorm"
        )
