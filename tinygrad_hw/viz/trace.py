"""trace(root): the nodes and edges of a computation, in a fixed order, with the names a
student knows them by, what kind of tensor each is, and which module (layer) it belongs to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..autograd import walk
from ..tensor import Tensor
from .labels import arg_names, number


@dataclass
class Node:
    """One box in the picture. `tensor` is None for a box standing for folded nodes."""

    id: str  # n0, n1, ... in trace order: stable across runs, no memory addresses
    tensor: Tensor | None
    name: str
    kind: str  # output | param | leaf (requires grad) | data | op | folded
    op: Any = None
    named: bool = False  # the name came from the user or a module, not from numbering
    consts: dict[str, str] = field(default_factory=dict)  # scalar constants shown in the op
    clusters: tuple[tuple[str, str], ...] = ()  # (module path, cluster title), outer first
    note: str = ""  # for folded boxes: what they stand for
    members: tuple[Node, ...] = ()  # for folded boxes: the original nodes inside

    @property
    def module(self) -> str | None:
        return self.clusters[-1][0] if self.clusters else None


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    arg: str  # the input's name in the consumer's backward rule (x, y, a, b, ...)


class Trace(NamedTuple):
    nodes: list[Node]
    edges: list[Edge]


def collect_names(
    names: Mapping[Any, Any] | None, module: Any = None, params: Any = None
) -> tuple[dict[int, str], dict[int, str]]:
    """(user names, parameter names), each keyed by id(tensor). `names` maps name -> Tensor
    (Tensor -> name works too); parameter names come from `module.named_parameters()` or
    `params` (pairs or a dict), first name wins for a shared parameter."""
    user: dict[int, str] = {}
    for key, value in (names or {}).items():
        name, t = (key, value) if isinstance(value, Tensor) else (value, key)
        if not isinstance(t, Tensor):
            raise TypeError(f"names: {key!r} maps to {type(value).__name__}, not a Tensor")
        user.setdefault(id(t), str(name))
    pairs: list[tuple[str, Any]] = []
    if module is not None:
        pairs += list(module.named_parameters())
    if params is not None:
        pairs += list(params.items() if isinstance(params, Mapping) else params)
    found: dict[int, str] = {}
    for name, t in pairs:
        found.setdefault(id(t), str(name))
    return user, found


def module_types(module: Any) -> dict[str, str]:
    """Module path -> class name, from any object with named_modules() (PyTorch-style)."""
    if module is None or not hasattr(module, "named_modules"):
        return {}
    return {str(path): type(m).__name__ for path, m in module.named_modules()}


def _kind(t: Tensor, root: Tensor, is_param: bool) -> str:
    if t is root:
        return "output"
    if t._op is not None:
        return "op"
    if is_param or type(t).__name__ == "Parameter":
        return "param"
    return "leaf" if t.requires_grad else "data"


def _inlinable(t: Tensor, root: Tensor, user: dict[int, str]) -> bool:
    """Scalar constants (the 2 in x**2) read better inside their consumer's label."""
    return t._op is None and not t.requires_grad and t.size == 1 and t is not root and (
        id(t) not in user and not t.name
    )


