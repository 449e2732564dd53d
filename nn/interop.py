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
from autograd_core.ops.conv import int_tuple, same_padding
from autograd_core.ops.pool import adaptive_windows

from . import containers, conv, layers, normalization, pooling
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
    example input; the other dimensions are fixed. Supported: ``Sequential`` (and ``MLP``) of
    ``Linear`` (its fused activation included), ``ReLU``, ``Sigmoid``, ``Tanh``, ``LeakyReLU``,
    ``Softmax``, ``Flatten``, ``Unflatten``, ``Identity``, ``Dropout`` and ``BatchNorm1d``/``2d``
    (exported as in eval mode: the identity, the running statistics), ``LayerNorm``,
    ``Conv1d``/``2d``, ``ConvTranspose2d``, ``MaxPool1d``/``2d``, ``AvgPool1d``/``2d`` and
    ``AdaptiveAvgPool2d`` (batched inputs). Any other layer raises ``NotImplementedError``
    naming it.

    Pooling with ``ceil_mode`` is written with explicit end padding (ONNX's shape inference and
    PyTorch disagree when the last window would start in the padding), and ``AdaptiveAvgPool2d``
    as ``GlobalAveragePool`` (output 1x1), ``AveragePool`` (sizes divisible) or, otherwise, its
    exact window-mean matrices: ``A_h @ x @ A_w.T``. The graph has the parameters' dtype;
    onnxruntime's CPU provider runs ``Conv``, ``ConvTranspose`` and average pooling in float32
    only, so export float32 models to serve them there.

    >>> cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    ...                     nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    >>> nn.export_onnx(cnn.eval(), "cnn.onnx", input_shape=(None, 1, 8, 8))
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
    elem_types = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}
    if np.dtype(dtype) not in elem_types:
        raise TypeError(f"nn.export_onnx: the model's parameters are {np.dtype(dtype)}; only "
                        "float32 and float64 models can be exported")
    elem_type = elem_types[np.dtype(dtype)]

    builder = _GraphBuilder(helper, numpy_helper, np.dtype(dtype))
    was_training = model.training
    model.eval()
    try:
        with ag.no_grad():  # the example's shape at each layer fixes reshapes and pooling
            output = builder.add(model, "input", "model", ag.Tensor(example))
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

    def reshape(self, x: str, target: list[int], name: str) -> str:
        """ONNX Reshape: 0 copies the input's dimension (the dynamic batch), -1 is inferred."""
        return self.node("Reshape", [x, self.constant(np.array(target, np.int64),
                                                      f"{name}.shape")], name)

    def pad(self, x: str, front: list[int], back: list[int], value: float, name: str) -> str:
        """ONNX Pad of the spatial axes of an (N, C, *spatial) input with ``value``."""
        pads = np.array([0, 0, *front, 0, 0, *back], np.int64)
        return self.node("Pad", [x, self.constant(pads, f"{name}.pads"),
                                 self.constant(np.array(value, self.dtype), f"{name}.pad_value")],
                         f"{name}.pad")

    def add(self, layer: ModuleBase, x: str, name: str, example: ag.Tensor) -> str:
        """The nodes computing ``layer(x)``; ``example`` is an input of ``x``'s shape."""
        kind = type(layer)
        if isinstance(layer, layers.Sequential):
            for child_name, child in layer.named_children():
                x = self.add(child, x, f"{name}.{child_name}", example)
                example = child(example)
            return x
        shape = list(example.shape)
        if isinstance(layer, (conv._ConvNd, pooling._Pool, pooling.AdaptiveAvgPool2d)):
            spatial_dims = 2 if kind is pooling.AdaptiveAvgPool2d else layer.spatial_dims
            if len(shape) != spatial_dims + 2:
                raise NotImplementedError(
                    f"nn.export_onnx: layer {name!r} ({kind.__name__}) is exported for batched "
                    f"inputs (N, C, {'L' if spatial_dims == 1 else 'H, W'}) only, got an "
                    f"input of shape {tuple(shape)}")
            return self.spatial(layer, x, name, shape[2:], list(layer(example).shape[2:]))
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
        if kind is layers.Flatten and shape:
            start, end = layer.start_dim % len(shape), layer.end_dim % len(shape)
            if start == 1 and end == len(shape) - 1:
                return self.node("Flatten", [x], name, axis=1)
            return self.reshape(x, [0, *shape[1:start], -1, *shape[end + 1:]] if start else
                                [-1, *shape[end + 1:]], name)
        if kind is containers.Unflatten:
            dim = layer.dim % len(shape)
            split = [*layer.unflattened_size, *shape[dim + 1:]]
            return self.reshape(x, [0, *shape[1:dim], *split] if dim else split, name)
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
        detail = (" with track_running_stats=False" if isinstance(layer, normalization._BatchNorm)
                  else "")
        raise NotImplementedError(
            f"nn.export_onnx: layer {name!r} ({kind.__name__}{detail}) has no ONNX export; "
            "supported: Sequential/MLP of Linear, ReLU, Sigmoid, Tanh, LeakyReLU, Softmax, "
            "Flatten, Unflatten, Identity, Dropout, BatchNorm1d/2d, LayerNorm, Conv1d/2d, "
            "ConvTranspose2d, MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool2d"
        )

    def spatial(self, layer: ModuleBase, x: str, name: str, size: list[int], out: list[int]
                ) -> str:
        """Convolutions and pooling over ``size`` (the input's spatial shape) giving ``out``."""
        kind = type(layer)
        if kind is pooling.AdaptiveAvgPool2d:
            if out == [1, 1]:
                return self.node("GlobalAveragePool", [x], name)
            if all(n % o == 0 for n, o in zip(size, out)):
                window = [n // o for n, o in zip(size, out)]
                return self.node("AveragePool", [x], name, kernel_shape=window, strides=window)
            rows, cols = (adaptive_windows(n, o, self.dtype) for n, o in zip(size, out))
            y = self.node("MatMul", [self.constant(rows, f"{name}.rows"), x], f"{name}.rows_mean")
            return self.node("MatMul", [y, self.constant(cols.T, f"{name}.cols_t")], name)
        if isinstance(layer, conv._ConvNd):
            return self.convolution(layer, x, name)
        n = layer.spatial_dims
        kernel, stride, padding, dilation = (
            list(int_tuple(value, n, argument, kind.__name__)) for value, argument in
            ((layer.kernel_size, "kernel_size"), (layer.stride, "stride"),
             (layer.padding, "padding"), (getattr(layer, "dilation", 1), "dilation")))
        # ceil_mode's last window may hang past the padding: pad the end explicitly instead
        overhang = [max(0, (o - 1) * s + d * (k - 1) + 1 - length - 2 * p)
                    for o, s, d, k, length, p in zip(out, stride, dilation, kernel, size, padding)]
        window = {"kernel_shape": kernel, "strides": stride}
        if isinstance(layer, pooling._MaxPool):
            if any(overhang):  # onnxruntime refuses pads as wide as the kernel (dilation)
                x = self.pad(x, padding, [p + e for p, e in zip(padding, overhang)], -np.inf,
                             name)
                padding, overhang = [0] * n, [0] * n
            return self.node("MaxPool", [x], name, dilations=dilation,
                             pads=padding + padding, **window)
        divisor_override = getattr(layer, "divisor_override", None)
        count_include_pad = layer.count_include_pad or divisor_override is not None
        if count_include_pad and any(overhang) and divisor_override is None:
            # PyTorch counts the padding but not the overhang: pad with real zeros, count
            # only what is inside them
            if any(padding):
                x = self.pad(x, padding, padding, 0.0, name)
                padding = [0] * n
            count_include_pad = False
        y = self.node("AveragePool", [x], f"{name}.mean" if divisor_override else name,
                      pads=padding + [p + e for p, e in zip(padding, overhang)],
                      count_include_pad=int(count_include_pad), **window)
        if divisor_override is None:
            return y
        scale = np.array(np.prod(kernel) / divisor_override, self.dtype)
        return self.node("Mul", [y, self.constant(scale, f"{name}.divisor_scale")], name)

    def convolution(self, layer: conv._ConvNd, x: str, name: str) -> str:
        if layer.padding == "same":
            front, back = same_padding(layer.kernel_size, layer.dilation)
            pads = [*front, *back]
        else:
            pads = [0] * (2 * layer.spatial_dims) if layer.padding == "valid" \
                else list(layer.padding) * 2
        inputs = [x, self.constant(layer.weight.data, f"{name}.weight")]
        if layer.bias is not None:
            inputs.append(self.constant(layer.bias.data, f"{name}.bias"))
        attributes = {"kernel_shape": list(layer.kernel_size), "strides": list(layer.stride),
                      "dilations": list(layer.dilation), "group": layer.groups, "pads": pads}
        if layer.transposed:
            return self.node("ConvTranspose", inputs, name,
                             output_padding=list(layer.output_padding), **attributes)
        return self.node("Conv", inputs, name, **attributes)
