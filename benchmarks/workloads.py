"""The benchmarked workloads, each written once per framework from the same initial values:

    numpy                  hand-written as in the course: explicit forward, hand-derived
                           backward (softmax p - onehot, X.T @ delta / N, sigmoid' = a(1 - a),
                           relu' = [z > 0]), SGD update in place
    tinygrad_hw            eager: tg.nn.Linear, tg.sigmoid / tg.relu, tg.cross_entropy,
                           loss.backward(), tg.optim.SGD
    tinygrad_hw compiled   the same train_step through tg.compile (when tinygrad_hw has it)
    torch                  PyTorch eager: torch.nn.Linear, F.cross_entropy, torch.optim.SGD

A training step is `step(X, y) -> loss` on numpy arrays X (N, 784) float32 and y (N,) int64:
forward, mean cross-entropy, backward, one SGD update. `Impl.weights()` returns the current
parameters in the course's layout, [W1 (in, out), b1, W2, b2, ...], so one step of every
framework can be checked to give the same updated weights (`max_weight_difference`).

The elementwise chain is `chain_impl`: forward through `n_ops` alternating x * y and + y on
(16,) float64, then backward from a gradient of ones; `Impl.weights()` gives dx and dy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import tinygrad_hw as tg

try:
    import torch
except ImportError:  # PyTorch is optional: its rows say "not installed"
    torch = None

NUMPY, TG, TG_COMPILED, TORCH = "numpy", "tinygrad_hw", "tinygrad_hw compiled", "torch"
FRAMEWORKS = (NUMPY, TG, TG_COMPILED, TORCH)
LR = 0.1
BATCH = 128
FEATURES, CLASSES = 784, 10


@dataclass(frozen=True)
class Workload:
    name: str
    sizes: tuple[int, ...]  # layer widths, input first
    activation: str  # of the hidden layers: "sigmoid" or "relu" (unused without hidden layers)


WORKLOADS = {
    "softmax": Workload("softmax regression 784-10", (784, 10), "none"),
    "mlp": Workload("MLP 784-64-10 sigmoid", (784, 64, 10), "sigmoid"),
    "mlp3": Workload("MLP 784-128-64-10 relu", (784, 128, 64, 10), "relu"),
}


class Unavailable(Exception):
    """This framework cannot run here; the message says why ("not installed", "n/a", ...)."""


@dataclass
class Impl:
    step: Callable[..., Any]
    weights: Callable[[], list[np.ndarray]]


def available(framework: str) -> str | None:
    """None when `framework` can run here, else why not."""
    if framework == TORCH and torch is None:
        return "not installed"
    if framework == TG_COMPILED and not hasattr(tg, "compile"):
        return "n/a"
    return None


def batch(n: int = BATCH, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random data of Fashion-MNIST's shape: X (n, 784) float32 in [0, 1), labels 0..9."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, FEATURES), dtype=np.float32)
    return X, rng.integers(0, CLASSES, n).astype(np.int64)


def init_params(sizes: tuple[int, ...], seed: int = 0) -> list[np.ndarray]:
    """[W1 (in, out), b1, ...] float32, PyTorch's default U(-1/sqrt(in), 1/sqrt(in))."""
    rng, params = np.random.default_rng(seed), []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, n_out).astype(np.float32))
    return params


def build(workload: Workload, framework: str, init: list[np.ndarray], lr: float = LR) -> Impl:
    """A training step of `workload` in `framework`, starting from copies of `init`.
    Raises Unavailable when the framework cannot run here."""
    why = available(framework)
    if why is not None:
        raise Unavailable(why)
    builder = {NUMPY: _numpy_step, TG: _tg_step, TG_COMPILED: _tg_step, TORCH: _torch_step}
    return builder[framework](workload, [p.copy() for p in init], lr, framework == TG_COMPILED)


# ----------------------------------------------------------------- numpy, by hand
def _numpy_step(workload: Workload, params: list[np.ndarray], lr: float, _: bool) -> Impl:
    Ws, bs = params[0::2], params[1::2]
    eye = np.eye(CLASSES, dtype=np.float32)
    sigmoid = workload.activation == "sigmoid"

    def step(X: np.ndarray, y: np.ndarray) -> np.float32:
        n = len(y)
        # forward: a_0 = X, z_l = a_{l-1} W_l + b_l, a_l = f(z_l); the last z is the logits
        acts, zs = [X], []
        for l, (W, b) in enumerate(zip(Ws, bs)):
            z = acts[-1] @ W + b
            zs.append(z)
            if l < len(Ws) - 1:
                acts.append(1 / (1 + np.exp(-z)) if sigmoid else np.maximum(z, 0))
        z = zs[-1] - zs[-1].max(axis=1, keepdims=True)  # shifted: no overflow in exp
        e = np.exp(z)
        total = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(total[:, 0]) - z[np.arange(n), y])
        # backward: delta_L = (p - onehot) / N, dW_l = a_{l-1}^T delta_l, db_l = sum delta_l,
        # delta_{l-1} = (delta_l W_l^T) * f'(z_{l-1})
        delta = (e / total - eye[y]) / n
        for l in range(len(Ws) - 1, -1, -1):
            dW, db = acts[l].T @ delta, delta.sum(axis=0)
            if l > 0:
                a = acts[l]
                delta = (delta @ Ws[l].T) * (a * (1 - a) if sigmoid else zs[l - 1] > 0)
            Ws[l] -= lr * dW  # SGD, in place
            bs[l] -= lr * db
        return loss

    return Impl(step, lambda: [p.copy() for p in params])


