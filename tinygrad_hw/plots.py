"""Pictures for the homework report (matplotlib): training curves, linear-model weights as
28x28 images, weight norm against lambda, and sample images with labels.

Every function takes `path`: given, the picture is written there (PNG) and the path is
returned; None (the default), the matplotlib Figure is returned, and in a Jupyter notebook
it is also shown inline. Outside Jupyter, drawing uses the Agg backend (no window)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

_Where = str | os.PathLike | None  # a file to write, or None: return (and show) the figure


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where figures can be shown inline)."""
    return "ipykernel" in sys.modules


def _pyplot():
    try:
        import matplotlib

        if not _in_notebook():  # a notebook keeps its inline backend
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:  # an optional extra
        raise ImportError("plots need matplotlib: pip install 'tinygrad-hw[plots]'") from e
    return plt


def _save(fig: Any, path: str | os.PathLike | None) -> Any:
    """Write the figure to `path` and return the path; without a path, return the figure
    (shown inline first in a notebook, once: it is closed so that Jupyter does not show it
    again at the end of the cell)."""
    if path is None:
        if _in_notebook():
            from IPython.display import display

            display(fig)
            _pyplot().close(fig)
        return fig
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return str(path)


def plot_curves(history: Any, path: _Where = None, title: str = "",
                loss_label: str = "cross-entropy") -> Any:
    """Loss and accuracy against epochs, train vs validation, side by side; `loss_label`
    names the loss axis."""
    plt = _pyplot()
    h = history.to_dict() if hasattr(history, "to_dict") else history
    epochs = np.asarray(h["epoch"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, label in ((axes[0], "loss", loss_label), (axes[1], "accuracy", "accuracy")):
        for split, style in (("train", "-o"), ("val", "-s")):
            values = np.asarray(h.get(f"{split}_{key}", []), dtype=float)
            if values.size and np.isfinite(values).any():
                ax.plot(epochs, values, style, ms=3, label=split)
        stopped = int(np.asarray(h.get("stopped_early_at", 0)))
        if stopped:
            ax.axvline(stopped, color="gray", ls="--", lw=1, label=f"early stop ({stopped})")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title or "training curves")
    return _save(fig, path)


def plot_step_losses(curves: dict[str, Sequence[float]], path: _Where = None,
                     title: str = "", xlabel: str = "step", log_y: bool = False) -> Any:
    """Several loss curves against steps in one figure (e.g. one per learning rate)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label, lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    return _save(fig, path)


def plot_weight_images(weights: Any, path: _Where = None, titles: Sequence[str] = (),
                       shape: tuple[int, int] = (28, 28), cols: int = 5, title: str = "", *,
                       percentile: float = 99.0, colorbar: bool = True,
                       colorbar_label: str = "weight", hide: Any = None,
                       hide_label: str = "hidden pixels") -> Any:
    """Each row of `weights` (a bias column beyond 28*28 is dropped) as an image, all on one
    diverging colour scale centred at 0 (red positive, blue negative), with a colour bar.

    The scale runs from -limit to +limit, limit = the `percentile`-th percentile of |w| over
    every shown pixel (100: the largest |w|), so that a few extreme weights (Adam pushes
    rarely lit border pixels far from 0) do not wash the templates out; weights beyond it are
    drawn in the end colours, and the colour bar's pointed ends and label say so. `hide`, a
    boolean mask of pixels (`shape` or flat), draws those pixels grey and leaves them out of
    the scale; `hide_label` names them in the colour bar's label."""
    plt = _pyplot()
    size = shape[0] * shape[1]
    w = np.atleast_2d(np.asarray(getattr(weights, "_data", weights), dtype=float))[:, :size]
    hidden = (np.zeros(size, dtype=bool) if hide is None
              else np.asarray(hide, dtype=bool).reshape(size))
    limit = weight_limit(w[:, ~hidden], percentile)
    clipped = bool((np.abs(w[:, ~hidden]) > limit).any())
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="0.8")
    n = min(cols, len(w))
    rows = int(np.ceil(len(w) / cols))
    fig, axes = plt.subplots(rows, n, figsize=(2 * n + (0.9 if colorbar else 0), 2.2 * rows),
                             squeeze=False)
    image = None
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(w):
            shown = np.ma.masked_array(w[i], mask=hidden).reshape(shape)
            image = ax.imshow(shown, cmap=cmap, vmin=-limit, vmax=limit)
            if i < len(titles):
                ax.set_title(titles[i], fontsize=9)
    if colorbar and image is not None:
        label = colorbar_label
        if clipped:
            label += f"\n(|w| > {limit:.3g}, the {percentile:g}th percentile, at the ends)"
        if hidden.any():
            label += f"\ngrey: {hide_label}"
        bar = fig.colorbar(image, ax=axes, fraction=0.025 if rows > 1 else 0.04, pad=0.02,
                           extend="both" if clipped else "neither")
        bar.set_label(label, fontsize=8)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def weight_limit(weights: Any, percentile: float = 99.0) -> float:
    """The half-width of plot_weight_images' symmetric colour scale: the `percentile`-th
    percentile of |w| (100: the largest), or 1 for weights that are all 0."""
    a = np.abs(np.asarray(getattr(weights, "_data", weights), dtype=float)).ravel()
    if not a.size:
        return 1.0
    limit = float(np.percentile(a, percentile))
    return limit if limit > 0 else (float(a.max()) or 1.0)


