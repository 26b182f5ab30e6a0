"""tinygrad_hw.optim: SGD and Adam against updates written out in numpy (and against
torch.optim when torch is installed), argument checks, weight decay vs l2_penalty, and
state_dict round trips that resume training exactly."""

import numpy as np
import pytest

import tinygrad_hw as tg
import tinygrad_hw.optim as optim
from tinygrad_hw import Tensor, nn

STEPS = 5


def _problem(seed=0):
    """Two starting values and a gradient sequence for each (one gradient missing at step 2)."""
    rng = np.random.default_rng(seed)
    w0 = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    grads = [[rng.normal(size=w.shape) for w in w0] for _ in range(STEPS)]
    grads[2][1] = None
    return w0, grads


def _run(make_opt, w0, grads):
    params = [Tensor(w, requires_grad=True) for w in w0]
    opt = make_opt(params)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = None if g is None else Tensor(g)
        opt.step()
    return [p.numpy() for p in params]


def _sgd_reference(w0, grads, lr, momentum=0.0, wd=0.0, dampening=0.0, nesterov=False):
    ws, bufs = [w.copy() for w in w0], [None] * len(w0)
    for gs in grads:
        for i, g in enumerate(gs):
            if g is None:
                continue
            g = g + wd * ws[i]
            if momentum:
                bufs[i] = g.copy() if bufs[i] is None else momentum * bufs[i] + (1 - dampening) * g
                g = g + momentum * bufs[i] if nesterov else bufs[i]
            ws[i] = ws[i] - lr * g
    return ws


def _adam_reference(w0, grads, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0):
    ws = [w.copy() for w in w0]
    m, v, t = [np.zeros_like(w) for w in w0], [np.zeros_like(w) for w in w0], [0] * len(w0)
    for gs in grads:
        for i, g in enumerate(gs):
            if g is None:
                continue
            g = g + wd * ws[i]
            t[i] += 1
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g**2
            m_hat, v_hat = m[i] / (1 - b1 ** t[i]), v[i] / (1 - b2 ** t[i])
            ws[i] = ws[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return ws


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.05, momentum=0.9, weight_decay=0.1),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.05, momentum=0.9, weight_decay=0.05, nesterov=True),
    dict(lr=0.05, momentum=0.5, dampening=0.3),
]


@pytest.mark.parametrize("kw", SGD_CASES, ids=lambda kw: ",".join(kw))
def test_sgd_matches_hand_computed_updates(kw):
    w0, grads = _problem()
    got = _run(lambda ps: optim.SGD(ps, **kw), w0, grads)
    ref_kw = {("wd" if k == "weight_decay" else k): v for k, v in kw.items()}
    for a, b in zip(got, _sgd_reference(w0, grads, **ref_kw)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_sgd_first_steps_written_out():
    w = Tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.5)
    w.grad = Tensor([1.0, 1.0])
    opt.step()  # g = 1 + 0.5 w = [1.5, 0]; b = g; w = [1 - 0.15, -2]
    np.testing.assert_allclose(w.numpy(), [0.85, -2.0])
    opt.step()  # g = [1.425, 0]; b = 0.9 * 1.5 + 1.425 = 2.775; w = 0.85 - 0.2775
    np.testing.assert_allclose(w.numpy(), [0.5725, -2.0])


ADAM_CASES = [dict(lr=0.01), dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6), dict(weight_decay=0.1)]


@pytest.mark.parametrize("kw", ADAM_CASES, ids=lambda kw: ",".join(kw))
def test_adam_matches_hand_computed_updates(kw):
    w0, grads = _problem(1)
    got = _run(lambda ps: optim.Adam(ps, **kw), w0, grads)
    b1, b2 = kw.get("betas", (0.9, 0.999))
    ref = _adam_reference(w0, grads, kw.get("lr", 1e-3), b1, b2, kw.get("eps", 1e-8),
                          kw.get("weight_decay", 0.0))
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_adam_first_step_moves_each_weight_by_about_lr():
    w = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.01)
    w.grad = Tensor([5.0, -0.001, 100.0])
    opt.step()  # m_hat = g, v_hat = g^2: the step is lr * sign(g)
    np.testing.assert_allclose(w.numpy(), [0.99, -1.99, 2.99], rtol=1e-6)


def test_step_skips_params_without_grad_and_records_no_graph():
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward(create_graph=True)  # a's grad even has a graph of its own
    opt.step()
    assert b.numpy().tolist() == [1.0, 1.0] and 1 not in opt.state
    assert int(opt.state[0]["step"]) == 1
    assert a.is_leaf and a.requires_grad and a._op is None
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_float32_parameters_stay_float32():
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    for opt in (optim.SGD([w], 0.1, momentum=0.9), optim.Adam([w])):
        w.grad = Tensor(np.ones(3, np.float32))
        opt.step()
        assert w.dtype == np.float32


def test_accepts_a_module_or_parameters():
    lin = nn.Linear(3, 2)
    assert optim.SGD(lin, lr=0.1).params == list(lin.parameters())
    assert len(optim.Adam(lin.parameters()).params) == 2


