# The BP2 loop runs one layer too far: weights[-l - 1] at l = L reads past the first layer
# (IndexError). The worked example calls backprop too, so it raises as well.
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def backprop(weights, biases, x, y):
    activation, activations, zs = x, [x], []
    for W, b in zip(weights, biases):
        z = W @ activation + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
    nabla_b, nabla_w = [delta], [np.outer(delta, activations[-2])]
    for l in range(1, len(weights) + 1):
        delta = (weights[-l].T @ delta) * sigmoid_prime(zs[-l - 1])
        nabla_b.insert(0, delta)
        nabla_w.insert(0, np.outer(delta, activations[-l - 2]))
    return nabla_b, nabla_w


def worked_example_update():
    x, t = np.array([0.05, 0.10]), np.array([0.01, 0.99])
    W1, W2 = np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([[0.40, 0.45], [0.50, 0.55]])
    _, nabla_w = backprop([W1, W2], [np.full(2, 0.35), np.full(2, 0.60)], x, t)
    names = ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"]
    return dict(zip(names, np.concatenate([(W1 - 0.5 * nabla_w[0]).ravel(),
                                           (W2 - 0.5 * nabla_w[1]).ravel()])))
