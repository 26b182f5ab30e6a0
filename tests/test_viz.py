"""tinygrad_hw.viz: traced structure and names, golden DOT text, escaping, NaN marking,
determinism, module clusters, deltas, folding, and real renders with Graphviz's `dot`."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import graphviz
import numpy as np
import pytest

import tinygrad_hw as tg
from tinygrad_hw import Tensor, viz
from tinygrad_hw.viz.__main__ import main as cli_main

GOLDEN = Path(__file__).parent / "golden" / "viz_mlp_loss.dot"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


# A stand-in with tg.nn's duck-typed interface (named_parameters / named_modules).
class Parameter(Tensor):
    def __init__(self, data):
        super().__init__(data, requires_grad=True)


class Module:
    def named_modules(self, prefix=""):
        yield prefix, self
        for key, value in vars(self).items():
            if isinstance(value, Module):
                yield from value.named_modules(f"{prefix}.{key}" if prefix else key)

    def named_parameters(self):
        for path, mod in self.named_modules():
            for key, value in vars(mod).items():
                if isinstance(value, Parameter):
                    yield (f"{path}.{key}" if path else key), value


class Linear(Module):
    def __init__(self, weight, bias):
        self.weight, self.bias = Parameter(weight), Parameter(bias)

    def __call__(self, x):
        return x @ self.weight.T + self.bias


class MLP(Module):
    def __init__(self):
        self.fc1 = Linear([[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35])
        self.fc2 = Linear([[0.40, 0.45]], [0.60])

    def __call__(self, x):
        return self.fc2(self.fc1(x).sigmoid()).sigmoid()


def mlp_loss():
    model = MLP()
    x, y = Tensor([[0.05, 0.10]], name="x"), Tensor([[0.99]], name="y")
    return ((model(x) - y) ** 2).mean(), model


def by_name(tr):
    return {n.name: n for n in tr.nodes}


# ----------------------------------------------------------------------- trace and names


def test_trace_orders_inputs_first_and_names_everything():
    loss, model = mlp_loss()
    nodes, edges = viz.trace(loss, module=model)
    ids = [n.id for n in nodes]
    assert ids == [f"n{k}" for k in range(len(nodes))] and nodes[-1].tensor is loss
    assert all(ids.index(e.src) < ids.index(e.dst) for e in edges)
    names = by_name(viz.Trace(nodes, edges))
    assert {"x", "y", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"} <= set(names)
    assert names["fc1.weight"].kind == "param" and names["x"].kind == "data"
    assert nodes[-1].kind == "output" and names["fc1.out"].op is not None
    matmul = next(n for n in nodes if n.op is not None and type(n.op).__name__ == "MatMul")
    assert sorted(e.arg for e in edges if e.dst == matmul.id) == ["a", "b"]


def test_name_sources_and_precedence():
    w = Tensor([1.0, 2.0], requires_grad=True, name="own")
    v = Tensor([3.0, 4.0], requires_grad=True)
    out = (w * v).sum()
    names = by_name(viz.trace(out, names={"w_user": w}, params=[("v_param", v)]))
    assert {"w_user", "v_param"} <= set(names) and "own" not in names
    assert by_name(viz.trace(out, names={v: "v_flipped"}))["own"].kind == "leaf"
    assert "v_flipped" in by_name(viz.trace(out, names={v: "v_flipped"}))
    assert re.fullmatch(r"t\d+", viz.trace(out).nodes[-1].name)
    with pytest.raises(TypeError, match="not a Tensor"):
        viz.trace(out, names={"w": 3.0})


def test_op_labels_parameters_constants_and_derivatives():
    x = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    out = (x[:, 1:] ** 2).sum(axis=1).sum()
    dot = viz.to_dot(out, derivatives=True)
    assert "sum(axis=1)" in dot and "getitem[:, 1:]" in dot and "pow(y=2)" in dot
    assert "d out/dx = y x^(y-1)" in dot  # Pow's docstring, after the ';'
    assert "(3, 4) float64" in dot and "min 0  mean 5.5  max 11" in dot


# ----------------------------------------------------------------------- golden and determinism


def test_golden_dot_for_small_mlp_loss():
    loss, model = mlp_loss()
    loss.backward()
    dot = viz.to_dot(loss, module=model, legend=False)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(dot, encoding="utf-8")
    assert dot == GOLDEN.read_text(encoding="utf-8")


def test_dot_is_identical_across_runs_and_has_no_addresses():
    script = (
        "import sys; sys.path.insert(0, 'tests'); from test_viz import mlp_loss; "
        "from tinygrad_hw import viz; l, m = mlp_loss(); l.backward(retain_graph=True); "
        "print(viz.to_dot(l, module=m, deltas=True, derivatives=True))"
    )
    root = Path(__file__).parent.parent
    runs = [
        subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}, check=True).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1] and "subgraph cluster_0" in runs[0]
    assert not re.search(r"0x[0-9a-f]{6,}", runs[0])


# ----------------------------------------------------------------------- escaping and NaN


@needs_dot
def test_any_name_is_escaped_and_renders():
    nasty = '<b>&"x"|{y}\'</b>'
    w = Tensor([1.0, 2.0], requires_grad=True)
    g = viz.draw_graph((w * 2).sum(), names={nasty: w}, params=[("a<b>.w&", Tensor(1.0))])
    assert nasty not in g.source and "&lt;b&gt;&amp;&quot;x&quot;&#124;&#123;y&#125;" in g.source
    svg = g.pipe(format="svg", encoding="utf-8")
    assert "&lt;b&gt;&amp;&quot;x&quot;|{y}" in svg.replace("&#39;", "'")


def test_nan_is_drawn_red_where_it_was_born():
    x = Tensor([1.0, -1.0, 4.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        out = (x.log() * 2).sum()
    nodes = by_name(viz.trace(out))
    dot = viz.to_dot(out)
    log_line = next(line for line in dot.splitlines() if "= log" in line)
    assert "NaN born here" in log_line and 'fillcolor="#fcbba1"' in log_line
    assert "penwidth=3" in log_line and dot.count("holds NaN (from an input)") == 2
    assert "NaN / inf" in dot  # the legend explains the colour
    assert sum(n.kind == "op" or n.kind == "output" for n in nodes.values()) == 3


def test_inf_and_nonfinite_gradients_are_marked():
    x = Tensor([0.0, 4.0], requires_grad=True)
    out = x.sqrt().sum()
    with np.errstate(divide="ignore"):
        out.backward()  # d sqrt/dx at 0 is inf
    dot = viz.to_dot(out, names={"x": x})
    assert "gradient holds inf" in dot and "grad  [inf, 0.25]" in dot
    with np.errstate(divide="ignore"):
        y = tg.log(Tensor([0.0, 1.0], requires_grad=True)).sum()
    assert "inf born here" in viz.to_dot(y)


# ----------------------------------------------------------------------- modules


def test_module_clusters_hold_each_layers_ops():
    loss, model = mlp_loss()
    tr = viz.trace(loss, module=model)
    home = {n.name if n.op is None else n.op.label(): n.module for n in tr.nodes}
    assert home["fc1.weight"] == home["fc1.bias"] == "fc1" and home["fc2.bias"] == "fc2"
    assert home["Sigmoid"] is None and home["x"] is None  # no parameter: outside the box
    in_fc1 = [type(n.op).__name__ for n in tr.nodes if n.op is not None and n.module == "fc1"]
    assert in_fc1 == ["Transpose", "MatMul", "Add"]
    dot = viz.to_dot(loss, module=model)
    assert re.search(r"subgraph cluster_0 \{\s*color=\S+ fillcolor=\S+ fontsize=11 "
                     r"label=<<B>fc1: Linear</B>>", dot)


def test_nested_modules_and_mixed_ops():
    class Net(Module):
        def __init__(self):
            self.body = Module()
            self.body.first = Linear(np.eye(2), np.zeros(2))
            self.head = Linear(np.ones((1, 2)), np.zeros(1))

    net = Net()
    h = net.head(net.body.first(Tensor([[1.0, 2.0]])).tanh())
    l2 = (net.body.first.weight ** 2).sum() + (net.head.weight ** 2).sum()
    tr = viz.trace(h.sum() + l2, module=net)
    first = by_name(tr)["body.first.weight"]
    assert [t for _, t in first.clusters] == ["body: Module", "body.first: Linear"]
    mixed = [n for n in tr.nodes if n.op is not None and n.op.label() == "Add" and not n.module]
    assert len(mixed) == 2  # the L2 sum mixing two layers, and the final add


def test_real_nn_modules_are_clustered():
    nn = pytest.importorskip("tinygrad_hw.nn")
    if not hasattr(nn, "Sequential"):
        pytest.skip("tg.nn.Sequential not available")
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2))
    loss = model(Tensor(np.ones((5, 3)))).sum()
    dot = viz.to_dot(loss, module=model)
    assert "0: Linear" in dot and "2: Linear" in dot and "<B>0.weight</B>" in dot


# ----------------------------------------------------------------------- gradients and deltas


def worked_example():
    from tinygrad_hw.viz.__main__ import worked_example as build

    return build()


def test_deltas_match_the_worked_example():
    loss, params = worked_example()
    dot = viz.to_dot(loss, params=params, deltas=True)  # before backward: computed fresh
    assert "δ = dC/dz2  [0.1385, -0.0381]" in dot and "δ = dC/dz1  [0.008771, 0.009954]" in dot
    assert 'style=dashed' in dot and "flowing back" in dot
    assert params["W1"].grad is None  # drawing does not touch .grad


def test_deltas_after_backward_need_a_live_graph_or_retain_grad():
    loss, params = worked_example()
    loss.backward()
    with pytest.raises(ValueError, match="retain_graph=True"):
        viz.to_dot(loss, deltas=True)
    loss, params = worked_example()
    z = [n.tensor for n in viz.trace(loss).nodes if n.name in ("z1", "z2")]
    for t in z:
        t.retain_grad()
    loss.backward()
    assert "δ = dC/dz2  [0.1385, -0.0381]" in viz.to_dot(loss, deltas=z)


def test_grads_modes():
    loss, params = worked_example()
    loss.backward(retain_graph=True)
    auto, every, none = (viz.to_dot(loss, params=params, grads=m) for m in ("auto", "all", "none"))
    assert "grad  [0.1385, -0.0381]" in auto and auto.count("grad  ") == 4
    assert every.count("grad  ") > 10 and "grad  1" in every and "grad  " not in none
    with pytest.raises(ValueError, match="grads must be"):
        viz.to_dot(loss, grads="some")


# ----------------------------------------------------------------------- folding


def deep_net(layers):
    rng = np.random.default_rng(0)
    h = Tensor(rng.normal(size=(4, 3)))
    for _ in range(layers):
        h = (h @ Tensor(rng.normal(size=(3, 3)), requires_grad=True)).tanh()
    return (h * h).mean()


def boxes(g):
    return sum(1 for line in g.body if re.match(r"\s*n\d+ \[", line))


def test_repeated_layers_fold_with_a_note():
    g = viz.draw_graph(deep_net(30), max_nodes=40)
    assert boxes(g) <= 40 and "repeats of [" in g.source and "max_nodes=None" in g.source
    assert boxes(viz.draw_graph(deep_net(30), max_nodes=None)) == 30 * 3 + 1 + 3
    assert boxes(viz.draw_graph(deep_net(3))) == 3 * 3 + 1 + 3  # small graphs never fold


def test_long_chain_and_wide_graph_stay_small():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y.tanh()
    assert boxes(viz.draw_graph(y.sum(), max_nodes=20)) <= 20
    terms = [Tensor(np.full(2, float(i)), requires_grad=True).exp() * i for i in range(60)]
    g = viz.draw_graph(tg.stack(terms).sum(), max_nodes=25)
    assert boxes(g) <= 25 and "nodes far from the output folded" in g.source


def test_collapse_draws_each_module_as_one_box():
    loss, model = mlp_loss()
    loss.backward()
    g = viz.draw_graph(loss, module=model, collapse=True)
    assert "<B>fc1: Linear</B>" in g.source and "transpose, matmul, add, 2 leaves" in g.source
    assert "fc1.weight" not in g.source and "subgraph cluster" not in g.source


# ----------------------------------------------------------------------- rendering


@needs_dot
def test_svg_render_holds_the_labels(tmp_path):
    loss, params = worked_example()
    loss.backward(retain_graph=True)
    g = viz.draw_graph(loss, params=params, deltas=True, title="worked example")
    assert isinstance(g, graphviz.Digraph)
    path = g.render(tmp_path / "graph", format="svg")
    svg = Path(path).read_text(encoding="utf-8")
    for text in ("W1", "E_total", "sigmoid", "δ = dC/dz1", "grad", "worked example"):
        assert text in svg
    assert "image/svg+xml" in g._repr_mimebundle_()  # what Jupyter displays inline


def test_missing_dot_says_how_to_install(monkeypatch, tmp_path):
    loss, _ = worked_example()
    g = viz.draw_graph(loss)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(viz.GraphvizNotFound, match="apt-get install graphviz") as err:
        g.pipe(format="svg")
    assert "brew install graphviz" in str(err.value) and "conda" in str(err.value)
    assert isinstance(err.value, graphviz.ExecutableNotFound)
    with pytest.raises(viz.GraphvizNotFound):
        g.render(tmp_path / "g", format="svg")
    assert viz.to_dot(loss).startswith("digraph")


@needs_dot
def test_command_line_writes_svg_and_dot(tmp_path, capsys):
    assert cli_main(["--out", str(tmp_path), "--model", "worked-ce"]) == 0
    svg = (tmp_path / "graph.svg").read_text(encoding="utf-8")
    assert "E_total" in svg and "binary_cross_entropy" in svg
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8").startswith("digraph")
    out = subprocess.run([sys.executable, "-m", "tinygrad_hw.viz", "--out", str(tmp_path / "m")],
                         capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0 and (tmp_path / "m" / "graph.svg").exists()
    if hasattr(pytest.importorskip("tinygrad_hw.nn"), "Sequential"):
        assert cli_main(["--out", str(tmp_path / "nn"), "--model", "nn"]) == 0
        assert "0: Linear" in (tmp_path / "nn" / "graph.svg").read_text(encoding="utf-8")


def test_command_line_without_dot_still_writes_dot(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli_main(["--out", str(tmp_path)]) == 1
    assert (tmp_path / "graph.dot").exists() and "apt-get" in capsys.readouterr().err
