"""A sigmoid network of any depth in Nielsen's notation (docs/course.md §6): forward pass in
tinygrad_hw ops keeping every z^l, BP1-BP4 in numpy; examples are columns, costs sum over them.
Script: python -m models.nielsen_network [--sizes 784 30 10] [--cost quadratic|cross-entropy]"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

import tinygrad_hw as tg
from tinygrad_hw import Tensor, nn

from . import cli, runner
from .reference import sigmoid
from .report import text_table

COSTS = ("quadratic", "cross_entropy")



def _check_cost(cost_name: str) -> None:
    if cost_name not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, not {cost_name!r}")


def forward(
    weights: Sequence[Tensor | ArrayLike], biases: Sequence[Tensor | ArrayLike], X: ArrayLike
) -> tuple[list[Tensor], list[Tensor]]:
    """z^l = W^l a^{l-1} + b^l, a^l = sigma(z^l), a^0 = X, for l = 1..L.

    W^l is (n_l x n_{l-1}), b^l is a column (n_l x 1), X is (n_0 x N) with one example per
    column. Returns (zs, activations) = ([z^1..z^L], [a^0..a^L]); call retain_grad() on a z^l
    (when the weights require grad) to read delta^l = dC/dz^l after backward."""
    activations = [tg.as_tensor(X)]
    zs = []
    for W, b in zip(weights, biases):
        zs.append(tg.as_tensor(W) @ activations[-1] + b)
        activations.append(tg.sigmoid(zs[-1]))
    return zs, activations


def cost(a_out: Tensor, Y: ArrayLike, cost_name: str = "quadratic") -> Tensor:
    """quadratic: C = 1/2 ||a^L - y||^2;  cross_entropy: C = -sum_j [y_j ln a^L_j +
    (1 - y_j) ln(1 - a^L_j)]. Each is summed over the examples (columns)."""
    _check_cost(cost_name)
    Y = tg.as_tensor(Y)
    if cost_name == "quadratic":
        diff = a_out - Y
        return (diff * diff).sum() * 0.5
    return tg.binary_cross_entropy(a_out, Y, reduction="sum")


def loss(
    weights: Sequence[Tensor | ArrayLike],
    biases: Sequence[Tensor | ArrayLike],
    X: ArrayLike,
    Y: ArrayLike,
    cost_name: str = "quadratic",
) -> Tensor:
    """C(a^L) for a^L = forward(weights, biases, X); see `cost`."""
    return cost(forward(weights, biases, X)[1][-1], Y, cost_name)


def output_delta(z_out: np.ndarray, Y: ArrayLike, cost_name: str = "quadratic") -> np.ndarray:
    """BP1: delta^L = grad_a C (.) sigma'(z^L). quadratic: grad_a C = a^L - y; cross-entropy:
    grad_a C = (a^L - y) / (a^L (1 - a^L)), the sigma' cancels and delta^L = a^L - y."""
    _check_cost(cost_name)
    a_out = sigmoid(z_out)
    diff = a_out - np.asarray(Y, dtype=np.float64)
    return diff * a_out * (1 - a_out) if cost_name == "quadratic" else diff


def backprop(
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike],
    X: ArrayLike,
    Y: ArrayLike,
    cost_name: str = "quadratic",
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """BP1 delta^L = grad_a C (.) sigma'(z^L);  BP2 delta^l = ((W^{l+1})^T delta^{l+1}) (.)
    sigma'(z^l);  BP3 dC/db^l_j = delta^l_j;  BP4 dC/dW^l_jk = a^{l-1}_k delta^l_j.

    Column n of delta^l is example n's delta; with C summed over the examples, dC/db^l and
    dC/dW^l sum BP3/BP4 over the columns. Returns (deltas, dC/dW, dC/db), each indexed l=1..L
    as a list position 0..L-1."""
    weights = [np.asarray(W, dtype=np.float64) for W in weights]
    activations, zs = [np.asarray(X, dtype=np.float64)], []
    for W, b in zip(weights, biases):
        zs.append(W @ activations[-1] + np.asarray(b, dtype=np.float64))
        activations.append(sigmoid(zs[-1]))
    deltas = [output_delta(zs[-1], Y, cost_name)]
    for W_next, z in zip(weights[:0:-1], zs[-2::-1]):
        s = sigmoid(z)
        deltas.insert(0, (W_next.T @ deltas[0]) * s * (1 - s))
    grad_W = [delta @ a_prev.T for delta, a_prev in zip(deltas, activations[:-1])]
    grad_b = [delta.sum(axis=1, keepdims=True) for delta in deltas]
    return deltas, grad_W, grad_b


