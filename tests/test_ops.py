"""One op table drives the forward, first-derivative and second-derivative checks of every
elementwise op, over hypothesis shapes (0-d, size-1 dims and broadcasting pairs included)."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import tinygrad_hw as tg
from tinygrad_hw import Tensor
from tinygrad_hw.testing import gradcheck, gradgradcheck
from tinygrad_hw.testing import strategies as tst


@dataclass
class Case:
    name: str
    fn: Callable  # tinygrad_hw function of Tensors
    ref: Callable  # numpy reference of arrays
    domains: tuple  # (low, high) per input
    smooth: bool = True  # has second derivatives (checked at order 2)
    gap: float = 0.0  # inputs kept this far from a kink (|x| or |x - y|)


POS = (0.2, 3.0)
ANY = (-3.0, 3.0)
SMALL = (-1.5, 1.5)

UNARY = [
    Case("neg", lambda x: -x, np.negative, (ANY,)),
    Case("exp", tg.exp, np.exp, (SMALL,)),
    Case("log", tg.log, np.log, (POS,)),
    Case("sqrt", tg.sqrt, np.sqrt, (POS,)),
    Case("abs", tg.abs, np.abs, (ANY,), smooth=False, gap=1e-3),
    Case("sigmoid", tg.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (ANY,)),
    Case("tanh", tg.tanh, np.tanh, (ANY,)),
    Case("relu", tg.relu, lambda x: np.maximum(x, 0), (ANY,), smooth=False, gap=1e-3),
    Case("softplus", tg.softplus, lambda x: np.log1p(np.exp(x)), (ANY,)),
    Case("square", lambda x: x**2, np.square, (ANY,)),
    Case("cube", lambda x: x**3, lambda x: x**3, (ANY,)),
    Case("rsqrt", lambda x: x**-0.5, lambda x: x**-0.5, (POS,)),
    Case("rpow", lambda x: 2.0**x, lambda x: 2.0**x, (ANY,)),
    Case("rsub", lambda x: 1 - x, lambda x: 1 - x, (ANY,)),
    Case("rdiv", lambda x: 1 / x, lambda x: 1 / x, (POS,)),
    Case("softmax", lambda x: tg.softmax(x, axis=-1),
         lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True), (ANY,)),
    Case("log_softmax", lambda x: tg.log_softmax(x, axis=0),
         lambda x: x - np.log(np.exp(x).sum(0, keepdims=True)), (ANY,)),
]

BINARY = [
    Case("add", lambda x, y: x + y, np.add, (ANY, ANY)),
    Case("sub", lambda x, y: x - y, np.subtract, (ANY, ANY)),
    Case("mul", lambda x, y: x * y, np.multiply, (ANY, ANY)),
    Case("div", lambda x, y: x / y, np.divide, (ANY, POS)),
    Case("pow", lambda x, y: x**y, np.power, (POS, ANY)),
    Case("maximum", tg.maximum, np.maximum, (ANY, ANY), smooth=False, gap=1e-3),
    Case("minimum", tg.minimum, np.minimum, (ANY, ANY), smooth=False, gap=1e-3),
]


def _apply(case, arrays):
    return case.fn(*[Tensor(a) for a in arrays])


def _needs_0d_guard(case, arrays):
    # softmax over the last axis needs at least one axis
    return case.name in ("softmax", "log_softmax") and arrays[0].ndim == 0


def _keep_off_kinks(case, arrays):
    if case.gap:
        gaps = np.abs(arrays[0]) if len(arrays) == 1 else np.abs(arrays[0] - arrays[1])
        assume(np.all(gaps > case.gap))


@st.composite
def case_inputs(draw, case, dtype=np.float64):
    shapes = (draw(tst.shapes(max_side=3)),) if len(case.domains) == 1 else draw(
        tst.broadcastable_shapes(len(case.domains))
    )
    arrays = [draw(tst.arrays(s, dtype, *d)) for s, d in zip(shapes, case.domains)]
    assume(not _needs_0d_guard(case, arrays))
    return arrays


CASES = UNARY + BINARY
ids = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=ids)
@given(data=st.data())
def test_forward_matches_numpy(case, data):
    arrays = data.draw(case_inputs(case))
    out = _apply(case, arrays)
    assert_allclose(out.numpy(), case.ref(*arrays), rtol=1e-10, atol=1e-12)
    assert out.shape == np.broadcast_shapes(*[a.shape for a in arrays])


@pytest.mark.parametrize("case", CASES, ids=ids)
@given(data=st.data())
def test_float32_stays_float32(case, data):
    arrays = data.draw(case_inputs(case, np.float32))
    out = _apply(case, arrays)
    assert out.dtype == np.float32
    assert_allclose(out.numpy(), case.ref(*[a.astype(np.float64) for a in arrays]),
                    rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=ids)
@given(data=st.data())
def test_first_derivative(case, data):
    arrays = data.draw(case_inputs(case))
    _keep_off_kinks(case, arrays)
    assert gradcheck(case.fn, *arrays)


@pytest.mark.parametrize("case", [c for c in CASES if c.smooth], ids=[c.name for c in CASES
                                                                      if c.smooth])
@given(data=st.data())
def test_second_derivative(case, data):
    arrays = data.draw(case_inputs(case))
    assert gradgradcheck(case.fn, *arrays)


@pytest.mark.parametrize("case", CASES, ids=ids)
@given(data=st.data())
def test_gradient_shapes_match_inputs(case, data):
    arrays = data.draw(case_inputs(case))
    ts = [Tensor(a, requires_grad=True) for a in arrays]
    case.fn(*ts).sum().backward()
    for t in ts:
        assert t.grad.shape == t.shape
        assert t.grad.dtype == t.dtype


# --------------------------------------------------------------------------- kinks


def grad_of(fn, *values):
    ts = [Tensor(np.asarray(v, float), requires_grad=True) for v in values]
    fn(*ts).sum().backward()
    return [t.grad.numpy() for t in ts]


def test_relu_at_zero_has_zero_gradient():
    assert_allclose(grad_of(tg.relu, [-1.0, 0.0, 2.0])[0], [0.0, 0.0, 1.0])


def test_abs_at_zero_has_zero_gradient():
    assert_allclose(grad_of(tg.abs, [-2.0, 0.0, 3.0])[0], [-1.0, 0.0, 1.0])


def test_max_splits_gradient_evenly_among_ties():
    assert_allclose(grad_of(lambda x: x.max(), [1.0, 3.0, 3.0, 2.0])[0], [0, 0.5, 0.5, 0])
    rows = grad_of(lambda x: x.max(axis=1), [[1.0, 1.0, 1.0], [0.0, 2.0, 1.0]])[0]
    assert_allclose(rows, [[1 / 3, 1 / 3, 1 / 3], [0, 1, 0]])


def test_min_splits_gradient_evenly_among_ties():
    assert_allclose(grad_of(lambda x: x.min(), [1.0, 0.0, 0.0])[0], [0, 0.5, 0.5])


def test_maximum_splits_ties_between_inputs():
    gx, gy = grad_of(tg.maximum, [1.0, 2.0, 3.0], [1.0, 5.0, 0.0])
    assert_allclose(gx, [0.5, 0.0, 1.0])
    assert_allclose(gy, [0.5, 1.0, 0.0])


def test_pow_exponent_gradient_at_zero_base_is_zero():
    gx, gy = grad_of(lambda x, y: x**y, [0.0, 2.0], [2.0, 3.0])
    assert_allclose(gx, [0.0, 12.0])
    assert_allclose(gy, [0.0, 8 * np.log(2)])


def test_sqrt_at_zero_has_infinite_gradient():
    assert grad_of(tg.sqrt, [0.0])[0][0] == np.inf
