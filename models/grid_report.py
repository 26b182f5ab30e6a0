"""The grid search's report: report.json, report.md (the course-model report style), a
heatmap of validation accuracy over learning rate x L2, and the best run's loss curves."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .report import render  # noqa: E402
from .runner import plain  # noqa: E402

TOP = 10


def write_report(out: Path, report: dict, table: list[dict], results: list[dict]) -> None:
    best = report["best"]
    heatmap(out / "heatmap.png", table, best)
    group = next(r for r in results if r["batch_size"] == best["batch_size"])
    curve(out / "curve.png", group, best)
    (out / "report.json").write_text(json.dumps(plain(report), indent=2) + "\n")
    (out / "report.md").write_text(render(_markdown_fields(report, table)))
    print(f"report: {out / 'report.md'} (and report.json, results.csv); pictures in {out}/")


def _markdown_fields(report: dict, table: list[dict]) -> dict[str, Any]:
    best, grid = report["best"], report["grid"]
    top = sorted((r for r in table if _finite(r["val_loss"])), key=lambda r: r["val_loss"])
    diverged = sum(not _finite(r["val_loss"]) for r in table)
    settings = {f"grid: {k}": ", ".join(f"{v:g}" for v in vals) for k, vals in grid.items()}
    settings.update(seed=report["seed"], val_split=report["val_split"], optimizer="SGD "
                    "(constant step, no momentum), weights and bias start at zero")
    summary = (f"Softmax regression on {report['dataset']}: {report['configs']} configurations "
               f"(every combination of the values below) trained with mini-batch SGD on "
               f"{report['n_train']} images and compared by the mean cross-entropy on the "
               f"{report['val_split']:.0%} validation split. The best, epochs "
               f"{best['epochs']}, learning rate {best['lr']:g}, L2 lambda {best['l2']:g} "
               f"(penalty lambda ||W||^2), batch size {best['batch_size']}, was retrained on "
               f"train + validation ({report['n_retrain']} images) and scored on the test set.")
    notes = [f"{diverged} configurations diverged (NaN/inf loss); results.csv has NaN for "
             f"them"] if diverged else []
    notes.append("Time per batch-size group (s): " + ", ".join(
        f"{b}: {s:.0f}" for b, s in sorted(report["group_seconds"].items(), key=_by_int)))
    columns = list(table[0])
    return {
        "title": "Grid search: softmax regression hyperparameters",
        "summary": summary, "dataset": report["dataset"], "hyperparameters": settings,
        "test_loss": report["test_loss"], "test_accuracy": report["test_accuracy"],
        "retrain_seconds": report["retrain_seconds"], "seconds": report["seconds"],
        "tables": {f"The {TOP} configurations with the lowest validation loss": {
            "columns": columns, "rows": [[r[c] for c in columns] for r in top[:TOP]]}},
        "pictures": [
            {"file": "heatmap.png", "caption": f"Validation accuracy over learning rate x L2 "
             f"(batch size {best['batch_size']}, {best['epochs']} epochs)"},
            {"file": "curve.png", "caption": "Loss per epoch of the best configuration"}],
        "notes": notes,
    }


def _by_int(item: tuple) -> int:
    return int(item[0])


def _finite(v: Any) -> bool:
    return v is not None and math.isfinite(v)


def heatmap(path: Path, table: list[dict], best: dict) -> None:
    """Validation accuracy for every (lr, l2) at the best batch size and epoch count."""
    cells = [r for r in table
             if r["batch_size"] == best["batch_size"] and r["epochs"] == best["epochs"]]
    lrs, l2s = sorted({r["lr"] for r in cells}), sorted({r["l2"] for r in cells})
    acc = np.full((len(lrs), len(l2s)), np.nan)
    for r in cells:
        acc[lrs.index(r["lr"]), l2s.index(r["l2"])] = r["val_accuracy"]
    fig, ax = plt.subplots(figsize=(1.1 * len(l2s) + 2.5, 0.7 * len(lrs) + 2))
    shown = np.ma.masked_invalid(acc)
    image = ax.imshow(shown, cmap="viridis", aspect="auto", origin="lower")
    fig.colorbar(image, ax=ax, label="validation accuracy")
    ax.set_xticks(range(len(l2s)), [f"{v:g}" for v in l2s], rotation=45)
    ax.set_yticks(range(len(lrs)), [f"{v:g}" for v in lrs])
    ax.set_xlabel("L2 lambda")
    ax.set_ylabel("learning rate")
    middle = np.nanmean(acc) if np.isfinite(acc).any() else 0
    for i in range(len(lrs)):
        for j in range(len(l2s)):
            text = "diverged" if np.isnan(acc[i, j]) else f"{acc[i, j]:.3f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="black" if acc[i, j] > middle else "white")
    bi, bj = lrs.index(best["lr"]), l2s.index(best["l2"])
    ax.add_patch(plt.Rectangle((bj - 0.5, bi - 0.5), 1, 1, fill=False, edgecolor="red", lw=2))
    ax.set_title(f"batch size {best['batch_size']}, {best['epochs']} epochs "
                 f"(red: lowest validation loss)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def curve(path: Path, group: dict, best: dict) -> None:
    """Training and validation loss per epoch of the best (lr, l2) in its group, over every
    epoch the group ran; the chosen epoch count marked."""
    c = next(i for i, (lr, l2) in enumerate(zip(group["lrs"], group["l2s"]))
             if lr == best["lr"] and l2 == best["l2"])
    epochs = np.arange(1, group["epochs"] + 1)
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for key, label in (("train_loss", "training (mean over the epoch's steps)"),
                       ("val_loss", "validation")):
        ax.plot(epochs, [row[c] for row in group[key]], marker="o", ms=3, label=label)
    ax.axvline(best["epochs"], color="gray", ls="--", lw=1, label=f"chosen: {best['epochs']}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean cross-entropy")
    ax.set_title(f"lr {best['lr']:g}, L2 {best['l2']:g}, batch size {best['batch_size']}")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
