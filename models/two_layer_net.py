"""The two-layer networks written out by hand (docs/course.md §5): a regression net with one
linear output and a 3-class softmax classifier on 4 sigmoid hidden units; losses and hand
gradients are means over the N examples. Script: python -m models.two_layer_net [--out DIR]"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

import tinygrad_hw as tg
from tinygrad_hw import Tensor

from . import cli, runner
from .reference import sigmoid, softmax
from .report import text_table

N_INPUTS = 3  # x_0 = 1 (the bias) plus two features
N_HIDDEN = 4
N_CLASSES = 3



def with_bias(features: ArrayLike) -> np.ndarray:
    """Prepend the bias input x_0 = 1 to each row: (N, 2) features -> X of shape (N, 3)."""
    features = np.atleast_2d(np.asarray(features, dtype=np.float64))
    return np.hstack([np.ones((len(features), 1)), features])


def hidden(a: Tensor | ArrayLike, X: Tensor | ArrayLike) -> Tensor:
    """h_k = sigma(sum_i x_i a_ik) for each row x of X (N x 3); a is (3 x 4), h is (N x 4)."""
    return tg.sigmoid(tg.as_tensor(X) @ a)


def regression_output(
    a: Tensor | ArrayLike, b: Tensor | ArrayLike, X: Tensor | ArrayLike
) -> Tensor:
    """o = sum_k sigma(sum_i x_i a_ik) b_k, one linear output per example, shape (N,)."""
    return hidden(a, X) @ b


def regression_loss(
    a: Tensor | ArrayLike, b: Tensor | ArrayLike, X: Tensor | ArrayLike, y: ArrayLike
) -> Tensor:
    """SE = (y - o)^2 for one example; for a batch the mean (1/N) sum_n (y_n - o_n)^2."""
    residual = tg.as_tensor(y) - regression_output(a, b, X)
    return (residual * residual).mean()


def regression_hand_gradients(
    a: ArrayLike, b: ArrayLike, X: ArrayLike, y: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """dSE/da_ik = -2 (y - o) b_k h_k (1 - h_k) x_i,   dSE/db_k = -2 (y - o) h_k,
    each averaged over the N examples. Returns (dSE/da (3 x 4), dSE/db (4,))."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    h = sigmoid(X @ a)
    r = -2 * (y - h @ b) / len(y)  # -2 (y - o), with the 1/N of the mean folded in
    grad_b = h.T @ r
    grad_a = X.T @ (r[:, None] * b * h * (1 - h))
    return grad_a, grad_b


def classifier_logits(
    a: Tensor | ArrayLike, B: Tensor | ArrayLike, X: Tensor | ArrayLike
) -> Tensor:
    """z_c = sum_k h_k b_kc for the 3 classes c; B is (4 x 3), the result (N x 3)."""
    return hidden(a, X) @ B


def classifier_loss(
    a: Tensor | ArrayLike, B: Tensor | ArrayLike, X: Tensor | ArrayLike, labels: ArrayLike
) -> Tensor:
    """C = (1/N) sum_n -sum_c y_c ln y_hat_c, y_hat_c = e^{z_c} / sum_c' e^{z_c'} (natural log),
    integer labels (N,)."""
    return tg.cross_entropy(classifier_logits(a, B, X), np.asarray(labels))


