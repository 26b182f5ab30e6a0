"""Instructor mode: each op checked on its own domain, a kink convention named as such, the
usual slips in a student's backward named (no grad_out, None, a tuple, a wrong shape, an
exception), and a report of the inputs tried."""

import traceback

import numpy as np
import pytest

import tinygrad_hw as tg
from tinygrad_hw.testing import DerivationMismatch, check_backward, compare_backward, use_backward
from tinygrad_hw.testing.instructor import BackwardReport, StudentCodeError


def good_sigmoid_backward(grad_out, out, x):
    return grad_out * out * (1 - out)


def test_log_and_sqrt_are_checked_on_positive_inputs():
    report = check_backward(tg.log, lambda g, out, x: g / x)
    assert "x in [0.1, 4]" in str(report)
    check_backward("sqrt", lambda g, out, x: g / (2 * out))
    check_backward(tg.sqrt, lambda g, out, x: g / (2 * np.sqrt(x)))


def _softmax_backward(g, out, x):
    return out * (g - (g * out).sum(-1, keepdims=True))


RIGHT = {
    "exp": lambda g, out, x: g * out,
    "tanh": lambda g, out, x: g * (1 - out**2),
    "softplus": lambda g, out, x: g / (1 + np.exp(-x)),
    "relu": lambda g, out, x: g * (x > 0),
    "abs": lambda g, out, x: g * np.sign(x),
    "softmax": _softmax_backward,
    "log_softmax": lambda g, out, x: g - np.exp(out) * g.sum(-1, keepdims=True),
    "sum": lambda g, out, x: g * np.ones_like(x),
    "mean": lambda g, out, x: g * np.ones_like(x) / x.size,
    "max": lambda g, out, x: g * (x == out),
    "logsumexp": lambda g, out, x: g * np.exp(x - out),
    "std": lambda g, out, x: g * (x - x.mean()) / (x.size * out),
}


@pytest.mark.parametrize("op", sorted(RIGHT))
def test_right_formulas_pass_on_each_ops_domain(op):
    report = check_backward(op, RIGHT[op], max_examples=20)
    assert isinstance(report, BackwardReport) and not report.notes


def test_an_op_without_a_listed_domain_gets_the_default_one():
    assert "x in [-4, 4]" in str(check_backward("exp", RIGHT["exp"], max_examples=5))
    assert "x in [-1, 2]" in str(check_backward("exp", RIGHT["exp"], low=-1, high=2,
                                                max_examples=5))
    report = check_backward("relu", RIGHT["relu"], max_examples=5)
    assert "x in [-4, 4] except near the kink x = 0" in str(report)


def test_relu_with_x_ge_0_differs_only_at_the_kink_by_convention():
    with pytest.warns(UserWarning, match=r"differs only at the kink x = 0 \(convention\)"):
        report = check_backward(tg.relu, lambda g, out, x: g * (x >= 0))
    assert len(report.notes) == 1
    assert "your relu'(0) = 1, the framework's (like PyTorch's) is 0" in report.notes[0]
    assert "does not depend" not in str(report)


def test_abs_with_another_sign_at_0_passes_with_a_note():
    with pytest.warns(UserWarning, match="differs only at the kink x = 0"):
        report = check_backward("abs", lambda g, out, x: g * np.where(x >= 0, 1.0, -1.0))
    assert "your abs'(0) = 1" in report.notes[0]


def test_compare_backward_at_the_kink_names_the_convention():
    with pytest.warns(UserWarning, match=r"relu: differs only at the kink x = 0 \(convention\)"):
        report = compare_backward("relu", lambda g, out, x: g * (x >= 0), np.array([0.0]),
                                  np.array([1.0]))
    assert report.n_inputs == 1


def test_a_value_at_the_kink_outside_the_one_sided_derivatives_fails():
    def relu_backward(g, out, x):
        return g * np.where(x == 0, 5.0, x > 0)

    with pytest.raises(DerivationMismatch, match=r"where your relu'\(0\) = 5 lies outside "
                                                 r"\[0, 1\]") as info:
        check_backward("relu", relu_backward, max_examples=5)
    assert "does not depend" not in str(info.value)


