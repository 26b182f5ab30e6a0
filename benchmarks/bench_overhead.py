"""Per-op overhead at course sizes: forward + backward of small graphs, as ratios against
hand-written numpy (and PyTorch eager when it is installed), all timed in this process.

    python benchmarks/bench_overhead.py [--repeat 5] [--number 2000]
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

import tinygrad_hw as tg

try:
    import torch
except ImportError:  # PyTorch is optional: its column is left out
    torch = None


def elementwise_cases(n: int):
    """out = x * y on n elements, then d/dx, d/dy with a given output gradient."""
    rng = np.random.default_rng(0)
    a, b, g = rng.random(n), rng.random(n), np.ones(n)

    def numpy_case():
        _ = a * b
        return g * b, g * a

    x, y = tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)

    def tg_case():
        (x * y).backward(g)
        x.grad = y.grad = None

    cases = {"numpy": numpy_case, "tinygrad_hw": tg_case}
    if torch is not None:
        tx = torch.tensor(a, requires_grad=True)
        ty = torch.tensor(b, requires_grad=True)
        tgrad = torch.tensor(g)

        def torch_case():
            (tx * ty).backward(tgrad)
            tx.grad = ty.grad = None

        cases["torch"] = torch_case
    return cases


def logistic_cases(n: int, d: int):
    """One gradient of mean binary cross-entropy of sigmoid(X w) (COURSE.md section 1)."""
    rng = np.random.default_rng(0)
    X, y, w0 = rng.normal(size=(n, d)), (rng.random(n) > 0.5).astype(float), rng.normal(size=d)

    def numpy_case():
        z = X @ w0
        _ = np.mean(np.logaddexp(0, z) - z * y)
        return X.T @ (1 / (1 + np.exp(-z)) - y) / n

    Xt, w = tg.Tensor(X), tg.Tensor(w0, requires_grad=True)

    def tg_case():
        tg.binary_cross_entropy_with_logits(Xt @ w, y).backward()
        w.grad = None

    cases = {"numpy": numpy_case, "tinygrad_hw": tg_case}
    if torch is not None:
        tX, ty = torch.tensor(X), torch.tensor(y)
        tw = torch.tensor(w0, requires_grad=True)

        def torch_case():
            torch.nn.functional.binary_cross_entropy_with_logits(tX @ tw, ty).backward()
            tw.grad = None

        cases["torch"] = torch_case
    return cases


def mlp_cases(n: int, d: int, h: int, k: int):
    """One step's gradients of a sigmoid MLP with softmax cross-entropy (COURSE.md 5)."""
    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(n, d)), rng.integers(0, k, n)
    W1, b1 = rng.normal(size=(d, h)) * 0.1, np.zeros(h)
    W2, b2 = rng.normal(size=(h, k)) * 0.1, np.zeros(k)
    onehot = np.eye(k)[labels]

    def numpy_case():
        a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
        z = a1 @ W2 + b2
        z = z - z.max(1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        d2 = (p - onehot) / n
        d1 = (d2 @ W2.T) * a1 * (1 - a1)
        return X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)

    params = [tg.Tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
    Xt = tg.Tensor(X)

    def tg_case():
        w1, c1, w2, c2 = params
        tg.cross_entropy((Xt @ w1 + c1).sigmoid() @ w2 + c2, labels).backward()
        for p in params:
            p.grad = None

    cases = {"numpy": numpy_case, "tinygrad_hw": tg_case}
    if torch is not None:
        tparams = [torch.tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
        tX, tl = torch.tensor(X), torch.tensor(labels)

        def torch_case():
            w1, c1, w2, c2 = tparams
            logits = torch.sigmoid(tX @ w1 + c1) @ w2 + c2
            torch.nn.functional.cross_entropy(logits, tl).backward()
            for p in tparams:
                p.grad = None

        cases["torch"] = torch_case
    return cases


def seconds(fn, number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()
    if torch is not None:
        torch.set_num_threads(1)
    benches = {
        "mul fwd+bwd, 16 elements": elementwise_cases(16),
        "logistic regression grad, 64x785": logistic_cases(64, 785),
        "sigmoid MLP grad, 64x784-128-10": mlp_cases(64, 784, 128, 10),
    }
    print(f"{'benchmark':36s} {'numpy':>10s} {'tinygrad_hw':>12s} {'torch':>10s} "
          f"{'tg/numpy':>9s} {'tg/torch':>9s}")
    for name, cases in benches.items():
        t = {k: seconds(fn, args.number, args.repeat) for k, fn in cases.items()}
        torch_t = f"{t['torch'] * 1e6:8.1f}us" if "torch" in t else "       n/a"
        vs_torch = f"{t['tinygrad_hw'] / t['torch']:9.2f}" if "torch" in t else "      n/a"
        print(f"{name:36s} {t['numpy'] * 1e6:8.1f}us {t['tinygrad_hw'] * 1e6:10.1f}us "
              f"{torch_t} {t['tinygrad_hw'] / t['numpy']:9.2f} {vs_torch}")


if __name__ == "__main__":
    main()
