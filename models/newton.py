"""Newton's method for linear regression (COURSE.md section 7): the loss through tinygrad_hw ops,
its hand gradient and Hessian, and one Newton step by autodiff and by the hand formulas."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

import tinygrad_hw as tg
from tinygrad_hw import Tensor


def loss(w: Tensor | ArrayLike, X: Tensor | ArrayLike, y: Tensor | ArrayLike) -> Tensor:
    """f(w) = 1/(2n) sum_i (x_i.w - y_i)^2 for the rows x_i of X (n x d)."""
    residual = tg.as_tensor(X) @ w - y
    return (residual * residual).mean() * 0.5


def hand_gradient(w: ArrayLike, X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """grad f = (1/n) X^T (X w - y)."""
    X = np.asarray(X, dtype=np.float64)
    return X.T @ (X @ np.asarray(w, dtype=np.float64) - np.asarray(y, dtype=np.float64)) / len(X)


def hand_hessian(X: ArrayLike) -> np.ndarray:
    """H = (1/n) X^T X (it does not depend on w: f is quadratic)."""
    X = np.asarray(X, dtype=np.float64)
    return X.T @ X / len(X)


def newton_step(w: ArrayLike, X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """w <- w - H^{-1} grad f, with grad f from tg.grad and H from tg.hessian (autodiff)."""
    w, X, y = (np.asarray(v, dtype=np.float64) for v in (w, X, y))
    g = tg.grad(loss)(w, X, y).numpy()
    H = tg.hessian(loss)(w, X, y).numpy()
    return w - np.linalg.solve(H, g)


def newton_step_hand(w: ArrayLike, X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """w <- w - H^{-1} grad f with H = (1/n) X^T X and grad f = (1/n) X^T (X w - y)."""
    w = np.asarray(w, dtype=np.float64)
    return w - np.linalg.solve(hand_hessian(X), hand_gradient(w, X, y))
