"""L2 regularisation (docs/course.md §3) in both conventions found in submissions:
R = ||w||^2 (gradient 2 lambda w) and R = 1/2 ||w||^2 (gradient lambda w)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

import tinygrad_hw as tg
from tinygrad_hw import Tensor


def penalty(params: Tensor | Sequence[Tensor], lam: float, half: bool = False) -> Tensor:
    """lambda R(w) with R = ||w||^2 = sum w_ij^2 (tg.l2_penalty), or, with half=True,
    R = 1/2 sum w_ij^2. `params` is one tensor or a sequence of them (e.g. W but not b)."""
    return tg.l2_penalty(params, lam / 2 if half else lam)


def penalty_gradient(w: ArrayLike, lam: float, half: bool = False) -> np.ndarray:
    """d(lambda R)/dw = 2 lambda w for R = ||w||^2, and lambda w for R = 1/2 ||w||^2."""
    w = np.asarray(w, dtype=np.float64)
    return lam * w if half else 2 * lam * w


def regularized_loss(
    data_loss: Tensor, params: Tensor | Sequence[Tensor], lam: float, half: bool = False
) -> Tensor:
    """J(w) = C(w) + lambda R(w), C the data loss already computed from `params`."""
    return data_loss + penalty(params, lam, half)


def regularized_gradient(
    data_gradient: ArrayLike, w: ArrayLike, lam: float, half: bool = False
) -> np.ndarray:
    """dJ/dw = dC/dw + 2 lambda w  (R = ||w||^2)   or   dC/dw + lambda w  (R = 1/2 ||w||^2)."""
    return np.asarray(data_gradient, dtype=np.float64) + penalty_gradient(w, lam, half)
