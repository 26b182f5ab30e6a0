"""Activation primitives: sigmoid, tanh, relu, softplus, each stable in both tails."""

import numpy as np

from ..autograd import Op, mask


class Sigmoid(Op):
    """out = 1 / (1 + e^-x);   d out/dx = out (1 - out)"""

    __slots__ = ()

    def forward(self, x):
        # with e = e^-|x| <= 1 nothing overflows, and for x < 0 the form e / (1 + e) keeps
        # tiny values: sigmoid(-100) = 3.7e-44, not 0. One exp, so it is fast too.
        if x.ndim == 0:  # numpy gives scalars for 0-d arrays, and out= needs arrays
            return self.forward(x.reshape(1)).reshape(())
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        e = np.abs(x)
        np.negative(e, out=e)
        np.exp(e, out=e)
        r = e + 1
        np.reciprocal(r, out=r)
        np.multiply(e, r, out=r, where=x < 0)
        return r

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
    """1 where x > 0, else 0 (relu's derivative, 0 at the kink as PyTorch)."""
    return (x > 0).astype(x.dtype)


class Softplus(Op):
    """out = ln(1 + e^x);   d out/dx = sigmoid(x)"""

    __slots__ = ()

    def forward(self, x):
        return np.logaddexp(0, x)  # max(x, 0) + log1p(e^-|x|): no overflow

    def backward(self, grad_out, out, x):
        return (grad_out * x.sigmoid(),)
