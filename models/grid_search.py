"""Grid search for softmax regression on Fashion-MNIST: every combination of epochs, learning
rate, L2 strength and mini-batch size (8 x 8 x 8 x 8 = 4,096 runs by default), plain
mini-batch SGD from zero weights, an 80/20 train/validation split; the configuration with the
lowest validation loss is retrained on train + validation and scored on the test set.

Each row of results.csv is what a single run of
`python -m models.softmax_regression --optimizer sgd --schedule constant --init zeros
--val-split 0.2 --epochs E --lr LR --l2 L --batch-size B --seed S` gives, but the grid does
not run 4,096 of them: all (learning rate, L2) pairs of one batch size train at once as one
batched tinygrad_hw program (models/grid_batched.py), every epoch count is read off one run
of the longest, and the batch-size groups run in parallel on the local cores, or on a Dask
cluster with --scheduler. Finished groups are saved as they finish; --resume skips them."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import multiprocessing
import os
import queue
import signal
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from . import cli, grid_batched, runner

KEYS = ("epochs", "lr", "l2", "batch_size")
COLUMNS = KEYS + ("val_loss", "val_accuracy", "train_loss")
# For pixels scaled to [0, 1]. Learning rates stop at 0.1: above it SGD on this problem
# oscillates (the step exceeds 2 / the largest curvature), and such runs amplify float
# rounding until no two implementations agree.
GRIDS = {
    "default": {
        "epochs": [1, 2, 3, 5, 8, 12, 16, 20],
        "lr": [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1],
        "l2": [0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
        "batch_size": [16, 32, 64, 128, 256, 512, 1024, 2048],
    },
    "small": {"epochs": [1, 2], "lr": [0.01, 0.05], "l2": [0.0, 1e-3], "batch_size": [64, 256]},
}


class GridError(ValueError):
    """A grid that cannot be run; the message names the key and the value."""


# ----------------------------------------------------------------------------- the grid


def read_grid(spec: str) -> dict[str, list]:
    """"default", "small", or a JSON file {"epochs": [...], "lr": [...], "l2": [...],
    "batch_size": [...]}; checked completely before anything runs."""
    if spec in GRIDS:
        return check_grid(GRIDS[spec], spec)
    path = Path(spec)
    if not path.is_file():
        raise GridError(f"--grid {spec}: not 'default', 'small' or an existing JSON file")
    try:
        grid = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise GridError(f"grid file {path}: not readable JSON ({e})") from None
    return check_grid(grid, str(path))


def check_grid(grid: Any, where: str) -> dict[str, list]:
    """The grid with each value list sorted and without repeats, or GridError."""
    if not isinstance(grid, dict):
        raise GridError(f"grid {where}: expected a JSON object with keys {', '.join(KEYS)}")
    unknown = [k for k in grid if k not in KEYS]
    if unknown:
        raise GridError(f"grid {where}: unknown key {unknown[0]!r} (the keys are "
                        f"{', '.join(KEYS)})")
    missing = [k for k in KEYS if k not in grid]
    if missing:
        raise GridError(f"grid {where}: key {missing[0]!r} is missing")
    out = {}
    for key in KEYS:
        values = grid[key]
        if not isinstance(values, list) or not values:
            raise GridError(f"grid {where}: {key} must be a non-empty list, got {values!r}")
        for v in values:
            _check_value(where, key, v)
        out[key] = sorted(set(values))
    return out


def _check_value(where: str, key: str, v: Any) -> None:
    number = isinstance(v, (int, float)) and not isinstance(v, bool)
    if key in ("epochs", "batch_size"):
        if not (isinstance(v, int) and not isinstance(v, bool)) or v < 1:
            raise GridError(f"grid {where}: {key} value {v!r} is not a positive integer")
    elif not number or not math.isfinite(v) or (v <= 0 if key == "lr" else v < 0):
        need = "a positive number" if key == "lr" else "a number >= 0"
        raise GridError(f"grid {where}: {key} value {v!r} is not {need}")


def plan(grid: dict[str, list], dataset: str, val_split: float, seed: int) -> list[dict]:
    """One group per batch size, holding every (lr, l2) pair and trained for the largest
    epoch count; the smallest batches (the slowest groups) first."""
    pairs = [(lr, l2) for lr in grid["lr"] for l2 in grid["l2"]]
    return [{"dataset": dataset, "val_split": val_split, "seed": seed, "batch_size": b,
             "lrs": [p[0] for p in pairs], "l2s": [p[1] for p in pairs],
             "epochs": max(grid["epochs"])} for b in grid["batch_size"]]


def _steps(spec: dict, n_train: int) -> int:
    return -(-n_train // spec["batch_size"]) * spec["epochs"]


# ----------------------------------------------------------------------------- saved groups


def _group_file(out: Path, spec: dict) -> Path:
    return out / "groups" / f"batch_size_{spec['batch_size']}.json"


def _save_group(out: Path, result: dict) -> None:
    """Atomically: a crash while writing leaves the previous state, never half a file."""
    path = _group_file(out, result)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    os.replace(tmp, path)


def _saved(out: Path, spec: dict) -> dict | None:
    """The saved result of this group, if one was saved for exactly this spec."""
    path = _group_file(out, spec)
    if not path.is_file():
        return None
    try:
        result = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None  # damaged: run the group again
    if any(result.get(k) != v for k, v in spec.items()):
        raise GridError(f"{path} holds a group of a different grid or data (dataset, split, "
                        f"seed, learning rates, L2 values or epochs differ); use another "
                        f"--out, or run without --resume to start over")
    return result


# ----------------------------------------------------------------------------- running


def _init_worker(progress: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    grid_batched._progress_queue = progress


def run_local(specs: list[dict], jobs: int, out: Path, bar: tqdm) -> None:
    """Run the groups on `jobs` local processes (in this process when jobs is 1), saving
    each as it finishes."""
    if not specs:
        return
    if jobs == 1:
        grid_batched._progress_queue = _BarQueue(bar)
        try:
            for spec in specs:
                _save_group(out, grid_batched.run_group(spec))
        finally:
            grid_batched._progress_queue = None
        return
    ctx = multiprocessing.get_context("spawn")
    progress = ctx.Queue()
    with ctx.Pool(min(jobs, len(specs)), _init_worker, (progress,)) as pool:
        pending = [pool.apply_async(grid_batched.run_group, (spec,)) for spec in specs]
        while pending:
            with contextlib.suppress(queue.Empty):
                bar.update(progress.get(timeout=0.2))
                while True:
                    bar.update(progress.get_nowait())
            for job in [j for j in pending if j.ready()]:
                _save_group(out, job.get())  # re-raises a worker's exception here
                pending.remove(job)


class _BarQueue:
    """The progress queue's put(), straight to the bar (for the in-process run)."""

    def __init__(self, bar: tqdm) -> None:
        self.bar = bar

    def put(self, steps: int) -> None:
        self.bar.update(steps)


