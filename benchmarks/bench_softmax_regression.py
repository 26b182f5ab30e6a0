"""Softmax regression on Fashion-MNIST: tinygrad_hw's default run (models.softmax_regression)
against scikit-learn's LogisticRegression and a hand-written numpy SGD loop with the same
schedule, all in this process: test accuracy, training seconds and time ratios.

    python benchmarks/bench_softmax_regression.py [--dataset fashion-mnist|sample]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

import numpy as np

from models import runner, softmax_regression
from tinygrad_hw import nn


def ours(split: runner.Split, *flags: str) -> tuple[float, float]:
    """models.softmax_regression's training with its default flags (and `flags`)."""
    with tempfile.TemporaryDirectory() as out:  # for its per-epoch checkpoint
        args = softmax_regression.arguments(["--no-progress", "--out", out, *flags])
        model = nn.Linear(784, 10, init=args.init, rng=args.seed, dtype=np.float32)
        _, seconds = runner.train(model, split, args)
    return runner.evaluate(model, split.X_test, split.y_test)[1], seconds


def numpy_sgd(split: runner.Split, epochs: int = 20, lr: float = 0.2, batch: int = 64):
    """Plain numpy softmax regression with the hand gradient (SGD, linear decay)."""
    rng = np.random.default_rng(0)
    X, y = split.X_train, split.y_train
    W, b, onehot = np.zeros((784, 10), np.float32), np.zeros(10, np.float32), np.eye(10)[y]
    began = time.perf_counter()
    for epoch in range(epochs):
        step = lr * (1 - epoch / epochs)
        for idx in np.array_split(rng.permutation(len(X)), max(len(X) // batch, 1)):
            z = X[idx] @ W + b
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            d = (p - onehot[idx]) / len(idx)
            W -= step * (X[idx].T @ d)
            b -= step * d.sum(0)
    seconds = time.perf_counter() - began
    return float(np.mean((split.X_test @ W + b).argmax(1) == split.y_test)), seconds


def sklearn(split: runner.Split) -> tuple[float, float] | None:
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return None
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs stops at max_iter=100, as in the reference fit
        clf = LogisticRegression().fit(split.X_train, split.y_train)
    seconds = time.perf_counter() - began
    return float(clf.score(split.X_test, split.y_test)), seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=["sample", "fashion-mnist"], default=None)
    args = p.parse_args()
    split = runner.load_split(args.dataset, 0.2, 0)
    print(f"{split.dataset}: {len(split.X_train)} training, {len(split.X_test)} test images")
    rows = {"tinygrad_hw (Adam, 20 epochs)": ours(split),
            "tinygrad_hw --compile": ours(split, "--compile"),
            "numpy hand-written SGD (20 epochs)": numpy_sgd(split)}
    reference = sklearn(split)
    if reference is not None:
        rows["scikit-learn LogisticRegression"] = reference
    base = rows["tinygrad_hw (Adam, 20 epochs)"][1]
    print(f"{'run':38s} {'test acc':>9s} {'seconds':>8s} {'time / ours':>12s}")
    for name, (acc, seconds) in rows.items():
        print(f"{name:38s} {acc:9.4f} {seconds:8.2f} {seconds / base:12.2f}")
    if reference is None:
        print("(scikit-learn is not installed: pip install scikit-learn to compare)")


if __name__ == "__main__":
    main()
