"""draw_graph and to_dot: trace, fold, find gradients and bad values, then lay the boxes out
as a graphviz.Digraph whose rendering errors say how to install Graphviz."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import graphviz

from ..tensor import Tensor
from . import fold
from . import grads as gradinfo
from .labels import escape
from .style import DELTA_COLOUR, FONT, KINDS, SOFT, Extras, node_attrs, node_label
from .style import legend as legend_label
from .trace import Node, Trace, trace

INSTALL_HELP = (
    "Graphviz's `dot` program is needed to render the graph, and it was not found on PATH. "
    "Install it with `sudo apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
    "(macOS) or `conda install -c conda-forge graphviz`, then restart Python. "
    "viz.to_dot(...) and the Digraph's .source work without it."
)


class GraphvizNotFound(graphviz.ExecutableNotFound):
    """Graphviz's `dot` is not installed; the message says how to install it."""

    def __init__(self, detail: str = "") -> None:
        RuntimeError.__init__(self, INSTALL_HELP + (f" ({detail})" if detail else ""))


class Graph(graphviz.Digraph):
    """A graphviz.Digraph (Jupyter shows it inline) whose pipe/render turn a missing `dot`
    into GraphvizNotFound with install instructions."""

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as e:
            raise GraphvizNotFound(str(e)) from None

    def render(self, *args: Any, **kwargs: Any) -> str:
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as e:
            raise GraphvizNotFound(str(e)) from None


def draw_graph(
    root: Tensor,
    names: Mapping[Any, Any] | None = None,
    *,
    module: Any = None,
    params: Iterable[tuple[str, Tensor]] | Mapping[str, Tensor] | None = None,
    grads: str = "auto",
    deltas: bool | Sequence[Tensor] = False,
    derivatives: bool = False,
    max_nodes: int | None = 80,
    collapse: bool | Iterable[str] = False,
    clusters: bool = True,
    legend: bool = True,
    title: str | None = None,
    rankdir: str = "TB",
) -> Graph:
    """The compute graph of `root` as a graphviz.Digraph, one box per tensor.

    names: {"W1": W1, ...} names for tensors (a tensor's own `name=` is used too).
    module / params: an object with named_parameters() (a tg.nn.Module) or (name, tensor)
        pairs; parameters show under those names, and dotted names group boxes by layer.
    grads: "auto" shows the .grad that backward() left (leaves, retain_grad() tensors);
        "all" shows d root/d node on every box; "none" shows no gradients.
    deltas: True marks every pre-activation (input of sigmoid, tanh, relu, softplus,
        log_softmax, or logits of the fused losses) with delta = dC/dz, with dashed arrows
        showing how delta flows back;
        or a list of the tensors to mark.
    derivatives: show each op's local derivative (from its docstring).
    max_nodes: above this many boxes, fold repeated chains, then modules, then the nodes
        farthest from the output (None: never fold). collapse: True, or module paths, to
        draw modules as one box each.
    """
    if grads not in ("auto", "all", "none"):
        raise ValueError(f"draw_graph: grads must be 'auto', 'all' or 'none', not {grads!r}")
    tr = trace(root, names, module, params)
    if not clusters:
        for n in tr.nodes:
            n.clusters = ()
    ex = _extras(root, tr, grads, deltas, derivatives)
    marked = [n for n in tr.nodes if n.tensor is not None and id(n.tensor) in ex.deltas]
    flow = gradinfo.delta_flow(tr, marked)
    tr, notes = _fold(tr, max_nodes, collapse)
    g, bad = _digraph(tr, ex, rankdir)
    kept = {n.id for n in tr.nodes if n.kind != "folded"}
    for src, dst in flow:
        if src in kept and dst in kept:
            g.edge(src, dst, color=DELTA_COLOUR, style="dashed", constraint="false",
                   arrowsize="0.6", penwidth="1.2")
    if legend or title or notes:
        kinds = [k for k in KINDS if any(n.kind == k for n in tr.nodes)] if legend else []
        label = legend_label(kinds, bad and legend, bool(ex.deltas) and legend, notes, title)
        g.attr(label=label, labelloc="b", labeljust="l")
    return g


