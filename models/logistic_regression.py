"""Binary logistic regression (COURSE.md section 1): the mean cross-entropy loss as a
composition of tinygrad_hw ops, and the hand-derived gradient (1/N) sum_n (y_hat - y) x_n."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

import tinygrad_hw as tg
from tinygrad_hw import Tensor


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))  # 1 / (1 + e^-z) without overflow


def predict(w: Tensor | ArrayLike, X: Tensor | ArrayLike) -> Tensor:
    """y_hat_n = sigma(w.x_n) for the rows x_n of X (N x d, bias column included)."""
    return tg.sigmoid(tg.as_tensor(X) @ w)


def loss(w: Tensor | ArrayLike, X: Tensor | ArrayLike, y: Tensor | ArrayLike) -> Tensor:
    """C = (1/N) sum_n C^n, C^n = -[y ln y_hat + (1-y) ln(1-y_hat)], y_hat = sigma(w.x_n).

    Computed from the logits z = X w (binary_cross_entropy_with_logits), which is the same
    function as binary_cross_entropy(sigmoid(z)) but exact when sigma(z) rounds to 0 or 1."""
    return tg.binary_cross_entropy_with_logits(tg.as_tensor(X) @ w, y)


def loss_from_probabilities(
    w: Tensor | ArrayLike, X: Tensor | ArrayLike, y: Tensor | ArrayLike
) -> Tensor:
    """The same C written literally: mean_n BCE(y_hat_n, y_n) with y_hat = sigma(X w)."""
    return tg.binary_cross_entropy(predict(w, X), y)


def hand_gradient(w: ArrayLike, X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dC/dw_i = (1/N) sum_n (y_hat_n - y_n) x_ni   (= -(1/N) sum_n (y - y_hat) x_ni)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    y_hat = _sigmoid(X @ np.asarray(w, dtype=np.float64))
    return X.T @ (y_hat - y) / len(y)
