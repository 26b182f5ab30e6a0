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
