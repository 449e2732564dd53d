"""batch_norm, layer_norm, group_norm and embedding: gradchecks in float64 over several shapes,
second derivatives, with the numba loops and the numpy twins, PyTorch's F.* and clear errors."""

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import kernels

BN_SHAPES = [(6, 3), (4, 3, 5), (2, 3, 4, 3)]


@pytest.fixture(params=[True, False], ids=["numba", "numpy_twin"])
def jit(request):
    with kernels.use_jit(request.param):
        yield request.param


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_gradcheck(shape, training, jit):
    c = shape[1]
    stats = (rand(c, seed=3), np.abs(rand(c, seed=4)) + 0.5)

    def f(x, w, b):
        mean, var = (s.copy() for s in stats)  # fresh copies: the update must not drift
        return ag.batch_norm(x, mean, var, w, b, training=training)

    assert ag.gradcheck(f, [3 * rand(*shape) + 1, rand(c, seed=1), rand(c, seed=2)])


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_second_derivatives(training):
    stats = (rand(3, seed=3), np.abs(rand(3, seed=4)) + 0.5)
    assert ag.gradgradcheck(
        lambda x, w, b: ag.batch_norm(x, *(s.copy() for s in stats), w, b, training=training),
        [rand(4, 3, 2), rand(3, seed=1), rand(3, seed=2)])


@pytest.mark.parametrize("shape, normalized", [((5, 4), (4,)), ((2, 3, 4), (3, 4)), ((6,), 6)],
                         ids=str)
def test_layer_norm_gradcheck(shape, normalized):
    trailing = (normalized,) if isinstance(normalized, int) else normalized
    assert ag.gradcheck(lambda x, w, b: ag.layer_norm(x, normalized, w, b),
                        [rand(*shape), rand(*trailing, seed=1), rand(*trailing, seed=2)])
    assert ag.gradgradcheck(lambda x: ag.layer_norm(x, normalized), [rand(*shape)])


@pytest.mark.parametrize("shape, groups", [((3, 4), 2), ((2, 6, 3), 3), ((2, 4, 2, 2), 1)],
                         ids=str)
def test_group_norm_gradcheck(shape, groups):
    c = shape[1]
    assert ag.gradcheck(lambda x, w, b: ag.group_norm(x, groups, w, b),
                        [rand(*shape), rand(c, seed=1), rand(c, seed=2)])


def test_norm_weight_of_the_right_size_but_wrong_shape_is_refused():
    # a (4, 2) weight for normalized_shape (2, 4) would scale the wrong positions (PyTorch raises)
    with pytest.raises(ag.ShapeError, match=r"layer_norm: weight must have shape \(2, 4\).*"
                                            r"got shape \(4, 2\)"):
        ag.layer_norm(rand(3, 2, 4), (2, 4), weight=rand(4, 2))
    with pytest.raises(ag.ShapeError, match=r"group_norm: bias must have shape \(6,\)"):
        ag.group_norm(rand(2, 6, 3), 3, bias=rand(6, 1))


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_gradcheck_and_padding(padding_idx):
    indices = np.array([[0, 2, 2], [4, 1, 2]])  # repeated rows accumulate
    if padding_idx is None:  # the padding row's zero gradient is by design, not d/dw
        assert ag.gradcheck(lambda w: ag.embedding(indices, w), [rand(5, 3)])
    assert ag.gradgradcheck(lambda w: ag.embedding(indices, w, padding_idx) ** 2, [rand(5, 3)])
    weight = ag.tensor(rand(5, 3), requires_grad=True)
    ag.embedding(indices, weight, padding_idx).sum().backward()
    counts = np.bincount(indices.ravel(), minlength=5).astype(float)
    if padding_idx is not None:
        counts[padding_idx] = 0
    np.testing.assert_array_equal(weight.grad.numpy(), np.repeat(counts[:, None], 3, axis=1))


@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
@pytest.mark.parametrize("momentum", [0.1, 1.0])
def test_functional_forms_match_pytorch(shape, momentum, jit):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    c = shape[1]
    x, w, b = rand(*shape), rand(c, seed=1), rand(c, seed=2)
    ours_stats = [np.zeros(c), np.ones(c)]
    theirs_stats = [torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)]
    for training in (True, False):
        ours = ag.batch_norm(x, *ours_stats, w, b, training=training, momentum=momentum)
        theirs = F.batch_norm(torch.tensor(x), *theirs_stats, torch.tensor(w), torch.tensor(b),
                              training=training, momentum=momentum)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)
        for mine, torchs in zip(ours_stats, theirs_stats):
            np.testing.assert_allclose(mine, torchs.numpy(), rtol=1e-12)
    normalized = shape[1:]
    np.testing.assert_allclose(
        ag.layer_norm(x, normalized).numpy(),
        F.layer_norm(torch.tensor(x), normalized).numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        ag.group_norm(x, 1, w, b).numpy(),
        F.group_norm(torch.tensor(x), 1, torch.tensor(w), torch.tensor(b)).numpy(),
        rtol=1e-10, atol=1e-12)


def test_errors_name_the_op_and_shapes():
    with pytest.raises(ag.ShapeError, match=r"batch_norm: running_mean must be .*\(3,\)"):
        ag.batch_norm(rand(4, 3), np.zeros(2), np.ones(2), training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        ag.batch_norm(rand(1, 3), training=True)
    with pytest.raises(ag.ShapeError, match=r"layer_norm: normalized_shape \(4,\) .*\(2, 3\)"):
        ag.layer_norm(rand(2, 3), 4)
    with pytest.raises(ag.ShapeError, match="divisible by num_groups=4"):
        ag.group_norm(rand(2, 6), 4)
    weight = ag.tensor(rand(5, 2))
    with pytest.raises(IndexError, match=r"index 5 is out of range for 5 embeddings"):
        ag.embedding([1, 5], weight)
    with pytest.raises(IndexError, match="index -1"):
        ag.embedding([-1], weight)
    with pytest.raises(ag.DTypeError, match="indices must be integers"):
        ag.embedding([1.0], weight)


def test_eval_batch_norm_gradient_uses_the_statistics_of_its_forward():
    # an eval-mode output backpropagated after a training step moved the running statistics
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 3))
    running_mean, running_var = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    weight = ag.tensor(rng.standard_normal(3), requires_grad=True)

    def weight_grad(train_step_in_between):
        mean, var = running_mean.copy(), running_var.copy()
        weight.grad = None
        out = ag.batch_norm(ag.tensor(x), mean, var, weight, None, training=False)
        if train_step_in_between:
            ag.batch_norm(ag.tensor(x + 5.0), mean, var, weight, None, training=True)
        (out * out).sum().backward()
        return weight.grad.data.copy()

    np.testing.assert_array_equal(weight_grad(True), weight_grad(False))
