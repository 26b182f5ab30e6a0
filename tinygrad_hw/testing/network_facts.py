"""What the gradient checks read off a loss's graph before its gradients are taken: the
precision it was computed in, the activation layers (z, a = act(z), act'(z)) in forward order,
the network input a^0 and the class count K."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..autograd import toposort
from ..tensor import Tensor


@dataclass
class Layer:
    """One activation a = act(z): name 'sigmoid', 'tanh', 'relu', 'softplus' or 'linear'."""

    name: str
    z: np.ndarray
    a: np.ndarray
    deriv: np.ndarray  # act'(z), elementwise


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


_DERIVATIVES = {
    "Sigmoid": lambda a, z: a * (1 - a),
    "Tanh": lambda a, z: 1 - a * a,
    "Relu": lambda a, z: (z > 0).astype(np.float64),
    "Softplus": lambda a, z: _sigmoid(z),
}


def _as64(t: Tensor) -> np.ndarray:
    return np.asarray(t._data, dtype=np.float64)


def lowest_precision(root: Tensor, *arrays: object) -> float:
    """The machine epsilon of the coarsest float in the graph of root and in `arrays`."""
    dtypes = [np.asarray(getattr(a, "_data", a)).dtype for a in arrays if a is not None]
    for node in toposort(root):
        dtypes += [node._data.dtype] + [t._data.dtype for t in node._inputs]
    floats = [np.finfo(d).eps for d in dtypes if np.issubdtype(d, np.floating)]
    return float(max(floats, default=np.finfo(np.float64).eps))


def _layer(node: Tensor) -> Layer | None:
    kind = type(node._op).__name__
    if kind not in _DERIVATIVES:
        return None
    z, a = _as64(node._inputs[0]), _as64(node)
    return Layer(kind.lower(), z, a, _DERIVATIVES[kind](a, z))


def layers(root: Tensor) -> list[Layer]:
    """Every elementwise activation in the graph, in forward order."""
    return [layer for layer in map(_layer, toposort(root)) if layer is not None]


def activation_of(root: Tensor, z: Tensor) -> Layer:
    """The activation applied to z in root's graph; a sigmoid fused into
    binary_cross_entropy_with_logits counts; none (or softmax) is 'linear'."""
    for node in toposort(root):
        if not any(t is z for t in node._inputs):
            continue
        found = _layer(node)
        if found is not None:
            return found
        if type(node._op).__name__ == "BinaryCrossEntropyWithLogits":
            a = _sigmoid(_as64(z))
            return Layer("sigmoid", _as64(z), a, a * (1 - a))
    values = _as64(z)
    return Layer("linear", values, values, np.ones_like(values))


def network_input(z: Tensor, depth: int = 4) -> np.ndarray | None:
    """a^0: the constant operand of the first matrix product below z (W x, or X W^T)."""
    frontier = [z]
    for _ in range(depth):
        nxt = []
        for node in frontier:
            if node._op is not None and type(node._op).__name__ == "MatMul":
                consts = [t for t in node._inputs if not t._rg]
                return _as64(consts[0]) if consts else None
            nxt += [t for t in node._inputs if t._op is not None]
        frontier = nxt
    return None


def first_layer_input(root: Tensor) -> np.ndarray | None:
    """a^0 of the first activation layer in root's graph, if it can be read off."""
    for node in toposort(root):
        if type(node._op).__name__ in _DERIVATIVES:
            return network_input(node._inputs[0])
    return None


def counts(root: Tensor) -> tuple[int | None, int | None]:
    """(N, K) from the logits (N x K, or K) of a cross-entropy or log-softmax in the graph."""
    for node in toposort(root):
        if type(node._op).__name__ in ("CrossEntropy", "LogSoftmax"):
            shape = node._inputs[0].shape
            return (int(shape[0]) if len(shape) == 2 else None,
                    int(shape[-1]) if shape else None)
    return None, None
