"""tg.compile: a recorded and replayed training step gives the parameters, losses, gradients
and optimizer state of eager mode; new shapes record again; values read inside the step,
non-Tensor results, data-dependent indexing and unrecorded in-place updates are refused."""

import numpy as np
import pytest

import tinygrad_hw as tg
from tinygrad_hw import Tensor, nn
from tinygrad_hw.autograd import _state
from tinygrad_hw.data import DataLoader

STEPS = 100


def _batches(n_features, n_classes, steps=STEPS, batch=32, last=None, seed=0):
    """`steps` float32 batches (X, y); the last one has `last` rows when given."""
    rng = np.random.default_rng(seed)
    sizes = [batch] * steps if last is None else [batch] * (steps - 1) + [last]
    return [(rng.normal(size=(n, n_features)).astype(np.float32),
             rng.integers(0, n_classes, n)) for n in sizes]


def _mlp(sizes, activation, seed=0):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, rng=seed + i, dtype=np.float32))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def _train(make_model, make_opt, batches, compiled, lam=0.0):
    """Losses and final parameters of one run over `batches`, eager or compiled."""
    model = make_model()
    opt = make_opt(model.parameters())

    def train_step(X, y):
        opt.zero_grad()
        loss = tg.cross_entropy(model(X), y)
        if lam:
            loss = loss + tg.l2_penalty(model.parameters(), lam)
        loss.backward()
        opt.step()
        return loss

    step = tg.compile(train_step) if compiled else train_step
    losses = [step(X, y).item() for X, y in batches]
    return losses, [p.numpy() for p in model.parameters()], opt, step, model


CASES = {
    "softmax regression, SGD": (lambda: nn.Linear(20, 5, rng=0, dtype=np.float32),
                                lambda ps: tg.optim.SGD(ps, lr=0.1), 0.0),
    "MLP sigmoid, Adam": (lambda: _mlp((20, 16, 5), nn.Sigmoid),
                          lambda ps: tg.optim.Adam(ps, lr=0.01), 0.0),
    "MLP relu, SGD momentum": (lambda: _mlp((20, 16, 8, 5), nn.ReLU),
                               lambda ps: tg.optim.SGD(ps, lr=0.05, momentum=0.9), 0.0),
    "MLP relu, l2_penalty, Nesterov and weight decay": (
        lambda: _mlp((20, 16, 5), nn.ReLU),
        lambda ps: tg.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
        1e-3),
    "MLP sigmoid, Adam with weight decay, l2_penalty": (
        lambda: _mlp((20, 16, 5), nn.Sigmoid),
        lambda ps: tg.optim.Adam(ps, lr=0.01, weight_decay=1e-2), 1e-3),
}


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_training_matches_eager(name):
    make_model, make_opt, lam = CASES[name]
    batches = _batches(20, 5, last=7)  # the last batch has another size: it records again
    eager_losses, eager_w, eager_opt, _, _ = _train(make_model, make_opt, batches, False, lam)
    losses, w, opt, step, _ = _train(make_model, make_opt, batches, True, lam)
    assert step.recordings == 2
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-6)
    for a, b in zip(w, eager_w):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert opt.state.keys() == eager_opt.state.keys()
    for i, s in opt.state.items():
        for k, v in s.items():
            np.testing.assert_allclose(v, eager_opt.state[i][k], rtol=1e-6, atol=1e-7)


def test_same_numpy_calls_give_bitwise_equal_parameters():
    make_model, make_opt, _ = CASES["MLP sigmoid, Adam"]
    batches = _batches(20, 5, steps=20)
    _, eager_w, _, _, _ = _train(make_model, make_opt, batches, False)
    _, w, _, _, _ = _train(make_model, make_opt, batches, True)
    assert all(np.array_equal(a, b) for a, b in zip(w, eager_w))