def run_dask(specs: list[dict], address: str, out: Path, bar: tqdm, n_train: int) -> None:
    """Run the groups on the Dask cluster whose scheduler is at `address`."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise SystemExit("grid_search: --scheduler needs the package 'distributed' "
                         "(pip install -e '.[cluster]')") from None
    try:
        client = Client(address, timeout="20s")
    except (OSError, ValueError) as e:
        raise SystemExit(f"grid_search: cannot reach the Dask scheduler at {address}: "
                         f"{e}") from None
    with client:
        futures = [client.submit(grid_batched.run_group, spec, pure=False) for spec in specs]
        try:
            for future in as_completed(futures):
                result = future.result()
                _save_group(out, result)
                bar.update(_steps(result, n_train))
        finally:
            client.cancel(futures)


# ----------------------------------------------------------------------------- results


def rows(grid: dict[str, list], results: list[dict]) -> list[dict]:
    """One row per grid point, read off its group's curves at its epoch count."""
    out = []
    for res in results:
        for c, (lr, l2) in enumerate(zip(res["lrs"], res["l2s"])):
            for e in grid["epochs"]:
                out.append({"epochs": e, "lr": lr, "l2": l2, "batch_size": res["batch_size"],
                            **{k: res[k][e - 1][c] for k in COLUMNS[4:]}})
    return sorted(out, key=lambda r: tuple(r[k] for k in KEYS))


