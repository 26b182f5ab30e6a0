"""Shape primitives: reshape, transpose, expand (broadcast_to), indexing and its adjoint
(scatter-add), and concatenate. None of them changes a value, so each gradient is the same
movement run backwards."""

import numpy as np

from ..autograd import Op, apply


class Reshape(Op):
    """out = x viewed with `shape`;   the gradient is reshaped back to x's shape"""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return np.reshape(x, self.shape)

    def backward(self, grad_out, out, x):
        return (grad_out.reshape(x.shape),)


class Transpose(Op):
    """out = x with its axes permuted;   the gradient is permuted back (inverse permutation)"""

    __slots__ = ("axes",)

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return np.transpose(x, self.axes)

    def backward(self, grad_out, out, x):
        if self.axes == (1, 0):
            return (grad_out.T,)
        return (apply(Transpose(tuple(np.argsort(self.axes).tolist())), grad_out),)


class Expand(Op):
    """out = x broadcast to `shape`;   the walk sums the gradient back to x's shape"""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        if x.size == 1:  # a scalar's gradient spread over a batch: a filled array is cheaper
            return np.full(self.shape, x.reshape(()), x.dtype)
        return np.broadcast_to(x, self.shape)

    def backward(self, grad_out, out, x):
        return (grad_out,)


def _is_basic(index):
    """True when numpy indexing with `index` returns a view (no arrays, no lists)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


class GetItem(Op):
    """out = x[index];   the gradient is scattered back, summing repeated integer indices"""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, grad_out, out, x):
        return (apply(ScatterAdd(self.index, x.shape), grad_out),)


class ScatterAdd(Op):
    """out = zeros(shape) with out[index] += x;   d out/dx picks x[index] back (getitem)"""

    __slots__ = ("index", "shape")

    def __init__(self, index, shape):
        self.index = index
        self.shape = shape

    def forward(self, x):
        out = np.zeros(self.shape, dtype=x.dtype)
        if _is_basic(self.index):
            out[self.index] = x
        else:
            np.add.at(out, self.index, x)
        return out

    def backward(self, grad_out, out, x):
        return (grad_out[self.index],)


class Concatenate(Op):
    """out = the inputs joined along `axis`;   each input gets its slice of the gradient"""

    __slots__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return np.concatenate(xs, axis=self.axis)

    def backward(self, grad_out, out, *xs):
        grads, start = [], 0
        lead = (slice(None),) * self.axis
        for x in xs:
            stop = start + x.shape[self.axis]
            grads.append(grad_out[lead + (slice(start, stop),)] if x._rg else None)
            start = stop
        return tuple(grads)
