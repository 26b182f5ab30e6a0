"""A sigmoid network of any depth in Nielsen's notation (COURSE.md section 6): the forward pass
through tinygrad_hw ops, keeping every z^l, and backpropagation's BP1-BP4 in numpy.
Examples are columns (X is n_0 x N, as Nielsen's column vectors); costs sum over examples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

import tinygrad_hw as tg
from tinygrad_hw import Tensor

COSTS = ("quadratic", "cross_entropy")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))  # 1 / (1 + e^-z) without overflow


def _check_cost(cost_name: str) -> None:
    if cost_name not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, not {cost_name!r}")


def forward(
    weights: Sequence[Tensor | ArrayLike], biases: Sequence[Tensor | ArrayLike], X: ArrayLike
) -> tuple[list[Tensor], list[Tensor]]:
    """z^l = W^l a^{l-1} + b^l, a^l = sigma(z^l), a^0 = X, for l = 1..L.

    W^l is (n_l x n_{l-1}), b^l is a column (n_l x 1), X is (n_0 x N) with one example per
    column. Returns (zs, activations) = ([z^1..z^L], [a^0..a^L]); call retain_grad() on a z^l
    (when the weights require grad) to read delta^l = dC/dz^l after backward."""
    activations = [tg.as_tensor(X)]
    zs = []
    for W, b in zip(weights, biases):
        zs.append(tg.as_tensor(W) @ activations[-1] + b)
        activations.append(tg.sigmoid(zs[-1]))
    return zs, activations


def cost(a_out: Tensor, Y: ArrayLike, cost_name: str = "quadratic") -> Tensor:
    """quadratic: C = 1/2 ||a^L - y||^2;  cross_entropy: C = -sum_j [y_j ln a^L_j +
    (1 - y_j) ln(1 - a^L_j)]. Each is summed over the examples (columns)."""
    _check_cost(cost_name)
    Y = tg.as_tensor(Y)
    if cost_name == "quadratic":
        diff = a_out - Y
        return (diff * diff).sum() * 0.5
    return tg.binary_cross_entropy(a_out, Y, reduction="sum")


def loss(
    weights: Sequence[Tensor | ArrayLike],
    biases: Sequence[Tensor | ArrayLike],
    X: ArrayLike,
    Y: ArrayLike,
    cost_name: str = "quadratic",
) -> Tensor:
    """C(a^L) for a^L = forward(weights, biases, X); see `cost`."""
    return cost(forward(weights, biases, X)[1][-1], Y, cost_name)


def output_delta(z_out: np.ndarray, Y: ArrayLike, cost_name: str = "quadratic") -> np.ndarray:
    """BP1: delta^L = grad_a C (.) sigma'(z^L). quadratic: grad_a C = a^L - y; cross-entropy:
    grad_a C = (a^L - y) / (a^L (1 - a^L)), the sigma' cancels and delta^L = a^L - y."""
    _check_cost(cost_name)
    a_out = _sigmoid(z_out)
    diff = a_out - np.asarray(Y, dtype=np.float64)
    return diff * a_out * (1 - a_out) if cost_name == "quadratic" else diff


def backprop(
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike],
    X: ArrayLike,
    Y: ArrayLike,
    cost_name: str = "quadratic",
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """BP1 delta^L = grad_a C (.) sigma'(z^L);  BP2 delta^l = ((W^{l+1})^T delta^{l+1}) (.)
    sigma'(z^l);  BP3 dC/db^l_j = delta^l_j;  BP4 dC/dW^l_jk = a^{l-1}_k delta^l_j.

    Column n of delta^l is example n's delta; with C summed over the examples, dC/db^l and
    dC/dW^l sum BP3/BP4 over the columns. Returns (deltas, dC/dW, dC/db), each indexed l=1..L
    as a list position 0..L-1."""
    weights = [np.asarray(W, dtype=np.float64) for W in weights]
    activations, zs = [np.asarray(X, dtype=np.float64)], []
    for W, b in zip(weights, biases):
        zs.append(W @ activations[-1] + np.asarray(b, dtype=np.float64))
        activations.append(_sigmoid(zs[-1]))
    deltas = [output_delta(zs[-1], Y, cost_name)]
    for W_next, z in zip(weights[:0:-1], zs[-2::-1]):
        s = _sigmoid(z)
        deltas.insert(0, (W_next.T @ deltas[0]) * s * (1 - s))
    grad_W = [delta @ a_prev.T for delta, a_prev in zip(deltas, activations[:-1])]
    grad_b = [delta.sum(axis=1, keepdims=True) for delta in deltas]
    return deltas, grad_W, grad_b
