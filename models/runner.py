"""What every course-model script shares: the command-line flags, loading and splitting
Fashion-MNIST, evaluation on each split, the compute-graph picture, and writing
report.json + report.md into the run's folder."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw.data import DataLoader

from . import cli

CLASSES = list(tg.data.FASHION_MNIST_CLASSES)


def full_data_installed() -> bool:
    """True when the full Fashion-MNIST files can be found (root, $TINYGRAD_HW_DATA, Debian)."""
    try:
        tg.data.fashion_mnist("test", source="full")
    except FileNotFoundError:
        return False
    return True


def parser(name: str, description: str, resumable: bool = False,
           **defaults: Any) -> argparse.ArgumentParser:
    """The flags every image model takes; `defaults` overrides their default values.
    `description` is the model's docstring; resumable models get --resume."""
    p = argparse.ArgumentParser(prog=f"python -m models.{name}", description=description,
                                formatter_class=cli.HelpFormatter)
    p.add_argument("--dataset", choices=["sample", "fashion-mnist"], default=None,
                   help="fashion-mnist when installed, else the sample shipped with "
                        "tinygrad_hw")
    p.add_argument("--out", default=f"runs/{name}", help="folder for the report and pictures")
    p.add_argument("--epochs", type=cli.POSITIVE_INT, default=10, help="passes over the data")
    p.add_argument("--lr", type=cli.POSITIVE, default=0.1, help="learning rate (step size)")
    p.add_argument("--batch-size", type=cli.POSITIVE_INT, default=64,
                   help="examples per mini-batch")
    p.add_argument("--l2", type=cli.NONNEGATIVE, default=0.0,
                   help="lambda of the penalty lambda ||W||^2 on the weights (0: none)")
    p.add_argument("--seed", type=cli.NONNEGATIVE_INT, default=0,
                   help="seed of the split, the initial weights and the shuffling")
    p.add_argument("--val-split", type=cli.FRACTION, default=0.2,
                   help="share of the training images held out for validation, in [0, 1); "
                        "0: no validation split (train on all of them)")
    p.add_argument("--init", choices=["zeros", "default"], default="default",
                   help="initial weights: zeros, or small random values")
    p.add_argument("--patience", type=cli.POSITIVE_INT, default=None,
                   help="stop when the validation loss has not improved for this many "
                        "epochs (off when not given)")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd",
                   help="mini-batch SGD or Adam")
    p.add_argument("--momentum", type=cli.ranged(float, 0, 1, high_open=True), default=0.0,
                   help="SGD momentum, in [0, 1)")
    p.add_argument("--schedule", choices=["constant", "linear"], default="constant",
                   help="learning rate per epoch: constant, or falling linearly to 0")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (by default only on a terminal)")
    p.add_argument("--compile", action="store_true",
                   help="run training steps through tg.compile (same results, faster)")
    if resumable:
        p.add_argument("--resume", action="store_true",
                       help="continue an interrupted run from the checkpoint in --out")
    p.set_defaults(interrupted=None, **defaults)
    return p


@dataclass
class Split:
    """Images flattened to (N, 784) float32 in [0, 1], labels int64."""

    dataset: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    sample_images: np.ndarray
    sample_labels: np.ndarray
    class_names: list[str]


def load_split(dataset: str | None, val_split: float, seed: int,
               classes: list[int] | None = None) -> Split:
    """Fashion-MNIST (`dataset`; None: the full set when installed, else the sample), only
    `classes` if given (relabelled 0, 1, ...), split train/validation by `val_split` (0: no
    validation part) with `seed`."""
    asked, dataset = dataset, dataset or ("fashion-mnist" if full_data_installed() else "sample")
    if asked is None and dataset == "sample":
        print("full Fashion-MNIST not found: using the sample shipped with tinygrad_hw "
              "(apt-get install dataset-fashion-mnist, or set $TINYGRAD_HW_DATA)")
    source = "full" if dataset == "fashion-mnist" else "sample"
    train_images, train_labels = tg.data.fashion_mnist("train", source=source)
    test_images, test_labels = tg.data.fashion_mnist("test", source=source)
    if classes is not None:
        train_images, train_labels = _select(train_images, train_labels, classes)
        test_images, test_labels = _select(test_images, test_labels, classes)
    X, X_test = tg.data.prepare_images(train_images), tg.data.prepare_images(test_images)
    if val_split > 0:
        X_tr, y_tr, X_val, y_val = tg.data.train_val_split(X, train_labels, val_split,
                                                           seed=seed)
    else:
        X_tr, y_tr = X, train_labels
        X_val, y_val = X[:0], train_labels[:0]
    pick = np.random.default_rng(seed).choice(len(test_images), 24, replace=False)
    names = CLASSES if classes is None else [CLASSES[c] for c in classes]
    return Split(dataset, X_tr, y_tr, X_val, y_val, X_test, test_labels,
                 test_images[np.sort(pick)], test_labels[np.sort(pick)], names)


