"""Hypothesis strategies for the course-model tests: small sizes (N <= 8, d <= 6) and data in
ranges where no sigmoid saturates, built on tinygrad_hw.testing.strategies."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from models import two_layer_net as tl
from tinygrad_hw.testing import strategies as tst

MAX_N = 8
MAX_D = 6


def values(shape, low: float = -2.0, high: float = 2.0):
    return tst.arrays(shape, low=low, high=high)


def labels(n: int, k: int):
    return hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1))


def binary_targets(n: int):
    return hnp.arrays(np.float64, (n,), elements=st.sampled_from([0.0, 1.0]))


@st.composite
def logistic_data(draw, min_n: int = 1, min_d: int = 1):
    """(w, X, y): w (d,), X (N x d), y in {0, 1}^N."""
    n, d = draw(st.integers(min_n, MAX_N)), draw(st.integers(min_d, MAX_D))
    return draw(values((d,))), draw(values((n, d))), draw(binary_targets(n))


@st.composite
def softmax_data(draw, n=None, min_d: int = 1):
    """(W, b, X, y): W (K x d), b (K,), X (N x d), integer labels y (N,), K in 2..4."""
    n = draw(st.integers(1, MAX_N)) if n is None else n
    d, k = draw(st.integers(min_d, MAX_D)), draw(st.integers(2, 4))
    return draw(values((k, d))), draw(values((k,))), draw(values((n, d))), draw(labels(n, k))


@st.composite
def regression_net_data(draw, n=None):
    """(a, b, X, y) for the 3-4-1 regression net; X has the bias column x_0 = 1."""
    n = draw(st.integers(1, MAX_N)) if n is None else n
    a = draw(values((tl.N_INPUTS, tl.N_HIDDEN)))
    b = draw(values((tl.N_HIDDEN,)))
    X = tl.with_bias(draw(values((n, tl.N_INPUTS - 1))))
    return a, b, X, draw(values((n,)))


@st.composite
def classifier_net_data(draw):
    """(a, B, X, labels) for the 3-4-3 softmax classifier."""
    n = draw(st.integers(1, MAX_N))
    a = draw(values((tl.N_INPUTS, tl.N_HIDDEN)))
    B = draw(values((tl.N_HIDDEN, tl.N_CLASSES)))
    X = tl.with_bias(draw(values((n, tl.N_INPUTS - 1))))
    return a, B, X, draw(labels(n, tl.N_CLASSES))


@st.composite
def nielsen_data(draw):
    """(weights, biases, X, Y): layer sizes n_0..n_L (L = 1..3, each 1..5), examples as
    columns (X is n_0 x N), targets Y in [0, 1]."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    n = draw(st.integers(1, 6))
    weights = [draw(values((m, k))) for k, m in zip(sizes[:-1], sizes[1:])]
    biases = [draw(values((m, 1))) for m in sizes[1:]]
    X = draw(values((sizes[0], n), -1.0, 1.0))
    return weights, biases, X, draw(values((sizes[-1], n), 0.0, 1.0))


@st.composite
def least_squares_data(draw):
    """(w0, X, y) with n >= d and X well conditioned (full column rank), so the least-squares
    solution is unique."""
    n = draw(st.integers(1, MAX_N))
    d = draw(st.integers(1, min(n, MAX_D)))
    X = draw(tst.design_matrices(n=n, d=d, bias=False))
    return draw(values((d,))), X, draw(values((n,)))


lambdas = st.floats(0.01, 5.0)
