"""L2 sweep (docs/course.md §3): softmax regression on Fashion-MNIST trained on J = C + lambda
||W||^2 for each lambda, with weights as images, ||W|| and validation accuracy against lambda:
python -m models.l2_sweep [--lambdas 1 0.1 0.01 0.001 0] [--dataset ...] [--out ...]"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw import Tensor, nn

from . import cli, runner
from .softmax_regression import FORMULA_J, DerivationCheck, derivation_check

DEFAULT_LAMBDAS = (1.0, 0.1, 0.01, 0.001, 0.0)
COLUMNS = ["lambda", "weight norm", "train loss", "train accuracy", "val loss", "val accuracy",
           "epochs run", "seconds"]


@dataclass
class Run:
    """One lambda's model, history, metrics (runner.results) and time; `diverged` if it did."""

    lam: float
    model: nn.Linear
    hist: tg.train.History | None = None
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0
    diverged: str | None = None

    @property
    def norm(self) -> float:
        """||W||, the Frobenius norm of the weight matrix (the bias is not penalised)."""
        return float(np.linalg.norm(self.model.weight.numpy()))

    def row(self) -> list:
        m = self.metrics
        return [self.lam, self.norm if not self.diverged else None, m.get("train_loss"),
                m.get("train_accuracy"), m.get("val_loss"), m.get("val_accuracy"),
                m.get("epochs_run"), self.seconds]


def train_one(split: runner.Split, args: argparse.Namespace, lam: float) -> Run:
    """Softmax regression nn.Linear(784, 10) with lambda ||W||^2 (runner.l2_regularizer)."""
    run = Run(lam, nn.Linear(784, 10, init=args.init, rng=args.seed, dtype=np.float32))
    began = time.perf_counter()
    try:
        run.hist, _ = runner.train(run.model, split, args, l2=lam)
    except tg.train.TrainingDiverged as err:
        run.diverged = str(err)
    run.seconds = time.perf_counter() - began
    if run.hist is not None:
        run.metrics = runner.results(run.model, split, run.hist)
    status = "DIVERGED" if run.diverged else (
        f"||W|| = {run.norm:.3f}, val accuracy {run.metrics['val_accuracy']:.4f}")
    print(f"lambda = {lam:g}: {status} ({run.seconds:.1f} s)")
    return run


def best_run(runs: list[Run]) -> Run:
    """The run with the highest validation accuracy (training accuracy without a validation
    split); ties go to the larger lambda (the earlier in the default order)."""
    def score(run: Run) -> tuple[float, float]:
        val = run.metrics.get("val_accuracy", float("nan"))
        train = run.metrics.get("train_accuracy", -math.inf)
        return (val if val is not None and math.isfinite(val) else -math.inf, train)

    finished = [r for r in runs if not r.diverged]
    if not finished:
        raise SystemExit("l2_sweep: every lambda diverged; try a smaller --lr")
    return max(sorted(finished, key=lambda r: -r.lam), key=score)


def _pictures(out: Path, runs: list[Run], best: Run, split: runner.Split) -> list[dict]:
    pictures = runner.image_pictures(out, best.hist, split,
                                     f"softmax regression, lambda = {best.lam:g} (best)")
    done = [r for r in runs if not r.diverged]
    tg.plots.plot_weight_grid(
        {f"lambda = {r.lam:g}\n||W|| = {r.norm:.2f}": r.model.weight for r in done},
        out / "weights_by_lambda.png", col_titles=split.class_names,
        title="weights w_k as 28x28 images, one row per lambda (each row on its own scale)")
    lams = [r.lam for r in done]
    tg.plots.plot_xy(lams, {"||W||": [r.norm for r in done]}, out / "norm_vs_lambda.png",
                     "lambda (symlog scale; 0 at the left)", "||W|| (Frobenius norm)",
                     title="weight norm against lambda", log_x=True)
    accuracy = {part: [r.metrics[f"{part}_accuracy"] for r in done] for part in ("train", "val")}
    tg.plots.plot_xy(lams, accuracy, out / "val_accuracy_vs_lambda.png",
                     "lambda (symlog scale; 0 at the left)", "accuracy",
                     title="accuracy against lambda", log_x=True)
    return pictures + [
        {"file": "weights_by_lambda.png", "caption": "Weights of each class, one row per lambda: "
                                                     "larger lambda, smaller and smoother weights"},
        {"file": "norm_vs_lambda.png", "caption": "||W|| against lambda: it grows as lambda falls"},
        {"file": "val_accuracy_vs_lambda.png",
         "caption": "Validation (and training) accuracy against lambda"},
        {"file": "graph.png", "caption": _graph_caption(graph_run(runs, best), best)}]


def graph_run(runs: list[Run], best: Run) -> Run:
    """The run whose mini-batch loss the compute graph shows: the best lambda when it is
    positive, else the best of the positive lambdas (so the graph has the penalty branch
    lambda ||W||^2); the best run when no positive lambda finished."""
    if best.lam > 0:
        return best
    positive = [r for r in runs if r.lam > 0 and not r.diverged]
    return best_run(positive) if positive else best