def _select(images: np.ndarray, labels: np.ndarray, classes: list[int]):
    keep = np.isin(labels, classes)
    relabel = {c: i for i, c in enumerate(classes)}
    return images[keep], np.array([relabel[int(v)] for v in labels[keep]], dtype=np.int64)


@dataclass(frozen=True)
class Training:
    """The training settings of one run, as a record: `Training.of(args)` takes them from
    the command line, `Training.of(args, lr=0.01)` is the same run with another step."""

    epochs: int
    lr: float
    batch_size: int
    l2: float = 0.0
    seed: int = 0
    optimizer: str = "sgd"
    momentum: float = 0.0
    schedule: str = "constant"
    patience: int | None = None
    progress: bool | None = None
    compile: bool = False

    @classmethod
    def of(cls, args: Any, **changes: Any) -> Training:
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)} | changes)


def loaders(split: Split, settings: Training) -> tuple[DataLoader, DataLoader | None]:
    train = DataLoader(split.X_train, split.y_train, settings.batch_size, seed=settings.seed)
    val = (DataLoader(split.X_val, split.y_val, 2000, shuffle=False)
           if len(split.X_val) else None)
    return train, val


def optimizer(model: Any, settings: Training) -> Any:
    if settings.optimizer == "adam":
        return tg.optim.Adam(model.parameters(), lr=settings.lr)
    return tg.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.momentum)


def l2_regularizer(settings: Training) -> Any:
    """lambda ||W||^2 over the weight matrices (biases are not penalised), or None."""
    if not settings.l2:
        return None
    return lambda m: tg.l2_penalty([p for n, p in m.named_parameters() if n.endswith("weight")],
                                   settings.l2)


CHECKPOINT = "checkpoint.npz"
CHECKPOINT_FILES = (CHECKPOINT, "checkpoint.json")  # kept by --resume


def prepare_out(args: argparse.Namespace, name: str) -> Path:
    """--out as a folder this run can write into, cleared of the previous run's files (the
    checkpoint is kept for --resume)."""
    keep = CHECKPOINT_FILES if getattr(args, "resume", False) else ()
    out = Path(args.out)
    cli.prepare_out(out, f"python -m models.{name}", keep)
    return out


def train(model: Any, split: Split, args: Any, loss_fn: Any = tg.cross_entropy,
          regularizer: Any = None, **changes: Any) -> tuple[Any, float]:
    """fit() with the optimizer, schedule, L2 and early stopping of `args` (the parsed
    command line, or a Training record), with `changes` applied (e.g. l2=0.1); returns
    (history, seconds).

    With a command line that has --resume (a resumable model), it checkpoints into --out
    after every epoch and, with --resume, continues from there. Ctrl-C then keeps the
    finished epochs: the model is put back to the last checkpoint, args.interrupted says
    how far it got, and the history so far is returned (runner.finish reports it)."""
    settings = Training.of(args, **changes)
    train_loader, val_loader = loaders(split, settings)
    schedule = (tg.train.linear_decay(settings.lr, settings.epochs)
                if settings.schedule == "linear" else None)
    opt = optimizer(model, settings)
    checkpoint = _checkpoint(args) if hasattr(args, "resume") else None
    began = time.perf_counter()
    try:
        hist = tg.fit(model, opt, train_loader, val_loader, epochs=settings.epochs,
                      loss_fn=loss_fn, regularizer=regularizer or l2_regularizer(settings),
                      patience=settings.patience, progress=settings.progress,
                      lr_schedule=schedule, compile=settings.compile, checkpoint=checkpoint,
                      resume=bool(checkpoint and args.resume))
    except KeyboardInterrupt:
        if checkpoint is None or not checkpoint.is_file():
            raise
        hist = tg.train.load_checkpoint(checkpoint, model)
        if not hist.epoch:
            raise
        args.interrupted = (hist.epoch[-1], settings.epochs)
    return hist, time.perf_counter() - began


_NOT_SETTINGS = ("out", "progress", "compile", "resume", "interrupted")


