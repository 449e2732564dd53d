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
    with pytest.raises(NotImplementedError, match=r"'model.0' \(Flatten with start_dim=2"):
        nn.export_onnx(nn.Sequential(nn.Flatten(start_dim=2)), tmp_path / "x.onnx",
                       input_shape=(None, 2, 3, 4))
    with pytest.raises(NotImplementedError, match=r"\(BatchNorm1d with track_running_stats"):
        nn.export_onnx(nn.Sequential(nn.BatchNorm1d(3, track_running_stats=False)),
                       tmp_path / "x.onnx", input_shape=(None, 3))
    with pytest.raises(ValueError, match="exactly one of input_shape and example_input"):
        nn.export_onnx(model, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