def _graph_caption(run: Run, best: Run) -> str:
    if not run.lam:
        return ("Compute graph of one mini-batch's loss at lambda = 0 (no positive lambda was "
                "trained, so there is no penalty term: J = C), with gradients")
    why = "" if run is best else f" (the best positive lambda; the best, {best.lam:g}, has none)"
    return (f"Compute graph of one mini-batch's loss J = C + lambda ||W||^2 at lambda = "
            f"{run.lam:g}{why}, with gradients: W feeds both the cross-entropy C and the "
            f"penalty branch")


def _graph(out: Path, run: Run, split: runner.Split, batch_size: int) -> list[str]:
    X, y = split.X_train[:batch_size], split.y_train[:batch_size]
    graph_loss = tg.cross_entropy(run.model(Tensor(X, name="X (one batch)")), y)
    if run.lam:  # J = C + lambda ||W||^2; with lambda = 0 the graph is C alone
        graph_loss = graph_loss + tg.l2_penalty(run.model.weight, run.lam)
    graph_loss.backward()
    title = (f"softmax regression, J = C + lambda ||W||^2, lambda = {run.lam:g}: one batch"
             if run.lam else "softmax regression, lambda = 0 (J = C): one batch")
    return runner.write_graph(graph_loss, out, run.model, title)


def _checks(runs: list[Run], batch: tuple[np.ndarray, np.ndarray]) -> list[DerivationCheck]:
    """softmax_regression's hand gradients + 2 lambda W against autodiff, per trained lambda."""
    return [derivation_check(r.model, *batch, r.lam) for r in runs if not r.diverged]


def check_rows(checks: list[DerivationCheck]) -> dict[str, object]:
    """The report's display rows of the per-lambda derivation checks."""
    rows: dict[str, object] = {"formula": FORMULA_J}
    if checks:
        rows["batch size"] = checks[0].batch_size
    for c in checks:
        rows[f"lambda = {c.lam:g}"] = (f"{c.verdict}; max |autodiff - hand| "
                                       f"{c.max_error_W:.3g} for W, {c.max_error_b:.3g} for b")
    bad = [f"{c.lam:g}" for c in checks if not c.agree]
    rows["verdict"] = ("agree (W and b, every lambda)" if not bad else
                       f"DISAGREE at lambda = {', '.join(bad)}")
    return rows


def _report(args: argparse.Namespace, split: runner.Split, runs: list[Run], best: Run) -> dict:
    report = runner.base_report("l2_sweep", args, split)
    report["hyperparameters"].pop("l2")
    batch = split.X_train[: args.batch_size], split.y_train[: args.batch_size]
    report.update(best.metrics, best_lambda=best.lam, summary=_summary(split, best),
                  training_seconds=sum(r.seconds for r in runs),
                  derivation_check=check_rows(_checks(runs, batch)),
                  tables={"L2 sweep": {"columns": COLUMNS, "rows": [r.row() for r in runs]}},
                  norms={f"{r.lam:g}": r.norm for r in runs if not r.diverged})
    report["notes"] = [f"lambda = {r.lam:g} diverged: {r.diverged}" for r in runs if r.diverged]
    return report


def main(argv: list[str] | None = None) -> dict:
    p = runner.parser("l2_sweep", __doc__, epochs=5, lr=0.1, init="zeros",
                      schedule="linear")
    p.add_argument("--lambdas", type=cli.NONNEGATIVE, nargs="+", default=list(DEFAULT_LAMBDAS),
                   help="the L2 strengths to train (--l2 is ignored here)")
    args = p.parse_args(argv)
    began, out = time.perf_counter(), runner.prepare_out(args, "l2_sweep")
    split = runner.load_split(args.dataset, args.val_split, args.seed)
    runs = [train_one(split, args, lam) for lam in args.lambdas]
    best = best_run(runs)
    report = _report(args, split, runs, best)
    report["pictures"] = _pictures(out, runs, best, split)
    drawn = graph_run(runs, best)
    report["graph_lambda"] = drawn.lam
    report["notes"] = _graph(out, drawn, split, args.batch_size) + report["notes"]
    report["seconds"] = time.perf_counter() - began
    print(f"best lambda {best.lam:g}: test accuracy {report['test_accuracy']:.4f}; "
          f"{len(runs)} models trained in {report['training_seconds']:.1f} s")
    return runner.finish(out, report)


def _summary(split: runner.Split, best: Run) -> str:
    return (f"Softmax regression z = W x + b on {split.dataset}, trained with mini-batch SGD on "
            f"J = C + lambda ||W||^2 (the bias is not penalised; dJ/dW = dC/dW + 2 lambda W) "
            f"for each lambda in the table. The results below are those of the best lambda by "
            f"validation accuracy, lambda = {best.lam:g}; the loss columns are the "
            f"cross-entropy C without the penalty. Weight norm: ||W||, the Frobenius norm.")


if __name__ == "__main__":
    cli.command(main)
