"""Compositions of primitives with no backward rule of their own: mean, var, std, clip,
softmax, the shape helpers built on reshape, and concatenate/stack on lists of tensors. They
build on Tensor (tensor.py imports this module at its end); ops/ holds only Op classes."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .autograd import apply, const, mask
from .ops.reduce import LogSoftmax, check_axis, normalize_axis
from .ops.shape import Concatenate
from .tensor import Tensor


def _count(x: Tensor, total: Tensor) -> int:
    """How many elements of x went into each element of the reduction `total`."""
    return x.size // max(total.size, 1)


def mean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """sum(x) / n over the reduced axes; integer tensors give float64, as numpy. The mean of
    nothing is NaN, without a warning (as PyTorch)."""
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    total = x.sum(normalize_axis(axis, x.ndim, "mean"), keepdims)
    n = _count(x, total)
    if n:
        return total / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / n


def var(x: Tensor, axis: Any = None, keepdims: bool = False, ddof: int = 0,
        name: str = "var") -> Tensor:
    """mean((x - mean x)^2) over axis, divided by n - ddof instead of n when ddof is given.
    With ddof >= n the divisor is 0, so the result is inf (or NaN), as in numpy, with a
    RuntimeWarning; it is never negative."""
    axis = normalize_axis(axis, x.ndim, name)
    centered = x - mean(x, axis, keepdims=True)
    total = (centered * centered).sum(axis, keepdims)
    dof = _count(x, total) - ddof
    if dof > 0:
        return total / dof
    warnings.warn(f"{name}: ddof={ddof} leaves {dof} degrees of freedom; the result is inf or NaN",
                  RuntimeWarning, stacklevel=3)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / 0


def std(x: Tensor, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """sqrt(var). Where the spread is 0 the gradient is 0 (PyTorch), not 0 * inf = NaN: the
    square root only sees those entries through a where, replaced by 1."""
    v = var(x, axis, keepdims, ddof, "std")
    spread = mask(np.not_equal, v, const(np.zeros((), v.dtype)))
    return v.where(spread, 1).sqrt().where(spread, 0)


def arg_reduce(fn: Any, x: Tensor, axis: int | None, keepdims: bool) -> Tensor:
    """argmax/argmin: indices (int64, no grad); a 0-d tensor gives 0 for axis 0 or -1."""
    if axis is not None:
        axis = check_axis(axis, x.ndim, fn.__name__)
        if x.ndim == 0:
            axis = None
    return Tensor._make(np.asarray(fn(x._data, axis=axis, keepdims=keepdims)))


def clip(x: Tensor, low: Any = None, high: Any = None) -> Tensor:
    """Values limited to [low, high]; the gradient is 0 where a bound is active."""
    if low is None and high is None:
        raise ValueError("clip: give at least one of the bounds low and high")
    out = x
    if low is not None:
        out = out.where(out >= low, low)
    if high is not None:
        out = out.where(out <= high, high)
    return out


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """e^x / sum e^x along axis, as exp(log_softmax(x)): exact for huge logits."""
    return apply(LogSoftmax(normalize_axis(axis, x.ndim, "softmax")), x).exp()


def flatten(x: Tensor, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    start, end = (check_axis(a, x.ndim, "flatten") for a in (start_axis, end_axis))
    if x.ndim == 0:
        return x.reshape(1)
    return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1 :])


def squeeze(x: Tensor, axis: Any = None) -> Tensor:
    """Drop size-1 axes (all of them, or the given ones, which must have size 1: numpy)."""
    axes = normalize_axis(axis, x.ndim, "squeeze")
    if axes is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(
                f"squeeze: axis {a} has size {x.shape[a]} (shape {x.shape}); only axes of size "
                f"1 can be squeezed"
            )
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert a size-1 axis at `axis` (negative counts from the end of the new shape)."""
    of = f"the {x.ndim + 1} dimensions of the result (input shape {x.shape})"
    axis = check_axis(axis, x.ndim + 1, "unsqueeze", of)
    return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    ts = _tensors(tensors, "concatenate")
    ndim = ts[0].ndim
    if ndim == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    axis = check_axis(axis, ndim, "concatenate")
    for t in ts:
        if t.ndim != ndim or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, ts[0].shape)) if i != axis
        ):
            shapes = ", ".join(str(u.shape) for u in ts)
            raise ValueError(f"concatenate: shapes {shapes} do not fit along axis {axis}")
    return apply(Concatenate(axis), *ts)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    ts = _tensors(tensors, "stack")
    if any(t.shape != ts[0].shape for t in ts):
        shapes = ", ".join(str(t.shape) for t in ts)
        raise ValueError(f"stack: all tensors need the same shape, got {shapes}")
    of = f"the {ts[0].ndim + 1} dimensions of the result (inputs of shape {ts[0].shape})"
    axis = check_axis(axis, ts[0].ndim + 1, "stack", of)
    return concatenate([unsqueeze(t, axis) for t in ts], axis)


def _tensors(tensors: Sequence[Any], name: str) -> list[Tensor]:
    ts = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not ts:
        raise ValueError(f"{name}: needs at least one tensor")
    return ts
