"""BatchNorm, LayerNorm, GroupNorm, Embedding, RNN, LSTM and GRU against PyTorch: the torch
layer's state_dict is loaded into ours one to one; outputs, final states and every gradient
(input, parameters, initial states) must agree in float64, in train and eval mode."""

import numpy as np
import pytest

import autograd_core as ag
import nn

torch = pytest.importorskip("torch")


def load_from_torch(ours, theirs):
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict())
    for key, value in state.items():
        assert ours.state_dict()[key].shape == value.shape, key
    ours.load_state_dict(state)


def make_pair(name, *args, **kwargs):
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    with torch.no_grad():  # non-default affine parameters, so their gradients mean something
        for p in theirs.parameters():
            p.add_(0.3 * torch.randn_like(p))
    previous = ag.get_default_dtype()
    ag.set_default_dtype(np.float64)
    try:
        ours = getattr(nn, name)(*args, **kwargs)
    finally:
        ag.set_default_dtype(previous)
    load_from_torch(ours, theirs)
    return ours, theirs


def close(ours, theirs, what):
    np.testing.assert_allclose(np.asarray(ours), theirs.detach().numpy(), rtol=1e-9,
                               atol=1e-10, err_msg=what)


def compare_call(ours, theirs, inputs, call=lambda layer, *inputs: layer(*inputs)):
    """Run ``call(layer, *inputs)`` for both layers on float64 ``inputs``, and compare outputs
    and the gradients (inputs, parameters) of a random weighting of every output."""
    ours_in = [ag.tensor(x, requires_grad=True) for x in inputs]
    theirs_in = [torch.tensor(x, requires_grad=True) for x in inputs]
    ours_out, theirs_out = call(ours, *ours_in), call(theirs, *theirs_in)
    flat_ours, flat_theirs = flatten(ours_out), flatten(theirs_out)
    rng = np.random.default_rng(7)
    ours_loss, theirs_loss = 0, 0
    for i, (a, b) in enumerate(zip(flat_ours, flat_theirs)):
        close(a.numpy(), b, f"output {i}")
        weights = rng.standard_normal(a.shape)
        ours_loss = ours_loss + (a * weights).sum()
        theirs_loss = theirs_loss + (b * torch.tensor(weights)).sum()
    ours_loss.backward()
    theirs_loss.backward()
    for i, (a, b) in enumerate(zip(ours_in, theirs_in)):
        close(a.grad.numpy(), b.grad, f"gradient of input {i}")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        close(p.grad.numpy(), theirs_params[name].grad, f"gradient of {name}")
    ours.zero_grad()
    theirs.zero_grad()


def flatten(value):
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in flatten(item)]
    return [value]


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) * 2 + 0.5


# -- normalisation -----------------------------------------------------------------------------
@pytest.mark.parametrize("name, shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                         ("BatchNorm2d", (3, 3, 4, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_matches_pytorch(name, shape, momentum):
    ours, theirs = make_pair(name, 3, momentum=momentum)
    for step in range(3):  # several batches: the running averages must follow
        compare_call(ours, theirs, [rand(*shape, seed=step)])
        for key, value in theirs.state_dict().items():
            close(ours.state_dict()[key], value, key)
    assert ours.num_batches_tracked.item() == 3
    ours.eval()
    theirs.eval()
    compare_call(ours, theirs, [rand(*shape, seed=9)])
    for key, value in theirs.state_dict().items():
        close(ours.state_dict()[key], value, key)


@pytest.mark.parametrize("affine, track", [(False, True), (True, False), (False, False)])
def test_batch_norm_options_match_pytorch(affine, track):
    ours, theirs = make_pair("BatchNorm1d", 3, affine=affine, track_running_stats=track)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        compare_call(ours, theirs, [rand(5, 3, 2)])


@pytest.mark.parametrize("args, shape", [(((4,),), (3, 4)), (((2, 4),), (5, 2, 4)),
                                         ((4, 1e-3, True, False), (2, 3, 4)),
                                         ((4, 1e-5, False), (2, 4))])
def test_layer_norm_matches_pytorch(args, shape):
    compare_call(*make_pair("LayerNorm", *args), [rand(*shape)])


@pytest.mark.parametrize("groups, affine, shape", [(2, True, (3, 4, 5)), (4, False, (2, 4)),
                                                   (1, True, (2, 4, 3, 3))])
def test_group_norm_matches_pytorch(groups, affine, shape):
    compare_call(*make_pair("GroupNorm", groups, 4, affine=affine), [rand(*shape)])


@pytest.mark.parametrize("padding_idx", [None, 0, -2])
def test_embedding_matches_pytorch(padding_idx):
    ours, theirs = make_pair("Embedding", 7, 3, padding_idx=padding_idx)
    indices = np.array([[0, 5, 5, 2], [6, 1, 0, 5]])
    compare_call(ours, theirs, [], lambda layer: layer(
        torch.tensor(indices) if isinstance(layer, torch.nn.Module) else indices))


def test_embedding_padding_row_starts_at_zero():
    emb = nn.Embedding(5, 4, padding_idx=3)
    assert np.all(emb.weight.numpy()[3] == 0) and np.any(emb.weight.numpy()[2] != 0)


# -- recurrent ---------------------------------------------------------------------------------
RECURRENT_OPTIONS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
    {"bias": False, "batch_first": True},
]


