"""detect_anomaly(): the first op whose forward or backward output holds NaN/inf raises,
naming the op, its input shapes and the phase."""

import numpy as np
import pytest

import tinygrad_hw as tg
from tinygrad_hw import Tensor


def test_forward_nan_is_reported_at_its_op():
    x = Tensor(np.array([[1.0, -1.0]]), requires_grad=True)
    with tg.detect_anomaly():
        y = x * 2
        with pytest.raises(tg.AnomalyError, match=r"forward of Sqrt produced NaN.*\(1, 2\)"):
            y.sqrt()


def test_forward_inf_is_reported():
    with tg.detect_anomaly(), pytest.raises(FloatingPointError, match="Log produced inf"):
        tg.log(Tensor(np.zeros(3)))


def test_backward_inf_is_reported_with_its_op():
    x = Tensor(np.array([0.0, 4.0]), requires_grad=True)
    with tg.detect_anomaly():
        y = x.sqrt().sum()  # finite forward, infinite gradient at 0
        with pytest.raises(RuntimeError, match=r"backward of Sqrt produced inf .*\(2,\)"):
            y.backward()


def test_backward_nan_from_a_composite():
    # 0 * log(0): forward gives nan too; here the forward is fine but 0 * inf appears backward
    x = Tensor(np.array([0.0]), requires_grad=True)
    with tg.detect_anomaly():
        y = (x.sqrt() * 0.0).sum()
        with pytest.raises(tg.AnomalyError, match="backward of (Mul|Sqrt)"):
            y.backward()


def test_without_detect_anomaly_nan_passes_silently_and_mode_is_restored():
    with tg.detect_anomaly():
        pass
    assert not tg.autograd.is_anomaly_enabled()
    out = Tensor(np.array([np.nan])) * 1.0
    assert np.isnan(out.item())


# ------------------------------------------------- NaN/inf that came in versus produced here
def test_nan_already_in_a_named_input_is_not_blamed_on_the_op():
    x = Tensor(np.array([np.nan, 1.0]), name="x")
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError) as info:
        x * 2.0
    msg = str(info.value)
    assert "forward of Mul: NaN in its output, but input 0 ('x') already holds NaN" in msg
    assert "Mul did not produce it" in msg and "produced NaN" not in msg


def test_inf_in_unnamed_data_is_called_data():
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError,
                                            match=r"input 0 \(data\) already holds inf"):
        Tensor(np.array([1.0, np.inf])) + 1.0


def test_nan_from_an_op_run_before_detect_anomaly_names_that_op():
    x = Tensor(np.array([-1.0, 4.0]), requires_grad=True)
    with np.errstate(invalid="ignore"):
        root = x.sqrt()  # NaN, made while detect_anomaly was off
    with tg.detect_anomaly(), pytest.raises(
            tg.AnomalyError, match=r"input 0 \(the output of Sqrt, made while detect_anomaly"):
        root * 2.0


def test_backward_names_an_input_that_held_nan_in_the_forward():
    w = Tensor(np.array([np.nan, 1.0]), requires_grad=True, name="w")
    loss = (w * w).sum()  # recorded without detect_anomaly
    with tg.detect_anomaly(), pytest.raises(
            tg.AnomalyError, match=r"backward of Mul: NaN in the gradient for input 0, but input "
                                   r"0 \('w'\) already holds NaN"):
        loss.backward()


def test_backward_names_a_nan_incoming_gradient():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3.0
    with tg.detect_anomaly(), pytest.raises(
            tg.AnomalyError, match="backward of Mul: NaN in the gradient for input 0, but the "
                                   "incoming gradient already holds NaN"):
        y.backward(np.array([np.nan, 1.0]))


def test_a_nan_the_op_produced_still_says_produced():
    x = Tensor(np.array([0.0, 1.0]), name="x")
    with np.errstate(invalid="ignore"), tg.detect_anomaly(), pytest.raises(
            tg.AnomalyError, match=r"forward of Div produced NaN in its output"):
        x / x
