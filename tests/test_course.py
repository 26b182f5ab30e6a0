"""docs/course.md §1-3, 6 and 7: autodiff equals the hand-derived formulas of logistic and
softmax regression, both L2 conventions and Newton's method, and the classic worked example
reproduces its published figures. (Networks: test_course_networks.py; wrong hand formulas
being caught: test_course_mistakes.py.)"""

import numpy as np
import pytest
from course_strategies import lambdas, least_squares_data, logistic_data, softmax_data, values
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import tinygrad_hw as tg
from models import logistic_regression as lr
from models import newton as nt
from models import regularization as reg
from models import softmax_regression as sr
from models import worked_example as we
from tinygrad_hw import Tensor
from tinygrad_hw.testing import assert_grad_close


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ------------------------------------------------------------------ s1 logistic regression
@given(logistic_data())
def test_logistic_loss_is_mean_binary_cross_entropy(data):
    w, X, y = data
    z = X @ w
    log_y_hat, log_1m_y_hat = -np.logaddexp(0, -z), -np.logaddexp(0, z)  # ln sigma(+-z), exact
    expected = np.mean(-(y * log_y_hat + (1 - y) * log_1m_y_hat))
    assert_allclose(lr.loss(Tensor(w), X, y).item(), expected, rtol=1e-12, atol=1e-12)
    # the literal form rounds y_hat first, so ln(1 - y_hat) loses digits when y_hat is near 1
    assert_allclose(lr.loss_from_probabilities(w, X, y).item(), expected, rtol=1e-6, atol=1e-12)


@given(logistic_data())
def test_logistic_hand_gradient_equals_autodiff(data):
    w, X, y = data
    expected = lr.hand_gradient(w, X, y)
    assert_grad_close(lambda w: lr.loss(w, X, y), [w], expected, n_examples=len(y))
    assert_grad_close(lambda w: lr.loss_from_probabilities(w, X, y), [w], expected)


@given(logistic_data())
def test_logistic_hand_gradient_is_the_sum_of_per_example_terms(data):
    w, X, y = data
    per_example = [(_sigmoid(x @ w) - t) * x for x, t in zip(X, y)]  # (y_hat - y) x_n
    assert_allclose(lr.hand_gradient(w, X, y), np.mean(per_example, axis=0), atol=1e-12)


# ------------------------------------------------------------------ s2 softmax regression
@given(softmax_data())
def test_softmax_loss_is_mean_cross_entropy_of_the_one_hot_labels(data):
    W, b, X, y = data
    y_hat = sr.probabilities(W, b, X)
    assert_allclose(y_hat.sum(axis=1), 1.0, atol=1e-12)
    expected = -np.mean(np.log(y_hat[np.arange(len(y)), y]))
    assert_allclose(sr.loss(Tensor(W), Tensor(b), X, y).item(), expected, rtol=1e-9)


@given(softmax_data())
def test_softmax_hand_gradients_equal_autodiff(data):
    W, b, X, y = data
    assert_grad_close(lambda W, b: sr.loss(W, b, X, y), [W, b], sr.hand_gradients(W, b, X, y),
                      names=["W", "b"], n_examples=len(y))


@given(softmax_data(n=1))
def test_softmax_hand_gradients_entrywise_for_one_example(data):
    W, b, X, y = data
    x, y_hat = X[0], sr.probabilities(W, b, X)[0]
    one_hot = np.eye(len(b))[y[0]]
    grad_W, grad_b = sr.hand_gradients(W, b, X, y)
    for k in range(W.shape[0]):
        assert grad_b[k] == pytest.approx(y_hat[k] - one_hot[k], abs=1e-12)
        for j in range(W.shape[1]):
            assert grad_W[k, j] == pytest.approx(-x[j] * (one_hot[k] - y_hat[k]), abs=1e-12)


# ------------------------------------------------------------------ s3 L2 regularisation
@given(values((2, 3)), lambdas)
def test_penalty_values_in_both_conventions(w, lam):
    squares = np.sum(w**2)
    assert_allclose(reg.penalty(Tensor(w), lam).item(), lam * squares, rtol=1e-12, atol=1e-15)
    assert_allclose(reg.penalty(Tensor(w), lam).item(), tg.l2_penalty(Tensor(w), lam).item())
    assert_allclose(reg.penalty(Tensor(w), lam, half=True).item(), lam * squares / 2,
                    rtol=1e-12, atol=1e-15)