@pytest.mark.parametrize("options", RECURRENT_OPTIONS, ids=str)
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("initial", [False, True], ids=["zero_state", "given_state"])
def test_recurrent_layers_match_pytorch(name, options, initial):
    ours, theirs = make_pair(name, 3, 4, **options)
    layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    batch, steps = 2, 5
    x = rand(batch, steps, 3) if options.get("batch_first") else rand(steps, batch, 3)
    inputs = [x]
    if initial:
        states = [rand(layers, batch, 4, seed=s) for s in (1, 2)][:2 if name == "LSTM" else 1]
        inputs += states
    if name == "LSTM" and initial:
        compare_call(ours, theirs, inputs, lambda layer, x, h, c: layer(x, (h, c)))
    else:
        compare_call(ours, theirs, inputs)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_recurrent_unbatched_and_relu_match_pytorch(name):
    options = {"nonlinearity": "relu"} if name == "RNN" else {}
    ours, theirs = make_pair(name, 3, 4, num_layers=2, bidirectional=True, **options)
    compare_call(ours, theirs, [rand(6, 3)])


def test_recurrent_dropout_acts_between_layers_only_in_training():
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = ag.tensor(rand(5, 2, 3))
    ag.manual_seed(0)
    first, _ = lstm(x)
    ag.manual_seed(1)
    second, _ = lstm(x)
    assert not np.allclose(first.numpy(), second.numpy())
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].numpy(), lstm(x)[0].numpy())
    single = nn.LSTM(3, 4, num_layers=1, dropout=0.5)  # no layer after the last: no dropout
    np.testing.assert_array_equal(single(x)[0].numpy(), single(x)[0].numpy())


def test_default_initialisation_bounds_and_shapes():
    gru = nn.GRU(3, 16, num_layers=2, bidirectional=True)
    reference = torch.nn.GRU(3, 16, num_layers=2, bidirectional=True)
    assert {k: v.shape for k, v in gru.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    for p in gru.parameters():
        assert np.abs(p.numpy()).max() <= 0.25 and p.dtype == np.float32
    bn, ln = nn.BatchNorm2d(3), nn.LayerNorm((2, 3))
    assert [np.all(p.numpy() == v) for p, v in zip(bn.parameters(), (1, 0))] == [True, True]
    assert list(ln.state_dict()) == ["weight", "bias"] and ln.weight.shape == (2, 3)


def test_layers_round_trip_through_save(tmp_path):
    model = nn.Sequential(nn.BatchNorm1d(3), nn.LayerNorm(3), nn.GroupNorm(1, 3))
    model(ag.randn(4, 3))
    nn.save(model, tmp_path / "m.nnz")
    loaded = nn.load(tmp_path / "m.nnz")
    for (key, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=key)
    previous = ag.get_default_dtype()
    ag.set_default_dtype(np.float64)
    try:
        wide = nn.BatchNorm1d(3)
    finally:
        ag.set_default_dtype(previous)
    nn.save(wide, tmp_path / "wide.nnz")
    assert nn.load(tmp_path / "wide.nnz").running_mean.dtype == np.float64  # buffers keep dtype
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    nn.save(lstm, tmp_path / "lstm.nnz")
    assert nn.load(tmp_path / "lstm.nnz").get_config() == lstm.get_config()


def test_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ag.ShapeError, match=r"BatchNorm1d \(3,.*C=3, got shape \(4, 5\)"):
        nn.BatchNorm1d(3)(ag.randn(4, 5))
    with pytest.raises(ag.ShapeError, match=r"BatchNorm2d.*\(N, C, H, W\).*\(4, 3\)"):
        nn.BatchNorm2d(3)(ag.randn(4, 3))
    with pytest.raises(ag.ShapeError, match=r"LayerNorm.*trailing dimensions are \(5,\)"):
        nn.LayerNorm(5)(ag.randn(4, 3))
    with pytest.raises(ag.ShapeError, match=r"GroupNorm.*C=6, got shape \(2, 4\)"):
        nn.GroupNorm(2, 6)(ag.randn(2, 4))
    with pytest.raises(ValueError, match="divisible by num_groups=4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(IndexError, match=r"Embedding \(4, 2\): .*index 4 is out of range"):
        nn.Embedding(4, 2)(np.array([1, 4]))
    with pytest.raises(ag.ShapeError, match=r"LSTM \(3, 4\): .*input_size=3; got shape "
                                            r"\(2, 5, 7\)"):
        nn.LSTM(3, 4)(ag.randn(2, 5, 7))
    with pytest.raises(ag.ShapeError, match=r"GRU .*got shape \(1, 2, 5, 3\)"):
        nn.GRU(3, 4)(ag.randn(1, 2, 5, 3))
    with pytest.raises(ag.ShapeError, match=r"RNN .*h_0 of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        nn.RNN(3, 4, num_layers=2)(ag.randn(5, 2, 3), ag.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match="pair"):
        nn.LSTM(3, 4)(ag.randn(5, 2, 3), ag.zeros((1, 2, 4)))


def test_embedding_padding_idx_must_be_an_integer():
    assert nn.Embedding(5, 2, padding_idx=np.int64(-1)).padding_idx == 4
    with pytest.raises(TypeError, match="padding_idx must be an integer"):
        nn.Embedding(5, 2, padding_idx=1.5)  # was silently row 1
