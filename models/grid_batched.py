"""Softmax regression trained for many (learning rate, L2) pairs at once: one tinygrad_hw
program with a configuration axis, the engine of models.grid_search.

Every configuration c has its own weights W_c (10 x 784) and bias b_c, stored side by side
as the columns of one (784, C*10) matrix and one (C*10,) vector. A mini-batch X (n x 784)
goes through all of them in one product, X @ W -> (n, C*10), and the loss is

    sum over c of [ mean cross-entropy of configuration c + lambda_c ||W_c||^2 ],

so its gradient with respect to configuration c's columns is exactly that configuration's
own gradient (the other terms do not depend on them): autodiff handles the configuration
axis through the reshapes and broadcasts. Each configuration then takes its own SGD step,
W_c -= lr_c dC/dW_c. All configurations see the same batches in the same order as a single
run of `models.softmax_regression` with the same seed (the DataLoader draws epoch e's order
from (seed, e)), so each column trains as that single run does, up to float32 rounding.

After every epoch the validation loss and accuracy of every configuration are measured, so
one run of E epochs gives the results of every epoch count up to E."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

import tinygrad_hw as tg
from tinygrad_hw import Tensor
from tinygrad_hw.data import DataLoader

from . import runner

CLASSES, FEATURES = 10, 784
EVAL_BATCH = 2000  # rows of validation data evaluated at once, as the single runs do


@dataclass
class GroupResult:
    """Per-epoch curves of C configurations trained together, each of shape (epochs, C):
    validation loss (unregularised mean cross-entropy) and accuracy after each epoch, and
    the epoch's training loss (mean data loss over its steps, as fit() records it). A
    configuration whose loss became NaN or inf has NaN from that epoch on."""

    batch_size: int
    lrs: list[float]
    l2s: list[float]
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    train_loss: np.ndarray
    seconds: float = 0.0


@functools.lru_cache(maxsize=2)
def load_data(dataset: str, val_split: float, seed: int) -> runner.Split:
    """The train/validation/test split a single softmax-regression run with these flags uses
    (loaded once per process)."""
    return runner.load_split(dataset, val_split, seed)


class BatchedSoftmax:
    """C softmax-regression models (zero-initialised, float32) as one set of tensors."""

    def __init__(self, lrs: list[float], l2s: list[float]) -> None:
        if len(lrs) != len(l2s) or not lrs:
            raise ValueError(f"BatchedSoftmax: need as many learning rates as L2 strengths "
                             f"(at least one), got {len(lrs)} and {len(l2s)}")
        self.C = len(lrs)
        width = self.C * CLASSES  # column c*10 + k is class k of configuration c
        self.W = Tensor(np.zeros((FEATURES, width), np.float32), requires_grad=True, name="W")
        self.b = Tensor(np.zeros(width, np.float32), requires_grad=True, name="b")
        self.lr = np.repeat(np.asarray(lrs, np.float32), CLASSES)  # each column's step size
        self.decay = np.repeat(2 * np.asarray(l2s, np.float32), CLASSES)  # 2 lambda_c

    def logits(self, X: Tensor | np.ndarray) -> Tensor:
        """(n, C, 10): every configuration's logits for the batch, from one product."""
        return (tg.as_tensor(X) @ self.W + self.b).reshape(len(X), self.C, CLASSES)

    def losses(self, z: Tensor, y: np.ndarray) -> Tensor:
        """(C,): each configuration's mean cross-entropy, from logits z (n, C, 10)."""
        n = len(y)
        per_example = tg.cross_entropy(z.reshape(n * self.C, CLASSES), np.repeat(y, self.C),
                                       reduction="none")
        return per_example.reshape(n, self.C).mean(axis=0)

    def step(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """One SGD step of every configuration on the batch; returns the data losses (C,).

        The L2 term lambda_c ||W_c||^2 enters through its gradient 2 lambda_c W_c, added in
        the update (SGD's weight decay of 2 lambda), rather than as a term of the loss: the
        same step, without three passes over W per step to differentiate the penalty."""
        data_loss = self.losses(self.logits(X), y)
        self.W.grad = self.b.grad = None
        data_loss.sum().backward()
        with tg.no_grad():
            self.W -= self.lr * (self.W.grad + self.decay * self.W)
            self.b -= self.lr * self.b.grad
        return data_loss.numpy()

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(C,) validation losses and accuracies, in batches of EVAL_BATCH rows."""
        loss, correct = np.zeros(self.C), np.zeros(self.C)
        with tg.no_grad():
            for i in range(0, len(y), EVAL_BATCH):
                xb, yb = X[i:i + EVAL_BATCH], y[i:i + EVAL_BATCH]
                z = self.logits(xb)
                loss += self.losses(z, yb).numpy().astype(np.float64) * len(yb)
                correct += (z.numpy().argmax(axis=-1) == yb[:, None]).sum(axis=0)
        return loss / len(y), correct / len(y)


def train_group(split: runner.Split, batch_size: int, lrs: list[float], l2s: list[float],
                epochs: int, seed: int, on_epoch: Callable[[int, int], None] | None = None
                ) -> GroupResult:
    """Train every (lrs[c], l2s[c]) configuration with mini-batches of `batch_size` for
    `epochs` epochs; on_epoch(epoch, steps in it) is called after each (for progress)."""
    began = time.perf_counter()
    model = BatchedSoftmax(lrs, l2s)
    loader = DataLoader(split.X_train, split.y_train, batch_size, seed=seed)
    curves = {k: np.full((epochs, model.C), np.nan) for k in ("val_loss", "val_accuracy",
                                                                "train_loss")}
    alive = np.ones(model.C, bool)
    with np.errstate(all="ignore"):  # a diverging configuration must not stop the others
        for epoch in range(epochs):
            loader.set_epoch(epoch)
            total = np.zeros(model.C)
            for xb, yb in loader:
                total += model.step(xb, yb).astype(np.float64) * len(yb)
            alive &= np.isfinite(total)
            val_loss, val_acc = model.evaluate(split.X_val, split.y_val)
            alive &= np.isfinite(val_loss)
            for key, values in (("train_loss", total / len(split.y_train)),
                                ("val_loss", val_loss), ("val_accuracy", val_acc)):
                curves[key][epoch] = np.where(alive, values, np.nan)
            if on_epoch is not None:
                on_epoch(epoch + 1, len(loader))
    return GroupResult(batch_size, list(lrs), list(l2s), seconds=time.perf_counter() - began,
                       **curves)


def run_group(spec: dict) -> dict:
    """Train one group of configurations described by a plain dict (so that it can travel to
    another process or machine): dataset, val_split, seed, batch_size, lrs, l2s, epochs. The
    data is loaded where this runs. Returns the spec with the curves as lists added.

    It computes with one BLAS thread wherever it runs: a matrix product split over threads
    adds in another order, so this keeps the results bit for bit the same in this process,
    in a pool of processes (which share the cores anyway) and on a Dask worker."""
    split = load_data(spec["dataset"], spec["val_split"], spec["seed"])
    with threadpool_limits(1):
        res = train_group(split, spec["batch_size"], spec["lrs"], spec["l2s"],
                          spec["epochs"], spec["seed"], on_epoch=_progress_hook)
    curves = {k: getattr(res, k).tolist() for k in ("val_loss", "val_accuracy", "train_loss")}
    return {**spec, **curves, "seconds": res.seconds}


# Where a worker reports finished epochs (a multiprocessing queue set by the local pool's
# initializer); None elsewhere.
_progress_queue = None


def _progress_hook(epoch: int, steps: int) -> None:
    if _progress_queue is not None:
        _progress_queue.put(steps)
