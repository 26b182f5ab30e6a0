"""Reference solution: logistic and softmax regression gradients with L2."""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def logistic_grad(w, X, y, lam):
    N = len(y)
    y_hat = sigmoid(X @ w)
    grad = X.T @ (y_hat - y) / N           # (1/N) sum_n (y_hat_n - y_n) x_n
    w_no_bias = np.append(w[:-1], 0.0)      # the bias (last entry) is not penalised
    return grad + 2 * lam * w_no_bias       # R = ||w||^2  ->  + 2 lam w


def softmax_grads(W, b, X, y, lam):
    N, K = len(y), len(b)
    Z = X @ W.T + b
    Y_hat = np.exp(Z - Z.max(axis=1, keepdims=True))
    Y_hat /= Y_hat.sum(axis=1, keepdims=True)
    Y = np.eye(K)[y]                        # one-hot rows
    dW = (Y_hat - Y).T @ X / N + lam * W    # R = 1/2 ||W||^2  ->  + lam W
    db = (Y_hat - Y).mean(axis=0)           # b not penalised
    return dW, db
