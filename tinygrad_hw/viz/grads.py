"""What the picture says about derivatives and bad values: the gradient shown on each node,
the deltas dC/dz of pre-activations (Nielsen's delta^l), and where a NaN or inf was born."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import autograd
from ..tensor import Tensor
from .labels import nonfinite
from .trace import Node, Trace

# Ops applying an activation: a node feeding one of them is a pre-activation z^l.
# LogSoftmax is there because softmax is built on it; the fused losses take the logits z^L.
ACTIVATIONS = frozenset({"Sigmoid", "Tanh", "Relu", "Softplus", "LogSoftmax", "CrossEntropy",
                         "BinaryCrossEntropyWithLogits"})

_FREED_HELP = (
    "{what} needs d(output)/d(node) for nodes without a stored .grad, but backward() has "
    "already walked and freed this graph. Draw the graph before calling backward(), call "
    "backward(retain_graph=True), or call .retain_grad() on those tensors before backward()."
)


def pre_activations(tr: Trace) -> list[Node]:
    """Nodes consumed by an activation op (z^l in a^l = sigma(z^l)), in trace order."""
    acts = {n.id for n in tr.nodes if type(n.op).__name__ in ACTIVATIONS}
    feeding = {e.src for e in tr.edges if e.dst in acts}
    return [n for n in tr.nodes if n.id in feeding and n.tensor is not None]


def delta_nodes(tr: Trace, deltas: bool | Sequence[Tensor]) -> list[Node]:
    """deltas=True picks every pre-activation; a list of tensors picks those tensors."""
    if deltas is True:
        return pre_activations(tr)
    if not deltas:
        return []
    wanted = {id(t) for t in deltas}
    return [n for n in tr.nodes if n.tensor is not None and id(n.tensor) in wanted]


def stored_grads(nodes: Iterable[Node]) -> dict[int, np.ndarray]:
    """`.grad` where backward() left one (leaves, retain_grad() tensors), by id(tensor)."""
    return {
        id(n.tensor): np.asarray(n.tensor.grad._data)
        for n in nodes
        if n.tensor is not None and n.tensor.grad is not None
    }


def root_grads(root: Tensor, nodes: list[Node], what: str) -> dict[int, np.ndarray]:
    """d root / d node for each node, by id(tensor). Computed fresh while the graph is alive
    (so earlier accumulation in .grad does not leak in); after backward() has freed the
    graph, the stored .grad is used and a node without one is an error saying how to get it."""
    nodes = [n for n in nodes if n.tensor is not None and n.tensor.requires_grad]
    if not nodes or not root.requires_grad:
        return {}
    if any(n.tensor._freed for n in nodes) or root._freed:
        stored = stored_grads(nodes)
        if len(stored) < len(nodes):
            raise ValueError(_FREED_HELP.format(what=what))
        return stored
    if root.size != 1:
        raise ValueError(
            f"{what} needs a scalar output (a loss) to differentiate, not shape {root.shape}"
        )
    found = autograd.gradients(root, [n.tensor for n in nodes], retain_graph=True)
    return {id(n.tensor): np.asarray(g._data) for n, g in zip(nodes, found) if g is not None}


def nan_births(tr: Trace) -> set[str]:
    """Nodes holding NaN/inf whose inputs are all finite: where the bad value was born."""
    bad = {n.id for n in tr.nodes if n.tensor is not None and _bad(n.tensor)}
    inputs: dict[str, list[str]] = {}
    for e in tr.edges:
        inputs.setdefault(e.dst, []).append(e.src)
    return {i for i in bad if not any(s in bad for s in inputs.get(i, []))}


def _bad(t: Any) -> bool:
    return nonfinite(np.asarray(t._data)) is not None


def delta_flow(tr: Trace, marked: list[Node]) -> list[tuple[str, str]]:
    """(from, to) pairs between marked nodes: z^l gets its delta from the nearest marked
    nodes downstream (BP2), found by walking consumers until one is marked."""
    users: dict[str, list[str]] = {}
    for e in tr.edges:
        users.setdefault(e.src, []).append(e.dst)
    ids = {n.id for n in marked}
    pairs = []
    for n in marked:
        seen, frontier = {n.id}, list(users.get(n.id, []))
        while frontier:
            i = frontier.pop(0)
            if i in seen:
                continue
            seen.add(i)
            if i in ids:
                pairs.append((i, n.id))
            else:
                frontier += users.get(i, [])
    return pairs