def plot_xy(x: Sequence[float], ys: dict[str, Sequence[float]], path: _Where = None,
            xlabel: str = "", ylabel: str = "", title: str = "", log_x: bool = False) -> Any:
    """One or more y series against x (e.g. weight norm or accuracy against lambda)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, y in ys.items():
        ax.plot(x, y, "-o", label=label)
    if log_x:
        ax.set_xscale("symlog", linthresh=min((v for v in x if v > 0), default=1e-3))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(ys) > 1:
        ax.legend()
    ax.set_title(title)
    return _save(fig, path)


def plot_samples(images: Any, labels: Sequence[int], path: _Where = None,
                 class_names: Sequence[str] = (), cols: int = 8) -> Any:
    """A grid of input images with their labels."""
    plt = _pyplot()
    imgs = np.asarray(images)
    rows = int(np.ceil(len(imgs) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.6 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(imgs):
            ax.imshow(imgs[i].reshape(28, 28), cmap="gray_r")
            name = class_names[labels[i]] if class_names else str(labels[i])
            ax.set_title(name, fontsize=8)
    return _save(fig, path)


def plot_weight_grid(rows: dict[str, Any], path: _Where = None,
                     col_titles: Sequence[str] = (), shape: tuple[int, int] = (28, 28),
                     title: str = "") -> Any:
    """One row of weight images per entry of `rows` (e.g. one per lambda), labelled by its key;
    each row has its own colour scale centred at 0 (red positive, blue negative)."""
    plt = _pyplot()
    size = shape[0] * shape[1]
    mats = {k: np.atleast_2d(np.asarray(getattr(w, "_data", w), dtype=float))[:, :size]
            for k, w in rows.items()}
    cols = max(len(m) for m in mats.values())
    fig, axes = plt.subplots(len(mats), cols, figsize=(1.25 * cols + 0.6, 1.35 * len(mats)),
                             squeeze=False)
    for r, (label, w) in enumerate(mats.items()):
        limit = np.abs(w).max() or 1.0
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(w):
                ax.axis("off")
                continue
            ax.imshow(w[c].reshape(shape), cmap="RdBu_r", vmin=-limit, vmax=limit)
            if r == 0 and c < len(col_titles):
                ax.set_title(col_titles[c], fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_lines(lines: Sequence[dict[str, Any]], path: _Where = None, xlabel: str = "step",
               ylabel: str = "loss", title: str = "", log_y: bool = False) -> Any:
    """Curves with their own x values in one figure. Each line is a dict with "x", "y" and
    "label", optionally "alpha", "lw", "color", and "end": a text marked with an X at the
    line's last point (e.g. where a run diverged)."""
    return plot_line_panels({title: lines}, path, xlabel, ylabel, log_y=log_y)


def plot_line_panels(panels: dict[str, Sequence[dict[str, Any]]], path: _Where = None,
                     xlabel: str | Sequence[str] = "step", ylabel: str | Sequence[str] = "loss",
                     title: str = "", log_y: bool | Sequence[bool] = False) -> Any:
    """Side-by-side panels of plot_lines curves, {panel title: lines}; xlabel, ylabel and
    log_y are one value for every panel or one per panel."""
    plt = _pyplot()
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(7.5 if n == 1 else 6 * n, 4.2), squeeze=False)
    xlabels = [xlabel] * n if isinstance(xlabel, str) else list(xlabel)
    ylabels = [ylabel] * n if isinstance(ylabel, str) else list(ylabel)
    logs = [log_y] * n if isinstance(log_y, bool) else list(log_y)
    for ax, (name, lines), xl, yl, log in zip(axes[0], panels.items(), xlabels, ylabels, logs):
        for line in lines:
            _draw_line(ax, line)
        if log:
            ax.set_yscale("log")
        ax.set(xlabel=xl, ylabel=yl, title=name)
        ax.grid(alpha=0.3, which="both" if log else "major")
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def _draw_line(ax: Any, line: dict[str, Any]) -> None:
    drawn = ax.plot(line["x"], line["y"], label=line["label"], lw=line.get("lw", 1.2),
                    alpha=line.get("alpha", 1.0), color=line.get("color"))[0]
    if line.get("end") and len(line["x"]):
        x, y = line["x"][-1], line["y"][-1]
        ax.plot([x], [y], "X", ms=9, color=drawn.get_color())
        ax.annotate(line["end"], (x, y), textcoords="offset points", xytext=(10, -14),
                    fontsize=8, color=drawn.get_color(), va="top")


def plot_weight_image(weights: Any, path: _Where = None, title: str = "",
                      colorbar_label: str = "weight", shape: tuple[int, int] = (28, 28)) -> Any:
    """One weight vector (e.g. binary logistic regression's w; a bias beyond 28*28 is dropped)
    as a large image with a colour bar, centred at 0 (red positive, blue negative)."""
    plt = _pyplot()
    w = np.asarray(getattr(weights, "_data", weights), dtype=float).ravel()[: shape[0] * shape[1]]
    limit = np.abs(w).max() or 1.0
    fig, ax = plt.subplots(figsize=(5, 4.4))
    image = ax.imshow(w.reshape(shape), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04).set_label(colorbar_label)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)
