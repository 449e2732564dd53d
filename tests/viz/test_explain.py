"""ag.explain: chain-rule steps with numbers for scalars, shapes and norms for tensors."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from viz_examples import small_mlp, worked_example

import autograd_core as ag
from autograd_core.viz.explain import Explanation
from autograd_core.viz.graph import collect, local_derivative

WORKED = """\
Backward pass of g (chain rule, from g back to the inputs):
dg/dg = 1
step 1: g = p * z
  dg/dp = z = -3
  dg/dz = p = 4
step 2: p = x + y
  dg/dx = dg/dp * dp/dx = -3 * 1 = -3
  dg/dy = dg/dp * dp/dy = -3 * 1 = -3"""


def test_worked_example_before_and_after_backward():
    x, y, z, p, g = worked_example()
    text = ag.explain(g)
    assert isinstance(text, Explanation) and str(text) == WORKED
    assert x.grad is None and p.grad is None  # explaining does not touch .grad
    g.backward()                               # ... nor free the graph
    assert str(ag.explain(g)) == WORKED        # freed scalar graph: redone from the rules
    assert "<pre>" in text._repr_html_()


def test_fan_out_sums_one_term_per_use_and_formulas_are_substituted():
    a = ag.tensor(2.0, requires_grad=True, name="a")
    b = ag.tensor(-1.5, requires_grad=True, name="b")
    t = (a * b).tanh()
    t.name = "t"
    out = a * a + t
    text = str(ag.explain(out))
    assert "step 1: out = t1 + t\n  dout/dt1 = 1\n  dout/dt = 1\n" in text
    assert "dout/dt2 = dout/dt * dt/dt2 = dout/dt * (1 - t^2) = 1 * 0.009866 = 0.009866" in text
    assert ("dout/da = dout/dt1 * dt1/da + dout/dt1 * dt1/da + dout/dt2 * dt2/da = "
            "dout/dt1 * a + dout/dt1 * a + dout/dt2 * b = 1 * 2 + 1 * 2 + 0.009866 * (-1.5) "
            "= 3.985") in text
    (expected,) = ag.engine.grad(out, [a])
    assert abs(expected.item() - 3.985) < 1e-3


def test_unnamed_values_get_generated_names_and_constants_their_value():
    x = ag.tensor(2.0, requires_grad=True)
    text = str(ag.explain((x * 3.0).exp()))
    assert "step 1: out = exp(t2)\n  dout/dt2 = out = 403.4" in text
    assert "step 2: t2 = t1 * 3\n  dout/dt1 = dout/dt2 * dt2/dt1 = 403.4 * 3 = 1210" in text


def test_tensor_graph_reports_shapes_and_norms_in_scopes():
    loss, params = small_mlp()
    text = str(ag.explain(loss))
    grads = ag.engine.grad(loss, params)
    norm = np.linalg.norm(grads[0].data)
    assert f"dloss/dW1 = X^T @ dloss/dt1: shape (4, 6), norm {norm:.4g}" in text
    assert "@ W3   [mlp/fc3]" in text
    assert text.index("dloss/dW3") < text.index("dloss/dW1")  # backward order


def test_freed_tensor_graph_is_narrated_as_before_backward():
    loss, _ = small_mlp()
    before = str(ag.explain(loss))
    loss.backward()
    assert str(ag.explain(loss)) == before  # each op rerun on its inputs' values
    assert "dloss/dW1 = X^T @ dloss/dt1: shape (4, 6), norm" in before


def test_freed_graph_says_what_it_could_not_redo_and_keeps_what_grad_holds():
    loss, params = small_mlp()
    dropped = ag.dropout(loss._node.inputs[0], 0.5)  # the mask cannot be drawn again
    dropped.name = "d"
    out = (dropped**2).mean()
    out.backward()
    text = str(ag.explain(out))
    assert "graph was freed" in text and "retain_graph=True" in text
    assert "unknown (graph freed)" in text and "dout/dd = " in text
    assert "dout/dW1 = X^T @ dout/dt1: shape (4, 6), norm" in text  # .grad of a leaf


def test_no_graph_is_said_plainly():
    assert "no backward pass" in str(ag.explain(ag.tensor(1.0)))


ONE_INPUT = ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "neg"]


@settings(max_examples=25, deadline=None)
@given(st.floats(0.1, 3.0), st.floats(-2.0, 2.0).filter(lambda v: abs(v) > 0.1))
def test_local_derivative_rules_agree_with_the_ops_backward(a_value, b_value):
    a = ag.tensor(np.float64(a_value), requires_grad=True, name="a")
    b = ag.tensor(np.float64(b_value), requires_grad=True, name="b")
    outputs = [a + b, a - b, a * b, a / b, a**b, -a] + \
        [getattr(ag, name)(a) for name in ONE_INPUT if name != "neg"]
    for out in outputs:
        view = collect(out)
        node = out.grad_fn
        engine_grads = node.backward(np.ones_like(out.data), *node.saved_values())
        engine_grads = engine_grads if isinstance(engine_grads, tuple) else (engine_grads,)
        for index, grad in enumerate(engine_grads):
            formula, value = local_derivative(view, out, index)
            assert np.isclose(value, float(grad), rtol=1e-9, atol=1e-12), (node.name, formula)


def test_ops_without_a_formula_take_their_slope_from_their_backward():
    a = ag.tensor(2.0, requires_grad=True, name="a")
    b = ag.tensor(-1.5, requires_grad=True, name="b")
    text = str(ag.explain(ag.maximum(ag.softplus(a), b) * 2))
    assert "dout/dt1 = dout/dt2 * dt2/dt1 = 2 * 1 = 2" in text
    assert "dout/da = dout/dt1 * dt1/da = dout/dt1 * softplus'(a) = 2 * 0.8808 = 1.762" in text


def test_small_tensors_are_narrated_with_their_numbers():
    v = ag.tensor([1.0, 2.0], requires_grad=True, name="v")
    w = (v * v).sum()
    w.name = "w"
    text = str(ag.explain(w))
    assert "dw/dt1 = 1 copied to every element summed = [1, 1]" in text
    assert "dw/dv = dw/dt1 * v + dw/dt1 * v = [2, 4]" in text


def test_matrix_ops_are_narrated_with_their_rule_and_broadcasting_is_called_out():
    loss, params = small_mlp(batch=2)
    text = str(ag.explain(loss))
    assert "dloss/dt6 = dloss/dt7 @ W3^T = [[" in text
    assert "dloss/dW3 = t6^T @ dloss/dt7: shape (6, 3), norm" in text
    assert "dloss/db3 = (dloss/dt8 summed over the batch axis 0) = [" in text
    assert "dloss/dt5 = dloss/dt6 * [t5 > 0] = [[" in text
    (db3,) = ag.engine.grad(loss, [params[5]])
    assert f"= [{', '.join(f'{v:.4g}' for v in db3.data)}]" in text


def test_linear_layers_are_narrated_with_the_weight_rule():
    import nn

    ag.manual_seed(0)
    layer = nn.Linear(3, 2, activation="relu")
    x = ag.randn(4, 3)
    x.name = "x"
    text = str(ag.explain(layer(x).mean()))
    assert "dout/dLinear.weight = (dout/dt1 * relu')^T @ x = [[" in text or \
        "dout/dweight = (dout/dt1 * relu')^T @ x = [[" in text
    assert "(dout/dt1 * relu') summed over the batch axis 0 = [" in text
