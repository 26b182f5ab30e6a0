"""Binary logistic regression (docs/course.md §1): the mean cross-entropy loss as tinygrad_hw
ops, the hand-derived gradient (1/N) sum_n (y_hat - y) x_n, and a two-class Fashion-MNIST run:
python -m models.logistic_regression [--classes A B] [--dataset ...] [--out ...]"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

import tinygrad_hw as tg
from tinygrad_hw import Tensor, nn
from tinygrad_hw.testing import DerivationMismatch, assert_grad_close

from . import cli, runner
from .reference import sigmoid

DEFAULT_CLASSES = ("T-shirt/top", "Shirt")  # a hard pair; y = 1 for the second (shirt)



def predict(w: Tensor | ArrayLike, X: Tensor | ArrayLike) -> Tensor:
    """y_hat_n = sigma(w.x_n) for the rows x_n of X (N x d, bias column included)."""
    return tg.sigmoid(tg.as_tensor(X) @ w)


def loss(w: Tensor | ArrayLike, X: Tensor | ArrayLike, y: Tensor | ArrayLike) -> Tensor:
    """C = (1/N) sum_n C^n, C^n = -[y ln y_hat + (1-y) ln(1-y_hat)], y_hat = sigma(w.x_n).

    Computed from the logits z = X w (binary_cross_entropy_with_logits), which is the same
    function as binary_cross_entropy(sigmoid(z)) but exact when sigma(z) rounds to 0 or 1."""
    return tg.binary_cross_entropy_with_logits(tg.as_tensor(X) @ w, y)


def loss_from_probabilities(
    w: Tensor | ArrayLike, X: Tensor | ArrayLike, y: Tensor | ArrayLike
) -> Tensor:
    """The same C written literally: mean_n BCE(y_hat_n, y_n) with y_hat = sigma(X w)."""
    return tg.binary_cross_entropy(predict(w, X), y)


def hand_gradient(w: ArrayLike, X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """dC/dw_i = (1/N) sum_n (y_hat_n - y_n) x_ni   (= -(1/N) sum_n (y - y_hat) x_ni)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    y_hat = sigmoid(X @ np.asarray(w, dtype=np.float64))
    return X.T @ (y_hat - y) / len(y)


def class_index(token: str) -> int:
    """A Fashion-MNIST class from its index ("6") or name ("shirt", "t-shirt", "Ankle boot");
    case and punctuation are ignored and a unique prefix is enough."""
    if token.strip().isdigit() and int(token) < len(runner.CLASSES):
        return int(token)
    names = [re.sub(r"[^a-z0-9]", "", c.lower()) for c in runner.CLASSES]
    key = re.sub(r"[^a-z0-9]", "", token.lower())
    found = [i for i, n in enumerate(names) if n == key] or [
        i for i, n in enumerate(names) if key and n.startswith(key)]
    if len(found) != 1:
        raise ValueError(f"unknown or ambiguous class {token!r}: use 0-9 or one of "
                         f"{', '.join(runner.CLASSES)}")
    return found[0]


def _class_arg(token: str) -> int:
    try:
        return class_index(token)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def bce_loss(logits: Tensor, labels: ArrayLike) -> Tensor:
    """Mean BCE of the model's logits (N, 1) against 0/1 labels (N,), as float targets (N, 1)."""
    target = tg.as_tensor(labels).astype(logits.dtype).reshape(-1, 1)  # tensor ops: compilable
    return tg.binary_cross_entropy_with_logits(logits, target)


def derivation_check(model: nn.Linear, X: np.ndarray, y: np.ndarray, lam: float = 0.0) -> dict:
    """hand_gradient against autodiff on one batch, with the bias trick: w = [weight, bias]
    (785 entries) and X gets a last column of ones, so y_hat = sigma(w.x) = sigma(weight.x + b).
    With L2 (on the weight, not the bias) the hand gradient gains 2 lambda w."""
    w = np.concatenate([model.weight.numpy().ravel(), model.bias.numpy()]).astype(np.float64)
    Xb, yf = tg.data.add_bias_column(X).astype(np.float64), np.asarray(y, dtype=np.float64)
    mask = np.r_[np.ones(w.size - 1), 0.0]  # which entries of w the L2 term sees
    expected = hand_gradient(w, Xb, yf) + 2 * lam * mask * w

    def objective(w: Tensor) -> Tensor:
        return loss(w, Xb, yf) + tg.l2_penalty(w * mask, lam)

    try:
        assert_grad_close(objective, [w], expected, names=["w = [weight, bias]"],
                          n_examples=len(yf))
        verdict = "agree"
    except DerivationMismatch as err:
        verdict = f"DISAGREE: {err}"
    auto = tg.grad(objective)(w).numpy()
    same_loss = abs(loss(w, Xb, yf).item() - bce_loss(model(X), y).item())
    return {"formula": "dC/dw_i = (1/N) sum_n (y_hat_n - y_n) x_ni (+ 2 lambda w_i, not for b); "
                       "bias trick: x_n,785 = 1, w_785 = b",
            "batch size": len(yf), "max |autodiff - hand|": float(np.abs(auto - expected).max()),
            "|bias-trick loss - model loss|": same_loss, "verdict": verdict}