# ----------------------------------------------------------------- tinygrad_hw
def _tg_step(workload: Workload, params: list[np.ndarray], lr: float, compiled: bool) -> Impl:
    layers = []
    for W, b in zip(params[0::2], params[1::2]):
        layer = tg.nn.Linear(W.shape[0], W.shape[1], dtype=np.float32)
        layer.load_state_dict({"weight": W.T.copy(), "bias": b})
        layers.append(layer)
    act = tg.sigmoid if workload.activation == "sigmoid" else tg.relu
    opt = tg.optim.SGD([p for layer in layers for p in layer.parameters()], lr=lr)

    def forward(X: Any) -> tg.Tensor:
        h = X
        for layer in layers[:-1]:
            h = act(layer(h))
        return layers[-1](h)

    def train_step(X: Any, y: Any) -> tg.Tensor:
        opt.zero_grad()
        loss = tg.cross_entropy(forward(X), y)
        loss.backward()
        opt.step()
        return loss

    def weights() -> list[np.ndarray]:
        return [a for layer in layers for a in (layer.weight.numpy().T, layer.bias.numpy())]

    return Impl(tg.compile(train_step) if compiled else train_step, weights)


# ----------------------------------------------------------------- PyTorch
def _torch_step(workload: Workload, params: list[np.ndarray], lr: float, _: bool) -> Impl:
    layers = []
    for W, b in zip(params[0::2], params[1::2]):
        layer = torch.nn.Linear(W.shape[0], W.shape[1])
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(W.T.copy()))
            layer.bias.copy_(torch.from_numpy(b))
        layers.append(layer)
    act = torch.sigmoid if workload.activation == "sigmoid" else torch.relu
    opt = torch.optim.SGD([p for layer in layers for p in layer.parameters()], lr=lr)
    cross_entropy = torch.nn.functional.cross_entropy

    def step(X: np.ndarray, y: np.ndarray) -> Any:
        opt.zero_grad()
        h = torch.from_numpy(X)
        for layer in layers[:-1]:
            h = act(layer(h))
        loss = cross_entropy(layers[-1](h), torch.from_numpy(y))
        loss.backward()
        opt.step()
        return loss

    def weights() -> list[np.ndarray]:
        return [a for layer in layers for a in (layer.weight.detach().numpy().T.copy(),
                                                layer.bias.detach().numpy().copy())]

    return Impl(step, weights)


# ----------------------------------------------------------------- one elementwise op
def chain_values(size: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x and y for the chain, float64; y near 1 so 50 products neither blow up nor vanish."""
    rng = np.random.default_rng(seed)
    return rng.random(size), rng.uniform(0.9, 1.1, size)


def chain_impl(framework: str, n_ops: int = 100, size: int = 16) -> Impl:
    """step(): h = x, then n_ops ops alternating h = h * y and h = h + y, then backward from
    dL/dh = 1 (the gradients land in dx, dy). `weights()` returns [dx, dy].

    The compiled version is tg.compile of the argument-free step (forward and backward, no
    update), x and y being leaf tensors it closes over."""
    why = available(framework)
    if why is not None:
        raise Unavailable(why)
    a, b = chain_values(size)
    ones = np.ones(size)
    if framework == NUMPY:
        out: dict[str, np.ndarray] = {}

        def step() -> None:
            inputs, h = [], a  # forward, keeping each product's input for its backward
            for i in range(n_ops):
                if i % 2 == 0:
                    inputs.append(h)
                    h = h * b
                else:
                    h = h + b
            g, gy = ones, np.zeros(size)  # backward: (h + y)' passes g to both;
            for i in range(n_ops - 1, -1, -1):  # (h * y)' gives g * y to h and g * h to y
                if i % 2 == 0:
                    gy = gy + g * inputs[i // 2]
                    g = g * b
                else:
                    gy = gy + g
            out["dx"], out["dy"] = g, gy

        return Impl(step, lambda: [out["dx"], out["dy"]])
    if framework in (TG, TG_COMPILED):
        x, y, g = tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True), ones
    else:
        x, y = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        g = torch.tensor(ones)

    def chain_step() -> Any:
        x.grad = y.grad = None
        h = x
        for i in range(n_ops):
            h = h * y if i % 2 == 0 else h + y
        h.backward(g)
        return h

    def grads() -> list[np.ndarray]:
        return [np.array(t.grad.numpy()) for t in (x, y)]

    return Impl(tg.compile(chain_step) if framework == TG_COMPILED else chain_step, grads)


def max_weight_difference(workload: Workload, seed: int = 0) -> dict[str, float | str]:
    """After one training step from the same weights on the same batch: for each framework,
    the largest |w - w_numpy| over every parameter (or why it did not run)."""
    init, (X, y) = init_params(workload.sizes, seed), batch(BATCH, seed)
    ref = build(workload, NUMPY, init)
    ref.step(X, y)
    want = ref.weights()
    out: dict[str, float | str] = {}
    for framework in FRAMEWORKS[1:]:
        try:
            impl = build(workload, framework, init)
            impl.step(X, y)
            out[framework] = max(float(np.abs(w - v).max()) for w, v in zip(impl.weights(), want))
        except Unavailable as why:
            out[framework] = str(why)
    return out


def chain_difference(n_ops: int = 100) -> dict[str, float | str]:
    """The chain's dx and dy against the numpy ones: the largest absolute difference."""
    ref = chain_impl(NUMPY, n_ops)
    ref.step()
    want = ref.weights()
    out: dict[str, float | str] = {}
    for framework in FRAMEWORKS[1:]:
        try:
            impl = chain_impl(framework, n_ops)
            impl.step()
            out[framework] = max(float(np.abs(w - v).max()) for w, v in zip(impl.weights(), want))
        except Unavailable as why:
            out[framework] = str(why)
    return out
