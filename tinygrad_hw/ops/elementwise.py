"""Elementwise primitives: arithmetic, exp/log/sqrt/abs, maximum, where and dtype casts.
Binary ops broadcast like numpy; the graph walk sums gradients back to each input's shape."""

import numpy as np

from ..autograd import Op, mask


class Add(Op):
    """out = x + y;   d out/dx = 1, d out/dy = 1"""

    __slots__ = ()

    def forward(self, x, y):
        return x + y

    def backward(self, grad_out, out, x, y):
        return grad_out, grad_out


class AddN(Op):
    """out = x_1 + ... + x_n (same shapes: the gradients of one tensor, summed by the walk);
    d out/dx_i = 1"""

    __slots__ = ()

    def forward(self, *xs):
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out += x
        return out

    def backward(self, grad_out, out, *xs):
        return (grad_out,) * len(xs)


class Sub(Op):
    """out = x - y;   d out/dx = 1, d out/dy = -1"""

    __slots__ = ()

    def forward(self, x, y):
        return x - y

    def backward(self, grad_out, out, x, y):
        return grad_out, (-grad_out if y._rg else None)


class Mul(Op):
    """out = x * y;   d out/dx = y, d out/dy = x"""

    __slots__ = ()

    def forward(self, x, y):
        return x * y

    def backward(self, grad_out, out, x, y):
        return (grad_out * y if x._rg else None), (grad_out * x if y._rg else None)


class Div(Op):
    """out = x / y;   d out/dx = 1/y, d out/dy = -x/y^2 = -out/y"""

    __slots__ = ()

    def forward(self, x, y):
        return x / y

    def backward(self, grad_out, out, x, y):
        gx = grad_out / y if x._rg else None
        gy = -grad_out * out / y if y._rg else None
        return gx, gy


class Pow(Op):
    """out = x ** y;   d out/dx = y x^(y-1), d out/dy = out ln x"""

    __slots__ = ()

    def forward(self, x, y):
        return x**y

    def backward(self, grad_out, out, x, y):
        gx = gy = None
        if x._rg:  # y x^(y-1) is 0 where y = 0, also at x = 0 (not 0 * inf)
            gx = grad_out * y * x ** (y - 1).where(mask(_not_both_zero, x, y), 0)
        if y._rg:  # 0^y ln 0 is 0 for y >= 0 (PyTorch), -inf for y < 0
            gy = grad_out * out * x.where(mask(_log_defined, x, y), 1).log()
        return gx, gy


def _not_both_zero(x, y):
    return (x != 0) | (y != 0)


def _log_defined(x, y):
    """False where x = 0 and y >= 0: there 0^y ln x counts as 0."""
    return (x != 0) | (y < 0)


class Neg(Op):
    """out = -x;   d out/dx = -1"""

    __slots__ = ()

    def forward(self, x):
        return -x

    def backward(self, grad_out, out, x):
        return (-grad_out,)


class Exp(Op):
    """out = e^x;   d out/dx = out"""

    __slots__ = ()

    def forward(self, x):
        return np.exp(x)

    def backward(self, grad_out, out, x):
        return (grad_out * out,)


class Log(Op):
    """out = ln x;   d out/dx = 1/x"""

    __slots__ = ()

    def forward(self, x):
        return np.log(x)

    def backward(self, grad_out, out, x):
        return (grad_out / x,)


class Sqrt(Op):
    """out = sqrt(x);   d out/dx = 1 / (2 out)"""

    __slots__ = ()

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, grad_out, out, x):
        return (grad_out / (2 * out),)


class Abs(Op):
    """out = |x|;   d out/dx = sign(x), 0 at x = 0 (PyTorch's choice at the kink)"""

    __slots__ = ()

    def forward(self, x):
        return np.abs(x)

    def backward(self, grad_out, out, x):
        return (grad_out * mask(np.sign, x),)


class Maximum(Op):
    """out = max(x, y) elementwise;   the gradient goes to the larger input, split evenly on
    ties (as PyTorch)"""

    __slots__ = ()

    def forward(self, x, y):
        return np.maximum(x, y)

    def backward(self, grad_out, out, x, y):
        to_x = mask(_share_of_larger, x, y)
        return (grad_out * to_x if x._rg else None), (grad_out * (1 - to_x) if y._rg else None)


def _share_of_larger(x, y):
    """1 where x > y, 1/2 on ties, else 0 (in the inputs' float dtype)."""
    return ((x > y) + 0.5 * (x == y)).astype(np.result_type(x, y), copy=False)


class Minimum(Op):
    """out = min(x, y) elementwise;   the gradient goes to the smaller input, split evenly on
    ties (as PyTorch)"""

    __slots__ = ()

    def forward(self, x, y):
        return np.minimum(x, y)

    def backward(self, grad_out, out, x, y):
        to_x = mask(_share_of_larger, y, x)
        return (grad_out * to_x if x._rg else None), (grad_out * (1 - to_x) if y._rg else None)


class Where(Op):
    """out = x where cond else y;   d out/dx = cond, d out/dy = not cond"""

    __slots__ = ()

    def forward(self, cond, x, y):
        return np.where(cond, x, y)

    def backward(self, grad_out, out, cond, x, y):
        gx = grad_out.where(cond, 0) if x._rg else None
        gy = grad_out.where(~cond, 0) if y._rg else None
        return None, gx, gy


class Cast(Op):
    """out = x converted to `dtype`;   the gradient is converted back to x's dtype"""

    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def params(self):
        return {"dtype": self.dtype.name}

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, grad_out, out, x):
        return (grad_out.astype(x.dtype),)
