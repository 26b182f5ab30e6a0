"""The `tg.<name>(x, ...)` forms of Tensor methods, constructors, and the ops that take
several tensors (concatenate, stack, where, maximum). Arrays and lists are accepted anywhere
a Tensor is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import composite
from .tensor import Tensor


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def as_tensor(x: Any) -> Tensor:
    """x itself when it is a Tensor; a numpy array is wrapped without a copy (as np.asarray
    and torch.as_tensor do); anything else becomes a new Tensor (no grad)."""
    if isinstance(x, Tensor):
        return x
    if type(x) is np.ndarray and x.dtype.kind in "biuf":
        return Tensor._make(x)
    return Tensor(x)


def zeros(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), dtype), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape), dtype), requires_grad=requires_grad)


def full(shape: Any, value: float, dtype: Any = np.float64, requires_grad: bool = False):
    return Tensor(np.full(shape, value, dtype), requires_grad=requires_grad)


def zeros_like(x: Any, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros_like(np.asarray(x)), requires_grad=requires_grad)


def ones_like(x: Any, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones_like(np.asarray(x)), requires_grad=requires_grad)


def arange(*args: Any, dtype: Any = None) -> Tensor:
    return Tensor(np.arange(*args, dtype=dtype))


def _shape(shape: tuple) -> tuple:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _pair(x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """Two operands as Tensors; a Python scalar takes the other operand's dtype (NEP 50)."""
    if isinstance(x, Tensor):
        return x, x._lift(y)
    if isinstance(y, Tensor):
        return y._lift(x), y
    return Tensor(x), Tensor(y)


def exp(x: Any) -> Tensor:
    return as_tensor(x).exp()


def log(x: Any) -> Tensor:
    return as_tensor(x).log()


def sqrt(x: Any) -> Tensor:
    return as_tensor(x).sqrt()


def abs(x: Any) -> Tensor:
    return as_tensor(x).abs()


def sigmoid(x: Any) -> Tensor:
    return as_tensor(x).sigmoid()


def tanh(x: Any) -> Tensor:
    return as_tensor(x).tanh()


def relu(x: Any) -> Tensor:
    return as_tensor(x).relu()


def softplus(x: Any) -> Tensor:
    return as_tensor(x).softplus()


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return as_tensor(x).sum(axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return as_tensor(x).mean(axis, keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return as_tensor(x).max(axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return as_tensor(x).min(axis, keepdims)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return as_tensor(x).logsumexp(axis, keepdims)


def softmax(x: Any, axis: int = -1) -> Tensor:
    return as_tensor(x).softmax(axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    return as_tensor(x).log_softmax(axis)


def reshape(x: Any, *shape: Any) -> Tensor:
    return as_tensor(x).reshape(*shape)


def transpose(x: Any, *axes: Any) -> Tensor:
    return as_tensor(x).transpose(*axes)


def flatten(x: Any, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    return as_tensor(x).flatten(start_axis, end_axis)


def expand(x: Any, *shape: Any) -> Tensor:
    return as_tensor(x).expand(*shape)


def squeeze(x: Any, axis: Any = None) -> Tensor:
    return as_tensor(x).squeeze(axis)


def unsqueeze(x: Any, axis: int) -> Tensor:
    return as_tensor(x).unsqueeze(axis)


def clip(x: Any, low: Any = None, high: Any = None) -> Tensor:
    return as_tensor(x).clip(low, high)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    return as_tensor(x).argmax(axis, keepdims)


def matmul(a: Any, b: Any) -> Tensor:
    return as_tensor(a) @ b


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise max; on ties each input gets half the gradient (as PyTorch)."""
    x, y = _pair(x, y)
    return x.maximum(y)


def minimum(x: Any, y: Any) -> Tensor:
    x, y = _pair(x, y)
    return x.minimum(y)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """x where condition else y, broadcast together; gradients flow to the chosen side."""
    x, y = _pair(x, y)
    return x.where(condition, y)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    return composite.concatenate(tensors, axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    return composite.stack(tensors, axis)
