"""Softmax regression over K classes (docs/course.md §2 and §8): mean cross-entropy of
softmax(W x + b) through tinygrad_hw ops, the hand-derived gradients for W and b, and the
Fashion-MNIST training run: python -m models.softmax_regression [--dataset ...] [--out ...]"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

import tinygrad_hw as tg
from tinygrad_hw import Tensor, nn
from tinygrad_hw.testing import DerivationMismatch, assert_grad_close

from . import cli, runner
from .reference import softmax


def logits(W: Tensor | ArrayLike, b: Tensor | ArrayLike, X: Tensor | ArrayLike) -> Tensor:
    """z_nk = w_k.x_n + b_k for W (K x d), b (K,), X (N x d): Z = X W^T + b, shape (N, K)."""
    return tg.as_tensor(X) @ tg.as_tensor(W).T + b


def loss(
    W: Tensor | ArrayLike, b: Tensor | ArrayLike, X: Tensor | ArrayLike, y: ArrayLike
) -> Tensor:
    """C = (1/N) sum_n C^n, C^n = -sum_k y_k ln y_hat_k, y_hat_k = e^{z_k} / sum_k' e^{z_k'};
    y holds integer labels (N,), the one-hot y_k is implied."""
    return tg.cross_entropy(logits(W, b, X), np.asarray(y))


def probabilities(W: ArrayLike, b: ArrayLike, X: ArrayLike) -> np.ndarray:
    """y_hat_nk = softmax(z_n)_k in numpy (N x K)."""
    W, X = np.asarray(W, dtype=np.float64), np.asarray(X, dtype=np.float64)
    return softmax(X @ W.T + np.asarray(b, dtype=np.float64))


def hand_gradients(
    W: ArrayLike, b: ArrayLike, X: ArrayLike, y: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """dC/dw_kj = -(1/N) sum_n x_nj (y_nk - y_hat_nk),  dC/db_k = (1/N) sum_n (y_hat_nk - y_nk).

    Returns (dC/dW of shape (K, d), dC/db of shape (K,))."""
    X, labels = np.asarray(X, dtype=np.float64), np.asarray(y)
    y_hat = probabilities(W, b, X)
    one_hot = np.eye(y_hat.shape[1])[labels]
    n = len(labels)
    return -(one_hot - y_hat).T @ X / n, (y_hat - one_hot).sum(axis=0) / n


FORMULA_C = ("dC/dw_kj = -(1/N) sum_n x_nj (y_nk - y_hat_nk); "
             "dC/db_k = (1/N) sum_n (y_hat_nk - y_nk)")
FORMULA_J = ("J = C + lambda ||W||^2: dJ/dw_kj = -(1/N) sum_n x_nj (y_nk - y_hat_nk) "
             "+ 2 lambda w_kj; dJ/db_k = dC/db_k = (1/N) sum_n (y_hat_nk - y_nk)")


@dataclass(frozen=True)
class DerivationCheck:
    """Autodiff against the hand formulas on one batch: the largest entrywise gap for W and
    for b, and the verdict of assert_grad_close over both ("agree" or "DISAGREE: why")."""

    lam: float
    batch_size: int
    max_error_W: float
    max_error_b: float
    verdict: str

    @property
    def agree(self) -> bool:
        return self.verdict == "agree"

    @property
    def formula(self) -> str:
        """dC for lambda = 0; dJ, with J = C + lambda ||W||^2, otherwise."""
        return FORMULA_J if self.lam else FORMULA_C

    def rows(self) -> dict[str, object]:
        """The report's display rows ({label: value}), written into report.json/report.md."""
        rows: dict[str, object] = {"formula": self.formula, "batch size": self.batch_size}
        if self.lam:
            rows["lambda"] = self.lam
        return rows | {"max |autodiff - hand| for W": self.max_error_W,
                       "max |autodiff - hand| for b": self.max_error_b,
                       "verdict": f"{self.verdict} (W and b)" if self.agree else self.verdict}


