"""A one-hidden-layer perceptron on Fashion-MNIST: 784 -> hidden (ReLU or sigmoid) -> 10 softmax
outputs, trained on cross-entropy, with a backprop-by-hand check of its gradients on one batch:
python -m models.mlp [--activation relu|sigmoid] [--hidden 256] [--dataset ...] [--out ...]"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw import Tensor, nn
from tinygrad_hw.testing import DerivationMismatch, assert_grad_close

from . import cli, runner

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}
PARAM_NAMES = ("W1", "b1", "W2", "b2")
N_WEIGHT_IMAGES = 24
DEAD_PROBE = 2000  # test images on which dead hidden units are counted


def build(args: argparse.Namespace) -> nn.Sequential:
    """Linear(784, hidden) -> activation -> Linear(hidden, 10) in float32, seeded by --seed."""
    return nn.Sequential(
        nn.Linear(784, args.hidden, init=args.init, rng=args.seed, dtype=np.float32),
        ACTIVATIONS[args.activation](),
        nn.Linear(args.hidden, 10, init=args.init, rng=args.seed + 1, dtype=np.float32),
    )


def loss(W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, X: np.ndarray, y: np.ndarray,
         activation: str = "relu") -> Tensor:
    """C = mean_n cross-entropy(softmax(W2 act(W1 x_n + b1) + b2), y_n), through tg ops."""
    z1 = tg.as_tensor(X) @ tg.as_tensor(W1).T + b1
    h = z1.relu() if activation == "relu" else z1.sigmoid()
    return tg.cross_entropy(h @ tg.as_tensor(W2).T + b2, np.asarray(y))


def hand_gradients(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray,
                   activation: str = "relu") -> dict[str, np.ndarray]:
    """Backprop by hand, rows are examples: delta2 = (y_hat - y_onehot) / N (softmax with
    cross-entropy), delta1 = (delta2 W2) (.) act'(z1); dC/dW2 = delta2^T h, dC/db2 = sum_n
    delta2, dC/dW1 = delta1^T X, dC/db1 = sum_n delta1."""
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in PARAM_NAMES)
    X = np.asarray(X, dtype=np.float64)
    z1 = X @ W1.T + b1
    if activation == "relu":
        h, slope = np.maximum(z1, 0.0), (z1 > 0).astype(np.float64)
    else:
        h = 1 / (1 + np.exp(-z1))
        slope = h * (1 - h)
    z2 = h @ W2.T + b2
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    delta2 = (e / e.sum(axis=1, keepdims=True) - np.eye(W2.shape[0])[y]) / len(y)
    delta1 = (delta2 @ W2) * slope
    return {"W1": delta1.T @ X, "b1": delta1.sum(0), "W2": delta2.T @ h, "b2": delta2.sum(0)}


def derivation_check(model: nn.Sequential, X: np.ndarray, y: np.ndarray,
                     args: argparse.Namespace) -> dict:
    """Autodiff against hand_gradients (+ 2 lambda W for the L2 term) on one batch."""
    params = dict(zip(PARAM_NAMES, (p.numpy().astype(np.float64) for p in model.parameters())))
    hand = hand_gradients(params, X, y, args.activation)
    for k in ("W1", "W2"):
        hand[k] = hand[k] + 2 * args.l2 * params[k]

    def objective(W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor) -> Tensor:
        return loss(W1, b1, W2, b2, X, y, args.activation) + tg.l2_penalty([W1, W2], args.l2)

    inputs = [params[k] for k in PARAM_NAMES]
    try:
        assert_grad_close(objective, inputs, [hand[k] for k in PARAM_NAMES], names=PARAM_NAMES)
        verdict = "agree"
    except DerivationMismatch as err:
        verdict = f"DISAGREE: {err}"
    auto = tg.grad(objective, argnums=(0, 1, 2, 3))(*inputs)
    worst = max(float(np.abs(a.numpy() - hand[k]).max()) for a, k in zip(auto, PARAM_NAMES))
    return {"formula": "delta2 = (y_hat - y) / N, delta1 = (delta2 W2) (.) act'(z1); "
                       "dC/dW2 = delta2^T h, dC/dW1 = delta1^T X (+ 2 lambda W)",
            "batch size": len(y), "max |autodiff - hand| over W1, b1, W2, b2": worst,
            "verdict": verdict}


def strongest_units(model: nn.Sequential, count: int) -> list[int]:
    """The hidden units with the largest outgoing weights ||W2[:, k]||, strongest first: the
    ones the output listens to (a dead ReLU unit keeps its small random weights)."""
    strength = np.linalg.norm(model[2].weight.numpy(), axis=0)
    return [int(k) for k in np.argsort(-strength)[:count]]


def dead_units(model: nn.Sequential, X: np.ndarray) -> int:
    """Hidden units whose activation is 0 on every row of X (for ReLU: units that never fire)."""
    with tg.no_grad():
        hidden = model[1](model[0](Tensor(X))).numpy()
    return int((hidden.max(axis=0) <= 0).sum())


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    p = runner.parser("mlp", __doc__, resumable=True, epochs=15, lr=0.002, batch_size=128,
                      optimizer="adam", schedule="linear")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="relu",
                   help="the hidden layer's activation")
    p.add_argument("--hidden", type=cli.POSITIVE_INT, default=256,
                   help="width of the hidden layer")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = _arguments(argv)
    began, out = time.perf_counter(), runner.prepare_out(args, "mlp")
    split = runner.load_split(args.dataset, args.val_split, args.seed)
    model = build(args)
    print(f"MLP 784 -> {args.hidden} ({args.activation}) -> 10 on {split.dataset}: "
          f"{len(split.X_train)} train / {len(split.X_val)} val / {len(split.X_test)} test")
    check = derivation_check(model, split.X_train[:64], split.y_train[:64], args)
    print(f"derivation check (backprop by hand vs autodiff, first batch): {check['verdict']}")
    hist, seconds = runner.train(model, split, args)
    report = runner.base_report("mlp", args, split)
    probe = split.X_test[:DEAD_PROBE]
    report.update(runner.results(model, split, hist), training_seconds=seconds,
                  derivation_check=check, summary=_summary(args, split),
                  dead_hidden_units=dead_units(model, probe), dead_units_test_images=len(probe))
    pictures = _pictures(out, model, hist, split, args)
    report["notes"] = ([dead_units_note(report["dead_hidden_units"], args, len(probe))]
                       + _graph(out, model, split, args) + _notes(args))
    report.update(pictures=pictures, seconds=time.perf_counter() - began)
    print(f"test accuracy {report['test_accuracy']:.4f} ({100 * report['test_accuracy']:.2f}%), "
          f"test cross-entropy {report['test_loss']:.4f}, trained in {seconds:.1f} s; "
          f"{report['notes'][0]}")
    return runner.finish(out, report)


def _pictures(out: Path, model: nn.Sequential, hist: tg.train.History, split: runner.Split,
              args: argparse.Namespace) -> list[dict]:
    pictures = runner.image_pictures(out, hist, split, f"MLP, {args.hidden} {args.activation} "
                                                       f"hidden units")
    units = strongest_units(model, N_WEIGHT_IMAGES)
    tg.plots.plot_weight_images(model[0].weight.numpy()[units], out / "weights.png", cols=8,
                                titles=[f"unit {k}" for k in units],
                                title="incoming weights of hidden units (red +, blue -)")
    pictures.append({"file": "weights.png", "caption": f"Incoming weights, as 28x28 images, of "
                     f"the {len(units)} hidden units with the largest outgoing weights"})
    pictures.append({"file": "graph.png", "caption": "Compute graph of one mini-batch's loss, "
                                                     "with the deltas dC/dz of both layers"})
    return pictures


def _graph(out: Path, model: nn.Sequential, split: runner.Split,
           args: argparse.Namespace) -> list[str]:
    """graph.png, graph.svg and graph.dot of one mini-batch's loss, drawn after backward()."""
    X, y = split.X_train[: args.batch_size], split.y_train[: args.batch_size]
    graph_loss = tg.cross_entropy(model(Tensor(X, name="X (one batch)")), y)
    graph_loss.backward(retain_graph=True)  # the graph is kept so the deltas can be drawn
    return runner.write_graph(graph_loss, out, model, "MLP: one mini-batch", deltas=True)


def dead_units_note(dead: int, args: argparse.Namespace, n_images: int) -> str:
    """The report's sentence on dead hidden units (dead_units on `n_images` test images)."""
    if args.activation == "relu":
        verb = "fires" if dead == 1 else "fire"
        return (f"{dead:,} of {args.hidden:,} hidden units never {verb} (ReLU output 0) on "
                f"{n_images:,} test images.")
    return (f"{dead:,} of {args.hidden:,} hidden units output 0 on all {n_images:,} test images "
            f"(a sigmoid never reaches exactly 0).")


def _notes(args: argparse.Namespace) -> list[str]:
    if args.init == "zeros":
        return ["--init zeros: every hidden unit starts identical and gets the same update "
                "(with ReLU, no gradient at all), so the hidden layer cannot learn; use "
                "--init default to break the symmetry."]
    return []


def _summary(args: argparse.Namespace, split: runner.Split) -> str:
    return (f"A multilayer perceptron 784 -> {args.hidden} ({args.activation}) -> 10 (softmax) "
            f"on {split.dataset}, trained on cross-entropy with mini-batches "
            f"({args.optimizer}, {args.schedule} learning rate).")


if __name__ == "__main__":
    cli.command(main)