def _check(model: nn.Linear, split: runner.Split, args: argparse.Namespace, when: str) -> dict:
    batch = split.X_train[: args.batch_size], split.y_train[: args.batch_size]
    check = derivation_check(model, *batch, args.l2)
    print(f"derivation check on the first batch ({when}): gradients {check['verdict']}, "
          f"max |autodiff - hand| = {check['max |autodiff - hand|']:.3g}")
    return check


def _pictures(out: Path, model: nn.Linear, hist: tg.train.History, split: runner.Split) -> list:
    neg, pos = split.class_names
    pictures = runner.image_pictures(out, hist, split, f"logistic regression: {pos} vs {neg}")
    tg.plots.plot_weight_image(model.weight, out / "weights.png",
                               title=f"w as a 28x28 image: red pushes towards {pos},\n"
                                     f"blue towards {neg}", colorbar_label="w_i")
    pictures.append({"file": "weights.png", "caption": f"The weights w as a 28x28 image: red "
                     f"pixels push towards {pos} (y = 1), blue ones towards {neg} (y = 0)"})
    return pictures


def _graph(out: Path, model: nn.Linear, split: runner.Split, batch_size: int) -> list[str]:
    X, y = split.X_train[:batch_size], split.y_train[:batch_size]
    target = Tensor(np.asarray(y, np.float32).reshape(-1, 1), name="y (targets)")
    graph_loss = tg.binary_cross_entropy_with_logits(model(Tensor(X, name="X (one batch)")),
                                                     target)
    graph_loss.backward()
    return runner.write_graph(graph_loss, out, model, "logistic regression: one batch")


def main(argv: list[str] | None = None) -> dict:
    p = runner.parser("logistic_regression", __doc__, resumable=True, epochs=20, lr=0.1,
                      schedule="linear", init="zeros")
    p.add_argument("--classes", nargs=2, type=_class_arg, metavar=("A", "B"),
                   default=[class_index(c) for c in DEFAULT_CLASSES],
                   help="two classes, by index or name; y = 0 for A, 1 for B")
    args = p.parse_args(argv)
    if args.classes[0] == args.classes[1]:
        p.error("--classes needs two different classes")
    began, out = time.perf_counter(), runner.prepare_out(args, "logistic_regression")
    split = runner.load_split(args.dataset, args.val_split, args.seed,
                              args.classes)
    model = nn.Linear(784, 1, init=args.init, rng=args.seed, dtype=np.float32)
    check = _check(model, split, args, "initial weights")
    hist, seconds = runner.train(model, split, args, loss_fn=bce_loss)
    after = _check(model, split, args, "trained weights")
    check.update({f"after training: {k}": after[k] for k in ("max |autodiff - hand|", "verdict")})
    report = runner.base_report("logistic_regression", args, split)
    report.update(runner.results(model, split, hist, bce_loss), training_seconds=seconds,
                  derivation_check=check, summary=_summary(split), loss_name="binary cross-entropy",
                  classes={"y=0": split.class_names[0], "y=1": split.class_names[1]},
                  pictures=_pictures(out, model, hist, split))
    report["pictures"].append({"file": "graph.png",
                               "caption": "Compute graph of one mini-batch's loss, with gradients"})
    report["notes"] = _graph(out, model, split, args.batch_size) + [TUNING]
    report["seconds"] = time.perf_counter() - began
    print(f"test accuracy {report['test_accuracy']:.4f}, test BCE {report['test_loss']:.4f}, "
          f"trained in {seconds:.1f} s")
    return runner.finish(out, report)


TUNING = ("Defaults chosen by validation accuracy (full data, T-shirt/top vs shirt, zero init, "
          "batch 64, mean over seeds 0, 1, 2 of the last epoch's accuracy; 20 epochs unless "
          "said): Adam lr 0.003 linear decay 0.857; SGD lr 0.3 linear 0.855; SGD lr 0.1 linear "
          "0.855 (chosen); SGD lr 0.1 constant 0.854; Adam lr 0.001 constant 0.853; Adam lr "
          "0.003 constant, 10 epochs 0.853; SGD lr 0.03 constant 0.851. All lie within the "
          "seed-to-seed spread (about +-0.006): a linear model gets about 85% on this pair. "
          "Plain SGD is the default because Adam's weight image is dominated by rarely-lit "
          "border pixels (it scales each pixel's step by that pixel's own gradient size) and "
          "lr 0.3 bounces for the first 10 epochs.")


def _summary(split: runner.Split) -> str:
    neg, pos = split.class_names
    return (f"Binary logistic regression y_hat = sigma(w.x + b) on {split.dataset}: {pos} "
            f"(y = 1) against {neg} (y = 0), trained on the mean binary cross-entropy "
            f"(the loss columns below) on mini-batches. The hand-derived "
            f"gradient (1/N) sum_n (y_hat_n - y_n) x_n is checked against autodiff on the first "
            f"batch, before and after training.")


if __name__ == "__main__":
    cli.command(main)
