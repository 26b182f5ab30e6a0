"""`python -m tinygrad_hw.viz --out DIR`: draw a course model's loss graph, with gradients
and deltas, to DIR/graph.dot and DIR/graph.svg (and graph.png with --png)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..data import worked_example as example
from ..tensor import Tensor
from .render import Graph, GraphvizNotFound, draw_graph

# the classic fully worked 2-2-2 sigmoid network, one bias per unit here (the same values)
INPUTS, TARGETS = list(example.INPUTS), list(example.TARGETS)
W1, B1 = [list(row) for row in example.W1], [example.B1] * 2
W2, B2 = [list(row) for row in example.W2], [example.B2] * 2


def worked_example(cross_entropy: bool = False) -> tuple[Tensor, dict[str, Tensor]]:
    """The loss E_total = sum 1/2 (target - out)^2 (or the cross-entropy variant), built from
    tinygrad_hw ops with every tensor named as in the hand derivation."""
    x, y = Tensor(INPUTS, name="x"), Tensor(TARGETS, name="target")
    params = {
        "W1": Tensor(W1, requires_grad=True), "b1": Tensor(B1, requires_grad=True),
        "W2": Tensor(W2, requires_grad=True), "b2": Tensor(B2, requires_grad=True),
    }
    z1 = _named(x @ params["W1"].T + params["b1"], "z1")
    a1 = _named(z1.sigmoid(), "a1")
    z2 = _named(a1 @ params["W2"].T + params["b2"], "z2")
    out = _named(z2.sigmoid(), "out")
    if cross_entropy:
        from ..nn.functional import binary_cross_entropy  # nn is imported only when used

        loss = binary_cross_entropy(out, y, reduction="sum")
    else:
        loss = (0.5 * (y - out) ** 2).sum()
    return _named(loss, "E_total"), params


def nn_example() -> tuple[Tensor, Any]:
    """The same network as tg.nn.Sequential(Linear, Sigmoid, Linear, Sigmoid): one box per
    Linear layer, parameters under their state_dict names."""
    from .. import nn  # imported here so drawing never depends on the nn package

    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid())
    model.load_state_dict({
        "0.weight": np.array(W1), "0.bias": np.array(B1),
        "2.weight": np.array(W2), "2.bias": np.array(B2),
    })
    out = model(Tensor(INPUTS, name="x"))
    loss = (0.5 * (Tensor(TARGETS, name="target") - out) ** 2).sum()
    return _named(loss, "E_total"), model


def _named(t: Tensor, name: str) -> Tensor:
    t.name = name
    return t


def build(model: str, derivatives: bool = False) -> Graph:
    """The graph of one course model's loss after backward(): parameter gradients and the
    delta of each pre-activation (the graph is kept alive so deltas can be computed)."""
    module, params = None, None
    if model == "nn":
        loss, module = nn_example()
    else:
        loss, params = worked_example(cross_entropy=model == "worked-ce")
    loss.backward(retain_graph=True)
    title = {
        "worked": "2-2-2 worked example: E_total = sum 1/2 (target - out)^2",
        "worked-ce": "2-2-2 worked example, cross-entropy loss",
        "nn": "2-2-2 worked example as tg.nn.Sequential",
    }[model]
    return draw_graph(loss, module=module, params=params, deltas=True,
                      derivatives=derivatives, title=title)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinygrad_hw.viz", description=__doc__)
    parser.add_argument("--model", choices=["worked", "worked-ce", "nn"], default="worked")
    parser.add_argument("--out", type=Path, default=Path("."), help="output directory")
    parser.add_argument("--png", action="store_true", help="also write graph.png")
    parser.add_argument("--derivatives", action="store_true", help="show local derivatives")
    args = parser.parse_args(argv)
    g = build(args.model, args.derivatives)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "graph.dot").write_text(g.source, encoding="utf-8")
    try:
        for fmt in ["svg"] + (["png"] if args.png else []):
            (args.out / f"graph.{fmt}").write_bytes(g.pipe(format=fmt))
    except GraphvizNotFound as e:
        print(f"wrote {args.out / 'graph.dot'}; {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out / 'graph.dot'} and {args.out / 'graph.svg'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
