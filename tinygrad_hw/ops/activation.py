"""Activation primitives: sigmoid, tanh, relu, softplus, each stable in both tails."""

import numpy as np

from ..autograd import Op, mask


class Sigmoid(Op):
    """out = 1 / (1 + e^-x);   d out/dx = out (1 - out)"""

    __slots__ = ()

    def forward(self, x):
        # 1 / (1 + e^-x) in one buffer. e^-x overflows to inf for x below -88 (float32) or
        # -709 (float64), giving 1 / inf = 0, which is sigmoid(x) rounded to that precision;
        # above that it keeps tiny values: sigmoid(-100) = 3.7e-44 in float64.
        e = np.negative(x, dtype=np.result_type(x, np.float16) if x.dtype.kind != "f" else None)
        if e.ndim == 0:  # numpy gives scalars for 0-d arrays, and out= needs arrays
            e = e.reshape(1)
        with np.errstate(over="ignore"):
            np.exp(e, out=e)
        e += 1
        np.reciprocal(e, out=e)
        return e.reshape(x.shape)

    def backward(self, grad_out, out, x):
        return (grad_out * out * (1 - out),)


class Tanh(Op):
    """out = tanh x;   d out/dx = 1 - out^2"""

    __slots__ = ()

    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad_out, out, x):
        return (grad_out * (1 - out * out),)


class Relu(Op):
    """out = max(x, 0);   d out/dx = 1 where x > 0, else 0 (also at x = 0, as PyTorch)"""

    __slots__ = ()

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, grad_out, out, x):
        return (grad_out * mask(_positive, x),)


def _positive(x):
    """x > 0 (relu's derivative, 0 at the kink as PyTorch), as bools: a float gradient
    times a bool mask keeps its dtype, and the cast to float costs no pass of its own."""
    return x > 0


class Softplus(Op):
    """out = ln(1 + e^x);   d out/dx = sigmoid(x)"""

    __slots__ = ()

    def forward(self, x):
        return np.logaddexp(0, x)  # max(x, 0) + log1p(e^-|x|): no overflow

    def backward(self, grad_out, out, x):
        return (grad_out * x.sigmoid(),)
