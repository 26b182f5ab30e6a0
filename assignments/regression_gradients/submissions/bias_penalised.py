# The bias penalised along with the weights, in both models: logistic_grad adds 2 lam w to
# every entry of w (the last is the bias), softmax_grads adds lam b to dJ/db.
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def logistic_grad(w, X, y, lam):
    return X.T @ (sigmoid(X @ w) - y) / len(y) + 2 * lam * w


def softmax_grads(W, b, X, y, lam):
    Z = X @ W.T + b
    Y_hat = np.exp(Z - Z.max(axis=1, keepdims=True))
    Y_hat /= Y_hat.sum(axis=1, keepdims=True)
    Y = np.eye(len(b))[y]
    dW = (Y_hat - Y).T @ X / len(y) + lam * W
    db = (Y_hat - Y).mean(axis=0) + lam * b
    return dW, db