# ---- the script: train on Fashion-MNIST with SGD, compare autodiff's deltas with BP1-BP4 ----

def build(sizes: Sequence[int], init: str = "default", seed: int = 0) -> nn.Sequential:
    """Linear(n_{l-1}, n_l) -> Sigmoid for l = 1..L (float32): Nielsen's network as modules;
    layer l's weight is W^l (n_l x n_{l-1}), its bias b^l."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [nn.Linear(n_in, n_out, init=init, rng=seed + i, dtype=np.float32),
                   nn.Sigmoid()]
    return nn.Sequential(*layers)


def parameters(model: nn.Sequential) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """([W^1..W^L], [b^1..b^L]) in float64, biases as columns (n_l x 1)."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return ([m.weight.numpy().astype(np.float64) for m in linears],
            [m.bias.numpy().astype(np.float64)[:, None] for m in linears])


def mean_cost(cost_name: str, n_classes: int) -> Callable[[Tensor, np.ndarray], Tensor]:
    """loss_fn(outputs (N x n_L), labels) = C / N with y one-hot: the per-example mean that
    Nielsen's update w <- w - (eta / m) sum_x grad C_x uses."""
    def loss_fn(out: Tensor, labels: np.ndarray) -> Tensor:
        labels = np.asarray(labels)
        return cost(out, tg.data.one_hot(labels, n_classes), cost_name) / len(labels)
    return loss_fn


def delta_rows(when: str, weights: list[np.ndarray], biases: list[np.ndarray],
               X: np.ndarray, Y: np.ndarray, cost_name: str) -> list[list]:
    """Per layer: ||delta^l|| from autodiff (retain_grad on z^l) and from BP1/BP2, and the
    largest gaps of delta^l, dC/db^l (BP3) and dC/dW^l (BP4)."""
    W_t = [Tensor(W, requires_grad=True) for W in weights]
    b_t = [Tensor(b, requires_grad=True) for b in biases]
    zs, activations = forward(W_t, b_t, X)
    for z in zs:
        z.retain_grad()
    cost(activations[-1], Y, cost_name).backward()
    deltas, grad_W, grad_b = backprop(weights, biases, X, Y, cost_name)
    rows = []
    for l, (z, delta) in enumerate(zip(zs, deltas), start=1):
        auto = z.grad.numpy()
        rows.append([when, l, "BP1" if l == len(zs) else "BP2", np.linalg.norm(auto),
                     np.linalg.norm(delta), float(np.abs(auto - delta).max()),
                     float(np.abs(b_t[l - 1].grad.numpy() - grad_b[l - 1]).max()),
                     float(np.abs(W_t[l - 1].grad.numpy() - grad_W[l - 1]).max())])
    return rows


DELTA_COLUMNS = ["weights", "l", "delta^l from", "‖delta^l‖ autodiff", "‖delta^l‖ BP",
                 "max gap delta", "max gap dC/db (BP3)", "max gap dC/dW (BP4)"]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    p = runner.parser("nielsen_network", __doc__, resumable=True, epochs=5, lr=3.0,
                      batch_size=10, schedule="linear")
    p.add_argument("--sizes", type=cli.POSITIVE_INT, nargs="+", default=[784, 30, 10],
                   help="layer widths n_0 ... n_L (n_0 = 784 pixels, n_L = 10 classes)")
    p.add_argument("--cost", choices=["quadratic", "cross-entropy"], default="quadratic",
                   help="the cost C of the output layer")
    p.add_argument("--check-examples", type=cli.POSITIVE_INT, default=10,
                   help="examples (columns) in the batch of the delta check")
    args = p.parse_args(argv)
    if len(args.sizes) < 2 or args.sizes[0] != 784 or args.sizes[-1] != 10:
        p.error(f"--sizes must start at 784 (pixels) and end at 10 (classes), got {args.sizes}")
    return args


