"""The mistakes real submissions made in their hand derivations (docs/course.md §1-5) are caught by
assert_grad_close, and its DerivationMismatch message names the right slip."""

import math

import numpy as np
import pytest
from course_strategies import (
    classifier_net_data,
    lambdas,
    logistic_data,
    regression_net_data,
    softmax_data,
    values,
)
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from models import logistic_regression as lr
from models import regularization as reg
from models import softmax_regression as sr
from models import two_layer_net as tl
from tinygrad_hw.testing import DerivationMismatch, assert_grad_close


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _visible(g) -> bool:
    """A gradient large enough that a wrong factor on it exceeds assert_grad_close's atol."""
    return bool(np.abs(g).max() > 1e-3)


# ------------------------------------------------------------------ factor 2 in the L2 term
@given(values((3, 2)), lambdas)
def test_lambda_w_for_the_full_norm_penalty_is_a_missing_factor_2(w, lam):
    assume(_visible(lam * w))
    with pytest.raises(DerivationMismatch, match="missing factor 2"):
        assert_grad_close(lambda w: reg.penalty(w, lam), [w], lam * w)  # right: 2 lambda w


@given(values((3, 2)), lambdas)
def test_two_lambda_w_for_the_half_norm_penalty_is_a_spurious_factor_2(w, lam):
    assume(_visible(lam * w))
    with pytest.raises(DerivationMismatch, match="spurious factor 2"):
        assert_grad_close(lambda w: reg.penalty(w, lam, half=True), [w], 2 * lam * w)


@given(logistic_data(min_d=2), lambdas, st.booleans())
def test_factor_2_slip_inside_a_regularized_loss_is_named(data, lam, half):
    w, X, y = data
    data_gradient = lr.hand_gradient(w, X, y)
    assume(_visible(lam * w))
    # a data gradient parallel to w would make the whole slip look like a constant factor
    off_w = data_gradient - (data_gradient @ w) / (w @ w) * w
    assume(_visible(off_w))
    if half:  # R = 1/2 ||w||^2 needs + lambda w
        slipped, words = data_gradient + 2 * lam * w, "you wrote 2 lambda w where lambda w is right"
    else:  # R = ||w||^2 needs + 2 lambda w
        slipped, words = data_gradient + lam * w, "you wrote lambda w where 2 lambda w is right"
    with pytest.raises(DerivationMismatch, match=words):
        assert_grad_close(lambda w: reg.regularized_loss(lr.loss(w, X, y), w, lam, half), [w],
                          slipped)


# ------------------------------------------------------------------ logistic regression
@given(logistic_data(min_d=2))
def test_flipped_sign_in_the_logistic_gradient(data):
    w, X, y = data
    right = lr.hand_gradient(w, X, y)
    assume(_visible(right))
    y_hat = _sigmoid(X @ w)
    flipped = X.T @ (y - y_hat) / len(y)  # (y - y_hat) x where (y_hat - y) x is right
    with pytest.raises(DerivationMismatch, match="flipped sign"):
        assert_grad_close(lambda w: lr.loss(w, X, y), [w], flipped)


@given(logistic_data(min_n=3, min_d=2))
def test_sum_where_the_mean_is_right_in_the_logistic_gradient(data):
    w, X, y = data
    right = lr.hand_gradient(w, X, y)
    assume(_visible(right))
    summed = X.T @ (_sigmoid(X @ w) - y)  # the 1/N is missing
    with pytest.raises(DerivationMismatch, match="missing mean over the N examples") as info:
        assert_grad_close(lambda w: lr.loss(w, X, y), [w], summed, n_examples=len(y))
    assert "N, the number of examples" in str(info.value)


@given(logistic_data(min_d=2))
def test_log_base_2_in_the_logistic_loss(data):
    w, X, y = data
    right = lr.hand_gradient(w, X, y)
    assume(_visible(right))
    with pytest.raises(DerivationMismatch, match="log base 2"):
        assert_grad_close(lambda w: lr.loss(w, X, y), [w], right / math.log(2))


# ------------------------------------------------------------------ softmax regression
# entries of x kept away from 0 and 1 so that every entry of the typo'd gradient is wrong
_x_entries = st.floats(-1.0, -0.1) | st.floats(0.1, 0.9)


