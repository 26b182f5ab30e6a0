"""assert_grad_close on the course's real slips: float32 hand gradients are not false alarms,
bias slips, NaN or inf, averaging over the wrong count, the backprop slips of a sigmoid layer,
and random unrelated arrays get no invented story."""

import numpy as np
import pytest

import tinygrad_hw as tg
from models import worked_example as we
from tinygrad_hw import Tensor
from tinygrad_hw.testing import DerivationMismatch, assert_grad_close, diagnose


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _message(f, inputs, expected, **kwargs) -> str:
    with pytest.raises(DerivationMismatch) as info:
        assert_grad_close(f, inputs, expected, **kwargs)
    return str(info.value)


# ------------------------------------------------------------------ float32 hand gradients
def _fashion_like(seed=0, n=128, d=785, k=10):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d), dtype=np.float32)
    X[:, -1] = 1.0  # the bias column
    return rng, X, rng.integers(0, k, n)


def test_a_correct_float32_logistic_gradient_is_accepted():
    rng, X, labels = _fashion_like()
    y = (labels > 4).astype(np.float32)
    w = (rng.normal(size=785) * 0.05).astype(np.float32)
    right = X.T @ (_sigmoid(X @ w) - y) / len(y)
    assert right.dtype == np.float32
    loss = lambda w: tg.binary_cross_entropy(tg.sigmoid(Tensor(X) @ w), y)  # noqa: E731
    assert_grad_close(loss, [w], right)
    for lam in (0.01, 0.1):  # with L2, both conventions
        assert_grad_close(lambda w, lam=lam: loss(w) + tg.l2_penalty(w, lam), [w],
                          right + np.float32(2 * lam) * w)


@pytest.mark.parametrize("lam", [0.0, 0.05])
def test_a_correct_float32_softmax_gradient_is_accepted(lam):
    rng, X, labels = _fashion_like(1)
    W = (rng.normal(size=(10, 785)) * 0.05).astype(np.float32)
    z = X @ W.T
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    right = (p - np.eye(10, dtype=np.float32)[labels]).T @ X / len(labels) + \
        np.float32(2 * lam) * W
    assert right.dtype == np.float32

    def loss(W):
        return tg.cross_entropy(Tensor(X) @ W.T, labels) + tg.l2_penalty(W, lam)

    assert_grad_close(loss, [W], right)


@pytest.mark.parametrize("scale,named", [(1, "missing mean over the N examples"),
                                         (10, "number of classes (K = 10) instead of examples")])
def test_float32_count_slips_are_named_despite_their_larger_rounding(scale, named):
    rng, X, labels = _fashion_like(2)
    W = (rng.normal(size=(785, 10)) * 0.01).astype(np.float32)
    z = X @ W
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    summed = X.T @ (p - np.eye(10, dtype=np.float32)[labels])  # no 1/N: 128 x autodiff's
    message = _message(lambda W: tg.cross_entropy(Tensor(X) @ W, labels), [W],
                       summed / np.float32(scale))
    assert named in message


def test_a_float32_difference_above_tolerance_is_called_rounding():
    rng, X, labels = _fashion_like(2)
    y = (labels > 4).astype(np.float32)
    w = (rng.normal(size=785) * 0.05).astype(np.float32)
    right = X.T @ (_sigmoid(X @ w) - y) / len(y)
    noisy = right * (1 + rng.normal(size=right.shape).astype(np.float32) * 2e-5)
    msg = _message(lambda w: tg.binary_cross_entropy(tg.sigmoid(Tensor(X) @ w), y), [w], noisy)
    assert "float32 rounding" in msg and "float64" in msg


# ------------------------------------------------------------------ bias slips, NaN and inf
def _bias_trick():
    rng = np.random.default_rng(3)
    X = np.hstack([rng.normal(size=(12, 3)), np.ones((12, 1))])
    y, w = (rng.random(12) > 0.5).astype(float), rng.normal(size=4)
    right = X.T @ (_sigmoid(X @ w) - y) / 12
    return (lambda w: tg.binary_cross_entropy(tg.sigmoid(Tensor(X) @ w), y)), w, right


def test_one_wrong_entry_of_a_weight_vector_is_named():
    f, w, right = _bias_trick()
    wrong = right.copy()
    wrong[-1] *= 3
    assert "only entry 3 is wrong (the last entry: with the bias trick, the bias)" in _message(
        f, [w], wrong)
    wrong = right.copy()
    wrong[1] += 0.5
    assert "only entry 1 is wrong;" in _message(f, [w], wrong)


def test_an_all_zero_bias_gradient_is_called_zero():
    x, labels = np.random.default_rng(4).normal(size=(6, 4)), np.array([0, 1, 2, 0, 1, 2])
    W, b = np.ones((3, 4)) * 0.1, np.array([0.2, -0.1, 0.3])
    msg = _message(lambda W, b: tg.cross_entropy(Tensor(x) @ W.T + b, labels), [W, b],
                   [None, np.zeros(3)], names=["W", "b"])
    assert "your gradient is zero where autodiff's is not" in msg
    assert "factor indexed" not in msg


def test_nan_and_inf_are_named_with_their_positions():
    f, w, right = _bias_trick()
    wrong = right.copy()
    wrong[2], wrong[0] = np.nan, np.inf
    msg = _message(f, [w], wrong)
    assert "NaN at 2" in msg and "inf at 0" in msg and "2 of 4 entries" in msg


