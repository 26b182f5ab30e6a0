"""Step size and batch size (docs/course.md §4) with softmax regression on a subset of
Fashion-MNIST: too-small / good / too-large learning rates, and batch size 1 against larger
batches: python -m models.step_size_study [--lrs S G L] [--batch-sizes 1 32 256] [--out ...]"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw import Tensor, nn
from tinygrad_hw.data import DataLoader

from . import cli, runner

ROLES = ("too small", "good", "too large")


class DivergenceGuard:
    """A loss_fn for fit: records every training step's loss and raises TrainingDiverged once
    it is NaN/inf or above `blowup` x the first step's loss (see DIVERGED_NOTE)."""

    def __init__(self, blowup: float, steps_per_epoch: int) -> None:
        self.blowup, self.steps_per_epoch = blowup, steps_per_epoch
        self.losses: list[float] = []
        self.diverged_at: dict | None = None  # {"epoch", "step"} once it has raised

    def __call__(self, logits: Tensor, labels: np.ndarray) -> Tensor:
        loss = tg.cross_entropy(logits, labels)
        if not tg.is_grad_enabled():  # an evaluation pass, not a training step
            return loss
        self.losses.append(value := loss.item())
        if not math.isfinite(value) or value > self.blowup * self.losses[0]:
            epoch, step = divmod(len(self.losses) - 1, self.steps_per_epoch)
            self.diverged_at = {"epoch": epoch + 1, "step": step + 1}
            raise tg.train.TrainingDiverged(
                f"training loss became {value:.4g} (over {self.blowup:g} x the first step's "
                f"{self.losses[0]:.4g}) at epoch {epoch + 1}, step {step + 1} of "
                f"{self.steps_per_epoch}")
        return loss


class CostTracker:
    """Wraps an optimizer; after each step records the model's cross-entropy on a fixed set of
    training examples, the cost J itself rather than the mini-batch's estimate of it."""

    def __init__(self, inner: tg.optim.Optimizer, model: nn.Module, X: np.ndarray,
                 y: np.ndarray) -> None:
        self.inner, self.model, self.X, self.y = inner, model, Tensor(X), y
        self.costs: list[float] = []

    lr = property(lambda self: self.inner.lr, lambda self, v: setattr(self.inner, "lr", v))

    def zero_grad(self) -> None:
        self.inner.zero_grad()

    def step(self) -> None:
        self.inner.step()
        with tg.no_grad():
            self.costs.append(tg.cross_entropy(self.model(self.X), self.y).item())


def _model(args: argparse.Namespace) -> nn.Linear:
    return nn.Linear(784, 10, init=args.init, rng=args.seed, dtype=np.float32)


def train_loader(split: runner.Split, settings: runner.Training) -> DataLoader:
    """The training loader of every run: shuffled by --seed, and with drop_last, so that every
    step's loss is that of a full batch (5,000 examples in batches of 64 would end each epoch
    on a batch of 8, whose loss is a far noisier estimate). Only a batch larger than the
    whole training set keeps its one incomplete batch."""
    n = len(split.X_train)
    return DataLoader(split.X_train, split.y_train, settings.batch_size, seed=settings.seed,
                      drop_last=n >= settings.batch_size)


def _fit(model: nn.Module, split: runner.Split, settings: runner.Training,
         loss_fn: DivergenceGuard) -> tuple[tg.train.History, float]:
    """runner.train's fit (the optimizer, schedule, L2, patience) on train_loader."""
    _, val_loader = runner.loaders(split, settings)
    schedule = (tg.train.linear_decay(settings.lr, settings.epochs)
                if settings.schedule == "linear" else None)
    began = time.perf_counter()
    hist = tg.fit(model, runner.optimizer(model, settings), train_loader(split, settings),
                  val_loader, epochs=settings.epochs, loss_fn=loss_fn,
                  regularizer=runner.l2_regularizer(settings), patience=settings.patience,
                  progress=settings.progress, lr_schedule=schedule, compile=settings.compile)
    return hist, time.perf_counter() - began


