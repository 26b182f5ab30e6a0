# tanh'(x) written as tanh(x)^2 - 1: the sign slipped.
import numpy as np


def sigmoid_backward(grad_out, out, x):
    return grad_out * out * (1 - out)


def tanh_backward(grad_out, out, x):
    return grad_out * (out**2 - 1)


def softmax_backward(grad_out, out, x):
    return out * (grad_out - np.sum(grad_out * out, axis=-1, keepdims=True))


def log_backward(grad_out, out, x):
    return grad_out / x
