"""Losses against closed forms and their gradients, and the numerics figures of DESIGN.md:
huge logits, saturated sigmoids, probabilities of exactly 0 and 1."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import tinygrad_hw as tg
from tinygrad_hw import Tensor
from tinygrad_hw.testing import gradcheck, gradgradcheck
from tinygrad_hw.testing import strategies as tst


@st.composite
def logits_and_labels(draw):
    n, k = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    logits = draw(tst.arrays((n, k), low=-5, high=5))
    labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return logits, labels


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@given(logits_and_labels(), st.sampled_from(["mean", "sum", "none"]))
def test_cross_entropy_with_class_indices(data, reduction):
    z, y = data
    per_example = -np.log(_softmax(z)[np.arange(len(y)), y])
    expected = {"mean": per_example.mean(), "sum": per_example.sum(), "none": per_example}
    out = tg.cross_entropy(Tensor(z), y, reduction=reduction)
    assert_allclose(out.numpy(), expected[reduction], rtol=1e-10)
    assert gradcheck(lambda t: tg.cross_entropy(t, y, reduction=reduction), z)
    assert gradgradcheck(lambda t: tg.cross_entropy(t, y, reduction=reduction), z)


@given(logits_and_labels())
def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n(data):
    z, y = data
    t = Tensor(z, requires_grad=True)
    tg.cross_entropy(t, y).backward()
    one_hot = np.eye(z.shape[1])[y]
    assert_allclose(t.grad.numpy(), (_softmax(z) - one_hot) / len(y), atol=1e-12)
    # one-hot targets give the same loss and gradient as class indices
    assert_allclose(tg.cross_entropy(Tensor(z), one_hot).item(),
                    tg.cross_entropy(Tensor(z), y).item(), rtol=1e-12)


def test_cross_entropy_with_probability_targets_and_1d_logits():
    z = np.array([1.0, 2.0, 0.5])
    p = np.array([0.2, 0.5, 0.3])
    assert_allclose(tg.cross_entropy(Tensor(z), p).item(), -(p * np.log(_softmax(z))).sum())
    assert_allclose(tg.cross_entropy(Tensor(z), np.array(1)).item(), -np.log(_softmax(z)[1]))
    assert gradcheck(lambda a, b: tg.cross_entropy(a, b), z, p)


def test_cross_entropy_errors():
    z = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="class 3 is out of range for 3 classes"):
        tg.cross_entropy(z, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        tg.cross_entropy(z, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        tg.cross_entropy(z, np.array([0, 1]), reduction="avg")


def test_cross_entropy_of_huge_equal_logits_is_ln2():
    assert tg.cross_entropy(Tensor([[1e8, 1e8]]), np.array([0])).item() == pytest.approx(
        0.6931472, abs=1e-7)
    z32 = Tensor(np.array([[1e8, 1e8]], np.float32))
    assert tg.cross_entropy(z32, np.array([1])).item() == pytest.approx(0.6931472, abs=1e-6)


def test_log_softmax_of_wide_logits_is_exact():
    assert_allclose(tg.log_softmax(Tensor([1000.0, 0.0, -1000.0])).numpy(), [0, -1000, -2000])
    assert_allclose(tg.logsumexp(Tensor([1000.0, 1000.0])).item(), 1000 + np.log(2))
    assert tg.logsumexp(Tensor([-np.inf, -np.inf])).item() == -np.inf


@pytest.mark.parametrize("x", [88.8, -88.8, 710.0, -710.0, 1000.0, -1000.0])
@pytest.mark.parametrize("fn", [tg.sigmoid, tg.tanh, tg.softplus], ids=["sigmoid", "tanh",
                                                                           "softplus"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activations_stay_finite_in_the_tails(fn, x, dtype):
    t = Tensor(np.array([x], dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        out = fn(t)
        out.sum().backward()
    assert np.isfinite(out.numpy()).all() and np.isfinite(t.grad.numpy()).all()


def test_sigmoid_keeps_tiny_values():
    assert tg.sigmoid(Tensor(-100.0)).item() == pytest.approx(3.720075976020836e-44, rel=1e-12)
    assert tg.sigmoid(Tensor(100.0)).item() == 1.0


@given(tst.arrays(tst.shapes(max_side=3), low=-30, high=30), st.data())
def test_bce_with_logits_matches_bce_of_sigmoid(z, data):
    y = data.draw(tst.arrays(z.shape, low=0, high=1))
    expected = np.logaddexp(0, z) - z * y  # -[y ln p + (1-y) ln(1-p)], p = sigmoid(z)
    out = tg.binary_cross_entropy_with_logits(Tensor(z), y, reduction="none").numpy()
    assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t, u: tg.binary_cross_entropy_with_logits(t, u), z, y)
    assert gradgradcheck(lambda t: tg.binary_cross_entropy_with_logits(t, y), z)


def test_bce_with_logits_gradient_is_sigmoid_minus_y_even_at_zero():
    z = Tensor(np.array([0.0, 0.0, 800.0, -800.0]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    tg.binary_cross_entropy_with_logits(z, y, reduction="sum").backward()
    assert_allclose(z.grad.numpy(), [-0.5, 0.5, 1.0, -1.0])
    loss = tg.binary_cross_entropy_with_logits(Tensor([800.0]), [0.0]).item()
    assert loss == pytest.approx(800.0)


@given(tst.arrays(tst.shapes(max_side=3), low=0.01, high=0.99), st.data())
def test_bce_on_probabilities(p, data):
    y = data.draw(tst.arrays(p.shape, low=0, high=1))
    expected = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    assert_allclose(tg.binary_cross_entropy(Tensor(p), y, reduction="none").numpy(), expected)
    assert gradcheck(lambda a, b: tg.binary_cross_entropy(a, b), p, y)
    assert gradgradcheck(lambda a: tg.binary_cross_entropy(a, y), p)


def test_bce_is_finite_at_exactly_zero_and_one():
    p = Tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    loss = tg.binary_cross_entropy(p, y, reduction="none")
    assert_allclose(loss.numpy(), [0.0, 0.0, 100.0, 100.0])
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()


def test_bce_rejects_values_outside_0_1_and_shape_mismatch():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        tg.binary_cross_entropy(Tensor([1.5]), [1.0])
    with pytest.raises(ValueError, match=r"\(3, 1\).*\(3,\)"):
        tg.binary_cross_entropy(Tensor(np.full((3, 1), 0.5)), np.ones(3))


@given(tst.arrays(tst.shapes(max_side=3)), st.data())
def test_mse_loss(pred, data):
    target = data.draw(tst.arrays(pred.shape))
    assert_allclose(tg.mse_loss(Tensor(pred), target).item(), np.mean((pred - target) ** 2))
    assert_allclose(tg.mse_loss(Tensor(pred), target, reduction="sum").item(),
                    np.sum((pred - target) ** 2))
    assert gradcheck(lambda a, b: tg.mse_loss(a, b), pred, target)


def test_mse_loss_refuses_a_silent_broadcast():
    with pytest.raises(ValueError, match=r"input shape \(4, 1\) and target shape \(4,\)"):
        tg.mse_loss(Tensor(np.zeros((4, 1))), np.zeros(4))


def test_l2_penalty_gradient_is_two_lambda_w():
    w1 = Tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True)
    w2 = Tensor(np.array([4.0]), requires_grad=True)
    lam = 0.1
    pen = tg.l2_penalty([w1, w2], lam)
    assert pen.item() == pytest.approx(lam * (1 + 4 + 0.25 + 9 + 16))
    pen.backward()
    assert_allclose(w1.grad.numpy(), 2 * lam * w1.numpy())
    assert_allclose(w2.grad.numpy(), 2 * lam * w2.numpy())
    assert tg.l2_penalty(w2, 1.0).item() == 16.0
    with pytest.raises(ValueError, match="no parameters"):
        tg.l2_penalty([], 1.0)


def test_cross_entropy_names_confusable_target_kinds():
    z = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="looks one-hot"):
        tg.cross_entropy(z, np.eye(3, dtype=int)[[0, 1]])
    with pytest.raises(ValueError, match="looks like class indices"):
        tg.cross_entropy(z, np.array([0.0, 1.0]))


def test_bce_with_logits_names_itself_in_errors():
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: reduction"):
        tg.binary_cross_entropy_with_logits(Tensor([0.2]), [1.0], reduction="avg")


def test_fused_cross_entropy_on_one_row_and_at_second_order():
    z = np.array([0.5, -1.0, 2.0])
    label = np.array(2)
    assert gradcheck(lambda t: tg.cross_entropy(t, label), z)
    assert gradgradcheck(lambda t: tg.cross_entropy(t, label), z)
    t = Tensor(z, requires_grad=True)
    tg.cross_entropy(t, label).backward()
    assert_allclose(t.grad.numpy(), _softmax(z) - np.eye(3)[2])


# ----------------------------------------------------------------------- empty batches
EMPTY_LOSSES = {
    "mse": lambda t, r: tg.mse_loss(t, np.zeros((0, 3)), reduction=r),
    "bce": lambda t, r: tg.binary_cross_entropy(t, np.zeros((0, 3)), reduction=r),
    "bce_logits": lambda t, r: tg.binary_cross_entropy_with_logits(t, np.zeros((0, 3)),
                                                                   reduction=r),
    "ce_indices": lambda t, r: tg.cross_entropy(t, np.zeros(0, np.int64), reduction=r),
    "ce_probabilities": lambda t, r: tg.cross_entropy(t, np.zeros((0, 3)), reduction=r),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(EMPTY_LOSSES))
def test_losses_of_an_empty_batch_follow_pytorch_without_warnings(name, reduction):
    # as PyTorch: the mean over no examples is NaN, the sum 0, 'none' an empty array;
    # the gradient is an empty array; numpy's 0/0 RuntimeWarning must not leak
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = EMPTY_LOSSES[name](x, reduction)
        (out if out.ndim == 0 else out.sum()).backward()
    expected = {"mean": np.nan, "sum": 0.0}.get(reduction)
    if expected is None:
        assert out.shape == ((0, 3) if name in ("mse", "bce", "bce_logits") else (0,))
    else:
        assert out.shape == () and np.array_equal(out.numpy(), expected, equal_nan=True)
    assert x.grad.shape == (0, 3)


def test_cross_entropy_refuses_bool_targets_naming_the_dtype():
    logits = Tensor(np.zeros((2, 2)))
    for target in (np.array([True, False]), np.array([[True, False], [False, True]])):
        with pytest.raises(TypeError, match="cross_entropy: target has dtype bool"):
            tg.cross_entropy(logits, target)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_float32_stays_float32_through_cross_entropy_and_its_backward(reduction):
    """No float64 value anywhere in a float32 step: the step records no Cast back down."""
    from tinygrad_hw.autograd import _state

    rng = np.random.default_rng(0)
    w = Tensor(rng.normal(size=(5, 3)).astype(np.float32), requires_grad=True)
    X = rng.normal(size=(4, 5)).astype(np.float32)
    _state["tape"] = []
    try:
        loss = tg.cross_entropy(X @ w, np.array([0, 2, 1, 1]), reduction=reduction)
        loss.backward(None if reduction != "none" else np.ones(4, np.float32))
        tape = _state["tape"]
    finally:
        _state["tape"], _state["traced"] = None, set()
    dtypes = {str(out.dtype) for _, _, out in tape} - {"int64", "bool"}
    assert dtypes == {"float32"} and w.grad.dtype == np.float32
