"""The classic fully worked 2-2-2 backpropagation example (COURSE.md section 6): forward pass,
E_total, gradients by autodiff and by hand, and one gradient-descent step (weights only),
with a cross-entropy variant."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw import Tensor

INPUTS = np.array([0.05, 0.10])
TARGETS = np.array([0.01, 0.99])
LEARNING_RATE = 0.5
WEIGHT_NAMES = ("W1", "W2")  # updated by the step
BIAS_NAMES = ("b1", "b2")  # not updated: the classic example keeps both biases fixed

Params = dict[str, np.ndarray]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def initial_parameters() -> Params:
    """W1 = [[w1, w2], [w3, w4]] = [[0.15, 0.20], [0.25, 0.30]], b1 = 0.35 (shared by both hidden
    units); W2 = [[w5, w6], [w7, w8]] = [[0.40, 0.45], [0.50, 0.55]], b2 = 0.60 (shared)."""
    return {
        "W1": np.array([[0.15, 0.20], [0.25, 0.30]]),
        "b1": np.array(0.35),
        "W2": np.array([[0.40, 0.45], [0.50, 0.55]]),
        "b2": np.array(0.60),
    }


def forward(
    W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, x: np.ndarray = INPUTS
) -> tuple[Tensor, Tensor]:
    """net_h = W1 x + b1, out_h = sigma(net_h); net_o = W2 out_h + b2, out_o = sigma(net_o)
    (e.g. net_h1 = w1 i1 + w2 i2 + b1). Returns (out_h, out_o) as Tensors."""
    out_h = tg.sigmoid(tg.as_tensor(W1) @ x + b1)
    return out_h, tg.sigmoid(tg.as_tensor(W2) @ out_h + b2)


def e_total(
    W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, target: np.ndarray = TARGETS
) -> Tensor:
    """E_total = sum_o 1/2 (target_o - out_o)^2."""
    diff = tg.as_tensor(target) - forward(W1, b1, W2, b2)[1]
    return (diff * diff).sum() * 0.5


def e_total_cross_entropy(
    W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, target: np.ndarray = TARGETS
) -> Tensor:
    """The cross-entropy variant: E = -sum_o [t_o ln out_o + (1 - t_o) ln(1 - out_o)]."""
    out_o = forward(W1, b1, W2, b2)[1]
    return tg.binary_cross_entropy(out_o, target, reduction="sum")


def _loss_fn(cross_entropy: bool) -> Callable[..., Tensor]:
    return e_total_cross_entropy if cross_entropy else e_total


def loss_value(params: Params, cross_entropy: bool = False) -> float:
    """E_total (or the cross-entropy E) at `params`, as a float."""
    return _loss_fn(cross_entropy)(*(params[k] for k in ("W1", "b1", "W2", "b2"))).item()


def autodiff_gradients(params: Params, cross_entropy: bool = False) -> Params:
    """dE/dW1, dE/db1, dE/dW2, dE/db2 by tg.grad."""
    names = ("W1", "b1", "W2", "b2")
    grads = tg.grad(_loss_fn(cross_entropy), argnums=(0, 1, 2, 3))(*(params[k] for k in names))
    return {k: g.numpy() for k, g in zip(names, grads)}


def hand_gradients(params: Params, cross_entropy: bool = False) -> Params:
    """delta_o = -(target_o - out_o) out_o (1 - out_o)  (cross-entropy: out_o - target_o);
    dE/dw5 = delta_o1 out_h1, i.e. dE/dW2 = delta_o out_h^T;
    delta_h = (W2^T delta_o) out_h (1 - out_h), dE/dw1 = delta_h1 i1, i.e. dE/dW1 = delta_h x^T;
    a shared bias collects its layer's deltas: dE/db1 = sum_h delta_h, dE/db2 = sum_o delta_o."""
    out_h = _sigmoid(params["W1"] @ INPUTS + params["b1"])
    out_o = _sigmoid(params["W2"] @ out_h + params["b2"])
    if cross_entropy:
        delta_o = out_o - TARGETS
    else:
        delta_o = -(TARGETS - out_o) * out_o * (1 - out_o)
    delta_h = (params["W2"].T @ delta_o) * out_h * (1 - out_h)
    return {
        "W1": np.outer(delta_h, INPUTS),
        "b1": np.array(delta_h.sum()),
        "W2": np.outer(delta_o, out_h),
        "b2": np.array(delta_o.sum()),
    }


def update(params: Params, grads: Params, lr: float = LEARNING_RATE) -> Params:
    """w <- w - lr dE/dw for the weights w1..w8 only; b1 and b2 are copied unchanged, as in the
    classic example. Every gradient is taken at the old weights before any is applied."""
    new = {k: np.array(v) for k, v in params.items()}
    for k in WEIGHT_NAMES:
        new[k] = params[k] - lr * grads[k]
    return new


def one_step(cross_entropy: bool = False, by_hand: bool = False) -> Params:
    """The parameters after one step from initial_parameters() with learning rate 0.5
    (w5 = 0.35891648 and w1 = 0.149780716 for E_total)."""
    params = initial_parameters()
    gradients = hand_gradients if by_hand else autodiff_gradients
    return update(params, gradients(params, cross_entropy))