# ------------------------------------------------------------------ the wrong count
def _softmax(n=12, k=3, d=4, seed=5):
    """f, W and the summed (not averaged) gradient sum_n (y_hat_n - y_n) x_n^T."""
    rng = np.random.default_rng(seed)
    x, labels, W = rng.normal(size=(n, d)), rng.integers(0, k, n), rng.normal(size=(k, d))
    z = x @ W.T
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    summed = (p - np.eye(k)[labels]).T @ x
    return (lambda W: tg.cross_entropy(Tensor(x) @ W.T, labels)), W, summed


def test_dividing_by_the_number_of_classes_is_named():
    f, W, summed = _softmax()
    msg = _message(f, [W], summed / 3, n_examples=12)  # K read off the cross-entropy
    assert "divided by the number of classes (K = 3) instead of examples (N = 12)" in msg
    msg = _message(f, [W], summed / 3)  # N read off nothing: K alone still names it
    assert "number of classes" in msg


def test_a_ratio_of_k_is_named_with_the_class_count():
    f, W, summed = _softmax(n=12, k=4)
    msg = _message(f, [W], summed * 4 / 12, n_examples=12)
    assert "K = 4, the number of classes" in msg


def test_an_unknown_ratio_names_the_number_and_tells_no_story():
    f, W, summed = _softmax()
    msg = _message(f, [W], summed / 12 * 7, n_examples=12)
    assert "7 x autodiff's everywhere: a constant factor that matches none" in msg
    assert "your N" not in msg and "spurious" not in msg


# ------------------------------------------------------------------ backprop slips, one example
def _worked(delta_o_slip=None, delta_h_factor=None, out_h_for_x=False):
    """The 2-2-2 worked example's hand gradients for W1, W2 with an optional slip."""
    p = we.initial_parameters()
    out_h = _sigmoid(p["W1"] @ we.INPUTS + p["b1"])
    out_o = _sigmoid(p["W2"] @ out_h + p["b2"])
    delta_o = -(we.TARGETS - out_o) * out_o * (1 - out_o)
    if delta_o_slip is not None:
        delta_o = delta_o_slip(delta_o, out_o)
    factor = out_h * (1 - out_h) if delta_h_factor is None else delta_h_factor(out_h)
    delta_h = (p["W2"].T @ delta_o) * factor
    grad_W2 = np.outer(delta_o, out_o if out_h_for_x else out_h)
    return p, [np.outer(delta_h, we.INPUTS), grad_W2]


def _worked_message(grads):
    p = we.initial_parameters()
    return _message(lambda W1, W2: we.e_total(W1, p["b1"], W2, p["b2"]), [p["W1"], p["W2"]],
                    grads, names=["W1", "W2"])


def test_the_worked_example_hand_gradients_pass():
    p, grads = _worked()
    assert_grad_close(lambda W1, W2: we.e_total(W1, p["b1"], W2, p["b2"]), [p["W1"], p["W2"]],
                      grads)


def test_sigma_where_sigma_prime_belongs_in_bp2():
    _, grads = _worked(delta_h_factor=lambda s: s)
    msg = _worked_message(grads)
    assert "gradient for W1" in msg and "gradient for W2" not in msg
    assert "sigma(z^1) where sigma'(z^1) belongs in BP2" in msg


def test_sigma_prime_dropped_in_bp2():
    _, grads = _worked(delta_h_factor=lambda s: np.ones_like(s))
    assert "sigma'(z^1) dropped from BP2" in _worked_message(grads)


def test_a_l_where_a_l_minus_1_belongs_in_bp4():
    _, grads = _worked(out_h_for_x=True)
    msg = _worked_message(grads)
    assert "a^2 used where a^1 belongs in BP4" in msg and "gradient for W1" not in msg


def test_the_cancelling_sigma_prime_with_cross_entropy():
    p = we.initial_parameters()
    out_h = _sigmoid(p["W1"] @ we.INPUTS + p["b1"])
    out_o = _sigmoid(p["W2"] @ out_h + p["b2"])
    slipped = (out_o - we.TARGETS) * out_o * (1 - out_o)  # the sigma' that cancels
    msg = _message(lambda W2: we.e_total_cross_entropy(p["W1"], p["b1"], W2, p["b2"]),
                   [p["W2"]], np.outer(slipped, out_h))
    assert "an extra sigma'(z^L) in BP1: with the cross-entropy cost the sigma' cancels" in msg


def test_several_wrong_parameters_each_get_their_own_diagnosis_in_order():
    _, grads = _worked(delta_h_factor=lambda s: s)
    grads[1] = -grads[1]
    msg = _worked_message(grads)
    assert msg.index("gradient for W1") < msg.index("BP2") < msg.index("gradient for W2") \
        < msg.index("flipped sign")


def test_a_per_row_factor_is_named_without_a_story():
    rng = np.random.default_rng(6)
    auto = rng.normal(size=(4, 5))
    verdict = diagnose(auto * rng.uniform(0.5, 2, size=(4, 1)), auto)
    assert "each row of your gradient is autodiff's row times its own factor" in verdict


# ------------------------------------------------------------------ no invented stories
@pytest.mark.parametrize("seed", range(300))
def test_random_unrelated_arrays_have_no_simple_relation(seed):
    rng = np.random.default_rng(seed)
    shape = [(7,), (3, 4), (5, 2), (2, 3, 2)][seed % 4]
    auto = rng.normal(size=shape)
    mine = rng.normal(size=shape) if seed % 2 else auto * rng.uniform(-3, 3, size=shape)
    n, k = int(rng.integers(2, 50)), int(rng.integers(2, 10))
    assert diagnose(mine, auto, n_examples=n, n_classes=k).startswith("no simple relation")