def _checkpoint(args: argparse.Namespace) -> Path:
    """The checkpoint path in --out. With --resume, a checkpoint written with other flags is
    refused (the flags are recorded beside it), naming the flags that differ."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path, record = (out / name for name in CHECKPOINT_FILES)
    flags = {k: v for k, v in vars(args).items() if k not in _NOT_SETTINGS}
    if args.resume and path.is_file() and record.is_file():
        saved = json.loads(record.read_text())
        changed = [f"--{k.replace('_', '-')} {saved.get(k)} (now {v})"
                   for k, v in flags.items() if saved.get(k) != v]
        if changed:
            raise SystemExit(f"--resume: the checkpoint in {out} was written with other "
                             f"settings: {', '.join(changed)}; use the same flags, or run "
                             f"without --resume to start over")
    elif args.resume:
        print(f"--resume: no checkpoint in {out}; starting from epoch 1")
    elif path.is_file():
        path.unlink()  # an earlier run's: never resumed from by accident
    record.write_text(json.dumps(flags, indent=1) + "\n")
    return path


def image_pictures(out: Path, hist: Any, split: Split, title: str) -> list[dict[str, str]]:
    """curves.png and samples.png, as report entries."""
    tg.plots.plot_curves(hist, out / "curves.png", title=title)
    tg.plots.plot_samples(split.sample_images, split.sample_labels.tolist(), out / "samples.png",
                          class_names=split.class_names)
    return [{"file": "curves.png", "caption": "Loss and accuracy per epoch (train vs validation)"},
            {"file": "samples.png", "caption": "Test images with their labels"}]


def evaluate(model: Any, X: np.ndarray, y: np.ndarray, loss_fn: Any = tg.cross_entropy):
    """(loss, accuracy) on one split, NaNs for an empty one."""
    if not len(X):
        return float("nan"), float("nan")
    return tg.train.evaluate(model, DataLoader(X, y, 2000, shuffle=False), loss_fn)


def write_graph(loss: tg.Tensor, out: Path, module: Any = None, title: str = "",
                **options: Any) -> list[str]:
    """graph.dot always; graph.png (what the report shows: any viewer draws it as laid out)
    and graph.svg (sharp at any zoom) when Graphviz's `dot` is installed; returns notes.
    `options` go to tg.viz.draw_graph (e.g. names=, deltas=True)."""
    graph = tg.viz.draw_graph(loss, module=module, title=title, **options)
    (out / "graph.dot").write_text(graph.source)
    try:
        for fmt in ("png", "svg"):
            (out / f"graph.{fmt}").write_bytes(graph.pipe(format=fmt))
    except tg.viz.GraphvizNotFound as e:
        return [f"graph.png and graph.svg not written: {str(e).splitlines()[0]}"]
    return []


def results(model: Any, split: Split, hist: Any, loss_fn: Any = tg.cross_entropy) -> dict:
    """The metrics block of report.json for a classifier."""
    out: dict[str, Any] = {}
    for part in ("train", "val", "test"):
        X, y = getattr(split, f"X_{part}"), getattr(split, f"y_{part}")
        out[f"{part}_loss"], out[f"{part}_accuracy"] = evaluate(model, X, y, loss_fn)
    out["epochs_run"] = len(hist.epoch)
    out["stopped_early_at"] = hist.stopped_early_at or None
    out["best_epoch"] = hist.best_epoch
    return out


def base_report(name: str, args: argparse.Namespace, split: Split | None) -> dict[str, Any]:
    hyper = {k: v for k, v in vars(args).items()
             if k not in ("out", "dataset", "progress", "compile", "resume", "interrupted")}
    report: dict[str, Any] = {"model": name, "hyperparameters": hyper,
                              "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    if split is not None:
        report.update(dataset=split.dataset, n_train=len(split.X_train),
                      n_val=len(split.X_val), n_test=len(split.X_test))
    if getattr(args, "interrupted", None):
        report["interrupted_after_epoch"], report["epochs_planned"] = args.interrupted
    return report


def finish(out: Path, report: dict[str, Any]) -> dict[str, Any]:
    """Write report.json and report.md; print where they are. An interrupted run then
    exits with status 130 (as after Ctrl-C) after one line saying how to resume."""
    from .report import render

    out.mkdir(parents=True, exist_ok=True)
    stop = report.get("interrupted_after_epoch")
    if stop:
        stopped = f"interrupted after epoch {stop} of {report['epochs_planned']}"
        report["title"] = f"{report.get('model', 'model')}: homework report ({stopped})"
        report["notes"] = [f"The run was {stopped}: the results and curves are those of "
                           f"epoch {stop}. Continue it with --resume."] + report.get("notes", [])
    report["files"] = cli.written_files(out, report, CHECKPOINT_FILES)
    (out / "report.json").write_text(json.dumps(plain(report), indent=2) + "\n")
    (out / "report.md").write_text(render(report))
    print(f"report: {out / 'report.md'} (and report.json); pictures in {out}/")
    if stop:
        print(f"{stopped}; resume with --resume", file=sys.stderr)
        raise SystemExit(130)
    return report


def plain(value: Any) -> Any:
    """A JSON-safe copy: numpy scalars to Python, non-finite floats to None, keys to str."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
