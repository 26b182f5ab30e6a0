"""Folding a large graph into fewer boxes, each fold leaving a note of what it hid:
repeated stretches of a chain (a loop of identical layers), whole modules, and as a last
resort everything farthest from the output."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable

from .labels import op_name, op_text, shorten
from .trace import Edge, Node, Trace

_MAX_PERIOD = 8  # longest repeated motif looked for (a layer is a handful of ops)


def merge(tr: Trace, groups: list[tuple[list[str], Node]]) -> Trace:
    """Replace each group of node ids by its one new node, placed where the group's first
    member was; edges are redirected, edges inside a group dropped, duplicates merged."""
    new_id = {i: node.id for ids, node in groups for i in ids}
    made = {ids[0]: node for ids, node in groups}
    nodes = [made.get(n.id, n) for n in tr.nodes if n.id not in new_id or n.id in made]
    edges: dict[tuple[str, str], Edge] = {}
    for e in tr.edges:
        src, dst = new_id.get(e.src, e.src), new_id.get(e.dst, e.dst)
        if src != dst:
            edges.setdefault((src, dst), Edge(src, dst, e.arg if dst == e.dst else ""))
    return Trace(nodes, list(edges.values()))


def originals(nodes: Iterable[Node]) -> list[Node]:
    """The traced nodes behind a list of nodes, looking inside earlier folds."""
    return [m for n in nodes for m in (n.members or (n,))]


def ops_note(nodes: Iterable[Node]) -> str:
    """'matmul ×3, add ×3, 6 leaves': what a folded box stands for."""
    members = originals(nodes)
    counts = Counter(op_name(n.op) for n in members if n.op is not None)
    leaves = sum(1 for n in members if n.op is None)
    parts = [f"{k} ×{v}" if v > 1 else k for k, v in counts.items()]
    if leaves:
        parts.append(f"{leaves} lea{'f' if leaves == 1 else 'ves'}")
    return ", ".join(parts)


def folded_node(members: list[Node], name: str, output: Node | None, drop: str = "") -> Node:
    """A box for `members`, inside the clusters they all share (minus module `drop`)."""
    common = members[0].clusters
    for m in members[1:]:
        while common and m.clusters[: len(common)] != common:
            common = common[:-1]
    if drop:
        common = tuple(c for c in common if not (c[0] + ".").startswith(drop + "."))
    return Node(
        id=members[0].id, tensor=output.tensor if output else None, name=name, kind="folded",
        clusters=common, note=ops_note(members), members=tuple(originals(members)),
    )


# ------------------------------------------------------------------------- modules


def module_paths(tr: Trace) -> list[str]:
    """Outermost module paths present, in order of first appearance."""
    seen: dict[str, None] = {}
    for n in tr.nodes:
        if n.clusters:
            seen.setdefault(n.clusters[0][0])
    return list(seen)


def collapse_modules(tr: Trace, paths: Iterable[str]) -> tuple[Trace, list[str]]:
    """Each listed module (with its sub-modules) becomes one box showing its output."""
    groups, titles = [], []
    for path in paths:
        inside = [n for n in tr.nodes if n.module and (n.module + ".").startswith(path + ".")]
        if len(inside) < 2:
            continue
        title = next(t for p, t in inside[0].clusters if p == path)
        node = folded_node(inside, title, _module_output(tr, inside), drop=path)
        groups.append(([n.id for n in inside], node))
        titles.append(title)
    if not titles:
        return tr, []
    what = shorten(", ".join(titles), 80)
    many = f"{len(titles)} modules drawn as one box each" if len(titles) > 1 else "drawn as one box"
    return merge(tr, groups), [f"{many}: {what}" if len(titles) > 1 else f"{what} {many}"]


def _module_output(tr: Trace, inside: list[Node]) -> Node | None:
    """The last member (in trace order) that something outside the module consumes."""
    ids = {n.id for n in inside}
    used_outside = {e.src for e in tr.edges if e.src in ids and e.dst not in ids}
    outs = [n for n in inside if n.id in used_outside]
    return outs[-1] if outs else None


# ------------------------------------------------------------------------- repeats


def fold_repeats(tr: Trace) -> tuple[Trace, list[str]]:
    """In each chain of ops, a motif repeated r >= 3 times keeps its first and last copy and
    folds the r - 2 in between (with the leaves only they use) into one box."""
    g = _Graph(tr)
    groups, notes = [], []
    for chain in g.chains():
        sigs = [g.signature(n) for n in chain]
        for start, p, r in find_runs(sigs):
            stretch = chain[start + p : start + (r - 1) * p]
            motif = " → ".join(op_name(g.by_id[i].op) for i in chain[start : start + p])
            members = [g.by_id[i] for i in g.with_private_inputs(stretch)]
            name = f"{r - 2} × [{motif}]"
            node = folded_node(members, name, g.by_id[stretch[-1]])
            groups.append(([n.id for n in members], node))
            notes.append(f"{r - 2} repeats of [{motif}] folded ({node.note})")
    return merge(tr, groups), notes


def find_runs(sigs: list[str]) -> list[tuple[int, int, int]]:
    """(start, period, repeats) of non-overlapping runs repeating >= 3 times, left to right,
    each the run that folds the most nodes where it starts."""
    runs, i = [], 0
    while i < len(sigs):
        best = (0, 0, 0)  # folded count, period, repeats
        for p in range(1, _MAX_PERIOD + 1):
            if i + 3 * p > len(sigs):
                break
            r = 1
            while sigs[i + r * p : i + (r + 1) * p] == sigs[i : i + p]:
                r += 1
            if r >= 3 and (r - 2) * p > best[0]:
                best = ((r - 2) * p, p, r)
        if best[0]:
            runs.append((i, best[1], best[2]))
            i += best[1] * best[2]
        else:
            i += 1
    return runs


class _Graph:
    """Adjacency of a trace, and its chains: runs of ops where each feeds only the next and
    the next takes nothing else from the graph's spine (side inputs are leaves, or an op of
    leaves alone such as weight.T)."""

    def __init__(self, tr: Trace) -> None:
        self.by_id = {n.id: n for n in tr.nodes}
        self.order = [n.id for n in tr.nodes]
        self.inputs: dict[str, list[str]] = {i: [] for i in self.order}
        self.users: dict[str, list[str]] = {i: [] for i in self.order}
        for e in tr.edges:
            self.inputs[e.dst].append(e.src)
            self.users[e.src].append(e.dst)
        leaves = {i for i in self.order if self.by_id[i].op is None}
        self.side = leaves | {
            i for i in self.order if i not in leaves and len(self.users[i]) == 1
            and self.inputs[i] and all(s in leaves for s in self.inputs[i])
        }

    def main_input(self, i: str) -> str | None:
        spine = [s for s in self.inputs[i] if s not in self.side]
        return spine[0] if len(spine) == 1 else None

    def chains(self) -> list[list[str]]:
        follows = {}
        for i in self.order:
            u = self.main_input(i) if self.by_id[i].op is not None else None
            if u is not None and len(self.users[u]) == 1 and self.by_id[u].op is not None:
                follows[u] = i
        followers = set(follows.values())
        starts = [i for i in self.order if i in follows and i not in followers]
        out = []
        for i in starts:
            chain = [i]
            while chain[-1] in follows:
                chain.append(follows[chain[-1]])
            out.append(chain)
        return out

    def signature(self, i: str) -> str:
        n = self.by_id[i]
        side_ops = [op_text(self.by_id[s].op) for s in self.inputs[i]
                    if s in self.side and self.by_id[s].op is not None]
        return op_text(n.op, n.consts) + "|" + ",".join(side_ops)

    def with_private_inputs(self, stretch: list[str]) -> list[str]:
        """The stretch plus side inputs used by nothing outside it, in trace order."""
        chosen = set(stretch)
        for _ in range(2):  # side ops first, then the leaves only they used
            for i in self.order:
                users = self.users[i]
                if i in self.side and i not in chosen and users and set(users) <= chosen:
                    chosen.add(i)
        return [i for i in self.order if i in chosen]


# ------------------------------------------------------------------------- last resort


def fold_far(tr: Trace, max_nodes: int) -> tuple[Trace, list[str]]:
    """Keep the max_nodes - 1 nodes nearest the output (edges counted back from it, later
    nodes first on ties); everything else becomes one box feeding the kept ones."""
    inputs: dict[str, list[str]] = {n.id: [] for n in tr.nodes}
    for e in tr.edges:
        inputs[e.dst].append(e.src)
    root = next((n.id for n in tr.nodes if "output" in {m.kind for m in originals([n])}),
                tr.nodes[-1].id)
    dist = {root: 0}
    queue = deque([root])
    while queue:
        i = queue.popleft()
        for s in inputs[i]:
            if s not in dist:
                dist[s] = dist[i] + 1
                queue.append(s)
    index = {n.id: k for k, n in enumerate(tr.nodes)}
    ranked = sorted(tr.nodes, key=lambda n: (dist.get(n.id, len(index)), -index[n.id]))
    far = sorted(ranked[max(max_nodes - 1, 1) :], key=lambda n: index[n.id])
    if not far:
        return tr, []
    count = len(originals(far))
    node = folded_node(far, f"{count} earlier nodes", None)
    node.clusters = ()
    return merge(tr, [([n.id for n in far], node)]), [f"{count} nodes far from the output "
                                                       f"folded ({node.note})"]
