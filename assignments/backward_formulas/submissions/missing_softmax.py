# Three of the four formulas; softmax_backward was never written (the function is misnamed).
import numpy as np


def sigmoid_backward(grad_out, out, x):
    return grad_out * out * (1 - out)


def tanh_backward(grad_out, out, x):
    return grad_out * (1 - out**2)


def softmax_backwards(grad_out, out, x):
    return out * (grad_out - np.sum(grad_out * out, axis=-1, keepdims=True))


def log_backward(grad_out, out, x):
    return grad_out / x
