"""Reductions: sum, max, logsumexp, and the fused log_softmax (kept fused for numerics)."""

import numpy as np
from numpy.exceptions import AxisError

from ..autograd import Op, mask


def check_axis(axis, ndim, op="axis", of=None):
    """One axis (negative allowed) -> its index in [0, ndim). A 0-d tensor accepts 0 and -1,
    as in PyTorch, and gets 0. Out of range: numpy's AxisError (a ValueError and an
    IndexError) naming the axis and the number of dimensions (`of` says of what, when the
    axis counts the dimensions of a result, as in stack and unsqueeze)."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op}: an axis must be an int, not {axis!r}")
    n = max(ndim, 1)
    if not -n <= axis < n:
        of = of or f"a tensor with {ndim} dimension{'' if ndim == 1 else 's'}"
        raise AxisError(f"{op}: axis {axis} is out of range for {of} (allowed: {-n} to {n - 1})")
    return int(axis) % n


def normalize_axis(axis, ndim, op="axis"):
    """None, an int or a tuple of ints (negative allowed) -> None or a sorted tuple; on a
    0-d tensor, axis 0 or -1 reduces over nothing (the empty tuple)."""
    if axis is None:
        return None
    if type(axis) is int and 0 <= axis < ndim:  # the common case, without the checks below
        return (axis,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = [check_axis(a, ndim, op) for a in axes]
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else ()


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
        """t (the output or its gradient) reshaped as if keepdims=True, so it broadcasts
        against x; not needed when only leading axes were reduced (broadcasting adds them)."""
        axis = self.axis
        if self.keepdims or axis is None or axis == tuple(range(len(axis))):
            return t
        return t.reshape(kept_shape(x.shape, axis))


class Sum(_Reduce):
    """out = sum of x over axis;   d out/dx = 1 (the gradient is broadcast back)"""

    __slots__ = ()

    def forward(self, x):
        if self.axis == (0,) and x.ndim == 2 and x.shape[0] >= 8 and x.dtype in _BLAS:
            return column_sums(x, self.keepdims)
        return np.add.reduce(x, axis=self.axis, keepdims=self.keepdims)  # np.sum, less Python

    def backward(self, grad_out, out, x):
        return (self._kept(grad_out, x).expand(x.shape),)


_BLAS = (np.dtype(np.float32), np.dtype(np.float64))


def column_sums(x, keepdims=False):
    """x.sum(axis=0) of a 2-D float array as the product ones @ x: numpy adds the rows one
    by one, which is slow for short rows; the matrix-vector product is 2-5x faster (a bias
    gradient over a batch of 128) and its float32 error no larger."""
    out = np.ones(x.shape[0], x.dtype) @ x
    return out[None] if keepdims else out


class Max(_Reduce):
    """out = max of x over axis;   d out/dx = 1 at the maximum, split evenly among ties"""

    __slots__ = ()

    def forward(self, x):
        return np.maximum.reduce(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, grad_out, out, x):
        return (self._kept(grad_out, x) * mask(self._share, x, self._kept(out, x)),)

    def _share(self, x, extreme):
        """1/k at each of the k entries equal to the extreme, 0 elsewhere."""
        hit = x == extreme
        return (hit / hit.sum(axis=self.axis, keepdims=True)).astype(x.dtype, copy=False)


class Min(Max):
    """out = min of x over axis;   d out/dx = 1 at the minimum, split evenly among ties"""

    __slots__ = ()

    def forward(self, x):
        return np.minimum.reduce(x, axis=self.axis, keepdims=self.keepdims)


def reduce_kept(ufunc, x, axis):
    """ufunc.reduce(x, axis, keepdims=True). numpy reduces a short last axis row by row, which
    is slow; for a 2-D x with up to 32 columns, reducing a transposed copy over its first
    axis gives the same values 2-5x faster (5x for a 10,000 x 10 batch of logits)."""
    if x.ndim == 2 and axis in ((1,), (-1,)) and x.shape[1] <= 32:
        return ufunc.reduce(np.ascontiguousarray(x.T), axis=0)[:, None]
    return ufunc.reduce(x, axis=axis, keepdims=True)


def _shifted(x, axis):
    """x - max(x) along axis, with the max taken as 0 where it is +-inf (all -inf rows)."""
    m = reduce_kept(np.maximum, x, axis)
    if not np.isfinite(m.sum()):  # a sum of finite maxima can overflow: then look closer
        m = np.where(np.isfinite(m), m, 0)
    return x - m, m


class LogSumExp(_Reduce):
    """out = ln sum e^x over axis;   d out/dx = e^(x - out) = softmax(x)"""

    __slots__ = ()

    def forward(self, x):
        s, m = _shifted(x, self.axis)
        out = np.log(reduce_kept(np.add, np.exp(s), self.axis)) + m
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
        return s - np.log(reduce_kept(np.add, np.exp(s), self.axis))

    def backward(self, grad_out, out, x):
        return (grad_out - out.exp() * grad_out.sum(axis=self.axis, keepdims=True),)