def to_dot(root: Tensor, names: Mapping[Any, Any] | None = None, **options: Any) -> str:
    """The DOT source of draw_graph(root, names, **options); needs no Graphviz program.
    The same computation gives the same text on every run."""
    return draw_graph(root, names, **options).source


def _extras(root: Tensor, tr: Trace, mode: str, deltas: Any, derivatives: bool) -> Extras:
    ex = Extras(births=gradinfo.nan_births(tr), derivatives=derivatives)
    marked = gradinfo.delta_nodes(tr, deltas)
    for layer, n in enumerate(marked, 1):
        if not n.named:
            n.name = f"z{layer}"  # Nielsen's z^l, so the delta reads dC/dz^l
    if marked:
        ex.deltas = gradinfo.root_grads(root, marked, "deltas")
    if mode == "all":
        ex.grads = gradinfo.root_grads(root, tr.nodes, 'grads="all"')
    elif mode == "auto":
        ex.grads = gradinfo.stored_grads(tr.nodes)
    return ex


def _fold(tr: Trace, max_nodes: int | None, collapse: Any) -> tuple[Trace, list[str]]:
    """Collapse the requested modules, then fold only as far as max_nodes demands."""
    notes: list[str] = []
    if collapse:
        paths = _innermost(tr) if collapse is True else list(collapse)
        tr, more = fold.collapse_modules(tr, paths)
        notes += more
    steps = [fold.fold_repeats, lambda t: fold.collapse_modules(t, _innermost(t))]
    steps.append(lambda t: fold.fold_far(t, max_nodes))
    for step in steps:
        if max_nodes is None or len(tr.nodes) <= max_nodes:
            break
        tr, more = step(tr)
        notes += more
    if len(notes) > 6:  # many small folds (say, one per chain): keep the legend short
        notes = notes[:5] + [f"... and {len(notes) - 5} more folds"]
    if len(notes) > (1 if collapse else 0):
        notes.append(f"{len(tr.nodes)} boxes drawn; max_nodes=None draws every node")
    return tr, notes


def _innermost(tr: Trace) -> list[str]:
    return list(dict.fromkeys(n.module for n in tr.nodes if n.module))


def _digraph(tr: Trace, ex: Extras, rankdir: str) -> tuple[Graph, bool]:
    g = Graph(
        name="tinygrad_hw",
        graph_attr={"rankdir": rankdir, "fontname": FONT, "fontsize": "10", "nodesep": "0.3",
                    "ranksep": "0.35", "bgcolor": "white"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": FONT,
                   "fontsize": "10", "margin": "0.1,0.05", "color": "#404040"},
        edge_attr={"color": "#636363", "arrowsize": "0.7", "fontname": FONT,
                   "fontsize": "8", "fontcolor": SOFT},
    )
    bad = _emit(g, (), tr.nodes, ex, [0])
    fan_in: dict[str, int] = {}
    for e in tr.edges:
        fan_in[e.dst] = fan_in.get(e.dst, 0) + 1
    for e in tr.edges:
        label = {"headlabel": e.arg, "labeldistance": "1.4"} if fan_in[e.dst] > 1 else {}
        if not e.arg:  # an edge redirected into a folded box has no single argument name
            label = {}
        g.edge(e.src, e.dst, **label)
    return g, bad


def _emit(g: Any, prefix: tuple, nodes: list[Node], ex: Extras, count: list[int]) -> bool:
    """Declare nodes, each inside its nested module clusters (cluster_0, cluster_1, ...
    numbered in order of appearance, so names are stable and never collide)."""
    bad = False
    groups: dict[tuple[str, str], list[Node]] = {}
    for n in nodes:
        if len(n.clusters) == len(prefix):
            label, is_bad = node_label(n, ex)
            bad |= is_bad
            g.node(n.id, label=label, **node_attrs(n, is_bad, n.id in ex.births))
        else:
            groups.setdefault(n.clusters[len(prefix)], []).append(n)
    for (path, title), members in groups.items():
        with g.subgraph(name=f"cluster_{count[0]}") as sub:
            count[0] += 1
            sub.attr(label=f"<<B>{escape(title)}</B>>", style="rounded,filled",
                     fillcolor="#f7f7fb", color="#9e9ac8", labeljust="l", fontsize="11")
            bad |= _emit(sub, prefix + ((path, title),), members, ex, count)
    return bad
