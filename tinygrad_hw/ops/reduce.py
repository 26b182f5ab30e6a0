"""Reductions: sum, max, logsumexp, and the fused log_softmax (kept fused for numerics)."""

import numpy as np

from ..autograd import Op, const


def normalize_axis(axis, ndim):
    """None, an int or a tuple of ints (negative allowed) -> None or a sorted tuple."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(sorted(out))


def kept_shape(shape, axes):
    """The shape a reduction over `axes` has with keepdims=True."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class _Reduce(Op):
    __slots__ = ("axis", "keepdims")

    def __init__(self, axis, keepdims):
        self.axis = axis
        self.keepdims = keepdims

    def _kept(self, t, x):
        """t (the output or its gradient) reshaped as if keepdims=True."""
        return t if self.keepdims else t.reshape(kept_shape(x.shape, self.axis))


class Sum(_Reduce):
    """out = sum of x over axis;   d out/dx = 1 (the gradient is broadcast back)"""

    __slots__ = ()

    def forward(self, x):
        return np.sum(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, grad_out, out, x):
        return (self._kept(grad_out, x).expand(x.shape),)


class Max(_Reduce):
    """out = max of x over axis;   d out/dx = 1 at the maximum, split evenly among ties"""

    __slots__ = ()

    def forward(self, x):
        return np.max(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, grad_out, out, x):
        hit = x._data == self._kept(out, x)._data
        share = hit / hit.sum(axis=self.axis, keepdims=True)
        return (self._kept(grad_out, x) * const(share.astype(grad_out.dtype, copy=False)),)


def _shifted(x, axis):
    """x - max(x) along axis, with the max taken as 0 where it is +-inf (all -inf rows)."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    return x - m, m


class LogSumExp(_Reduce):
    """out = ln sum e^x over axis;   d out/dx = e^(x - out) = softmax(x)"""

    __slots__ = ()

    def forward(self, x):
        s, m = _shifted(x, self.axis)
        out = np.log(np.sum(np.exp(s), axis=self.axis, keepdims=True)) + m
        if self.keepdims:
            return out
        return out.reshape(()) if self.axis is None else np.squeeze(out, axis=self.axis)

    def backward(self, grad_out, out, x):
        return (self._kept(grad_out, x) * (x - self._kept(out, x)).exp(),)


class LogSoftmax(Op):
    """out = x - ln sum e^x over axis;   d out/dx . g = g - softmax(x) sum(g)
    Fused so that huge logits stay exact: log_softmax([1000, 0, -1000]) = [0, -1000, -2000]."""

    __slots__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        s, _ = _shifted(x, self.axis)
        return s - np.log(np.sum(np.exp(s), axis=self.axis, keepdims=True))

    def backward(self, grad_out, out, x):
        return (grad_out - out.exp() * grad_out.sum(axis=self.axis, keepdims=True),)
