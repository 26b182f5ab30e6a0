"""Tensor behaviour: dtypes, numpy interop, grad bookkeeping (accumulation, zero_grad,
retain_grad, detach, no_grad), in-place updates, the freed-graph rule, long chains, errors."""

import numpy as np
import pytest
from hypothesis import given
from numpy.testing import assert_allclose

import tinygrad_hw as tg
from tinygrad_hw import Tensor
from tinygrad_hw.testing import strategies as tst

# --------------------------------------------------------------------------- dtypes


def test_lists_become_float64_and_float32_is_kept():
    assert Tensor([[1.0, 2.0]]).dtype == np.float64
    assert Tensor(np.zeros((2, 3), np.float32)).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.int64


def test_python_scalars_do_not_promote_float32():
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    for out in (w * 2.0, 2.0 * w, w + 1, w / 3.0, w**2, 1 - w, w.maximum(0.5)):
        assert out.dtype == np.float32
    (w * 2.0).sum().backward()
    assert w.grad.dtype == np.float32


def test_gradient_takes_the_dtype_of_its_input():
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    (w * Tensor(np.ones(3))).sum().backward()  # float32 * float64 -> float64 result
    assert w.grad.dtype == np.float32


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="int64"):
        Tensor([1, 2], requires_grad=True)
    labels = Tensor(np.array([0, 1], np.int32))
    with pytest.raises(TypeError, match="int32"):
        labels.requires_grad = True
    with pytest.raises(TypeError, match="unsupported dtype"):
        Tensor(["a", "b"])


def test_astype_is_differentiable():
    x = Tensor([1.5, 2.5], requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float64
    assert_allclose(x.grad.numpy(), [2.0, 2.0])


# --------------------------------------------------------------------------- numpy interop


def test_data_is_read_only_and_numpy_is_a_copy():
    x = Tensor([1.0, 2.0])
    with pytest.raises(ValueError):
        x.data[0] = 5.0
    copy = x.numpy()
    copy[0] = 5.0
    assert x.data[0] == 1.0


def test_constructor_copies_the_array():
    a = np.array([1.0, 2.0])
    x = Tensor(a)
    a[0] = 9.0
    assert x.data[0] == 1.0


def test_ndarray_times_tensor_is_a_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0])
    for out in (a * x, a + x, a - x, a / x, a**x, a @ x):
        assert isinstance(out, Tensor)
    (a * x).sum().backward()
    assert_allclose(x.grad.numpy(), a)
    assert isinstance(a < x, Tensor)


def test_asarray_and_metadata():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert_allclose(np.asarray(x), np.arange(6.0).reshape(2, 3))
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    assert (x.shape, x.ndim, x.size, len(x)) == ((2, 3), 2, 6, 2)
    assert Tensor(3.5).item() == 3.5
    assert float(Tensor([2.0])) == 2.0
    assert [row.shape for row in x] == [(3,), (3,)]
    assert "Tensor([[0., 1., 2.]" in repr(x)


def test_comparisons_return_bool_tensors_without_grad():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    assert (x == 2.0).tolist() == [False, True, False]
    assert (~m).tolist() == [True, False, False]
    assert {x: 1}[x] == 1  # hashable by identity


# --------------------------------------------------------------------------- grad bookkeeping


def test_gradients_accumulate_until_zero_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])
    x.zero_grad()
    assert x.grad is None


def test_a_tensor_used_twice_gets_both_contributions():
    x = Tensor(2.0, requires_grad=True)
    y = x * x + x
    y.backward()
    assert x.grad.item() == 5.0


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = Tensor([1.0, -2.0], requires_grad=True)
    z = x * 3
    z.retain_grad()
    y = z.sigmoid().sum()
    y.backward()
    s = 1 / (1 + np.exp(-np.array([3.0, -6.0])))
    assert_allclose(z.grad.numpy(), s * (1 - s))
    assert not z.is_leaf and x.is_leaf
    w = x * 2
    w.sum().backward()
    assert w.grad is None  # not retained


def test_detach_and_no_grad_record_nothing():
    x = Tensor([1.0], requires_grad=True)
    assert not x.detach().requires_grad
    with tg.no_grad():
        y = x * 2
        assert not tg.is_grad_enabled()
        with tg.enable_grad():
            assert (x * 2).requires_grad
    assert not y.requires_grad and y.is_leaf
    assert tg.is_grad_enabled()

    @tg.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad


def test_backward_with_explicit_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(np.array([1.0, 10.0]))
    assert_allclose(x.grad.numpy(), [2.0, 40.0])


def test_backward_on_non_scalar_names_the_shape():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"not a scalar \(shape \(2, 3\)\)"):
        (x * 2).backward()


def test_backward_gradient_shape_is_checked():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        (x * 2).backward(np.ones(3))


def test_backward_without_graph_says_so():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_second_backward_through_freed_graph_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    e = np.exp([1.0, 2.0])
    assert_allclose(x.grad.numpy(), 2 * (e + e * np.array([1.0, 2.0])))


def test_ten_thousand_op_chain_does_not_hit_the_recursion_limit():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert_allclose(x.grad.item(), 1.0001**10_000, rtol=1e-9)


def test_deep_graph_with_create_graph():
    x = Tensor(0.5, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y.tanh()
    (g,) = tg.autograd.gradients(y, [x], create_graph=True)
    (gg,) = tg.autograd.gradients(g, [x])
    assert np.isfinite(gg.item())


# --------------------------------------------------------------------------- in-place


def test_in_place_update_under_no_grad_keeps_the_leaf():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w_id = id(w)
    with tg.no_grad():
        w -= 0.5 * w.grad
    assert id(w) == w_id and w.requires_grad and w.is_leaf
    assert_allclose(w.numpy(), [0.0, 0.0])


def test_in_place_update_while_recording_raises():
    w = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w += 1.0


def test_in_place_update_of_a_saved_input_is_caught_at_backward():
    x = Tensor([1.0, 2.0])
    w = Tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    x += 1.0  # x was saved by the multiply; its gradient for w would now be wrong
    with pytest.raises(RuntimeError, match="updated in place"):
        y.backward()


def test_item_assignment_is_refused_with_advice():
    with pytest.raises(TypeError, match="tg.where"):
        Tensor([1.0])[0] = 2.0


def test_data_setter_replaces_the_value():
    w = Tensor(np.zeros(2, np.float32), requires_grad=True)
    with tg.no_grad():
        w.data = np.array([1.0, 2.0])
    assert w.dtype == np.float32 and w.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"\(3,\) does not fit shape \(2,\)"):
        with tg.no_grad():
            w.data = np.ones(3)


# --------------------------------------------------------------------------- broadcasting


@given(tst.broadcastable_shapes(2))
def test_broadcast_gradients_are_summed_back(shapes):
    a_shape, b_shape = shapes
    a = Tensor(np.ones(a_shape), requires_grad=True)
    b = Tensor(np.full(b_shape, 2.0), requires_grad=True)
    (a * b).sum().backward()
    out_size = np.prod(np.broadcast_shapes(a_shape, b_shape))
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    assert_allclose(a.grad.numpy().sum(), 2.0 * out_size)
    assert_allclose(b.grad.numpy().sum(), out_size)


def test_argmax_clip_std():
    x = Tensor(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]), requires_grad=True)
    assert x.argmax(axis=1).tolist() == [1, 0]
    assert tg.argmax(x).item() == 3 and not x.argmax().requires_grad
    assert x.argmin(axis=0).tolist() == [0, 1, 0]
    c = x.clip(1.5, 6.0)
    assert_allclose(c.numpy(), [[1.5, 5.0, 2.0], [6.0, 1.5, 3.0]])
    c.sum().backward()
    assert_allclose(x.grad.numpy(), [[0, 1, 1], [0, 0, 1]])
    assert_allclose(x.std(axis=1).numpy(), x.numpy().std(axis=1))
    assert_allclose(tg.clip([0.5, 2.0], high=1.0).numpy(), [0.5, 1.0])


def test_numpy_float64_scalar_promotes_like_numpy():
    w = Tensor(np.ones(2, np.float32))
    assert (w * np.float64(0.1)).dtype == (np.ones(2, np.float32) * np.float64(0.1)).dtype
    assert (w * np.float32(0.1)).dtype == np.float32


def test_op_labels_show_static_parameters():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    assert x.sum(axis=1)._op.label() == "Sum(axis=(1,), keepdims=False)"
    assert x.reshape(3, 2)._op.label() == "Reshape(shape=(3, 2))"


def test_a_tensor_used_many_times_sums_its_gradients_in_one_op():
    """The walk collects the gradients of a tensor used n times and adds them with one AddN
    op, which stays differentiable (the second derivative is right too)."""
    from tinygrad_hw.autograd import _state

    x = Tensor([0.5, -1.0], requires_grad=True)
    y = Tensor([2.0, 3.0], requires_grad=True)
    out = x
    for _ in range(5):
        out = out * y
    _state["tape"] = []
    try:
        (gy,) = tg.autograd.gradients(out.sum(), [y], create_graph=True)
        tape = _state["tape"]
    finally:
        _state["tape"], _state["traced"] = None, set()
    assert sum(type(op).__name__ == "AddN" for op, _, _ in tape) == 1
    np.testing.assert_allclose(gy.numpy(), 5 * x.numpy() * y.numpy() ** 4)
    (ggy,) = tg.autograd.gradients(gy.sum(), [y])
    np.testing.assert_allclose(ggy.numpy(), 20 * x.numpy() * y.numpy() ** 3)
