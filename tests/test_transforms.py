"""grad, value_and_grad, jacobian, hessian and backward(create_graph=True): values against
closed forms, nesting, and the linear-regression Hessian and Newton step of docs/course.md §7."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import tinygrad_hw as tg
from tinygrad_hw import Tensor
from tinygrad_hw.testing import strategies as tst


def cubic(x):
    return (x**3).sum()


def test_grad_of_arrays_and_tensors():
    x = np.array([1.0, 2.0])
    assert_allclose(tg.grad(cubic)(x).numpy(), 3 * x**2)
    assert_allclose(tg.grad(cubic)(Tensor(x)).numpy(), 3 * x**2)
    assert_allclose(tg.grad(cubic)([1.0, 2.0]).numpy(), 3 * x**2)


def test_grad_results_are_plain_values():
    g = tg.grad(cubic)(np.array([1.0]))
    assert not g.requires_grad


def test_grad_of_grad_of_grad():
    x = np.array(2.0)
    assert tg.grad(tg.grad(cubic))(x).item() == pytest.approx(12.0)
    assert tg.grad(tg.grad(tg.grad(cubic)))(x).item() == pytest.approx(6.0)
    assert tg.grad(tg.grad(tg.grad(tg.grad(cubic))))(x).item() == pytest.approx(0.0)


def test_value_and_grad_and_argnums():
    def f(a, b):
        return (a * b.exp()).sum()

    a, b = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    value, g = tg.value_and_grad(f)(a, b)
    assert value.item() == pytest.approx(np.sum(a * np.exp(b)))
    assert_allclose(g.numpy(), np.exp(b))
    ga, gb = tg.grad(f, argnums=(0, 1))(a, b)
    assert_allclose(ga.numpy(), np.exp(b))
    assert_allclose(gb.numpy(), a * np.exp(b))
    assert_allclose(tg.grad(f, argnums=1)(a, b).numpy(), a * np.exp(b))


def test_grad_of_an_unused_argument_is_zero():
    g = tg.grad(lambda a, b: (a * 2).sum(), argnums=1)(np.ones(2), np.ones(3))
    assert_allclose(g.numpy(), np.zeros(3))


def test_grad_needs_a_scalar_output():
    with pytest.raises(ValueError, match=r"returned shape \(2,\)"):
        tg.grad(lambda x: x * 2)(np.ones(2))


def test_grad_refuses_integer_arguments():
    with pytest.raises(TypeError, match="int64"):
        tg.grad(cubic)(np.array([1, 2]))


def test_grad_works_inside_no_grad():
    with tg.no_grad():
        assert_allclose(tg.grad(cubic)(np.array([1.0])).numpy(), [3.0])


def test_grad_through_a_closure_stays_differentiable():
    w = Tensor(np.array([2.0]), requires_grad=True)
    g = tg.grad(lambda x: (w * x * x).sum())(np.array([3.0]))  # 2 w x
    assert g.requires_grad
    g.sum().backward()
    assert_allclose(w.grad.numpy(), [6.0])


def test_nested_grad_keeps_levels_apart():
    # d/dx [ x * d/dy (x * y) at y = x ] = d/dx [x * x] = 2x, not 3x (perturbation confusion)
    def outer(x):
        inner = tg.grad(lambda y: (x * y).sum())(x)
        return (x * inner).sum()

    assert_allclose(tg.grad(outer)(np.array([3.0])).numpy(), [6.0])


@given(tst.arrays(tst.shapes(min_dims=1, max_dims=2, max_side=3)))
def test_jacobian_shape_and_values(x):
    jac = tg.jacobian(lambda t: t.sigmoid())(x)
    assert jac.shape == x.shape + x.shape
    s = 1 / (1 + np.exp(-x))
    expected = np.diag((s * (1 - s)).ravel()).reshape(x.shape + x.shape)
    assert_allclose(jac.numpy(), expected, atol=1e-12)


def test_jacobian_of_a_matrix_map():
    a = np.random.default_rng(0).normal(size=(3, 4))
    assert_allclose(tg.jacobian(lambda x: Tensor(a) @ x)(np.ones(4)).numpy(), a)


@given(st.integers(2, 30), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_hessian_of_linear_regression_mse_is_xtx_over_n(n, d, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)

    def f(w):  # 1/(2n) sum (x_i.w - y_i)^2
        r = Tensor(X) @ w - y
        return (r * r).mean() / 2

    w = rng.normal(size=d)
    assert_allclose(tg.hessian(f)(w).numpy(), X.T @ X / n, rtol=1e-10, atol=1e-12)
    assert_allclose(tg.grad(f)(w).numpy(), X.T @ (X @ w - y) / n, rtol=1e-10, atol=1e-12)


def test_one_newton_step_lands_on_least_squares():
    rng = np.random.default_rng(3)
    X, y = np.hstack([rng.normal(size=(40, 3)), np.ones((40, 1))]), rng.normal(size=40)

    def f(w):
        r = Tensor(X) @ w - y
        return (r * r).mean() / 2

    w0 = rng.normal(size=4)
    H, g = tg.hessian(f)(w0).numpy(), tg.grad(f)(w0).numpy()
    w1 = w0 - np.linalg.solve(H, g)
    assert_allclose(w1, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-9, atol=1e-12)


def test_backward_create_graph_gives_differentiable_grads():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    assert_allclose(g.numpy(), [3.0, 12.0])
    x.zero_grad()
    g.sum().backward()
    assert_allclose(x.grad.numpy(), [6.0, 12.0])


def test_hessian_of_softmax_cross_entropy_is_symmetric_and_psd():
    labels = np.array([0, 2, 1])
    feats = np.random.default_rng(1).normal(size=(3, 4))

    def f(w):
        return tg.cross_entropy(Tensor(feats) @ w.reshape(4, 3), labels)

    h = tg.hessian(f)(np.zeros(12)).numpy()
    assert_allclose(h, h.T, atol=1e-12)
    assert np.linalg.eigvalsh(h).min() > -1e-10


def test_transforms_refuse_list_outputs_and_tuple_hessians():
    with pytest.raises(TypeError, match="one Tensor, not a list"):
        tg.jacobian(lambda x: [x[0] * 2, x[1] * 3])(np.ones(2))
    with pytest.raises(TypeError, match="argnums must be one int"):
        tg.hessian(lambda a, b: (a * b).sum(), argnums=(0, 1))(np.ones(2), np.ones(2))