def lr_run(split: runner.Split, args: argparse.Namespace, lr: float, role: str) -> dict:
    """One learning rate at args.batch_size: its step losses, and where it diverged if it did."""
    settings = runner.Training.of(args, lr=lr)
    guard = DivergenceGuard(args.blowup, len(train_loader(split, settings)))
    run = {"lr": lr, "role": role, "model": _model(args), "hist": None, "diverged": None}
    try:
        run["hist"], run["seconds"] = _fit(run["model"], split, settings, guard)
        run["losses"] = run["hist"].step_loss
    except tg.train.TrainingDiverged as err:
        run.update(diverged=str(err), losses=guard.losses, seconds=None,
                   diverged_at=guard.diverged_at)
    print(f"lr = {lr:g} ({role}): " + (f"DIVERGED, {run['diverged']}" if run["diverged"] else
                                       f"final step loss {run['losses'][-1]:.4f}"))
    return run


def batch_run(split: runner.Split, args: argparse.Namespace, batch_size: int,
              probe: tuple[np.ndarray, np.ndarray]) -> dict:
    """One batch size at args.batch_lr: step losses from fit, and the cost on `probe` after
    each step."""
    settings = runner.Training.of(args, batch_size=batch_size, lr=args.batch_lr)
    model = _model(args)
    tracker = CostTracker(runner.optimizer(model, settings), model, *probe)
    loader = train_loader(split, settings)
    guard = DivergenceGuard(math.inf, len(loader))  # stops on NaN/inf only
    began = time.perf_counter()
    try:
        hist = tg.fit(model, tracker, loader, epochs=args.epochs, progress=args.progress,
                      loss_fn=guard, regularizer=runner.l2_regularizer(settings))
        losses, diverged = hist.step_loss, None
    except tg.train.TrainingDiverged as err:
        losses, diverged = guard.losses, str(err)
    run = {"batch_size": batch_size, "losses": losses, "costs": tracker.costs,
           "diverged": diverged, "seconds": time.perf_counter() - began,
           "steps_per_epoch": len(loader)}
    run.update(noise_stats(run))
    print(f"batch size {batch_size}: the cost J rose after {run['cost_rose']:.0%} of the "
          f"updates, largest step-loss rise {run['largest_rise']:.3g}")
    return run


def noise_stats(run: dict) -> dict:
    """How noisy a run is: the fraction of steps whose mini-batch loss rose over the step
    before, the largest such rise, the standard deviation of the step loss in the last epoch,
    and the fraction of updates after which the cost J on the fixed probe set rose."""
    losses, costs = np.asarray(run["losses"]), np.asarray(run["costs"])
    rises, cost_rises = np.diff(losses), np.diff(costs)
    last = losses[-run["steps_per_epoch"]:]
    return {"loss_rose": float((rises > 0).mean()) if rises.size else 0.0,
            "largest_rise": float(rises.max(initial=0.0)),
            "last_epoch_std": float(last.std()), "last_epoch_mean": float(last.mean()),
            "cost_rose": float((cost_rises > 0).mean()) if cost_rises.size else 0.0,
            "final_cost": float(costs[-1]) if costs.size else float("nan")}


def _examples_seen(run: dict, n_train: int) -> np.ndarray:
    """The number of training examples seen after each step (every batch is full, so
    steps x batch size; the examples drop_last leaves out of an epoch are not seen)."""
    steps = np.arange(1, len(run["losses"]) + 1)
    return steps * min(run["batch_size"], n_train)


