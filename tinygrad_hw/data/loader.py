"""From arrays to training batches: DataLoader, train_val_split, one_hot, and the pixel
helpers (scale_pixels, flatten_images, add_bias_column, prepare_images). numpy in, numpy out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


class DataLoader:
    """Mini-batches (X_batch, y_batch) of numpy arrays, reshuffled every epoch.

    Epoch e (counting from 0, one per `iter()`) uses the order drawn from (seed, e), so two
    loaders with the same seed give the same batches, and an epoch left early does not
    change the next one. seed=None draws fresh entropy. len() is the number of batches.
    """

    def __init__(self, X: Any, y: Any, batch_size: int, shuffle: bool = True,
                 seed: int | None = 0, drop_last: bool = False) -> None:
        self.X, self.y = np.asarray(X), np.asarray(y)
        if self.X.ndim == 0 or self.y.ndim == 0:
            raise ValueError(f"DataLoader: X and y need a leading example axis, got shapes "
                             f"{self.X.shape} and {self.y.shape}")
        if len(self.X) != len(self.y):
            raise ValueError(f"DataLoader: X has {len(self.X)} examples but y has {len(self.y)} "
                             f"(shapes {self.X.shape} and {self.y.shape})")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.seed = seed if seed is not None else int(np.random.SeedSequence().entropy)
        self.epoch = 0

    def __len__(self) -> int:
        n, b = len(self.X), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def set_epoch(self, epoch: int) -> None:
        """Make the next iter() epoch number `epoch` (0-based), e.g. when resuming training."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order = self._order(self.epoch)  # drawn now, so each iter() call is one epoch
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            yield self.X[idx], self.y[idx]

    def _order(self, epoch: int) -> np.ndarray:
        n = len(self.X)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, epoch]).permutation(n)


def train_val_split(X: Any, y: Any, val_fraction: float = 0.2, seed: int = 0,
                    stratify: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split into (X_train, y_train, X_val, y_val); both parts keep the original order.

    round(N * val_fraction) examples go to validation. stratify=True (needs integer labels
    y of shape (N,)) gives every class the same share in both parts, up to rounding.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_val_split: X has {len(X)} examples but y has {len(y)}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"train_val_split: val_fraction must be in (0, 1), got {val_fraction}")
    n_val = int(np.floor(len(y) * val_fraction + 0.5))
    if not 0 < n_val < len(y):
        raise ValueError(f"train_val_split: {len(y)} examples with val_fraction={val_fraction} "
                         f"leave an empty part")
    rng = np.random.default_rng(seed)
    val = _stratified_pick(y, n_val, rng) if stratify else rng.permutation(len(y))[:n_val]
    is_val = np.zeros(len(y), bool)
    is_val[val] = True
    return X[~is_val], y[~is_val], X[is_val], y[is_val]


def _stratified_pick(y: np.ndarray, n_val: int, rng: np.random.Generator) -> np.ndarray:
    """n_val indices, each class's count proportional (largest remainders settle rounding)."""
    if y.ndim != 1 or y.dtype.kind not in "biu":
        raise ValueError(f"train_val_split: stratify needs integer class labels of shape (N,), "
                         f"got {y.dtype} {y.shape} (pass stratify=False)")
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    exact = counts * n_val / len(y)
    take = np.floor(exact).astype(int)
    extra = np.argsort(-(exact - take), kind="stable")[: n_val - take.sum()]
    take[extra] += 1
    picks = [rng.permutation(np.flatnonzero(inverse == c))[:k] for c, k in enumerate(take)]
    return np.concatenate(picks)


def one_hot(labels: Any, num_classes: int | None = None, dtype: Any = np.float32) -> np.ndarray:
    """Integer labels (N,) -> (N, num_classes) rows of zeros with a one at the label.

    num_classes defaults to max(labels) + 1; labels outside 0..num_classes-1 raise ValueError.
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        raise ValueError(f"one_hot: label {labels[bad].flat[0]} is outside 0..{num_classes - 1}")
    out = np.zeros(labels.shape + (num_classes,), dtype)
    np.put_along_axis(out, labels[..., None].astype(np.intp), 1, axis=-1)
    return out


def scale_pixels(images: Any, dtype: Any = np.float32) -> np.ndarray:
    """uint8 pixels 0..255 -> `dtype` in [0, 1] (divides by 255); any shape."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"scale_pixels: expects uint8 pixels 0..255, got {images.dtype} "
                        "(already scaled?)")
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"scale_pixels: dtype must be a float type, got {np.dtype(dtype)}")
    return images.astype(dtype) / 255  # a Python int keeps float32 as float32 (NEP 50)


def flatten_images(images: Any) -> np.ndarray:
    """(N, 28, 28) -> (N, 784): one example per row, as the course's X (N x d)."""
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(f"flatten_images: needs shape (N, ...), got {images.shape}")
    return images.reshape(len(images), -1)


def add_bias_column(X: Any) -> np.ndarray:
    """(N, d) -> (N, d + 1) with a last column of ones: the bias trick (784 -> 785)."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"add_bias_column: needs a 2-D X (N, d), got shape {X.shape} "
                         "(flatten images first)")
    return np.concatenate([X, np.ones((len(X), 1), X.dtype)], axis=1)


def prepare_images(images: Any, flatten: bool = True, bias: bool = False,
                   dtype: Any = np.float32) -> np.ndarray:
    """scale_pixels, then flatten_images (if `flatten`), then add_bias_column (if `bias`)."""
    X = scale_pixels(images, dtype)
    if flatten:
        X = flatten_images(X)
    return add_bias_column(X) if bias else X
