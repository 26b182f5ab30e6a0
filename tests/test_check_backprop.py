"""check_backprop: a student's BP1-BP4 for Nielsen's network, the 2-2-2 worked example and a
linear output layer, checked layer by layer against autodiff, with the first wrong layer and
equation named and the slip diagnosed."""

import numpy as np
import pytest

import tinygrad_hw as tg
from models import nielsen_network as nn_
from models import worked_example as we
from tinygrad_hw import Tensor
from tinygrad_hw.testing import DerivationMismatch, check_backprop


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _nielsen(sizes=(4, 5, 3, 2), n=6, seed=0):
    """params [W^1, b^1, ...] (biases as columns, examples as columns) and X, Y."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(size=(n_out, n_in)), rng.normal(size=(n_out, 1))]
    X = rng.normal(size=(sizes[0], n))
    Y = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], n)]
    return params, X, Y


def _loss_fn(X, Y, cost="quadratic"):
    def loss_fn(*params):
        zs, activations = nn_.forward(params[0::2], params[1::2], X)
        return nn_.cost(activations[-1], Y, cost), zs
    return loss_fn


def _student(params, X, Y, cost="quadratic", bp2=None, bp1=None, bp4_uses_output=False):
    """BP1-BP4 in numpy, examples as columns, with an optional slip."""
    Ws, bs = params[0::2], params[1::2]
    acts, zs = [X], []
    for W, b in zip(Ws, bs):
        zs.append(W @ acts[-1] + b)
        acts.append(_sigmoid(zs[-1]))
    a = acts[-1]
    deltas = [(a - Y) * a * (1 - a) if cost == "quadratic" else a - Y]
    if bp1:
        deltas[0] = bp1(a, Y)
    for W_next, z in zip(Ws[:0:-1], zs[-2::-1]):
        s = _sigmoid(z)
        deltas.insert(0, (W_next.T @ deltas[0]) * (bp2(s) if bp2 else s * (1 - s)))
    grads = []
    for l, delta in enumerate(deltas):
        a_in = acts[l + 1] if bp4_uses_output and l == len(deltas) - 1 else acts[l]
        grads += [delta @ a_in.T, delta.sum(axis=1, keepdims=True)]
    return deltas, grads


def _message(loss_fn, params, deltas, grads, **kwargs) -> str:
    with pytest.raises(DerivationMismatch) as info:
        check_backprop(loss_fn, params, deltas, grads, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
def test_the_right_backprop_passes(cost):
    params, X, Y = _nielsen()
    assert check_backprop(_loss_fn(X, Y, cost), params, *_student(params, X, Y, cost)) is None
    deltas, grad_W, grad_b = nn_.backprop(params[0::2], params[1::2], X, Y, cost)
    grads = [g for pair in zip(grad_W, grad_b) for g in pair]
    check_backprop(_loss_fn(X, Y, cost), params, deltas, grads)


def test_float32_student_arrays_pass():
    params, X, Y = _nielsen()
    deltas, grads = _student(params, X, Y)
    check_backprop(_loss_fn(X, Y), params, [d.astype(np.float32) for d in deltas],
                   [g.astype(np.float32) for g in grads])


def test_sigma_where_sigma_prime_belongs_in_bp2():
    params, X, Y = _nielsen()
    msg = _message(_loss_fn(X, Y), params, *_student(params, X, Y, bp2=lambda s: s))
    assert msg.startswith("check_backprop: layer 2 of 3, BP2: your delta^2 does not match")
    assert "sigma(z^2) where sigma'(z^2) belongs in BP2" in msg
    assert "also different: dC/db^2 (BP3), dC/dW^2 (BP4), delta^1 (BP2)" in msg
    assert "fix this one first" in msg


def test_sigma_prime_dropped_in_bp2():
    params, X, Y = _nielsen()
    msg = _message(_loss_fn(X, Y), params, *_student(params, X, Y, bp2=np.ones_like))
    assert "layer 2 of 3, BP2" in msg and "sigma'(z^2) dropped from BP2" in msg


def test_the_sigma_prime_that_cancels_with_cross_entropy():
    params, X, Y = _nielsen()
    slipped = _student(params, X, Y, "cross_entropy", bp1=lambda a, y: (a - y) * a * (1 - a))
    msg = _message(_loss_fn(X, Y, "cross_entropy"), params, *slipped)
    assert "layer 3 of 3, BP1: your delta^3" in msg
    assert "an extra sigma'(z^L) in BP1: with the cross-entropy cost the sigma' cancels" in msg


def test_a_l_where_a_l_minus_1_belongs_in_bp4():
    params, X, Y = _nielsen(sizes=(3, 4, 4))
    msg = _message(_loss_fn(X, Y), params, *_student(params, X, Y, bp4_uses_output=True))
    assert "layer 2 of 2, BP4: your dC/dW^2" in msg
    assert "a^2 used where a^1 belongs in BP4" in msg


def test_a_bp3_mean_where_the_cost_sums():
    params, X, Y = _nielsen()
    deltas, grads = _student(params, X, Y)
    grads[-1] = grads[-1] / X.shape[1]
    msg = _message(_loss_fn(X, Y), params, deltas, grads)
    assert "layer 3 of 3, BP3: your dC/db^3" in msg and "you divided by N" in msg


def test_the_order_is_backprop_order():
    params, X, Y = _nielsen(sizes=(3, 4, 4))
    deltas, grads = _student(params, X, Y, bp4_uses_output=True, bp2=np.ones_like)
    msg = _message(_loss_fn(X, Y), params, deltas, grads)
    assert "layer 2 of 2, BP4" in msg and "also different: delta^1 (BP2)" in msg


# ------------------------------------------------------------------ the 2-2-2 worked example
def _worked_loss(W1, b1, W2, b2):
    z1 = W1 @ we.INPUTS + b1
    z2 = W2 @ tg.sigmoid(z1) + b2
    diff = tg.as_tensor(we.TARGETS) - tg.sigmoid(z2)
    return (diff * diff).sum() * 0.5, [z1, z2]


def _worked(bp2_factor=None):
    p = we.initial_parameters()
    params = [p["W1"], np.full(2, 0.35), p["W2"], np.full(2, 0.60)]
    out_h = _sigmoid(params[0] @ we.INPUTS + params[1])
    out_o = _sigmoid(params[2] @ out_h + params[3])
    delta_o = -(we.TARGETS - out_o) * out_o * (1 - out_o)
    factor = out_h * (1 - out_h) if bp2_factor is None else bp2_factor(out_h)
    delta_h = (params[2].T @ delta_o) * factor
    grads = [np.outer(delta_h, we.INPUTS), delta_h, np.outer(delta_o, out_h), delta_o]
    return params, [delta_h, delta_o], grads


def test_the_worked_example_passes_and_its_w5_gradient_is_the_classic_one():
    params, deltas, grads = _worked()
    check_backprop(_worked_loss, params, deltas, grads)
    assert grads[2][0, 0] == pytest.approx(0.082167041, abs=1e-9)  # dE/dw5


def test_the_worked_example_with_a_bp2_slip():
    params, deltas, grads = _worked(bp2_factor=lambda s: s)
    msg = _message(_worked_loss, params, deltas, grads)
    assert "layer 1 of 2, BP2" in msg and "sigma(z^1) where sigma'(z^1) belongs in BP2" in msg


# ------------------------------------------------------------------ linear output, rows
def _linear_net(n=5, seed=1):
    """A sigmoid hidden layer and a linear output, examples as rows: z = X W^T + b."""
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n, 3)), rng.normal(size=(n, 2))
    params = [rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(2, 4)),
              rng.normal(size=2)]

    def loss_fn(W1, b1, W2, b2):
        z1 = Tensor(X) @ W1.T + b1
        z2 = tg.sigmoid(z1) @ W2.T + b2
        diff = z2 - Y
        return (diff * diff).sum() * 0.5, [z1, z2]

    return loss_fn, params, X, Y


def _linear_student(params, X, Y, bp2=None):
    W1, b1, W2, b2 = params
    a1 = _sigmoid(X @ W1.T + b1)
    delta2 = a1 @ W2.T + b2 - Y  # BP1 with sigma' = 1
    factor = a1 * (1 - a1) if bp2 is None else bp2(a1)
    delta1 = (delta2 @ W2) * factor
    return [delta1, delta2], [delta1.T @ X, delta1.sum(0), delta2.T @ a1, delta2.sum(0)]


def test_a_linear_output_layer_passes():
    loss_fn, params, X, Y = _linear_net()
    check_backprop(loss_fn, params, *_linear_student(params, X, Y))


def test_a_linear_output_layer_with_sigma_prime_dropped_in_bp2():
    loss_fn, params, X, Y = _linear_net()
    msg = _message(loss_fn, params, *_linear_student(params, X, Y, bp2=np.ones_like))
    assert "layer 1 of 2, BP2" in msg and "sigma'(z^1) dropped from BP2" in msg


def test_a_linear_output_layer_names_bp1_without_sigma_prime():
    loss_fn, params, X, Y = _linear_net()
    deltas, grads = _linear_student(params, X, Y)
    deltas[1] = -deltas[1]
    msg = _message(loss_fn, params, deltas, grads)
    assert "BP1: delta^L = grad_a C, as a linear output layer has sigma' = 1" in msg
    assert "flipped sign" in msg


def test_wrong_counts_are_a_value_error():
    loss_fn, params, X, Y = _linear_net()
    deltas, grads = _linear_student(params, X, Y)
    with pytest.raises(ValueError, match="2 layers need 2 deltas and 4 gradients"):
        check_backprop(loss_fn, params, deltas[:1], grads)
    with pytest.raises(ValueError, match="need 2 x 2 params"):
        check_backprop(lambda *p: loss_fn(*p, *params[2:]), params[:2], deltas, grads)