def _lr_picture(out: Path, runs: list[dict], zoom: int = 30) -> dict:
    def lines(limit: int | None) -> list[dict]:
        drawn = []
        for run in runs:
            y = run["losses"][:limit]
            end = (f"diverged at step {len(run['losses'])}\n(loss {run['losses'][-1]:.3g})"
                   if run["diverged"] and len(y) == len(run["losses"]) else None)
            drawn.append({"x": np.arange(1, len(y) + 1), "y": y, "end": end, "lw": 1.4,
                          "label": f"lr = {run['lr']:g} ({run['role']})"})
        return drawn

    tg.plots.plot_line_panels({"every step": lines(None), f"the first {zoom} steps": lines(zoom)},
                              out / "learning_rates.png", "step", "mini-batch cross-entropy",
                              title="Step size: too small, good, too large", log_y=True)
    return {"file": "learning_rates.png", "caption": "Loss at every step for a too-small, a "
            "good and a too-large learning rate (log scale; the right panel zooms in)"}


def _batch_lines(runs: list[dict], key: str, n_train: int, smooth: int = 0) -> list[dict]:
    """Curves against the examples seen; with `smooth`, small batches' noisy curves are drawn
    faintly under their moving average over `smooth` steps."""
    lines = []
    for i, run in enumerate(runs):
        x, y, color = _examples_seen(run, n_train), run[key], f"C{i}"
        label, width = f"batch size {run['batch_size']}", 1.5
        if smooth and run["batch_size"] < 8 and len(y) > smooth:
            lines.append({"x": x[: len(y)], "y": y, "label": label, "lw": 0.4, "alpha": 0.3,
                          "color": color})
            y = np.convolve(y, np.ones(smooth) / smooth, mode="valid")
            x, label = x[smooth - 1:], f"{label}: moving average of {smooth} steps"
        lines.append({"x": x[: len(y)], "y": y, "label": label, "lw": width, "color": color})
    return lines


def _batch_picture(out: Path, runs: list[dict], n_train: int, n_probe: int,
                   lr: float) -> dict:
    panels = {"per-step cost: the mini-batch's loss": _batch_lines(runs, "losses", n_train, 50),
              f"cost J on {n_probe} fixed training examples after each step":
                  _batch_lines(runs, "costs", n_train)}
    sizes = ", ".join(str(r["batch_size"]) for r in runs)
    tg.plots.plot_line_panels(panels, out / "batch_sizes.png", "training examples seen",
                              "cross-entropy",
                              title=f"Batch sizes {sizes} at the same learning rate, {lr:g}")
    return {"file": "batch_sizes.png", "caption": batch_caption(runs, n_probe, lr)}


def batch_caption(runs: list[dict], n_probe: int, lr: float) -> str:
    """What batch_sizes.png shows, read off the runs' numbers: which batch size's step loss is
    the noisiest, how often its cost J rose, and which one ends with the lowest J."""
    sizes = ", ".join(str(r["batch_size"]) for r in runs)
    text = f"Cost per step against the examples seen, batch sizes {sizes} at lr {lr:g}"
    measured = [r for r in runs if math.isfinite(r["last_epoch_std"])]
    if len(measured) < 2:
        return text
    noisy = max(measured, key=lambda r: r["last_epoch_std"])
    calm = min(measured, key=lambda r: r["last_epoch_std"])
    text += (f": batch size {noisy['batch_size']} is the noisiest (step-loss std "
             f"{noisy['last_epoch_std']:.3f} in the last epoch, {calm['last_epoch_std']:.3f} for "
             f"batch size {calm['batch_size']}; J on {n_probe} fixed examples rose after "
             f"{noisy['cost_rose']:.0%} of its updates)")
    finished = [r for r in runs if not r["diverged"] and math.isfinite(r["final_cost"])]
    if not finished:
        return text + "; every run diverged"
    low = min(finished, key=lambda r: r["final_cost"])
    high = max(finished, key=lambda r: r["final_cost"])
    if low is high:
        return text + f"; it ends at J = {low['final_cost']:.3f}"
    who = "yet it" if low is noisy else f"batch size {low['batch_size']}"
    return text + (f", {who} ends with the lowest J, {low['final_cost']:.3f} after "
                   f"{len(low['losses'])} updates, against {high['final_cost']:.3f} for batch "
                   f"size {high['batch_size']} after {len(high['losses'])}")


