"""The training loop: fit() over DataLoaders with a history, a progress bar, early stopping,
per-epoch checkpoints that resume exactly, and a clear stop when the loss turns NaN/inf."""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import tqdm

from .autograd import mask, no_grad
from .compile import compile as compile_step
from .functions import stack
from .io import load, save
from .metrics import accuracy
from .nn.functional import cross_entropy
from .tensor import Tensor

_FIX_DATA = "Fix the data: np.isfinite(X) shows where the bad values are."


class TrainingDiverged(RuntimeError, FloatingPointError):
    """The training or validation loss became NaN or inf. The message names the epoch and
    step (or the validation batch) and the cause: NaN/inf in that input batch, or, when the
    data is finite, divergence."""


@dataclass
class History:
    """Per-epoch records of a fit() run (epochs count from 1), and the loss of every step."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early_at: int = 0  # 0: ran every epoch

    def to_dict(self) -> dict[str, Any]:
        return {f.name: np.asarray(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        def plain(v: np.ndarray) -> Any:
            return v.tolist()

        return cls(**{f.name: plain(np.asarray(d[f.name])) for f in fields(cls)})


def _loss_value(loss: Tensor | float, xb: Any, yb: Any, epoch: int, step: int, n_steps: int,
                checkpoint: Any) -> float:
    value = loss if isinstance(loss, float) else loss.item()
    if not math.isfinite(value):  # only now look at the batch: no cost on finite steps
        where = f"training loss became {value} at epoch {epoch}, step {step} of {n_steps}"
        stopped = f"training stopped and {_kept(checkpoint)}"
        bad = _bad_batch(xb, yb)
        if bad:
            raise TrainingDiverged(f"{where}: the input batch (index {step - 1} in the epoch) "
                                   f"{bad}; {stopped}. {_FIX_DATA}")
        raise TrainingDiverged(f"{where}; {stopped}. Try a smaller learning rate.")
    return value


def _array(x: Any) -> Any:
    """A batch as a numpy array (Tensors as they are)."""
    return x if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x)


def _kept(checkpoint: Any) -> str:
    return (f"the last good checkpoint ({checkpoint}) was kept" if checkpoint and
            os.path.exists(checkpoint) else "no checkpoint was written")


def _bad_batch(xb: Any, yb: Any) -> str | None:
    """What is wrong with a batch: "is empty", "contains NaN in X (3 values)", ... or None."""
    if len(yb) == 0:
        return "is empty (0 examples)"
    found = []
    for name, part in (("X", xb), ("y", yb)):
        arr = part.numpy() if isinstance(part, Tensor) else np.asarray(part)
        if arr.dtype.kind not in "fc":
            continue
        for kind, count in (("NaN", np.isnan(arr).sum()), ("inf", np.isinf(arr).sum())):
            if count:
                found.append(f"{kind} in {name} ({count} value{'s' if count > 1 else ''})")
    return "contains " + ", ".join(found) if found else None


def evaluate(model: Callable, loader: Iterable, loss_fn: Callable = cross_entropy):
    """(mean loss, accuracy) of `model` over every batch of `loader`, without recording."""
    loss, acc, _ = _evaluate(model, loader, loss_fn)
    return loss, acc


def _evaluate(model: Callable, loader: Iterable, loss_fn: Callable):
    """(mean loss, accuracy, the first batch whose loss is NaN/inf: (index, its data) or None);
    batches of 0 examples count for nothing."""
    total, correct, count, first_bad = 0.0, 0.0, 0, None
    with no_grad():
        for i, (xb, yb) in enumerate(loader):
            if len(yb) == 0:
                continue
            out = model(Tensor(xb))
            value = loss_fn(out, yb).item()
            if first_bad is None and not math.isfinite(value):
                first_bad = (i, xb, yb)
            total += value * len(yb)
            correct += accuracy(out, yb) * len(yb)
            count += len(yb)
    nan = float("nan")
    return (total / count, correct / count, first_bad) if count else (nan, nan, None)


def _validate(model: Any, loader: Iterable | None, loss_fn: Callable, epoch: int,
              checkpoint: Any):
    """evaluate() (NaNs without a loader), raising TrainingDiverged when the validation loss
    is NaN/inf: a NaN must neither pass silently nor take part in choosing the best epoch."""
    if loader is None:
        return float("nan"), float("nan")
    loss, acc, first_bad = _evaluate(model, loader, loss_fn)
    if math.isfinite(loss):
        return loss, acc
    where = f"validation loss is {loss} after epoch {epoch}"
    stopped = f"training stopped and {_kept(checkpoint)}"
    bad = first_bad and _bad_batch(first_bad[1], first_bad[2])
    if bad:
        n = len(loader) if hasattr(loader, "__len__") else "?"
        raise TrainingDiverged(f"{where}: validation batch {first_bad[0] + 1} of {n} (index "
                               f"{first_bad[0]}) {bad}; {stopped}. {_FIX_DATA}")
    raise TrainingDiverged(f"{where} although its data is finite: the model diverged; "
                           f"{stopped}. Try a smaller learning rate.")


def _check_batches(**loaders: Any) -> None:
    """Refuse a loader that yields no batch (len() 0) before training starts."""
    for which, loader in loaders.items():
        if loader is None or not hasattr(loader, "__len__") or len(loader) > 0:
            continue
        X, size = getattr(loader, "X", None), getattr(loader, "batch_size", None)
        if X is None or size is None:
            raise ValueError(f"fit: the {which} loader yields no batch (its len() is 0)")
        why = ("its data is empty" if len(X) == 0 else "drop_last=True drops the only, "
               "incomplete batch (use a smaller batch_size or drop_last=False)")
        raise ValueError(f"fit: the {which} loader yields no batch ({len(X)} examples, "
                         f"batch_size={size}, drop_last={getattr(loader, 'drop_last', False)}): "
                         f"{why}")


def _set_mode(model: Any, training: bool) -> None:
    method = getattr(model, "train" if training else "eval", None)
    if callable(method):
        method()


def _compiled_step(model, optimizer, loss_fn, regularizer) -> Callable:
    """tg.compile of one training step, returning [loss, data loss, accuracy] in one tensor
    (a compiled step returns one tensor, and reads no value while it runs)."""

    def train_step(X: Tensor, y: Tensor) -> Tensor:
        optimizer.zero_grad()
        out = model(X)
        data_loss = loss_fn(out, y)
        loss = data_loss if regularizer is None else data_loss + regularizer(model)
        loss.backward()
        optimizer.step()
        acc = mask(_accuracy, out, y)
        return stack([loss.astype(np.float64), data_loss.astype(np.float64), acc])

    return compile_step(train_step)


def _accuracy(out: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.array(accuracy(out, y), dtype=np.float64)


def _train_epoch(model, optimizer, loader, loss_fn, regularizer, epoch, bar, checkpoint, hist,
                 compiled=None):
    _set_mode(model, True)
    if hasattr(loader, "set_epoch"):  # epoch e's shuffle depends on e alone: resumable
        loader.set_epoch(epoch - 1)
    total, correct, count = 0.0, 0.0, 0
    n_steps = len(loader)
    for step, (xb, yb) in enumerate(loader, start=1):
        if compiled is not None:  # the step has run when its loss is checked
            loss, data_loss, acc = compiled(_array(xb), _array(yb))._data.tolist()
            value = _loss_value(loss, xb, yb, epoch, step, n_steps, checkpoint)
            hist.step_loss.append(value)
            total += data_loss * len(yb)
            correct += acc * len(yb)
            count += len(yb)
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{value:.4f}")
            continue
        optimizer.zero_grad()
        out = model(Tensor(xb))
        data_loss = loss_fn(out, yb)
        loss = data_loss if regularizer is None else data_loss + regularizer(model)
        value = _loss_value(loss, xb, yb, epoch, step, n_steps, checkpoint)
        loss.backward()
        optimizer.step()
        hist.step_loss.append(value)
        total += data_loss.item() * len(yb)
        correct += accuracy(out.detach(), yb) * len(yb)
        count += len(yb)
        bar.update(1)
        bar.set_postfix(epoch=epoch, loss=f"{value:.4f}")
    if count == 0:
        raise ValueError(f"fit: the training loader yielded no batch in epoch {epoch}")
    return total / count, correct / count


def fit(
    model: Any,
    optimizer: Any,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    *,
    epochs: int = 10,
    loss_fn: Callable = cross_entropy,
    regularizer: Callable | None = None,
    patience: int | None = None,
    min_delta: float = 0.0,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool | None = None,
    lr_schedule: Callable[[int], float] | None = None,
    compile: bool = False,
) -> History:
    """Train `model` with `optimizer` for `epochs` passes over `train_loader`.

    loss_fn(outputs, labels) gives the data loss; `regularizer(model)`, if given, is added to
    it for the gradient (e.g. lambda m: tg.l2_penalty(m.weight, lam)); the history records the
    data loss. With `patience`, training stops once the validation loss (training loss
    without a val_loader) has not improved by more than `min_delta` for that many epochs, and
    the best weights are restored. With `checkpoint`, everything needed to continue is saved
    atomically after every epoch; `resume=True` continues from it with the same results an
    uninterrupted run gives (the loaders must shuffle by seed and epoch). A NaN/inf training
    or validation loss raises TrainingDiverged naming the epoch and step (or validation
    batch) and whether that batch holds NaN/inf; the last good checkpoint stays. A loader
    that yields no batch raises ValueError.
    progress: a tqdm bar (None: only on a terminal). lr_schedule(epoch) -> the learning rate
    of that epoch (epochs count from 1), e.g. tg.train.linear_decay(0.5, epochs).
    compile=True runs each training step through tg.compile (same results, faster): the
    model, loss_fn and regularizer must then compute in tensor ops without reading values
    (docs/compile.md), and a NaN/inf loss is detected after its step has been applied."""
    _check_batches(training=train_loader, validation=val_loader)
    compiled = _compiled_step(model, optimizer, loss_fn, regularizer) if compile else None
    hist, best, start = History(), _Best(), 1
    if resume and checkpoint and os.path.exists(checkpoint):
        start, hist, best = _restore(checkpoint, model, optimizer)
        if hist.stopped_early_at:  # the saved run had already stopped: nothing left to do
            start = epochs + 1
    steps = len(train_loader) * max(epochs - start + 1, 0)
    disable = None if progress is None else not progress
    with _bar_class()(total=steps, disable=disable, unit="step", leave=False) as bar:
        for epoch in range(start, epochs + 1):
            began = time.perf_counter()
            if lr_schedule is not None:
                optimizer.lr = float(lr_schedule(epoch))
            tr_loss, tr_acc = _train_epoch(model, optimizer, train_loader, loss_fn, regularizer,
                                           epoch, bar, checkpoint, hist, compiled)
            _set_mode(model, False)
            va_loss, va_acc = _validate(model, val_loader, loss_fn, epoch, checkpoint)
            _record(hist, epoch, tr_loss, tr_acc, va_loss, va_acc, time.perf_counter() - began)
            monitored = tr_loss if val_loader is None else va_loss
            stop = best.update(monitored, epoch, model, min_delta, patience)
            hist.best_epoch = best.epoch
            if stop:
                hist.stopped_early_at = epoch
            if checkpoint:
                _save(checkpoint, epoch, model, optimizer, hist, best)
            if stop:
                break
    if patience is not None and best.state is not None:
        model.load_state_dict(best.state)
    return hist


def _bar_class() -> type:
    """tqdm's notebook widget inside Jupyter when ipywidgets is there to draw it, else the
    text bar (tqdm.auto would warn on every import without ipywidgets)."""
    if "ipykernel" in sys.modules and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm as notebook_bar

        return notebook_bar
    return tqdm.tqdm


def linear_decay(lr: float, epochs: int, final_fraction: float = 0.0) -> Callable[[int], float]:
    """A schedule falling linearly from `lr` in epoch 1 towards lr * final_fraction after the
    last (the last epoch still takes a step of lr / epochs when final_fraction is 0): large
    steps first, small ones to settle near the minimum instead of rattling around it."""

    def schedule(epoch: int) -> float:
        progress = (epoch - 1) / max(epochs, 1)
        return lr * (1 - (1 - final_fraction) * progress)

    return schedule


def _record(hist: History, epoch: int, *values: float) -> None:
    hist.epoch.append(epoch)
    for name, value in zip(("train_loss", "train_accuracy", "val_loss", "val_accuracy",
                            "seconds"), values):
        getattr(hist, name).append(float(value))


@dataclass
class _Best:
    """The best monitored loss so far, its epoch and weights, and epochs since it."""

    loss: float = math.inf
    epoch: int = 0
    state: dict | None = None
    bad_epochs: int = 0

    def update(self, loss: float, epoch: int, model: Any, min_delta: float,
               patience: int | None) -> bool:
        if loss < self.loss - min_delta:
            self.loss, self.epoch, self.bad_epochs = loss, epoch, 0
            if patience is not None:
                self.state = {k: np.array(v) for k, v in model.state_dict().items()}
            return False
        self.bad_epochs += 1
        return patience is not None and self.bad_epochs >= patience


def _save(path, epoch, model, optimizer, hist: History, best: _Best) -> None:
    save({
        "epoch": epoch,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "history": hist.to_dict(),
        "best": {"loss": best.loss, "epoch": best.epoch, "bad_epochs": best.bad_epochs,
                 "state": best.state or {}},
    }, path)


def load_checkpoint(path: str | os.PathLike, model: Any, optimizer: Any = None) -> History:
    """Put `model` (and `optimizer`, if given) back to the state fit() saved in its checkpoint
    after the last finished epoch, and return the history up to that epoch: what is left of
    a run that was interrupted, e.g. by Ctrl-C (fit(..., resume=True) continues it)."""
    ckpt = load(path)
    model.load_state_dict(ckpt["model"])
    if optimizer is not None:
        optimizer.load_state_dict(ckpt["optimizer"])
    return History.from_dict(ckpt["history"])


def _restore(path, model, optimizer) -> tuple[int, History, _Best]:
    ckpt = load(path)
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    b = ckpt["best"]
    best = _Best(float(b["loss"]), int(b["epoch"]), dict(b["state"]) or None,
                 int(b["bad_epochs"]))
    return int(ckpt["epoch"]) + 1, History.from_dict(ckpt["history"]), best