@given(softmax_data(n=1, min_d=2), st.data())
def test_softmax_typo_y_k_in_place_of_x_j(data, draw):
    W, b, _, y = data
    W, b = W / 2, b / 2  # logits within +-7: every y_hat_k is far above atol
    x = draw.draw(hnp.arrays(np.float64, (W.shape[1],), elements=_x_entries))
    assume(np.ptp(x) > 0.1)
    X = x[None, :]
    y_hat, one_hot = sr.probabilities(W, b, X)[0], np.eye(len(b))[y[0]]
    typo = -np.outer(one_hot * (one_hot - y_hat), np.ones_like(x))  # -y_k (y_k - y_hat_k)
    with pytest.raises(DerivationMismatch, match="does not change along axis 1") as info:
        assert_grad_close(lambda W, b: sr.loss(W, b, X, y), [W, b], [typo, None],
                          names=["W", "b"])
    assert "gradient for W" in str(info.value) and "gradient for b" not in str(info.value)


# ------------------------------------------------------------------ the two-layer nets
def _regression_check(a, b, X, y, grad_a, grad_b):
    assert_grad_close(lambda a, b: tl.regression_loss(a, b, X, y), [a, b], [grad_a, grad_b],
                      names=["a", "b"], n_examples=len(y))


@given(regression_net_data())
def test_sign_slip_in_dSE_db_is_caught_and_only_b_is_blamed(data):
    a, b, X, y = data
    grad_a, grad_b = tl.regression_hand_gradients(a, b, X, y)
    assume(_visible(grad_b))
    with pytest.raises(DerivationMismatch, match="flipped sign") as info:
        _regression_check(a, b, X, y, grad_a, -grad_b)  # +2 (y - o) h_k
    assert "gradient for b" in str(info.value) and "gradient for a" not in str(info.value)


@given(regression_net_data())
def test_transposed_index_order_in_dSE_da_is_diagnosed_as_transposed(data):
    a, b, X, y = data
    grad_a, grad_b = tl.regression_hand_gradients(a, b, X, y)
    # indices written in the order (k, i): the array is (4 x 3) where a_ik is (3 x 4)
    with pytest.raises(DerivationMismatch, match="transposed") as info:
        _regression_check(a, b, X, y, grad_a.T, grad_b)
    assert "gradient for a" in str(info.value)


@given(regression_net_data(n=1))
def test_lost_x_i_factor_in_dSE_da_is_caught(data):
    a, b, X, y = data
    grad_a, grad_b = tl.regression_hand_gradients(a, b, X, y)
    # every x_i (i >= 1) away from 1 and two hidden units with a visible term, so the slip
    # shows in more than one row and column of the gradient
    assume(np.sum(np.abs(grad_a[0]) > 1e-3) >= 2 and np.all(np.abs(X[0, 1:] - 1) > 0.1))
    # -2 (y - o) b_k h_k (1 - h_k) with the x_i dropped: the same for every i
    lost_x = np.ones((3, 1)) * grad_a[0]  # row i = 0 has x_0 = 1, so it is the bare product
    with pytest.raises(DerivationMismatch, match="does not change along axis 0 .index i."):
        _regression_check(a, b, X, y, lost_x, grad_b)


@given(regression_net_data())
def test_derivative_of_the_square_without_its_2(data):
    a, b, X, y = data
    grad_a, grad_b = tl.regression_hand_gradients(a, b, X, y)
    assume(_visible(grad_b))
    with pytest.raises(DerivationMismatch, match="missing factor 2"):
        _regression_check(a, b, X, y, grad_a / 2, grad_b / 2)  # -(y - o) h_k


@given(classifier_net_data())
def test_log_base_2_in_the_classifier(data):
    a, B, X, labels = data
    grad_a, grad_B = tl.classifier_hand_gradients(a, B, X, labels)
    assume(_visible(grad_B))
    with pytest.raises(DerivationMismatch, match="log base 2"):
        assert_grad_close(lambda a, B: tl.classifier_loss(a, B, X, labels), [a, B],
                          [grad_a / math.log(2), grad_B / math.log(2)], names=["a", "B"])
