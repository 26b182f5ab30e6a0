"""Reductions, shape ops, indexing, concatenate/stack and matmul: forward against numpy and
gradients (first and second order) against central differences over hypothesis shapes."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import tinygrad_hw as tg
from tinygrad_hw import Tensor
from tinygrad_hw.testing import gradcheck, gradgradcheck
from tinygrad_hw.testing import strategies as tst


@st.composite
def array_and_axis(draw, min_dims=0):
    x = draw(tst.arrays(tst.shapes(min_dims=min_dims, max_side=3)))
    axis = draw(st.one_of(
        st.none(),
        st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.none(),
        st.lists(st.integers(0, max(x.ndim - 1, 0)), unique=True, max_size=x.ndim).map(tuple)
        if x.ndim else st.none(),
    ))
    return x, axis, draw(st.booleans())


def _lse(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.item()


REDUCTIONS = [
    ("sum", lambda t, a, k: t.sum(a, k), lambda x, a, k: np.sum(x, a, keepdims=k), True),
    ("mean", lambda t, a, k: t.mean(a, k), lambda x, a, k: np.mean(x, a, keepdims=k), True),
    ("max", lambda t, a, k: t.max(a, k), lambda x, a, k: np.max(x, a, keepdims=k), False),
    ("min", lambda t, a, k: t.min(a, k), lambda x, a, k: np.min(x, a, keepdims=k), False),
    ("logsumexp", lambda t, a, k: t.logsumexp(a, k), _lse, True),
    ("var", lambda t, a, k: t.var(a, k), lambda x, a, k: np.var(x, a, keepdims=k), True),
    ("var_ddof1", lambda t, a, k: t.var(a, k, ddof=1),
     lambda x, a, k: np.var(x, a, keepdims=k, ddof=1), True),
    ("std", lambda t, a, k: t.std(a, k), lambda x, a, k: np.std(x, a, keepdims=k), True),
]


@pytest.mark.parametrize("name,fn,ref,smooth", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@given(data=array_and_axis())
def test_reductions(name, fn, ref, smooth, data):
    x, axis, keepdims = data
    if not smooth:  # max/min: keep clear of ties, where finite differences see a kink
        assume(x.size < 2 or np.diff(np.sort(x, axis=None)).min() > 1e-3)
    if name == "var_ddof1":  # needs two or more values in each reduced group
        assume(x.size // max(np.sum(x, axis, keepdims=True).size, 1) > 1)
    if name == "std":  # sqrt has a kink where a group's spread is 0 (one value: always 0)
        group = x.size // max(np.sum(x, axis, keepdims=True).size, 1)
        assume(group == 1 or np.min(np.std(x, axis)) > 1e-2)
    assert_allclose(fn(Tensor(x), axis, keepdims).numpy(), ref(x, axis, keepdims),
                    rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda t: fn(t, axis, keepdims), x)
    if smooth:
        assert gradgradcheck(lambda t: fn(t, axis, keepdims), x)


def test_reduction_axis_errors_name_the_axis():
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        Tensor(np.ones((2, 3))).sum(axis=2)


@st.composite
def reshapes(draw):
    x = draw(tst.arrays(tst.shapes(max_side=3)))
    new = list(x.shape[::-1]) + [1]
    return x, tuple(new)


@given(reshapes())
def test_reshape(data):
    x, shape = data
    assert_allclose(Tensor(x).reshape(shape).numpy(), x.reshape(shape))
    assert_allclose(Tensor(x).reshape(*shape).numpy(), x.reshape(shape))
    assert gradcheck(lambda t: t.reshape(shape) * 2, x)


@given(st.data())
def test_transpose_full_permutation(data):
    x = data.draw(tst.arrays(tst.shapes(max_side=3)))
    perm = data.draw(st.permutations(range(x.ndim)))
    assert_allclose(Tensor(x).transpose(*perm).numpy(), np.transpose(x, perm))
    assert_allclose(Tensor(x).T.numpy(), x.T)
    assert gradcheck(lambda t: t.transpose(*perm) * 3, x)
    assert gradgradcheck(lambda t: t.transpose(*perm) ** 2, x)


def test_transpose_rejects_a_partial_permutation():
    with pytest.raises(ValueError, match="not a permutation"):
        Tensor(np.ones((2, 3, 4))).transpose(0, 1)


@given(tst.broadcastable_shapes(2))
def test_expand(shapes):
    small, other = shapes
    target = np.broadcast_shapes(small, other)
    x = np.arange(1, np.prod(small) + 1, dtype=float).reshape(small)
    assert_allclose(Tensor(x).expand(target).numpy(), np.broadcast_to(x, target))
    assert gradcheck(lambda t: t.expand(target) ** 2, x)


def test_expand_with_minus_one_keeps_a_dimension():
    t = Tensor(np.ones((3, 1))).expand(2, -1, 4)
    assert t.shape == (2, 3, 4)


def test_squeeze_unsqueeze_flatten():
    x = np.arange(6.0).reshape(1, 2, 1, 3)
    t = Tensor(x)
    assert t.squeeze().shape == (2, 3)
    assert t.squeeze(0).shape == (2, 1, 3)
    assert t.unsqueeze(-1).shape == (1, 2, 1, 3, 1)
    assert t.unsqueeze(0).shape == (1, 1, 2, 1, 3)
    assert t.flatten().shape == (6,)
    assert t.flatten(1).shape == (1, 6)
    assert tg.flatten(x, 1, 2).shape == (1, 2, 3)
    with pytest.raises(ValueError, match="axis 1 has size 2"):
        t.squeeze(1)
    assert gradcheck(lambda u: u.squeeze().unsqueeze(1).flatten() ** 2, x)


INDICES = [
    (0,),
    (slice(None, None, -1),),
    (slice(1, None), Ellipsis),
    (Ellipsis, 0),
    (None, slice(None)),
    (np.array([0, 2, 0, 0]),),
    (np.array([[1, 1], [0, 2]]),),
    (slice(None), np.array([1, 0, 1])),
    (np.array([0, 1, 2]), np.array([2, 2, 0])),
    (np.array([True, False, True]),),
]


@pytest.mark.parametrize("index", INDICES, ids=[str(i) for i in range(len(INDICES))])
def test_indexing_basic_and_integer_arrays(index):
    x = np.random.default_rng(0).normal(size=(3, 3))
    assert_allclose(Tensor(x)[index].numpy(), x[index])
    assert gradcheck(lambda t: t[index] * 2, x)
    assert gradgradcheck(lambda t: t[index] ** 2, x)


def test_repeated_integer_indices_accumulate_gradient():
    x = Tensor(np.zeros(3), requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    assert_allclose(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_indexing_with_integer_tensor_and_list():
    x = Tensor(np.arange(5.0), requires_grad=True)
    idx = Tensor(np.array([4, 1]))
    assert_allclose(x[idx].numpy(), [4.0, 1.0])
    assert_allclose(x[[0, 0]].numpy(), [0.0, 0.0])


@given(st.data())
def test_concatenate_and_stack(data):
    shape = data.draw(tst.shapes(min_dims=1, max_side=3))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = data.draw(tst.arrays(shape))
    b_shape = list(shape)
    b_shape[axis] = data.draw(st.integers(1, 3))
    b = data.draw(tst.arrays(tuple(b_shape)))
    assert_allclose(tg.concatenate([a, b], axis).numpy(), np.concatenate([a, b], axis))
    assert gradcheck(lambda u, v: tg.concatenate([u, v * 2], axis), a, b)
    c = data.draw(tst.arrays(shape))
    s_axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    assert_allclose(tg.stack([a, c], s_axis).numpy(), np.stack([a, c], s_axis))
    assert gradgradcheck(lambda u, v: tg.stack([u * v, v], s_axis), a, c)


def test_concatenate_names_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\), \(2, 4\)"):
        tg.concatenate([np.ones((2, 3)), np.ones((2, 4))], axis=0)
    with pytest.raises(ValueError, match="same shape"):
        tg.stack([np.ones(2), np.ones(3)])


@given(tst.matmul_shapes())
def test_matmul(shapes):
    a_shape, b_shape = shapes
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
    assert_allclose((Tensor(a) @ Tensor(b)).numpy(), a @ b, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda u, v: u @ v, a, b)
    assert gradgradcheck(lambda u, v: (u @ v) ** 2, a, b)


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(64, 784\) and \(10, 128\) do not "
                                         r"align"):
        Tensor(np.ones((64, 784))) @ Tensor(np.ones((10, 128)))


def test_broadcast_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))


@given(tst.broadcastable_shapes(3))
def test_where_routes_gradients(shapes):
    c_shape, x_shape, y_shape = shapes
    rng = np.random.default_rng(1)
    cond = rng.random(c_shape) > 0.5
    x, y = rng.normal(size=x_shape), rng.normal(size=y_shape)
    assert_allclose(tg.where(cond, x, y).numpy(), np.where(cond, x, y))
    assert gradcheck(lambda u, v: tg.where(cond, u, v), x, y)
    assert gradgradcheck(lambda u, v: tg.where(cond, u * u, v * u.sum()), x, y)


def test_where_with_scalar_keeps_float32():
    x = Tensor(np.ones(3, np.float32))
    assert tg.where(x > 0, x, 0.0).dtype == np.float32
    assert tg.where(x > 0, 0.0, x).dtype == np.float32