def main(argv: list[str] | None = None) -> dict:
    args = _arguments(argv)
    began, cost_name = time.perf_counter(), args.cost.replace("-", "_")
    out = runner.prepare_out(args, "nielsen_network")
    split = runner.load_split(args.dataset, args.val_split, args.seed)
    model, loss_fn = build(args.sizes, args.init, args.seed), mean_cost(cost_name, 10)
    X = split.X_train[: args.check_examples].T.astype(np.float64)  # examples as columns
    Y = tg.data.one_hot(split.y_train[: args.check_examples], 10, np.float64).T
    rows = delta_rows("initial", *parameters(model), X, Y, cost_name)
    print(f"Nielsen's network {args.sizes}, {args.cost} cost, SGD eta = {args.lr}, "
          f"mini-batches of {args.batch_size}, on {split.dataset}")
    hist, seconds = runner.train(model, split, args, loss_fn=loss_fn)
    rows += delta_rows("trained", *parameters(model), X, Y, cost_name)
    print(f"per-layer deltas on {args.check_examples} training examples, autodiff vs BP1-BP4:")
    print(text_table(DELTA_COLUMNS, rows))
    report = runner.base_report("nielsen_network", args, split)
    report.update(runner.results(model, split, hist, loss_fn), training_seconds=seconds,
                  loss_name=f"{args.cost} cost (mean)", summary=_summary(args, split),
                  derivation_check=_derivation(rows), delta_norms=_delta_norms(rows),
                  tables={"Per-layer deltas: autodiff against BP1-BP4": {
                      "columns": DELTA_COLUMNS, "rows": rows}})
    report["pictures"] = _pictures(out, hist, split, args)
    report["notes"] = _graph(out, model, X, Y, cost_name)
    report["seconds"] = time.perf_counter() - began
    print(f"test accuracy {report['test_accuracy']:.4f}, trained in {seconds:.1f} s; "
          f"deltas: {report['derivation_check']['verdict']}")
    return runner.finish(out, report)


def _delta_norms(rows: list[list]) -> list[dict]:
    return [{"weights": r[0], "layer": r[1], "autodiff": r[3], "backprop": r[4]} for r in rows]


def _derivation(rows: list[list]) -> dict:
    worst = max(max(r[5:]) for r in rows)
    return {"equations": "BP1 delta^L = grad_a C (.) sigma'(z^L); BP2 delta^l = "
                         "((W^{l+1})^T delta^{l+1}) (.) sigma'(z^l); BP3 dC/db^l = delta^l; "
                         "BP4 dC/dW^l_jk = a^{l-1}_k delta^l_j",
            "autodiff side": "z^l.retain_grad(), then C.backward(): z^l.grad = dC/dz^l",
            "largest gap (deltas, dC/db, dC/dW)": worst,
            "verdict": "agree" if worst < 1e-9 else f"DISAGREE (largest gap {worst:.3g})"}


def _pictures(out: Path, hist: tg.train.History, split: runner.Split,
              args: argparse.Namespace) -> list[dict]:
    tg.plots.plot_curves(hist, out / "curves.png", title=f"Nielsen's network {args.sizes}, "
                         f"{args.cost} cost", loss_label=f"{args.cost} cost (mean)")
    return [{"file": "curves.png", "caption": f"Loss ({args.cost} cost) and accuracy per epoch "
                                              f"(train vs validation)"},
            {"file": "graph.png", "caption": "Compute graph of the cost of the delta-check "
                                             "batch (examples as columns), with the deltas"}]


def _graph(out: Path, model: nn.Sequential, X: np.ndarray, Y: np.ndarray,
           cost_name: str) -> list[str]:
    weights, biases = parameters(model)
    W_t = [Tensor(W, requires_grad=True) for W in weights]
    b_t = [Tensor(b, requires_grad=True) for b in biases]
    zs, activations = forward(W_t, b_t, Tensor(X, name="X = a^0"))
    for l, z in enumerate(zs, start=1):
        z.name = f"z^{l}"
    C = cost(activations[-1], Tensor(Y, name="y (one-hot columns)"), cost_name)
    C.backward(retain_graph=True)
    names = {f"W^{l}": W for l, W in enumerate(W_t, start=1)}
    names.update({f"b^{l}": b for l, b in enumerate(b_t, start=1)})
    return runner.write_graph(C, out, title=f"Nielsen's network: {cost_name} cost, trained "
                                            f"weights", names=names, deltas=True)


def _summary(args: argparse.Namespace, split: runner.Split) -> str:
    return (f"Nielsen's sigmoid network {args.sizes} on {split.dataset}, trained with "
            f"mini-batch SGD on the {args.cost} cost. Every layer's delta^l = dC/dz^l from "
            f"autodiff is compared with backpropagation's four equations BP1-BP4.")


if __name__ == "__main__":
    cli.command(main)
