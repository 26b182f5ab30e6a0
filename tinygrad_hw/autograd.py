"""The graph machinery: the Op base class and apply(), grad mode, the graph walk (one
traversal for everything), unbroadcast, and the vector-Jacobian walk behind backward().
Anomaly mode's checks live in anomaly.py."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Container, Sequence
from typing import Any

import numpy as np

# grad: record graphs; anomaly: check for NaN/inf; epoch: counts in-place updates, so a
# backward can tell whether an input changed after an op used it
# tape: None, or a list that apply() appends (op, inputs, out) to, and traced: the ids of the
# tensors whose values a recording depends on (tg.compile records with both)
_state = {"grad": True, "anomaly": False, "epoch": 0, "tape": None, "traced": set()}


# --------------------------------------------------------------------------- modes


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that switches graph recording off (or on)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.prev: list[bool] = []

    def __enter__(self) -> None:
        self.prev.append(_state["grad"])
        _state["grad"] = self.enabled

    def __exit__(self, *exc: object) -> None:
        _state["grad"] = self.prev.pop()


def no_grad() -> _GradMode:
    """`with tg.no_grad():` (or `@tg.no_grad()`): ops inside record no graph."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Switch recording back on inside a no_grad block."""
    return _GradMode(True)


def is_grad_enabled() -> bool:
    return _state["grad"]


# --------------------------------------------------------------------------- ops


class ShapeError(ValueError):
    """An op's inputs have shapes that do not fit together; the message names them."""