def test_a_forgotten_grad_out_is_named():
    with pytest.raises(DerivationMismatch, match="ignores grad_out") as info:
        check_backward(tg.sigmoid, lambda g, out, x: out * (1 - out))
    assert "local derivative d out/dx alone" in str(info.value)
    with pytest.raises(DerivationMismatch, match="ignores grad_out"):
        check_backward("relu", lambda g, out, x: (x > 0).astype(float))
    with pytest.raises(DerivationMismatch, match="ignores grad_out"):
        check_backward(tg.softmax, lambda g, out, x: out * (1 - out))


def test_none_a_wrong_count_and_a_wrong_shape_are_named():
    with pytest.raises(DerivationMismatch, match=r"returned None \(a missing `return`\?\)"):
        check_backward(tg.sigmoid, lambda g, out, x: None)
    with pytest.raises(DerivationMismatch, match="wrong number of values: .* a tuple of 2"):
        check_backward(tg.sigmoid, lambda g, out, x: (g * out * (1 - out), g))
    with pytest.raises(DerivationMismatch, match=r"wrong shape: .* returned shape \(5,\), but x "
                                                 r"has shape \(4, 5\)"):
        check_backward(tg.sigmoid, lambda g, out, x: (g * out * (1 - out)).sum(0))
    # a tuple of one gradient is accepted, as PyTorch's autograd.Function accepts it
    check_backward(tg.sigmoid, lambda g, out, x: (g * out * (1 - out),), max_examples=5)


def test_an_exception_in_the_students_code_names_op_and_input_and_chains_the_original():
    def my_backward(grad_out, out, x):
        return grad_out @ out  # matmul where an elementwise product is meant

    with pytest.raises(StudentCodeError) as info:
        check_backward(tg.sigmoid, my_backward)
    message = str(info.value)
    assert message.startswith("your backward for sigmoid raised ValueError: matmul")
    assert "at x of shape (4, 5) (values in [" in message
    assert isinstance(info.value.__cause__, ValueError)
    frames = traceback.extract_tb(info.value.__cause__.__traceback__)
    assert "my_backward" in [f.name for f in frames]


def test_small_failing_inputs_are_shown_by_value():
    def my_backward(g, out, x):
        if x.size == 1:
            raise ZeroDivisionError("one element")
        return g * out * (1 - out)

    with pytest.raises(StudentCodeError, match=r"at x = \[.*\], grad_out = \[.*\]") as info:
        check_backward(tg.sigmoid, my_backward)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_the_report_says_how_many_inputs_and_which_shapes():
    report = check_backward(tg.sigmoid, good_sigmoid_backward, max_examples=10)
    assert 2 <= report.n_inputs <= 11
    assert (4, 5) in report.shapes
    assert str(report).startswith(f"your backward for sigmoid matches the framework's on "
                                  f"{report.n_inputs} inputs of ")
    assert "shapes ((" in str(report) and str(report).endswith("x in [-4, 4]")


def test_failures_say_how_many_inputs_were_tried():
    with pytest.raises(DerivationMismatch, match="spurious factor 2") as info:
        check_backward(tg.sigmoid, lambda g, out, x: 2 * g * out * (1 - out))
    assert "inputs tried: 1 input of 1 shape ((4, 5)), x in [-4, 4]" in str(info.value)

    def wrong_off_matrices(g, out, x):  # right on the first (4, 5) input, wrong on others
        return g * out * (1 - out) * (1.0 if x.shape == (4, 5) else 3.0)

    with pytest.raises(DerivationMismatch, match=r"inputs tried: \d+ inputs of \d+ shapes"):
        check_backward(tg.sigmoid, wrong_off_matrices)


def test_use_backward_names_a_bad_return_and_a_raising_formula():
    x = tg.Tensor(np.array([0.5, -1.0]), requires_grad=True)
    with use_backward(tg.sigmoid, lambda g, out, x: None):
        with pytest.raises(DerivationMismatch, match="backward for sigmoid returned None"):
            tg.sigmoid(x).sum().backward()
    with use_backward(tg.sigmoid, lambda g, out, x: g @ np.ones((3, 3))):
        with pytest.raises(StudentCodeError, match=r"sigmoid raised ValueError.*\n  at x = "):
            tg.sigmoid(x).sum().backward()


def test_a_return_value_that_is_not_numbers_is_named():
    with pytest.raises(DerivationMismatch, match="returned a dict, not an array of numbers"):
        check_backward(tg.sigmoid, lambda g, out, x: {"grad": g})
