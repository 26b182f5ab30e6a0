"""The classic fully worked 2-2-2 backpropagation example (docs/course.md §6): forward pass,
E_total, gradients by autodiff and by hand, and one gradient-descent step (weights only),
with a cross-entropy variant. Script: python -m models.worked_example [--cost ...] [--out DIR]"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw import Tensor
from tinygrad_hw.data import worked_example as example

from . import _worked_example_report as tables
from . import cli, runner
from .reference import sigmoid
from .report import text_table

INPUTS = np.array(example.INPUTS)
TARGETS = np.array(example.TARGETS)
LEARNING_RATE = example.LEARNING_RATE
WEIGHT_NAMES = ("W1", "W2")  # updated by the step
BIAS_NAMES = ("b1", "b2")  # not updated: the classic example keeps both biases fixed

Params = dict[str, np.ndarray]



def initial_parameters() -> Params:
    """W1 = [[w1, w2], [w3, w4]] = [[0.15, 0.20], [0.25, 0.30]], b1 = 0.35 (shared by both hidden
    units); W2 = [[w5, w6], [w7, w8]] = [[0.40, 0.45], [0.50, 0.55]], b2 = 0.60 (shared)."""
    return {"W1": np.array(example.W1), "b1": np.array(example.B1),
            "W2": np.array(example.W2), "b2": np.array(example.B2)}


def forward(
    W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, x: np.ndarray | Tensor = INPUTS
) -> tuple[Tensor, Tensor]:
    """net_h = W1 x + b1, out_h = sigma(net_h); net_o = W2 out_h + b2, out_o = sigma(net_o)
    (e.g. net_h1 = w1 i1 + w2 i2 + b1). Returns (out_h, out_o) as Tensors."""
    out_h = tg.sigmoid(tg.as_tensor(W1) @ x + b1)
    return out_h, tg.sigmoid(tg.as_tensor(W2) @ out_h + b2)


def e_total(
    W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, target: np.ndarray = TARGETS,
    x: np.ndarray | Tensor = INPUTS,
) -> Tensor:
    """E_total = sum_o 1/2 (target_o - out_o)^2."""
    diff = tg.as_tensor(target) - forward(W1, b1, W2, b2, x)[1]
    return (diff * diff).sum() * 0.5


def e_total_cross_entropy(
    W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, target: np.ndarray = TARGETS,
    x: np.ndarray | Tensor = INPUTS,
) -> Tensor:
    """The cross-entropy variant: E = -sum_o [t_o ln out_o + (1 - t_o) ln(1 - out_o)]."""
    out_o = forward(W1, b1, W2, b2, x)[1]
    return tg.binary_cross_entropy(out_o, target, reduction="sum")


def _loss_fn(cross_entropy: bool) -> Callable[..., Tensor]:
    return e_total_cross_entropy if cross_entropy else e_total


def loss_value(params: Params, cross_entropy: bool = False) -> float:
    """E_total (or the cross-entropy E) at `params`, as a float."""
    return _loss_fn(cross_entropy)(*(params[k] for k in ("W1", "b1", "W2", "b2"))).item()


def autodiff_gradients(params: Params, cross_entropy: bool = False) -> Params:
    """dE/dW1, dE/db1, dE/dW2, dE/db2 by tg.grad."""
    names = ("W1", "b1", "W2", "b2")
    grads = tg.grad(_loss_fn(cross_entropy), argnums=(0, 1, 2, 3))(*(params[k] for k in names))
    return {k: g.numpy() for k, g in zip(names, grads)}


def hand_gradients(params: Params, cross_entropy: bool = False) -> Params:
    """delta_o = -(target_o - out_o) out_o (1 - out_o)  (cross-entropy: out_o - target_o);
    dE/dw5 = delta_o1 out_h1, i.e. dE/dW2 = delta_o out_h^T;
    delta_h = (W2^T delta_o) out_h (1 - out_h), dE/dw1 = delta_h1 i1, i.e. dE/dW1 = delta_h x^T;
    a shared bias collects its layer's deltas: dE/db1 = sum_h delta_h, dE/db2 = sum_o delta_o."""
    out_h = sigmoid(params["W1"] @ INPUTS + params["b1"])
    out_o = sigmoid(params["W2"] @ out_h + params["b2"])
    if cross_entropy:
        delta_o = out_o - TARGETS
    else:
        delta_o = -(TARGETS - out_o) * out_o * (1 - out_o)
    delta_h = (params["W2"].T @ delta_o) * out_h * (1 - out_h)
    return {
        "W1": np.outer(delta_h, INPUTS),
        "b1": np.array(delta_h.sum()),
        "W2": np.outer(delta_o, out_h),
        "b2": np.array(delta_o.sum()),
    }


def update(params: Params, grads: Params, lr: float = LEARNING_RATE) -> Params:
    """w <- w - lr dE/dw for the weights w1..w8 only; b1 and b2 are copied unchanged, as in the
    classic example. Every gradient is taken at the old weights before any is applied."""
    new = {k: np.array(v) for k, v in params.items()}
    for k in WEIGHT_NAMES:
        new[k] = params[k] - lr * grads[k]
    return new