def _tables(lr_runs: list[dict], batch_runs: list[dict], lr: float) -> dict:
    lr_rows = [[r["role"], r["lr"], _outcome(r), len(r["losses"]), r["losses"][0],
                r["losses"][-1], _last_epoch_mean(r),
                None if r["diverged"] else r["hist"].val_accuracy[-1]] for r in lr_runs]
    batch_rows = [[r["batch_size"], lr, len(r["losses"]), r["loss_rose"], r["largest_rise"],
                   r["last_epoch_std"], r["cost_rose"], r["final_cost"], r["seconds"]]
                  for r in batch_runs]
    return {"Learning rates": {"columns": ["step size", "lr", "outcome", "steps run",
                                           "first step's loss", "last step's loss",
                                           "mean step loss, last epoch", "val accuracy"],
                               "rows": lr_rows},
            "Batch sizes": {"columns": ["batch size", "lr", "steps", "share of steps whose loss "
                                        "rose", "largest rise", "std of step loss (last epoch)",
                                        "share of updates that raised J", "final J", "seconds"],
                            "rows": batch_rows}}


def _last_epoch_mean(run: dict) -> float | None:
    """The mean step loss of the last epoch (None for a run that diverged)."""
    if run["diverged"] or run["hist"] is None:
        return None
    steps = len(run["losses"]) // max(len(run["hist"].epoch), 1)
    return float(np.mean(run["losses"][-steps:]))


def _outcome(run: dict) -> str:
    at = run.get("diverged_at") or {}
    return (f"DIVERGED at epoch {at.get('epoch')}, step {at.get('step')} (loss "
            f"{run['losses'][-1]:.4g})" if run["diverged"] else "ran every epoch")


def _entry(run: dict) -> dict:
    """A run for report.json: everything but the model, history and curves."""
    skip = ("model", "hist", "losses", "costs")
    return {k: v for k, v in run.items() if k not in skip} | {
        "diverged": bool(run["diverged"]), "message": run["diverged"],
        "steps_run": len(run["losses"]), "final_step_loss": run["losses"][-1]}


def _graph(out: Path, model: nn.Linear, split: runner.Split, batch_size: int) -> list[str]:
    X, y = split.X_train[:batch_size], split.y_train[:batch_size]
    graph_loss = tg.cross_entropy(model(Tensor(X, name="X (one batch)")), y)
    graph_loss.backward()
    return runner.write_graph(graph_loss, out, model, "softmax regression (good lr): one batch")


def _parser() -> argparse.ArgumentParser:
    p = runner.parser("step_size_study", __doc__, epochs=2, lr=0.1, init="zeros")
    p.add_argument("--subset", type=cli.NONNEGATIVE_INT, default=5000,
                   help="training examples used (0: all of the training split)")
    p.add_argument("--lrs", type=cli.POSITIVE, nargs=3, metavar=("SMALL", "GOOD", "LARGE"),
                   help="the three learning rates (default: lr/100, lr, 20 lr)")
    p.add_argument("--batch-sizes", type=cli.POSITIVE_INT, nargs="+", default=[1, 32, 256],
                   help="the batch sizes compared")
    p.add_argument("--batch-lr", type=cli.POSITIVE, default=None,
                   help="the learning rate of every batch-size run (default: lr / 10; batch "
                        "size 1 takes a whole step per example and needs a smaller one)")
    p.add_argument("--blowup", type=cli.ranged(float, 1, low_open=True), default=10.0,
                   help="a run diverged once its loss exceeds this x its first step's loss")
    p.add_argument("--probe", type=cli.POSITIVE_INT, default=500,
                   help="training examples on which the cost J is tracked after every step")
    return p