def classifier_hand_gradients(
    a: ArrayLike, B: ArrayLike, X: ArrayLike, labels: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """dC/db_kc = (1/N) sum_n (y_hat_c - y_c) h_k,
    dC/da_ik = (1/N) sum_n sum_c (y_hat_c - y_c) b_kc h_k (1 - h_k) x_i.
    Returns (dC/da (3 x 4), dC/dB (4 x 3))."""
    a, B = np.asarray(a, dtype=np.float64), np.asarray(B, dtype=np.float64)
    X, labels = np.asarray(X, dtype=np.float64), np.asarray(labels)
    h = sigmoid(X @ a)
    y_hat = softmax(h @ B)
    err = (y_hat - np.eye(B.shape[1])[labels]) / len(labels)  # (y_hat_c - y_c) / N
    grad_B = h.T @ err
    grad_a = X.T @ ((err @ B.T) * h * (1 - h))
    return grad_a, grad_B


# ---- the script: both nets trained on generated data, autodiff against the hand formulas ----

def regression_data(n: int, seed: int, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """x_1, x_2 uniform on [-2, 2], y = sin(1.5 x_1) + 0.5 x_2 + Gaussian noise; X has x_0 = 1."""
    rng = np.random.default_rng(seed)
    features = rng.uniform(-2, 2, size=(n, 2))
    y = np.sin(1.5 * features[:, 0]) + 0.5 * features[:, 1] + noise * rng.normal(size=n)
    return with_bias(features), y


def classifier_data(n: int, seed: int, spread: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs around the corners of a triangle (radius 1.5), labels 0, 1, 2."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, N_CLASSES, size=n)
    angles = np.pi / 2 + 2 * np.pi * labels / N_CLASSES
    centres = 1.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return with_bias(centres + spread * rng.normal(size=(n, 2))), labels


def gradient_descent(loss_fn: Callable[..., Tensor], params: list[np.ndarray], X: np.ndarray,
                     y: np.ndarray, steps: int, lr: float) -> tuple[list[np.ndarray], list[float]]:
    """Full-batch gradient descent p <- p - lr dL/dp with autodiff gradients; (params, losses)."""
    value_and_grad = tg.value_and_grad(loss_fn, argnums=tuple(range(len(params))))
    losses = []
    for _ in range(steps):
        value, grads = value_and_grad(*params, X, y)
        losses.append(value.item())
        params = [p - lr * g.numpy() for p, g in zip(params, grads)]
    return params, losses


def regression_gradient_table(a: np.ndarray, b: np.ndarray, x: np.ndarray, y: float) -> dict:
    """One example: dSE/db_k and dSE/da_ik by autodiff next to the hand formulas."""
    X, Y = x[None], np.array([y])
    hand_a, hand_b = regression_hand_gradients(a, b, X, Y)
    auto_a, auto_b = (g.numpy() for g in tg.grad(regression_loss, argnums=(0, 1))(a, b, X, Y))
    rows = [[f"dSE/db_{k + 1}", "-2 (y - o) h_k", auto_b[k], hand_b[k],
             abs(auto_b[k] - hand_b[k])] for k in range(N_HIDDEN)]
    rows += [[f"dSE/da_{i}{k + 1}", "-2 (y - o) b_k h_k (1 - h_k) x_i", auto_a[i, k],
              hand_a[i, k], abs(auto_a[i, k] - hand_a[i, k])]
             for i in range(N_INPUTS) for k in range(N_HIDDEN)]
    return {"columns": ["gradient", "hand formula", "autodiff", "by hand", "abs. difference"],
            "rows": rows}


def _max_gap(loss_fn: Callable[..., Tensor], hand_fn: Callable, params: list[np.ndarray],
             X: np.ndarray, y: np.ndarray) -> float:
    """max |autodiff - hand| over every entry of every parameter's gradient (batch mean)."""
    auto = tg.grad(loss_fn, argnums=(0, 1))(*params, X, y)
    return max(float(np.abs(g.numpy() - h).max()) for g, h in zip(auto, hand_fn(*params, X, y)))


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m models.two_layer_net", description=__doc__,
                                formatter_class=cli.HelpFormatter)
    p.add_argument("--out", default="runs/two_layer_net", help="folder for the report")
    p.add_argument("--seed", type=cli.NONNEGATIVE_INT, default=0,
                   help="seed of the data and the initial weights")
    p.add_argument("--n", type=cli.POSITIVE_INT, default=200, help="training examples per net")
    p.add_argument("--steps", type=cli.POSITIVE_INT, default=5000,
                   help="full-batch gradient-descent steps")
    p.add_argument("--lr", type=cli.POSITIVE, default=0.3, help="learning rate")
    p.add_argument("--noise", type=cli.NONNEGATIVE, default=0.1,
                   help="standard deviation of the regression noise")
    return p.parse_args(argv)


def _train_regression(args: argparse.Namespace, rng: np.random.Generator) -> dict:
    X, y = regression_data(args.n, args.seed, args.noise)
    X_test, y_test = regression_data(args.n, args.seed + 1, args.noise)
    a0, b0 = rng.normal(0, 0.5, (N_INPUTS, N_HIDDEN)), rng.normal(0, 0.5, N_HIDDEN)
    table = regression_gradient_table(a0, b0, X[0], y[0])
    print(f"Regression net, one example (x_1, x_2) = ({X[0, 1]:.3f}, {X[0, 2]:.3f}), "
          f"y = {y[0]:.3f}, initial weights:")
    print(text_table(table["columns"], table["rows"]))
    (a, b), losses = gradient_descent(regression_loss, [a0, b0], X, y, args.steps, args.lr)
    run = {"a": a, "b": b, "X": X, "y": y, "losses": losses, "table": table,
           "train_loss": regression_loss(a, b, X, y).item(),
           "test_loss": regression_loss(a, b, X_test, y_test).item(),
           "gaps": [_max_gap(regression_loss, regression_hand_gradients, p, X, y)
                    for p in ([a0, b0], [a, b])]}
    print(f"regression: mean SE {losses[0]:.4f} -> {run['train_loss']:.4f} in {args.steps} "
          f"steps (test {run['test_loss']:.4f}; the noise alone gives {args.noise ** 2:.4f})")
    return run


def _accuracy(a: np.ndarray, B: np.ndarray, X: np.ndarray, labels: np.ndarray) -> float:
    return float((classifier_logits(a, B, X).numpy().argmax(axis=1) == labels).mean())


def _train_classifier(args: argparse.Namespace, rng: np.random.Generator) -> dict:
    X, labels = classifier_data(args.n, args.seed)
    X_test, labels_test = classifier_data(args.n, args.seed + 1)
    a0, B0 = rng.normal(0, 0.5, (N_INPUTS, N_HIDDEN)), rng.normal(0, 0.5, (N_HIDDEN, N_CLASSES))
    (a, B), losses = gradient_descent(classifier_loss, [a0, B0], X, labels, args.steps, args.lr)
    run = {"losses": losses, "train_loss": classifier_loss(a, B, X, labels).item(),
           "test_loss": classifier_loss(a, B, X_test, labels_test).item(),
           "train_accuracy": _accuracy(a, B, X, labels),
           "test_accuracy": _accuracy(a, B, X_test, labels_test),
           "gaps": [_max_gap(classifier_loss, classifier_hand_gradients, p, X, labels)
                    for p in ([a0, B0], [a, B])]}
    print(f"classifier: cross-entropy {losses[0]:.4f} -> {run['train_loss']:.4f}, accuracy "
          f"{run['train_accuracy']:.3f} train / {run['test_accuracy']:.3f} test")
    return run


def _derivation(reg: dict, cls: dict) -> dict:
    worst = max(reg["gaps"] + cls["gaps"])
    return {"regression: dSE/db_k": "-2 (y - o) h_k",
            "regression: dSE/da_ik": "-2 (y - o) b_k h_k (1 - h_k) x_i",
            "classifier: dC/db_kc, dC/da_ik": "(y_hat_c - y_c) h_k, "
                                              "sum_c (y_hat_c - y_c) b_kc h_k (1 - h_k) x_i",
            "regression: max |autodiff - hand|, initial / trained weights": reg["gaps"],
            "classifier: max |autodiff - hand|, initial / trained weights": cls["gaps"],
            "verdict": "agree" if worst < 1e-10 else f"DISAGREE (largest gap {worst:.3g})"}


def _results_table(reg: dict, cls: dict) -> dict:
    return {"columns": ["net", "loss", "train loss", "test loss", "train accuracy",
                        "test accuracy"],
            "rows": [["regression (1 linear output)", "mean (y - o)^2", reg["train_loss"],
                      reg["test_loss"], None, None],
                     ["classifier (3 softmax outputs)", "cross-entropy", cls["train_loss"],
                      cls["test_loss"], cls["train_accuracy"], cls["test_accuracy"]]]}


def _graph(out: Path, reg: dict) -> list[str]:
    """The regression net's loss on the training set after backward(), with the deltas."""
    a = Tensor(reg["a"], requires_grad=True, name="a (3 x 4)")
    b = Tensor(reg["b"], requires_grad=True, name="b (4)")
    z = Tensor(reg["X"], name="X (x_0 = 1)") @ a
    z.name = "z"
    h = tg.sigmoid(z)
    h.name = "h"
    o = h @ b
    o.name = "o"
    residual = Tensor(reg["y"], name="y") - o
    residual.name = "y - o"
    loss = (residual * residual).mean()
    loss.backward(retain_graph=True)
    return runner.write_graph(loss, out, title="regression net: mean (y - o)^2, trained weights",
                              deltas=[z, o])


def _pictures(out: Path, reg: dict, cls: dict) -> list[dict]:
    tg.plots.plot_step_losses({"regression: mean (y - o)^2": reg["losses"],
                               "classifier: cross-entropy": cls["losses"]}, out / "curves.png",
                              title="two-layer nets, full-batch gradient descent",
                              xlabel="gradient-descent step", log_y=True)
    return [{"file": "curves.png", "caption": "Training loss per step of both nets (log scale)"},
            {"file": "graph.png", "caption": "Compute graph of the regression net's loss, "
                                             "with delta = dSE/dz and dSE/do"}]


def main(argv: list[str] | None = None) -> dict:
    args = _arguments(argv)
    began, out = time.perf_counter(), Path(args.out)
    cli.prepare_out(out, "python -m models.two_layer_net")
    rng = np.random.default_rng(args.seed)
    reg, cls = _train_regression(args, rng), _train_classifier(args, rng)
    report = runner.base_report("two_layer_net", args, None)
    report.update(
        dataset=f"generated ({args.n} training + {args.n} test examples per net, seed "
                f"{args.seed})", summary=_SUMMARY, derivation_check=_derivation(reg, cls),
        regression={k: reg[k] for k in ("train_loss", "test_loss")},
        classifier={k: cls[k] for k in ("train_loss", "test_loss", "train_accuracy",
                                        "test_accuracy")},
        tables={"Final losses and accuracy": _results_table(reg, cls),
                "Regression net: gradients of one example, autodiff vs hand": reg["table"]})
    print(f"derivation check: {report['derivation_check']['verdict']}")
    report.update(pictures=_pictures(out, reg, cls), notes=_graph(out, reg),
                  seconds=time.perf_counter() - began)
    return runner.finish(out, report)


_SUMMARY = ("Two nets with 3 inputs (x_0 = 1 is the bias) and 4 sigmoid hidden units, trained by "
            "full-batch gradient descent on generated data: a regression net with one linear "
            "output on y = sin(1.5 x_1) + 0.5 x_2 + noise, and a 3-class softmax classifier on "
            "three Gaussian blobs. Autodiff gradients are checked against the hand formulas.")


if __name__ == "__main__":
    cli.command(main)
