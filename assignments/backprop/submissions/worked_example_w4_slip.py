# backprop is right; in the worked example by hand, w4's step went the wrong way:
# 0.30 + 0.5 * 0.00099543 instead of 0.30 - 0.5 * 0.00099543 (dE/dw4 = 0.00099543).
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    zs, activations = [], [x]
    for W, b in zip(weights, biases):
        zs.append(W @ activations[-1] + b)
        activations.append(sigmoid(zs[-1]))
    L = len(weights)
    deltas = [None] * L
    deltas[-1] = (activations[-1] - y) * activations[-1] * (1 - activations[-1])
    for l in range(L - 2, -1, -1):
        deltas[l] = weights[l + 1].T @ deltas[l + 1] * activations[l + 1] * (1 - activations[l + 1])
    nabla_w = [np.outer(d, a) for d, a in zip(deltas, activations[:-1])]
    return deltas, nabla_w


def worked_example_update():
    w = {"w1": 0.149780716, "w2": 0.19956143, "w3": 0.24975114, "w5": 0.35891648,
         "w6": 0.408666186, "w7": 0.511301270, "w8": 0.561370121}
    w["w4"] = 0.30 + 0.5 * 0.00099543
    return w
