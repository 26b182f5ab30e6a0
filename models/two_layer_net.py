"""The two-layer networks written out by hand (COURSE.md section 5): a regression net with
one linear output and a 3-class softmax classifier, both on 4 sigmoid hidden units.
Batches are averaged: every loss and hand gradient is the mean over the N examples."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

import tinygrad_hw as tg
from tinygrad_hw import Tensor

N_INPUTS = 3  # x_0 = 1 (the bias) plus two features
N_HIDDEN = 4
N_CLASSES = 3


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))  # 1 / (1 + e^-z) without overflow


def with_bias(features: ArrayLike) -> np.ndarray:
    """Prepend the bias input x_0 = 1 to each row: (N, 2) features -> X of shape (N, 3)."""
    features = np.atleast_2d(np.asarray(features, dtype=np.float64))
    return np.hstack([np.ones((len(features), 1)), features])


def hidden(a: Tensor | ArrayLike, X: Tensor | ArrayLike) -> Tensor:
    """h_k = sigma(sum_i x_i a_ik) for each row x of X (N x 3); a is (3 x 4), h is (N x 4)."""
    return tg.sigmoid(tg.as_tensor(X) @ a)


def regression_output(
    a: Tensor | ArrayLike, b: Tensor | ArrayLike, X: Tensor | ArrayLike
) -> Tensor:
    """o = sum_k sigma(sum_i x_i a_ik) b_k, one linear output per example, shape (N,)."""
    return hidden(a, X) @ b


def regression_loss(
    a: Tensor | ArrayLike, b: Tensor | ArrayLike, X: Tensor | ArrayLike, y: ArrayLike
) -> Tensor:
    """SE = (y - o)^2 for one example; for a batch the mean (1/N) sum_n (y_n - o_n)^2."""
    residual = tg.as_tensor(y) - regression_output(a, b, X)
    return (residual * residual).mean()


def regression_hand_gradients(
    a: ArrayLike, b: ArrayLike, X: ArrayLike, y: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """dSE/da_ik = -2 (y - o) b_k h_k (1 - h_k) x_i,   dSE/db_k = -2 (y - o) h_k,
    each averaged over the N examples. Returns (dSE/da (3 x 4), dSE/db (4,))."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    h = _sigmoid(X @ a)
    r = -2 * (y - h @ b) / len(y)  # -2 (y - o), with the 1/N of the mean folded in
    grad_b = h.T @ r
    grad_a = X.T @ (r[:, None] * b * h * (1 - h))
    return grad_a, grad_b


def classifier_logits(
    a: Tensor | ArrayLike, B: Tensor | ArrayLike, X: Tensor | ArrayLike
) -> Tensor:
    """z_c = sum_k h_k b_kc for the 3 classes c; B is (4 x 3), the result (N x 3)."""
    return hidden(a, X) @ B


def classifier_loss(
    a: Tensor | ArrayLike, B: Tensor | ArrayLike, X: Tensor | ArrayLike, labels: ArrayLike
) -> Tensor:
    """C = (1/N) sum_n -sum_c y_c ln y_hat_c, y_hat_c = e^{z_c} / sum_c' e^{z_c'} (natural log),
    integer labels (N,)."""
    return tg.cross_entropy(classifier_logits(a, B, X), np.asarray(labels))


def classifier_hand_gradients(
    a: ArrayLike, B: ArrayLike, X: ArrayLike, labels: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """dC/db_kc = (1/N) sum_n (y_hat_c - y_c) h_k,
    dC/da_ik = (1/N) sum_n sum_c (y_hat_c - y_c) b_kc h_k (1 - h_k) x_i.
    Returns (dC/da (3 x 4), dC/dB (4 x 3))."""
    a, B = np.asarray(a, dtype=np.float64), np.asarray(B, dtype=np.float64)
    X, labels = np.asarray(X, dtype=np.float64), np.asarray(labels)
    h = _sigmoid(X @ a)
    z = h @ B
    e = np.exp(z - z.max(axis=1, keepdims=True))
    y_hat = e / e.sum(axis=1, keepdims=True)
    err = (y_hat - np.eye(B.shape[1])[labels]) / len(labels)  # (y_hat_c - y_c) / N
    grad_B = h.T @ err
    grad_a = X.T @ ((err @ B.T) * h * (1 - h))
    return grad_a, grad_B
