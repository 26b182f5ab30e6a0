"""The numpy references the hand-derived formulas use: the same functions the models build
from tinygrad_hw ops, computed directly. One definition each, written as tinygrad_hw
computes them, so a hand gradient and autodiff differ only where the formulas differ."""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^-z). For very negative z, e^-z overflows to inf and the result
    is 0, sigma(z) rounded to the precision: no warning is printed for that."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64)))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """y_hat_k = e^{z_k} / sum_k' e^{z_k'} along `axis`, with the row maximum subtracted
    first so that large logits do not overflow (the ratio is unchanged)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
