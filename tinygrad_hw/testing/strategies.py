"""Hypothesis strategies for tensors and shapes, built on hypothesis.extra.numpy."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Array shapes, 0-d and size-1 dimensions included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def arrays(shape: Any = None, dtype: Any = np.float64, low: float = -3.0, high: float = 3.0):
    """float arrays with elements in [low, high] (no NaN, inf or subnormals); `shape` is a
    tuple or a strategy of shapes (default: shapes())."""
    width = 32 if np.dtype(dtype) == np.float32 else 64
    if width == 32:
        low, high = _inward32(low, np.inf), _inward32(high, -np.inf)
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False,
                         allow_subnormal=False, width=width)
    return hnp.arrays(dtype, shapes() if shape is None else shape, elements=elements)


def _inward32(bound: float, direction: float) -> float:
    """The float32 value nearest `bound` that lies inside the range (toward `direction`)."""
    b = np.float32(bound)
    if (b < bound) if direction > 0 else (b > bound):
        b = np.nextafter(b, np.float32(direction))
    return float(b)


def tensors(shape: Any = None, dtype: Any = np.float64, low: float = -3.0, high: float = 3.0,
            requires_grad: bool = False):
    """Tensors holding arrays(shape, dtype, low, high)."""
    return arrays(shape, dtype, low, high).map(
        lambda a: Tensor(a, requires_grad=requires_grad)
    )


def broadcastable_shapes(num_shapes: int = 2, max_dims: int = 3, max_side: int = 3):
    """Tuples of shapes that broadcast together (size-1 and missing dims included)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=0, max_dims=max_dims, max_side=max_side
    ).map(lambda bs: bs.input_shapes)


def matmul_shapes(max_dims: int = 3, max_side: int = 3):
    """(a_shape, b_shape) pairs valid for a @ b: 1-D operands and broadcast batches included."""
    return hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=max_dims, max_side=max_side
    ).map(lambda bs: bs.input_shapes)
