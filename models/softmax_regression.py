"""Softmax regression over K classes (COURSE.md section 2): mean cross-entropy of
softmax(W x + b) through tinygrad_hw ops, and the hand-derived gradients for W and b."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

import tinygrad_hw as tg
from tinygrad_hw import Tensor


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # shifted so large logits do not overflow
    return e / e.sum(axis=-1, keepdims=True)


def logits(W: Tensor | ArrayLike, b: Tensor | ArrayLike, X: Tensor | ArrayLike) -> Tensor:
    """z_nk = w_k.x_n + b_k for W (K x d), b (K,), X (N x d): Z = X W^T + b, shape (N, K)."""
    return tg.as_tensor(X) @ tg.as_tensor(W).T + b


def loss(
    W: Tensor | ArrayLike, b: Tensor | ArrayLike, X: Tensor | ArrayLike, y: ArrayLike
) -> Tensor:
    """C = (1/N) sum_n C^n, C^n = -sum_k y_k ln y_hat_k, y_hat_k = e^{z_k} / sum_k' e^{z_k'};
    y holds integer labels (N,), the one-hot y_k is implied."""
    return tg.cross_entropy(logits(W, b, X), np.asarray(y))


def probabilities(W: ArrayLike, b: ArrayLike, X: ArrayLike) -> np.ndarray:
    """y_hat_nk = softmax(z_n)_k in numpy (N x K)."""
    W, X = np.asarray(W, dtype=np.float64), np.asarray(X, dtype=np.float64)
    return _softmax(X @ W.T + np.asarray(b, dtype=np.float64))


def hand_gradients(
    W: ArrayLike, b: ArrayLike, X: ArrayLike, y: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """dC/dw_kj = -(1/N) sum_n x_nj (y_nk - y_hat_nk),  dC/db_k = (1/N) sum_n (y_hat_nk - y_nk).

    Returns (dC/dW of shape (K, d), dC/db of shape (K,))."""
    X, labels = np.asarray(X, dtype=np.float64), np.asarray(y)
    y_hat = probabilities(W, b, X)
    one_hot = np.eye(y_hat.shape[1])[labels]
    n = len(labels)
    return -(one_hot - y_hat).T @ X / n, (y_hat - one_hot).sum(axis=0) / n
