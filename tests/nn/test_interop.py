"""safetensors with PyTorch's key names (both directions) and ONNX export checked by onnxruntime."""

import subprocess
import sys

import numpy as np
import pytest

import autograd_core as ag
import nn


def test_import_nn_imports_no_interop_package():
    code = ("import sys, nn; heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'onnx', 'onnxruntime', 'safetensors', 'sklearn')]; assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def torch_and_ours():
    torch = pytest.importorskip("torch")
    pytest.importorskip("safetensors")
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 16), torch.nn.Tanh(),
                                 torch.nn.Dropout(0.3), torch.nn.Linear(16, 8),
                                 torch.nn.LeakyReLU(0.2), torch.nn.Linear(8, 3, bias=False),
                                 torch.nn.Softmax(dim=1)).eval()
    ours = nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.Tanh(), nn.Dropout(0.3),
                         nn.Linear(16, 8), nn.LeakyReLU(0.2), nn.Linear(8, 3, bias=False),
                         nn.Softmax(dim=1)).eval()
    return torch, theirs, ours


def test_key_names_match_pytorch():
    torch, theirs, ours = torch_and_ours()
    assert {k: tuple(v.shape) for k, v in theirs.state_dict().items()} == \
        {k: v.shape for k, v in ours.state_dict().items()}
    mlp = nn.MLP([5, 7, 2])
    reference = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 2))
    assert list(mlp.state_dict()) == list(reference.state_dict())


def test_pytorch_weights_load_here_and_ours_load_in_pytorch(tmp_path):
    torch, theirs, ours = torch_and_ours()
    from safetensors.torch import load_file, save_file

    x = np.random.default_rng(1).standard_normal((6, 3, 4)).astype(np.float32)
    save_file(theirs.state_dict(), tmp_path / "torch.safetensors")
    assert nn.load_safetensors(ours, tmp_path / "torch.safetensors") == ([], [])
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-5, atol=1e-7)

    for layer in ours:
        if isinstance(layer, nn.Linear):
            layer.reset_parameters()
    nn.save_safetensors(ours, tmp_path / "ours.safetensors", metadata={"epoch": "3"})
    theirs.load_state_dict(load_file(tmp_path / "ours.safetensors"))
    with torch.no_grad():
        np.testing.assert_allclose(theirs(torch.from_numpy(x)).numpy(), ours(x).data,
                                   rtol=1e-5, atol=1e-7)


def test_mismatches_and_unreadable_dtypes_are_reported(tmp_path):
    torch, theirs, _ = torch_and_ours()
    from safetensors.torch import save_file

    save_file(theirs.state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(RuntimeError, match=r"shape mismatch for '1.weight'"):
        nn.load_safetensors(nn.Sequential(nn.Flatten(), nn.Linear(3, 16)),
                            tmp_path / "w.safetensors", strict=False)
    partial = nn.Sequential(nn.Flatten(), nn.Linear(12, 16))
    skipped = nn.load_safetensors(partial, tmp_path / "w.safetensors", strict=False)
    assert sorted(skipped.unexpected_keys) == ["4.bias", "4.weight", "6.weight"]
    save_file({"0.weight": torch.ones(2, 2, dtype=torch.bfloat16)}, tmp_path / "bf16.safetensors")
    with pytest.raises(ValueError, match="nn.load_safetensors: cannot read.*bfloat16"):
        nn.load_safetensors(nn.Sequential(nn.Linear(2, 2, bias=False)),
                            tmp_path / "bf16.safetensors")


def every_supported_layer():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 16, activation="relu"), nn.Dropout(0.5),
                          nn.BatchNorm1d(16), nn.Linear(16, 16), nn.Sigmoid(),
                          nn.BatchNorm1d(16, affine=False), nn.Linear(16, 8, activation="tanh"),
                          nn.LeakyReLU(0.05), nn.LayerNorm(8), nn.Identity(), nn.MLP([8, 6, 5]),
                          nn.LayerNorm(5, elementwise_affine=False), nn.Tanh(), nn.ReLU(),
                          nn.Linear(5, 4, bias=False), nn.LayerNorm(4, bias=False),
                          nn.Softmax(dim=-1))
    rng = np.random.default_rng(3)
    for name, value in model.state_dict().items():  # non-trivial statistics and affine terms
        if not name.endswith("num_batches_tracked"):
            model.load_state_dict({name: rng.uniform(0.5, 1.5, value.shape)}, strict=False)
    return model


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_onnx_export_matches_onnxruntime(tmp_path, dtype):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    ag.manual_seed(0)
    previous = ag.get_default_dtype()
    ag.set_default_dtype(dtype)
    try:
        model = every_supported_layer()
    finally:
        ag.set_default_dtype(previous)
    path = tmp_path / "model.onnx"
    nn.export_onnx(model, path, input_shape=(None, 3, 4))
    assert model.training  # the model's mode is left as it was
    onnx.checker.check_model(onnx.load(path), full_check=True)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    model.eval()
    for batch in (1, 7):  # the batch dimension is dynamic
        x = rng.standard_normal((batch, 3, 4)).astype(dtype)
        out = session.run(None, {"input": x})[0]
        assert out.dtype == dtype and out.shape == (batch, 4)
        # reordered sums and normalisations: a few ulps, relative to the outputs' size
        tolerance = 1e-5 if dtype == np.float32 else 1e-10
        np.testing.assert_allclose(out, model(x).data, rtol=tolerance, atol=tolerance)


