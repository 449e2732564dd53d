"""vjp, jvp, jacobian, hessian, hvp: against finite differences, and against
torch.autograd.functional on the same functions when PyTorch is installed."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ag

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 3))
Y = RNG.normal(size=(3, 2))
V = RNG.normal(size=(3,))


def elementwise(m):
    return lambda x: m.tanh(x) * m.exp(x)


def two_in_two_out(m):
    return lambda x, y: (m.tanh(x @ y), (x * x).sum() * y)


def scalar(m):
    return lambda x, y: (m.tanh(x @ y) ** 2).sum() + (x * x * x).sum()


def as_ag(*arrays):
    return tuple(ag.tensor(a) for a in arrays)


def numbers(result):
    """Nested tuples of tensors (ours or torch's) as nested tuples of numpy arrays."""
    if isinstance(result, (tuple, list)):
        return tuple(numbers(r) for r in result)
    return result.detach().numpy() if hasattr(result, "detach") else np.asarray(result)


def assert_close(got, want) -> None:
    got, want = numbers(got), numbers(want)
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_close(g, w)
    else:
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


def numeric_jacobian(f, arrays, eps=1e-6):
    """[output][input] central-difference blocks of shape output.shape + input.shape."""
    def outputs(values):
        result = f(*as_ag(*values))
        return [o.numpy() for o in (result if isinstance(result, tuple) else (result,))]

    base = outputs(arrays)
    blocks = [[np.zeros(o.shape + a.shape) for a in arrays] for o in base]
    for i, a in enumerate(arrays):
        for idx in np.ndindex(a.shape):
            plus, minus = [x.copy() for x in arrays], [x.copy() for x in arrays]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            for k, (hi, lo) in enumerate(zip(outputs(plus), outputs(minus))):
                blocks[k][i][(Ellipsis, *idx)] = (hi - lo) / (2 * eps)
    return blocks


def test_jacobian_matches_finite_differences_in_every_form() -> None:
    expected = numeric_jacobian(two_in_two_out(ag), [X, Y])
    got = ag.jacobian(two_in_two_out(ag), as_ag(X, Y))
    for k in range(2):
        for i in range(2):
            np.testing.assert_allclose(got[k][i].numpy(), expected[k][i], atol=1e-6)
    single = ag.jacobian(elementwise(ag), ag.tensor(V))
    np.testing.assert_allclose(single.numpy(), numeric_jacobian(elementwise(ag), [V])[0][0],
                               atol=1e-6)
    assert isinstance(single, ag.Tensor) and not single.requires_grad


def test_vjp_jvp_hvp_agree_with_the_jacobian_and_hessian() -> None:
    J = ag.jacobian(elementwise(ag), ag.tensor(V)).numpy()
    u = RNG.normal(size=3)
    out, vjp = ag.vjp(elementwise(ag), ag.tensor(V), ag.tensor(u))
    np.testing.assert_allclose(vjp.numpy(), u @ J)
    np.testing.assert_allclose(out.numpy(), np.tanh(V) * np.exp(V))
    _, jvp = ag.jvp(elementwise(ag), ag.tensor(V), ag.tensor(u))
    np.testing.assert_allclose(jvp.numpy(), J @ u)
    H = ag.hessian(scalar(ag), as_ag(X, Y))
    directions = (RNG.normal(size=X.shape), RNG.normal(size=Y.shape))
    value, hv = ag.hvp(scalar(ag), as_ag(X, Y), as_ag(*directions))
    for i in range(2):
        want = sum(np.tensordot(H[i][j].numpy(), directions[j], axes=directions[j].ndim)
                   for j in range(2))
        np.testing.assert_allclose(hv[i].numpy(), want, rtol=1e-10)
    assert value.shape == ()


def test_hessian_matches_finite_differences_of_the_gradient() -> None:
    def gradient(x, y):
        return ag.grad(scalar(ag), argnums=(0, 1))(x, y)

    expected = numeric_jacobian(gradient, [X, Y])
    got = ag.hessian(scalar(ag), as_ag(X, Y))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(got[i][j].numpy(), expected[i][j], atol=1e-6)
    np.testing.assert_allclose(got[0][1].numpy(), got[1][0].numpy().transpose(2, 3, 0, 1))


def test_create_graph_keeps_results_differentiable() -> None:
    x = ag.tensor(V, requires_grad=True)
    _, g = ag.vjp(elementwise(ag), x, ag.tensor(np.ones(3)), create_graph=True)
    assert g.requires_grad
    (second,) = ag.engine.grad(g.sum(), [x])
    d1 = np.exp(V) * (np.tanh(V) + 1 - np.tanh(V) ** 2)  # f' of tanh(x) e^x
    t = np.tanh(V)
    d2 = np.exp(V) * (t + 2 * (1 - t**2) - 2 * t * (1 - t**2))
    np.testing.assert_allclose(g.numpy(), d1)
    np.testing.assert_allclose(second.numpy(), d2)
    _, plain = ag.vjp(elementwise(ag), x, ag.tensor(np.ones(3)))
    assert not plain.requires_grad


def test_strict_and_bad_arguments() -> None:
    def ignores_y(x, y):
        return x * 2

    _, grads = ag.vjp(ignores_y, as_ag(V, V), ag.tensor(np.ones(3)))
    np.testing.assert_array_equal(grads[1].numpy(), 0)
    for call in (lambda: ag.vjp(ignores_y, as_ag(V, V), ag.tensor(np.ones(3)), strict=True),
                 lambda: ag.jacobian(ignores_y, as_ag(V, V), strict=True),
                 lambda: ag.jvp(lambda x: ag.tensor(np.ones(2)), ag.tensor(V), ag.tensor(V),
                                strict=True)):
        with pytest.raises(RuntimeError, match="independent of"):
            call()
    with pytest.raises(ag.ShapeError, match="v may be omitted"):
        ag.vjp(elementwise(ag), ag.tensor(V))
    with pytest.raises(ag.ShapeError, match=r"v has shapes \[\(2,\)\]"):
        ag.jvp(elementwise(ag), ag.tensor(V), ag.tensor(np.ones(2)))
    with pytest.raises(ag.ShapeError, match="single-element"):
        ag.hessian(elementwise(ag), ag.tensor(V))
    with pytest.raises(TypeError, match="Tensor or a tuple of Tensors"):
        ag.jacobian(lambda x: 3.0, ag.tensor(V))


@pytest.mark.parametrize("name", ["vjp", "jvp", "jacobian", "hessian", "hvp"])
def test_against_torch_autograd_functional(name) -> None:
    torch = pytest.importorskip("torch")
    tf = torch.autograd.functional
    as_torch = lambda *arrays: tuple(torch.tensor(a) for a in arrays)  # noqa: E731
    out_vs = (RNG.normal(size=(2, 2)), RNG.normal(size=(3, 2)))
    in_vs = (RNG.normal(size=X.shape), RNG.normal(size=Y.shape))
    if name == "vjp":
        cases = [(two_in_two_out, (X, Y), out_vs), (elementwise, V, V)]
    elif name == "jvp":
        cases = [(two_in_two_out, (X, Y), in_vs), (elementwise, V, V)]
    elif name == "hvp":
        cases = [(scalar, (X, Y), in_vs)]
    else:
        cases = [(two_in_two_out if name == "jacobian" else scalar, (X, Y), None)]
        if name == "jacobian":
            cases.append((elementwise, V, None))
    for make, inputs, v in cases:
        ours_in = as_ag(*inputs) if isinstance(inputs, tuple) else ag.tensor(inputs)
        torch_in = as_torch(*inputs) if isinstance(inputs, tuple) else torch.tensor(inputs)
        extra_ours, extra_torch = (), ()
        if v is not None:
            extra_ours = (as_ag(*v) if isinstance(v, tuple) else ag.tensor(v),)
            extra_torch = (as_torch(*v) if isinstance(v, tuple) else torch.tensor(v),)
        got = getattr(ag, name)(make(ag), ours_in, *extra_ours)
        want = getattr(tf, name)(make(torch), torch_in, *extra_torch)
        assert_close(got, want)