def one_step(cross_entropy: bool = False, by_hand: bool = False) -> Params:
    """The parameters after one step from initial_parameters() with learning rate 0.5
    (w5 = 0.35891648 and w1 = 0.149780716 for E_total)."""
    params = initial_parameters()
    gradients = hand_gradients if by_hand else autodiff_gradients
    return update(params, gradients(params, cross_entropy))


# ---- the script: every number of the worked example, by hand and by autodiff ----

def _arguments(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m models.worked_example", description=__doc__,
                                formatter_class=cli.HelpFormatter)
    p.add_argument("--out", default="runs/worked_example", help="folder for the report")
    p.add_argument("--cost", choices=["quadratic", "cross-entropy"], default="quadratic",
                   help="E_total = sum 1/2 (t - out)^2 (the classic), or cross-entropy")
    p.add_argument("--lr", type=cli.POSITIVE, default=LEARNING_RATE,
                   help="learning rate of the one update")
    return p.parse_args(argv)


def _graph(out: Path, params: Params, cross_entropy: bool) -> list[str]:
    """The loss at the initial weights after backward(), with values, gradients and deltas."""
    names = {"W1 = [w1 w2; w3 w4]": "W1", "b1": "b1", "W2 = [w5 w6; w7 w8]": "W2", "b2": "b2"}
    leaves = {label: Tensor(params[key], requires_grad=True) for label, key in names.items()}
    loss = _loss_fn(cross_entropy)(*leaves.values(), Tensor(TARGETS, name="target t"),
                                   Tensor(INPUTS, name="x = (i1, i2)"))
    loss.backward(retain_graph=True)  # kept so that the deltas can be drawn
    cost = "cross-entropy" if cross_entropy else "E_total = sum 1/2 (t - out)^2"
    return runner.write_graph(loss, out, title=f"2-2-2 worked example, {cost} "
                                               f"(z1 = net_h, z2 = net_o)",
                              names=leaves, deltas=True)


def _run(cross_entropy: bool, lr: float) -> tuple[dict, dict]:
    params = initial_parameters()
    hand = hand_gradients(params, cross_entropy)
    auto = autodiff_gradients(params, cross_entropy)
    new = update(params, auto, lr)
    values = tables.forward_values(params, INPUTS, TARGETS, cross_entropy)
    found = {
        "Forward pass": tables.forward_table(values, cross_entropy),
        "Deltas (backward pass)": tables.delta_table(params, values, TARGETS, cross_entropy),
        f"Gradients, hand vs autodiff, and one step w <- w - {lr:g} dE/dw":
            tables.gradient_table(params, hand, auto, new)}
    gap = max(float(np.abs(hand[k] - auto[k]).max()) for k in hand)
    after = tables.updated_weights(new)
    facts = {"E_total": loss_value(params, cross_entropy),
             "E_total_after": loss_value(new, cross_entropy),
             "w1_after": after["w1"], "w5_after": after["w5"],
             "updated_weights": after, "max_gradient_gap": gap}
    return found, facts


def main(argv: list[str] | None = None) -> dict:
    args = _arguments(argv)
    began, out, cross_entropy = time.perf_counter(), Path(args.out), args.cost != "quadratic"
    cli.prepare_out(out, "python -m models.worked_example")
    found, facts = _run(cross_entropy, args.lr)
    for title, table in found.items():
        print(f"{title}:\n{text_table(table['columns'], table['rows'])}\n")
    report = runner.base_report("worked_example", args, None)
    report.update(facts, dataset="one example: i = (0.05, 0.10), targets (0.01, 0.99)",
                  cost=args.cost, tables=found, summary=_SUMMARY)
    check = {"largest |hand - autodiff| over all gradients": facts["max_gradient_gap"],
             "verdict": "agree" if facts["max_gradient_gap"] < 1e-12 else "DISAGREE",
             "loss before -> after the step": f"{facts['E_total']:.9f} -> "
                                              f"{facts['E_total_after']:.9f}"}
    if not cross_entropy and args.lr == LEARNING_RATE:
        check |= tables.classic_check(report)
    report["derivation_check"] = check
    for key, value in check.items():
        print(f"{key}: {value:.3g}" if isinstance(value, float) else f"{key}: {value}")
    report.update(notes=_graph(out, initial_parameters(), cross_entropy),
                  pictures=[{"file": "graph.png", "caption": "Compute graph at the initial "
                             "weights after backward(): values, gradients and deltas"}],
                  seconds=time.perf_counter() - began)
    return runner.finish(out, report)


_SUMMARY = ("The classic fully worked 2-2-2 sigmoid network: inputs 0.05, 0.10; hidden weights "
            "w1..w4 = 0.15, 0.20, 0.25, 0.30 with bias 0.35; output weights w5..w8 = 0.40, 0.45, "
            "0.50, 0.55 with bias 0.60; targets 0.01, 0.99; one gradient-descent step with "
            "learning rate 0.5 on the weights (the biases stay fixed, as in the original).")


if __name__ == "__main__":
    cli.command(main)