def trace(
    root: Tensor,
    names: Mapping[Any, Any] | None = None,
    module: Any = None,
    params: Iterable[tuple[str, Tensor]] | Mapping[str, Tensor] | None = None,
    inline_constants: bool = True,
) -> Trace:
    """The graph behind `root` as (nodes, edges), ready to draw or inspect.

    Names, first that applies: `names` (name -> Tensor), the parameter name from
    `module.named_parameters()` / `params`, the tensor's own `.name`, else `t<k>` (k counts
    nodes in trace order). Parameters with a dotted name ("fc1.weight") are grouped by
    module (see assign_modules); an unnamed op a module hands on is called `<module>.out`."""
    if not isinstance(root, Tensor):
        raise TypeError(f"viz: draw a Tensor (such as a loss), not {type(root).__name__}")
    user, param_names = collect_names(names, module, params)
    order = [t for t in walk([root]) if not (inline_constants and _inlinable(t, root, user))]
    ids = {id(t): f"n{k}" for k, t in enumerate(order)}
    nodes = [_node(t, k, root, user, param_names) for k, t in enumerate(order)]
    edges: list[Edge] = []
    for node, t in zip(nodes, order):
        args = arg_names(t._op, len(t._inputs)) if t._op is not None else []
        for arg, u in zip(args, t._inputs):
            if id(u) in ids:
                edges.append(Edge(ids[id(u)], node.id, arg))
            else:
                node.consts[arg] = number(u.item())
    assign_modules(nodes, edges, param_names, module_types(module))
    return Trace(nodes, edges)


def _node(t: Tensor, k: int, root: Tensor, user: dict[int, str], params: dict[int, str]):
    name = user.get(id(t)) or params.get(id(t)) or t.name
    return Node(
        id=f"n{k}", tensor=t, name=name or f"t{k}", kind=_kind(t, root, id(t) in params),
        op=t._op, named=bool(name),
    )


def _owner(name: str) -> str | None:
    return name.rsplit(".", 1)[0] if "." in name else None


def assign_modules(
    nodes: list[Node], edges: list[Edge], param_names: dict[int, str], types: dict[str, str]
) -> None:
    """Group nodes by layer. A parameter belongs to the module its dotted name points at
    (fc1.weight -> fc1). An op belongs to module M when the inputs it takes straight from
    parameters, or from ops computed from parameters alone (weight.T), all belong to M. So
    Linear's transpose, matmul and bias add fall in its box; the activation after it, which
    touches no parameter, does not; an op mixing two layers' weights (an L2 sum) neither."""
    home: dict[str, str] = {}  # node id -> module path
    pure: set[str] = set()  # parameters, and ops computed from one module's parameters alone
    inputs: dict[str, list[str]] = {}
    for e in edges:
        inputs.setdefault(e.dst, []).append(e.src)
    grad_carrying = {n.id for n in nodes if n.tensor is None or n.tensor.requires_grad}
    for n in nodes:
        if n.op is None:
            path = _owner(param_names.get(id(n.tensor), "")) if n.tensor is not None else None
            if path:
                home[n.id] = path
                pure.add(n.id)
            continue
        srcs = inputs.get(n.id, [])
        direct = {home[s] for s in srcs if s in pure and s in grad_carrying}
        if len(direct) == 1:
            home[n.id] = direct.pop()
            if all(s in pure for s in srcs):  # data inputs (x in x @ W.T) end the purity
                pure.add(n.id)
    for n in nodes:
        if n.id in home:
            n.clusters = _chain(home[n.id], types)
    _name_outputs(nodes, edges, home)


def _name_outputs(nodes: list[Node], edges: list[Edge], home: dict[str, str]) -> None:
    """Call a module's last op that something outside it reads `<module>.out` (unless the
    user named it): that is the layer's output, what the next layer gets."""
    used_outside: dict[str, str] = {}
    for e in edges:
        path = home.get(e.src)
        if path and home.get(e.dst) != path:
            used_outside[path] = max(used_outside.get(path, e.src), e.src, key=_index)
    for n in nodes:
        if n.op is not None and not n.named and used_outside.get(home.get(n.id, "")) == n.id:
            n.name = f"{home[n.id]}.out"


def _index(node_id: str) -> int:
    return int(node_id[1:])


def _chain(path: str, types: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """(('layers', 'layers: Sequential'), ('layers.0', 'layers.0: Linear')) for 'layers.0'."""
    parts = path.split(".")
    out = []
    for i in range(len(parts)):
        sub = ".".join(parts[: i + 1])
        kind = types.get(sub)
        out.append((sub, f"{sub}: {kind}" if kind else sub))
    return tuple(out)
