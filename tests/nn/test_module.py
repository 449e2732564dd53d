"""nn.Module and nn.Parameter: registration, traversal, modes, state, freezing, name scopes."""

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn.module import NotDescribableError, module_to_config


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter([2.0])
        self.block = Block()
        self.head = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        self.not_a_weight = ag.ones(3)  # a plain tensor attribute is not registered

    def forward(self, x):
        return self.head(self.block(x) * self.scale)


def test_parameter_is_a_float32_leaf_that_requires_grad_and_copies_its_data():
    source = np.zeros(3)
    p = nn.Parameter(source)
    assert isinstance(p, ag.Tensor) and p.is_leaf and p.requires_grad
    assert p.dtype == np.float64  # numpy keeps its dtype, as ag.tensor
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert not nn.Parameter([1.0], requires_grad=False).requires_grad
    p.data[0] = 5.0
    assert source[0] == 0.0
    assert repr(nn.Parameter([1.0])).startswith("Parameter containing:\ntensor(")


def test_named_parameters_are_dotted_and_in_registration_order():
    names = [name for name, _ in Net().named_parameters()]
    assert names == ["scale", "block.fc1.weight", "block.fc1.bias", "block.fc2.weight",
                     "block.fc2.bias", "head.0.weight", "head.0.bias"]
    net = Net()
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]
    assert net.num_parameters() == 1 + 16 + 10 + 6


def test_children_and_modules():
    net = Net()
    assert [type(m).__name__ for m in net.children()] == ["Block", "Sequential"]
    names = [name for name, _ in net.named_modules()]
    assert names == ["", "block", "block.fc1", "block.act", "block.fc2", "head", "head.0",
                     "head.1"]
    assert len(list(net.modules())) == 8
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Net" and visited[0] == "Linear"


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 3
    # the state keeps both names, so its keys depend only on the structure
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_assignment_rules():
    net = Net()
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="cannot replace a Parameter"):
        net.block.fc1.weight = ag.ones((4, 3))
    with pytest.raises(TypeError, match="cannot replace a Module"):
        net.block = 3
    net.block.fc1.weight = nn.Parameter(np.ones((4, 3), np.float32))
    assert np.all(dict(net.named_parameters())["block.fc1.weight"].data == 1)
    del net.head
    assert "head" not in dict(net.named_children())
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        net.missing  # noqa: B018


def test_forgetting_super_init_gives_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Broken()


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        nn.Module()(1)


def test_train_and_eval_are_recursive():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad():
    net = Net()
    net(ag.ones((5, 3))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_is_a_copy_and_round_trips():
    ag.manual_seed(0)
    a, b = Net(), Net()
    state = a.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["scale"][0] = 99.0
    assert a.scale.data[0] == 2.0
    a.eval(), b.eval()
    x = ag.randn(4, 3)
    assert not np.allclose(a(x).data, b(x).data)
    weight = b.block.fc1.weight
    missing, unexpected = b.load_state_dict(a.state_dict())
    assert missing == [] and unexpected == []
    assert b.block.fc1.weight is weight  # copied in place: optimizers keep their references
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_strict_errors_name_the_keys_and_shapes():
    net = Net()
    state = net.state_dict()
    del state["head.0.bias"]
    state["extra.weight"] = np.zeros(2)
    with pytest.raises(RuntimeError, match=r"missing keys: \['head.0.bias'\].*"
                                           r"unexpected keys: \['extra.weight'\]"):
        net.load_state_dict(state)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["head.0.bias"] and result.unexpected_keys == ["extra.weight"]

    state = net.state_dict()
    state["block.fc1.weight"] = np.zeros((3, 4), np.float32)
    state["scale"] = np.full(1, 7.0)
    with pytest.raises(RuntimeError, match=r"shape mismatch for 'block.fc1.weight': the state "
                                           r"has \(3, 4\), the model has \(4, 3\)"):
        net.load_state_dict(state, strict=False)
    assert net.scale.data[0] == 2.0  # nothing is copied unless everything fits


def test_load_state_dict_casts_to_the_parameter_dtype_and_accepts_tensors():
    fc = nn.Linear(2, 1)
    fc.load_state_dict({"weight": ag.tensor(np.ones((1, 2))), "bias": np.zeros(1)})
    assert fc.weight.dtype == np.float32 and np.all(fc.weight.data == 1)


def test_frozen_parameters_get_no_gradient():
    net = Net()
    net.block.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == 1 + 6
    net(ag.ones((2, 3))).sum().backward()
    assert all(p.grad is None for p in net.block.parameters())
    assert net.head[0].weight.grad is not None and net.scale.grad is not None


def test_layers_run_in_name_scopes():
    net = Net()
    out = net(ag.ones((1, 3)))
    assert out.grad_fn.scope == "Net/head/Dropout_1"
    layer = out.grad_fn.inputs[0].grad_fn  # head.0: x @ W.T + b, one fused node
    assert layer.name == "linear" and layer.scope == "Net/head/Linear_0"
    scopes = {t.grad_fn.scope for t in ag.engine.topological_order(out) if t.grad_fn}
    assert {"Net/block/fc1", "Net/block/act", "Net/block/fc2", "Net"} <= scopes
    seq = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    assert seq(ag.ones((1, 2))).grad_fn.scope == "Sequential/Tanh_1"
    assert seq[1:][0].scope_name == "Tanh_1"  # slicing does not rename the layers


def test_a_failing_forward_leaves_no_name_scope_behind():
    layer = nn.Linear(3, 2)
    with pytest.raises(ag.ShapeError, match="Linear"):
        nn.Sequential(layer)(ag.ones((1, 4)))
    assert layer(ag.ones((1, 3))).grad_fn.scope == layer.scope_name  # no "Sequential/" left
    assert ag.mode.state.scopes == ()


def test_repr_is_pytorch_like():
    assert repr(Net()) == (
        "Net(\n"
        "  (block): Block(\n"
        "    (fc1): Linear(in_features=3, out_features=4, bias=True)\n"
        "    (act): ReLU()\n"
        "    (fc2): Linear(in_features=4, out_features=2, bias=True)\n"
        "  )\n"
        "  (head): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=2, bias=True)\n"
        "    (1): Dropout(p=0.5)\n"
        "  )\n"
        ")"
    )


def test_registry():
    with pytest.raises(NotDescribableError, match="Net is not registered"):
        module_to_config(Net())

    @nn.register_module(name="test_module.Unconfigured")
    class Unconfigured(nn.Module):
        pass

    with pytest.raises(NotDescribableError, match="does not define get_config"):
        module_to_config(Unconfigured())

    class Linear(nn.Module):  # another class may not take a registered name
        pass

    with pytest.raises(ValueError, match="'Linear' is already taken by nn.layers.Linear"):
        nn.register_module(Linear)
    with pytest.raises(TypeError, match="expected an nn.Module subclass"):
        nn.register_module(dict)


def test_module_code_does_not_import_the_training_code():
    import ast
    import inspect

    import nn.module

    tree = ast.parse(inspect.getsource(nn.module))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name and name.endswith("train") for name in imported)
    assert issubclass(nn.Module, nn.train.KerasMethods)
    assert issubclass(nn.Module, nn.module.ModuleBase)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, x):
            return self.fc(x)

    net = Net().compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    history = net.fit(x, y, epochs=2, verbose=0)
    assert len(history) == 2 and net.predict(x).shape == (4, 1)
    assert set(net.evaluate(x, y)) == {"loss"}
