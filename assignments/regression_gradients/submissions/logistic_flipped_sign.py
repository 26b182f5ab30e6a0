# logistic_grad with (y - y_hat) x instead of (y_hat - y) x: the sign of the data term.
import numpy as np


def logistic_grad(w, X, y, lam):
    N = X.shape[0]
    p = 1 / (1 + np.exp(-(X @ w)))
    g = X.T @ (y - p) / N
    g[:-1] += 2 * lam * w[:-1]
    return g


def softmax_grads(W, b, X, y, lam):
    N = X.shape[0]
    Z = X @ W.T + b
    Z = Z - Z.max(axis=1, keepdims=True)
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    P[np.arange(N), y] -= 1                  # P - Y
    return P.T @ X / N + lam * W, P.sum(axis=0) / N
