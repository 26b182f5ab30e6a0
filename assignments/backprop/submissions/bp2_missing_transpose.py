# BP2 without the transpose: W^(l+1) delta^(l+1) where (W^(l+1))^T delta^(l+1) belongs.

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def backprop(weights, biases, x, y):
    activations, zs = [x], []
    for W, b in zip(weights, biases):                            # forward pass
        zs.append(W @ activations[-1] + b)
        activations.append(sigmoid(zs[-1]))
    L = len(weights)
    nabla_b, nabla_w = [None] * L, [None] * L
    delta = (activations[-1] - y) * sigmoid_prime(zs[-1])        # BP1
    for l in range(L - 1, -1, -1):                               # layer l + 1 in the notes
        if l < L - 1:
            delta = (weights[l + 1] @ delta) * sigmoid_prime(zs[l])   # BP2
        nabla_b[l] = delta                                       # BP3
        nabla_w[l] = np.outer(delta, activations[l])             # BP4: a^(l-1) of layer l
    return nabla_b, nabla_w


def worked_example_update():
    x, t = np.array([0.05, 0.10]), np.array([0.01, 0.99])
    W1, W2 = np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([[0.40, 0.45], [0.50, 0.55]])
    b1, b2 = np.array([0.35, 0.35]), np.array([0.60, 0.60])
    _, (dW1, dW2) = backprop([W1, W2], [b1, b2], x, t)
    W1, W2 = W1 - 0.5 * dW1, W2 - 0.5 * dW2                      # the biases stay
    return dict(zip(["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"],
                    [*W1.ravel(), *W2.ravel()]))
