"""Buffers, forward hooks, ModuleList, ModuleDict and Unflatten behave as in PyTorch."""

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn.containers import ModuleDict, ModuleList, Unflatten


class WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.register_buffer("count", np.zeros((), dtype=np.int64))
        self.register_buffer("scratch", np.ones(4), persistent=False)


def test_buffers_are_state_but_not_parameters():
    model = nn.Sequential(WithBuffers())
    # own parameters and buffers before the children's, as PyTorch orders them
    assert list(model.state_dict()) == ["0.count", "0.fc.weight", "0.fc.bias"]
    assert [name for name, _ in model.named_buffers()] == ["0.count", "0.scratch"]
    assert len(list(model.parameters())) == 2
    inner = model[0]
    assert isinstance(inner.count, ag.Tensor) and not inner.count.requires_grad
    state = model.state_dict()
    state["0.count"] = np.asarray(7)
    model.load_state_dict(state)
    assert inner.count.item() == 7
    inner.count = np.asarray(3)          # assigning to a buffer name replaces the buffer
    assert inner.count.item() == 3 and "count" in inner._buffers
    with pytest.raises(RuntimeError, match="missing keys"):
        model.load_state_dict({k: v for k, v in state.items() if k != "0.count"})
    del inner.scratch
    assert [name for name, _ in model.named_buffers()] == ["0.count"]


def test_buffer_name_clashes_and_bad_values():
    layer = nn.Linear(2, 2)
    with pytest.raises(KeyError, match="already a parameter"):
        layer.register_buffer("weight", np.zeros(2))
    with pytest.raises(KeyError, match="contain no"):
        layer.register_buffer("a.b", np.zeros(2))
    with pytest.raises(TypeError, match="must hold numbers"):
        layer.register_buffer("text", np.array(["a"]))


def test_forward_hooks_call_conventions_and_removal():
    fc = nn.Linear(3, 2)
    calls = []
    pre = fc.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    post = fc.register_forward_hook(lambda m, args, out: calls.append((m, args, out)))
    x = ag.ones((1, 3))
    out = fc(x)
    module, args, seen = calls[0]
    assert module is fc and seen is out
    np.testing.assert_allclose(args[0].numpy(), 2 * np.ones((1, 3)))
    replace = fc.register_forward_hook(lambda m, args, out: out * 0)
    assert np.all(fc(x).numpy() == 0)
    for handle in (pre, post, replace):
        handle.remove()
    handle.remove()  # removing twice is harmless, as in PyTorch
    np.testing.assert_allclose(fc(x).numpy(), (x @ fc.weight.T + fc.bias).numpy())
    assert len(calls) == 2
    with fc.register_forward_pre_hook(lambda m, args: args[0] * 0):  # one value, not a tuple
        np.testing.assert_allclose(fc(x).numpy(), np.broadcast_to(fc.bias.numpy(), (1, 2)))


def test_module_list_behaves_like_a_list():
    layers = ModuleList([nn.Linear(2, 2), nn.ReLU()])
    layers.append(nn.Linear(2, 3))
    layers.insert(1, nn.Tanh())
    layers += [nn.Identity()]
    assert [type(m).__name__ for m in layers] == ["Linear", "Tanh", "ReLU", "Linear", "Identity"]
    assert list(layers.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert isinstance(layers[-2], nn.Linear) and len(layers[1:3]) == 2
    del layers[0]
    assert list(layers.state_dict()) == ["2.weight", "2.bias"] and len(layers) == 4
    layers[0] = nn.Linear(1, 1)
    assert len(list(layers.parameters())) == 4
    with pytest.raises(IndexError, match="out of range for 4"):
        layers[4]
    with pytest.raises(TypeError, match="must be an nn.Module"):
        layers.append(3)


def test_module_dict_behaves_like_a_dict():
    heads = ModuleDict({"a": nn.Linear(2, 1)})
    heads["b"] = nn.Linear(2, 3)
    heads.update([("c", nn.ReLU())])
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert isinstance(heads.pop("c"), nn.ReLU) and list(heads.keys()) == ["a", "b"]
    with pytest.raises(KeyError, match="no module under 'z'"):
        heads["z"]
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []


def test_containers_round_trip_through_save(tmp_path):
    model = nn.Sequential(ModuleList([nn.Linear(2, 2)]), ModuleDict({"x": nn.Linear(2, 1)}),
                          Unflatten(1, (1, 1)))
    nn.save(model, tmp_path / "m.nnz")
    loaded = nn.load(tmp_path / "m.nnz")
    for (k1, v1), (k2, v2) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k1 == k2 and np.array_equal(v1, v2)


def test_unflatten():
    x = ag.arange(24).reshape(2, 12)
    assert Unflatten(1, (3, 4))(x).shape == (2, 3, 4)
    assert Unflatten(-1, (2, -1))(x).shape == (2, 2, 6)
    with pytest.raises(ag.ShapeError, match=r"size 12 .*\(5, 2\)"):
        Unflatten(1, (5, 2))(x)


def test_state_dict_keys_match_pytorch():
    torch = pytest.importorskip("torch")

    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
            self.heads = ModuleDict({"out": nn.Linear(2, 1)})

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)])
            self.heads = torch.nn.ModuleDict({"out": torch.nn.Linear(2, 1)})

    assert list(Ours().state_dict()) == list(Theirs().state_dict())


def test_module_list_takes_numpy_integers_and_refuses_other_indices():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    assert layers[np.int64(1)] is layers[-1]
    with pytest.raises(TypeError, match="ModuleList: indices must be integers"):
        layers[1.0]
    with pytest.raises(IndexError, match="out of range"):
        layers[2]