def test_grads_after_a_compiled_call_are_the_eager_grads_and_stay_valid():
    batches = _batches(20, 5, steps=3)
    _, _, _, _, eager = _train(CASES["MLP sigmoid, Adam"][0], CASES["MLP sigmoid, Adam"][1],
                               batches, False)
    _, _, _, step, model = _train(CASES["MLP sigmoid, Adam"][0], CASES["MLP sigmoid, Adam"][1],
                                  batches, True)
    for p, q in zip(model.parameters(), eager.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    kept = [p.grad.numpy() for p in model.parameters()]
    held = [p.grad for p in model.parameters()]
    loss = step(*batches[0])
    step(*batches[1])
    assert all(np.array_equal(h.numpy(), k) for h, k in zip(held, kept))  # not overwritten
    assert isinstance(loss, Tensor) and loss.shape == () and not loss.requires_grad


def test_returned_losses_are_fresh_tensors():
    model = nn.Linear(4, 3, rng=0)
    opt = tg.optim.SGD(model.parameters(), lr=0.5)

    @tg.compile
    def step(X, y):
        opt.zero_grad()
        loss = tg.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        return loss

    X, y = np.eye(4)[:3], np.array([0, 1, 2])
    losses = [step(X, y) for _ in range(4)]
    values = [loss.item() for loss in losses]
    assert values == sorted(values, reverse=True) and len(set(values)) == 4
    assert step.recordings == 1


def test_a_step_without_arguments_on_closure_tensors():
    """The benchmark's elementwise chain: forward and backward only, gradients read after."""
    a, b = np.linspace(0.1, 1, 16), np.linspace(0.9, 1.1, 16)

    def make():
        x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)

        def chain():
            x.grad = y.grad = None
            h = x
            for i in range(20):
                h = h * y if i % 2 == 0 else h + y
            h.backward(np.ones(16))
            return h

        return x, y, chain

    x, y, chain = make()
    chain()
    cx, cy, cchain = make()
    compiled = tg.compile(cchain)
    for _ in range(3):
        out = compiled()
    np.testing.assert_array_equal(out.numpy(), chain().numpy())
    np.testing.assert_array_equal(cx.grad.numpy(), x.grad.numpy())
    np.testing.assert_array_equal(cy.grad.numpy(), y.grad.numpy())


def test_gradients_accumulate_without_zero_grad_as_in_eager_mode():
    def make():
        w = Tensor([1.0, -2.0, 3.0], requires_grad=True)

        def step(X):
            loss = ((X @ w) ** 2).sum()
            loss.backward()
            return loss

        return w, step

    X = np.arange(6.0).reshape(2, 3)
    w, step = make()
    cw, cstep = make()
    cstep = tg.compile(cstep)
    for _ in range(4):
        step(X)
        cstep(X)
        np.testing.assert_array_equal(cw.grad.numpy(), w.grad.numpy())
    cw.grad = None  # cleared between calls: the next call starts from no gradient again
    w.grad = None
    step(X)
    cstep(X)
    np.testing.assert_array_equal(cw.grad.numpy(), w.grad.numpy())


def test_kwargs_and_a_tensor_argument_that_requires_grad():
    def step(x, *, scale):
        loss = (x * x).sum() * scale
        loss.backward()
        return loss

    compiled = tg.compile(step)
    for k in range(3):
        x = Tensor(np.arange(4.0) + k, requires_grad=True)
        loss = compiled(x, scale=2.0)
        assert loss.item() == 2.0 * float(((np.arange(4.0) + k) ** 2).sum())
        np.testing.assert_array_equal(x.grad.numpy(), 4.0 * (np.arange(4.0) + k))
    assert compiled.recordings == 1
    compiled(Tensor(np.ones(4), requires_grad=True), scale=3.0)  # a new static value
    assert compiled.recordings == 2


def test_learning_rate_changes_between_calls_take_effect():
    w = Tensor([1.0], requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.1)

    @tg.compile
    def step():
        opt.zero_grad()
        loss = (w * 1.0).sum()
        loss.backward()
        opt.step()
        return loss

    step()
    step()
    opt.lr = 0.5
    step()
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.1 - 0.1 - 0.5])


@pytest.mark.parametrize("read", [lambda t: t.item(), lambda t: t.numpy(), float,
                                  lambda t: bool(t > 0)])
