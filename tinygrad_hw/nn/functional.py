"""Losses: mse, binary cross-entropy (on probabilities and on logits), cross-entropy from
logits, and the L2 penalty. Each checks that prediction and target shapes agree, since a
silent broadcast (N, 1) against (N,) gives an (N, N) loss and a wrong gradient."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..autograd import apply
from ..functions import as_tensor
from ..ops.loss import BinaryCrossEntropy, BinaryCrossEntropyWithLogits, CrossEntropy
from ..tensor import Tensor

_BCE = BinaryCrossEntropy()
_BCE_LOGITS = BinaryCrossEntropyWithLogits()


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        if loss.size == 0:  # no examples: NaN as in PyTorch, without numpy's 0/0 warning
            return loss.sum() * float("nan")
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def _target(pred: Tensor, target: Any, name: str) -> Tensor:
    """The target as a Tensor of pred's dtype, with pred's shape."""
    target = as_tensor(target)
    if target.shape != pred.shape:
        raise ValueError(
            f"{name}: input shape {pred.shape} and target shape {target.shape} differ; "
            f"reshape one of them (a silent broadcast would give a wrong loss)"
        )
    return target.astype(pred.dtype)


def mse_loss(pred: Any, target: Any, reduction: str = "mean") -> Tensor:
    """(pred - target)^2, averaged (or summed) over every element."""
    pred = as_tensor(pred)
    diff = pred - _target(pred, target, "mse_loss")
    return _reduce(diff * diff, reduction, "mse_loss")


def binary_cross_entropy(prob: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-[y ln p + (1-y) ln(1-p)] on probabilities p in [0, 1]; finite at exactly 0 and 1
    (each log is clamped at -100, as PyTorch). Prefer the _with_logits form when you can."""
    prob = as_tensor(prob)
    target = _target(prob, target, "binary_cross_entropy")
    p = prob._data
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError(
            f"binary_cross_entropy: probabilities must lie in [0, 1], got values from "
            f"{np.nanmin(p)} to {np.nanmax(p)} (pass logits to binary_cross_entropy_with_logits)"
        )
    return _reduce(apply(_BCE, prob, target), reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(logits: Any, target: Any, reduction: str = "mean"):
    """BCE of sigmoid(logits), computed as softplus(x) - x y = max(x, 0) - x y + ln(1 + e^-|x|),
    exact for any logit size; its gradient is sigmoid(x) - y."""
    logits = as_tensor(logits)
    target = _target(logits, target, "binary_cross_entropy_with_logits")
    loss = apply(_BCE_LOGITS, logits, target)
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-sum_k y_k ln softmax(logits)_k for logits (N, C) or (C,).

    `target` is either integer class indices of shape (N,) (or a 0-d index for (C,) logits),
    or one-hot / probability rows of the logits' shape. Computed through the max-shifted
    log_softmax, so huge logits are fine; its gradient is softmax(logits) - y."""
    logits = as_tensor(logits)
    if logits.ndim not in (1, 2):
        raise ValueError(f"cross_entropy: logits must be (N, C) or (C,), got {logits.shape}")
    target = as_tensor(target)
    if target.dtype == np.bool_:
        raise TypeError(
            "cross_entropy: target has dtype bool; pass class indices as integers "
            "(y.astype(np.int64)) or one-hot/probability rows as floats (y.astype(float))"
        )
    _check_target_kind(logits, target)
    if target.dtype.kind in "iu":
        labels = _labels(logits, target)
        if reduction in ("mean", "sum") and labels.size:  # reduced inside the fused op
            return apply(CrossEntropy(reduction), logits, labels)
        loss = apply(CrossEntropy(), logits, labels)
    else:
        log_probs = logits.log_softmax(axis=-1)
        loss = -(log_probs * _target(logits, target, "cross_entropy")).sum(axis=-1)
    return _reduce(loss, reduction, "cross_entropy")


def _check_target_kind(logits: Tensor, target: Tensor) -> None:
    """Catch integer one-hot rows and float class indices, which look alike by shape."""
    is_int = target.dtype.kind in "iu"
    if is_int and target.shape == logits.shape and logits.ndim == 2:
        raise ValueError(
            f"cross_entropy: integer target of shape {target.shape} has the logits' shape, so it "
            f"looks one-hot; pass one-hot/probability targets as floats (.astype(float)) or "
            f"class indices of shape {logits.shape[:-1]}"
        )
    if not is_int and target.shape == logits.shape[:-1]:
        raise ValueError(
            f"cross_entropy: float target of shape {target.shape} looks like class indices; "
            f"pass them as integers (e.g. y.astype(np.int64))"
        )


def _labels(logits: Tensor, labels: Tensor) -> Tensor:
    """The class indices, after checking their shape and range (two reductions: cheap)."""
    n_classes = logits.shape[-1]
    if labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"cross_entropy: class-index target of shape {labels.shape} does not match "
            f"logits of shape {logits.shape} (expected {logits.shape[:-1]})"
        )
    y = labels._data
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)].flat[0]
        raise ValueError(
            f"cross_entropy: target class {bad} is out of range for {n_classes} classes "
            f"(0..{n_classes - 1})"
        )
    return labels


def l2_penalty(params: Any, lam: float) -> Tensor:
    """lam * sum of ||w||^2 over params (R = ||w||^2, so the gradient is 2 lam w).
    `params` is one tensor, an iterable of tensors, or a module (its .parameters())."""
    if hasattr(params, "parameters"):
        params = params.parameters()
    if isinstance(params, Tensor):
        params = [params]
    terms: Iterable[Tensor] = ((w * w).sum() for w in params)
    total = None
    for term in terms:
        total = term if total is None else total + term
    if total is None:
        raise ValueError("l2_penalty: no parameters given")
    return total * lam