@pytest.mark.parametrize(
    "make, error, pattern",
    [
        (lambda w: optim.SGD([w], lr=-0.1), ValueError, "lr must be a number >= 0"),
        (lambda w: optim.SGD([w], lr=float("nan")), ValueError, "lr must be"),
        (lambda w: optim.SGD([w], lr="0.1"), ValueError, "lr must be"),
        (lambda w: optim.SGD([w], 0.1, momentum=-0.9), ValueError, "momentum must be"),
        (lambda w: optim.SGD([w], 0.1, weight_decay=-1), ValueError, "weight_decay must be"),
        (lambda w: optim.SGD([w], 0.1, nesterov=True), ValueError, "nesterov=True needs"),
        (lambda w: optim.SGD([], 0.1), ValueError, "empty parameter list"),
        (lambda w: optim.SGD(w, 0.1), TypeError, r"wrap one tensor: \[w\]"),
        (lambda w: optim.SGD([w, np.ones(2)], 0.1), TypeError, r"params\[1\] is a ndarray"),
        (lambda w: optim.SGD([w, w], 0.1), ValueError, r"params\[1\] .* more than once"),
        (lambda w: optim.SGD([Tensor([1.0])], 0.1), ValueError, "does not require grad"),
        (lambda w: optim.SGD([w * 2], 0.1), ValueError, "computed by an op"),
        (lambda w: optim.Adam([w], lr=-1), ValueError, "Adam: lr must be"),
        (lambda w: optim.Adam([w], betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be"),
        (lambda w: optim.Adam([w], betas=(0.9,)), ValueError, "betas must be a pair"),
        (lambda w: optim.Adam([w], eps=-1e-8), ValueError, "eps must be"),
    ],
)
def test_argument_errors(make, error, pattern):
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(error, match=pattern):
        make(w)


def test_wrong_grad_shape_is_reported_before_any_change():
    w = Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = Tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(2,\) but its .grad has shape \(3,\)"):
        opt.step()
    assert opt.state == {} and w.tolist() == [1.0, 1.0]


def test_weight_decay_2_lambda_equals_l2_penalty_lambda():
    lam, rng = 0.05, np.random.default_rng(0)
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 2, size=(8, 2)).astype(float)
    a, b = nn.Linear(3, 2, rng=0), nn.Linear(3, 2, rng=0)
    opt_a = optim.SGD(a.parameters(), lr=0.3, momentum=0.5)
    opt_b = optim.SGD(b.parameters(), lr=0.3, momentum=0.5, weight_decay=2 * lam)
    for _ in range(4):
        for model, opt, penalty in ((a, opt_a, True), (b, opt_b, False)):
            opt.zero_grad()
            loss = tg.binary_cross_entropy_with_logits(model(X), y)
            if penalty:
                loss = loss + tg.l2_penalty(model, lam)
            loss.backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(pa.numpy(), pb.numpy(), rtol=1e-12, atol=1e-14)


def test_l2_penalty_gradient_is_2_lambda_w():
    w = Tensor(np.array([1.0, -3.0]), requires_grad=True)
    tg.l2_penalty([w], 0.1).backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * 0.1 * w.numpy())


# ----------------------------------------------------------------------- against PyTorch
def _torch_run(torch, make_opt, w0, grads):
    params = [torch.tensor(w, requires_grad=True) for w in w0]
    opt = make_opt(params)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = None if g is None else torch.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("kw", SGD_CASES, ids=lambda kw: ",".join(kw))
def test_sgd_matches_torch(kw):
    torch = pytest.importorskip("torch")
    w0, grads = _problem(2)
    ours = _run(lambda ps: optim.SGD(ps, **kw), w0, grads)
    theirs = _torch_run(torch, lambda ps: torch.optim.SGD(ps, **kw), w0, grads)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", ADAM_CASES, ids=lambda kw: ",".join(kw))
def test_adam_matches_torch(kw):
    torch = pytest.importorskip("torch")
    w0, grads = _problem(3)
    ours = _run(lambda ps: optim.Adam(ps, **kw), w0, grads)
    theirs = _torch_run(torch, lambda ps: torch.optim.Adam(ps, **kw), w0, grads)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_training_a_linear_model_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 4)), rng.integers(0, 3, size=20)
    ours = nn.Linear(4, 3, rng=0)
    theirs = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    opt = optim.Adam(ours.parameters(), lr=0.05, weight_decay=0.01)
    topt = torch.optim.Adam(theirs.parameters(), lr=0.05, weight_decay=0.01)
    for _ in range(10):
        opt.zero_grad()
        tg.cross_entropy(ours(X), y).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(theirs(torch.tensor(X)), torch.tensor(y)).backward()
        topt.step()
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.bias.numpy(), theirs.bias.detach().numpy(), atol=1e-12)


def test_sgd_signature_follows_the_api():
    w = tg.Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([w], 0.1, 0.9, 0.01)  # params, lr, momentum, weight_decay (API.md)
    assert (opt.lr, opt.momentum, opt.weight_decay) == (0.1, 0.9, 0.01)
