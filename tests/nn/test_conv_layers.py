"""Convolution and pooling layers against PyTorch: the weights copied through state_dict, then
outputs and every gradient (input and parameters) compared, in float64 and float32.

Tolerances: float64 to 1e-10 relative (only the summation order differs); float32 to 1e-4
relative and 1e-5 absolute (sums of up to a few hundred float32 products, accumulated in another
order than PyTorch's kernels).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F

torch = pytest.importorskip("torch")

TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-12}, np.float32: {"rtol": 1e-4, "atol": 1e-5}}
TORCH_DTYPE = {np.float64: "float64", np.float32: "float32"}


def compare(ours, theirs, x_shape, dtype, seed=0):
    """Copy theirs' weights into ours, run both on one input and one upstream gradient, and
    compare the output and the gradients of the input and of every parameter."""
    theirs = theirs.to(getattr(torch, TORCH_DTYPE[dtype]))
    state = {k: v.detach().numpy().astype(dtype) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)  # strict: the names and shapes map one to one
    for p in ours.parameters():
        p.data = p.data.astype(dtype)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    x_ours = ag.tensor(x, requires_grad=True)
    x_theirs = torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    assert y_ours.shape == tuple(y_theirs.shape) and y_ours.dtype == dtype
    np.testing.assert_allclose(y_ours.numpy(), y_theirs.detach().numpy(), **TOL[dtype])
    upstream = rng.standard_normal(y_ours.shape).astype(dtype)
    y_ours.backward(upstream)
    y_theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), **TOL[dtype])
    theirs_params = dict(theirs.named_parameters())
    assert set(theirs_params) == {name for name, _ in ours.named_parameters()}
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[name].grad.numpy(),
                                   **TOL[dtype], err_msg=name)


DTYPES = [np.float64, np.float32]

CONV2D = [  # constructor arguments (in, out, kernel, ...), input shape
    ((3, 4, 3), (2, 3, 7, 6)),
    ((4, 6, (3, 2)), {"stride": 2, "padding": 1, "groups": 2}, (2, 4, 8, 7)),
    ((2, 3, 3), {"padding": "same", "dilation": 2, "bias": False}, (2, 2, 7, 7)),
    ((2, 4, (2, 4)), {"padding": "same"}, (1, 2, 5, 6)),
    ((3, 3, 3), {"stride": (1, 2), "padding": "valid", "groups": 3, "dilation": (2, 1)},
     (2, 3, 8, 9)),
    ((2, 2, 1), {}, (2, 2, 3, 3)),
]


def split(case):
    args, *rest = case
    kwargs = rest[0] if len(rest) == 2 else {}
    return args, kwargs, rest[-1]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # PyTorch's note
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV2D)
def test_conv2d_matches_pytorch(case, dtype):
    args, kwargs, x_shape = split(case)
    compare(nn.Conv2d(*args, **kwargs), torch.nn.Conv2d(*args, **kwargs), x_shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [
    ((3, 4, 3), (2, 3, 9)),
    ((4, 2, 4), {"stride": 2, "padding": 2, "groups": 2, "bias": False}, (2, 4, 11)),
    ((2, 2, 3), {"padding": "same", "dilation": 3}, (1, 2, 10)),
])
def test_conv1d_matches_pytorch(case, dtype):
    args, kwargs, x_shape = split(case)
    compare(nn.Conv1d(*args, **kwargs), torch.nn.Conv1d(*args, **kwargs), x_shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [
    ((3, 2, 3), (2, 3, 4, 5)),
    ((4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}, (2, 4, 4, 3)),
    ((2, 3, (2, 3)), {"stride": (2, 1), "dilation": 2, "bias": False}, (1, 2, 3, 4)),
])
def test_conv_transpose2d_matches_pytorch(case, dtype):
    args, kwargs, x_shape = split(case)
    compare(nn.ConvTranspose2d(*args, **kwargs), torch.nn.ConvTranspose2d(*args, **kwargs),
            x_shape, dtype)


POOLS = [  # layer name, arguments, input shape
    ("MaxPool2d", (2,), {}, (2, 3, 6, 7)),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 2, 7, 6)),
    ("MaxPool2d", ((3, 2),), {"stride": 1, "dilation": (1, 2)}, (1, 2, 6, 7)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, (2, 3, 9)),
    ("AvgPool2d", (2,), {}, (2, 3, 6, 7)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 2, 8, 7)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, (2, 2, 7, 7)),
    ("AvgPool2d", ((2, 3),), {"divisor_override": 4}, (1, 2, 6, 6)),
    ("AvgPool1d", (4,), {"stride": 3, "padding": 2, "ceil_mode": True}, (2, 2, 10)),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 4, 4)),
    ("AdaptiveAvgPool2d", ((None, 3),), {}, (1, 2, 4, 8)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args, kwargs, x_shape", POOLS)
def test_pooling_matches_pytorch(name, args, kwargs, x_shape, dtype):
    compare(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs),
            x_shape, dtype)


def test_a_small_cnn_matches_pytorch_end_to_end():
    def build(lib):
        return lib.Sequential(
            lib.Conv2d(1, 4, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),
            lib.Conv2d(4, 6, 3, padding="same", groups=2), lib.ReLU(), lib.AvgPool2d(2),
            lib.ConvTranspose2d(6, 3, 2, stride=2), lib.AdaptiveAvgPool2d(1), lib.Flatten(),
            lib.Linear(3, 5))

    torch.manual_seed(0)
    compare(build(nn), build(torch.nn), (3, 1, 8, 8), np.float64)


@pytest.mark.parametrize("make_layer, fan_in", [
    (lambda: nn.Conv2d(6, 8, (3, 5), groups=2), 3 * 15),
    (lambda: nn.Conv1d(4, 2, 7), 4 * 7),
    (lambda: nn.ConvTranspose2d(6, 8, 3, groups=2), 4 * 9),  # PyTorch's fan_in: out/groups * k
])
def test_default_init_is_pytorch_uniform(make_layer, fan_in):
    # seeded: the statistical checks below fail for about one draw in a hundred
    ag.manual_seed(0)
    layer = make_layer()
    bound = 1 / math.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        values = p.numpy()
        assert p.dtype == np.float32
        assert np.abs(values).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > 0.8 * bound
    assert abs(layer.weight.numpy().mean()) < 0.2 * bound


def test_parameter_shapes_match_pytorch():
    pairs = [(nn.Conv2d(4, 6, (3, 2), groups=2), torch.nn.Conv2d(4, 6, (3, 2), groups=2)),
             (nn.Conv1d(3, 5, 4, bias=False), torch.nn.Conv1d(3, 5, 4, bias=False)),
             (nn.ConvTranspose2d(4, 6, 3, groups=2), torch.nn.ConvTranspose2d(4, 6, 3, groups=2))]
    for ours, theirs in pairs:
        assert {k: v.shape for k, v in ours.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
        assert repr(ours) == repr(theirs)


def test_functional_forms_match_pytorch():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 4, 6, 6)), rng.standard_normal((6, 2, 3, 3)), \
        rng.standard_normal(6)
    tf = torch.nn.functional
    tx, tw, tb = (torch.tensor(a) for a in (x, w, b))
    x, w = ag.tensor(x), ag.tensor(w)
    pairs = [
        (F.conv2d(x, w, b, 1, "same", 1, 2), tf.conv2d(tx, tw, tb, 1, "same", 1, 2)),
        (F.conv_transpose2d(x, w[:4], None, 2, 1, 1), tf.conv_transpose2d(tx, tw[:4], None, 2,
                                                                         1, 1)),
        (F.max_pool2d(x, 3, 2, 1), tf.max_pool2d(tx, 3, 2, 1)),
        (F.avg_pool2d(x, 2), tf.avg_pool2d(tx, 2)),
        (F.adaptive_avg_pool2d(x, 4), tf.adaptive_avg_pool2d(tx, 4)),
        (F.relu(x), tf.relu(tx)), (F.softmax(x, dim=1), tf.softmax(tx, dim=1)),
        (F.log_softmax(x, 1), tf.log_softmax(tx, 1)),
        (F.linear(x, w.reshape(18, 6)), tf.linear(tx, tw.reshape(18, 6))),
        (F.dropout(x, 0.5, training=False), tf.dropout(tx, 0.5, training=False)),
        (F.mse_loss(x, x[::-1]), tf.mse_loss(tx, tx.flip(0))),
    ]
    logits, labels = x.reshape(8, -1)[:, :5], np.arange(8) % 5
    pairs.append((F.cross_entropy(logits, labels),
                  tf.cross_entropy(torch.tensor(logits.numpy()), torch.tensor(labels))))
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_layers_round_trip_through_save_and_load(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding="same"), nn.MaxPool2d(2, ceil_mode=True),
                          nn.ConvTranspose2d(4, 2, (2, 3), stride=2, output_padding=(1, 0)),
                          nn.AvgPool2d(2, count_include_pad=False), nn.AdaptiveAvgPool2d((2, None)),
                          nn.Conv1d(2, 2, 3, groups=2), nn.MaxPool1d(2), nn.AvgPool1d(1))
    nn.save(model, tmp_path / "cnn.npz")
    loaded = nn.load(tmp_path / "cnn.npz")
    assert repr(loaded) == repr(model)
    x = ag.randn(2, 1, 5, 5)
    np.testing.assert_array_equal(loaded[:5](x).numpy(), model[:5](x).numpy())


@pytest.mark.parametrize("layer, x_shape, error, message", [
    (nn.Conv2d(3, 8, 3), (2, 4, 8, 8), ag.ShapeError,
     r"Conv2d \(3, 8, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected an input with 3 "
     r"channels, got shape \(2, 4, 8, 8\) float32"),
    (nn.Conv2d(1, 8, 5, dilation=2), (2, 1, 8, 20), ag.ShapeError,
     r"Conv2d \(1, 8, .*dilation=\(2, 2\)\): conv2d: input of shape \(2, 1, 8, 20\) is smaller "
     r"than the kernel: spatial size 8 \+ padding 0 < dilated kernel size 9"),
    (nn.Conv1d(2, 2, 3), (2, 2, 4, 4), ag.ShapeError,
     r"Conv1d \(2, 2, kernel_size=\(3,\), stride=\(1,\)\): expected a 3-D input \(N, C, L\) or a "
     r"2-D unbatched one, got shape \(2, 2, 4, 4\)"),
    (nn.ConvTranspose2d(4, 2, 3), (1, 2, 5, 5), ag.ShapeError,
     r"ConvTranspose2d \(4, 2, .*\): expected an input with 4 channels, got shape \(1, 2, 5, 5\)"),
    (nn.MaxPool2d(2, padding=2), (1, 1, 6, 6), ValueError,
     r"MaxPool2d \(kernel_size=2, .*\): max_pool2d: padding \(2, 2\) must be at most half the "
     r"kernel size \(2, 2\)"),
    (nn.AvgPool2d(4), (1, 1, 3, 8), ag.ShapeError,
     r"AvgPool2d \(kernel_size=4, .*\): avg_pool2d: input of shape \(1, 1, 3, 8\) is smaller "
     r"than the kernel"),
    (nn.MaxPool1d(2), (5,), ag.ShapeError, r"MaxPool1d .*expected a 3-D input"),
    (nn.AdaptiveAvgPool2d(2), (3, 1, 4, 4, 4), ag.ShapeError,
     r"AdaptiveAvgPool2d \(output_size=2\): expected a 4-D input \(N, C, H, W\)"),
])
def test_bad_input_names_the_layer_and_shapes(layer, x_shape, error, message):
    with pytest.raises(error, match=message):
        layer(ag.randn(*x_shape))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="Conv2d: in_channels=3 must be divisible by groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv2d: padding='same' needs stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="ConvTranspose2d: padding must be an int or a tuple"):
        nn.ConvTranspose2d(3, 4, 3, padding="same")
    with pytest.raises(ValueError, match="only padding_mode='zeros'"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="Conv1d: kernel_size must be an int or a tuple of 1"):
        nn.Conv1d(3, 4, (3, 3))
