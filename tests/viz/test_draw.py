"""ag.draw: value and op nodes, styles, scopes, and that drawing never changes the graph."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from viz_examples import small_mlp, svg_texts, worked_example

import autograd_core as ag
from autograd_core.viz import Picture
from autograd_core.viz.graph import collect, known_gradients


def edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^\t(\w+) -> (\w+)", source, flags=re.MULTILINE)


def test_worked_example_shows_values_ops_and_gradients():
    *_, g = worked_example(backward=True)
    picture = ag.draw(g)
    assert isinstance(picture, Picture)
    texts = svg_texts(picture.pipe())  # svg by default
    for expected in ["x", "y", "z", "p", "g", "data 1", "data 3", "data -3", "data 4",
                     "data -12", "grad -3", "grad 4", "grad 1", "+", "*"]:
        assert expected in texts, expected
    assert texts.count("grad -3") == 3  # x, y and the retained p


def test_before_backward_no_gradients_and_nothing_changes():
    x, y, z, p, g = worked_example()
    assert not any("grad" in t for t in svg_texts(ag.draw(g).pipe("svg")))
    all_grads = svg_texts(ag.draw(g, show_grad="all").pipe("svg"))
    assert all_grads.count("grad -3") == 3 and "grad 4" in all_grads
    assert x.grad is None and p.grad is None  # computed aside, not written to .grad
    g.backward()  # the graph was not freed by drawing it
    assert x.grad.item() == -3.0 and p.grad.item() == -3.0


def test_value_used_twice_gets_two_edges():
    x = ag.tensor(2.0, requires_grad=True, name="x")
    source = ag.draw(x * x).source
    x_node = re.search(r"(v\d+) \[label=<<table[^\n]*<b>x</b>", source).group(1)
    assert [tail for tail, head in edges(source) if head.startswith("op")] == [x_node, x_node]


def test_leaves_constants_and_output_are_set_apart():
    x = ag.tensor(2.0, requires_grad=True, name="x")
    data = ag.tensor(np.ones(3), name="data")
    out = (x * data * 3.0).sum()
    source = ag.draw(out).source
    assert '<td bgcolor="#cfe2ff"><b>x</b>' in source           # leaf requiring grad: blue
    assert 'style="dashed"' in source and "<b>data</b>" in source  # named constant: dashed
    assert re.search(r'label=3 .*fillcolor="#e9ecef"', source)     # the number 3: grey chip
    assert "penwidth=2.5" in source and '<td bgcolor="#ffd8a8"><b>out</b>' in source


def test_large_arrays_show_shape_and_gradient_norm_small_ones_their_values():
    w = ag.tensor(np.ones((5, 5)), requires_grad=True, name="W")
    b = ag.tensor([1.0, -2.0], requires_grad=True, name="b")
    loss = (w * 2.0).sum() + (b * b).sum()
    loss.backward()
    source = ag.draw(loss).source
    texts = svg_texts(ag.draw(loss).pipe("svg"))
    assert "(5, 5) float64" in source             # shape, and the dtype when not float32
    assert "‖grad‖ = 10" in texts                  # ||2 * ones(5, 5)|| = 10
    assert "data [1, -2]" in texts and "grad [2, -4]" in texts
    assert "(5, 5)" not in ag.draw(loss, show_shapes=False).source
    assert "data" not in " ".join(svg_texts(ag.draw(loss, show_data=False).pipe("svg")))


def test_op_names_and_symbols_and_first_operand_first():
    a = ag.tensor(3.0, requires_grad=True, name="a")
    b = ag.tensor(2.0, requires_grad=True, name="b")
    picture = ag.draw(((a - b) / b).exp().relu())
    assert {"-", "/", "exp", "relu"} <= set(svg_texts(picture.pipe("svg")))
    assert "ordering=in" in picture.source and 'tooltip="t1 = a - b"' in picture.source
    a_node, b_node = (re.search(rf"(v\d+) \[label=<<table[^\n]*<b>{n}</b>", picture.source)
                      .group(1) for n in "ab")
    sub = re.search(r'(op\d+) \[label="-"', picture.source).group(1)
    assert [t for t, h in edges(picture.source) if h == sub] == [a_node, b_node]


def test_name_scopes_become_nested_clusters():
    loss, _ = small_mlp()
    loss.backward()
    picture = ag.draw(loss)
    assert "subgraph cluster_mlp {" in picture.source
    assert "subgraph \"cluster_mlp/fc2\"" in picture.source
    texts = svg_texts(picture.pipe("svg"))
    assert {"mlp", "fc1", "fc2", "fc3", "W1", "b3", "@", "relu"} <= set(texts)
    # parameters are drawn inside the box of the layer that uses them
    fc1 = picture.source.split("subgraph \"cluster_mlp/fc1\"")[1].split("}")[0]
    assert "<b>W1</b>" in fc1 and "<b>X</b>" not in fc1


def test_collapse_scopes_draws_each_layer_as_one_box():
    loss, _ = small_mlp()
    loss.backward()
    collapsed = ag.draw(loss, collapse_scopes=True)
    texts = svg_texts(collapsed.pipe("svg"))
    assert "mlp/fc1" in texts and "matmul -> add -> relu" in texts
    assert any(t.startswith("W1 (4, 6)") and "‖grad‖" in t for t in texts)
    # X -> fc1 -> fc2 -> fc3 -> ** -> t -> mean -> loss, plus the constant 2 -> **
    assert len(edges(collapsed.source)) == 8


def test_bad_show_grad_is_refused():
    *_, g = worked_example()
    with pytest.raises(ValueError, match="show_grad"):
        ag.draw(g, show_grad="yes")


def test_tensor_without_graph_is_one_value():
    t = ag.tensor([1.0, 2.0], name="t")
    assert svg_texts(ag.draw(t).pipe("svg"))[:2] == ["t", "(2,)"]


def test_shared_names_are_told_apart_by_scope_and_the_output_stays_visible():
    ag.manual_seed(0)
    h = ag.randn(2, 3)
    for layer in ("fc1", "fc2"):
        w = ag.randn(3, 3, requires_grad=True)
        w.name = "weight"
        with ag.name_scope(layer):
            h = h @ w
    with ag.name_scope("loss"):
        loss = h.sum()
    assert "dout/dfc1.weight" in str(ag.explain(loss))
    detailed = svg_texts(ag.draw(loss).pipe("svg"))
    assert detailed.count("weight") == 2  # inside its layer's box the short name is enough
    collapsed = ag.draw(loss, collapse_scopes=True)
    texts = svg_texts(collapsed.pipe("svg"))
    assert {"fc1", "fc2", "loss", "out"} <= set(texts)  # the output outside the "loss" box
    assert "subgraph" not in collapsed.source


def test_layout_rule_small_graphs_left_to_right_layered_or_deep_top_to_bottom():
    *_, g = worked_example()
    assert "rankdir=LR" in ag.draw(g).source
    assert "rankdir=TB" in ag.draw(small_mlp()[0]).source          # name scopes (layers)
    x = ag.tensor(0.5, requires_grad=True, name="x")
    deep = x.exp().tanh().exp().tanh().exp()
    assert "rankdir=TB" in ag.draw(deep).source                     # a chain of 5 ops
    assert "rankdir=LR" in ag.draw(small_mlp()[0], rankdir="LR").source
    # top to bottom, box names sit at the top right, away from the main path, which skips a
    # rank where it enters a layer's box (the parameters sit there): the boxes stack
    layered = ag.draw(small_mlp()[0]).source
    assert layered.count("labeljust=r") == 4 and layered.count("minlen=2") == 3
    with pytest.raises(ValueError, match="rankdir"):
        ag.draw(g, rankdir="sideways")


def test_detail_policy_one_number_format_and_narrow_columns():
    column = ag.tensor(np.arange(1.0, 5.0).reshape(4, 1) / 3, requires_grad=True, name="c")
    big = ag.tensor(np.full((4, 4), 2.0), name="B")
    out = (column * 2.0).sum() + (big * column).sum()
    out.backward()
    texts = svg_texts(ag.draw(out).pipe("svg"))
    assert "data [0.3333, 0.6667, 1, 1.333]ᵀ" in texts                   # a column stays narrow
    assert "grad [10, 10, 10, 10]ᵀ" in texts
    assert "mean 2, std 0" in texts                                        # 16 elements: summary
    summary = svg_texts(ag.draw(out, detail="summary").pipe("svg"))
    assert "mean 0.8333, std 0.3727" in summary and "‖grad‖ = 20" in summary
    values = svg_texts(ag.draw(out, detail="values").pipe("svg"))
    assert "data [[2, 2, 2, 2]," in values
    with pytest.raises(ValueError, match="detail"):
        ag.draw(out, detail="everything")
    width = float(ET.fromstring(ag.draw(out).pipe("svg")).get("width").rstrip("pt"))
    assert width < 1000  # no box thousands of points wide


def test_intermediate_gradients_shown_by_default_on_small_graphs_after_backward():
    x = ag.tensor(2.0, requires_grad=True, name="x")
    t = x * x
    t.name = "t"
    out = t + 1.0
    assert "grad" not in " ".join(svg_texts(ag.draw(out).pipe("svg")))  # before backward
    out.backward(retain_graph=True)
    texts = svg_texts(ag.draw(out).pipe("svg"))
    assert texts.count("grad 1") == 2 and "grad 4" in texts              # t, out and x
    assert svg_texts(ag.draw(out, show_grad=True).pipe("svg")).count("grad 1") == 1
    assert t.grad is None


def _layer_loss() -> tuple[ag.Tensor, ...]:
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((3, 4)), name="x")
    w = ag.tensor(rng.standard_normal((4, 2)), requires_grad=True, name="w")
    b = ag.tensor(np.zeros(2), requires_grad=True, name="b")
    hidden = (x @ w + b).tanh()
    return x, w, hidden, (hidden.sum(axis=1) ** 2).mean()


def test_intermediate_gradients_of_a_tensor_graph_after_a_plain_backward():
    *_, loss = _layer_loss()
    aside = known_gradients(collect(loss))  # while the graph holds its saved values
    loss.backward()
    view = collect(loss)
    assert view.released
    again = known_gradients(view)  # every op rerun on its inputs' values, sum(axis=1) included
    assert again.keys() == aside.keys() and len(again) == 8
    for key, gradient in aside.items():
        np.testing.assert_allclose(again[key], gradient, rtol=1e-12, atol=1e-15)
    texts = svg_texts(ag.draw(loss, detail="summary").pipe("svg"))
    assert sum(text.startswith("grad") or "‖grad‖" in text for text in texts) == 8


def test_after_a_plain_backward_no_gradient_is_drawn_through_an_op_that_cannot_be_rerun():
    x, w, hidden, loss = _layer_loss()
    ag.manual_seed(0)
    dropped = ag.dropout(hidden, 0.5)
    out = (dropped * 2.0).sum()
    out.backward()
    state = ag.random.get_generator().bit_generator.state
    known = known_gradients(collect(out))
    assert ag.random.get_generator().bit_generator.state == state  # no mask drawn again
    assert id(dropped) in known and id(hidden) not in known  # not a partial gradient either
    np.testing.assert_array_equal(known[id(w)], w.grad.data)  # leaves keep their real .grad

    *_, loss = _layer_loss()
    inputs = loss._node.inputs[0]._node.inputs  # the square's input: hidden.sum(axis=1)
    loss.backward()
    with ag.no_grad():
        inputs[0].mul_(3.0)  # written in place after the backward: its ops are not rerun
    known = known_gradients(collect(loss))
    assert id(inputs[0]) not in known

    *_, hidden, loss = _layer_loss()
    loss.backward()
    before_tanh = hidden._node.inputs[0]  # x @ w + b
    before_tanh.data[0, 0] += 1.0  # a write past the version counters: tanh's rerun differs
    known = known_gradients(collect(loss))
    assert id(hidden) in known and id(before_tanh) not in known
