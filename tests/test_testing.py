"""The gradient-testing toolkit itself: gradcheck catches wrong rules (full and fast mode),
gradgradcheck catches rules that are not differentiable, assert_grad_close names the slip,
instructor mode checks and swaps student backward formulas, and the strategies produce
what they promise."""

import numpy as np
import pytest
from hypothesis import given
from numpy.testing import assert_allclose

import tinygrad_hw as tg
from tinygrad_hw import Tensor
from tinygrad_hw.autograd import Op, apply, const
from tinygrad_hw.testing import (
    DerivationMismatch,
    GradcheckError,
    assert_grad_close,
    check_backward,
    diagnose,
    gradcheck,
    gradgradcheck,
    use_backward,
)
from tinygrad_hw.testing import strategies as tst


class HalfSquare(Op):
    """A deliberately wrong rule: out = x^2 with derivative x instead of 2x."""

    __slots__ = ()

    def forward(self, x):
        return x * x

    def backward(self, grad_out, out, x):
        return (grad_out * x,)


class NumpySquare(Op):
    """A right first derivative computed in numpy: no graph, so second order is lost."""

    __slots__ = ()

    def forward(self, x):
        return x * x

    def backward(self, grad_out, out, x):
        return (const(2 * grad_out._data * x._data),)


def test_gradcheck_names_input_index_and_values():
    x = np.array([[1.0, 2.0], [3.0, -4.0]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a: apply(HalfSquare(), a), x)
    msg = str(info.value)
    assert "input 0 (shape (2, 2))" in msg
    assert "d out(1, 1) / d x(1, 1)" in msg  # worst entry: x = -4
    assert "autodiff -4" in msg and "finite differences -8" in msg
    assert isinstance(info.value, AssertionError)


def test_gradcheck_fast_mode_on_a_large_input():
    x = np.random.default_rng(0).normal(size=(60, 50))
    assert gradcheck(lambda a: (a @ a.T).tanh().sum(axis=1), x, fast_mode=True)
    with pytest.raises(GradcheckError, match="random direction 0"):
        gradcheck(lambda a: apply(HalfSquare(), a), x, fast_mode=True)


def test_gradgradcheck_catches_a_backward_written_in_numpy():
    x = np.array([1.0, 2.0])
    assert gradcheck(lambda a: apply(NumpySquare(), a), x)
    with pytest.raises(GradcheckError, match="gradgradcheck"):
        gradgradcheck(lambda a: apply(NumpySquare(), a), x)
    assert gradgradcheck(lambda a: a * a, x)


def test_gradcheck_skips_integer_inputs():
    z = np.array([[1.0, 2.0, 0.5]])
    assert gradcheck(lambda logits, y: tg.cross_entropy(logits, y), z, np.array([2]))


# --------------------------------------------------------------------------- assert_grad_close

RNG = np.random.default_rng(0)
X = RNG.normal(size=(20, 4))
Y = (RNG.random(20) > 0.5).astype(float)
W = RNG.normal(size=4)


def logistic_loss(w):
    return tg.binary_cross_entropy(tg.sigmoid(Tensor(X) @ w), Y)


def logistic_hand(w):
    return X.T @ (1 / (1 + np.exp(-X @ w)) - Y) / len(Y)


def test_assert_grad_close_accepts_the_right_formula():
    assert_grad_close(logistic_loss, [W], logistic_hand(W))
    assert_grad_close(lambda a, b: (a * b).sum(), [np.ones(2), np.arange(2.0)],
                      [np.arange(2.0), np.ones(2)])


@pytest.mark.parametrize("factor,words", [
    (-1, "flipped sign"),
    (2, "spurious factor 2"),
    (0.5, "missing factor 2"),
    (1 / np.log(2), "log base 2"),
    (20, "missing mean over the N examples"),
    (1 / 20, "you divided by N"),
    (-2, "flipped sign, and"),
    (3.7, "constant factor"),
])
def test_assert_grad_close_diagnoses_constant_factors(factor, words):
    with pytest.raises(DerivationMismatch, match=words) as info:
        assert_grad_close(logistic_loss, [W], factor * logistic_hand(W))
    assert "yours" in str(info.value) and "autodiff" in str(info.value)


def test_missing_mean_is_named_with_n():
    with pytest.raises(DerivationMismatch, match="N, the number of examples"):
        assert_grad_close(logistic_loss, [W], 20 * logistic_hand(W), n_examples=20)


def _softmax_setup():
    x = RNG.normal(size=(6, 5))
    labels = np.array([0, 1, 2, 0, 1, 2])
    w = RNG.normal(size=(3, 5))
    z = x @ w.T
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    right = (p - np.eye(3)[labels]).T @ x / 6
    return (lambda m: tg.cross_entropy(Tensor(x) @ m.T, labels)), w, right


def test_transposed_gradient_is_named():
    f, w, right = _softmax_setup()
    with pytest.raises(DerivationMismatch, match="transposed"):
        assert_grad_close(f, [w], right.T)


def test_one_wrong_column_is_located():
    f, w, right = _softmax_setup()
    wrong = right.copy()
    wrong[:, -1] = 0.0
    with pytest.raises(DerivationMismatch, match="only column 4 is wrong.*bias column"):
        assert_grad_close(f, [w], wrong)
    wrong = right.copy()
    wrong[1] *= 3
    with pytest.raises(DerivationMismatch, match="only row 1 is wrong"):
        assert_grad_close(f, [w], wrong)


def test_no_simple_relation_and_shape_errors():
    f, w, right = _softmax_setup()
    with pytest.raises(DerivationMismatch, match="no simple relation"):
        assert_grad_close(f, [w], right + RNG.normal(size=right.shape))
    with pytest.raises(DerivationMismatch, match=r"wrong shape: yours is \(5,\)"):
        assert_grad_close(f, [w], np.ones(5))


def test_index_dependence_is_named():
    mine = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    auto = np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 0.0]])
    assert "does not change along axis 1" in diagnose(mine, auto)


