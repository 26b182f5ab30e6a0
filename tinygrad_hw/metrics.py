"""Classification metrics on model outputs: predicted classes, accuracy, confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np


def _array(x: Any) -> np.ndarray:
    return np.asarray(getattr(x, "_data", x))


def predict_classes(outputs: Any) -> np.ndarray:
    """Class predictions from model outputs: the arg-max of each row for (N, K) scores with
    K > 1; for one score per example ((N,) or (N, 1)), class 1 where the score is > 0 (a logit;
    use `probabilities > 0.5` yourself for probabilities)."""
    out = _array(outputs)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(len(out)) > 0).astype(np.int64)


def accuracy(outputs: Any, labels: Any) -> float:
    """Fraction of examples whose predicted class (predict_classes) equals the label."""
    labels = _array(labels)
    if labels.ndim == 2:  # one-hot rows
        labels = labels.argmax(axis=1)
    pred = predict_classes(outputs)
    if pred.shape != labels.shape:
        raise ValueError(f"accuracy: {pred.shape[0]} predictions but labels of shape "
                         f"{labels.shape}")
    return float(np.mean(pred == labels)) if len(labels) else float("nan")


def confusion_matrix(labels: Any, predictions: Any, num_classes: int | None = None):
    """counts[i, j] = number of examples of true class i predicted as class j."""
    labels, predictions = _array(labels).astype(np.int64), _array(predictions).astype(np.int64)
    if labels.shape != predictions.shape:
        raise ValueError(f"confusion_matrix: labels {labels.shape} and predictions "
                         f"{predictions.shape} differ in shape")
    k = num_classes or int(max(labels.max(initial=-1), predictions.max(initial=-1)) + 1)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts
