"""Edge cases of the engine where a gradient or value used to be silently wrong: in-place
operators, casts to integers, pow at zero, integer min, std at zero spread, 0-d tensors and
out-of-range axes, and what the transforms accept as f's output."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.exceptions import AxisError
from numpy.testing import assert_allclose

import tinygrad_hw as tg
from tinygrad_hw import Tensor
from tinygrad_hw.testing import gradcheck, gradgradcheck

# ----------------------------------------------------------------------------- in place


def test_inplace_add_into_a_constant_accumulator_records_the_op():
    x = Tensor(2.0, requires_grad=True)
    acc = Tensor(0.0)
    acc += x * x
    (acc + x).backward()
    assert x.grad.item() == 5.0  # d(x^2 + x)/dx at 2


def test_inplace_on_a_computed_tensor_is_its_out_of_place_form():
    x = Tensor(2.0, requires_grad=True)
    c = x + 1
    c += c + 1
    c.backward()
    assert x.grad.item() == 2.0 and c.item() == 7.0


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_each_inplace_operator_matches_its_out_of_place_gradient(op):
    def program(x, inplace):
        a = x * 3
        b = x + 2
        if inplace:
            exec(f"a {op} b", {}, scope := {"a": a, "b": b})
            return scope["a"]
        return eval(f"a {op[0]} b")

    grads = []
    for inplace in (True, False):
        x = Tensor([1.5, -0.5], requires_grad=True)
        program(x, inplace).sum().backward()
        grads.append(x.grad.numpy())
    assert_allclose(grads[0], grads[1])


def test_inplace_keeps_the_dtype_and_name_of_a_computed_tensor():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    h = x * 2
    h.name = "h"
    h += Tensor(np.ones(3))  # float64 operand
    assert h.dtype == np.float32 and h.name == "h" and h.requires_grad


def test_inplace_on_a_leaf_that_requires_grad_raises_while_recording():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w += 1


def test_inplace_on_a_leaf_under_no_grad_keeps_its_identity():
    w = Tensor([1.0, 2.0], requires_grad=True)
    before = w
    with tg.no_grad():
        w -= 0.5 * Tensor([2.0, 2.0])
    assert w is before and w.is_leaf and w.requires_grad
    assert_allclose(w.numpy(), [0.0, 1.0])


def test_inplace_on_a_plain_constant_keeps_its_identity():
    c = Tensor([1.0, 2.0])
    alias = c
    c *= 3
    assert c is alias and c.tolist() == [3.0, 6.0]


def test_inplace_that_cannot_keep_the_dtype_raises():
    labels = Tensor(np.array([1, 2]))
    with pytest.raises(TypeError, match="int64"):
        labels += 0.5


def test_inplace_update_of_a_saved_constant_makes_backward_refuse():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    y = (x * c).sum()
    c += 1  # Mul saved c for x's gradient
    with pytest.raises(RuntimeError, match="updated in place"):
        y.backward()


OPS = ["+=", "-=", "*=", "/="]


@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(OPS), st.integers(0, 4)),
                min_size=1, max_size=6))
def test_no_sequence_of_inplace_operators_gives_a_wrong_gradient(steps):
    """Run a random program of in-place updates on four names (a leaf that requires grad, a
    constant, two computed tensors) and the same program written out of place: the gradients
    agree, or the in-place version raises."""
    def run(inplace):
        x = Tensor([0.7, 1.3], requires_grad=True)
        names = [x, Tensor([2.0, 0.5]), x * 1.5, x + 0.25]
        for target, op, source in steps:
            other = names[source] if source < 4 else 1.25
            if inplace:
                scope = {"a": names[target], "b": other}
                exec(f"a {op} b", {}, scope)
                names[target] = scope["a"]
            else:
                names[target] = eval(f"a {op[0]} b", {}, {"a": names[target], "b": other})
        out = sum((t * (i + 1)).sum() for i, t in enumerate(names))
        if not out.requires_grad:
            return np.zeros(2)
        out.backward()
        return np.zeros(2) if x.grad is None else x.grad.numpy()

    try:
        got = run(inplace=True)
    except RuntimeError:
        return  # refused (a leaf updated while recording, or a saved value changed)
    assert_allclose(got, run(inplace=False), rtol=1e-12)


# ----------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_casting_to_an_integer_dtype_cuts_the_graph(dtype):
    x = Tensor([1.5, 2.5], requires_grad=True)
    i = x.astype(dtype)
    assert not i.requires_grad and i.is_leaf and i.dtype == dtype
    (i * 1.0 + x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_casting_between_floats_keeps_the_graph():
    x = Tensor([1.5, 2.5], requires_grad=True)
    (x.astype(np.float32) * 2).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [2.0, 2.0]


def test_min_of_unsigned_integer_and_bool_tensors_is_exact():
    u = Tensor(np.array([0, 128, 255], np.uint8))
    assert u.min().item() == 0 and u.min().dtype == np.uint8
    assert tg.minimum(u, np.uint8(10)).tolist() == [0, 10, 10]
    i = Tensor(np.array([-(2**31), 7], np.int32))
    assert i.min().item() == -(2**31) and tg.min(i, axis=0).item() == -(2**31)
    assert tg.minimum(i, Tensor(np.array([0, 0], np.int32))).tolist() == [-(2**31), 0]
    b = Tensor(np.array([True, False]))
    assert b.min().item() is False and b.max().item() is True


def test_min_splits_ties_and_minimum_routes_the_gradient():
    x = Tensor([3.0, 1.0, 1.0], requires_grad=True)
    y = Tensor([2.0, 2.0, 1.0], requires_grad=True)
    (tg.minimum(x, y) * Tensor([1.0, 2.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 2.0] and y.grad.tolist() == [1.0, 0.0, 2.0]


# ----------------------------------------------------------------------------- pow at zero


def test_derivative_of_x_to_the_zero_at_zero_is_zero():
    x = Tensor([0.0, 2.0], requires_grad=True)
    (x**0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    assert tg.grad(lambda t: (t**0).sum())(np.array([0.0, 3.0])).tolist() == [0.0, 0.0]
    assert tg.grad(lambda t: (t ** Tensor(0.0)).sum())(np.zeros(2)).tolist() == [0.0, 0.0]


def test_derivative_of_zero_to_the_y_follows_pytorch():
    y = Tensor([2.0, 0.5, 0.0, -1.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        (Tensor(0.0) ** y).sum().backward()
    assert y.grad.tolist() == [0.0, 0.0, 0.0, -np.inf]


def test_pow_second_derivatives_stay_right_near_zero_exponents():
    x, y = np.array([0.5, 2.0]), np.array([0.0, 1e-3])
    assert gradcheck(lambda a, b: a**b, x, y)
    assert gradgradcheck(lambda a, b: a**b, x, y)


# ----------------------------------------------------------------------------- std and var


def test_std_gradient_is_zero_where_the_spread_is_zero():
    x = Tensor(np.ones(4), requires_grad=True)
    x.std().backward()
    assert x.grad.tolist() == [0.0] * 4
    rows = Tensor(np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]), requires_grad=True)
    rows.std(axis=1).sum().backward()
    assert np.isfinite(rows.grad.numpy()).all() and rows.grad.numpy()[0].tolist() == [0.0] * 3
    assert_allclose(rows.grad.numpy()[1], tg.grad(lambda t: t.std())(np.array([1.0, 2, 4])))
    assert np.isfinite(tg.hessian(lambda t: t.std())(np.ones(3)).numpy()).all()


@pytest.mark.parametrize("ddof", [2, 3])
def test_var_with_ddof_at_least_n_is_inf_or_nan_never_negative(ddof):
    x = np.array([1.0, 3.0])
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        v = Tensor(x).var(ddof=ddof).item()
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.var(x, ddof=ddof)
    assert v == expected == np.inf
    with pytest.warns(RuntimeWarning):
        assert np.isnan(Tensor(np.ones(2)).var(ddof=2).item())


def test_mean_of_nothing_is_nan_without_a_warning(recwarn):
    assert np.isnan(Tensor(np.zeros((0, 3))).mean().item())
    assert np.isnan(Tensor(np.zeros((0, 3))).mean(axis=0).numpy()).all()
    assert not recwarn.list


# ----------------------------------------------------------------------------- 0-d and axes


@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("name,expected", [
    ("softmax", 1.0), ("log_softmax", 0.0), ("logsumexp", 2.0), ("sum", 2.0),
    ("squeeze", 2.0), ("max", 2.0), ("min", 2.0), ("mean", 2.0),
])
def test_zero_dimensional_tensors_accept_axis_0_and_minus_1(name, expected, axis):
    x = Tensor(2.0, requires_grad=True)
    out = getattr(x, name)(axis)
    assert out.shape == () and out.item() == pytest.approx(expected)
    out.backward()
    assert x.grad.shape == ()
    assert getattr(tg, name)(np.float64(2.0), axis).shape == ()


TWO_BY_THREE = np.arange(6.0).reshape(2, 3)
AXIS_OPS = {
    "sum": lambda t: t.sum(2),
    "mean": lambda t: t.mean(-3),
    "max": lambda t: t.max(2),
    "min": lambda t: t.min((0, 2)),
    "logsumexp": lambda t: t.logsumexp(5),
    "var": lambda t: t.var(2),
    "std": lambda t: t.std(2),
    "softmax": lambda t: t.softmax(2),
    "log_softmax": lambda t: t.log_softmax(-3),
    "argmax": lambda t: t.argmax(2),
    "argmin": lambda t: t.argmin(2),
    "squeeze": lambda t: t.squeeze(2),
    "unsqueeze": lambda t: t.unsqueeze(4),
    "flatten": lambda t: t.flatten(2),
    "transpose": lambda t: t.transpose(0, 2),
    "swapaxes": lambda t: t.swapaxes(0, 2),
    "concatenate": lambda t: tg.concatenate([t, t], axis=2),
    "stack": lambda t: tg.stack([t, t], axis=4),
}


@pytest.mark.parametrize("name", sorted(AXIS_OPS))
def test_out_of_range_axis_is_an_axis_error_naming_axis_and_ndim(name):
    with pytest.raises(AxisError) as info:
        AXIS_OPS[name](Tensor(TWO_BY_THREE))
    assert isinstance(info.value, ValueError) and isinstance(info.value, IndexError)
    message = str(info.value)
    assert name in message and "axis" in message and "dimensions" in message


def test_axis_errors_on_a_zero_dimensional_tensor():
    with pytest.raises(AxisError, match="axis 1 .* 0 dimensions"):
        Tensor(1.0).sum(1)
    with pytest.raises(AxisError, match="stack: axis 2"):
        tg.stack([Tensor(1.0), Tensor(2.0)], axis=2)
    assert tg.stack([Tensor(1.0), Tensor(2.0)], axis=-1).tolist() == [1.0, 2.0]


def test_squeeze_of_an_axis_longer_than_one_names_the_axis_and_its_size():
    with pytest.raises(ValueError, match=r"squeeze: axis 1 has size 3"):
        Tensor(np.ones((1, 3))).squeeze(1)


def test_clip_without_bounds_raises():
    with pytest.raises(ValueError, match="at least one"):
        Tensor([1.0]).clip()
    with pytest.raises(ValueError, match="at least one"):
        tg.clip(np.ones(2), None, None)


# ----------------------------------------------------------------------------- transforms


@pytest.mark.parametrize("transform", [tg.grad, tg.value_and_grad, tg.jacobian, tg.hessian])
@pytest.mark.parametrize("f,named", [
    (lambda x: np.allclose(x.numpy(), 1.0), "bool True"),
    (lambda x: x > 0, "dtype bool"),
    (lambda x: (x > 0).sum(), "dtype int64"),
    (lambda x: 3, "int 3"),
    (lambda x: x.astype(np.int32), "dtype int32"),
])
def test_transforms_refuse_an_output_that_is_not_floating(transform, f, named):
    with pytest.raises(TypeError, match=named):
        transform(f)(np.ones(2))