def test_assert_grad_close_needs_a_scalar_and_matching_counts():
    with pytest.raises(ValueError, match="scalar"):
        assert_grad_close(lambda a: a * 2, [np.ones(3)], np.ones(3))
    with pytest.raises(ValueError, match="2 inputs but 1"):
        assert_grad_close(lambda a, b: (a * b).sum(), [np.ones(2), np.ones(2)], [np.ones(2)])


# --------------------------------------------------------------------------- instructor mode


def good_sigmoid_backward(grad_out, out, x):
    return grad_out * out * (1 - out)


def test_check_backward_accepts_right_formulas():
    check_backward(tg.sigmoid, good_sigmoid_backward)
    check_backward("tanh", lambda g, out, x: g * (1 - out**2))
    check_backward(tg.softmax, lambda g, out, x: out * (g - (g * out).sum(-1, keepdims=True)))


def test_check_backward_diagnoses_a_wrong_formula():
    with pytest.raises(DerivationMismatch, match="spurious factor 2"):
        check_backward(tg.sigmoid, lambda g, out, x: 2 * g * out * (1 - out))
    with pytest.raises(DerivationMismatch, match="your backward for softmax"):
        check_backward(tg.softmax, lambda g, out, x: g * out * (1 - out))  # diagonal only


def test_check_backward_rejects_unknown_ops():
    with pytest.raises(ValueError, match="no Tensor method 'swish'"):
        check_backward("swish", good_sigmoid_backward)


def test_use_backward_swaps_the_formula_in_and_out():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    with use_backward(tg.sigmoid, lambda g, out, x: 10 * g):
        y = tg.sigmoid(x)
        assert_allclose(y.numpy(), 1 / (1 + np.exp(-x.numpy())))
        y.sum().backward()
    assert_allclose(x.grad.numpy(), [10.0, 10.0])
    x.zero_grad()
    x.sigmoid().sum().backward()
    s = 1 / (1 + np.exp(-x.numpy()))
    assert_allclose(x.grad.numpy(), s * (1 - s))


def test_training_with_a_student_backward_matches_the_framework():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 3)), (rng.random(30) > 0.5).astype(float)

    def train():
        w = Tensor(np.zeros(3), requires_grad=True)
        for _ in range(20):
            w.zero_grad()
            tg.binary_cross_entropy(tg.sigmoid(Tensor(x) @ w), y).backward()
            with tg.no_grad():
                w -= 0.5 * w.grad
        return w.numpy()

    reference = train()
    with use_backward(tg.sigmoid, good_sigmoid_backward):
        assert_allclose(train(), reference, rtol=1e-12)


# --------------------------------------------------------------------------- strategies


@given(tst.design_matrices())
def test_design_matrices_are_well_conditioned_with_bias(x):
    assert np.all(x[:, -1] == 1.0)
    assert np.linalg.cond(x) < 1e3


@given(tst.labels_and_one_hot())
def test_labels_match_one_hot(pair):
    labels, one_hot = pair
    assert labels.dtype == np.int64
    assert_allclose(one_hot.argmax(axis=1), labels)
    assert_allclose(one_hot.sum(axis=1), 1.0)


@given(tst.probability_vectors(n=3))
def test_probability_vectors_sum_to_one(p):
    assert p.shape[0] == 3 and np.all(p > 0)
    assert_allclose(p.sum(axis=-1), 1.0)


@given(tst.stress_logits())
def test_stress_logits_keep_softmax_finite(z):
    assert np.abs(z).max() <= 1e3
    out = tg.log_softmax(Tensor(z))
    assert np.isfinite(out.numpy()).all()


@given(tst.matmul_operands())
def test_matmul_operands_multiply(pair):
    a, b = pair
    assert (a @ b).shape == (Tensor(a) @ b).shape


@given(tst.tensors(shape=tst.shapes(), dtype=np.float32, requires_grad=True))
def test_tensors_strategy(t):
    assert t.dtype == np.float32 and t.requires_grad
    assert np.all(np.abs(t.numpy()) <= 3)


def test_l2_factor_slip_inside_a_full_objective_is_named():
    lam = 0.1

    def objective(w):
        return logistic_loss(w) + tg.l2_penalty(w, lam)

    right = logistic_hand(W) + 2 * lam * W
    assert_grad_close(objective, [W], right)
    with pytest.raises(DerivationMismatch, match="lambda w where 2 lambda w is right"):
        assert_grad_close(objective, [W], logistic_hand(W) + lam * W)
    with pytest.raises(DerivationMismatch, match="2 lambda w where lambda w is right"):
        assert_grad_close(objective, [W], logistic_hand(W) + 3 * lam * W)


def test_a_gradient_that_autodiff_sees_as_zero_is_explained():
    a = np.array([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="without its graph"):
        with pytest.raises(DerivationMismatch, match="f does not depend on this input"):
            assert_grad_close(lambda a, b: (Tensor(a) * b).sum(), [a, a], [a, a])