def derivation_check(model: nn.Linear, X: np.ndarray, y: np.ndarray,
                     lam: float) -> DerivationCheck:
    """Autodiff against the hand formulas (plus 2 lambda W for the L2 term) on one batch, for
    W and for b."""
    W, b = model.weight.numpy().astype(np.float64), model.bias.numpy().astype(np.float64)
    dW, db = hand_gradients(W, b, X, y)
    dW = dW + 2 * lam * W

    def objective(W: Tensor, b: Tensor) -> Tensor:
        return loss(W, b, X, y) + tg.l2_penalty(W, lam)

    try:
        assert_grad_close(objective, [W, b], [dW, db], names=["W", "b"])
        verdict = "agree"
    except DerivationMismatch as err:
        verdict = f"DISAGREE: {err}"
    auto_W, auto_b = tg.grad(objective, argnums=(0, 1))(W, b)
    return DerivationCheck(lam=float(lam), batch_size=len(y),
                           max_error_W=float(np.abs(auto_W.numpy() - dW).max()),
                           max_error_b=float(np.abs(auto_b.numpy() - db).max()),
                           verdict=verdict)


def arguments(argv: list[str] | None = None):
    """The command line, with this model's defaults (Adam 0.002, 20 epochs, linear decay)."""
    return runner.parser("softmax_regression", __doc__, resumable=True, epochs=20, lr=0.002,
                         optimizer="adam", schedule="linear", init="zeros").parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = arguments(argv)
    began = time.perf_counter()
    out = runner.prepare_out(args, "softmax_regression")
    split = runner.load_split(args.dataset, args.val_split, args.seed)
    model = nn.Linear(784, 10, init=args.init, rng=args.seed, dtype=np.float32)
    check = derivation_check(model, split.X_train[:64], split.y_train[:64], args.l2)
    print(f"derivation check on the first batch: {check.verdict} (max |autodiff - hand| "
          f"{check.max_error_W:.3g} for W, {check.max_error_b:.3g} for b)")
    hist, seconds = runner.train(model, split, args)
    report = runner.base_report("softmax_regression", args, split)
    report.update(runner.results(model, split, hist), training_seconds=seconds,
                  derivation_check=check.rows(), summary=_summary(split))
    pictures = runner.image_pictures(out, hist, split, "softmax regression")
    pictures.append(weight_picture(out, model, split))
    batch = split.X_train[: args.batch_size], split.y_train[: args.batch_size]
    graph_loss = tg.cross_entropy(model(Tensor(batch[0], name="X (one batch)")), batch[1])
    graph_loss.backward()
    report["notes"] = runner.write_graph(graph_loss, out, model, "softmax regression: one batch")
    pictures.append({"file": "graph.png", "caption": "Compute graph of one mini-batch's loss"})
    report.update(pictures=pictures, seconds=time.perf_counter() - began)
    print(f"test accuracy {report['test_accuracy']:.4f}, test cross-entropy "
          f"{report['test_loss']:.4f}, trained in {seconds:.1f} s")
    return runner.finish(out, report)


LIT, RARE = 0.1, 0.01  # a pixel is lit above LIT; rarely lit in fewer than RARE of the images


def rarely_lit(X: np.ndarray, level: float = LIT, share: float = RARE) -> np.ndarray:
    """The pixels (columns of X) brighter than `level` in fewer than `share` of the rows."""
    return (np.asarray(X) > level).mean(axis=0) < share


def weight_picture(out, model: nn.Linear, split: runner.Split,
                   percentile: float = 99.0) -> dict:
    """weights.png: the ten w_k as 28x28 images on one colour scale, clipped at the
    `percentile`-th percentile of |w| (Adam drives the weights of pixels that are almost never
    lit far from 0, which would otherwise wash the templates out), rarely lit pixels grey."""
    rare = rarely_lit(split.X_train)
    tg.plots.plot_weight_images(
        model.weight, out / "weights.png", titles=split.class_names, percentile=percentile,
        hide=rare, hide_label=f"rarely lit pixels ({int(rare.sum())})",
        title="weights w_k as 28x28 images (red +, blue -), one colour scale")
    return {"file": "weights.png", "caption": (
        f"Weights of each class as an image, all on one colour scale clipped at the "
        f"{percentile:g}th percentile of |w| (larger weights in the end colours); grey: the "
        f"{int(rare.sum())} pixels lit (> {LIT:g}) in under {RARE:.0%} of the training images")}


def _summary(split: runner.Split) -> str:
    return (f"Softmax regression z = W x + b on {split.dataset} ({len(split.class_names)} "
            f"classes), trained on cross-entropy with mini-batches; weights start at zero.")


if __name__ == "__main__":
    cli.command(main)
