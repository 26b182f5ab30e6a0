# softmax_grads uses 2 lam W, the gradient of lam ||W||^2, although the penalty of this model
# is (lam/2) ||W||^2: a spurious factor 2 in the L2 term of dJ/dW.
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def logistic_grad(w, X, y, lam):
    reg = 2 * lam * w
    reg[-1] = 0
    return X.T @ (sigmoid(X @ w) - y) / len(y) + reg


def softmax_grads(W, b, X, y, lam):
    N, K = X.shape[0], W.shape[0]
    Z = X @ W.T + b
    Y_hat = np.exp(Z - Z.max(axis=1, keepdims=True))
    Y_hat = Y_hat / Y_hat.sum(axis=1, keepdims=True)
    Y = np.eye(K)[y]
    dW = (Y_hat - Y).T @ X / N + 2 * lam * W
    db = (Y_hat - Y).sum(axis=0) / N
    return dW, db