@given(logistic_data(), lambdas, st.booleans())
def test_regularized_logistic_gradient_equals_autodiff(data, lam, half):
    w, X, y = data
    expected = reg.regularized_gradient(lr.hand_gradient(w, X, y), w, lam, half)
    assert_grad_close(lambda w: reg.regularized_loss(lr.loss(w, X, y), w, lam, half), [w],
                      expected)
    factor = 1 if half else 2
    assert_allclose(reg.penalty_gradient(w, lam, half), factor * lam * w)


@given(softmax_data(), lambdas, st.booleans())
def test_regularized_softmax_penalises_weights_not_bias(data, lam, half):
    W, b, X, y = data
    grad_W, grad_b = sr.hand_gradients(W, b, X, y)
    expected = [reg.regularized_gradient(grad_W, W, lam, half), grad_b]
    assert_grad_close(lambda W, b: reg.regularized_loss(sr.loss(W, b, X, y), W, lam, half),
                      [W, b], expected, names=["W", "b"])


# ------------------------------------------------------------------ s7 Newton's method
@given(least_squares_data())
def test_newton_hand_gradient_and_hessian_equal_autodiff(data):
    w, X, y = data
    assert_allclose(nt.loss(w, X, y).item(), np.sum((X @ w - y) ** 2) / (2 * len(y)), rtol=1e-10)
    assert_grad_close(lambda w: nt.loss(w, X, y), [w], nt.hand_gradient(w, X, y))
    assert_allclose(tg.hessian(nt.loss)(w, X, y).numpy(), nt.hand_hessian(X), atol=1e-10)


@given(least_squares_data())
def test_one_newton_step_lands_on_the_least_squares_solution(data):
    w0, X, y = data
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    for step in (nt.newton_step, nt.newton_step_hand):
        w1 = step(w0, X, y)
        assert_allclose(w1, w_star, atol=1e-9)
        assert_allclose(nt.hand_gradient(w1, X, y), 0.0, atol=1e-9)


# ------------------------------------------------------------------ s6 the worked example
def test_worked_example_forward_pass_and_e_total():
    p = we.initial_parameters()
    out_h, out_o = we.forward(p["W1"], p["b1"], p["W2"], p["b2"])
    assert_allclose(out_h.numpy(), [0.593269992, 0.596884378], atol=5e-10)
    assert_allclose(out_o.numpy(), [0.75136507, 0.772928465], atol=5e-9)
    assert round(we.loss_value(p), 9) == 0.298371109


@pytest.mark.parametrize("by_hand", [False, True])
def test_worked_example_one_step_gives_the_published_weights(by_hand):
    new = we.one_step(by_hand=by_hand)
    assert round(float(new["W2"][0, 0]), 8) == 0.35891648  # w5
    assert round(float(new["W1"][0, 0]), 9) == 0.149780716  # w1
    assert float(new["b1"]) == 0.35 and float(new["b2"]) == 0.60  # biases are not updated
    assert we.BIAS_NAMES == ("b1", "b2") and set(we.WEIGHT_NAMES) | set(we.BIAS_NAMES) == set(new)
    assert we.loss_value(new) < we.loss_value(we.initial_parameters())


@pytest.mark.parametrize("cross_entropy", [False, True])
def test_worked_example_hand_gradients_equal_autodiff(cross_entropy):
    p = we.initial_parameters()
    hand = we.hand_gradients(p, cross_entropy)
    loss = we.e_total_cross_entropy if cross_entropy else we.e_total
    names = ["W1", "b1", "W2", "b2"]
    assert_grad_close(loss, [p[k] for k in names], [hand[k] for k in names], names=names)
    auto = we.autodiff_gradients(p, cross_entropy)
    for k in names:
        assert_allclose(auto[k], hand[k], rtol=1e-10, atol=1e-15)


def test_worked_example_cross_entropy_variant():
    p = we.initial_parameters()
    out_o = we.forward(p["W1"], p["b1"], p["W2"], p["b2"])[1].numpy()
    t = we.TARGETS
    assert_allclose(we.loss_value(p, cross_entropy=True),
                    -np.sum(t * np.log(out_o) + (1 - t) * np.log(1 - out_o)), rtol=1e-12)
    # sigma' cancels: delta_o = out_o - target, so dE/db2 (b2 shared) = sum_o (out_o - t_o)
    grads = we.autodiff_gradients(p, cross_entropy=True)
    assert_allclose(grads["b2"], np.sum(out_o - t), rtol=1e-10)
    new = we.one_step(cross_entropy=True)
    assert_allclose(new["W2"], p["W2"] - 0.5 * grads["W2"], rtol=1e-12)
    assert float(new["b1"]) == 0.35 and float(new["b2"]) == 0.60
    assert we.loss_value(new, cross_entropy=True) < we.loss_value(p, cross_entropy=True)