class Op:
    """A primitive: `forward` maps numpy arrays to an array; `backward(grad_out, out, *inputs)`
    maps Tensors to one gradient per input (None where an input needs none), written in
    Tensor ops so that it can itself be differentiated. An op with `differentiable = False`
    (a mask, a comparison) has no derivative and never records a graph."""

    __slots__ = ()
    differentiable = True

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: Tensor, out: Tensor, *inputs: Tensor) -> tuple:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """Static parameters (axis, shape, ...), shown in graph drawings and reprs."""
        names = [n for cls in reversed(type(self).__mro__) for n in getattr(cls, "__slots__", ())]
        return {name: getattr(self, name) for name in names}

    def label(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({params})" if params else type(self).__name__

    def __repr__(self) -> str:
        return self.label()


def const(data: Any) -> Tensor:
    """A Tensor that needs no gradient (masks, counts, constants inside backward rules)."""
    return Tensor._make(data)


class Mask(Op):
    """out = fn(*inputs), computed in numpy: masks and weights inside backward rules (x > 0,
    sign x, where the maximum is). Piecewise constant, so it has no derivative. Being an op,
    it is recomputed from its inputs whenever a recorded program is replayed (tg.compile)."""

    __slots__ = ("fn",)
    differentiable = False

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def params(self) -> dict[str, Any]:
        return {"fn": getattr(self.fn, "__name__", "?")}

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        return self.fn(*arrays)


def mask(fn: Any, *inputs: Tensor) -> Tensor:
    """fn(*arrays) of the inputs' values, as a Tensor without grad (see Mask)."""
    return apply(Mask(fn), *inputs)


def apply(op: Op, *inputs: Tensor) -> Tensor:
    """Run `op` forward and, when grad mode is on and an input requires grad, record it."""
    try:
        if len(inputs) == 1:
            data = op.forward(inputs[0]._data)
        elif len(inputs) == 2:
            data = op.forward(inputs[0]._data, inputs[1]._data)
        else:
            data = op.forward(*[t._data for t in inputs])
    except ShapeError:
        raise
    except ValueError as e:
        shapes = " and ".join(str(t.shape) for t in inputs)
        raise ShapeError(f"{op.label()}: input shapes {shapes}: {e}") from None
    out = Tensor._make(data)
    if _state["tape"] is not None:
        _state["tape"].append((op, inputs, out))
        _state["traced"].add(id(out))
    if _state["grad"] and op.differentiable:
        for t in inputs:
            if t._rg:
                out._rg = True
                out._op = op
                out._inputs = inputs
                out._epoch = _state["epoch"]
                break
    if _state["anomaly"]:
        check_finite(op, "forward", inputs, (data,))
    return out


def read_while_recording(t: Tensor, what: str) -> None:
    """Refuse to hand out the value of a traced tensor while a step is being recorded: the
    recorded program would replay with that value frozen in."""
    if id(t) in _state["traced"]:
        raise RuntimeError(
            f"tg.compile: {what} of a tensor computed inside the compiled step: its value "
            f"would be frozen into the recording and replayed unchanged. Keep the step in "
            f"tensor ops, and read values (loss.item()) outside the compiled function"
        )


# --------------------------------------------------------------------------- graph walk


def walk(roots: Sequence[Tensor], follow: Callable[[Tensor], bool] | None = None) -> list[Tensor]:
    """The one graph traversal: every tensor reachable from `roots` through `_inputs` (only
    into tensors `follow` accepts; all of them when it is None), each once, the inputs of a
    node before the node and left to right. Iterative, so a chain of any length is fine. The
    gradient walk, the graph drawings and the transforms all use it."""
    order: list[Tensor] = []
    seen: set[int] = set()  # entered: its inputs are on the stack
    done: set[int] = set()  # in order
    stack = list(reversed(roots))
    while stack:
        node = stack[-1]
        key = id(node)
        if key in seen:  # back from its inputs
            stack.pop()
            if key not in done:
                done.add(key)
                order.append(node)
            continue
        seen.add(key)
        for t in reversed(node._inputs):
            if id(t) not in seen and (follow is None or follow(t)):
                stack.append(t)
    return order


def _on_graph(t: Tensor) -> bool:
    return t._op is not None and t._rg


def toposort(root: Tensor) -> list[Tensor]:
    """The op nodes that require grad reachable from root (root included), inputs first."""
    return walk([root], _on_graph) if root._op is not None else []


def unbroadcast(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum a broadcast gradient back down to `shape` (the input's shape)."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    ones = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    if not ones:  # only leading axes were added (a bias): one sum, no reshape
        return grad.sum(axis=0 if lead == 1 else tuple(range(lead)))
    grad = grad.sum(axis=tuple(range(lead)) + ones, keepdims=True)
    return grad if grad.shape == shape else grad.reshape(shape)


def _fit(grad: Tensor, like: Tensor) -> Tensor:
    """Bring an input's gradient to that input's shape and dtype."""
    if grad.shape != like.shape:
        grad = unbroadcast(grad, like.shape)
    if grad.dtype != like.dtype:
        grad = grad.astype(like.dtype)
    return grad


# The graph stays drawable after backward(), but (as in PyTorch) it is walked only once
# unless the first walk asked to keep it.
_FREED = (
    "backward() already ran through this graph, which releases it; call "
    "backward(retain_graph=True) the first time to walk it again"
)


def vjp(
    root: Tensor,
    seed: Tensor,
    report: Container[int] = (),
    retain_graph: bool = False,
    create_graph: bool = False,
) -> dict[int, tuple[Tensor, Tensor]]:
    """Reverse-mode walk from `root`, seeded with d(loss)/d(root) = `seed`. Pure: writes no
    .grad, and returns {id(t): (t, d loss/d t)} for every leaf reached that requires grad, every
    retain_grad() node, and every node whose id is in `report`."""
    if root._op is None:
        return {id(root): (root, seed)}
    order = toposort(root)
    grads: dict[int, Tensor] = {id(root): seed}
    leaves: dict[int, Tensor] = {}
    found: dict[int, tuple[Tensor, Tensor]] = {}
    saved = _state["grad"], _state["anomaly"]
    anomaly, epoch = saved[1], _state["epoch"]
    _state["grad"], _state["anomaly"] = create_graph, False
    try:
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if type(g) is list:
                g = _total(g)
            if node._freed:
                raise RuntimeError(_FREED)
            if node._epoch != epoch:  # something was updated in place since it was recorded
                _check_unmodified(node)
            if node._retain or id(node) in report:
                found[id(node)] = node, g
            in_grads = node._op.backward(g, node, *node._inputs)
            if anomaly:
                check_finite(node._op, "backward", node._inputs, in_grads, g)
            _accumulate(grads, leaves, node._inputs, in_grads)
    finally:
        _state["grad"], _state["anomaly"] = saved
    if not retain_graph:
        for node in order:
            node._freed = True
    for key, g in grads.items():  # what is left: the gradients of the leaves
        found[key] = leaves[key], _total(g) if type(g) is list else g
    return found


def _accumulate(grads: dict[int, Any], leaves: dict[int, Tensor], inputs: tuple,
                in_grads: Sequence[Any]) -> None:
    """Collect each input's gradient in `grads`, brought to that input's shape and dtype (the
    one place where broadcasting is undone). A tensor used several times collects a list,
    summed once when its own turn comes (one op, not one addition per use)."""
    for t, ig in zip(inputs, in_grads):
        if ig is None or not t._rg:
            continue
        if ig._data.shape != t._data.shape or ig._data.dtype != t._data.dtype:
            ig = _fit(ig, t)
        key = id(t)
        if t._op is None:
            leaves[key] = t
        prev = grads.get(key)
        if prev is None:
            grads[key] = ig
        elif type(prev) is list:
            prev.append(ig)
        else:
            grads[key] = [prev, ig]


def _total(parts: list[Tensor]) -> Tensor:
    return apply(_ADDN, *parts)


def _check_unmodified(node: Tensor) -> None:
    for t in node._inputs:
        if t._mod > node._epoch:
            raise RuntimeError(
                f"an input of {node._op.label()} (shape {t.shape}) was updated in place after "
                f"the op used it, so its gradient would be wrong; recompute the forward pass "
                f"after the update"
            )


def gradients(
    outputs: Tensor,
    inputs: Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = True,
) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs) without touching any .grad (torch.autograd.grad)."""
    seed = _seed(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    found = vjp(outputs, seed, {id(t) for t in inputs}, retain_graph, create_graph)
    res = tuple(found[id(t)][1] if id(t) in found else None for t in inputs)
    if not allow_unused and any(r is None for r in res):
        raise RuntimeError("one of the inputs was not used to compute the outputs")
    return res


def _seed(root: Tensor, grad: Any) -> Tensor:
    if not root._rg:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no graph (no input had "
            "requires_grad=True, or it was computed under no_grad() or from detach())"
        )
    if grad is None:
        if root.size != 1:
            raise RuntimeError(
                f"backward: the output is not a scalar (shape {root.shape}); call backward "
                f"(grad) with a gradient of shape {root.shape}, or reduce it first, e.g. "
                f".sum() or .mean()"
            )
        return Tensor._make(np.ones(root.shape, root.dtype))
    grad = grad if isinstance(grad, Tensor) else Tensor(grad, dtype=root.dtype)
    if grad.shape != root.shape:
        raise ValueError(
            f"backward: gradient shape {grad.shape} does not match output shape {root.shape}"
        )
    return grad


def backward(
    root: Tensor, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Accumulate d(root)/d(t) into .grad of every leaf t that requires grad and of every
    retain_grad() tensor (as PyTorch: with create_graph the sums are recorded too)."""
    seed = _seed(root, grad)
    if retain_graph is None:
        retain_graph = create_graph
    with _GradMode(create_graph):
        for t, g in vjp(root, seed, (), retain_graph, create_graph).values():
            t.grad = g if t.grad is None else t.grad + g


# Anomaly mode, Tensor and the ops are built on this module (they read its state, call apply,
# subclass Op), so they are imported last; this module only uses them inside functions,
# which run once all have loaded. AnomalyError and detect_anomaly are re-exported here.
from .anomaly import AnomalyError, check_finite, detect_anomaly, is_anomaly_enabled  # noqa: E402, F401
from .ops.elementwise import AddN  # noqa: E402
from .tensor import Tensor  # noqa: E402

_ADDN = AddN()