def test_reading_a_value_inside_the_step_raises(read):
    w = Tensor([1.0], requires_grad=True)

    def step(X):
        loss = (X * w).sum()
        read(loss)
        return loss

    with pytest.raises(RuntimeError, match="tg.compile"):
        tg.compile(step)(np.ones(1))
    assert _state["tape"] is None and _state["traced"] == set()
    assert not isinstance(Tensor.__dict__["grad"], property)  # the recording hook is removed
    assert step(np.ones(1)) is not None  # eager mode is unaffected afterwards


def test_a_step_that_returns_no_tensor_is_refused():
    with pytest.raises(TypeError, match="must return a Tensor"):
        tg.compile(lambda X: X.sum().item)(np.ones(2))
    with pytest.raises(TypeError, match="expected a function"):
        tg.compile(3)


def test_indexing_with_an_argument_is_refused():
    w = Tensor(np.ones((4, 3)), requires_grad=True)

    def step(idx):
        loss = w[idx].sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="index array"):
        tg.compile(step)(np.array([0, 2]))


def test_an_update_outside_an_optimizer_is_refused():
    params = [Tensor([1.0, 2.0], requires_grad=True)]

    def step(X):
        params[0].grad = None
        loss = (X * params[0]).sum()
        loss.backward()
        with tg.no_grad():
            params[0] -= 0.1 * params[0].grad
        return loss

    with pytest.raises(RuntimeError, match="updated in place"):
        tg.compile(step)(np.ones(2))


def test_fit_with_compile_gives_the_eager_history_and_weights():
    rng = np.random.default_rng(0)
    X, y = rng.random((300, 20), dtype=np.float32), rng.integers(0, 3, 300)

    def run(compile):
        model = _mlp((20, 8, 3), nn.Sigmoid)
        opt = tg.optim.Adam(model.parameters(), lr=0.01)
        hist = tg.fit(model, opt, DataLoader(X[:250], y[:250], 32, seed=0),
                      DataLoader(X[250:], y[250:], 50, shuffle=False), epochs=3,
                      regularizer=lambda m: tg.l2_penalty(m[0].weight, 1e-3),
                      lr_schedule=tg.train.linear_decay(0.01, 3), progress=False,
                      compile=compile)
        return hist, [p.numpy() for p in model.parameters()]

    eager, w_eager = run(False)
    compiled, w = run(True)
    for field in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "step_loss"):
        assert getattr(compiled, field) == getattr(eager, field)
    assert all(np.array_equal(a, b) for a, b in zip(w, w_eager))


def test_fit_with_compile_stops_on_a_nan_loss():
    X = np.ones((8, 2), dtype=np.float32)
    X[5, 0] = np.nan
    model = nn.Linear(2, 2, rng=0, dtype=np.float32)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(tg.train.TrainingDiverged, match="NaN in X"):
        tg.fit(model, opt, DataLoader(X, np.zeros(8, np.int64), 4, shuffle=False), epochs=1,
               progress=False, compile=True)


def test_a_detached_value_inside_the_step_follows_the_replay():
    w = Tensor([1.0, 2.0], requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.1)

    def step(X):
        opt.zero_grad()
        out = X * w
        loss = (out * out.detach()).sum()  # the detached factor is replayed, not frozen
        loss.backward()
        opt.step()
        return loss

    w2 = Tensor([1.0, 2.0], requires_grad=True)
    opt2 = tg.optim.SGD([w2], lr=0.1)

    def eager(X):
        opt2.zero_grad()
        out = X * w2
        loss = (out * out.detach()).sum()
        loss.backward()
        opt2.step()
        return loss

    compiled = tg.compile(step)
    for k in range(4):
        X = np.array([1.0, 0.5]) * (k + 1)
        assert compiled(X).item() == eager(X).item()
    np.testing.assert_array_equal(w.numpy(), w2.numpy())


def test_optimizer_updates_in_place_and_refuses_stale_graphs():
    w = Tensor([1.0, 2.0], requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward()
    opt.step()
    first = w._data
    stale = (w * w).sum()
    opt.step()
    assert w._data is first  # the second update reuses the optimizer's own array
    with pytest.raises(RuntimeError, match="in place"):
        stale.backward()