def _load(args: argparse.Namespace) -> runner.Split:
    """The split with its training part cut to the first --subset examples."""
    split = runner.load_split(args.dataset, args.val_split, args.seed)
    n = min(args.subset or len(split.X_train), len(split.X_train))
    return dataclasses.replace(split, X_train=split.X_train[:n], y_train=split.y_train[:n])


def _report(args: argparse.Namespace, split: runner.Split, lr_runs: list[dict],
            batch_runs: list[dict]) -> dict:
    good = lr_runs[1]
    report = runner.base_report("step_size_study", args, split)
    report.update(runner.results(good["model"], split, good["hist"]),
                  summary=_summary(args, good, len(split.X_train)),
                  training_seconds=good["seconds"],
                  tables=_tables(lr_runs, batch_runs, args.batch_lr),
                  learning_rates=[_entry(r) for r in lr_runs],
                  batch_sizes=[_entry(r) for r in batch_runs])
    return report


def main(argv: list[str] | None = None) -> dict:
    args = _parser().parse_args(argv)
    args.batch_lr = args.batch_lr or args.lr / 10
    began, out = time.perf_counter(), runner.prepare_out(args, "step_size_study")
    split = _load(args)
    args.lrs = lrs = sorted(args.lrs or [args.lr / 100, args.lr, args.lr * 20])
    lr_runs = [lr_run(split, args, lr, role) for lr, role in zip(lrs, ROLES)]
    good = lr_runs[1]
    if good["diverged"]:
        raise SystemExit(f"step_size_study: the 'good' lr {good['lr']:g} diverged; pick --lrs")
    probe = split.X_train[: args.probe], split.y_train[: args.probe]
    batch_runs = [batch_run(split, args, b, probe) for b in args.batch_sizes]
    report = _report(args, split, lr_runs, batch_runs)
    pictures = runner.image_pictures(out, good["hist"], split, f"lr = {good['lr']:g} (good)")
    pictures += [_lr_picture(out, lr_runs),
                 _batch_picture(out, batch_runs, len(split.X_train), len(probe[0]), args.batch_lr),
                 {"file": "graph.png", "caption": "Compute graph of one mini-batch's loss"}]
    report["notes"] = (_graph(out, good["model"], split, args.batch_size)
                       + [DIVERGED_NOTE, _noise_note(batch_runs)])
    report.update(pictures=pictures, seconds=time.perf_counter() - began)
    print(f"good lr {good['lr']:g}: test accuracy {report['test_accuracy']:.4f}; "
          f"whole study {report['seconds']:.1f} s")
    return runner.finish(out, report)


DIVERGED_NOTE = (
    "A run counts as diverged when its loss turns NaN/inf or exceeds --blowup x its first "
    "step's loss (cross-entropy's gradient (y_hat - y) x is bounded, so a too-large step makes "
    "the loss jump, not overflow); it is stopped with tg.train.TrainingDiverged there.")


def _noise_note(runs: list[dict]) -> str:
    a, b = runs[0], runs[-1]
    return (f"Batch size {a['batch_size']} (against {b['batch_size']}): J on the fixed examples "
            f"rose after {a['cost_rose']:.0%} ({b['cost_rose']:.0%}) of the updates; the step "
            f"loss jumped by up to {a['largest_rise']:.3g} ({b['largest_rise']:.3g}), with a "
            f"last-epoch spread of {a['last_epoch_std']:.3g} ({b['last_epoch_std']:.3g}).")


def _summary(args: argparse.Namespace, good: dict, n_train: int) -> str:
    return (f"Softmax regression ({args.optimizer}, init {args.init}) on {n_train} training "
            f"examples. Part 1 trains with three learning rates at batch size "
            f"{args.batch_size}; part 2 trains with batch sizes {args.batch_sizes} at one lr, "
            f"{args.batch_lr:g}. The results below are those of the good run, lr = {good['lr']:g}.")


if __name__ == "__main__":
    cli.command(main)
