"""docs/course.md §5 and §6: the hand-written two-layer nets and Nielsen's BP1-BP4 against
autodiff, including every delta^l against the gradient on the retained pre-activation z^l."""

import numpy as np
import pytest
from course_strategies import classifier_net_data, nielsen_data, regression_net_data
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import tinygrad_hw as tg
from models import nielsen_network as nn_
from models import two_layer_net as tl
from tinygrad_hw import Tensor
from tinygrad_hw.testing import assert_grad_close


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ------------------------------------------------------------------ s5 two-layer nets
def test_with_bias_prepends_x0_equal_to_one():
    X = tl.with_bias([[2.0, 3.0], [4.0, 5.0]])
    assert_allclose(X, [[1.0, 2.0, 3.0], [1.0, 4.0, 5.0]])


@given(regression_net_data())
def test_regression_net_hand_gradients_equal_autodiff(data):
    a, b, X, y = data
    assert_grad_close(lambda a, b: tl.regression_loss(a, b, X, y), [a, b],
                      tl.regression_hand_gradients(a, b, X, y), names=["a", "b"],
                      n_examples=len(y))


@given(regression_net_data(n=1))
def test_regression_net_single_example_formulas_entry_by_entry(data):
    a, b, X, y = data
    x, target = X[0], y[0]
    h = [_sigmoid(sum(x[i] * a[i, k] for i in range(3))) for k in range(4)]
    o = sum(h[k] * b[k] for k in range(4))
    assert tl.regression_loss(Tensor(a), Tensor(b), X, y).item() == pytest.approx((target - o) ** 2)
    grad_a, grad_b = tl.regression_hand_gradients(a, b, X, y)
    for k in range(4):
        assert grad_b[k] == pytest.approx(-2 * (target - o) * h[k], abs=1e-12)
        for i in range(3):
            literal = -2 * (target - o) * b[k] * h[k] * (1 - h[k]) * x[i]
            assert grad_a[i, k] == pytest.approx(literal, abs=1e-12)


@given(regression_net_data())
def test_regression_net_batch_gradient_is_the_mean_of_per_example_gradients(data):
    a, b, X, y = data
    singles = [tl.regression_hand_gradients(a, b, X[n:n + 1], y[n:n + 1]) for n in range(len(y))]
    grad_a, grad_b = tl.regression_hand_gradients(a, b, X, y)
    assert_allclose(grad_a, np.mean([g[0] for g in singles], axis=0), atol=1e-12)
    assert_allclose(grad_b, np.mean([g[1] for g in singles], axis=0), atol=1e-12)


@given(classifier_net_data())
def test_classifier_net_hand_gradients_equal_autodiff(data):
    a, B, X, labels = data
    assert_grad_close(lambda a, B: tl.classifier_loss(a, B, X, labels), [a, B],
                      tl.classifier_hand_gradients(a, B, X, labels), names=["a", "B"],
                      n_examples=len(labels))


@given(classifier_net_data())
def test_classifier_net_loss_uses_the_natural_log(data):
    a, B, X, labels = data
    z = _sigmoid(X @ a) @ B
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = -np.mean(log_p[np.arange(len(labels)), labels])
    assert tl.classifier_loss(a, B, X, labels).item() == pytest.approx(expected, rel=1e-9)


# ------------------------------------------------------------------ s6 Nielsen's BP1-BP4
def _retained_forward(weights, biases, X, Y, cost_name):
    """Autodiff's dC/dz^l for every layer, read from retain_grad() on the pre-activations."""
    Ws = [Tensor(W, requires_grad=True) for W in weights]
    bs = [Tensor(b, requires_grad=True) for b in biases]
    zs, activations = nn_.forward(Ws, bs, X)
    for z in zs:
        z.retain_grad()
    nn_.cost(activations[-1], Y, cost_name).backward()
    return [z.grad.numpy() for z in zs], activations[-1].numpy()


@given(nielsen_data(), st.sampled_from(nn_.COSTS))
def test_deltas_equal_autodiff_gradients_on_retained_pre_activations(data, cost_name):
    weights, biases, X, Y = data
    auto_deltas, _ = _retained_forward(weights, biases, X, Y, cost_name)
    deltas, _, _ = nn_.backprop(weights, biases, X, Y, cost_name)
    assert len(deltas) == len(weights)
    for auto, delta in zip(auto_deltas, deltas):
        assert delta.shape == auto.shape
        assert_allclose(delta, auto, rtol=1e-7, atol=1e-12)


@given(nielsen_data(), st.sampled_from(nn_.COSTS))
def test_backprop_weight_and_bias_gradients_equal_autodiff(data, cost_name):
    weights, biases, X, Y = data
    _, grad_W, grad_b = nn_.backprop(weights, biases, X, Y, cost_name)
    L = len(weights)
    names = [f"W^{l}" for l in range(1, L + 1)] + [f"b^{l}" for l in range(1, L + 1)]
    assert_grad_close(lambda *p: nn_.loss(p[:L], p[L:], X, Y, cost_name),
                      [*weights, *biases], [*grad_W, *grad_b], names=names)


@given(nielsen_data())
def test_cross_entropy_with_sigmoid_output_gives_delta_L_equal_a_minus_y(data):
    weights, biases, X, Y = data
    auto_deltas, a_out = _retained_forward(weights, biases, X, Y, "cross_entropy")
    assert_allclose(auto_deltas[-1], a_out - Y, rtol=1e-7, atol=1e-12)
    z_out = nn_.forward(weights, biases, X)[0][-1].numpy()
    assert_allclose(nn_.output_delta(z_out, Y, "cross_entropy"), a_out - Y, atol=1e-12)


@given(nielsen_data())
def test_quadratic_cost_delta_L_keeps_sigma_prime(data):
    weights, biases, X, Y = data
    auto_deltas, a_out = _retained_forward(weights, biases, X, Y, "quadratic")
    assert_allclose(auto_deltas[-1], (a_out - Y) * a_out * (1 - a_out), rtol=1e-7, atol=1e-12)


@given(st.floats(0.05, 0.95), st.floats(0.05, 0.95))
def test_cross_entropy_is_convex_in_a_with_minimum_at_y(a, y):
    def c(a):
        return tg.binary_cross_entropy(a, np.full(a.shape, y), reduction="sum")

    a = np.array([a])
    second = tg.hessian(c)(a).numpy()[0, 0]
    assert second == pytest.approx(y / a[0] ** 2 + (1 - y) / (1 - a[0]) ** 2, rel=1e-9)
    assert second > 0
    assert tg.grad(c)(np.array([y])).numpy()[0] == pytest.approx(0.0, abs=1e-12)


def test_unknown_cost_is_rejected():
    with pytest.raises(ValueError, match="cost must be one of"):
        nn_.backprop([np.ones((1, 1))], [np.zeros((1, 1))], np.ones((1, 1)), np.ones((1, 1)),
                     "hinge")
