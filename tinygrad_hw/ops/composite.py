"""Compositions of primitives with no backward rule of their own: mean, var, the shape
helpers built on reshape, and concatenate/stack on lists of tensors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import autograd
from ..autograd import apply

if TYPE_CHECKING:  # the class is bound in autograd only once tensor.py has loaded
    from ..tensor import Tensor
from .reduce import normalize_axis
from .shape import Concatenate


def mean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """sum(x) / n over the reduced axes; integer tensors give float64, as numpy."""
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    total = x.sum(axis, keepdims)
    return total / (x.size // max(total.size, 1))


def var(x: Tensor, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """mean((x - mean x)^2) over axis, divided by n - ddof instead of n when ddof is given."""
    centered = x - mean(x, axis, keepdims=True)
    total = (centered * centered).sum(axis, keepdims)
    return total / (x.size // max(total.size, 1) - ddof)


def flatten(x: Tensor, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    if x.ndim == 0:
        return x.reshape(1)
    start, end = start_axis % x.ndim, end_axis % x.ndim
    return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1 :])


def squeeze(x: Tensor, axis: Any = None) -> Tensor:
    axes = normalize_axis(axis, x.ndim)
    if axes is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1")
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert a size-1 axis at `axis` (negative counts from the end of the new shape)."""
    ndim = x.ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for shape {x.shape}")
    axis %= ndim
    return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    ts = _tensors(tensors, "concatenate")
    ndim = ts[0].ndim
    if ndim == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    for t in ts:
        if t.ndim != ndim or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, ts[0].shape)) if i != axis % ndim
        ):
            shapes = ", ".join(str(u.shape) for u in ts)
            raise ValueError(f"concatenate: shapes {shapes} do not fit along axis {axis}")
    return apply(Concatenate(normalize_axis(axis, ndim)[0]), *ts)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    ts = _tensors(tensors, "stack")
    if any(t.shape != ts[0].shape for t in ts):
        shapes = ", ".join(str(t.shape) for t in ts)
        raise ValueError(f"stack: all tensors need the same shape, got {shapes}")
    return concatenate([unsqueeze(t, axis) for t in ts], axis % (ts[0].ndim + 1))


def _tensors(tensors: Sequence[Any], name: str) -> list[Tensor]:
    ts = [t if isinstance(t, autograd.Tensor) else autograd.Tensor(t) for t in tensors]
    if not ts:
        raise ValueError(f"{name}: needs at least one tensor")
    return ts
