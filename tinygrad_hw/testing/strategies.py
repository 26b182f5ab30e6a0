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


def matmul_operands(dtype: Any = np.float64, max_dims: int = 3, max_side: int = 3):
    """(a, b) arrays that can be multiplied with a @ b."""
    return matmul_shapes(max_dims, max_side).flatmap(
        lambda shapes: st.tuples(arrays(shapes[0], dtype), arrays(shapes[1], dtype))
    )


@st.composite
def design_matrices(draw, n: Any = None, d: Any = None, bias: bool = True,
                    max_condition: float = 1e3):
    """Well-conditioned N x d design matrices (examples as rows, entries about N(0, 1)), with
    the bias trick's column of ones appended when `bias` is set (d + 1 columns)."""
    n = draw(st.integers(4, 12)) if n is None else n
    d = draw(st.integers(1, max(1, min(6, n - 2)))) if d is None else d
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    for _ in range(100):
        x = rng.normal(size=(n, d))
        if bias:
            x = np.hstack([x, np.ones((n, 1))])
        if np.linalg.cond(x) < max_condition:
            return x
    raise ValueError(f"design_matrices: no {n} x {d} matrix with condition < {max_condition}; "
                     f"use more rows than columns")


@st.composite
def labels_and_one_hot(draw, n: Any = None, n_classes: Any = None):
    """(integer labels of shape (N,), the matching one-hot float rows of shape (N, K))."""
    n = draw(st.integers(1, 8)) if n is None else n
    k = draw(st.integers(2, 5)) if n_classes is None else n_classes
    labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)), np.int64)
    return labels, np.eye(k)[labels]


def probability_vectors(k: Any = None, n: int | None = None, min_prob: float = 1e-3):
    """Strictly positive probability vectors of length K (rows of an (N, K) array when n is
    given), each summing to 1."""
    k_strategy = st.integers(2, 6) if k is None else st.just(k)

    def build(k: int):
        shape = (k,) if n is None else (n, k)
        weights = arrays(shape, low=min_prob, high=1.0)
        return weights.map(lambda w: w / w.sum(axis=-1, keepdims=True))

    return k_strategy.flatmap(build)


def stress_logits(shape: Any = None, scale: float = 1e3):
    """Logits of magnitude up to `scale` (1e3 by default), with ties and huge gaps, where a
    naive softmax or cross-entropy overflows."""
    shape = shapes(min_dims=1, max_dims=2, max_side=5) if shape is None else shape
    extremes = st.sampled_from([scale, -scale, 0.0, scale / 2])
    elements = st.one_of(extremes, st.floats(-scale, scale, allow_nan=False,
                                             allow_subnormal=False))
    return hnp.arrays(np.float64, shape, elements=elements)