def write_csv(path: Path, table: list[dict]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(table)


def best_row(table: list[dict]) -> dict:
    finite = [r for r in table if r["val_loss"] is not None and math.isfinite(r["val_loss"])]
    if not finite:
        raise RuntimeError("grid_search: every configuration diverged (NaN/inf loss); "
                           "try smaller learning rates")
    return min(finite, key=lambda r: r["val_loss"])


def retrain(best: dict, dataset: str, seed: int, progress: bool | None) -> dict:
    """The best configuration trained on train + validation (as `models.softmax_regression
    --val-split 0` with its flags), scored on the test set."""
    from tinygrad_hw import nn

    settings = runner.Training(epochs=best["epochs"], lr=best["lr"], l2=best["l2"],
                               batch_size=best["batch_size"], seed=seed, progress=progress,
                               compile=True)
    split = runner.load_split(dataset, 0.0, seed)
    model = nn.Linear(784, 10, init="zeros", dtype=np.float32)
    _, seconds = runner.train(model, split, settings)
    test_loss, test_acc = runner.evaluate(model, split.X_test, split.y_test)
    return {"test_loss": test_loss, "test_accuracy": test_acc, "retrain_seconds": seconds,
            "n_retrain": len(split.X_train)}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m models.grid_search", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=["sample", "fashion-mnist"], default=None,
                   help="default: fashion-mnist when installed, else the shipped sample")
    p.add_argument("--out", default="runs/grid_search", help="folder for results and report")
    p.add_argument("--grid", default="default",
                   help="'default' (8 values of each: 4,096 runs), 'small' (2 of each) or a "
                        "JSON file with lists for epochs, lr, l2 and batch_size")
    p.add_argument("--seed", type=int, default=0, help="data split and shuffling seed")
    p.add_argument("--val-split", default=0.2,
                   type=cli.ranged(float, 0, 1, low_open=True, high_open=True),
                   help="share of the training images held out for validation, in (0, 1)")
    p.add_argument("--jobs", type=cli.POSITIVE_INT, default=os.cpu_count() or 1,
                   help="local worker processes (default: one per core)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a Dask scheduler (e.g. tcp://10.0.0.5:8786) to run the groups on "
                        "instead of local processes")
    p.add_argument("--resume", action="store_true",
                   help="keep the groups an earlier run into --out finished")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (default: only on a terminal)")
    args = p.parse_args(argv)
    try:
        grid = read_grid(args.grid)
    except GridError as e:
        p.error(str(e))
    try:
        return run(args, grid)
    except GridError as e:
        p.error(str(e))


def run(args: argparse.Namespace, grid: dict[str, list]) -> dict:
    began = time.perf_counter()
    dataset = args.dataset or ("fashion-mnist" if runner.full_data_installed() else "sample")
    out = Path(args.out)
    try:
        (out / "groups").mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SystemExit(f"grid_search: cannot write into --out {out}: "
                         f"{e.strerror or e}") from None
    specs = plan(grid, dataset, args.val_split, args.seed)
    n_train = len(grid_batched.load_data(dataset, args.val_split, args.seed).y_train)
    done = {}
    if args.resume:
        done = {s["batch_size"]: r for s in specs if (r := _saved(out, s)) is not None}
    else:
        for old in (out / "groups").glob("batch_size_*.json"):
            old.unlink()
    todo = [s for s in specs if s["batch_size"] not in done]
    n_configs = math.prod(len(v) for v in grid.values())
    print(f"grid search: {n_configs} configurations in {len(specs)} groups on {dataset}"
          + (f" ({len(done)} of them already done)" if done else ""))
    total = sum(_steps(s, n_train) for s in todo)
    try:
        with tqdm(total=total, disable=None if args.progress is None else not args.progress,
                  unit="step", desc="grid") as bar:
            if args.scheduler:
                run_dask(todo, args.scheduler, out, bar, n_train)
            else:
                run_local(todo, args.jobs, out, bar)
    except KeyboardInterrupt:
        saved = len(list((out / "groups").glob("batch_size_*.json")))
        print(f"interrupted: {saved} of {len(specs)} groups are saved in {out / 'groups'}; "
              f"run the same command with --resume to continue", file=sys.stderr)
        raise SystemExit(130) from None
    results = [_saved(out, s) for s in specs]
    from .grid_report import write_report

    table = rows(grid, results)
    write_csv(out / "results.csv", table)
    best = best_row(table)
    print(f"best: epochs {best['epochs']}, lr {best['lr']}, l2 {best['l2']}, batch size "
          f"{best['batch_size']} (validation loss {best['val_loss']:.4f}); retraining on "
          f"train + validation")
    final = retrain(best, dataset, args.seed, args.progress)
    report = {"best": best, "test_loss": final["test_loss"],
              "test_accuracy": final["test_accuracy"], "configs": len(table),
              "seconds": time.perf_counter() - began, "dataset": dataset, "grid": grid,
              "seed": args.seed, "val_split": args.val_split, "n_train": n_train,
              "n_retrain": final["n_retrain"], "retrain_seconds": final["retrain_seconds"],
              "group_seconds": {r["batch_size"]: r["seconds"] for r in results}}
    write_report(out, report, table, results)
    print(f"test accuracy {report['test_accuracy']:.4f}, test cross-entropy "
          f"{report['test_loss']:.4f}; {len(table)} configurations in "
          f"{report['seconds']:.0f} s; results in {out / 'results.csv'}")
    return report


if __name__ == "__main__":
    main()
