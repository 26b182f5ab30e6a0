"""The tables of the 2-2-2 worked example's script (models.worked_example): every forward value,
the deltas, and each weight's gradient by hand and by autodiff with its updated value."""

from __future__ import annotations

import numpy as np

from .reference import sigmoid

Params = dict[str, np.ndarray]

# weight name -> (parameter, index, chain rule of dE/dw); W1 = [[w1, w2], [w3, w4]] etc.
WEIGHTS = {
    "w1": ("W1", (0, 0), "delta_h1 i1"), "w2": ("W1", (0, 1), "delta_h1 i2"),
    "w3": ("W1", (1, 0), "delta_h2 i1"), "w4": ("W1", (1, 1), "delta_h2 i2"),
    "w5": ("W2", (0, 0), "delta_o1 out_h1"), "w6": ("W2", (0, 1), "delta_o1 out_h2"),
    "w7": ("W2", (1, 0), "delta_o2 out_h1"), "w8": ("W2", (1, 1), "delta_o2 out_h2"),
    "b1": ("b1", (), "delta_h1 + delta_h2"), "b2": ("b2", (), "delta_o1 + delta_o2"),
}
CLASSIC = {"E_total": 0.298371109, "w5_after": 0.35891648, "w1_after": 0.149780716}
GRADIENT_COLUMNS = ["weight", "dE/dw by the chain rule", "value", "dE/dw by hand",
                    "dE/dw by autodiff", "abs. difference", "after the step (biases fixed)"]


def _f(value: float) -> str:
    return f"{float(value):.9f}"



def forward_values(params: Params, x: np.ndarray, target: np.ndarray,
                   cross_entropy: bool) -> dict[str, float]:
    """net_h, out_h, net_o, out_o, each output's error E_o and E_total, by name."""
    net_h = params["W1"] @ x + params["b1"]
    out_h = sigmoid(net_h)
    net_o = params["W2"] @ out_h + params["b2"]
    out_o = sigmoid(net_o)
    if cross_entropy:
        errors = -(target * np.log(out_o) + (1 - target) * np.log(1 - out_o))
    else:
        errors = 0.5 * (target - out_o) ** 2
    values = {}
    for j in (0, 1):
        values.update({f"net_h{j + 1}": net_h[j], f"out_h{j + 1}": out_h[j]})
    for j in (0, 1):
        values.update({f"net_o{j + 1}": net_o[j], f"out_o{j + 1}": out_o[j],
                       f"E_o{j + 1}": errors[j]})
    values["E_total"] = errors.sum()
    return values


def forward_table(values: dict[str, float], cross_entropy: bool) -> dict:
    error = ("-(t_o1 ln out_o1 + (1 - t_o1) ln(1 - out_o1))" if cross_entropy
             else "1/2 (t_o1 - out_o1)^2")
    formulas = {
        "net_h1": "w1 i1 + w2 i2 + b1", "out_h1": "sigma(net_h1)",
        "net_h2": "w3 i1 + w4 i2 + b1", "out_h2": "sigma(net_h2)",
        "net_o1": "w5 out_h1 + w6 out_h2 + b2", "out_o1": "sigma(net_o1)",
        "E_o1": error, "net_o2": "w7 out_h1 + w8 out_h2 + b2", "out_o2": "sigma(net_o2)",
        "E_o2": error.replace("o1", "o2"), "E_total": "E_o1 + E_o2"}
    return {"columns": ["quantity", "formula", "value"],
            "rows": [[k, formulas[k], _f(v)] for k, v in values.items()]}


def delta_table(params: Params, values: dict[str, float], target: np.ndarray,
                cross_entropy: bool) -> dict:
    """delta_o = dE/dnet_o and delta_h = dE/dnet_h, with their formulas."""
    out_o = np.array([values["out_o1"], values["out_o2"]])
    out_h = np.array([values["out_h1"], values["out_h2"]])
    delta_o = out_o - target if cross_entropy else (out_o - target) * out_o * (1 - out_o)
    delta_h = (params["W2"].T @ delta_o) * out_h * (1 - out_h)
    rule_o = ("out_o{j} - t_o{j}" if cross_entropy
              else "(out_o{j} - t_o{j}) out_o{j} (1 - out_o{j})")
    rows = [[f"delta_o{j}", rule_o.format(j=j), _f(delta_o[j - 1])] for j in (1, 2)]
    rows += [["delta_h1", "(w5 delta_o1 + w7 delta_o2) out_h1 (1 - out_h1)", _f(delta_h[0])],
             ["delta_h2", "(w6 delta_o1 + w8 delta_o2) out_h2 (1 - out_h2)", _f(delta_h[1])]]
    return {"columns": ["delta", "formula", "value"], "rows": rows}


def gradient_table(params: Params, hand: Params, auto: Params, new: Params) -> dict:
    """One row per weight w1..w8 and bias b1, b2: old value, dE/dw by hand and by autodiff,
    their difference, and the value after w <- w - 0.5 dE/dw (the biases stay)."""
    rows = []
    for name, (key, index, rule) in WEIGHTS.items():
        h, a = float(hand[key][index]), float(auto[key][index])
        rows.append([name, rule, _f(params[key][index]), _f(h), _f(a), abs(h - a),
                     _f(new[key][index])])
    return {"columns": GRADIENT_COLUMNS, "rows": rows}


def updated_weights(new: Params) -> dict[str, float]:
    return {name: float(new[key][index]) for name, (key, index, _) in WEIGHTS.items()}


def classic_check(report: dict) -> dict:
    """The three published figures against this run (quadratic cost only)."""
    got = {k: report[k] for k in CLASSIC}
    ok = all(abs(got[k] - v) < 5e-9 for k, v in CLASSIC.items())
    return {f"{k} (published {v})": _f(got[k]) for k, v in CLASSIC.items()} | {
        "published figures": "reproduced" if ok else "NOT reproduced"}