def test_onnx_export_from_an_example_input_and_unsupported_layers(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = nn.MLP([4, 8, 2], activation="tanh").eval()
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    nn.export_onnx(model, tmp_path / "mlp.onnx", example_input=x)
    out = ort.InferenceSession(tmp_path / "mlp.onnx").run(None, {"input": x})[0]
    np.testing.assert_allclose(out, model(x).data, rtol=1e-5, atol=1e-6)

    with pytest.raises(NotImplementedError, match=r"layer 'model.1' \(RBM\) has no ONNX export"):
        nn.export_onnx(nn.Sequential(nn.Linear(4, 4), nn.RBM(4, 2)), tmp_path / "x.onnx",
                       input_shape=(None, 4))
    with pytest.raises(NotImplementedError, match=r"'model.0' \(Conv2d\) is exported for "
                                                  r"batched inputs \(N, C, H, W\) only, got an "
                                                  r"input of shape \(2, 5, 5\)"):
        nn.export_onnx(nn.Sequential(nn.Conv2d(2, 2, 3)), tmp_path / "x.onnx",
                       input_shape=(2, 5, 5))
    with pytest.raises(NotImplementedError, match=r"\(BatchNorm1d with track_running_stats"):
        nn.export_onnx(nn.Sequential(nn.BatchNorm1d(3, track_running_stats=False)),
                       tmp_path / "x.onnx", input_shape=(None, 3))
    with pytest.raises(ValueError, match="exactly one of input_shape and example_input"):
        nn.export_onnx(model, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def check_onnx_against_onnxruntime(model, path, input_shape, batches=(1, 3), seed=0):
    """Export, run the full checker, and compare onnxruntime with the model on random inputs.

    float32 tolerance 1e-5 (relative and absolute): the runtime sums convolutions and matrix
    products in another order, a few ulps of outputs of order one."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    nn.export_onnx(model, path, input_shape=input_shape)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    for batch in batches:  # the batch dimension stays dynamic
        x = rng.standard_normal((batch, *input_shape[1:])).astype(np.float32)
        expected = model(x).data
        out = session.run(None, {"input": x})[0]
        assert out.shape == expected.shape and out.dtype == np.float32
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_onnx_export_of_a_small_cnn(tmp_path):
    ag.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(16 * 2 * 2, 10)).eval()
    check_onnx_against_onnxruntime(cnn, tmp_path / "cnn.onnx", (None, 1, 8, 8), batches=(1, 5))
    onnx = pytest.importorskip("onnx")
    ops = [node.op_type for node in onnx.load(tmp_path / "cnn.onnx").graph.node]
    assert ops == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "MatMul",
                   "Add", "Identity"]


LAYER_CASES = {  # (layer, input shape without the batch)
    "conv1d_stride_padding_no_bias": (lambda: nn.Conv1d(4, 6, 3, stride=2, padding=1,
                                                        bias=False), (4, 9)),
    "conv1d_same_dilated_grouped": (lambda: nn.Conv1d(4, 6, 4, padding="same", dilation=2,
                                                      groups=2), (4, 9)),
    "conv2d_rectangular_depthwise": (lambda: nn.Conv2d(4, 4, (3, 2), stride=(2, 1),
                                                       padding=(1, 0), dilation=(1, 2),
                                                       groups=4), (4, 7, 6)),
    "conv2d_same_even_kernel": (lambda: nn.Conv2d(4, 2, 4, padding="same"), (4, 7, 6)),
    "conv2d_valid": (lambda: nn.Conv2d(3, 2, 3, padding="valid"), (3, 6, 5)),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                                    output_padding=1, groups=2, dilation=2),
                         (4, 5, 5)),
    "max_pool2d": (lambda: nn.MaxPool2d(2), (3, 8, 8)),
    "max_pool2d_ceil_last_window_in_padding": (lambda: nn.MaxPool2d(2, 2, 1, ceil_mode=True),
                                               (3, 3, 3)),
    "max_pool2d_ceil_dilated": (lambda: nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True),
                                (3, 9, 8)),
    "max_pool1d_ceil_dilated": (lambda: nn.MaxPool1d(3, 2, 1, dilation=2, ceil_mode=True),
                                (3, 10)),
    "max_pool1d_ceil_end_padding_wider_than_kernel": (
        lambda: nn.MaxPool1d(2, 2, 1, dilation=3, ceil_mode=True), (3, 5)),
    "avg_pool1d": (lambda: nn.AvgPool1d(3, 2, 1), (3, 10)),
    "avg_pool1d_ceil_exclude_pad": (lambda: nn.AvgPool1d(3, 2, 1, ceil_mode=True,
                                                         count_include_pad=False), (3, 10)),
    "avg_pool2d_ceil_no_padding": (lambda: nn.AvgPool2d(2, ceil_mode=True), (3, 5, 5)),
    "avg_pool2d_ceil_counts_padding_not_overhang": (lambda: nn.AvgPool2d(4, 3, 2,
                                                                         ceil_mode=True),
                                                    (3, 8, 7)),
    "avg_pool2d_divisor_override_ceil": (lambda: nn.AvgPool2d(4, 3, 2, ceil_mode=True,
                                                              divisor_override=5), (3, 8, 7)),
    "adaptive_avg_pool2d_global": (lambda: nn.AdaptiveAvgPool2d(1), (3, 7, 5)),
    "adaptive_avg_pool2d_divisible": (lambda: nn.AdaptiveAvgPool2d((4, None)), (3, 8, 6)),
    "adaptive_avg_pool2d_uneven_windows": (lambda: nn.AdaptiveAvgPool2d((3, 2)), (3, 7, 5)),
    "unflatten_flatten_middle_and_batch": (lambda: nn.Sequential(
        nn.Unflatten(1, (2, 3, 4)), nn.Flatten(2), nn.Flatten(0, 1)), (24,)),
    "unflatten_inferred_size_flatten_last": (lambda: nn.Sequential(
        nn.Unflatten(1, (2, -1)), nn.Flatten(1, 1), nn.Unflatten(-1, (3, 4)), nn.Flatten(-2)),
        (24,)),
}


@pytest.mark.parametrize("case", LAYER_CASES)
def test_onnx_export_of_each_conv_pool_and_reshape_layer(tmp_path, case):
    make_layer, shape = LAYER_CASES[case]
    ag.manual_seed(1)
    model = nn.Sequential(make_layer()).eval()
    check_onnx_against_onnxruntime(model, tmp_path / f"{case}.onnx", (None, *shape))
